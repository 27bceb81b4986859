"""``klint.keras.TrainingMonitor``: the public name of the training monitor (``klint.runtime.monitor``)."""

from klint.runtime.monitor import TrainingMonitor

__all__ = ["TrainingMonitor"]

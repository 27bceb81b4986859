"""Canonical names for the Keras API.

Keras is reachable through many module paths: ``keras``, ``tensorflow.keras``
(``tf.keras`` after ``import tensorflow as tf``), ``tf_keras``,
``keras_core``, and deep paths such as ``keras.src.layers.core.dense``.
:func:`canonical` maps each of them to one name, ``keras.layers.Dense``, so
that rules never compare spellings.
"""
from __future__ import annotations

from functools import lru_cache

#: Module prefixes that are Keras, longest first.
KERAS_ROOTS = tuple(sorted((
    "keras",
    "keras.src",
    "keras.api",
    "keras.api._v2.keras",
    "keras._tf_keras.keras",
    "tensorflow.keras",
    "tensorflow.python.keras",
    "tensorflow.compat.v1.keras",
    "tensorflow.compat.v2.keras",
    "tensorflow._api.v2.keras",
    "tf_keras",
    "tf_keras.src",
    "keras_core",
    "keras_core.src",
), key=len, reverse=True))

#: Keras namespaces whose members are addressed as ``keras.<ns>.<Name>``
#: whatever submodule defines them.
FLAT_NAMESPACES = frozenset((
    "layers", "optimizers", "initializers", "callbacks", "activations", "losses", "metrics",
    "regularizers", "constraints", "applications", "utils", "preprocessing", "ops", "backend",
    "mixed_precision", "saving", "datasets", "random",
))

#: Members that Keras also exports at top level.
TOP_LEVEL = {"Sequential": "keras.Sequential", "Model": "keras.Model", "Input": "keras.Input",
             "Functional": "keras.Model"}

#: Module names that hold top-level members in older layouts.
TOP_LEVEL_MODULES = frozenset(("models", "engine", "trainers", "engine.training", "engine.sequential",
                               "engine.functional", "engine.input_layer", "models.sequential",
                               "models.model", "models.functional"))


@lru_cache(maxsize=4096)
def canonical(raw: str) -> str:
    """The canonical form of a fully qualified name.

    >>> canonical("tensorflow.keras.layers.Dense")
    'keras.layers.Dense'
    >>> canonical("keras.src.optimizers.schedules.learning_rate_schedule.ExponentialDecay")
    'keras.optimizers.schedules.ExponentialDecay'
    >>> canonical("torch.nn.ReLU")
    'torch.nn.ReLU'
    """
    rest = keras_rest(raw)
    if rest is None:
        return raw
    if not rest:
        return "keras"
    parts = rest.split(".")
    last = parts[-1]
    if last in TOP_LEVEL and (len(parts) == 1 or ".".join(parts[:-1]) in TOP_LEVEL_MODULES
                              or (last == "Input" and parts[0] == "layers")):
        return TOP_LEVEL[last]
    ns = parts[0]
    if ns == "saving" and last == "load_model":
        return "keras.models.load_model"
    if ns in FLAT_NAMESPACES and len(parts) >= 2:
        if ns == "optimizers" and "schedules" in parts[1:-1]:
            return "keras.optimizers.schedules." + last
        if ns == "optimizers" and last == "schedules":
            return "keras.optimizers.schedules"
        if len(parts) > 2 and ns in ("optimizers", "layers", "initializers", "callbacks", "applications",
                                     "losses", "metrics", "activations", "regularizers", "constraints"):
            # keras.layers.core.dense.Dense, keras.optimizers.legacy.Adam, ...
            return f"keras.{ns}.{last}"
        return "keras." + ".".join(parts)
    return "keras." + rest


def keras_rest(raw: str) -> str | None:
    """The part of ``raw`` after its Keras root, or None when it is not Keras."""
    for root in KERAS_ROOTS:
        if raw == root:
            return ""
        if raw.startswith(root) and raw[len(root)] == ".":
            return raw[len(root) + 1:]
    return None


def is_keras(raw: str) -> bool:
    return keras_rest(raw) is not None


def keras_root(raw: str) -> str | None:
    """The root through which ``raw`` reaches Keras (``tensorflow.keras``, ``keras``...)."""
    for root in KERAS_ROOTS:
        if raw == root or raw.startswith(root + "."):
            if root.endswith(".src") or root == "keras.api":
                return root.rsplit(".", 1)[0]
            return root
    if raw == "tensorflow" or raw.startswith("tensorflow."):
        return "tensorflow.keras"
    return None


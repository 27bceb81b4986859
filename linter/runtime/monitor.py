"""``klint.keras.TrainingMonitor``: a Keras 3 callback that records what training does.

    from klint.keras import TrainingMonitor
    model.fit(x, y, callbacks=[TrainingMonitor("run.jsonl", every=10)])
    # then: klint report run.jsonl [--plot run.png]

Every ``every`` batches it writes one JSON line with the loss, the learning
rate, and per layer the gradient norm, the weight norm and the update ratio
``|dw|/|w|``. Gradient norms are computed correctly for Keras 3 on the
TensorFlow backend: the model's optimizer is wrapped so that, inside the
compiled train step, the norms of the gradients it applies are stored in a
variable the callback reads (``optimizer.get_gradients`` and
``model.total_loss``, which older monitoring snippets use, do not exist in
TensorFlow 2 or Keras 3). The learning rate is logged into ``logs`` so that
``history.history["learning_rate"]`` exists; loss spikes (against a running
median) and NaN are flagged as they happen.

This module imports Keras: it is for training runs, not for linting.
"""
from __future__ import annotations

import json
import math
import statistics
import time

import keras
import numpy as np


class TrainingMonitor(keras.callbacks.Callback):
    """Record gradient norms, update ratios, the learning rate and loss health during ``fit``.

    Args:
        path: the JSON lines file to write (overwritten at the start of training).
        every: record every this many batches (the overhead is measured in ``bench/``).
        spike_factor: a batch loss this many times the running median is a spike.
        window: the number of recent batch losses the running median is taken over.
    """

    def __init__(self, path: str = "klint-monitor.jsonl", every: int = 10, spike_factor: float = 10.0,
                 window: int = 50):
        super().__init__()
        if every < 1:
            raise ValueError("every must be at least 1")
        self.path = str(path)
        self.every = every
        self.spike_factor = spike_factor
        self.window = window
        self._file = None
        self._step = 0
        self._losses: list[float] = []
        self._before = None
        self._before_step = -1
        self._lr_now = None
        self._epoch_mean = 0.0  # Keras 3 logs the epoch's running mean loss: batch losses come from it
        self._norms = None
        self._index: dict = {}
        self.spikes: list[int] = []
        self.nan_step: int | None = None

    # ------------------------------------------------------------ wiring

    def set_model(self, model):
        super().set_model(model)
        self._wrap_optimizer(model)

    def _wrap_optimizer(self, model) -> None:
        opt = getattr(model, "optimizer", None)
        if opt is None or getattr(opt, "_klint_monitor", None) is self:
            return
        import tensorflow as tf

        variables = list(model.trainable_variables)
        self._variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._norms = tf.Variable(tf.zeros([max(len(variables), 1)]), trainable=False, name="klint_grad_norms")
        original = opt.apply_gradients
        norms, index = self._norms, self._index

        def apply_gradients(grads_and_vars, *args, **kwargs):
            pairs = list(grads_and_vars)
            # under mixed precision the gradients still carry the loss scale: take it out
            if hasattr(opt, "dynamic_scale") and getattr(opt, "built", False):
                scale = tf.cast(opt.dynamic_scale, tf.float32)
            else:
                scale = tf.constant(float(getattr(opt, "initial_scale", 1.0) or 1.0))
            updates = [tf.constant(0.0)] * norms.shape[0]
            for g, v in pairs:
                i = index.get(id(v))
                if i is not None and g is not None:
                    updates[i] = tf.norm(tf.cast(tf.convert_to_tensor(g), tf.float32)) / scale
            norms.assign(tf.stack(updates))
            return original(pairs, *args, **kwargs)

        opt.apply_gradients = apply_gradients
        opt._klint_monitor = self
        model.train_function = None  # trace the train step again, with the wrapped optimizer

    # ------------------------------------------------------------- events

    def on_train_begin(self, logs=None):
        self._file = open(self.path, "w", encoding="utf-8")
        layers = [l for l in self._layers() if l.trainable_weights]
        self._owner = {}
        for layer in layers:
            for v in layer.trainable_weights:
                self._owner[id(v)] = layer.name
        header = {
            "type": "header", "time": time.time(), "every": self.every,
            "layers": [l.name for l in layers],
            "kinds": {l.name: {"class": type(l).__name__,
                               "activation": getattr(getattr(l, "activation", None), "__name__", None),
                               "initializer": type(getattr(l, "kernel_initializer", None)).__name__
                               if getattr(l, "kernel_initializer", None) is not None else None}
                      for l in layers},
        }
        self._write(header)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_mean = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._lr_now = self.learning_rate()  # the rate this step applies
        if self._step % self.every == 0 and self._norms is not None:
            self._before = [np.array(v.numpy(), copy=True) for v in self._variables]
            self._before_step = self._step

    def on_train_batch_end(self, batch, logs=None):
        logs = logs if logs is not None else {}
        lr = self._lr_now if self._lr_now is not None else self.learning_rate()
        if lr is not None:
            logs["learning_rate"] = lr
        loss = self._batch_loss(batch, logs.get("loss"))
        nan = loss is not None and not math.isfinite(loss)
        if nan and self.nan_step is None:
            self.nan_step = self._step
        spike = False
        if loss is not None and math.isfinite(loss):
            if len(self._losses) >= 5:
                med = statistics.median(self._losses[-self.window:])
                spike = med > 0 and loss > self.spike_factor * med
                if spike:
                    self.spikes.append(self._step)
            self._losses.append(loss)
        if self._step % self.every == 0 or nan or spike:
            self._write(self._record(loss, lr, nan, spike))
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            lr = self.learning_rate()
            if lr is not None:
                logs["learning_rate"] = lr

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None

    # ------------------------------------------------------------ helpers

    def _batch_loss(self, batch: int, mean) -> float | None:
        """This batch's loss, from the epoch's running mean that Keras 3 puts in ``logs["loss"]``."""
        if mean is None:
            return None
        mean = float(mean)
        n = batch + 1
        loss = n * mean - (n - 1) * self._epoch_mean if math.isfinite(mean) else mean
        self._epoch_mean = mean
        return loss

    def learning_rate(self) -> float | None:
        opt = getattr(self.model, "optimizer", None)
        if opt is None:
            return None
        try:
            lr = opt.learning_rate
            return float(keras.ops.convert_to_numpy(lr))
        except Exception:
            return None

    def _layers(self) -> list:
        out = []

        def walk(layer):
            subs = getattr(layer, "layers", None)
            if subs:
                for s in subs:
                    walk(s)
            else:
                out.append(layer)

        walk(self.model)
        return out

    def _record(self, loss, lr, nan: bool, spike: bool) -> dict:
        grad: dict = {}
        update: dict = {}
        weight: dict = {}
        if self._norms is not None:
            norms = self._norms.numpy()
            for v, n in zip(self._variables, norms):
                name = self._owner.get(id(v))
                if name is None:
                    continue
                n = float(n)
                if not math.isfinite(n):
                    nan = True
                    continue
                grad[name] = math.sqrt(grad.get(name, 0.0) ** 2 + n * n)
            if self._before is not None and self._before_step == self._step:  # |dw| of this one step
                for v, b in zip(self._variables, self._before):
                    name = self._owner.get(id(v))
                    if name is None or ("kernel" not in v.path and "embeddings" not in v.path):
                        continue
                    after = v.numpy()
                    w = float(np.linalg.norm(b))
                    d = float(np.linalg.norm(after - b))
                    if math.isfinite(w) and math.isfinite(d):
                        weight[name] = w
                        update[name] = d / w if w > 0 else None
                    else:
                        nan = True
        return {"type": "step", "step": self._step, "loss": loss if loss is not None and math.isfinite(loss) else None,
                "lr": lr, "grad_norm": grad, "update_ratio": update, "weight_norm": weight, "nan": nan,
                "spike": spike}

    def _write(self, item: dict) -> None:
        if self._file is not None:
            self._file.write(json.dumps(item) + "\n")
            self._file.flush()

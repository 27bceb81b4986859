"""The training probe: runs INSIDE the user's interpreter, in a subprocess.

    python probe.py SCRIPT OUT.json [--steps N] [--root DIR]

It runs the script through the capture (``capture.py`` beside this file)
up to its first ``fit``, then trains the captured model for a few steps with
its compiled optimizer and loss, in its own ``GradientTape`` loop: on the
script's first real batches when ``fit`` got arrays or a dataset, else on
synthetic data shaped from the model's inputs and its loss. The weights are
the in-memory copy of this throwaway process: nothing is saved, no callback
of the user runs, and no file of the user is written.

Per step and per layer it records the gradient norm, the update ratio
``|dw|/|w|``, the loss, the learning rate applied, NaN/Inf, and for layers
with a ReLU or tanh/sigmoid activation the share of dead or saturated units;
for BatchNormalization, the drift of the moving statistics from the batch
statistics. The parent process (``klint.diagnose``) turns the series into
findings.
"""
from __future__ import annotations

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402  - the sibling file, imported by path like this one

DEFAULT_STEPS = 50
RELU_FAMILY = {"relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "swish"}
SQUASHING = {"tanh", "sigmoid", "hard_sigmoid"}


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="klint probe")
    ap.add_argument("script")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--root", default=None)
    ap.add_argument("--factory", action="append", default=[])
    a = ap.parse_args(argv)

    state: dict = {}
    original_install = capture.install

    def install(rec):
        original_install(rec)
        import keras

        def fit_patch(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, *args,
                      **kwargs):
            state.update(model=self, x=x, y=y, batch_size=batch_size)
            rec.trigger = "fit"
            rec.trigger_site = rec.site()
            rec.fit = {"model": id(self), "batch_size": batch_size, "epochs": epochs if isinstance(epochs, int) else None,
                       "callbacks": [capture.callback_info(cb) for cb in (callbacks or [])],
                       "data_batch": capture.data_batch_size(x), "data": type(x).__name__ if x is not None else None}
            raise capture.StopCapture()

        keras.Model.fit = fit_patch

    capture.install = install
    snap_path = a.out + ".snapshot.json"
    saved = _training_methods()
    capture.run_one(a.script, snap_path, a.root, a.factory, None)
    _restore(saved)  # the probe trains for real: undo the capture's stops
    with open(snap_path, encoding="utf-8") as f:
        snap = json.load(f)
    result = {"snapshot": snap, "probe": None, "error": None}
    model = state.get("model")
    if model is None:
        model = _first_model(snap)
    if model is None:
        result["error"] = "no model to probe: the script built none that reaches fit()"
    else:
        try:
            result["probe"] = run_probe(model, state, a.steps)
        except BaseException as e:  # report, never crash
            import traceback

            result["error"] = f"the probe failed: {type(e).__name__}: {e}"
            result["traceback"] = traceback.format_exc()[-3000:]
    capture.write(a.out, result)
    return 0


def _training_methods() -> list:
    try:
        import keras
        from keras.src.optimizers.base_optimizer import BaseOptimizer
    except ImportError:
        return []
    return [(cls, name, cls.__dict__[name]) for cls in (BaseOptimizer, keras.Model)
            for name in ("apply_gradients", "apply", "train_on_batch", "fit") if name in cls.__dict__]


def _restore(saved: list) -> None:
    for cls, name, fn in saved:
        setattr(cls, name, fn)


def _first_model(snap: dict):
    return None  # only a model that reached fit() has a compiled optimizer and loss to probe


# ------------------------------------------------------------------ data

def batches(model, state: dict, steps: int):
    """(x, y) batches: the script's own first batches, or synthetic ones."""
    import numpy as np

    x, y, bs = state.get("x"), state.get("y"), state.get("batch_size") or 32
    out = []
    try:
        import tensorflow as tf

        is_dataset = isinstance(x, tf.data.Dataset)
    except ImportError:  # pragma: no cover - other backends
        is_dataset = False
    if x is not None and y is not None and not is_dataset and (hasattr(x, "shape") or isinstance(x, (list, dict))):
        n = len(x)
        bs = min(bs, n) or 1
        for i in range(steps):
            start = (i * bs) % max(n - bs + 1, 1)
            out.append((_slice(x, start, start + bs), _slice(y, start, start + bs)))
        return out, "the script's data"
    if is_dataset:
        items = []
        for item in x.take(steps):
            items.append(item)
        if items:
            items = [(it[0], it[1]) if isinstance(it, (tuple, list)) and len(it) >= 2 else (it, None) for it in items]
            if all(t[1] is not None for t in items):
                return [items[i % len(items)] for i in range(steps)], "the script's dataset"
    if x is not None and hasattr(x, "__getitem__") and hasattr(x, "__len__"):  # PyDataset / Sequence
        try:
            first = [x[i] for i in range(min(len(x), steps))]
            if first and isinstance(first[0], (tuple, list)) and len(first[0]) >= 2:
                return [(first[i % len(first)][0], first[i % len(first)][1]) for i in range(steps)], \
                    "the script's data loader"
        except Exception:
            pass
    return synthetic(model, bs, steps, np), "synthetic data shaped from the model"


def _slice(v, a, b):
    if isinstance(v, dict):
        return {k: _slice(x, a, b) for k, x in v.items()}
    if isinstance(v, (list, tuple)) and v and hasattr(v[0], "shape"):
        return type(v)(_slice(x, a, b) for x in v)
    return v[a:b]


def synthetic(model, bs: int, steps: int, np) -> list:
    rng = np.random.default_rng(0)
    shapes = [tuple(int(d) if d is not None else 8 for d in t.shape[1:]) for t in model.inputs]
    outs = [tuple(int(d) if d is not None else 1 for d in t.shape[1:]) for t in model.outputs]
    loss = model.loss
    name = loss if isinstance(loss, str) else type(loss).__name__
    name = str(name).lower()
    data = []
    for _ in range(steps):
        xs = [rng.standard_normal((bs, *s)).astype("float32") for s in shapes]
        o = outs[0]
        if "sparse" in name:
            n = o[-1] if o else 2
            y = rng.integers(0, max(n, 2), size=(bs, *o[:-1])) if len(o) > 1 else rng.integers(0, max(n, 2), size=(bs,))
        elif "categorical" in name:
            n = o[-1] if o else 2
            idx = rng.integers(0, n, size=(bs, *o[:-1]))
            y = np.eye(n, dtype="float32")[idx]
        elif "binary" in name or "hinge" in name:
            y = rng.integers(0, 2, size=(bs, *o)).astype("float32")
        else:
            y = rng.standard_normal((bs, *o)).astype("float32")
        data.append((xs[0] if len(xs) == 1 else xs, y))
    return data


# ----------------------------------------------------------------- probe

def run_probe(model, state: dict, steps: int) -> dict:
    import numpy as np
    import keras
    import tensorflow as tf

    data, source = batches(model, state, steps)
    optimizer = model.optimizer
    if optimizer is None:
        optimizer = keras.optimizers.Adam()
    loss_fn = keras.losses.get(model.loss) if model.loss is not None else keras.losses.MeanSquaredError()
    if isinstance(model.loss, (list, dict)):
        raise ValueError("models with several losses are not probed yet")

    layers = [l for l in _layers(model) if l.trainable_weights]
    owner = {}
    for layer in layers:
        for v in layer.trainable_weights:
            owner[id(v)] = layer.name
    names = [l.name for l in layers]
    watched = _activation_layers(model)
    probe_outputs = None
    if watched:
        try:
            probe_outputs = keras.Model(model.inputs, [l.output for l in watched])
        except Exception:
            probe_outputs = None
    bns = [l for l in _layers(model) if type(l).__name__ in ("BatchNormalization", "SyncBatchNormalization")]
    bn_inputs = None
    if bns:
        try:
            bn_inputs = keras.Model(model.inputs, [l.input for l in bns])
        except Exception:
            bn_inputs = None

    records = []
    variables = model.trainable_variables
    for step in range(steps):
        x, y = data[step]
        before = [np.array(v.numpy(), copy=True) for v in variables]
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = tf.reduce_mean(loss_fn(y, pred))  # loss functions (not objects) return per-sample values
            if model.losses:
                loss = loss + tf.add_n(model.losses)
            # as Keras's own train step does: a LossScaleOptimizer (mixed precision) scales the loss
            # here and unscales the gradients when it applies them
            scaled = optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
        grads = tape.gradient(scaled, variables)
        scale = float(scaled) / float(loss) if float(loss) not in (0.0,) and math.isfinite(float(loss)) else 1.0
        scale = scale if math.isfinite(scale) and scale > 0 else 1.0
        lr = _lr(optimizer)
        grad_norm: dict = {n: 0.0 for n in names}
        nan = not math.isfinite(float(loss))
        overflow = False  # mixed precision: scaled gradients overflowed, the optimizer skips this step
        for v, g in zip(variables, grads):
            if g is None:
                continue
            gn = float(tf.norm(tf.cast(tf.convert_to_tensor(g), tf.float32))) / scale
            if not math.isfinite(gn):
                if scale != 1.0 and not nan:
                    overflow = True
                else:
                    nan = True
            name = owner.get(id(v))
            if name is not None:
                grad_norm[name] = math.sqrt(grad_norm.get(name, 0.0) ** 2 + (gn ** 2 if math.isfinite(gn) else 0.0))
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        update: dict = {}
        weight: dict = {}
        for v, b in zip(variables, before):
            name = owner.get(id(v))
            if name is None or "kernel" not in v.path and "embeddings" not in v.path:
                continue
            after = v.numpy()
            w = float(np.linalg.norm(b))
            d = float(np.linalg.norm(after - b))
            if not (math.isfinite(w) and math.isfinite(d)):
                nan = True
                continue
            weight[name] = w
            update[name] = d / w if w > 0 else None
        rec = {"step": step, "loss": _finite(float(loss)), "lr": lr, "grad_norm": {k: _finite(v) for k, v in grad_norm.items()},
               "update_ratio": {} if overflow else update, "weight_norm": weight, "nan": nan,
               "skipped": overflow}
        if probe_outputs is not None and (step == 0 or step == steps - 1 or step % 10 == 0):
            rec["activations"] = _activation_stats(probe_outputs, watched, x)
        records.append(rec)
        if nan:
            break
    drift = {}
    if bn_inputs is not None and data:
        try:
            ins = bn_inputs(data[0][0], training=False)
            ins = ins if isinstance(ins, list) else [ins]
            for bn, t in zip(bns, ins):
                arr = np.asarray(t)
                axes = tuple(range(arr.ndim - 1))
                mean, var = arr.mean(axis=axes), arr.var(axis=axes)
                mm, mv = np.asarray(bn.moving_mean), np.asarray(bn.moving_variance)
                # how far the moving statistics (used at inference) are from this batch's statistics
                drift[bn.name] = float(np.mean(np.abs(mm - mean) / np.sqrt(var + 1e-3))
                                       + np.mean(np.abs(np.log((mv + 1e-3) / (var + 1e-3)))))
        except Exception:
            drift = {}
    order = [l.name for l in layers]
    return {"steps": len(records), "data": source, "layers": order,
            "kinds": {l.name: _kind(l) for l in layers}, "records": records, "bn_drift": drift}


def _finite(x):
    return x if x is not None and math.isfinite(x) else None


def _lr(optimizer) -> float | None:
    try:
        lr = optimizer.learning_rate
        return float(lr.numpy() if hasattr(lr, "numpy") else lr)
    except Exception:
        return None


def _layers(model) -> list:
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            out += _layers(layer)
        else:
            out.append(layer)
    return out


def _activation_of(layer) -> str | None:
    cls = type(layer).__name__
    if cls == "ReLU" or cls == "LeakyReLU":
        return "relu"
    act = getattr(layer, "activation", None)
    name = getattr(act, "__name__", None)
    return name


def _kind(layer) -> dict:
    init = getattr(layer, "kernel_initializer", None)
    return {"class": type(layer).__name__, "activation": _activation_of(layer),
            "initializer": type(init).__name__ if init is not None else None}


def _activation_layers(model) -> list:
    out = []
    for layer in _layers(model):
        act = _activation_of(layer)
        if act in RELU_FAMILY or act in SQUASHING:
            out.append(layer)
    return out


def _activation_stats(probe_model, watched: list, x) -> dict:
    import numpy as np

    outs = probe_model(x, training=False)
    outs = outs if isinstance(outs, list) else [outs]
    stats = {}
    for layer, t in zip(watched, outs):
        arr = np.asarray(t).reshape(len(np.asarray(t)), -1)
        act = _activation_of(layer)
        if act in RELU_FAMILY:
            dead = np.all(arr <= 0.0, axis=0)
            stats[layer.name] = {"dead": float(dead.mean())}
        elif act == "tanh":
            stats[layer.name] = {"saturated": float(np.all(np.abs(arr) > 0.99, axis=0).mean())}
        elif act in ("sigmoid", "hard_sigmoid"):
            stats[layer.name] = {"saturated": float(np.all((arr < 0.01) | (arr > 0.99), axis=0).mean())}
    return stats


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

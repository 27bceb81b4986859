"""The training probe: runs INSIDE the user's interpreter, in a subprocess.

    python probe.py SCRIPT OUT.json [--steps N] [--seed N] [--root DIR]

It seeds Python, NumPy and Keras, runs the script through the capture
(``klint/model/capture.py``) up to its first ``fit``, then trains the
captured model for a few steps with its compiled optimizer and its compiled
loss (``Model.compute_loss``: the loss container with its rank handling,
sample weights, several outputs and regularization losses), in its own
``GradientTape`` loop that does what Keras's own ``train_step`` does. The
batches are the ones ``fit`` would draw from the script's data (its arrays,
sample and class weights, shuffling, validation split, ``tf.data`` datasets
and loaders, through Keras's own data adapters); a subclassed model is built
on the first of them, as ``fit`` builds it. When the script never reaches
``fit``, the last model it compiled is trained on synthetic data shaped from
the model and its loss. The weights are the in-memory copy of this throwaway
process: nothing is saved, no callback of the user runs, and no file of the
user is written.

Per step and per layer it records the gradient norm, the update ratio
``|dw|/|w|``, the loss, the learning rate applied, NaN/Inf, and for layers
with a ReLU or tanh/sigmoid activation the share of dead or saturated units
(read from the layers' own calls, so subclassed models have them too); for
BatchNormalization, the drift of the moving statistics from the batch
statistics. The parent process (``klint.runtime.diagnose``) turns the series into
findings.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import re
import sys

# the model view's capture, beside this package, imported by path like this file
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model"))
import capture  # noqa: E402

DEFAULT_STEPS = 50
DEFAULT_SEED = 0
RELU_FAMILY = {"relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "swish"}
SQUASHING = {"tanh", "sigmoid", "hard_sigmoid"}
UNKNOWN_DIM = 32  # the size a synthetic input gets along a dimension the model leaves open
_MISSING = object()


class ProbeError(Exception):
    """The probe cannot train this model (message for the user)."""


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="klint probe")
    ap.add_argument("script")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--root", default=None)
    ap.add_argument("--factory", action="append", default=[])
    ap.add_argument("--source", default=None, help="run this file's text as SCRIPT (a notebook's code cells)")
    a = ap.parse_args(argv)
    _fix_hash_seed(a.seed, argv)

    state: dict = {"compiled": None}
    original_install = capture.install

    def install(rec):
        original_install(rec)
        import keras

        compile_recorded = keras.Model.compile

        def compile_patch(self, *args, **kwargs):
            out = compile_recorded(self, *args, **kwargs)
            state["compiled"] = self  # the last model compiled: probed when the script never reaches fit()
            return out

        keras.Model.compile = compile_patch

        def fit_patch(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
                      validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
                      sample_weight=None, initial_epoch=0, steps_per_epoch=None, *args, **kwargs):
            state.update(model=self, fit={
                "x": x, "y": y, "sample_weight": sample_weight, "class_weight": class_weight,
                "batch_size": batch_size, "shuffle": shuffle, "steps_per_epoch": steps_per_epoch,
                "validation_split": validation_split, "validation_data": validation_data})
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
    seed_everything(a.seed)
    capture.run_one(a.script, snap_path, a.root, a.factory, a.source)
    _restore(saved)  # the probe trains for real: undo the capture's stops
    with open(snap_path, encoding="utf-8") as f:
        snap = json.load(f)
    result = {"snapshot": snap, "probe": None, "error": None}
    model, fit, notes = state.get("model"), state.get("fit"), []
    if model is None and state["compiled"] is not None:
        model = state["compiled"]
        notes.append(f"{_why_no_fit(snap)}: the probe trained the last model the script compiled ({model.name})")
    if model is None:
        result["error"] = "no model to probe: the script built none that reaches fit() or is compiled"
    else:
        try:
            result["probe"] = run_probe(model, fit, a.steps, a.seed, snap.get("standins") or [], notes)
        except ProbeError as e:
            result["error"] = str(e)
        except BaseException as e:  # report, never crash
            import traceback

            result["error"] = f"the probe failed: {type(e).__name__}: {e}"
            result["traceback"] = traceback.format_exc()[-3000:]
    capture.write(a.out, result)
    return 0


def _fix_hash_seed(seed: int, argv: list[str]) -> None:
    """Run under a fixed PYTHONHASHSEED (string hashing orders sets), restarting once before anything is imported."""
    want = str(seed % 2 ** 32)
    if os.environ.get("PYTHONHASHSEED") == want or not sys.executable:
        return
    os.environ["PYTHONHASHSEED"] = want
    try:
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *argv])
    except OSError:  # cannot restart: string hashing stays random, everything else is still seeded
        pass


def seed_everything(seed: int) -> None:
    """Python's, NumPy's and Keras's (the backend's) random generators, before the script runs."""
    import random

    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2 ** 32)
        import keras

        keras.utils.set_random_seed(seed)
    except ImportError:  # no Keras here: the capture reports it
        pass


def _why_no_fit(snap: dict) -> str:
    err = snap.get("error") or {}
    if snap.get("status") == "error" and err.get("type"):
        where = f" at line {err['line']}" if err.get("line") else ""
        return f"the script raised {err['type']}{where} before fit()"
    if snap.get("status") == "exit":
        return f"{err.get('message') or 'the script exited'} before fit()"
    if snap.get("trigger"):
        return f"the script trains with {snap['trigger']}(), not fit()"
    return "the script never calls fit()"


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


# ------------------------------------------------------------------ data

def batches(model, fit: dict | None, steps: int, seed: int, standins: list):
    """(an iterator of (x, y, sample_weight) batches, where they come from, a note or None).

    The batches ``fit`` would draw from the script's data, or synthetic ones when there is none."""
    note = None
    if fit is not None and fit.get("x") is not None:
        try:
            it, source = script_batches(fit, steps)
            first = next(it)
        except StopIteration:
            note = "the script's data gave no batch"
        except Exception as e:  # noqa: BLE001 - any failure of the user's data: fall back, and say so
            note = f"the script's data could not be read ({type(e).__name__}: {str(e).strip()[:200]})"
        else:
            made = [s.get("detail") or s.get("name") or "?" for s in standins if s.get("kind") == "data"]
            if made:
                source = f"synthetic data from the capture ({'; '.join(made)})"
            return itertools.chain([first], it), source, None
    elif fit is not None:
        note = "fit() got no data"
    bs = (fit or {}).get("batch_size") or 32
    it = synthetic(model, bs, seed)
    if note:
        note += ": the probe trained on synthetic data shaped from the model"
    return it, "synthetic data shaped from the model", note


def script_batches(fit: dict, steps: int):
    """The batches of ``fit(x, y, ...)``, made by Keras's own data adapters, epoch after epoch."""
    import keras
    from keras.src.trainers import data_adapters

    x, y, sw = fit["x"], fit["y"], fit["sample_weight"]
    if fit.get("validation_split") and fit.get("validation_data") is None:
        (x, y, sw), _ = _train_validation_split()((x, y, sw), validation_split=fit["validation_split"])
    adapter = data_adapters.get_data_adapter(
        x=x, y=y, sample_weight=sw, batch_size=fit.get("batch_size"), steps_per_epoch=fit.get("steps_per_epoch"),
        shuffle=fit.get("shuffle", True), class_weight=fit.get("class_weight"))
    kind = type(adapter).__name__
    source = {"ArrayDataAdapter": "the script's data", "TFDatasetAdapter": "the script's dataset",
              "PyDatasetAdapter": "the script's data loader", "GeneratorDataAdapter": "the script's generator",
              "TorchDataLoaderAdapter": "the script's data loader"}.get(kind, "the script's data")
    make = adapter.get_tf_dataset if keras.backend.backend() == "tensorflow" else adapter.get_numpy_iterator
    per_epoch = fit.get("steps_per_epoch")
    one_shot = kind == "GeneratorDataAdapter"  # a Python generator cannot be iterated twice

    def gen():
        produced, it, seen = 0, None, []
        while produced < steps:
            _call(adapter, "on_epoch_begin")
            if it is None or not per_epoch:  # as Keras's EpochIterator: steps_per_epoch goes on with one iterator
                it = iter(make())
            n = 0
            while not per_epoch or n < per_epoch:
                try:
                    batch = next(it)
                except StopIteration:
                    it = None
                    break
                n += 1
                produced += 1
                if one_shot:
                    seen.append(batch)
                yield keras.utils.unpack_x_y_sample_weight(batch)
                if produced >= steps:
                    return
            _call(adapter, "on_epoch_end")
            if n == 0:
                if seen:  # the generator is spent: go round the batches it gave
                    for batch in itertools.cycle(seen):
                        yield keras.utils.unpack_x_y_sample_weight(batch)
                return

    return gen(), source


def _train_validation_split():
    try:
        from keras.src.trainers.data_adapters.array_slicing import train_validation_split
    except ImportError:  # older Keras 3
        from keras.src.trainers.data_adapters.data_adapter_utils import train_validation_split
    return train_validation_split


def _call(obj, name: str) -> None:
    fn = getattr(obj, name, None)
    if callable(fn):
        fn()


def synthetic(model, bs: int, seed: int):
    """Endless (x, y, None) batches shaped from the model's inputs and outputs, with targets its loss accepts."""
    import numpy as np
    import keras

    rng = np.random.default_rng(seed)
    spec = _input_spec(model)

    def make_x():
        def one(s):
            shape, dtype, vocab = s
            if vocab is not None:
                return rng.integers(0, vocab, size=(bs, *shape)).astype(dtype)
            return rng.standard_normal((bs, *shape)).astype(dtype)

        return keras.tree.map_structure(one, spec) if not _is_spec(spec) else one(spec)

    x = make_x()
    y_pred = _forward(model, x, training=False)
    while True:
        yield x, _targets(model, y_pred, rng), None
        x = make_x()


def _is_spec(s) -> bool:
    return isinstance(s, tuple) and len(s) == 3 and isinstance(s[0], tuple)


def _input_spec(model):
    """The structure of the model's inputs as (shape without the batch, dtype, vocabulary size or None)."""
    import keras

    struct = getattr(model, "_inputs_struct", None)
    if struct is None:
        try:
            inputs = list(model.inputs)
            struct = inputs[0] if len(inputs) == 1 else inputs
        except (AttributeError, ValueError, TypeError):
            struct = None
    if struct is None:
        shapes = list((getattr(model, "_build_shapes_dict", None) or {}).values())  # model.build(shape)
        if len(shapes) == 1 and isinstance(shapes[0], (tuple, list)) and shapes[0] and not any(
                isinstance(d, (tuple, list)) for d in shapes[0]):
            return _spec_of(tuple(shapes[0])[1:], keras.backend.floatx(), None)
        raise ProbeError(
            "no data to probe the model with, and its input shape is unknown (a subclassed model that was never "
            "built or called): the probe needs the script to reach fit() with its data")
    vocab = _embedding_inputs(model)

    def one(t):
        dtype = keras.backend.standardize_dtype(t.dtype)
        if not (dtype.startswith(("float", "int", "uint", "bfloat")) or dtype == "bool"):
            raise ProbeError(f"no data to probe the model with, and its input {getattr(t, 'name', '')} is of "
                             f"type {dtype}, which synthetic data cannot stand for")
        v = vocab.get(id(_producer(t)))  # token ids for an Embedding, whatever the input's dtype
        if v is None and not dtype.startswith(("float", "bfloat")):
            v = 2
        return _spec_of(tuple(t.shape[1:]), dtype, v)

    return keras.tree.map_structure(one, struct)


def _spec_of(shape, dtype, vocab):
    return tuple(int(d) if d is not None else UNKNOWN_DIM for d in shape), dtype, vocab


def _producer(t):
    hist = getattr(t, "_keras_history", None)
    return hist[0] if hist is not None else None


def _embedding_inputs(model) -> dict:
    """id(input layer) -> the vocabulary size of an Embedding that reads the input directly."""
    out: dict = {}
    layers = list(getattr(model, "layers", []))
    if type(model).__name__ == "Sequential" and layers and type(layers[0]).__name__ == "Embedding":
        try:
            out[id(_producer(model.inputs[0]))] = int(layers[0].input_dim)
        except Exception:
            pass
        return out
    for layer in layers:
        if type(layer).__name__ != "Embedding":
            continue
        for node in getattr(layer, "_inbound_nodes", []):
            for t in getattr(node, "input_tensors", []):
                op = _producer(t)
                if op is not None and type(op).__name__ == "InputLayer":
                    out[id(op)] = int(layer.input_dim)
    return out


def _targets(model, y_pred, rng):
    """Targets for ``y_pred`` that each output's loss accepts, in the structure the compiled loss reads."""
    loss = model.loss
    names = list(getattr(model, "output_names", None) or [])

    def at(i, key):
        if isinstance(loss, dict):
            return loss.get(key) if key is not None else next(iter(loss.values()), None)
        if isinstance(loss, (list, tuple)):
            return loss[i] if i < len(loss) else None
        return loss

    if isinstance(y_pred, dict):
        return {k: _target(v, at(i, k), rng) for i, (k, v) in enumerate(y_pred.items())
                if not isinstance(loss, dict) or loss.get(k) is not None}
    if isinstance(y_pred, (list, tuple)):
        if isinstance(loss, dict) and len(names) == len(y_pred):
            return {n: _target(p, loss[n], rng) for n, p in zip(names, y_pred) if loss.get(n) is not None}
        return [_target(p, at(i, None), rng) for i, p in enumerate(y_pred)]
    if isinstance(loss, dict) and names and names[0] in loss:
        return {names[0]: _target(y_pred, loss[names[0]], rng)}
    return _target(y_pred, at(0, None), rng)


def loss_name(loss) -> str:
    """A loss (a name, a Loss object, a function) as a snake_case name: SparseCategoricalCrossentropy ->
    sparse_categorical_crossentropy."""
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    fn = getattr(loss, "fn", None)  # a LossFunctionWrapper
    name = getattr(fn, "__name__", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _target(pred, loss, rng):
    import numpy as np

    shape = tuple(int(d) for d in pred.shape)
    bs, o = shape[0], shape[1:]
    name = loss_name(loss)
    n = o[-1] if o else 1
    if "sparse" in name:
        return rng.integers(0, max(n, 2), size=(bs, *o[:-1]) if o else (bs,)).astype("int32")
    if name in ("kld", "kl_divergence", "kullback_leibler_divergence") or "kl_div" in name or "kullback" in name:
        if n < 2:
            return rng.uniform(0.05, 0.95, size=shape).astype("float32")
        return rng.dirichlet(np.ones(n), size=(bs, *o[:-1])).astype("float32")
    if "categorical" in name:
        if n < 2:
            return rng.integers(0, 2, size=shape).astype("float32")
        return np.eye(n, dtype="float32")[rng.integers(0, n, size=(bs, *o[:-1]))]
    if "binary" in name or "hinge" in name or name in ("bce", "binary_focal_crossentropy"):
        return rng.integers(0, 2, size=shape).astype("float32")
    if "poisson" in name:
        return rng.poisson(1.0, size=shape).astype("float32")
    if "logarithmic" in name or name == "msle":
        return np.abs(rng.standard_normal(shape)).astype("float32")
    return rng.standard_normal(shape).astype("float32")


# ----------------------------------------------------------------- probe

def _forward(model, x, training: bool):
    if getattr(model, "_call_has_training_arg", True):
        return model(x, training=training)
    return model(x)


def _build(model, batch) -> None:
    """Build a model that ``fit`` would build on its first batch (a subclassed model), as ``fit`` does."""
    x = batch[0]
    try:
        unbuilt = not all(layer.built for layer in model._flatten_layers())
    except Exception:
        unbuilt = not model.built
    if not unbuilt:
        return
    try:
        symbolic = getattr(model, "_symbolic_build", None)
        if symbolic is not None:
            try:
                symbolic(data_batch=tuple(batch))  # what fit() does: a symbolic call on the batch's specs
                return
            except TypeError:  # an older Keras without data_batch=
                pass
        _forward(model, x, training=False)
    except Exception as e:
        raise ProbeError(f"the model cannot be built on the first batch of its data, as fit() would build it: "
                         f"{type(e).__name__}: {str(e).strip()[:300]}") from e


def run_probe(model, fit: dict | None, steps: int, seed: int = DEFAULT_SEED, standins: list = (),
              notes: list | None = None) -> dict:
    import numpy as np
    import keras
    import tensorflow as tf

    notes = list(notes or [])
    if keras.backend.backend() != "tensorflow":
        raise ProbeError(f"the probe trains with TensorFlow; this script runs Keras on {keras.backend.backend()} "
                         "(set KERAS_BACKEND=tensorflow)")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ProbeError(f"the model that reaches fit() ({model.name}) was never compiled: fit() itself refuses it")
    data, source, note = batches(model, fit, steps, seed, list(standins))
    if note:
        notes.append(note)
    first = next(data)
    _build(model, first)
    data = itertools.chain([first], data)
    if not (getattr(type(model).train_step, "__module__", None) or "keras").startswith("keras"):
        notes.append(f"{type(model).__name__} overrides train_step(): the probe trains it with Keras's standard "
                     "step (its compiled loss and optimizer)")
    optimizer = model.optimizer
    compute_loss = getattr(model, "_compute_loss", None) or model.compute_loss

    layers = [l for l in _layers(model) if l.trainable_weights]
    owner = {}
    for layer in layers:
        for v in layer.trainable_weights:
            owner[id(v)] = layer.name
    names = [l.name for l in layers]
    watched = _activation_layers(model)
    bns = [l for l in _layers(model) if type(l).__name__ in ("BatchNormalization", "SyncBatchNormalization")]

    records = []
    variables = model.trainable_variables
    first_x = first[0]
    for step in range(steps):
        batch = next(data, None)
        if batch is None:
            break
        x, y, sw = batch
        before = [np.array(v.numpy(), copy=True) for v in variables]
        with tf.GradientTape() as tape:
            pred = _forward(model, x, training=True)
            # the compiled loss as fit computes it: rank handling, sample weights, several outputs,
            # loss weights, and the regularization losses of model.losses, once
            loss = compute_loss(x=x, y=y, y_pred=pred, sample_weight=sw, training=True)
            if loss is None:
                raise ProbeError("the model's compute_loss() gives no loss: there is nothing to train")
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
        if watched and (step == 0 or step == steps - 1 or step % 10 == 0):
            rec["activations"] = _activation_stats(model, watched, x)
        records.append(rec)
        if nan:
            break
    drift = {}
    if bns:
        try:
            seen = record_calls(model, bns, first_x)
            for bn in bns:
                arr = seen.get(bn.name, (None, None))[0]
                if arr is None:
                    continue
                axes = tuple(range(arr.ndim - 1))
                mean, var = arr.mean(axis=axes), arr.var(axis=axes)
                mm, mv = np.asarray(bn.moving_mean), np.asarray(bn.moving_variance)
                # how far the moving statistics (used at inference) are from this batch's statistics
                drift[bn.name] = float(np.mean(np.abs(mm - mean) / np.sqrt(var + 1e-3))
                                       + np.mean(np.abs(np.log((mv + 1e-3) / (var + 1e-3)))))
        except Exception:
            drift = {}
    order = [l.name for l in layers]
    return {"steps": len(records), "data": source, "seed": seed, "layers": order,
            "kinds": {l.name: _kind(l) for l in layers}, "records": records, "bn_drift": drift, "notes": notes}


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


def record_calls(model, layers: list, x) -> dict:
    """Layer name -> (its input, its output) as NumPy arrays, from one inference call of the model.

    Each layer's ``call`` is wrapped for the duration of the call, so this reads the layers of any model:
    functional, Sequential, nested, or subclassed (whose layers have no output tensor to build a
    sub-model from). A layer called several times gives its calls concatenated along the batch."""
    import numpy as np

    seen: dict = {}
    saved = []
    for layer in layers:
        own = layer.__dict__.get("call", _MISSING)
        original = layer.call

        def hook(*args, __layer=layer, __call=original, **kwargs):
            out = __call(*args, **kwargs)
            inp = args[0] if args else next(iter(kwargs.values()), None)
            seen.setdefault(__layer.name, []).append((inp, out))
            return out

        object.__setattr__(layer, "call", hook)
        saved.append((layer, own))
    try:
        _forward(model, x, training=False)
    finally:
        for layer, own in saved:
            if own is _MISSING:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own)

    def arr(t):
        if isinstance(t, (list, tuple)):
            t = t[0] if t else None
        if t is None:
            return None
        try:
            return np.asarray(t)
        except Exception:
            return None

    out = {}
    for name, calls in seen.items():
        pairs = [(arr(i), arr(o)) for i, o in calls]
        ins = [p[0] for p in pairs if p[0] is not None and p[0].ndim >= 1]
        outs = [p[1] for p in pairs if p[1] is not None and p[1].ndim >= 1]
        out[name] = (_concat(ins), _concat(outs))
    return out


def _concat(arrays: list):
    import numpy as np

    if not arrays:
        return None
    same = [a for a in arrays if a.shape[1:] == arrays[0].shape[1:]]
    return np.concatenate(same, axis=0) if len(same) > 1 else arrays[0]


def _activation_stats(model, watched: list, x) -> dict:
    import numpy as np

    seen = record_calls(model, watched, x)
    stats = {}
    for layer in watched:
        t = seen.get(layer.name, (None, None))[1]
        if t is None:
            continue
        arr = t.reshape(len(t), -1)
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

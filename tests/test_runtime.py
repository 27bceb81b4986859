"""Runtime diagnosis: ``klint probe``, ``klint report`` and ``klint.keras.TrainingMonitor``.

Every model here is tiny and really misbehaves (or really trains well) on a
CPU in seconds: SGD at learning rate 10 blows up, ten sigmoid layers with
Glorot initialization starve the first layers of gradient, a ReLU layer
whose bias starts at -10 never fires. klint runs as a subprocess
(``python -m klint``), and the monitor runs inside a separate training
script, so this process never imports TensorFlow or Keras.

Tests marked ``xfail(strict=True, reason="BUG: ...")`` pin bugs found while
writing this file; they start passing (and so fail strictly) once fixed.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Runs TensorFlow/Keras in subprocesses: deselected by `pytest -m "not tensorflow"`.
pytestmark = pytest.mark.tensorflow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: the environment for the training scripts this file runs itself (klint sets its own for the probe)
TF_ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3",
          "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONHASHSEED": "0"}

# ------------------------------------------------------------------ scripts

EXPLODE = """\
import numpy as np
import keras

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((256, 20)).astype("float32")
y = (x @ rng.standard_normal((20, 1))).astype("float32")
model = keras.Sequential([
    keras.Input((20,)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=10.0), loss="mse")
model.fit(x, y, batch_size=32, epochs=2, verbose=0)
"""

VANISH = """\
import numpy as np
import keras

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((256, 16)).astype("float32")
y = rng.integers(0, 2, size=(256, 1)).astype("float32")
inputs = keras.Input((16,))
h = inputs
for i in range(10):
    h = keras.layers.Dense(32, activation="sigmoid")(h)  # SIGMOID STACK
outputs = keras.layers.Dense(1, activation="sigmoid")(h)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
"""

# a dead ReLU layer, and a script that would write files if its training really ran
DEAD_WITH_SAVES = """\
import numpy as np
import keras

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((256, 16)).astype("float32")
y = rng.standard_normal((256, 1)).astype("float32")
model = keras.Sequential([
    keras.Input((16,)),
    keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
    keras.layers.Dense(64, activation="relu", bias_initializer=keras.initializers.Constant(-10.0)),  # DEAD
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
callbacks = [keras.callbacks.ModelCheckpoint("best.keras"), keras.callbacks.CSVLogger("history.csv")]
model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=callbacks)
model.save("final.keras")
model.save_weights("final.weights.h5")
with open("done.txt", "w") as f:
    f.write("trained")
open("../after_fit.txt", "w").close()  # outside the project: a project write would go to klint's scratch
"""

HEALTHY = """\
import numpy as np
import keras

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((512, 16)).astype("float32")
y = (x @ rng.standard_normal((16, 1)) / 4.0).astype("float32")
model = keras.Sequential([
    keras.Input((16,)),
    keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
    keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
model.fit(x, y, batch_size=32, epochs=2, verbose=0)
"""

BROKEN = """\
import keras
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
raise ValueError("cannot find the data folder")
model.compile(optimizer="adam", loss="mse")
model.fit([[0.0, 0.0, 0.0, 0.0]], [[0.0]])
"""

# the healthy model, trained in mixed precision (a LossScaleOptimizer wraps SGD)
MIXED_HEALTHY = HEALTHY.replace(
    "keras.utils.set_random_seed(0)\n",
    "keras.utils.set_random_seed(0)\nkeras.mixed_precision.set_global_policy('mixed_float16')\n").replace(
    "keras.layers.Dense(1),", "keras.layers.Dense(1, dtype='float32'),").replace(
    "keras.optimizers.Adam(learning_rate=1e-3)", "keras.optimizers.SGD(learning_rate=1e-2)")

# TrainingMonitor runs: one interpreter, several fits; prints a JSON summary on its last line
MONITOR = r'''
import json, math, sys
import numpy as np
import keras
import tensorflow as tf
from klint.keras import TrainingMonitor

out = {}
rng = np.random.default_rng(0)
x = rng.standard_normal((256, 16)).astype("float32")
y = (x @ rng.standard_normal((16, 1)) / 4.0).astype("float32")


def mlp(opt):
    m = keras.Sequential([
        keras.Input((16,)),
        keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(1),
    ])
    m.compile(optimizer=opt, loss="mse")
    return m


def tape_norms(m, xb, yb):
    """Per-layer gradient norms of the compiled loss on one batch, by GradientTape."""
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(yb, m(xb, training=True))
    grads = tape.gradient(loss, m.trainable_variables)
    by_id = {id(v): g for v, g in zip(m.trainable_variables, grads)}
    return {l.name: math.sqrt(sum(float(tf.reduce_sum(tf.square(by_id[id(v)]))) for v in l.trainable_weights))
            for l in m.layers if l.trainable_weights}


fit = dict(batch_size=32, shuffle=False, verbose=0)  # 8 batches per epoch, always in the same order

# a constant learning rate; the first record is the first batch, at the initial weights
keras.utils.set_random_seed(0)
m = mlp(keras.optimizers.Adam(1e-3))
out["tape_first"] = tape_norms(m, x[:32], y[:32])
h = m.fit(x, y, epochs=3, callbacks=[TrainingMonitor("const.jsonl", every=4)], **fit)
out["const_lr"] = h.history.get("learning_rate")
out["const_loss"] = h.history.get("loss")

# the same model trained again, twice with one monitor, then with a new one
mon = TrainingMonitor("twice.jsonl", every=2)
h1 = m.fit(x, y, epochs=1, callbacks=[mon], **fit)
out["tape_second"] = tape_norms(m, x[:32], y[:32])
h2 = m.fit(x, y, epochs=1, callbacks=[mon], **fit)
out["twice_lr"] = [h1.history.get("learning_rate"), h2.history.get("learning_rate")]
out["tape_third"] = tape_norms(m, x[:32], y[:32])
h3 = m.fit(x, y, epochs=1, callbacks=[TrainingMonitor("third.jsonl", every=2)], **fit)
out["third_lr"] = h3.history.get("learning_rate")

# a learning rate schedule
keras.utils.set_random_seed(0)
sched = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=8, decay_rate=0.5)
m = mlp(keras.optimizers.SGD(learning_rate=sched))
h = m.fit(x, y, epochs=3, callbacks=[TrainingMonitor("sched.jsonl", every=4)], **fit)
out["sched_lr"] = h.history.get("learning_rate")

# SGD at learning rate 10
keras.utils.set_random_seed(0)
m = mlp(keras.optimizers.SGD(learning_rate=10.0))
m.fit(x, y, epochs=2, callbacks=[TrainingMonitor("explode.jsonl", every=1)], **fit)

# a loss spike off the every-4 grid: batch 6 (of 8) has targets 1000x too large
keras.utils.set_random_seed(0)
ys = y.copy()
ys[6 * 32:7 * 32] *= 1000.0
m = mlp(keras.optimizers.Adam(1e-2))


class Truth(keras.callbacks.Callback):
    """The real one-step update ratio of the first layer at batch 6."""

    def on_train_batch_begin(self, batch, logs=None):
        self.before = self.model.layers[0].kernel.numpy().copy()

    def on_train_batch_end(self, batch, logs=None):
        if batch == 6:
            after = self.model.layers[0].kernel.numpy()
            self.ratio = float(np.linalg.norm(after - self.before) / np.linalg.norm(self.before))


truth = Truth()
mon = TrainingMonitor("spike.jsonl", every=4)
m.fit(x, ys, epochs=1, callbacks=[truth, mon], **fit)
out["spikes"] = mon.spikes
out["spike_true_ratio"] = truth.ratio
out["spike_layer"] = m.layers[0].name

# mixed precision: a LossScaleOptimizer applies the gradients
keras.mixed_precision.set_global_policy("mixed_float16")
keras.utils.set_random_seed(0)
m = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                      keras.layers.Dense(1, dtype="float32")])
m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
out["mixed_optimizer"] = type(m.optimizer).__name__
out["mixed_tape"] = tape_norms(m, x[:32], y[:32])
m.fit(x, y, epochs=1, callbacks=[TrainingMonitor("mixed.jsonl", every=1)], **fit)
keras.mixed_precision.set_global_policy("float32")

print(json.dumps(out))
'''


# ------------------------------------------------------------------ helpers


def klint(*argv, cwd: Path, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "klint", *[str(a) for a in argv]], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def script(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, marker: str) -> int:
    rows = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(rows) == 1, marker
    return rows[0]


def findings_of(stdout: str) -> list[tuple[str, int, int, str]]:
    """``path:line:col: CODE message`` lines as (path, line, col, code + message)."""
    out = []
    for line in stdout.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            out.append((parts[0], int(parts[1]), int(parts[2]), parts[3].strip()))
    return out


def codes(stdout: str) -> list[str]:
    return [f[3].split()[0] for f in findings_of(stdout)]


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 200 and height >= 200
    assert len(data) > 10_000  # three panels with curves, not an empty canvas


def read_log(path: Path) -> tuple[dict, list]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    headers = [i for i in items if i.get("type") == "header"]
    assert len(headers) == 1 and items[0] is headers[0]
    return headers[0], [i for i in items if i.get("type") == "step"]


def snapshot_of(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else b"")
            for p in folder.rglob("*")}


def close(a: float, b: float, rel: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-7)


# ------------------------------------------------------------------ klint probe


def test_probe_sgd_lr10_explodes_and_goes_nan_json_and_plot(tmp_path):
    """1, 5, 6: KL701 and KL706, exit 1; the JSON has the findings and the per-step series; --plot is a PNG."""
    path = script(tmp_path, "explode.py", EXPLODE)
    r = klint("probe", path.name, "--output-format", "json", "--plot", "out.png", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    found = {f["code"]: f for f in doc["findings"]}
    assert {"KL701", "KL706"} <= set(found)
    for f in doc["findings"]:
        assert f["view"] == "runtime" and f["filename"] == "explode.py"
        assert f["location"]["row"] >= 1 and f["location"]["column"] >= 1 and f["cites"]
    assert found["KL706"]["name"] == "nan-in-training" and isinstance(found["KL706"]["step"], int)
    assert found["KL701"]["name"] == "exploding-gradients" and "KL301" in found["KL701"]["cites"]
    assert found["KL701"]["layer"] in doc["series"]["layers"]
    # the exploding layer's finding sits on the line that built it; NaN sits on the fit() line
    built = [i for i, line in enumerate(EXPLODE.splitlines(), 1) if "keras.layers.Dense(" in line]
    assert found["KL701"]["location"]["row"] == dict(zip(["dense", "dense_1", "dense_2"], built))[found["KL701"]["layer"]]
    assert found["KL706"]["location"]["row"] == line_of(EXPLODE, "model.fit(")
    series = doc["series"]
    assert series["layers"] == ["dense", "dense_1", "dense_2"]
    assert series["data"] == "the script's data"
    records = series["records"]
    assert 2 <= len(records) < 50  # the probe stops at the first NaN
    assert [r["step"] for r in records] == list(range(len(records)))
    first = records[0]
    assert isinstance(first["loss"], float) and math.isfinite(first["loss"])
    assert first["lr"] == pytest.approx(10.0)
    assert set(first["grad_norm"]) == set(series["layers"])
    assert all(isinstance(v, float) and v > 0 for v in first["grad_norm"].values())
    assert set(first["update_ratio"]) == set(series["layers"])
    assert records[-1]["nan"] is True and not any(r["nan"] for r in records[:-1])
    assert_png(tmp_path / "out.png")


def test_probe_text_output_and_exit_zero(tmp_path):
    path = script(tmp_path, "explode.py", EXPLODE)
    r = klint("probe", path.name, "--exit-zero", "--steps", "10", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert {"KL701", "KL706"} <= set(codes(r.stdout))
    assert all(f[0] == "explode.py" for f in findings_of(r.stdout))
    assert "runtime problems in" in r.stdout.splitlines()[-1]


def test_probe_vanishing_gradients_in_a_sigmoid_stack(tmp_path):
    """2: KL702 on the line that builds the ten sigmoid Dense layers, citing KL101."""
    path = script(tmp_path, "vanish.py", VANISH)
    r = klint("probe", path.name, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    found = [f for f in findings_of(r.stdout) if f[3].startswith("KL702")]
    assert len(found) == 1, r.stdout
    name, row, col, message = found[0]
    assert (name, row) == ("vanish.py", line_of(VANISH, "SIGMOID STACK"))
    assert col == 9  # 1-based column of `keras.layers.Dense(` in `    h = keras...`
    assert "KL101" in message and "sigmoid" in message
    assert "KL706" not in codes(r.stdout) and "KL701" not in codes(r.stdout)


def test_probe_dead_relu_and_never_writes_the_users_files(tmp_path):
    """3 and 9: KL703 on the layer whose bias starts at -10; no checkpoint, save or other file appears."""
    folder = tmp_path / "project"
    path = script(folder, "train.py", DEAD_WITH_SAVES)
    before = snapshot_of(folder)
    r = klint("probe", path.name, "--output-format", "json", cwd=folder)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    dead = [f for f in doc["findings"] if f["code"] == "KL703"]
    assert [f["layer"] for f in dead] == ["dense_1"]
    assert dead[0]["location"]["row"] == line_of(DEAD_WITH_SAVES, "# DEAD")
    assert dead[0]["message"].startswith("100% of the ReLU units of dense_1")
    assert "KL101" in dead[0]["cites"]
    stats = [rec["activations"] for rec in doc["series"]["records"] if rec.get("activations")]
    assert stats and all(s["dense_1"]["dead"] == 1.0 for s in stats)
    assert snapshot_of(folder) == before  # nothing new, nothing changed
    assert not (tmp_path / "after_fit.txt").exists()  # the script stopped at its fit


def test_probe_healthy_model_has_no_findings(tmp_path):
    """4: He init + ReLU, Adam 1e-3, targets of unit scale: no runtime findings, exit 0."""
    path = script(tmp_path, "healthy.py", HEALTHY)
    r = klint("probe", path.name, "--output-format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["findings"] == []
    records = doc["series"]["records"]
    assert len(records) == 50 and not any(rec["nan"] for rec in records)
    assert records[-1]["loss"] < records[0]["loss"]  # it really trains


def test_probe_cannot_run(tmp_path):
    """7: a script that raises before fit, and a timeout too short: exit 2, a clear message, no traceback."""
    script(tmp_path, "broken.py", BROKEN)
    r = klint("probe", "broken.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    err = r.stderr.strip()
    assert err.startswith("klint: error:") and len(err.splitlines()) == 1
    assert "ValueError" in err and "cannot find the data folder" in err and "line 3" in err
    assert "Traceback" not in r.stderr

    script(tmp_path, "healthy.py", HEALTHY)
    r = klint("probe", "healthy.py", "--timeout", "0.5", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == "klint: error: the probe did not finish within 0.5 s"
    assert "Traceback" not in r.stderr

    r = klint("probe", "missing.py", cwd=tmp_path)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_probe_mixed_precision_model_trains_normally(tmp_path):
    path = script(tmp_path, "mixed.py", MIXED_HEALTHY)
    r = klint("probe", path.name, "--output-format", "json", "--steps", "20", cwd=tmp_path)
    doc = json.loads(r.stdout)
    ratios = doc["series"]["records"][0]["update_ratio"]
    assert all(v > 1e-5 for v in ratios.values()), ratios
    assert doc["findings"] == [] and r.returncode == 0


def test_probe_writes_no_pycache_for_local_modules(tmp_path):
    folder = tmp_path / "project"
    script(folder, "helpers.py", textwrap.dedent("""\
        import keras

        def build():
            m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu", kernel_initializer="he_normal"), keras.layers.Dense(1)])
            m.compile(optimizer="adam", loss="mse")
            return m
        """))
    script(folder, "train.py", "import numpy as np\nfrom helpers import build\n\nm = build()\n"
                               "m.fit(np.ones((64, 4), 'float32'), np.ones((64, 1), 'float32'), verbose=0)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before = snapshot_of(folder)
    r = klint("probe", "train.py", "--steps", "2", "--exit-zero", cwd=folder, env=env)
    assert r.returncode == 0, r.stderr
    assert sorted(snapshot_of(folder)) == sorted(before)


# ------------------------------------------------------------------ the compiled loss, as fit() computes it

#: A model evaluated on its first batch before fit() (which does not shuffle): that loss, with the
#: regularization loss of the first layer, is what the probe's first step must compute.
LOSS_CASE = """\
import json
import numpy as np
import tensorflow as tf
import keras

rng = np.random.default_rng(1)
n = 128
x = rng.standard_normal((n, 6)).astype("float32")
{data}
inputs = keras.Input((6,))
h = keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(0.05))(inputs)
{outputs}
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(1e-3), {compile})
reference = model.evaluate({evaluate}, verbose=0, return_dict=True)["loss"]
with open("../reference.json", "w") as f:  # outside the project, which klint's runs only read
    json.dump({{"loss": float(reference)}}, f)
model.fit({fit}, epochs=1, shuffle=False, verbose=0)
"""

ARRAYS = {"evaluate": "x[:32], y[:32], batch_size=32", "fit": "x, y, batch_size=32"}
SINGLE = "outputs = keras.layers.Dense({units}, activation={act!r})(h)"

LOSS_CASES = {
    "binary-1d-labels": dict(ARRAYS, data="y = (x[:, 0] > 0).astype('float32')  # shape (n,)",
                             outputs=SINGLE.format(units=1, act="sigmoid"), compile="loss='binary_crossentropy'"),
    "sparse-labels-n": dict(ARRAYS, data="y = rng.integers(0, 3, size=(n,))", outputs=SINGLE.format(units=3, act="softmax"),
                            compile="loss='sparse_categorical_crossentropy'"),
    "sparse-labels-n-1": dict(ARRAYS, data="y = rng.integers(0, 3, size=(n, 1))",
                              outputs=SINGLE.format(units=3, act="softmax"),
                              compile="loss=keras.losses.SparseCategoricalCrossentropy()"),
    "categorical-one-hot": dict(ARRAYS, data="y = np.eye(3, dtype='float32')[rng.integers(0, 3, size=(n,))]",
                                outputs=SINGLE.format(units=3, act="softmax"), compile="loss='categorical_crossentropy'"),
    "hinge": dict(ARRAYS, data="y = rng.integers(0, 2, size=(n,)).astype('float32')",
                  outputs=SINGLE.format(units=1, act="tanh"), compile="loss='hinge'"),
    "poisson": dict(ARRAYS, data="y = rng.poisson(2.0, size=(n,)).astype('float32')",
                    outputs=SINGLE.format(units=1, act="softplus"), compile="loss='poisson'"),
    "kl-divergence": dict(ARRAYS, data="y = rng.uniform(0.05, 0.95, size=(n,)).astype('float32')",
                          outputs=SINGLE.format(units=1, act="sigmoid"), compile="loss='kl_divergence'"),
    "dict-outputs-and-targets": dict(
        data="y = {'value': rng.standard_normal((n,)).astype('float32'), 'label': rng.integers(0, 3, size=(n,))}",
        outputs="outputs = {'value': keras.layers.Dense(1, name='value')(h),\n"
                "           'label': keras.layers.Dense(3, activation='softmax', name='label')(h)}",
        compile="loss={'value': 'mse', 'label': 'sparse_categorical_crossentropy'}, "
                "loss_weights={'value': 0.5, 'label': 2.0}",
        evaluate="x[:32], {k: v[:32] for k, v in y.items()}, batch_size=32", fit="x, y, batch_size=32"),
    "sample-weights": dict(
        data="y = (x[:, 0] > 0).astype('float32')\nsw = rng.uniform(0.0, 3.0, size=(n,)).astype('float32')",
        outputs=SINGLE.format(units=1, act="sigmoid"), compile="loss='binary_crossentropy'",
        evaluate="x[:32], y[:32], sample_weight=sw[:32], batch_size=32", fit="x, y, sample_weight=sw, batch_size=32"),
    "dataset-of-x-y-sample-weight": dict(
        data="y = (x[:, 0] > 0).astype('float32')\nsw = rng.uniform(0.0, 3.0, size=(n,)).astype('float32')\n"
             "ds = tf.data.Dataset.from_tensor_slices((x, y, sw)).batch(32)",
        outputs=SINGLE.format(units=1, act="sigmoid"), compile="loss='binary_crossentropy'",
        evaluate="ds.take(1)", fit="ds"),
}


@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_probe_loss_is_the_compiled_loss(tmp_path, case):
    """The probe's first step computes the loss Keras computes for this model on the same batch before any
    update (``evaluate``): rank handling, sample weights, several outputs, regularization once."""
    project = tmp_path / "project"
    project.mkdir()
    path = script(project, "train.py", LOSS_CASE.format(**LOSS_CASES[case]))
    r = klint("probe", path.name, "--steps", "3", "--output-format", "json", cwd=project)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    series = json.loads(r.stdout)["series"]
    assert series["data"] == ("the script's dataset" if case.startswith("dataset") else "the script's data")
    reference = json.loads((tmp_path / "reference.json").read_text())["loss"]
    first = series["records"][0]["loss"]
    assert first == pytest.approx(reference, rel=1e-5, abs=1e-7), (first, reference)
    assert len(series["records"]) == 3 and not any(rec["nan"] for rec in series["records"])


HEALTHY_BINARY = """\
import numpy as np
import keras

rng = np.random.default_rng(0)
x = rng.standard_normal((256, 8)).astype("float32")
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")  # shape (256,)
model = keras.Sequential([
    keras.Input((8,)),
    keras.layers.Dense(16, activation="relu", kernel_initializer="he_normal"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=32, epochs=5, verbose=0)
"""

DEEP_SIGMOID_1D = """\
import numpy as np
import keras

rng = np.random.default_rng(0)
x = rng.standard_normal((256, 16)).astype("float32")
y = (x[:, 0] > 0).astype("float32")  # shape (256,)
stack = [keras.layers.Dense(32, activation="sigmoid") for _ in range(10)]  # SIGMOID STACK
model = keras.Sequential([keras.Input((16,)), *stack, keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
"""


def test_probe_healthy_binary_classifier_with_1d_labels_is_clean(tmp_path):
    path = script(tmp_path, "binary.py", HEALTHY_BINARY)
    r = klint("probe", path.name, "--output-format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["findings"] == []
    records = doc["series"]["records"]
    assert len(records) == 50 and records[-1]["loss"] < records[0]["loss"]


def test_probe_deep_sigmoid_stack_with_1d_labels_vanishes(tmp_path):
    path = script(tmp_path, "deep.py", DEEP_SIGMOID_1D)
    r = klint("probe", path.name, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    found = [f for f in findings_of(r.stdout) if f[3].startswith("KL702")]
    assert len(found) == 1, r.stdout
    assert found[0][1] == line_of(DEEP_SIGMOID_1D, "SIGMOID STACK")
    assert "sigmoid" in found[0][3] and "KL101" in found[0][3]


SUBCLASSED = """\
import numpy as np
import keras


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal")
        self.dead = keras.layers.Dense(32, activation="relu", bias_initializer=keras.initializers.Constant(-10.0))  # DEAD
        self.head = keras.layers.Dense(1, activation="sigmoid")

    def call(self, x):
        return self.head(self.dead(self.hidden(x)))


rng = np.random.default_rng(0)
x = rng.standard_normal((256, 8)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
model = Net()  # built by fit() on its first batch
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
"""


def test_probe_subclassed_model_built_on_its_first_batch(tmp_path):
    """A subclassed model that fit() would build is built on the first batch and probed, with the activation
    statistics of its layers (read from their calls): the dead layer is found on the line that built it."""
    path = script(tmp_path, "sub.py", SUBCLASSED)
    r = klint("probe", path.name, "--steps", "12", "--output-format", "json", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    series = doc["series"]
    assert series["layers"] == ["dense", "dense_1", "dense_2"] and series["data"] == "the script's data"
    stats = [rec["activations"] for rec in series["records"] if rec.get("activations")]
    assert len(stats) == 3  # steps 0, 10 and 11
    for s in stats:
        assert s["dense"]["dead"] < 0.5 and s["dense_1"]["dead"] == 1.0 and "saturated" in s["dense_2"]
    dead = [f for f in doc["findings"] if f["code"] == "KL703"]
    assert [f["layer"] for f in dead] == ["dense_1"]
    assert dead[0]["location"]["row"] == line_of(SUBCLASSED, "# DEAD")
    norms = series["records"][0]["grad_norm"]
    assert norms["dense_2"] > 0 and norms["dense_1"] == 0.0 and norms["dense"] == 0.0  # nothing flows through dense_1


UNSEEDED = """\
import numpy as np
import keras

x = np.random.standard_normal((256, 8)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.3),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # shuffled
"""


def test_probe_runs_are_seeded_and_reproducible(tmp_path):
    """The script seeds nothing and trains with dropout on shuffled data: the same --seed gives the same
    series, another seed another one."""
    path = script(tmp_path, "unseeded.py", UNSEEDED)

    def series(seed: int) -> dict:
        r = klint("probe", path.name, "--steps", "8", "--seed", str(seed), "--output-format", "json", cwd=tmp_path)
        assert r.returncode in (0, 1), r.stderr
        return json.loads(r.stdout)["series"]

    a, b, c = series(7), series(7), series(8)
    assert a["records"] == b["records"] and a["seed"] == 7
    assert a["records"][0]["loss"] != c["records"][0]["loss"]
    r = klint("probe", path.name, "--seed", "-1", cwd=tmp_path)
    assert r.returncode == 2 and "--seed" in r.stderr and "Traceback" not in r.stderr


COMPILED_THEN_RAISES = """\
import keras

model = keras.Sequential([
    keras.Input((10,)),
    keras.layers.Embedding(50, 8),
    keras.layers.Flatten(),
    keras.layers.Dense(16, activation="relu", kernel_initializer="he_normal"),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
open("data/train.csv")  # RAISES
model.fit(x, y)
"""


def test_probe_without_data_trains_the_last_compiled_model_on_synthetic_data(tmp_path):
    """fit() is never reached: the last compiled model is probed on synthetic data shaped from it (token ids
    for its Embedding, integer labels for its sparse loss), with a warning that says why."""
    path = script(tmp_path, "nodata.py", COMPILED_THEN_RAISES)
    r = klint("probe", path.name, "--steps", "5", "--output-format", "json", cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    series = json.loads(r.stdout)["series"]
    assert series["data"] == "synthetic data shaped from the model"
    assert len(series["records"]) == 5 and all(math.isfinite(rec["loss"]) for rec in series["records"])
    warning = [line for line in r.stderr.splitlines() if line.startswith("klint: warning:")]
    assert len(warning) == 1 and "FileNotFoundError" in warning[0]
    assert f"line {line_of(COMPILED_THEN_RAISES, '# RAISES')}" in warning[0]
    assert "Traceback" not in r.stderr

    # a subclassed model that was never built: nothing to shape synthetic data from
    script(tmp_path, "unbuilt.py", "import keras\n\n\nclass Net(keras.Model):\n    def __init__(self):\n"
                                   "        super().__init__()\n        self.d = keras.layers.Dense(1)\n\n"
                                   "    def call(self, x):\n        return self.d(x)\n\n\nmodel = Net()\n"
                                   "model.compile(optimizer='adam', loss='mse')\nraise RuntimeError('no data')\n")
    r = klint("probe", "unbuilt.py", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    err = r.stderr.strip()
    assert err.startswith("klint: error:") and len(err.splitlines()) == 1
    assert "input shape is unknown" in err and "RuntimeError" in err


MNIST_PROBE = """\
import keras

(x, y), _ = keras.datasets.mnist.load_data()
x = x[:256].reshape(-1, 784).astype("float32") / 255.0
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y[:256], batch_size=32)
"""


def test_probe_says_when_its_data_is_the_captures_stand_in(tmp_path):
    """MNIST is not in this (empty) Keras cache: the capture gives the script synthetic MNIST, and the
    probe trains on it and says so."""
    (tmp_path / "keras_home").mkdir()
    path = script(tmp_path, "mnist.py", MNIST_PROBE)
    r = klint("probe", path.name, "--steps", "3", "--output-format", "json", cwd=tmp_path,
              env={**TF_ENV, "KERAS_HOME": str(tmp_path / "keras_home")}, timeout=300)
    assert r.returncode in (0, 1), r.stderr[-3000:]
    result = json.loads(r.stdout)
    assert "synthetic data from the capture (synthetic MNIST data)" in json.dumps(result)
    assert not any((tmp_path / "keras_home").rglob("*.npz"))  # nothing was downloaded


# ------------------------------------------------------------------ --plot


def test_probe_plot_without_matplotlib_fails_before_the_run(tmp_path):
    broken = tmp_path / "site" / "matplotlib"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('no matplotlib in this environment')\n")
    project = tmp_path / "project"  # the script marks its run outside it: klint's runs only read a project
    path = script(project, "train.py", "open('../ran.txt', 'w').close()\n" + HEALTHY_BINARY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])}
    r = klint("probe", path.name, "--plot", "out.png", cwd=project, env=env, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    err = r.stderr.strip()
    assert err.startswith("klint: error: --plot needs matplotlib") and "no matplotlib in this environment" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "ran.txt").exists() and not (project / "out.png").exists()  # the script never ran

    r = klint("probe", path.name, "--plot", "missing/out.png", cwd=project, timeout=60)
    assert r.returncode == 2 and "no such folder" in r.stderr and not (tmp_path / "ran.txt").exists()


def test_plot_loss_scale_and_nan_marker(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from klint.runtime import commands as runtime

    assert runtime.loss_scale([1000.0, 30.0, 0.5]) == ("log", {})
    assert runtime.loss_scale([2.0, 1.0, 0.5]) == ("linear", {})
    assert runtime.loss_scale([5.0, 50.0]) == ("linear", {})  # one decade
    scale, opts = runtime.loss_scale([-500.0, -2.0, 0.01, 3.0])
    assert scale == "symlog" and opts["linthresh"] == pytest.approx(0.01)
    assert runtime.loss_scale([-1.0, 0.5, 1.0]) == ("linear", {})  # crosses zero within a decade
    assert runtime.loss_scale([float("nan"), 1.0]) == ("linear", {})

    def rec(step, loss, nan=False):
        return {"step": step, "loss": loss, "lr": 0.1, "nan": nan, "grad_norm": {"dense": 1.0 + step}}

    series = {"layers": ["dense"], "records": [rec(0, 0.7), rec(1, 40.0), rec(2, 3000.0), rec(3, None, nan=True)]}
    assert runtime.nan_step(series["records"]) == 3
    fig = runtime.figure(series, "t")
    grad_ax, loss_ax, lr_ax = fig.axes[:3]
    assert loss_ax.get_yscale() == "log" and grad_ax.get_yscale() == "log" and lr_ax.get_yscale() == "linear"
    for ax in (grad_ax, loss_ax, lr_ax):
        marks = [line for line in ax.get_lines() if list(line.get_xdata()) == [3, 3]]
        assert len(marks) == 1, ax
    assert any("NaN/Inf at step 3" in t.get_text() for t in loss_ax.texts)
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["loss", "NaN/Inf at step 3"]

    clean = runtime.figure({"layers": ["dense"], "records": [rec(i, 1.0 / (i + 1)) for i in range(5)]})
    assert clean.axes[1].get_yscale() == "linear"
    assert not [line for line in clean.axes[1].get_lines() if len(set(line.get_xdata())) == 1]
    assert not clean.axes[1].texts
    runtime.plot(series, tmp_path / "nan.png")
    assert_png(tmp_path / "nan.png")


# ------------------------------------------------------------------ TrainingMonitor and klint report


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    """Run MONITOR once in its own interpreter: (its folder, its JSON summary)."""
    folder = tmp_path_factory.mktemp("monitor")
    (folder / "monitor_runs.py").write_text(MONITOR, encoding="utf-8")
    r = subprocess.run([sys.executable, "monitor_runs.py"], cwd=folder, capture_output=True, text=True,
                       timeout=300, env=TF_ENV, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return folder, json.loads(r.stdout.strip().splitlines()[-1])


def test_monitor_logs_learning_rate_into_history(monitored):
    _, out = monitored
    assert out["const_lr"] == pytest.approx([1e-3] * 3)
    lr = out["sched_lr"]
    assert len(lr) == 3 and all(b < a for a, b in itertools.pairwise(lr))
    assert lr == pytest.approx([0.005, 0.0025, 0.00125], rel=1e-4)  # 0.01 * 0.5 ** (8 * epoch / 8)
    assert out["twice_lr"] == [pytest.approx([1e-3]), pytest.approx([1e-3])]
    assert out["third_lr"] == pytest.approx([1e-3])


def test_monitor_log_records_and_tape_agreement(monitored):
    folder, out = monitored
    header, records = read_log(folder / "const.jsonl")
    assert header["every"] == 4
    assert header["layers"] == list(out["tape_first"])
    assert [r["step"] for r in records] == [0, 4, 8, 12, 16, 20]  # 24 batches, every 4th
    for rec in records:
        assert set(rec["grad_norm"]) == set(header["layers"])
        assert all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in rec["grad_norm"].values())
        assert set(rec["update_ratio"]) == set(header["layers"])
        assert all(0 < v < 0.1 for v in rec["update_ratio"].values())
        assert rec["lr"] == pytest.approx(1e-3) and rec["nan"] is False and rec["spike"] is False
        assert math.isfinite(rec["loss"])
    # the first record is the first batch at the initial weights: the same norms as a GradientTape
    for name, norm in out["tape_first"].items():
        assert close(records[0]["grad_norm"][name], norm), (name, records[0]["grad_norm"][name], norm)


def test_monitor_works_when_fit_is_called_again(monitored):
    folder, out = monitored
    # the same monitor for two more fits: the log is rewritten by the second one, and still right
    header, records = read_log(folder / "twice.jsonl")
    assert header["layers"] == list(out["tape_second"]) and len(records) == 4
    for rec in records:
        assert all(math.isfinite(v) and v > 0 for v in rec["grad_norm"].values())
    for name, norm in out["tape_second"].items():
        assert close(records[0]["grad_norm"][name], norm), (name, records[0]["grad_norm"][name], norm)
    # a new monitor on the model that already trained (and was monitored) before
    header, records = read_log(folder / "third.jsonl")
    assert [r["step"] for r in records] == [0, 2, 4, 6]
    for name, norm in out["tape_third"].items():
        assert close(records[0]["grad_norm"][name], norm), (name, records[0]["grad_norm"][name], norm)


def test_report_on_exploding_and_healthy_logs(monitored, tmp_path):
    """``klint report``: KL706/KL701 on the SGD lr=10 log, nothing on the healthy one; --plot; JSON."""
    folder, _ = monitored
    r = klint("report", folder / "explode.jsonl", "--output-format", "json", "--plot", tmp_path / "report.png",
              cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert {"KL701", "KL706"} <= {f["code"] for f in doc["findings"]}
    assert all(f["view"] == "runtime" for f in doc["findings"])
    assert doc["series"]["data"] == "the monitored training run"
    assert any(rec["nan"] for rec in doc["series"]["records"])
    assert_png(tmp_path / "report.png")

    r = klint("report", folder / "const.jsonl", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert codes(r.stdout) == [] and r.stdout.startswith("No runtime problems in 6 steps")

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "header"}\nnot json\n', encoding="utf-8")
    r = klint("report", bad, cwd=tmp_path)
    assert r.returncode == 2 and "not a JSON line" in r.stderr and "Traceback" not in r.stderr


def test_monitor_mixed_precision_grad_norms_are_unscaled(monitored):
    folder, out = monitored
    assert out["mixed_optimizer"] == "LossScaleOptimizer"
    _, records = read_log(folder / "mixed.jsonl")
    for name, norm in out["mixed_tape"].items():
        assert close(records[0]["grad_norm"][name], norm, rel=1e-2), (name, records[0]["grad_norm"][name], norm)


def test_monitor_flags_only_the_spiking_batch(monitored):
    _, out = monitored
    assert out["spikes"] == [6]


def test_monitor_update_ratio_of_an_off_grid_record_is_never_stale(monitored):
    """Update ratios are measured on the ``every`` grid; a spike record between grid points has
    gradient norms and the loss, and no update ratio rather than one spanning several steps."""
    folder, out = monitored
    _, records = read_log(folder / "spike.jsonl")
    at6 = next(r for r in records if r["step"] == 6)
    assert at6["spike"] is True
    assert out["spike_layer"] in at6["grad_norm"]
    assert out["spike_layer"] not in at6["update_ratio"]
    on_grid = [r for r in records if r["step"] % 4 == 0 and r["update_ratio"]]
    assert on_grid, records


def test_monitor_records_the_learning_rate_applied_at_the_step(monitored):
    folder, _ = monitored
    _, records = read_log(folder / "sched.jsonl")
    assert records[0]["step"] == 0
    assert records[0]["lr"] == pytest.approx(0.01, rel=1e-6)  # ExponentialDecay(0.01, ...) at iteration 0


def test_this_process_never_imported_tensorflow():
    assert not {"tensorflow", "keras"} & {m.split(".")[0] for m in sys.modules}

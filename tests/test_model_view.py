"""The model view (``--graph``), end to end through the command line.

Every script here hides its problem from the source view (values from
argparse defaults, a JSON file read at run time, ``getattr(keras.layers,
name)``, layers built by helpers called in loops), so a finding proves that
the model view built the real model: it says ``"view": "model"``, it sits on
the source line that constructed the layer, ``--fix --graph`` edits that
line, and a second run is clean.

klint runs in this process (``klint.cli.main``); its warm capture server is
shared by all the runs of this module and stopped at the end. The test
process itself never imports TensorFlow or Keras: saved models are built in
a separate interpreter.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from klint.cli.main import main
from klint.model import runner

# Runs TensorFlow/Keras in subprocesses: deselected by `pytest -m "not tensorflow"`.
pytestmark = pytest.mark.tensorflow

# The model view's mechanics are tested through the four mission rules; the other rules have
# their own tests, and would also (rightly) report on some of these scripts.
MISSION = 'select = ["KL101", "KL201", "KL301", "KL401"]\n'
EMPTY_CONFIG = "[tool.klint]\n" + MISSION
CFG_JSON = json.dumps({"act": "relu", "batch_size": 4, "learning_rate": 0.05})


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module", autouse=True)
def _one_capture_server():
    """Files are checked in this process, so that every run of this module uses one warm capture
    server (a forked worker would start its own, importing TensorFlow each time); the server is
    stopped at the end. The forked workers' path with the model view has its own test."""
    import klint.cli.workers

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(klint.cli.workers, "ISOLATE", False)
        yield
    runner.shutdown()


def klint(cwd: Path, *argv) -> tuple[int, str, str]:
    """Run ``klint`` in-process from ``cwd``: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main([str(a) for a in argv])
            except SystemExit as e:  # argparse errors
                rc = e.code if isinstance(e.code, int) else 2
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


def klint_json(cwd: Path, *argv) -> tuple[int, list, str]:
    rc, out, err = klint(cwd, "check", "--output-format", "json", *argv)
    return rc, json.loads(out), err


def write_project(root: Path, files: dict, config: str = EMPTY_CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(config, encoding="utf-8")
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n") if name.endswith(".py") else text, encoding="utf-8")
    return root


def line_of(text: str, snippet: str) -> int:
    """The 1-based line holding ``snippet`` (which must occur exactly once) in a script as written."""
    text = textwrap.dedent(text).lstrip("\n")
    rows = [i for i, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(rows) == 1, (snippet, rows)
    return rows[0]


def of(findings: list, filename: str, code: str | None = None) -> list:
    return [f for f in findings if f["filename"] == filename and (code is None or f["code"] == code)]


def one(findings: list, filename: str, code: str) -> dict:
    found = of(findings, filename, code)
    assert len(found) == 1, (filename, code, findings)
    return found[0]


def changed_lines(before: str, after: str) -> list[int]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), (before, after)
    return [i for i, (x, y) in enumerate(zip(a, b), 1) if x != y]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


# ------------------------------------------------------------------ scripts

HELPERS_LOOP = '''
import argparse

import keras
import numpy as np


def block(x, units, act):
    x = keras.layers.Dense(units, activation=act)(x)
    return keras.layers.Dropout(0.1)(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--act", default="relu")
    args = parser.parse_args()
    inputs = keras.Input((8,))
    x = inputs
    for units in (16, 8, 8):
        x = block(x, units, args.act)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 8)), np.zeros((4, 1)), batch_size=4, epochs=1)


if __name__ == "__main__":
    main()
'''

JSON_CONFIG = '''
import json

import keras
import numpy as np

with open("cfg.json") as f:
    CFG = json.load(f)

model = keras.Sequential([
    keras.Input((8,)),
    keras.layers.Dense(8),
    keras.layers.BatchNormalization(),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=CFG["learning_rate"]), loss="mse")
model.fit(np.zeros((8, 8)), np.zeros((8, 1)), batch_size=CFG["batch_size"], epochs=1)
'''

APP_TRAINED = '''
import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=4)
args = parser.parse_args()
base = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=2)
base.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
base.fit(np.zeros((4, 32, 32, 3)), np.zeros((4,)), batch_size=args.batch_size, epochs=1)
'''

APP_FROZEN = '''
import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=4)
args = parser.parse_args()
base = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=2)
base.trainable = False
model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(np.zeros((4, 32, 32, 3)), np.zeros((4,)), batch_size=args.batch_size, epochs=1)
'''

NESTED = '''
import json

import keras
import numpy as np

layers = keras.layers
with open("cfg.json") as f:
    CFG = json.load(f)


def inner(width):
    return keras.Sequential([
        keras.Input((8,)),
        layers.Dense(width),
        layers.Activation(CFG["act"]),
    ], name="inner")


inputs = keras.Input((8,))
hidden = inner(16)(inputs)
model = keras.Model(inputs, layers.Dense(1)(hidden))
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((4, 8)), np.zeros((4, 1)), batch_size=4)
'''

SUBCLASSED = '''
import argparse

import keras
import numpy as np


class Net(keras.Model):
    def __init__(self, act):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation=act)
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.hidden(x))


parser = argparse.ArgumentParser()
parser.add_argument("--activation", default="relu")
args = parser.parse_args()
model = Net(args.activation)
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((4, 8)), np.zeros((4, 1)), batch_size=4)
'''

RNN_COMPILED = '''
import keras
import numpy as np

KIND = "LSTM"
rnn = getattr(keras.layers, KIND)
model = keras.Sequential([keras.Input((5, 3)), rnn(8), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
model.fit(np.zeros((4, 5, 3)), np.zeros((4, 1)), batch_size=4)
'''

CUSTOM_LOOP = '''
import keras
import numpy as np
import tensorflow as tf

KIND = "LSTM"
rnn = getattr(keras.layers, KIND)
model = keras.Sequential([keras.Input((5, 3)), rnn(8), keras.layers.Dense(1)])
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
x = np.zeros((4, 5, 3), "float32")
y = np.zeros((4, 1), "float32")
for step in range(3):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
'''

IMPORT_TIME = '''
import os

import keras
import numpy as np

ACT = "".join(["re", "lu"])
MARK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trained.marker")  # outside the project


class Spy(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        open(MARK, "w").write("train begin")

    def on_train_batch_begin(self, batch, logs=None):
        open(MARK, "w").write("a training step")


model = keras.Sequential([
    keras.Input((4,)),
    keras.layers.Dense(8, activation=ACT),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((8, 4)), np.zeros((8, 1)), batch_size=4, epochs=2, callbacks=[Spy()])
'''

TRAIN_ON_BATCH = '''
import json

import keras
import numpy as np

with open("cfg.json") as f:
    CFG = json.load(f)
n = CFG["batch_size"]
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization()])
model.compile(optimizer="adam", loss="mse")
for step in range(3):
    model.train_on_batch(np.zeros((n, 4)), np.zeros((n, 8)))
'''

MULTILINE = '''
import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--act", default="relu")
args = parser.parse_args()


def block(x, units):
    x = keras.layers.Dense(
        units,
        activation=args.act,
    )(x)
    return x


inputs = keras.Input((4,))
x = inputs
for _ in range(2):
    x = block(x, 8)
model = keras.Model(inputs, keras.layers.Dense(1)(x))
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((4, 4)), np.zeros((4, 1)), batch_size=4)
'''

SCRIPTS = {
    "helpers_loop.py": HELPERS_LOOP,
    "json_config.py": JSON_CONFIG,
    "app_trained.py": APP_TRAINED,
    "app_frozen.py": APP_FROZEN,
    "nested.py": NESTED,
    "subclassed.py": SUBCLASSED,
    "rnn_compiled.py": RNN_COMPILED,
    "custom_loop.py": CUSTOM_LOOP,
    "import_time.py": IMPORT_TIME,
    "train_on_batch.py": TRAIN_ON_BATCH,
    "multiline.py": MULTILINE,
}
# the scripts whose copies are fixed with --fix --graph
FIXED = ["helpers_loop.py", "json_config.py", "app_trained.py", "nested.py", "subclassed.py", "rnn_compiled.py",
         "custom_loop.py", "multiline.py"]


def text(name: str) -> str:
    return textwrap.dedent(SCRIPTS[name]).lstrip("\n")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """All the scripts, checked in one ``--graph`` run (and once by the source view alone). This run
    checks them in forked workers, as the command line does, each worker with its own capture server."""
    import klint.cli.workers

    root = write_project(tmp_path_factory.mktemp("batch") / "project", {**SCRIPTS, "cfg.json": CFG_JSON})
    names = list(SCRIPTS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(klint.cli.workers, "ISOLATE", hasattr(os, "fork"))
        rc, findings, err = klint_json(root, "--graph", "--no-cache", *names)
    _, src_findings, _ = klint_json(root, *names)
    return {"root": root, "rc": rc, "findings": findings, "err": err, "source": src_findings}


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """Copies of the scripts, fixed with ``--fix --unsafe-fixes --graph``, then checked again."""
    root = write_project(tmp_path_factory.mktemp("fix") / "project",
                         {**{n: SCRIPTS[n] for n in FIXED}, "cfg.json": CFG_JSON})
    rc, out, err = klint(root, "check", "--graph", "--no-cache", "--fix", "--unsafe-fixes", *FIXED)
    after = {n: (root / n).read_text(encoding="utf-8") for n in FIXED}
    _, again, err2 = klint_json(root, "--graph", "--no-cache", *FIXED)
    return {"root": root, "rc": rc, "out": out, "err": err, "after": after, "again": again, "err2": err2}


# ------------------------------------------------------- the batch as a whole


def test_batch_run_reports_model_findings_without_warnings(batch):
    assert batch["rc"] == 1
    assert "warning" not in batch["err"], batch["err"]
    assert not (batch["root"] / ".klint_cache").exists()  # --no-cache writes nothing


def test_the_source_view_alone_sees_none_of_the_model_findings(batch):
    model_findings = [f for f in batch["findings"] if f["view"] == "model"]
    assert len(model_findings) >= 8
    seen_by_source = {(f["filename"], f["location"]["row"], f["code"]) for f in batch["source"]}
    for f in model_findings:
        assert (f["filename"], f["location"]["row"], f["code"]) not in seen_by_source, f


# ------------------------------------------ 1. helper blocks built in a loop


def test_helper_blocks_in_a_loop_with_an_argparse_activation(batch):
    f = one(batch["findings"], "helpers_loop.py", "KL101")  # three layers, one call: one finding
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(text("helpers_loop.py"), "keras.layers.Dense(units, activation=act)")
    assert f["fix"]["applicability"] == "safe"
    assert [e["content"] for e in f["fix"]["edits"]] == [', kernel_initializer="he_normal"']


def test_fix_adds_the_initializer_at_the_helper_line(fixed):
    before, after = text("helpers_loop.py"), fixed["after"]["helpers_loop.py"]
    row = line_of(before, "keras.layers.Dense(units, activation=act)")
    assert changed_lines(before, after) == [row]
    assert after.splitlines()[row - 1] == (
        '    x = keras.layers.Dense(units, activation=act, kernel_initializer="he_normal")(x)')
    assert of(fixed["again"], "helpers_loop.py") == []


# --------------------------------------------------- 2. a JSON config file


def test_json_config_batch_size_and_learning_rate(batch):
    src = text("json_config.py")
    bn = one(batch["findings"], "json_config.py", "KL201")
    assert bn["view"] == "model"
    assert bn["location"]["row"] == line_of(src, "keras.layers.BatchNormalization()")
    assert "batch size 4" in bn["message"]
    assert bn["fix"]["applicability"] == "safe"
    lr = one(batch["findings"], "json_config.py", "KL401")
    assert lr["view"] == "model"
    assert lr["location"]["row"] == line_of(src, "keras.optimizers.Adam(")
    assert "0.05" in lr["message"]


def test_json_config_fixes_land_on_the_constructing_lines(fixed):
    before, after = text("json_config.py"), fixed["after"]["json_config.py"]
    bn, adam = line_of(before, "BatchNormalization()"), line_of(before, "keras.optimizers.Adam(")
    assert changed_lines(before, after) == [bn, adam]
    lines = after.splitlines()
    assert lines[bn - 1] == "    keras.layers.BatchNormalization(momentum=0.9),"
    assert "ExponentialDecay(initial_learning_rate=CFG[\"learning_rate\"]" in lines[adam - 1]
    assert of(fixed["again"], "json_config.py") == []


# ------------------------------------------------- 3. keras.applications


def test_application_trained_whole_is_reported_at_its_call_without_a_fix(batch):
    f = one(batch["findings"], "app_trained.py", "KL201")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(text("app_trained.py"), "keras.applications.MobileNetV2(")
    assert f["fix"] is None
    assert "batch size 4" in f["message"]


def test_frozen_application_is_not_reported(batch):
    assert of(batch["findings"], "app_frozen.py") == []


def test_fix_leaves_the_application_alone(fixed):
    assert fixed["after"]["app_trained.py"] == text("app_trained.py")
    f = one(fixed["again"], "app_trained.py", "KL201")
    assert f["view"] == "model" and f["fix"] is None


# ---------------------------------------------------------- 4. nested model


def test_nested_sequential_dense_followed_by_activation(batch):
    f = one(batch["findings"], "nested.py", "KL101")
    src = text("nested.py")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(src, "layers.Dense(width)")
    assert f"line {line_of(src, 'layers.Activation(')}" in f["message"]


def test_nested_fix(fixed):
    before, after = text("nested.py"), fixed["after"]["nested.py"]
    row = line_of(before, "layers.Dense(width)")
    assert changed_lines(before, after) == [row]
    assert after.splitlines()[row - 1] == '        layers.Dense(width, kernel_initializer="he_normal"),'
    assert of(fixed["again"], "nested.py") == []


# ------------------------------------------------------ 5. subclassed model


def test_subclassed_model_layers_from_init(batch):
    f = one(batch["findings"], "subclassed.py", "KL101")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(text("subclassed.py"), "self.hidden = keras.layers.Dense(")
    assert f["fix"]["applicability"] == "safe"


def test_subclassed_fix(fixed):
    before, after = text("subclassed.py"), fixed["after"]["subclassed.py"]
    row = line_of(before, "self.hidden = keras.layers.Dense(")
    assert changed_lines(before, after) == [row]
    assert 'kernel_initializer="he_normal"' in after.splitlines()[row - 1]
    assert of(fixed["again"], "subclassed.py") == []


# ------------------------------------------------- 6. recurrent layers, KL301


def test_recurrent_layer_from_getattr_with_compile(batch):
    f = one(batch["findings"], "rnn_compiled.py", "KL301")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(text("rnn_compiled.py"), "keras.optimizers.Adam(")
    assert [e["content"] for e in f["fix"]["edits"]] == [", clipnorm=1.0"]


def test_recurrent_fix(fixed):
    before, after = text("rnn_compiled.py"), fixed["after"]["rnn_compiled.py"]
    row = line_of(before, "keras.optimizers.Adam(")
    assert changed_lines(before, after) == [row]
    assert "Adam(learning_rate=1e-3, clipnorm=1.0)" in after
    assert of(fixed["again"], "rnn_compiled.py") == []


def test_custom_gradient_tape_loop_without_clipping(batch, fixed):
    src = text("custom_loop.py")
    f = one(batch["findings"], "custom_loop.py", "KL301")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(src, "keras.optimizers.Adam(")
    assert "optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)" in fixed["after"]["custom_loop.py"]
    assert of(fixed["again"], "custom_loop.py") == []


# ----------------------------------------- 7. training at import time: no step


def test_import_time_training_runs_no_step(batch):
    root = batch["root"]
    assert not (root.parent / "trained.marker").exists()
    src = text("import_time.py")
    found = of(batch["findings"], "import_time.py", "KL101")
    by_row = {f["location"]["row"]: f["view"] for f in found}
    # the model view reached fit(): it saw the activation computed at run time ...
    assert by_row.pop(line_of(src, "activation=ACT")) == "model"
    # ... and the layer both views see is reported once, by the source view
    assert by_row == {line_of(src, 'activation="relu"'): "source"}


# ------------------------------------------------------------ train_on_batch


def test_train_on_batch_is_captured(batch):
    f = one(batch["findings"], "train_on_batch.py", "KL201")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(text("train_on_batch.py"), "BatchNormalization()")
    assert "batch size 4" in f["message"]


def test_train_on_batch_message_names_its_source(batch):
    f = one(batch["findings"], "train_on_batch.py", "KL201")
    assert "fit(batch_size" not in f["message"]


# ------------------------------------------------------- multi-line fix layout


def test_multiline_call_is_reported_at_its_first_line(batch):
    f = one(batch["findings"], "multiline.py", "KL101")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(text("multiline.py"), "x = keras.layers.Dense(")


def test_multiline_fix_keeps_the_layout(fixed):
    after = fixed["after"]["multiline.py"]
    assert ("    x = keras.layers.Dense(\n"
            "        units,\n"
            "        activation=args.act,\n"
            '        kernel_initializer="he_normal",\n'
            "    )(x)\n") in after


def test_second_run_after_fix_is_clean(fixed):
    assert fixed["rc"] == 1  # the application's finding has no fix
    assert "warning" not in fixed["err"] + fixed["err2"]
    left = [(f["filename"], f["code"]) for f in fixed["again"] if f["filename"] != "custom_loop.py"]
    assert left == [("app_trained.py", "KL201")]


# -------------------------------------------------------- 8. failures


RAISE_EARLY = '''
import keras

SIZE = 4
raise ValueError("no data here")


def build():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
'''

RAISE_CLEAN = '''
import keras

raise RuntimeError("boom")
'''

HANG = '''
import os
import subprocess
import sys
import time

import keras

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
with open("../pids.txt", "w") as f:  # outside the project, which klint's runs only read
    f.write(f"{os.getpid()} {child.pid}")
time.sleep(1000)
'''

EXITS = '''
import sys

import keras

sys.exit(3)
'''


def test_script_raising_before_any_model(tmp_path):
    root = write_project(tmp_path, {"raise_early.py": RAISE_EARLY})
    rc, out, err = klint(root, "check", "--graph", "--no-cache", "raise_early.py")
    row = line_of(text_of(root, "raise_early.py"), "raise ValueError")
    assert f"raise_early.py:{row}:1: warning: model view: the script raised ValueError: no data here" in err
    assert f"raise_early.py:{row}" in err.split("no data here", 1)[1]  # the line is named
    assert "Traceback" not in out + err
    # the source view's finding of the same file is still reported, and sets the exit code
    dense = line_of(text_of(root, "raise_early.py"), "keras.layers.Dense(")
    assert f"raise_early.py:{dense}:" in out and "KL101" in out
    assert rc == 1


def text_of(root: Path, name: str) -> str:
    return (root / name).read_text(encoding="utf-8")


def test_failures_warn_and_leave_the_exit_code_to_the_findings(tmp_path):
    root = write_project(tmp_path / "project", {"raise_clean.py": RAISE_CLEAN, "hang.py": HANG, "exits.py": EXITS})
    start = time.monotonic()
    rc, out, err = klint(root, "check", "--graph", "--no-cache", "--timeout", "5",
                         "raise_clean.py", "hang.py", "exits.py")
    elapsed = time.monotonic() - start
    assert rc == 0, (out, err)
    assert "Traceback" not in out + err
    assert "raise_clean.py:3:1: warning: model view: the script raised RuntimeError: boom" in err
    assert "exits.py:1:1: warning: model view: " in err and "sys.exit(3)" in err
    hang = [line for line in err.splitlines() if line.startswith("hang.py:")]
    assert len(hang) == 1 and "warning: model view:" in hang[0]
    assert "5 s" in hang[0] and "timeout" in hang[0]
    # killed at the timeout, long before the script's sleep would end
    assert elapsed < 45
    pids = [int(p) for p in (tmp_path / "pids.txt").read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if alive(p)], "the hanging script (or its child) is still running"


def test_missing_interpreter_is_a_warning(tmp_path):
    root = write_project(tmp_path, {"subclassed.py": SUBCLASSED})
    rc, out, err = klint(root, "check", "--graph", "--no-cache", "--python", str(tmp_path / "no" / "python"),
                         "subclassed.py")
    assert rc == 0 and "All checks passed" in out
    assert "subclassed.py:1:1: warning: model view: cannot start" in err


# -------------------------------------------------------- 9. saved models


EVIL_INIT = '''
import os

import keras

MARK = os.environ.get("KLINT_EVIL_MARK") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "evil")
open(MARK + ".imported", "w").close()


@keras.saving.register_keras_serializable(package="evil")
class Evil(keras.initializers.Initializer):
    def __call__(self, shape, dtype=None, **kwargs):
        open(MARK + ".called", "w").close()
        return keras.ops.zeros(shape, dtype=dtype)

    def get_config(self):
        return {}
'''

BUILD_SAVED = '''
import keras

import evil_init

model = keras.Sequential([
    keras.Input((4,)),
    keras.layers.Dense(8, activation="relu", kernel_initializer=evil_init.Evil()),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
model.save("model.keras")
with open("model.json", "w") as f:
    f.write(model.to_json())
'''


def test_saved_models_are_read_as_data(tmp_path):
    root = write_project(tmp_path, {"evil_init.py": EVIL_INIT, "build_saved.py": BUILD_SAVED})
    env = dict(os.environ, KLINT_EVIL_MARK=str(tmp_path / "build"), CUDA_VISIBLE_DEVICES="-1",
               TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "build_saved.py"], cwd=root, env=env, capture_output=True, text=True,
                       timeout=180, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "build.called").exists()  # the initializer runs whenever a model is built with it
    with zipfile.ZipFile(root / "model.keras") as z:
        assert "evil>Evil" in z.read("config.json").decode()
    assert "Evil" in (root / "model.json").read_text()
    (root / "broken.keras").write_bytes(os.urandom(2048))

    rc, findings, err = klint_json(root, "--graph", "model.keras", "model.json", "broken.keras")
    assert rc == 1
    for name in ("model.keras", "model.json"):
        kl101 = of(findings, name, "KL101")
        assert len(kl101) == 1 and kl101[0]["view"] == "model" and kl101[0]["fix"] is None
        assert "dense_1" in kl101[0]["message"]  # the Dense with the default initializer, by name
        kl401 = one(findings, name, "KL401")
        assert kl401["view"] == "model"
    broken = one(findings, "broken.keras", "KL002")
    assert "not a .keras archive" in broken["message"]
    assert "Traceback" not in err
    markers = sorted(p.name for p in tmp_path.rglob("evil.*"))
    assert markers == [], "klint ran code named by the saved model"

    rc, out, err = klint(root, "check", "broken.keras")
    assert rc == 1
    assert "broken.keras:1:1: KL002 cannot read the saved model: not a .keras archive" in out
    assert "Traceback" not in out + err


# -------------------------------------------------------------- 10. factories


FACTORY_ONLY = '''
import keras

ACT = "".join(["re", "lu"])


def build_model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation=ACT), keras.layers.Dense(1)])
'''

MYMOD = '''
import keras

ACT = "".join(["re", "lu"])


def make():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation=ACT), keras.layers.Dense(1)])
'''

NO_MODEL = '''
import keras

print("nothing to build", keras.__name__)
'''


def test_uncalled_build_model_is_captured(tmp_path):
    root = write_project(tmp_path, {"factory_only.py": FACTORY_ONLY})
    rc, findings, err = klint_json(root, "--graph", "--no-cache", "factory_only.py")
    assert "warning" not in err
    f = one(findings, "factory_only.py", "KL101")
    assert f["view"] == "model"
    assert f["location"]["row"] == line_of(FACTORY_ONLY, "keras.layers.Dense(8")
    assert f["fix"]["applicability"] == "safe"
    assert rc == 1


@pytest.fixture(scope="module")
def configured_factory(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("factories"),
                         {"mymod.py": MYMOD, "factory_only.py": FACTORY_ONLY, "no_model.py": NO_MODEL},
                         config='[tool.klint]\nmodel-factories = ["mymod:make"]\n' + MISSION)
    rc, findings, err = klint_json(root, "--graph", "--no-cache", "mymod.py", "factory_only.py", "no_model.py")
    return rc, findings, err


def test_configured_factory_of_a_module_that_is_not_a_script(configured_factory):
    rc, findings, err = configured_factory
    assert rc == 1
    found = of(findings, "mymod.py", "KL101")
    assert found and all(f["view"] == "model" for f in found)
    assert {f["location"]["row"] for f in found} == {line_of(MYMOD, "keras.layers.Dense(8")}
    assert "mymod.py:" not in err


def test_configured_factory_findings_are_reported_once(configured_factory):
    _, findings, _ = configured_factory
    keys = [(f["filename"], f["location"]["row"], f["location"]["column"], f["code"]) for f in findings]
    assert len(keys) == len(set(keys)), keys


def test_script_build_model_still_used_with_configured_factories(configured_factory):
    _, findings, _ = configured_factory
    f = one(findings, "factory_only.py", "KL101")
    assert f["location"]["row"] == line_of(FACTORY_ONLY, "keras.layers.Dense(8")


def test_configured_factory_in_a_package(tmp_path):
    root = write_project(tmp_path, {"pkg/__init__.py": "", "pkg/models.py": MYMOD},
                         config='[tool.klint]\nmodel-factories = ["pkg.models:make"]\n' + MISSION)
    _, findings, err = klint_json(root, "--graph", "--no-cache", "pkg/models.py")
    assert "warning" not in err, err
    f = one(findings, os.path.join("pkg", "models.py"), "KL101")
    assert f["view"] == "model"


# ------------------------------------------------------------------ 11. cache


CACHED = '''
import argparse

import keras
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--act", default="relu")
args = parser.parse_args()
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation=args.act), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((4, 4)), np.zeros((4, 1)), batch_size=4)
'''


def test_cache_by_content_hash(tmp_path):
    root = write_project(tmp_path, {"cached.py": CACHED})
    cache = root / ".klint_cache" / "model"
    script = root / "cached.py"
    original = script.read_text()
    rc, findings, _ = klint_json(root, "--graph", "cached.py")
    assert rc == 1 and one(findings, "cached.py", "KL101")["view"] == "model"
    snaps = sorted(cache.glob("*.json"))
    assert len(snaps) == 1
    snap = json.loads(snaps[0].read_text())["snapshot"]
    assert snap["status"] == "trained" and snap["models"]

    script.write_text(original.replace("activation=args.act)", 'activation=args.act, kernel_initializer="he_normal")'))
    rc, findings, _ = klint_json(root, "--graph", "cached.py")
    assert (rc, findings) == (0, [])
    assert len(list(cache.glob("*.json"))) == 2

    script.write_text(original)  # back to the first text: its snapshot is reused
    rc, findings, _ = klint_json(root, "--graph", "cached.py")
    assert rc == 1 and one(findings, "cached.py", "KL101")["view"] == "model"
    assert len(list(cache.glob("*.json"))) == 2


def test_no_cache_writes_nothing(tmp_path):
    root = write_project(tmp_path, {"cached.py": CACHED})
    rc, findings, _ = klint_json(root, "--graph", "--no-cache", "cached.py")
    assert rc == 1 and one(findings, "cached.py", "KL101")["view"] == "model"
    assert not (root / ".klint_cache").exists()


BLOCKS = '''
import keras


def block(x, act):
    return keras.layers.Dense(8, activation=act)(x)
'''

USES_BLOCKS = '''
import keras
import numpy as np

from blocks import block

ACT = "".join(["re", "lu"])
inputs = keras.Input((4,))
model = keras.Model(inputs, keras.layers.Dense(1)(block(inputs, ACT)))
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((4, 4)), np.zeros((4, 1)), batch_size=4)
'''


def test_cache_sees_edits_of_imported_project_modules(tmp_path):
    root = write_project(tmp_path, {"blocks.py": BLOCKS, "train.py": USES_BLOCKS})
    _, findings, _ = klint_json(root, "--graph", "train.py")
    f = one(findings, "blocks.py", "KL101")  # a layer built in another file: reported there, no fix
    assert f["view"] == "model" and f["fix"] is None
    assert f["location"]["row"] == line_of(BLOCKS, "keras.layers.Dense(")
    blocks = root / "blocks.py"
    blocks.write_text(blocks.read_text().replace("activation=act)", 'activation=act, kernel_initializer="he_normal")'))
    _, findings, _ = klint_json(root, "--graph", "train.py")
    assert findings == []


# ------------------------------------------------------ 12. JSON and SARIF


def test_json_marks_each_finding_with_its_view(batch):
    views = {f["view"] for f in batch["findings"]}
    assert views == {"model", "source"}
    src = text("import_time.py")
    assert one([f for f in batch["findings"] if f["view"] == "source"], "import_time.py", "KL101")[
        "location"]["row"] == line_of(src, 'activation="relu"')


def test_sarif_marks_model_findings(batch):
    rc, out, _ = klint(batch["root"], "check", "--graph", "--no-cache", "--output-format", "sarif",
                         "subclassed.py", "import_time.py")
    assert rc == 1
    results = json.loads(out)["runs"][0]["results"]
    got = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                  r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"],
                  r["properties"]["view"]) for r in results)
    assert got == sorted([
        ("subclassed.py", line_of(text("subclassed.py"), "self.hidden = keras.layers.Dense("), "KL101", "model"),
        ("import_time.py", line_of(text("import_time.py"), "activation=ACT"), "KL101", "model"),
        ("import_time.py", line_of(text("import_time.py"), 'activation="relu"'), "KL101", "source"),
    ])
    model_result = next(r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        == "subclassed.py")
    assert model_result["fixes"]  # a model finding mapped to its source call carries the fix
    assert not (batch["root"].parent / "trained.marker").exists()


# --------------------------------------------------------------- last of all


def test_this_process_never_imported_tensorflow():
    assert not {"tensorflow", "keras", "tf_keras"} & {m.split(".")[0] for m in sys.modules}


# ------------------------------------------- the two views agree before a fix is written

DENSE_THEN_ACTIVATION = '''
import numpy as np
import keras
from keras import layers

ACT = getattr(layers, "Activation")  # the source view cannot see this activation: the model view judges
model = keras.Sequential()
model.add(keras.Input((20,)))
model.add(layers.Dense(64))
model.add(ACT("relu"))
model.add(layers.Dense(64, kernel_initializer="he_normal"))
model.add(ACT("relu"))
model.add(layers.Dense(1, activation="sigmoid"))
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(np.zeros((64, 20)), np.zeros((64, 1)), batch_size=32, epochs=1)
'''


def test_graph_fix_of_a_dense_followed_by_an_activation_converges(tmp_path):
    """Keras rebuilds a Sequential's graph at every ``add``: those intermediate graphs, where the last
    Dense is an output, are not models of the script, so the model view does not judge the Dense
    "linear" and undo the fix of the layer's He initialization."""
    root = write_project(tmp_path, {"seq.py": DENSE_THEN_ACTIVATION})
    src = text_of(root, "seq.py")
    rc, found, err = klint_json(root, "--graph", "--no-cache", "seq.py")
    assert [(f["code"], f["view"], f["location"]["row"]) for f in found] == [
        ("KL101", "model", line_of(src, "layers.Dense(64))"))]
    rc, out, err = klint(root, "check", "--graph", "--no-cache", "--fix", "--unsafe-fixes", "seq.py")
    assert "did not converge" not in out + err and "withdrawn" not in out + err
    after = text_of(root, "seq.py")
    assert after.count('kernel_initializer="he_normal"') == 2 and "glorot" not in after
    rc, found, _ = klint_json(root, "--graph", "--no-cache", "seq.py")
    assert found == []


# --------------------------- KL401 in the model view knows what the source view knows

SCHEDULED_FIT_IN_A_FUNCTION = '''
import keras
import numpy as np

net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(1)])
net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.3), loss="mse")


def train(x, y):
    step_decay = keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=2)
    return net.fit(x, y, batch_size=16, epochs=30, callbacks=[step_decay])
'''

UNSCHEDULED_FIT_IN_A_FUNCTION = SCHEDULED_FIT_IN_A_FUNCTION.replace(", callbacks=[step_decay]", "")

OPTIMIZED_INPUT = '''
import keras
import numpy as np
import tensorflow as tf

encoder = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="tanh")])
encoder.trainable = False
probe = tf.Variable(np.zeros((1, 8), "float32"))
adam = keras.optimizers.Adam(learning_rate=0.05)
for _ in range(3):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(encoder(probe))
    adam.apply_gradients([(tape.gradient(loss, probe), probe)])
'''


def test_model_view_kl401_sees_the_schedule_of_a_fit_the_run_never_reached(tmp_path):
    """The run stops at no ``fit`` (it sits in an uncalled function), so the model view has only the
    compiled optimizer; the source view's fits are the ones that may train it, and their schedule
    exempts it. Without the schedule, both views report the learning rate."""
    root = write_project(tmp_path, {"sched.py": SCHEDULED_FIT_IN_A_FUNCTION,
                                    "plain.py": UNSCHEDULED_FIT_IN_A_FUNCTION})
    rc, found, err = klint_json(root, "--graph", "--no-cache", "sched.py", "plain.py")
    assert of(found, "sched.py") == []
    assert {f["code"] for f in of(found, "plain.py")} == {"KL401"}


def test_model_view_kl401_leaves_an_optimizer_of_an_input_alone(tmp_path):
    """An optimizer stepping a variable that is an input (a probe image, an adversarial example) is
    not judged by weight-space limits, in the model view as in the source view."""
    root = write_project(tmp_path, {"probe_input.py": OPTIMIZED_INPUT})
    rc, found, err = klint_json(root, "--graph", "--no-cache", "probe_input.py")
    assert of(found, "probe_input.py", "KL401") == []

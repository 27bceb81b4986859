"""Source mode must never import TensorFlow or Keras (or their sibling packages).

Each check runs in a fresh interpreter, so modules imported by the test
process itself cannot hide or fake a result. TensorFlow and Keras being
installed makes the check meaningful: an accidental import would succeed.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("tensorflow", "keras", "tf_keras", "keras_core")

SRC = ("import tensorflow as tf\nfrom tensorflow import keras\n\n"
       "model = keras.Sequential([keras.layers.LSTM(8), keras.layers.BatchNormalization(),\n"
       "                          keras.layers.Dense(16, activation='relu'), keras.layers.Dense(1)])\n"
       "model.compile(optimizer=keras.optimizers.Adam(0.05), loss='mse')\n"
       "model.fit(x, y, batch_size=4)\n")

PROGRAM = r"""
import json, sys
from klint.cli.main import main
argv = json.loads(sys.argv[1])
rc = main(argv)
top = sorted({m.split(".")[0] for m in sys.modules})
sys.stderr.write("\nRESULT " + json.dumps({"rc": rc, "modules": top}) + "\n")
"""


def _run(argv, cwd):
    r = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(argv)], cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    line = [x for x in r.stderr.splitlines() if x.startswith("RESULT ")]
    assert line, r.stderr
    return r, json.loads(line[-1][len("RESULT "):])


@pytest.mark.parametrize("argv", [
    ["check", "--output-format", "json", "m.py"],
    ["check", "--fix", "--unsafe-fixes", "m.py"],
    ["check", "--output-format", "sarif", "."],
    ["rule", "KL101"],
    ["rules"],
], ids=["check", "fix", "sarif-dir", "rule", "rules"])
def test_source_mode_imports_neither_tensorflow_nor_keras(project, write, argv):
    write(project / "m.py", SRC)
    r, res = _run(argv, project)
    if argv[0] == "check" and "--fix" not in argv:
        assert res["rc"] == 1  # the engine really ran and found the problems
        assert "KL101" in r.stdout and "KL201" in r.stdout and "KL301" in r.stdout and "KL401" in r.stdout
    else:
        assert res["rc"] == 0
    assert "klint" in res["modules"] and "libcst" in res["modules"]
    leaked = [m for m in res["modules"] if m in FORBIDDEN]
    assert leaked == []


def test_importtime_shows_no_tensorflow_or_keras(project, write):
    write(project / "m.py", SRC)
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "klint", "check", "m.py"], cwd=project,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "KL101" in r.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert "klint.engine.lint" in imported  # the import log is really there
    tops = {m.split(".")[0] for m in imported}
    assert not tops & set(FORBIDDEN)


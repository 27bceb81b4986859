"""The resolver: every spelling of a Keras object maps to one canonical name; the traps do not.

``klint.source.resolve(source, expr)`` evaluates ``expr`` in the module scope
of ``source``; ``klint.source.names.canonical`` normalizes a dotted path.
Value resolution (constants, defaults, dicts, activations) is checked through
the real rules and the JSON output.
"""
from __future__ import annotations

import libcst
import pytest

from klint.source import analyze, resolve
from klint.knowledge.names import canonical, is_keras

# ------------------------------------------------------------------ spellings

SPELLINGS = [
    ("import keras", "keras.layers.Dense", "keras.layers.Dense"),
    ("import tensorflow", "tensorflow.keras.layers.Dense", "keras.layers.Dense"),
    ("import tensorflow as tf", "tf.keras.layers.Dense", "keras.layers.Dense"),
    ("import tf_keras", "tf_keras.layers.Dense", "keras.layers.Dense"),
    ("import keras_core", "keras_core.layers.Dense", "keras.layers.Dense"),
    ("from tensorflow.keras import layers as L", "L.Dense", "keras.layers.Dense"),
    ("from keras.layers import Dense", "Dense", "keras.layers.Dense"),
    ("from tensorflow.keras.layers import Dense as D", "D", "keras.layers.Dense"),
    ("import keras as K", "K.layers.Dense", "keras.layers.Dense"),
    ("from tensorflow import keras", "keras.layers.Dense", "keras.layers.Dense"),
    ("import tensorflow.keras as keras", "keras.layers.Dense", "keras.layers.Dense"),
    ("import tensorflow.keras.layers as L", "L.Dense", "keras.layers.Dense"),
    ("import keras.layers", "keras.layers.Dense", "keras.layers.Dense"),
    ("from tf_keras import layers", "layers.Dense", "keras.layers.Dense"),
    ("import tensorflow as tf\nlayers = tf.keras.layers", "layers.Dense", "keras.layers.Dense"),
    ("import tensorflow as tf\nkeras = tf.keras", "keras.layers.Dense", "keras.layers.Dense"),
    ("import keras\nk = keras\nL = k.layers", "L.Dense", "keras.layers.Dense"),
    ("from keras.layers import *", "Dense", "keras.layers.Dense"),
    ("from tensorflow.keras.layers import *", "Dense", "keras.layers.Dense"),
    ("import keras", "keras.src.layers.core.dense.Dense", "keras.layers.Dense"),
    ("from keras.src.layers import Dense", "Dense", "keras.layers.Dense"),
    ("from tensorflow.python.keras.layers import Dense", "Dense", "keras.layers.Dense"),
    ("import tensorflow as tf", "tf.compat.v1.keras.layers.Dense", "keras.layers.Dense"),
    ("import tensorflow", "tensorflow.keras.optimizers.legacy.Adam", "keras.optimizers.Adam"),
    ("import tensorflow as tf", "tf.keras.optimizers.experimental.AdamW", "keras.optimizers.AdamW"),
    ("import keras", "keras.models.Sequential", "keras.Sequential"),
    ("from keras.models import Sequential", "Sequential", "keras.Sequential"),
    ("from tensorflow.keras.models import Sequential", "Sequential", "keras.Sequential"),
    ("import tensorflow as tf", "tf.keras.models.Model", "keras.Model"),
    ("import tf_keras as keras", "keras.Sequential", "keras.Sequential"),
    ("import tensorflow as tf", "tf.keras.optimizers.schedules.ExponentialDecay",
     "keras.optimizers.schedules.ExponentialDecay"),
    ("import keras", "keras.src.optimizers.schedules.learning_rate_schedule.ExponentialDecay",
     "keras.optimizers.schedules.ExponentialDecay"),
    ("import keras", "keras.activations.relu", "keras.activations.relu"),
    ("import tensorflow as tf", "tf.keras.activations.relu", "keras.activations.relu"),
    ("try:\n    import tensorflow.keras as keras\nexcept ImportError:\n    import keras\n",
     "keras.layers.Dense", "keras.layers.Dense"),
]


@pytest.mark.parametrize("source, expr, expected", SPELLINGS, ids=[f"{s!r}:{e}" for s, e, _ in SPELLINGS])
def test_every_spelling_resolves_to_one_canonical_name(source, expr, expected):
    assert resolve(source + "\n", expr) == expected


def test_all_dense_spellings_agree():
    names = {resolve(s + "\n", e) for s, e, want in SPELLINGS if want == "keras.layers.Dense"}
    assert names == {"keras.layers.Dense"}


@pytest.mark.parametrize("raw, expected", [
    ("keras.layers.Dense", "keras.layers.Dense"),
    ("tensorflow.keras.layers.Dense", "keras.layers.Dense"),
    ("tf_keras.layers.Dense", "keras.layers.Dense"),
    ("keras_core.layers.Dense", "keras.layers.Dense"),
    ("keras.src.layers.core.dense.Dense", "keras.layers.Dense"),
    ("tensorflow.keras.optimizers.legacy.Adam", "keras.optimizers.Adam"),
    ("keras.models.Sequential", "keras.Sequential"),
    ("tf_keras.src.engine.sequential.Sequential", "keras.Sequential"),
    ("keras.layers.Input", "keras.Input"),
    ("tensorflow.keras.Input", "keras.Input"),
    ("keras.api._v2.keras.layers.Dense", "keras.layers.Dense"),
    ("keras.src.optimizers.schedules.learning_rate_schedule.ExponentialDecay",
     "keras.optimizers.schedules.ExponentialDecay"),
    ("tensorflow.keras", "keras"),
    # not Keras: returned unchanged
    ("torch.nn.ReLU", "torch.nn.ReLU"),
    ("tensorflow.nn.relu", "tensorflow.nn.relu"),
    ("kerasx.layers.Dense", "kerasx.layers.Dense"),
    ("keras_cv.layers.RandomFlip", "keras_cv.layers.RandomFlip"),
])
def test_canonical(raw, expected):
    assert canonical(raw) == expected


@pytest.mark.parametrize("raw, keras", [
    ("keras.layers.Dense", True), ("tensorflow.keras.layers", True), ("tf_keras", True),
    ("keras_core.ops", True), ("kerasx.layers", False), ("keras_cv.layers", False),
    ("tensorflow.nn.relu", False), ("torch.nn", False),
])
def test_is_keras(raw, keras):
    assert is_keras(raw) is keras


# ------------------------------------------------------------------ traps

TRAPS = [
    ("class Dense:\n    pass\n", "Dense"),
    ("from keras.layers import *\nclass Dense:\n    pass\n", "Dense"),
    ("from keras.layers import *\ndef Dense(*a):\n    pass\n", "Dense"),
    ("from keras.layers import *\nDense = None\n", "Dense"),
    ("from keras.layers import Dense\nDense = 3\n", "Dense"),
    ("from keras.layers import Dense\nfor Dense in []:\n    pass\n", "Dense"),
    ("from keras.layers import Dense\nclass Dense(Dense):\n    pass\n", "Dense"),
    ("import keras\nkeras = None\n", "keras.layers.Dense"),
    ("from .layers import Dense\n", "Dense"),
    ("from . import layers\n", "layers.Dense"),
    ("from ..keras import layers\n", "layers.Dense"),
    ("x = 1\n", "Dense"),
]


@pytest.mark.parametrize("source, expr", TRAPS, ids=[repr(s) for s, _ in TRAPS])
def test_traps_are_not_keras(source, expr):
    got = resolve(source, expr)
    assert got is None or not is_keras(got), got


def test_torch_is_not_keras():
    assert resolve("import torch.nn as nn\n", "nn.ReLU") == "torch.nn.ReLU"
    assert resolve("import torch\n", "torch.nn.ReLU") == "torch.nn.ReLU"


def test_later_import_shadows_wildcard():
    assert resolve("from keras.layers import *\nfrom mylib import Dense\n", "Dense") == "mylib.Dense"


def _layers(src: str) -> list[str]:
    return [layer.qual for layer in analyze(libcst.parse_module(src)).layers]


@pytest.mark.parametrize("src", [
    'def f(Dense):\n    return Dense(3, activation="relu")\n',
    'from keras.layers import Dense\n\ndef f(Dense):\n    return Dense(3, activation="relu")\n\nf(int)\n',
    'from keras.layers import *\n\nclass Dense:\n    def __init__(self, *a, **k):\n        pass\n\n'
    'Dense(3, activation="relu")\n',
    'import keras\nfrom .layers import Dense\nDense(3, activation="relu")\n',
    "import torch\nimport keras\nm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())\n",
    'from keras.layers import Dense\n\ndef g():\n    Dense = lambda *a, **k: None\n    return Dense(3, activation="relu")\n\ng()\n',
], ids=["param", "param-shadows-import", "user-class-after-wildcard", "relative", "torch", "local-lambda"])
def test_analysis_sees_no_keras_layer(src):
    assert _layers(src) == []


def test_analysis_sees_the_real_layer():
    # the control for the traps above: the same call on an imported Dense is a Keras layer
    assert _layers('from keras.layers import Dense\nDense(3, activation="relu")\n') == ["keras.layers.Dense"]
    assert _layers("import tensorflow as tf\nL = tf.keras.layers\nL.Conv2D(3, 3)\n") == ["keras.layers.Conv2D"]


# ------------------------------------------------------- values, through the rules

VALUE_CASES = [
    # (id, source, expected [(code, row)])
    ("constant-activation", 'import keras\nACT = "relu"\nkeras.layers.Dense(8, activation=ACT)\n', [("KL101", 3)]),
    ("param-default-activation",
     'import keras\n\ndef block(units, act="relu"):\n    return keras.layers.Dense(units, activation=act)\n\nblock(8)\n',
     [("KL101", 4)]),
    ("dict-config-activation", 'import keras\nconfig = {"activation": "relu"}\nkeras.layers.Dense(8, **config)\n',
     [("KL101", 3)]),
    ("keyword-activation", 'import keras\nkeras.layers.Dense(8, activation="relu")\n', [("KL101", 2)]),
    ("positional-activation", 'import keras\nkeras.layers.Dense(8, "relu")\n', [("KL101", 2)]),
    ("tf-nn-relu", "import tensorflow as tf\ntf.keras.layers.Dense(8, activation=tf.nn.relu)\n", [("KL101", 2)]),
    ("keras-activations-relu", "import keras\nkeras.layers.Dense(8, activation=keras.activations.relu)\n",
     [("KL101", 2)]),
    ("relu-layer-after", "import keras\ninputs = keras.Input((4,))\nx = keras.layers.Dense(8)(inputs)\n"
                         "x = keras.layers.ReLU()(x)\n", [("KL101", 3)]),
    ("relu-layer-in-sequential",
     "import keras\nmodel = keras.Sequential([\n    keras.Input((4,)),\n    keras.layers.Dense(8),\n"
     "    keras.layers.ReLU(),\n    keras.layers.Dense(1),\n])\n", [("KL101", 4)]),
    ("relu-output-layer-in-sequential",
     "import keras\nmodel = keras.Sequential([\n    keras.Input((4,)),\n    keras.layers.Dense(8),\n"
     "    keras.layers.ReLU(),\n])\n", []),
    ("tf-nn-relu-applied", "import tensorflow as tf\ninputs = tf.keras.Input((4,))\n"
                           "x = tf.nn.relu(tf.keras.layers.Dense(8)(inputs))\n", [("KL101", 3)]),
    ("tanh-is-fine", 'import keras\nkeras.layers.Dense(8, "tanh")\n', []),
    ("constant-lr", "import keras\nLR = 0.01\nopt = keras.optimizers.Adam(LR)\n", [("KL401", 3)]),
    ("constant-low-lr", "import keras\nLR = 0.001\nopt = keras.optimizers.Adam(LR)\n", []),
    ("subscript-lr", 'import keras\ncfg = {"learning_rate": 0.05}\n'
                     'opt = keras.optimizers.Adam(learning_rate=cfg["learning_rate"])\n', [("KL401", 3)]),
    ("dict-star-lr", 'import keras\nopt_cfg = {"learning_rate": 0.05}\nopt = keras.optimizers.Adam(**opt_cfg)\n',
     [("KL401", 3)]),
    ("param-default-lr", "import keras\n\ndef make(lr=0.05):\n    return keras.optimizers.Adam(learning_rate=lr)\n\n"
                         "opt = make()\n", [("KL401", 4)]),
    ("user-dense-after-wildcard", 'from keras.layers import *\n\nclass Dense:\n    def __init__(self, *a, **k):\n'
                                  '        pass\n\nDense(3, activation="relu")\n', []),
    ("parameter-named-dense", 'import keras\n\ndef f(Dense):\n    return Dense(3, activation="relu")\n', []),
    ("relative-import", 'import keras\nfrom .layers import Dense\nDense(3, activation="relu")\n', []),
    ("torch", "import torch\nimport keras\nm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())\n", []),
]


@pytest.mark.parametrize("src, expected", [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES])
def test_value_resolution_through_rules(project, cli, write, src, expected):
    write(project / "m.py", src)
    rc, findings, err = cli.json("m.py")
    assert err == ""
    assert sorted((f["code"], f["location"]["row"]) for f in findings) == expected
    assert rc == (1 if expected else 0)


def test_constant_lr_finding_points_at_the_optimizer_call(project, cli, write):
    write(project / "m.py", "import keras\nLR = 0.01\nopt = keras.optimizers.Adam(LR)\n")
    _, findings, _ = cli.json("m.py")
    (f,) = findings
    assert (f["location"]["row"], f["location"]["column"]) == (3, 7)
    assert (f["end_location"]["row"], f["end_location"]["column"]) == (3, 32)

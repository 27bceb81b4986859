"""Findings where the reason in the rule's *Why is this bad* holds, and silence where something neutralises it.

Each test is a small script of a pattern seen in real training code: a
stack reported once with every layer it covers, normalization, output
layers, residual and transformer blocks, block helpers called many times
or with different activations, feature extractors built from an
application, optimizers of images rather than weights, deliberate
structured initializations and factorizations.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from klint.engine.config import Config
from klint.engine.lint import Linter
from klint.source.interpreter import analyze

import libcst as cst


def lint(src: str, codes=None, unsafe: bool = True):
    rules = Config().selected_rules(select=codes) if codes else Config().selected_rules()
    linter = Linter(rules, {}, unsafe=unsafe)
    findings, problems = linter.lint_text("m.py", textwrap.dedent(src))
    assert problems == [], problems
    return findings


def codes_rows(findings, code):
    return [f.row for f in findings if f.code == code]


def fix(src: str, codes=("KL101",)):
    linter = Linter(Config().selected_rules(select=list(codes)), {}, unsafe=True)
    fixed, n, remaining, problems, warnings = linter.fix_text("m.py", textwrap.dedent(src))
    assert problems == [] and warnings == [], (problems, warnings)
    return fixed, n, remaining


# ---------------------------------------------------------------- KL101 at model scale

STACK = """\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input((20,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
"""


def test_a_stack_is_one_finding_naming_its_layers_and_depth():
    found = [f for f in lint(STACK, ["KL101"])]
    assert len(found) == 1
    f = found[0]
    assert f.row == 6
    assert [r.row for r in f.related] == [6, 7, 8]
    assert "3 kernel layers (lines 6, 7, 8)" in f.message
    assert "plain chains up to 4 kernel layers deep" in f.message
    fixed, n, remaining = fix(STACK)
    assert fixed.count('kernel_initializer="he_normal"') == 3 and n == 1 and not remaining


def test_grouped_findings_in_json_and_sarif(project, cli, write):
    write(project / "m.py", STACK)
    rc, findings, _ = cli.json("--select", "KL101", "m.py")
    assert rc == 1 and len(findings) == 1
    related = findings[0]["related"]
    assert [r["location"]["row"] for r in related] == [6, 7, 8]
    assert all("feeds relu" in r["message"] for r in related)
    assert len(findings[0]["fix"]["edits"]) == 3
    rc, out, _ = cli("check", "--select", "KL101", "--output-format", "sarif", "m.py")
    result = json.loads(out)["runs"][0]["results"][0]
    assert [r["physicalLocation"]["region"]["startLine"] for r in result["relatedLocations"]] == [6, 7, 8]
    rc, out, _ = cli("check", "--select", "KL101", "m.py")
    assert out.count("KL101") == 1 and "lines 6, 7, 8" in out


def test_noqa_on_one_layer_leaves_it_out_of_the_stack():
    src = STACK.replace('layers.Dense(64, activation="relu"),\n    layers.Dense(64, activation="relu"),\n',
                        'layers.Dense(64, activation="relu"),  # noqa: KL101\n'
                        '    layers.Dense(64, activation="relu"),\n', 1)
    (f,) = lint(src, ["KL101"])
    assert f.row == 7 and [r.row for r in f.related] == [7, 8]
    assert "2 kernel layers (lines 7, 8)" in f.message
    fixed, _, _ = fix(src)
    assert fixed.splitlines()[5] == '    layers.Dense(64, activation="relu"),  # noqa: KL101'
    assert fixed.count("he_normal") == 2


def test_the_message_tells_a_toy_from_a_deep_stack():
    (toy,) = lint("""\
        import keras
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(1)])
        """, ["KL101"])
    assert "plain chain of 2 kernel layers" in toy.message
    (deep,) = lint("""\
        import keras
        model = keras.Sequential([keras.Input((8,))])
        for _ in range(12):
            model.add(keras.layers.Dense(64, activation="relu"))
        model.add(keras.layers.Dense(1))
        """, ["KL101"])
    assert "plain chain of 13 kernel layers" in deep.message


def test_two_models_are_two_findings():
    src = STACK + STACK.replace("model =", "other =")
    assert len(lint(src, ["KL101"])) == 2


@pytest.mark.parametrize("src", [
    # every layer's output is normalized before the next kernel layer
    """\
    import keras
    from keras import layers
    inputs = keras.Input((64,))
    x = layers.Dense(128, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(128)(x)
    x = layers.ReLU()(x)
    x = layers.GroupNormalization(groups=8)(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    """,
    # the output layer: an He-initialized head under a softmax
    """\
    import keras
    model = keras.Sequential([keras.Input((8,)),
                              keras.layers.Dense(3, activation="softmax", kernel_initializer="he_normal")])
    """,
    # a pre-norm transformer block: GELU feed-forward behind LayerNorm, on a residual branch
    """\
    import keras
    from keras import layers
    inputs = keras.Input((16, 64))
    x = layers.LayerNormalization()(inputs)
    x = layers.MultiHeadAttention(2, 32)(x, x)
    x = x + inputs
    y = layers.LayerNormalization()(x)
    y = layers.Dense(256, activation="gelu")(y)
    y = layers.Dense(64)(y)
    x = layers.Add()([x, y])
    model = keras.Model(inputs, x)
    """,
    # a GELU MLP head behind a LayerNorm, no residual
    """\
    import keras
    from keras import layers
    inputs = keras.Input((16, 64))
    x = layers.LayerNormalization()(inputs)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(128, activation="gelu")(x)
    x = layers.Dense(64, activation="gelu")(x)
    model = keras.Model(inputs, layers.Dense(10)(x))
    """,
    # a ResNet-style block without normalization: the skip carries the signal
    """\
    import keras
    from keras import layers
    def block(x):
        y = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
        y = layers.Conv2D(32, 3, padding="same", activation="relu")(y)
        return layers.Add()([x, y])
    inputs = keras.Input((32, 32, 32))
    x = inputs
    for _ in range(6):
        x = block(x)
    model = keras.Model(inputs, layers.Conv2D(3, 1)(x))
    """,
])
def test_silent_where_the_init_scale_cannot_matter(src):
    assert codes_rows(lint(src, ["KL101"]), "KL101") == []


def test_a_deep_plain_relu_stack_is_reported_however_it_is_built():
    helper = """\
    import keras
    from keras import layers
    def block(x, units):
        return layers.Dense(units, activation="relu")(x)
    inputs = keras.Input((32,))
    x = inputs
    for units in (256, 256, 128, 128, 64):
        x = block(x, units)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    """
    (f,) = lint(helper, ["KL101"])
    assert "plain chain of 6 kernel layers" in f.message
    functional = "import keras\nfrom keras import layers\ninputs = keras.Input((32,))\nx = inputs\n" + "".join(
        'x = layers.Dense(64, activation="relu")(x)\n' for _ in range(5)) + \
        "model = keras.Model(inputs, layers.Dense(1)(x))\n"
    (f,) = lint(functional, ["KL101"])
    assert len(f.related) == 5 and "plain chains up to 6 kernel layers deep" in f.message


def test_a_helper_with_activations_that_disagree_gets_no_fix_and_no_oscillation():
    src = """\
    import keras
    from keras import layers

    def block(x, act):
        x = layers.Dense(64, activation=act)(x)
        return layers.Dense(64, activation=act)(x)

    inputs = keras.Input((16,))
    x = block(inputs, "gelu")
    x = block(x, "selu")
    model = keras.Model(inputs, layers.Dense(1)(x))
    """
    (f,) = lint(src, ["KL101"])
    assert f.fix is None
    fixed, n, remaining = fix(src)  # asserts: no "did not converge" warning
    assert n == 0 and fixed == textwrap.dedent(src) and len(remaining) == 1


# ---------------------------------------------------------------- what the interpreter follows

def test_a_block_helper_called_fourteen_times_keeps_the_model_together():
    calls = "".join("    x = conv_bn(x, 64)\n" for _ in range(14))
    src = ("import keras\nimport tensorflow as tf\nfrom keras import layers\n\n"
           "def conv_bn(x, filters):\n"
           "    x = layers.Conv2D(filters, 3, padding='same', kernel_initializer='he_normal', use_bias=False)(x)\n"
           "    x = layers.BatchNormalization()(x)\n"
           "    return layers.ReLU()(x)\n\n"
           "def build():\n"
           "    inp = keras.Input((64, 64, 3))\n"
           "    x = inp\n" + calls +
           "    x = layers.GlobalAveragePooling2D()(x)\n"
           "    return keras.Model(inp, layers.Dense(5, activation='softmax')(x))\n\n"
           "model = build()\n"
           "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
           "model.fit(tf.data.Dataset.from_tensor_slices((a, b)).batch(4), epochs=3)\n")
    assert codes_rows(lint(src, ["KL201"]), "KL201") == [7]
    a = analyze(cst.parse_module(src))
    (model,) = [m for m in a.models if m.kind == "functional"]
    layers, _ = a.model_layers(model)
    assert sum(1 for x in layers if x.qual == "keras.layers.BatchNormalization") == 14


def test_a_budget_keeps_runaway_helpers_linear_and_connected():
    # every helper calls the next one four times: 4**8 calls if all were run
    src = ["import keras\nfrom keras import layers\n\n",
           "def h0(x):\n    x = layers.Dense(8)(x)\n    return layers.BatchNormalization()(x)\n\n"]
    for i in range(1, 9):
        src.append(f"def h{i}(x):\n" + "".join(f"    x = h{i - 1}(x)\n" for _ in range(4)) + "    return x\n\n")
    src.append("inputs = keras.Input((8,))\nmodel = keras.Model(inputs, h8(inputs))\n"
               "model.fit(x, y, batch_size=2)\n")
    text = "".join(src)
    a = analyze(cst.parse_module(text))
    (model,) = [m for m in a.models if m.kind == "functional"]
    layers, _ = a.model_layers(model)
    assert any(x.qual == "keras.layers.BatchNormalization" for x in layers)
    assert codes_rows(lint(text, ["KL201"]), "KL201") == [6]


def test_pandas_apply_is_not_a_gradient_step_but_optimizer_apply_is():
    src = """\
    import keras
    import pandas as pd
    df = pd.read_csv("reviews.csv")
    df["label"] = df["sentiment"].apply(lambda s: 1 if s == "positive" else 0)
    ds = make_dataset().apply(lambda d: d.batch(8))
    model = keras.Sequential([keras.Input((None,)), keras.layers.Embedding(100, 8), keras.layers.LSTM(8),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
    """
    assert codes_rows(lint(src, ["KL301"]), "KL301") == []
    src2 = """\
    import keras
    import tensorflow as tf
    model = keras.Sequential([keras.Input((None, 4)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    def step(opt, x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x) - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply(grads, model.trainable_variables)
    """
    assert codes_rows(lint(src2, ["KL301"]), "KL301") == [8]


@pytest.mark.parametrize("extractor", [
    'backbone = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3))\n'
    'features = keras.Model(backbone.inputs, backbone.get_layer("conv4_block6_out").output)\n'
    'inputs = keras.Input((64, 64, 3))\nx = features(inputs)\n',
    'inputs = keras.Input((64, 64, 3))\n'
    'backbone = keras.applications.ResNet50(include_top=False, weights=None, input_tensor=inputs)\n'
    'x = backbone.get_layer("conv4_block6_out").output\n',
    'inputs = keras.Input((64, 64, 3))\n'
    'c3, c4 = [keras.applications.ResNet50(include_top=False, input_tensor=inputs).get_layer(n).output\n'
    '          for n in ("conv3_block4_out", "conv4_block6_out")]\nx = c4\n',
])
def test_feature_extractors_keep_the_applications_batchnorm(extractor):
    src = ("import keras\nimport tensorflow as tf\n" + extractor +
           "x = keras.layers.GlobalAveragePooling2D()(x)\n"
           "model = keras.Model(inputs, keras.layers.Dense(3)(x))\n"
           "model.compile(optimizer='adam', loss='mse')\n"
           "model.fit(tf.data.Dataset.from_tensor_slices((a, b)).batch(4))\n")
    found = [f for f in lint(src, ["KL201"]) if f.code == "KL201"]
    assert len(found) == 1 and "ResNet50" in found[0].message


def test_an_lr_callback_exempts_its_own_fit_only():
    src = """\
    import keras
    a = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    a.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    a.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau()])
    b = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    b.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    b.fit(x, y)
    opt = keras.optimizers.SGD(0.5)
    opt.learning_rate = 0.05
    """
    assert codes_rows(lint(src, ["KL401"]), "KL401") == [6]


def test_load_weights_after_fit_does_not_exempt_the_initialization():
    before = """\
    import keras
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1)])
    model.load_weights("warm.weights.h5")
    model.fit(x, y)
    """
    assert codes_rows(lint(before, ["KL101"]), "KL101") == []
    after = before.replace('model.load_weights("warm.weights.h5")\n    model.fit(x, y)\n',
                           'model.fit(x, y)\n    model.load_weights("best.weights.h5")\n')
    assert codes_rows(lint(after, ["KL101"]), "KL101") == [2]


# ---------------------------------------------------------------- rules whose reason does not hold

IMAGE_LOOP = """\
import tensorflow as tf
import keras
vgg = keras.applications.VGG19(include_top=False, weights=None)
vgg.trainable = False
image = tf.Variable(tf.random.uniform((1, 224, 224, 3)))
opt = keras.optimizers.{opt}
for step in range(100):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(vgg(image) ** 2)
    grads = tape.gradient(loss, image)
    opt.apply_gradients([(grads, image)])
"""


@pytest.mark.parametrize("opt", ["Adam(learning_rate=0.02)", "SGD(learning_rate=100.0)",
                                 "Adam(learning_rate=5.0)"])
def test_an_optimizer_of_an_image_is_not_judged_by_weight_space_limits(opt):
    assert [f for f in lint(IMAGE_LOOP.format(opt=opt)) if f.code in ("KL401", "KL404")] == []


def test_kl401_leaves_a_rate_out_of_range_to_kl404():
    src = "import keras\nopt = keras.optimizers.Adam(learning_rate=5.0)\n"
    assert [f.code for f in lint(src, ["KL401", "KL404"])] == ["KL404"]
    assert [f.code for f in lint(src, ["KL401"])] == ["KL401"]


def test_kl102_deliberate_structured_starts():
    tnet = """\
    import numpy as np
    import keras
    from keras import layers
    inputs = keras.Input((64,))
    x = layers.Dense(256, activation="relu", kernel_initializer="he_normal")(inputs)
    x = layers.Dense(9, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(np.eye(3).flatten()))(x)
    t = layers.Reshape((3, 3))(x)
    """
    assert codes_rows(lint(tnet, ["KL102"]), "KL102") == []
    zero_residual = """\
    import keras
    from keras import layers
    inputs = keras.Input((32, 32, 16))
    y = layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal")(inputs)
    y = layers.Conv2D(16, 3, padding="same", kernel_initializer="zeros")(y)
    x = layers.Add()([inputs, y])
    model = keras.Model(inputs, layers.Conv2D(3, 1)(x))
    """
    assert codes_rows(lint(zero_residual, ["KL102"]), "KL102") == []


def test_kl102_messages_say_only_what_holds():
    dead = lint("""\
    import keras
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", kernel_initializer="zeros"),
                              keras.layers.Dense(1)])
    """, ["KL102"])
    assert "never trains" in dead[0].message and "learn the same thing" not in dead[0].message
    told_apart = lint("""\
    import keras
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh", kernel_initializer="ones"),
                              keras.layers.Dense(1)])
    """, ["KL102"])
    assert "told apart only through the next layer's weights" in told_apart[0].message
    stuck = lint("""\
    import keras
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh", kernel_initializer="ones"),
                              keras.layers.Dense(4, kernel_initializer="zeros"), keras.layers.Dense(1)])
    """, ["KL102"])
    assert any("capacity of one unit" in f.message for f in stuck)


@pytest.mark.parametrize("src", [
    # LoRA: A -> B, added to the frozen layer's output
    """\
    import keras
    from keras import layers
    inputs = keras.Input((16, 64))
    a = layers.Dense(RANK, use_bias=False)
    b = layers.EinsumDense("abc,cd->abd", output_shape=(None, OUT), kernel_initializer="zeros")
    outputs = frozen(inputs) + b(a(inputs)) * 2.0
    """,
    # a (2+1)D convolution
    """\
    import keras
    from keras import layers
    inputs = keras.Input((8, 64, 64, 3))
    x = layers.Conv3D(32, (1, 3, 3), padding="same")(inputs)
    x = layers.Conv3D(32, (3, 1, 1), padding="same", activation="relu")(x)
    """,
    # spatial, then pointwise
    """\
    import keras
    from keras import layers
    inputs = keras.Input((64, 64, 3))
    x = layers.Conv2D(32, 5, padding="same")(inputs)
    x = layers.Conv2D(64, 1, activation="relu")(x)
    """,
    # a narrow linear bottleneck that expands again
    """\
    import keras
    from keras import layers
    inputs = keras.Input((512,))
    x = layers.Dense(16)(inputs)
    x = layers.Dense(512, activation="relu")(x)
    """,
    # a latent vector projected into a feature map
    """\
    import keras
    from keras import layers
    z = keras.Input((128,))
    x = layers.Dense(7 * 7 * 256, use_bias=False)(z)
    x = layers.Reshape((7, 7, 256))(x)
    x = layers.Conv2DTranspose(128, 5, padding="same", activation="relu")(x)
    """,
])
def test_kl504_linear_on_purpose(src):
    assert codes_rows(lint(src, ["KL504"]), "KL504") == []


def test_kl504_still_reports_a_collapsing_pair():
    src = """\
    import keras
    from keras import layers
    inputs = keras.Input((64,))
    x = layers.Dense(128)(inputs)
    x = layers.Dense(10, activation="softmax")(x)
    """
    assert codes_rows(lint(src, ["KL504"]), "KL504") == [4]


# ---------------------------------------------------------------- documentation from metadata

def test_kl203_is_off_by_default_and_the_docs_say_so_from_the_metadata(cli):
    from klint.engine.registry import rule_by_code

    rule = rule_by_code("KL203")
    assert rule.default_enabled is False
    assert rule not in Config().selected_rules()
    rc, out, _ = cli("rule", "KL203")
    assert "off by default" in out
    rc, out, _ = cli("rules")
    assert "KL203" in out and "(off by default)" in [line for line in out.splitlines() if "KL203" in line][0]


def test_no_rule_docstring_states_its_own_default():
    from klint.engine.registry import all_rules

    for r in all_rules():
        text = r.doc().lower()
        assert "by default" not in text or "default_enabled" in text, r.code


def test_the_readme_rule_table_is_the_metadata(cli):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rc, table, _ = cli("rules", "--output-format", "markdown")
    assert rc == 0 and table.strip()
    assert table in readme, "README's rule table differs from `klint rules --output-format markdown`"

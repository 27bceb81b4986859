"""KL504 missing-nonlinearity."""
from __future__ import annotations

import libcst as cst

from klint import keras_api as K
from klint.rule import FixAvailability, Invalid, Rule, Valid
from klint.semantics import own_activation
from klint.source.values import Arg, Const, LayerObj, SeqV

#: Layers that are linear maps of their input: shape changes, dropout (the
#: identity at inference), averaging, and BatchNormalization, which is an
#: affine map at inference (Keras folds it into the layer before it when
#: exporting). A linear layer reaching another kernel layer through these
#: still collapses into it. Max pooling and per-sample normalizations
#: (LayerNormalization, GroupNormalization...) are not linear.
LINEAR_LAYERS = K.SHAPE_LAYERS | K.AVERAGE_POOLING_LAYERS | K.BATCHNORM_LAYERS

DEPTHWISE = frozenset(f"keras.layers.{n}" for n in ("DepthwiseConv1D", "DepthwiseConv2D"))
CONVOLUTIONS = frozenset(q for q in K.KERNEL_LAYERS if "Conv" in q and q not in DEPTHWISE)


class MissingNonlinearity(Rule):
    """
    ## What it does
    Checks for a kernel layer (Dense, EinsumDense, Conv*, SeparableConv*,
    Conv*Transpose) without an activation whose output goes straight into
    another kernel layer, with nothing non-linear in between.

    The first layer is linear when it is given no `activation` (or one
    that reads linear from a variable or a configuration) and no activation
    layer (`ReLU()`, `Activation("relu")`...) or activation op
    (`tf.nn.relu(x)`) follows it.
    In between, layers that are linear maps themselves are looked through:
    dropout, flatten, reshape, permute, padding, cropping, upsampling,
    average pooling and BatchNormalization, which is an affine map once
    trained. Max pooling and per-sample normalizations (LayerNormalization,
    GroupNormalization...) count as non-linear. The finding is reported on
    the first layer, the one that lacks an activation; the second layer's
    own activation does not matter. A layer whose call says
    `activation="linear"` or `activation=None` in so many words is taken
    at its word and not reported.

    Only a layer whose sole consumer is the next kernel layer is reported:
    a linear layer that is a model output, feeds a residual `Add`, a
    `Concatenate`, an attention layer (Q/K/V projections feeding
    `MultiHeadAttention`), a custom layer or several layers is left alone.
    So are two spelled-out patterns where the missing activation is the
    design: a depthwise convolution followed by a pointwise one (a
    separable convolution written in two layers) and a 1x1 convolution
    followed by another 1x1 convolution (the linear bottleneck between
    MobileNetV2 or EfficientNet blocks).

    ## Why is this bad
    Two linear maps in a row are one linear map: `W2 (W1 x + b1) + b2` is
    `W x + b`. The first layer adds parameters, compute and depth but no
    capacity, and the network is shallower than it looks. It is almost
    always a forgotten `activation=`.

    ## Example
    ```python
    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(128),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Use instead
    ```python
    layers.Dense(128, activation="relu", kernel_initializer="he_normal")
    ```

    ## Fix safety
    No fix is offered: which activation belongs there (and whether the
    layer should stay at all) is the author's choice. A deliberate low-rank
    factorization (a linear bottleneck) can say so with
    `activation="linear"`, or be kept with `# noqa: KL504`.

    ## Options
    None.
    """

    code = "KL504"
    name = "missing-nonlinearity"
    summary = "Consecutive kernel layers with no non-linearity between them"
    views = ("source", "model")
    fix = FixAvailability.NONE

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((64,)), layers.Dense(128, activation='relu'),"
            " layers.Dense(10)])\n",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((64,)), layers.Dense(128), layers.ReLU(), layers.Dense(10)])\n",
            "an activation layer after the first layer",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((64,))\n"
            "x = layers.Dense(64)(inputs)\n"
            "x = layers.Add()([x, inputs])\n"
            "outputs = layers.Dense(10)(x)\n",
            "a linear projection feeding a residual Add",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 16))\n"
            "x = layers.DepthwiseConv2D(3, padding='same')(inputs)\n"
            "x = layers.Conv2D(32, 1)(x)\n",
            "a separable convolution written as two layers",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 96))\n"
            "x = layers.Conv2D(24, 1, use_bias=False)(inputs)\n"
            "x = layers.BatchNormalization()(x)\n"
            "x = layers.Conv2D(144, 1, use_bias=False)(x)\n",
            "the linear bottleneck between inverted-residual blocks",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((16, 64))\n"
            "x = layers.Dense(64)(inputs)\n"
            "x = layers.LayerNormalization()(x)\n"
            "x = layers.Dense(64)(x)\n",
            "layer normalization is not linear",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((64,)), layers.Dense(128, activation=ACT), layers.Dense(10)])\n",
            "an activation the source view cannot read",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((784,))\n"
            "z = layers.Dense(16, activation='linear')(inputs)\n"
            "outputs = layers.Dense(784, activation='sigmoid')(z)\n",
            "a bottleneck declared linear",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            "    layers.Dense(128),\n"
            "    layers.Dropout(0.2),\n"
            "    layers.Dense(10, activation='softmax'),\n"
            "])\n",
            None,
            lines=(6,),
        ),
        Invalid(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "inputs = tf.keras.Input((128,))\n"
            "x = layers.Dense(8 * 8 * 64)(inputs)\n"
            "x = layers.Reshape((8, 8, 64))(x)\n"
            "x = layers.Conv2DTranspose(32, 4, strides=2, padding='same')(x)\n"
            "x = layers.LeakyReLU(0.2)(x)\n",
            None,
            lines=(5,),
            note="through a Reshape, into a convolution with its own activation after it",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((64,))\n"
            "x = layers.Dense(256, use_bias=False)(inputs)\n"
            "x = layers.BatchNormalization()(x)\n"
            "x = layers.Dense(10, activation='softmax')(x)\n",
            None,
            lines=(5,),
            note="BatchNormalization is affine",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n\n"
            "class Head(keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.bottleneck = layers.Dense(32)\n"
            "        self.out = layers.Dense(1)\n\n"
            "    def call(self, x):\n"
            "        return self.out(self.bottleneck(x))\n",
            None,
            lines=(8,),
            note="a subclassed model",
        ),
    ]

    def check(self, ctx) -> None:
        done: set = set()
        for layer in ctx.analysis.layers:
            key = layer.node if layer.node is not None else id(layer)
            if layer.qual not in K.KERNEL_LAYERS or key in done or layer.library or layer.is_output:
                continue
            if layer.qual in DEPTHWISE or own_activation(layer) != "linear" or _declared_linear(layer):
                continue
            nxt = _next_kernel(layer)
            if nxt is None:
                continue
            second, between = nxt
            if layer.qual in CONVOLUTIONS and second.qual in CONVOLUTIONS:
                sizes = (_pointwise(layer), _pointwise(second))
                if None in sizes or all(sizes):
                    continue  # the linear bottleneck of inverted-residual blocks, or a size not known
            done.add(key)
            short, other = layer.qual.rsplit(".", 1)[1], second.qual.rsplit(".", 1)[1]
            line = ctx.line(second)
            if line is not None and line == ctx.line(layer):
                line = None  # both built by the same call, in a loop
            through = ""
            if between:
                through = " through " + ", ".join(f"`{b.qual.rsplit('.', 1)[1]}`" for b in between)
            ctx.report(layer, (
                f"`{short}` has no activation and feeds `{other}`" + (f" on line {line}" if line else "")
                + f"{through} with nothing non-linear in between: the two collapse into one linear map; "
                f"add an activation"))


def _next_kernel(layer: LayerObj):
    """The kernel layer that is the sole reader of ``layer``'s output, through linear layers only."""
    cur = layer
    between: list = []
    for _ in range(8):
        consumers = cur.consumers
        if len(consumers) != 1 or not isinstance(consumers[0], LayerObj):
            return None
        c = consumers[0]
        if c.qual in K.KERNEL_LAYERS:
            return c, between
        if c.qual not in LINEAR_LAYERS or c.is_output:
            return None
        between.append(c)
        cur = c
    return None


def _declared_linear(layer: LayerObj) -> bool:
    """Whether the call says ``activation="linear"`` or ``activation=None`` in so many words."""
    a = layer.arg("activation", K.ACTIVATION_POSITION.get(layer.qual))
    if not isinstance(a, Arg) or a.via not in ("keyword", "positional"):
        return False
    node = a.node
    if isinstance(node, cst.Name):
        return node.value == "None"
    return isinstance(node, cst.SimpleString) and node.evaluated_value == "linear"


def _pointwise(layer: LayerObj) -> bool | None:
    """Whether a convolution's kernel is 1 (1x1...), None when the code does not say."""
    a = layer.arg("kernel_size", 1)
    if not isinstance(a, Arg):
        return None
    v = a.value
    if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
        return v.value == 1
    if isinstance(v, Const) and isinstance(v.value, (tuple, list)):
        items = list(v.value)
    elif isinstance(v, SeqV) and not v.open:
        items = [x.value if isinstance(x, Const) else None for x in v.items]
    else:
        return None
    if not items or any(not isinstance(x, int) or isinstance(x, bool) for x in items):
        return None
    return all(x == 1 for x in items)

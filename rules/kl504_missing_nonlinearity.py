"""KL504 missing-nonlinearity."""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.graph import graph_of
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.layers import own_activation
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
    A run of kernel layers that feed one another linearly is one finding,
    naming every layer that lacks an activation. A pair (not a longer run)
    is left alone in the patterns where the missing activation is the
    design, a linear map written in two factors on purpose:
    - a low-rank factorization: the first layer is narrower than the
      second (a bottleneck that expands again), or the pair's output is
      added to another path (LoRA's `A` and `B` beside the layer they
      adapt);
    - a factorized convolution: no kernel axis is wider than 1 in both
      layers (a depthwise or spatial convolution followed by a pointwise
      one, the (1, 3, 3) then (3, 1, 1) pair of a (2+1)D block, the 1x1
      bottleneck between MobileNetV2 or EfficientNet blocks);
    - a latent vector projected straight into a `Reshape` (the "project
      and reshape" first layer of a generator).

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
        Valid(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "inputs = tf.keras.Input((128,))\n"
            "x = layers.Dense(8 * 8 * 64)(inputs)\n"
            "x = layers.Reshape((8, 8, 64))(x)\n"
            "x = layers.Conv2DTranspose(32, 4, strides=2, padding='same')(x)\n"
            "x = layers.LeakyReLU(0.2)(x)\n",
            "a latent vector projected into a feature map",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((64, 768))\n"
            "frozen = layers.Dense(768, trainable=False)\n"
            "lora_a = layers.Dense(8, use_bias=False)\n"
            "lora_b = layers.Dense(768, kernel_initializer='zeros')\n"
            "outputs = frozen(inputs) + lora_b(lora_a(inputs))\n",
            "a low-rank adapter (LoRA) added to the layer it adapts",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((16, 112, 112, 3))\n"
            "x = layers.Conv3D(64, (1, 3, 3), padding='same')(inputs)\n"
            "x = layers.Conv3D(64, (3, 1, 1), padding='same')(x)\n"
            "x = layers.ReLU()(x)\n",
            "a (2+1)D convolution: spatial, then temporal",
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
            "inputs = tf.keras.Input((7, 7, 64))\n"
            "x = layers.Conv2D(64, 3, padding='same')(inputs)\n"
            "x = layers.Flatten()(x)\n"
            "outputs = layers.Dense(10, activation='softmax')(x)\n",
            None,
            lines=(5,),
            note="through a Flatten, into the classifier",
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
        graph = graph_of(ctx.analysis)
        pairs: dict = {}  # id(first layer) -> (first, second, layers between)
        for layer in ctx.analysis.layers:
            if layer.qual not in K.KERNEL_LAYERS or layer.library or layer.is_output or id(layer) in pairs:
                continue
            if layer.qual in DEPTHWISE or own_activation(layer) != "linear" or _declared_linear(layer):
                continue
            nxt = _next_kernel(layer)
            if nxt is not None:
                pairs[id(layer)] = (layer, *nxt)
        # a linear chain of three or more kernel layers is a forgotten activation, whatever its widths
        chained = {id(second) for _first, second, _between in pairs.values() if id(second) in pairs}
        chained |= {i for i, (_f, second, _b) in pairs.items() if id(second) in pairs}
        chains = _Chains()
        done: set = set()
        for key, (layer, second, between) in pairs.items():
            site = layer.node if layer.node is not None else id(layer)
            if site in done:
                continue
            if key not in chained and self.on_purpose(layer, second, between, graph):
                continue
            done.add(site)
            chains.add(layer, second, between)
        for chain in chains.groups():
            self.report(ctx, chain)

    @staticmethod
    def on_purpose(layer, second, between, graph) -> bool:
        """Whether a linear pair is a linear map written in two factors by design."""
        if layer.qual in CONVOLUTIONS and second.qual in CONVOLUTIONS:
            kernels = (_kernel_size(layer), _kernel_size(second))
            if None in kernels or _factorized(*kernels):
                return True  # a factorized convolution, or a size not known
        if between and between[0].qual == "keras.layers.Reshape" and layer.qual in DENSE_LAYERS:
            return True  # a projection of a latent vector into a feature map ("project and reshape")
        widths = (_width(layer), _width(second))
        # a low-rank factorization: a narrow linear bottleneck, or a linear pair added to another path
        # (LoRA's A -> B beside the frozen layer it adapts)
        return None not in widths and widths[0] < widths[1] or graph.ends(second).sum

    def report(self, ctx, chain: list) -> None:
        """One finding for a run of kernel layers that feed one another linearly."""
        parts = []
        for layer, second, between in chain:
            through = ""
            if between:
                through = " through " + ", ".join(f"`{b.qual.rsplit('.', 1)[1]}`" for b in between)
            note = f"`{_short(layer)}` has no activation and feeds `{_short(second)}`{through}"
            parts.append(ctx.part(layer, None, note))
        layers = {id(p): item for p, item in zip(parts, chain)}

        def describe(kept) -> str:
            items = [layers[id(p)] for p in kept]
            if len(items) == 1:
                layer, second, between = items[0]
                line = ctx.line(second)
                if line is not None and line == kept[0].row:
                    line = None  # both built by the same call, in a loop
                through = ""
                if between:
                    through = " through " + ", ".join(f"`{b.qual.rsplit('.', 1)[1]}`" for b in between)
                return (f"`{_short(layer)}` has no activation and feeds `{_short(second)}`"
                        + (f" on line {line}" if line else "") + f"{through} with nothing non-linear in "
                        "between: the two collapse into one linear map; add an activation")
            count = len({id(x) for item in items for x in (item[0], item[1])})
            rows = ", ".join(str(r) for r in sorted({p.row for p in kept}))
            return (f"{len(items)} kernel layers (lines {rows}) have no activation and feed the next with "
                    f"nothing non-linear in between: the {count} layers collapse into one linear map; "
                    "add activations")

        ctx.report_group(parts, describe, "")


class _Chains:
    """Linear pairs joined into runs: a pair whose first layer is the second of another extends it."""

    def __init__(self):
        self.items: list = []
        self.parent: dict = {}

    def _find(self, k):
        while self.parent.get(k, k) != k:
            k = self.parent[k]
        return k

    def add(self, layer, second, between) -> None:
        self.items.append((layer, second, between))
        a, b = self._find(id(layer)), self._find(id(second))
        if a != b:
            self.parent[b] = a

    def groups(self) -> list:
        out: dict = {}
        for item in self.items:
            out.setdefault(self._find(id(item[0])), []).append(item)
        return list(out.values())


def _short(layer) -> str:
    return layer.qual.rsplit(".", 1)[1]


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


DENSE_LAYERS = frozenset(("keras.layers.Dense", "keras.layers.EinsumDense"))


def _kernel_size(layer: LayerObj) -> tuple | None:
    """A convolution's kernel size on each spatial axis, None when the code does not say."""
    dims = 3 if "3D" in layer.qual else 1 if "1D" in layer.qual else 2
    a = layer.arg("kernel_size", 1)
    if not isinstance(a, Arg):
        return None
    v = a.value
    if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
        return (v.value,) * dims
    if isinstance(v, Const) and isinstance(v.value, (tuple, list)):
        items = list(v.value)
    elif isinstance(v, SeqV) and not v.open:
        items = [x.value if isinstance(x, Const) else None for x in v.items]
    else:
        return None
    if not items or any(not isinstance(x, int) or isinstance(x, bool) for x in items):
        return None
    return tuple(items) if len(items) == dims else None


def _factorized(first: tuple, second: tuple) -> bool:
    """Whether two convolutions split one kernel between them: no axis has a size above 1 in both
    (spatial then pointwise, (1, 3, 3) then (3, 1, 1) in a (2+1)D block, 1x1 then 1x1 in an
    inverted-residual bottleneck)."""
    return len(first) == len(second) and all(a == 1 or b == 1 for a, b in zip(first, second))


def _width(layer: LayerObj) -> int | None:
    """How many units (or filters) a kernel layer outputs, when the code says."""
    if layer.qual == "keras.layers.EinsumDense":
        a = layer.arg("output_shape", 1)
        v = a.value if isinstance(a, Arg) else None
        if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
            return v.value
        if isinstance(v, SeqV) and not v.open and v.items:
            last = v.items[-1]
            return last.value if isinstance(last, Const) and isinstance(last.value, int) else None
        return None
    name = "units" if layer.qual == "keras.layers.Dense" else "filters"
    a = layer.arg(name, 0)
    if isinstance(a, Arg) and isinstance(a.value, Const) and isinstance(a.value.value, int) \
            and not isinstance(a.value.value, bool):
        return a.value.value
    return None

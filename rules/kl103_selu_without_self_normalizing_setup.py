"""KL103 selu-without-self-normalizing-setup."""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.graph import graph_of
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.layers import effective_activation, layer_activation
from klint.source.values import LayerObj

#: Dropout layers that zero units: the self-normalizing fixed point does not survive them.
ZEROING_DROPOUT = K.ZEROING_DROPOUT_LAYERS

#: Layers that do not change which activation the values carry.
_PASS_THROUGH = frozenset(K.TRANSPARENT_LAYERS - ZEROING_DROPOUT - {"keras.layers.AlphaDropout"})


class SeluWithoutSelfNormalizingSetup(Rule):
    """
    ## What it does
    Checks that a self-normalizing network (a model with a kernel layer
    whose activation is SELU: `activation="selu"`, or a linear layer
    followed by `Activation("selu")`) regularizes with `AlphaDropout`
    rather than `Dropout` (or `SpatialDropout1D/2D/3D`).

    Each such dropout layer of the model is reported, unless what feeds it
    is known to apply another activation (a ReLU block of a mixed model):
    AlphaDropout is only meant for SELU activations and for the
    standardized inputs of a SELU network. A model whose SELU layers are
    each fed by a normalization layer (BatchNormalization before every
    SELU Dense) does not rely on self-normalization, and is not reported.

    ## Why is this bad
    SELU networks keep their activations at zero mean and unit variance
    from layer to layer by themselves, which is what lets them train deep
    without normalization layers. Dropout breaks that fixed point: it sets
    units to 0, which for SELU is not the resting value (SELU saturates at
    about -1.76), and rescales the others by `1/(1-rate)`, so mean and
    variance drift after every dropout layer and the self-normalization is
    lost. AlphaDropout sets dropped units to the saturation value and
    applies an affine correction that keeps mean and variance unchanged.

    ## Example
    ```python
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
        layers.Dropout(0.1),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
        layers.AlphaDropout(0.1),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Fix safety
    The fix replaces `Dropout` with `AlphaDropout`, keeping the arguments
    (both take `rate`, `noise_shape` and `seed`) and the file's own way of
    naming Keras (`layers.Dropout` becomes `layers.AlphaDropout`; a bare
    `Dropout` becomes `AlphaDropout`, imported when needed). It is unsafe:
    it changes the noise applied during training, and AlphaDropout is
    meant for lower rates than plain dropout (0.05 to 0.1 in the SELU
    paper), so the rate deserves a second look. SpatialDropout layers have
    no drop-in alpha counterpart and are reported without a fix.

    ## Options
    None.
    """

    code = "KL103"
    name = "selu-without-self-normalizing-setup"
    summary = "SELU network regularized with Dropout instead of AlphaDropout"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dense(128, activation='selu', kernel_initializer='lecun_normal'),\n"
            "    layers.Dropout(0.1),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dense(64, activation='selu', kernel_initializer='lecun_normal'),\n"
            "    layers.Dropout(0.1),\n"
            "    layers.Dense(1, activation='sigmoid'),\n"
            "])\n",
            "every SELU layer is normalized explicitly",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((784,)),\n"
            '    layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),\n'
            "    layers.AlphaDropout(0.1),\n"
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((784,)),\n"
            '    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),\n'
            "    layers.Dropout(0.5),\n"
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
            "not a SELU network",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 3))\n"
            'x = layers.Conv2D(32, 3, activation="relu", kernel_initializer="he_normal")(inputs)\n'
            "x = layers.Flatten()(x)\n"
            "x = layers.Dropout(0.3)(x)\n"
            'x = layers.Dense(64, activation="selu", kernel_initializer="lecun_normal")(x)\n'
            "outputs = layers.Dense(10)(x)\n"
            "model = keras.Model(inputs, outputs)\n",
            "the dropout acts on ReLU activations",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((784,)),\n"
            '    layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),\n'
            "    layers.Dropout(0.1),\n"
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((784,)),\n"
            '    layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),\n'
            "    layers.AlphaDropout(0.1),\n"
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
            lines=(7,),
        ),
        Invalid(
            "from tensorflow.keras import Sequential, Input\n"
            "from tensorflow.keras.layers import Activation, Dense, Dropout\n\n"
            "model = Sequential()\n"
            "model.add(Input((30,)))\n"
            'model.add(Dense(64, kernel_initializer="lecun_normal"))\n'
            'model.add(Activation("selu"))\n'
            "model.add(Dropout(rate=0.05, seed=1))\n"
            "model.add(Dense(1))\n",
            "from tensorflow.keras import Sequential, Input\n"
            "from tensorflow.keras.layers import Activation, Dense, Dropout\n"
            "from tensorflow.keras.layers import AlphaDropout\n\n"
            "model = Sequential()\n"
            "model.add(Input((30,)))\n"
            'model.add(Dense(64, kernel_initializer="lecun_normal"))\n'
            'model.add(Activation("selu"))\n'
            "model.add(AlphaDropout(rate=0.05, seed=1))\n"
            "model.add(Dense(1))\n",
            lines=(8,),
            note="SELU from an Activation layer; a bare class name gets an import",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        graph = graph_of(a)
        done: set = set()
        for model in a.models:
            layers = [x for x in a.model_layers(model)[0] if isinstance(x, LayerObj)]
            selu = [x for x in layers if _selu_layer(x)]
            if not selu or all(graph.behind_norm(x) for x in selu):
                continue  # no SELU, or every SELU layer normalized explicitly: nothing relies on self-normalization
            for layer in layers:
                key = layer.node if layer.node is not None else id(layer)
                if layer.qual not in ZEROING_DROPOUT or key in done or layer.library:
                    continue
                if not _may_carry_selu(layer):
                    continue
                done.add(key)
                short = layer.qual.rsplit(".", 1)[1]
                message = (f"`{short}` in a SELU network breaks self-normalization (dropped units go to 0, "
                           f"not SELU's saturation value); use `AlphaDropout`")
                ctx.report(layer, message, self.make_fix(ctx, layer))

    def make_fix(self, ctx, layer: LayerObj):
        if layer.qual != "keras.layers.Dropout" or layer.site is None or layer.site.node is None:
            return None
        func = layer.site.node.func
        if isinstance(func, cst.Attribute):
            edit = ctx.replace((func.attr, layer.site.top), "AlphaDropout")
            return ctx.fix("Use `AlphaDropout`", [edit], safe=False)
        text, imports = ctx.ref("keras.layers.AlphaDropout")
        return ctx.fix("Use `AlphaDropout`", [ctx.replace((func, layer.site.top), text)], safe=False,
                       imports=imports)


def _selu_layer(layer: LayerObj) -> bool:
    if layer.qual not in K.KERNEL_LAYERS:
        return False
    eff = effective_activation(layer)
    return eff is not None and eff.activation == "selu"


def _may_carry_selu(layer: LayerObj, depth: int = 0) -> bool:
    """Whether the values a dropout layer drops may be SELU activations (not known to be another one)."""
    producers = [p for p in layer.producers if isinstance(p, LayerObj)]
    if not producers or depth > 4:
        return True  # the model's input, or something the source view cannot follow
    for p in producers:
        if p.qual in K.KERNEL_LAYERS:
            eff = effective_activation(p)  # its own, or an activation right after the dropout
            act = eff.activation if eff is not None else None
        elif p.qual in K.ACTIVATION_LAYERS:
            act = layer_activation(p)
        elif p.qual in _PASS_THROUGH or p.qual in ZEROING_DROPOUT:
            if _may_carry_selu(p, depth + 1):
                return True
            continue
        else:
            return True
        if act is None or act == "selu":
            return True
    return False

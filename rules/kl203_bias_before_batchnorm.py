"""KL203 bias-before-batchnorm."""
from __future__ import annotations

from klint.knowledge import api as K
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.layers import own_activation
from klint.source.values import ABSENT, Arg, Const, LayerObj

#: Constructor position of ``use_bias`` for the kernel layers that have one (EinsumDense has
#: ``bias_axes`` instead, and no bias by default).
USE_BIAS_POSITION: dict[str, int] = {
    **{q: 8 for q in K.KERNEL_LAYERS},
    "keras.layers.Dense": 2,
    "keras.layers.DepthwiseConv1D": 7,
    "keras.layers.DepthwiseConv2D": 7,
}
USE_BIAS_POSITION.pop("keras.layers.EinsumDense")


class BiasBeforeBatchNorm(Rule):
    """
    ## What it does
    Checks for a linear layer with a bias (Dense, Conv1D/2D/3D and their
    Transpose forms, SeparableConv, DepthwiseConv, with `use_bias=True`,
    the default) whose output goes only into a `BatchNormalization` (or
    `SyncBatchNormalization`).

    Only layers without an activation of their own are reported: with
    `Dense(64, activation="relu")` followed by BatchNormalization the bias
    shifts the ReLU threshold and is not redundant. A layer that also
    feeds something else, or a frozen BatchNormalization
    (`trainable=False`, whose beta does not train), is not reported either.

    A redundant bias wastes parameters and optimizer work, but it does not
    make training fail.

    ## Why is this bad
    BatchNormalization subtracts the batch mean of each channel, which
    removes any constant the previous layer added: the bias has no effect
    on the output, and BN's own learned offset (`beta`) plays its role. The
    bias is dead weight: parameters, memory and optimizer state that are
    updated every step for nothing (with weight decay they only decay).

    ## Example
    ```python
    x = layers.Conv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    ```

    ## Use instead
    ```python
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    ```

    ## Fix safety
    The fix adds `use_bias=False` (or replaces an explicit `use_bias=True`).
    The layer computes the same function once normalized, so the fix is
    safe. It is unsafe when the file loads weights into the model
    (`load_weights`, `set_weights`), since a checkpoint saved with the bias
    no longer matches, and when `use_bias=True` comes from a `**` dict
    shared with other calls, where the edit lands.

    ## Options
    None.
    """

    code = "KL203"
    name = "bias-before-batchnorm"
    summary = "Bias of a layer directly followed by BatchNormalization"
    views = ("source", "model")
    fix = FixAvailability.ALWAYS
    default_enabled = False  # cosmetic: it does not make training fail

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 3))\n"
            'x = layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)\n'
            "x = layers.BatchNormalization()(x)\n"
            "x = layers.ReLU()(x)\n"
            "model = keras.Model(inputs, x)\n",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="relu", kernel_initializer="he_normal"),\n'
            "    layers.BatchNormalization(),\n"
            "    layers.Dense(1),\n"
            "])\n",
            "the activation sits between the bias and the normalization",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((16,))\n"
            "h = layers.Dense(64)(inputs)\n"
            "x = layers.BatchNormalization()(h)\n"
            "model = keras.Model(inputs, [x, layers.Dense(1)(h)])\n",
            "the layer also feeds another layer",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 3))\n"
            'x = layers.Conv2D(64, 3, padding="same")(inputs)\n'
            "x = layers.BatchNormalization()(x)\n"
            "x = layers.ReLU()(x)\n"
            "model = keras.Model(inputs, x)\n",
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 3))\n"
            'x = layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)\n'
            "x = layers.BatchNormalization()(x)\n"
            "x = layers.ReLU()(x)\n"
            "model = keras.Model(inputs, x)\n",
            lines=(5,),
        ),
        Invalid(
            "from tensorflow.keras.models import Sequential\n"
            "from tensorflow.keras.layers import Activation, BatchNormalization, Dense\n\n"
            "model = Sequential()\n"
            "model.add(Dense(256, input_dim=20, use_bias=True))\n"
            "model.add(BatchNormalization())\n"
            'model.add(Activation("relu"))\n'
            "model.add(Dense(1))\n",
            "from tensorflow.keras.models import Sequential\n"
            "from tensorflow.keras.layers import Activation, BatchNormalization, Dense\n\n"
            "model = Sequential()\n"
            "model.add(Dense(256, input_dim=20, use_bias=False))\n"
            "model.add(BatchNormalization())\n"
            'model.add(Activation("relu"))\n'
            "model.add(Dense(1))\n",
            lines=(5,),
            note="an explicit use_bias=True",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            "    layers.Dense(64),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dense(1),\n"
            "])\n"
            'model.load_weights("old.weights.h5")\n',
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            "    layers.Dense(64, use_bias=False),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dense(1),\n"
            "])\n"
            'model.load_weights("old.weights.h5")\n',
            lines=(6,),
            note="weights are loaded: the fix is unsafe",
        ),
    ]

    def check(self, ctx) -> None:
        groups: dict = {}
        for layer in ctx.analysis.layers:
            if isinstance(layer, LayerObj) and layer.qual in USE_BIAS_POSITION and not layer.library:
                key = layer.node if layer.node is not None else id(layer)
                groups.setdefault(key, []).append(layer)
        loads = None
        for group in groups.values():
            first = group[0]
            bias = first.arg("use_bias", USE_BIAS_POSITION[first.qual])
            if not (bias is ABSENT or (isinstance(bias, Arg) and isinstance(bias.value, Const)
                                       and bias.value.value is True)):
                continue
            # the same call may build several layers (a helper called twice): every one must qualify
            if not all(own_activation(x) == "linear" and _feeds_only_batchnorm(x) for x in group):
                continue
            if loads is None:
                loads = _loads_weights(ctx)
            short = first.qual.rsplit(".", 1)[1]
            bn = first.consumers[0]
            line = ctx.line(bn)
            where = f" (line {line})" if line and line != ctx.line(first) else ""
            message = (f"`{short}` has a bias but feeds only `{bn.qual.rsplit('.', 1)[1]}`{where}, whose mean "
                       f"subtraction cancels it; set `use_bias=False`")
            ctx.report(first, message, self.make_fix(ctx, first, bias, loads))

    def make_fix(self, ctx, layer: LayerObj, bias, loads: bool):
        msg = "Set `use_bias=False`"
        if bias is ABSENT:
            return ctx.fix(msg, [ctx.add_keyword(layer.site, "use_bias", "False")], safe=not loads)
        if bias.node is None:
            return None
        local = bias.via in ("keyword", "positional")
        return ctx.fix(msg, [ctx.replace(bias, "False")], safe=local and not loads)


def _feeds_only_batchnorm(layer: LayerObj) -> bool:
    if layer.is_output or len(layer.consumers) != 1:
        return False
    bn = layer.consumers[0]
    if not isinstance(bn, LayerObj) or bn.qual not in K.BATCHNORM_LAYERS or bn.frozen:
        return False
    t = bn.arg("trainable")
    return not (isinstance(t, Arg) and isinstance(t.value, Const) and t.value.value is False)


def _loads_weights(ctx) -> bool:
    """Whether the file loads or sets weights (a checkpoint saved with the bias would no longer fit)."""
    return any(name in ("load_weights", "set_weights") for _s, _r, name in ctx.analysis.method_calls)
"""KL101 init-activation-mismatch."""
from __future__ import annotations

import libcst as cst

from klint import keras_api as K
from klint.rule import FixAvailability, Invalid, Rule, Valid
from klint.semantics import NORMALIZED, classify_initializer, effective_activation, mismatched, wanted_family
from klint.source.values import Arg, Const, LayerObj, Obj, OpUse


class InitActivationMismatch(Rule):
    """
    ## What it does
    Checks that every layer with a kernel (Dense, EinsumDense, Conv1D/2D/3D
    and their Transpose forms, SeparableConv, DepthwiseConv) is initialized
    for the activation its output goes through.

    The activation is the layer's own `activation`, or, when the layer is
    linear, that of the layer directly after it (`Activation("relu")`,
    `ReLU()`, `LeakyReLU()`, `PReLU()`, `ELU()`, `tf.nn.relu(x)`); dropout,
    flatten, reshape, max-pooling and padding layers in between are looked
    through. A BatchNormalization or LayerNormalization in between cancels
    the check, since normalization rescales the output anyway.

    | activation | wants |
    | --- | --- |
    | relu, relu6, leaky_relu, elu, gelu, silu/swish, mish, PReLU | He (`he_normal`, `he_uniform`) |
    | selu | LeCun (`lecun_normal`) |
    | tanh, sigmoid, softmax, linear | Glorot (the Keras default) or LeCun |

    ## Why is this bad
    Initializers are derived to keep the variance of activations constant
    from layer to layer, for one kind of nonlinearity. Glorot assumes a
    symmetric, roughly linear activation; ReLU zeroes half of its input, so
    under Glorot every ReLU layer halves the signal and deep stacks start
    with vanishing activations and gradients. He initialization doubles the
    variance to compensate; using it under tanh or sigmoid does the
    opposite and saturates them. SELU self-normalizes only from LeCun
    normal weights.

    ## Example
    ```python
    layers.Dense(256, activation="relu")
    ```

    ## Use instead
    ```python
    layers.Dense(256, activation="relu", kernel_initializer="he_normal")
    ```

    ## Fix safety
    The fix sets `kernel_initializer` to the matched family and keeps the
    uniform or normal variant the user chose (`glorot_uniform` becomes
    `he_uniform`; the default becomes `he_normal`; `GlorotUniform()` becomes
    `HeUniform()`, spelled through the same module path). It only changes
    the starting weights of the layer it is reported on, and is safe. When
    the initializer comes from a dict or constant shared with other calls,
    the edit lands there and is marked unsafe.

    Custom initializers, `Orthogonal`, `VarianceScaling` with explicit
    arguments and other initializers it cannot judge are left alone.
    In the model view, the layers a library builds for you (those inside a
    `keras.applications` model) are not reported: their initialization is
    the library's choice, and pretrained weights replace it anyway.

    ## Options
    None.
    """

    code = "KL101"
    name = "init-activation-mismatch"
    summary = "Kernel initializer does not match the layer's activation"
    views = ("source", "model")
    fix = FixAvailability.ALWAYS

    VALID = [
        Valid('import keras\nkeras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")\n'),
        Valid('import keras\nkeras.layers.Dense(64, activation="tanh")\n', "tanh wants Glorot, the default"),
        Valid(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input((8,))\n"
            "x = layers.Dense(32, use_bias=False)(inputs)\n"
            "x = layers.BatchNormalization()(x)\n"
            "x = layers.ReLU()(x)\n",
            "normalization between the layer and its activation",
        ),
        Valid(
            "import keras\n"
            'keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.Orthogonal())\n',
            "an initializer it cannot judge",
        ),
        Valid(
            "from dataclasses import dataclass\n\n@dataclass\nclass Dense:\n    units: int\n"
            '    activation: str = "relu"\n\nDense(8)\n',
            "a user class called Dense",
        ),
        Valid(
            "import torch.nn as nn\nnn.Sequential(nn.Linear(10, 64), nn.ReLU())\n",
            "not Keras",
        ),
        Valid(
            'import keras\ncfg = load()\nkeras.layers.Dense(64, activation="relu", **cfg)\n',
            "the initializer may be in an unknown dict",
        ),
    ]

    INVALID = [
        Invalid(
            'import keras\nkeras.layers.Dense(64, activation="relu")\n',
            'import keras\nkeras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")\n',
            lines=(2,),
        ),
        Invalid(
            "import keras\nkeras.layers.Dense(64, activation='tanh', kernel_initializer='he_uniform')\n",
            "import keras\nkeras.layers.Dense(64, activation='tanh', kernel_initializer='glorot_uniform')\n",
        ),
        Invalid(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input(shape=(28, 28, 1))\n"
            "x = layers.Conv2D(16, 3)(inputs)\n"
            'x = layers.Activation("relu")(x)\n',
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input(shape=(28, 28, 1))\n"
            'x = layers.Conv2D(16, 3, kernel_initializer="he_normal")(inputs)\n'
            'x = layers.Activation("relu")(x)\n',
            lines=(5,),
            note="the activation comes from the next layer",
        ),
        Invalid(
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.Dense(\n"
            "        128,\n"
            '        activation="gelu",\n'
            "        kernel_initializer=tf.keras.initializers.GlorotUniform(seed=1),\n"
            "    ),\n"
            "    tf.keras.layers.Dense(10),\n"
            "])\n",
            "import tensorflow as tf\n\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.Dense(\n"
            "        128,\n"
            '        activation="gelu",\n'
            "        kernel_initializer=tf.keras.initializers.HeUniform(seed=1),\n"
            "    ),\n"
            "    tf.keras.layers.Dense(10),\n"
            "])\n",
            lines=(4,),
        ),
        Invalid(
            "from keras import Sequential, Input\nfrom keras.layers import Dense\n\n"
            'model = Sequential([Input((30,)), Dense(64, activation="selu"), Dense(1)])\n',
            "from keras import Sequential, Input\nfrom keras.layers import Dense\n\n"
            'model = Sequential([Input((30,)), Dense(64, activation="selu", kernel_initializer="lecun_normal"), '
            "Dense(1)])\n",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            'conv_args = {"activation": "relu", "padding": "same"}\n'
            "x = layers.Conv2D(32, 3, **conv_args)(keras.Input((32, 32, 3)))\n",
            "import keras\nfrom keras import layers\n\n"
            'conv_args = {"activation": "relu", "padding": "same"}\n'
            'x = layers.Conv2D(32, 3, kernel_initializer="he_normal", **conv_args)(keras.Input((32, 32, 3)))\n',
            lines=(5,),
            note="the activation comes from a ** dict",
        ),
        Invalid(
            "import tensorflow as tf\n\n"
            "def block(x, units=64, act=tf.nn.relu):\n"
            "    return tf.keras.layers.Dense(units, act)(x)\n",
            "import tensorflow as tf\n\n"
            "def block(x, units=64, act=tf.nn.relu):\n"
            '    return tf.keras.layers.Dense(units, act, kernel_initializer="he_normal")(x)\n',
            note="a positional activation from a parameter default",
        ),
    ]

    def check(self, ctx) -> None:
        done: set = set()
        for layer in ctx.analysis.layers:
            params = K.KERNEL_LAYERS.get(layer.qual)
            key = layer.node if layer.node is not None else id(layer)
            if params is None or key in done or layer.library:
                continue  # a library's own layers (a keras.applications model's) are not the user's to initialize
            param = params[0]
            init = classify_initializer(layer.arg(param))
            if init is None:
                continue
            eff = effective_activation(layer)
            if eff is None or eff.activation == NORMALIZED:
                continue
            want = wanted_family(eff.activation)
            if want is None or not mismatched(want, init.family):
                continue
            done.add(key)
            variant = "normal" if init.how == "default" else init.variant
            if want == "lecun" and init.how == "default":
                variant = "normal"
            new_name = f"{want}_{variant}"
            short = layer.qual.rsplit(".", 1)[1]
            where = ""
            if eff.via is not None:
                line = ctx.line(eff.via) if not isinstance(eff.via, OpUse) else None
                if isinstance(eff.via, LayerObj):
                    where = f" (from the following `{eff.via.qual.rsplit('.', 1)[1]}`" + (
                        f" on line {line})" if line else ")")
                elif isinstance(eff.via, OpUse) and eff.via.node is not None:
                    where = " (applied right after it)"
            family_text = {"he": "He", "lecun": "LeCun normal", "glorot": "Glorot"}[want]
            message = (f"`{short}` feeds {eff.activation}{where} but its `{param}` is {init.text}; "
                       f"{eff.activation} wants {family_text} initialization")
            fix = self.make_fix(ctx, layer, param, init, want, variant, new_name)
            ctx.report(layer, message, fix)

    def make_fix(self, ctx, layer, param, init, want, variant, new_name):
        msg = f"Set `{param}` to {new_name!r}"
        if layer.site is None or layer.site.node is None:
            return None
        if init.how == "default":
            q = _quote(layer)
            return ctx.fix(msg, [ctx.add_keyword(layer.site, param, f"{q}{new_name}{q}")])
        a: Arg = init.arg
        local = a.via in ("keyword", "positional")
        if init.how == "string":
            v = a.value
            node = v.node if isinstance(v, Const) and isinstance(v.node, cst.SimpleString) and v.node is a.node else None
            if node is not None:
                return ctx.fix(msg, [ctx.replace(a, f"{node.prefix}{node.quote}{new_name}{node.quote}")], safe=local)
            q = _quote(layer)
            return ctx.fix(msg, [ctx.replace(a, f"{q}{new_name}{q}")], safe=local)
        if init.how == "class":
            obj: Obj = a.value
            if obj.site is None or obj.site.node is None:
                return None
            cls_name = K.INITIALIZER_CLASSES[(want, variant)]
            func = obj.site.node.func
            inline = local and obj.site.node is a.node
            if isinstance(func, cst.Attribute):
                edit = ctx.replace((func.attr, obj.site.top), cls_name)
                return ctx.fix(f"Use `{cls_name}`", [edit], safe=inline)
            text, imports = ctx.ref(f"keras.initializers.{cls_name}")
            edit = ctx.replace((func, obj.site.top), text)
            return ctx.fix(f"Use `{cls_name}`", [edit], safe=inline, imports=imports)
        q = _quote(layer)
        return ctx.fix(msg, [ctx.replace(a, f"{q}{new_name}{q}")], safe=local)


def _quote(layer) -> str:
    """The quote character the call already uses for strings, or a double quote."""
    for a in layer.site.node.args:
        v = a.value
        if isinstance(v, cst.SimpleString):
            return v.quote if len(v.quote) == 1 else '"'
    return '"'

"""KL102 constant-kernel-init."""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.graph import graph_of
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.layers import NORMALIZED, effective_activation, loaded_before_training, wanted_family
from klint.source.values import ABSENT, Arg, Const, LayerObj, ModelObj, Obj, Ref

#: Initializers that give every unit the same weights, by lower-cased name
#: (string, class or function), with how a message calls them.
CONSTANT_INITIALIZERS = {
    "zeros": "an all-zeros", "zero": "an all-zeros", "ones": "an all-ones", "one": "an all-ones",
    "constant": "a constant", "zeros_initializer": "an all-zeros", "ones_initializer": "an all-ones",
    "constant_initializer": "a constant",
}

#: Non-Keras callables that build such initializers (``tf.zeros_initializer()``).
TF_CONSTANT_INITIALIZERS = frozenset((
    "tensorflow.zeros_initializer", "tensorflow.ones_initializer", "tensorflow.constant_initializer",
    "tensorflow.compat.v1.zeros_initializer", "tensorflow.compat.v1.ones_initializer",
    "tensorflow.compat.v1.constant_initializer",
))

#: The initializer each family wants when nothing else is known, as KL101's table gives it.
REPLACEMENT = {"he": "he_normal", "lecun": "lecun_normal", "glorot": "glorot_uniform"}
CLASS_OF = {"he_normal": "HeNormal", "lecun_normal": "LecunNormal", "glorot_uniform": "GlorotUniform"}

class ConstantKernelInit(Rule):
    """
    ## What it does
    Checks that no hidden layer with a kernel (Dense, Conv1D/2D/3D and
    their Transpose forms, SeparableConv) starts from a zeros, ones or
    constant kernel: `kernel_initializer="zeros"` (or `"ones"`,
    `"constant"`), `Zeros()`, `Ones()`, `Constant(...)`,
    `keras.initializers.zeros`, `tf.zeros_initializer()` and the like.

    A layer is hidden when its output feeds another layer or op and it is
    not a model output. Not reported: output layers (a zero-initialized
    head is a common, deliberate choice), frozen layers (`trainable=False`
    in the constructor, `layer.trainable = False`, or a frozen model
    containing them), and layers whose weights are replaced before
    training: `layer.set_weights(...)`, or `model.load_weights(...)` /
    `model.set_weights(...)` on a model that contains them, before its
    first `fit` (restoring a checkpoint after training does not undo the
    training that started from the constant). Depthwise convolutions are
    not checked: each channel has its own filter, so a constant start does
    not make channels alike.

    Deliberate structured starts are not symmetry, and are not reported
    either: a constant kernel with a bias that is not one constant (PointNet's
    T-net starts as the identity transform: a zero kernel and the identity
    as its bias), and a constant kernel whose output is added to another
    path (a zero-initialized residual branch, FCN's score layers added to
    the upsampled prediction), which starts as a no-op that gradients grow.

    ## Why is this bad
    With a constant kernel every unit of the layer computes the same
    function of its input: the units are interchangeable, and they can only
    tell themselves apart through the random weights of the next layer.
    When the next layer is constant too the units get identical updates
    forever, and the layer has the capacity of a single unit (symmetry is
    never broken). With zeros and ReLU it is worse: the pre-activations are
    all 0, ReLU's gradient there is 0, and the kernel never moves. Random
    initialization exists to break this symmetry. The message says which
    of these holds for the layer.

    ## Example
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="zeros")
    ```

    ## Use instead
    ```python
    layers.Dense(64, activation="relu", kernel_initializer="he_normal")
    ```

    ## Fix safety
    The fix sets the kernel initializer that matches the layer's activation
    (the table of KL101): `he_normal` for the ReLU family, `lecun_normal`
    for SELU, `glorot_uniform` otherwise (tanh, sigmoid, linear, unknown).
    An initializer written as a class call keeps that style
    (`Zeros()` becomes `HeNormal()`); any other spelling becomes a string.
    It only changes the starting weights of the reported layer and is safe
    when the edit is in the layer's call; when the initializer comes from a
    `**` dict shared with other calls, the edit lands in the dict and is
    unsafe.

    The model view reports on the real model as well; a saved model
    (`.keras`, `.json`) is not checked, since it carries its own weights.

    ## Options
    None.
    """

    code = "KL102"
    name = "constant-kernel-init"
    summary = "Hidden layer with a zeros, ones or constant kernel initializer"
    views = ("source", "model")
    fix = FixAvailability.ALWAYS

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="relu", kernel_initializer="he_normal"),\n'
            '    layers.Dense(1, kernel_initializer="zeros"),\n'
            "])\n",
            "a zero-initialized output layer",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, kernel_initializer="zeros", trainable=False),\n'
            "    layers.Dense(1),\n"
            "])\n",
            "a frozen layer",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="tanh", kernel_initializer="ones"),\n'
            "    layers.Dense(1),\n"
            "])\n"
            'model.load_weights("pretrained.weights.h5")\n'
            "model.fit(x, y)\n",
            "the weights are loaded before training",
        ),
        Valid(
            "import numpy as np\nimport keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((256,))\n"
            "x = layers.Dense(9, kernel_initializer='zeros',\n"
            "                 bias_initializer=keras.initializers.Constant(np.eye(3).flatten()))(inputs)\n"
            "transform = layers.Reshape((3, 3))(x)\n",
            "a zero kernel with the identity as its bias (PointNet's T-net)",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((32, 32, 64))\n"
            "score = layers.Conv2D(21, 1, kernel_initializer=keras.initializers.Zeros())(inputs)\n"
            "coarse = layers.Conv2D(21, 3, padding='same')(inputs)\n"
            "x = layers.Add()([coarse, score])\n"
            "outputs = layers.Conv2D(21, 1, activation='softmax')(x)\n",
            "a zero-initialized branch added to another path (FCN's score layers)",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            "    layers.Dense(64, bias_initializer=\"zeros\"),\n"
            "    layers.Dense(1),\n"
            "])\n",
            "only the bias is constant",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "cfg = load_config()\n"
            "model = keras.Sequential([keras.Input((16,)), layers.Dense(64, **cfg), layers.Dense(1)])\n",
            "an initializer the source view cannot see",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="tanh", kernel_initializer="ones"),\n'
            "    layers.Dense(1),\n"
            "])\n"
            "model.fit(x, y)\n"
            'model.load_weights("best.weights.h5")\n',
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="tanh", kernel_initializer="glorot_uniform"),\n'
            "    layers.Dense(1),\n"
            "])\n"
            "model.fit(x, y)\n"
            'model.load_weights("best.weights.h5")\n',
            lines=(6,),
            note="restoring a checkpoint after training does not undo the start",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="relu", kernel_initializer="zeros"),\n'
            "    layers.Dense(1),\n"
            "])\n",
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((16,)),\n"
            '    layers.Dense(64, activation="relu", kernel_initializer="he_normal"),\n'
            "    layers.Dense(1),\n"
            "])\n",
            lines=(6,),
        ),
        Invalid(
            "import tensorflow as tf\n\n"
            "inputs = tf.keras.Input((32, 32, 3))\n"
            "x = tf.keras.layers.Conv2D(16, 3, kernel_initializer=tf.keras.initializers.Constant(0.1))(inputs)\n"
            'x = tf.keras.layers.Activation("tanh")(x)\n'
            "outputs = tf.keras.layers.Dense(10)(tf.keras.layers.Flatten()(x))\n"
            "model = tf.keras.Model(inputs, outputs)\n",
            "import tensorflow as tf\n\n"
            "inputs = tf.keras.Input((32, 32, 3))\n"
            "x = tf.keras.layers.Conv2D(16, 3, kernel_initializer=tf.keras.initializers.GlorotUniform())(inputs)\n"
            'x = tf.keras.layers.Activation("tanh")(x)\n'
            "outputs = tf.keras.layers.Dense(10)(tf.keras.layers.Flatten()(x))\n"
            "model = tf.keras.Model(inputs, outputs)\n",
            lines=(4,),
            note="a Constant(...) class call, activation from the next layer",
        ),
        Invalid(
            "from keras import Sequential, Input\nfrom keras.layers import Dense\n"
            "from keras.initializers import Ones\n\n"
            'model = Sequential([Input((30,)), Dense(64, activation="selu", kernel_initializer=Ones()), Dense(1)])\n',
            "from keras import Sequential, Input\nfrom keras.layers import Dense\nfrom keras.initializers import Ones\n"
            "from keras.initializers import LecunNormal\n\n"
            'model = Sequential([Input((30,)), Dense(64, activation="selu", kernel_initializer=LecunNormal()), '
            "Dense(1)])\n",
            note="an imported class: the replacement class is imported too",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            'dense_kw = {"kernel_initializer": "zeros", "activation": "relu"}\n'
            "inputs = keras.Input((8,))\n"
            "x = layers.Dense(32, **dense_kw)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            "import keras\nfrom keras import layers\n\n"
            'dense_kw = {"kernel_initializer": "he_normal", "activation": "relu"}\n'
            "inputs = keras.Input((8,))\n"
            "x = layers.Dense(32, **dense_kw)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n",
            lines=(6,),
            note="from a ** dict: the edit lands in the dict (unsafe)",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        if ctx.view == "model" and ctx.module is None:
            return  # a saved model carries its own weights
        loaded, all_loaded = loaded_before_training(a, ctx.view)
        if all_loaded:
            return
        frozen = _frozen_model_layers(a)
        graph = graph_of(a)
        groups: dict = {}
        for layer in a.layers:
            if not isinstance(layer, LayerObj):
                continue
            key = layer.node if layer.node is not None else id(layer)
            groups.setdefault(key, []).append(layer)
        for group in groups.values():
            first = group[0]
            params = K.KERNEL_LAYERS.get(first.qual)
            if params is None or first.qual.split(".")[-1].startswith("Depthwise"):
                continue
            found = [_constant_initializer(layer, params[0]) for layer in group]
            if any(f is None for f in found):
                continue
            # the same call may build several layers (a helper called twice): every one must qualify
            if not all(_hidden(layer) and not _is_frozen(layer, frozen) and id(layer) not in loaded
                       and not layer.library for layer in group):
                continue
            if _structured_bias(first) or any(graph.ends(layer).sum for layer in group):
                # a deliberate start: the bias carries the initial function (PointNet's T-net starts
                # as the identity), or the layer's branch is added to another path (a zero-initialized
                # residual branch, FCN's score layers), so it starts as a no-op that gradients grow
                continue
            self.report(ctx, first, params[0], found[0], graph)

    def report(self, ctx, layer: LayerObj, param: str, found, graph) -> None:
        what, arg = found
        eff = effective_activation(layer)
        act = eff.activation if eff is not None and eff.activation != NORMALIZED else None
        family = wanted_family(act) if act else None
        new_name = REPLACEMENT[family or "glorot"]
        short = layer.qual.rsplit(".", 1)[1]
        how = f"; {act} wants {new_name}" if act else f"; use {new_name}"
        if what == "an all-zeros" and act in DEAD_AT_ZERO and _zero_bias(layer):
            why = (f"every pre-activation starts at 0, where {act} passes no gradient, so the layer "
                   "never trains")
        elif any(_constant_initializer(k, K.KERNEL_LAYERS[k.qual][0]) for k in graph.ends(layer).kernels):
            why = ("all its units compute the same function, and the next layer is constant too, so they "
                   "get the same updates and stay identical: the layer has the capacity of one unit")
        else:
            why = ("all its units start as the same function and are told apart only through the next "
                   "layer's weights")
        message = f"`{short}` is a hidden layer with {what} `{param}`: {why}{how}"
        ctx.report(layer, message, self.make_fix(ctx, layer, arg, new_name))

    def make_fix(self, ctx, layer: LayerObj, a: Arg, new_name: str):
        if a.node is None or layer.site is None or layer.site.node is None:
            return None
        local = a.via in ("keyword", "positional")
        v = a.value
        if isinstance(v, Obj) and v.qual.startswith("keras.initializers.") and v.site is not None \
                and v.site.node is a.node:
            cls = CLASS_OF[new_name]
            func = v.site.node.func
            if isinstance(func, cst.Attribute):
                text = f"{ctx.code(func.value)}.{cls}()"
                return ctx.fix(f"Use `{cls}()`", [ctx.replace(a, text)], safe=local)
            text, imports = ctx.ref(f"keras.initializers.{cls}")
            return ctx.fix(f"Use `{cls}()`", [ctx.replace(a, f"{text}()")], safe=local, imports=imports)
        q = _quote(layer, a)
        return ctx.fix(f"Set the kernel initializer to {new_name!r}", [ctx.replace(a, f"{q}{new_name}{q}")],
                       safe=local)


def _constant_initializer(layer, param: str):
    """``(how a message names it, the Arg)`` when the layer's kernel initializer is constant, else None."""
    a = layer.arg(param)
    if not isinstance(a, Arg):
        return None
    v = a.value
    name = None
    if isinstance(v, Const) and isinstance(v.value, str):
        name = v.value
    elif isinstance(v, Obj) and (v.qual.startswith("keras.initializers.") or v.qual in TF_CONSTANT_INITIALIZERS):
        name = v.qual.rsplit(".", 1)[1]
    elif isinstance(v, Ref) and v.qual.startswith("keras.initializers."):
        name = v.qual.rsplit(".", 1)[1]
    what = CONSTANT_INITIALIZERS.get(name.lower()) if name else None
    return (what, a) if what else None


#: Activations whose gradient at 0 is 0: a zero pre-activation never moves.
DEAD_AT_ZERO = frozenset(("relu", "relu6"))


def _structured_bias(layer) -> bool:
    """Whether the bias starts as something other than one constant for every unit (``Constant(np.eye(3)
    .flatten())``, an identity, a custom initializer): the layer's starting function is then deliberate."""
    a = layer.arg("bias_initializer")
    if a is ABSENT:
        return False
    if not isinstance(a, Arg):
        return True  # set, but the source view cannot read it
    v = a.value
    if isinstance(v, Const) and isinstance(v.value, str):
        return v.value.lower() not in CONSTANT_INITIALIZERS
    if isinstance(v, (Obj, Ref)) and v.qual.rsplit(".", 1)[1].lower() in ("zeros", "ones", "zeros_initializer",
                                                                          "ones_initializer"):
        return False
    if isinstance(v, Obj) and v.qual.rsplit(".", 1)[1].lower() in ("constant", "constant_initializer"):
        value = v.arg("value", 0)
        return not (value is ABSENT or isinstance(value, Arg) and isinstance(value.value, Const)
                    and isinstance(value.value.value, (int, float)))
    return True


def _zero_bias(layer) -> bool:
    a = layer.arg("use_bias", 2 if layer.qual == "keras.layers.Dense" else None)
    if isinstance(a, Arg) and isinstance(a.value, Const) and a.value.value is False:
        return True
    b = layer.arg("bias_initializer")
    if b is ABSENT:
        return True
    return isinstance(b, Arg) and isinstance(b.value, Const) and isinstance(b.value.value, str) and \
        b.value.value.lower() in ("zeros", "zero")


def _hidden(layer) -> bool:
    """Its output feeds something, and it is not a model output."""
    return bool(layer.consumers) and not layer.is_output


def _is_frozen(layer, frozen_models: set) -> bool:
    if layer.frozen or id(layer) in frozen_models:
        return True
    t = layer.arg("trainable")
    return isinstance(t, Arg) and isinstance(t.value, Const) and t.value.value is False


def _frozen_model_layers(a) -> set:
    out: set = set()
    for m in a.models:
        if isinstance(m, ModelObj) and m.frozen:
            out |= {id(x) for x in a.model_layers(m)[0]}
    return out


def _quote(layer, a: Arg) -> str:
    """The quote character the call already uses for strings, or a double quote."""
    if isinstance(a.node, cst.SimpleString) and len(a.node.quote) == 1:
        return a.node.quote
    for arg in layer.site.node.args:
        v = arg.value
        if isinstance(v, cst.SimpleString):
            return v.quote if len(v.quote) == 1 else '"'
    return '"'

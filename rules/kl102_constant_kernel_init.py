"""KL102 constant-kernel-init."""
from __future__ import annotations

import libcst as cst

from klint import keras_api as K
from klint.rule import FixAvailability, Invalid, Rule, Valid
from klint.semantics import NORMALIZED, effective_activation, wanted_family
from klint.source.values import Arg, Const, LayerObj, ModelObj, Obj, Ref, UserObj

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

#: Methods that overwrite the initial weights of a layer or of every layer of a model.
WEIGHT_LOADERS = frozenset(("set_weights", "load_weights"))


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
    containing them), and layers whose weights are overwritten after they
    are built: `layer.set_weights(...)`, or `model.load_weights(...)` /
    `model.set_weights(...)` on a model that contains them. Depthwise
    convolutions are not checked: each channel has its own filter, so a
    constant start does not make channels alike.

    ## Why is this bad
    With a constant kernel every unit of the layer computes the same
    function of its input: the units are interchangeable, and they can only
    tell themselves apart through the random weights of the next layer.
    When the layers around it are constant too the units get identical
    updates forever, and the layer has the capacity of a single unit
    (symmetry is never broken). With zeros and ReLU it is worse: the
    pre-activations are all 0, ReLU's gradient there is 0, and the kernel
    never moves. Random initialization exists to break this symmetry.

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
            'model.load_weights("pretrained.weights.h5")\n',
            "the weights are loaded afterwards",
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
        loaded, all_loaded = _loaded_layers(ctx)
        if all_loaded:
            return
        frozen = _frozen_model_layers(a)
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
            self.report(ctx, first, params[0], found[0])

    def report(self, ctx, layer: LayerObj, param: str, found) -> None:
        what, arg = found
        eff = effective_activation(layer)
        act = eff.activation if eff is not None and eff.activation != NORMALIZED else None
        family = wanted_family(act) if act else None
        new_name = REPLACEMENT[family or "glorot"]
        short = layer.qual.rsplit(".", 1)[1]
        why = f"; {act} wants {new_name}" if act else f"; use {new_name}"
        message = (f"`{short}` is a hidden layer with {what} `{param}`: all its units start identical and "
                   f"learn the same thing{why}")
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


def _loaded_layers(ctx) -> tuple[set, bool]:
    """Layers whose weights the file overwrites, and whether that may be any layer."""
    a = ctx.analysis
    out: set = set()
    if ctx.view == "model":
        # the calls are the source view's, on source objects: any weight loading silences the rule
        return out, any(name in WEIGHT_LOADERS for _s, _r, name in a.method_calls)
    for _site, receiver, name in a.method_calls:
        if name not in WEIGHT_LOADERS:
            continue
        if isinstance(receiver, LayerObj):
            out.add(id(receiver))
            continue
        if isinstance(receiver, (ModelObj, UserObj)):
            layers, open_ = a.model_layers(receiver)
            if open_:
                return out, True
            out |= {id(x) for x in layers}
    return out, False


def _quote(layer, a: Arg) -> str:
    """The quote character the call already uses for strings, or a double quote."""
    if isinstance(a.node, cst.SimpleString) and len(a.node.quote) == 1:
        return a.node.quote
    for arg in layer.site.node.args:
        v = arg.value
        if isinstance(v, cst.SimpleString):
            return v.quote if len(v.quote) == 1 else '"'
    return '"'

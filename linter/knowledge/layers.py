"""Questions rules ask about layers, answered from the source view's values.

What activation a layer applies, what follows it, which initializer family
its kernel uses. Each answer is ``None`` when the code does not say, and
rules stay silent on ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass

from klint.knowledge import api as K
from klint.source.values import ABSENT, Arg, Const, LayerObj, ModelObj, Obj, OpUse, Ref, Unknown, UserObj, Value

NORMALIZED = "normalized"


def activation_value(v: Value) -> str | None:
    """The activation named by an ``activation=`` value: a string, a function or a layer."""
    if isinstance(v, Const):
        if v.value is None:
            return "linear"
        if isinstance(v.value, str):
            return K.normalize_activation(v.value)
        return None
    if isinstance(v, Ref):
        return K.activation_from_function(v.qual)
    if isinstance(v, LayerObj) and v.qual in K.ACTIVATION_LAYERS:
        return layer_activation(v)
    return None


def layer_activation(layer: LayerObj) -> str | None:
    """The activation an activation layer (``ReLU()``, ``Activation("tanh")``) applies."""
    fixed = K.ACTIVATION_LAYERS.get(layer.qual)
    if fixed is not None:
        return fixed
    a = layer.arg("activation", 0)
    if isinstance(a, Arg):
        return activation_value(a.value)
    return None


def own_activation(layer: LayerObj) -> str | None:
    a = layer.arg("activation", K.ACTIVATION_POSITION.get(layer.qual))
    if a is ABSENT:
        return "linear"
    if isinstance(a, Unknown):
        return None
    return activation_value(a.value)


@dataclass
class Effective:
    activation: str  # an activation name, "linear", or NORMALIZED
    via: object = None  # the layer or op that applies it, when not the layer itself


def effective_activation(layer: LayerObj) -> Effective | None:
    """The activation a kernel layer's output goes through: its own, or that of what directly follows it."""
    own = own_activation(layer)
    if own is None:
        return None
    if own != "linear":
        return Effective(own)
    return following_activation(layer, 0)


def following_activation(layer, depth: int) -> Effective | None:
    consumers = layer.consumers
    if not consumers:
        return Effective("linear") if layer.is_output else None
    results: list[Effective] = []
    if layer.is_output:
        # a model output is linear, whatever else reads it, unless an activation does
        results.append(Effective("linear"))
    for c in consumers:
        r: Effective | None
        if isinstance(c, OpUse):
            r = Effective(c.activation, c) if c.activation else None
        elif isinstance(c, LayerObj):
            if c.qual in K.ACTIVATION_LAYERS:
                act = layer_activation(c)
                r = Effective(act, c) if act else None
            elif c.qual in K.NORMALIZATION_LAYERS:
                r = Effective(NORMALIZED, c)
            elif c.qual in K.TRANSPARENT_LAYERS and depth < 4:
                r = following_activation(c, depth + 1)
            elif c.qual in K.KERNEL_LAYERS:
                r = Effective("linear", c)
            else:
                r = None
        else:
            r = None
        if r is None:
            if layer.is_output:
                continue
            return None
        results.append(r)
    first = results[0]
    if all(r.activation == first.activation for r in results):
        return first
    return None


@dataclass
class Init:
    family: str  # he, glorot, lecun
    variant: str  # uniform, normal
    how: str  # default, string, class, function
    arg: Arg | None = None
    text: str = ""  # how the user wrote it, for messages


def classify_initializer(a) -> Init | None:
    """The family of a kernel initializer argument, or None when it cannot be judged."""
    if a is ABSENT:
        return Init(*K.DEFAULT_KERNEL_INITIALIZER, "default", None, "glorot_uniform (the Keras default)")
    if not isinstance(a, Arg):
        return None
    v = a.value
    if isinstance(v, Const) and isinstance(v.value, str):
        fam = K.INITIALIZERS.get(v.value.lower())
        return Init(*fam, "string", a, repr(v.value)) if fam else None
    if isinstance(v, Obj) and v.qual.startswith("keras.initializers."):
        short = v.qual.rsplit(".", 1)[1]
        fam = K.INITIALIZERS.get(short.lower())
        if fam is None or v.site is None:
            return None
        extra = [k for k in v.site.keywords if k != "seed"]
        if v.site.positional or extra or v.site.open_kwargs or v.site.open_args:
            if short.lower() in ("variancescaling", "variance_scaling"):
                return None
            if v.site.positional or extra:
                return None
        return Init(*fam, "class", a, f"{short}()")
    if isinstance(v, Ref) and v.qual.startswith("keras.initializers."):
        short = v.qual.rsplit(".", 1)[1]
        fam = K.INITIALIZERS.get(short.lower())
        return Init(*fam, "function", a, short) if fam else None
    return None


def wanted_family(activation: str) -> str | None:
    return K.activation_family(activation)


def mismatched(want: str, have: str) -> bool:
    if want == "he":
        return have != "he"
    if want == "lecun":
        return have != "lecun"
    return have == "he"  # glorot-family activations accept Glorot or LeCun


def is_recurrent(layer) -> bool:
    if isinstance(layer, LayerObj):
        if layer.qual in K.RECURRENT_LAYERS:
            return True
        if layer.qual in K.WRAPPER_LAYERS or layer.qual == "keras.layers.RNN":
            w = layer.wrapped
            return isinstance(w, LayerObj) and (w.qual in K.RECURRENT_LAYERS or is_recurrent(w))
    return False


def has_batchnorm(layer) -> bool:
    if isinstance(layer, LayerObj):
        return layer.qual in K.BATCHNORM_LAYERS
    if isinstance(layer, ModelObj) and layer.kind == "application":
        return K.application_has_batchnorm(layer.qual)
    return False


def optimizer_clipping(opt) -> bool | None:
    """Whether an optimizer clips gradients: True, False, or None when the code does not say."""
    if opt.string is not None:
        return False
    if opt.site is None:
        return None
    for name in K.CLIPPING_ARGUMENTS:
        a = opt.site.arg(name)
        if isinstance(a, Arg):
            if isinstance(a.value, Const) and a.value.value is None:
                continue
            return True
        if isinstance(a, Unknown):
            return None
    return False


#: Methods that overwrite the initial weights of a layer, or of every layer of a model.
WEIGHT_LOADERS = frozenset(("set_weights", "load_weights"))


def loaded_before_training(a, view: str = "source") -> tuple[set, bool]:
    """Layers whose initial weights the file replaces before it trains them, and whether that may be any.

    ``model.load_weights(...)`` or ``set_weights(...)`` before the model's
    first ``fit`` means its initialization never trains (fine-tuning from a
    checkpoint); after ``fit`` (restoring the best epoch) it does not undo
    the training that started from the initialization. In the model view,
    whose objects are not the source view's, any such call before the
    first ``fit`` counts for every layer.
    """
    out: set = set()
    fits = getattr(a, "source_fits", a.fits)
    trained: dict = {}  # id(fit) -> ids of the layers it trains (None: unknown)

    def trains(f) -> set | None:
        if id(f) not in trained:
            layers, open_ = a.model_layers(f.model) if f.model is not None else ([], True)
            trained[id(f)] = None if open_ else {id(x) for x in layers}
        return trained[id(f)]

    for i, (_site, receiver, name) in enumerate(a.method_calls):
        if name not in WEIGHT_LOADERS:
            continue
        if isinstance(receiver, LayerObj):
            layers, open_ = [receiver], False
        elif isinstance(receiver, (ModelObj, UserObj)):
            layers, open_ = a.model_layers(receiver)
        else:
            layers, open_ = [], True
        ids = {id(x) for x in layers}
        if any(f.order < i and (trains(f) is None or open_ or trains(f) & ids) for f in fits):
            continue  # the layers were trained before their weights were loaded
        if view == "model" or open_:
            return out, True
        out |= ids
    return out, False


def trains_only_inputs(opt) -> bool:
    """Whether an optimizer updates only variables that are not a model's weights.

    Style transfer and deep dream optimize an image (a ``tf.Variable``), an
    adversarial attack an input: the learning rate is a step in pixel
    space, which the weight-space limits do not judge.
    """
    if opt.models:
        return False
    # in the model view, the source view's loops of the same optimizer when the run recorded none
    loops = opt.loops or getattr(getattr(opt, "source", None), "loops", None) or []
    return bool(loops) and all(loop.inputs for loop in loops)


WRAPPING_OPTIMIZERS = frozenset(("keras.optimizers.LossScaleOptimizer", "keras.mixed_precision.LossScaleOptimizer"))

"""What a model outputs and what its loss expects.

Shared by the rules about output activations and losses (KL501, KL502,
KL503): which loss a ``compile`` uses and whether it takes logits, what the
model's output layers apply, how many units they have, and the fix that
sets ``from_logits``.
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.layers import layer_activation, own_activation
from klint.source.values import ABSENT, Arg, Const, LayerObj, ModelObj, Obj, OpUse, Ref, UserObj


# ------------------------------------------------------------------ losses

#: Crossentropy losses: string names (as ``keras.losses.get`` accepts them)
#: to (kind, class name). ``kind`` is ``categorical`` (softmax over the last
#: axis: categorical and sparse categorical) or ``binary`` (sigmoid per unit).
CROSSENTROPY_STRINGS = {
    "categorical_crossentropy": ("categorical", "CategoricalCrossentropy"),
    "sparse_categorical_crossentropy": ("categorical", "SparseCategoricalCrossentropy"),
    "categorical_focal_crossentropy": ("categorical", "CategoricalFocalCrossentropy"),
    "binary_crossentropy": ("binary", "BinaryCrossentropy"),
    "bce": ("binary", "BinaryCrossentropy"),
    "BCE": ("binary", "BinaryCrossentropy"),
    "binary_focal_crossentropy": ("binary", "BinaryFocalCrossentropy"),
}
for _kind, _cls in set(CROSSENTROPY_STRINGS.values()):
    CROSSENTROPY_STRINGS[_cls] = (_kind, _cls)  # keras.losses.get("BinaryCrossentropy") works too

#: Loss classes, with the position of ``from_logits`` in their constructor.
CROSSENTROPY_CLASSES = {
    "CategoricalCrossentropy": ("categorical", 0),
    "SparseCategoricalCrossentropy": ("categorical", 0),
    "CategoricalFocalCrossentropy": ("categorical", 2),
    "BinaryCrossentropy": ("binary", 0),
    "BinaryFocalCrossentropy": ("binary", 3),
}

LOSS_MODULES = ("keras.losses", "keras.metrics")


@dataclass
class Loss:
    """A crossentropy loss given to ``compile``."""

    arg: Arg  # the compile call's loss argument
    kind: str  # categorical or binary
    cls: str  # the loss class, e.g. SparseCategoricalCrossentropy
    how: str  # string, function or object
    from_logits: bool | None  # None: the code does not say
    logits: object = ABSENT  # the object's from_logits argument: Arg, ABSENT or UNKNOWN
    obj: Obj | None = None
    text: str = ""  # how the code writes the loss, for messages


def crossentropy_loss(loss_arg) -> Loss | None:
    """The crossentropy loss of a ``compile`` loss argument, or None (another loss, or unknown)."""
    if not isinstance(loss_arg, Arg):
        return None
    v = loss_arg.value
    if isinstance(v, Const) and isinstance(v.value, str):
        found = CROSSENTROPY_STRINGS.get(v.value)
        if found is None:
            return None
        return Loss(loss_arg, found[0], found[1], "string", False, text=f'"{v.value}"')
    if isinstance(v, Ref):
        module, _, name = v.qual.rpartition(".")
        found = CROSSENTROPY_STRINGS.get(name)
        if module not in LOSS_MODULES or found is None or name[:1].isupper():
            return None
        return Loss(loss_arg, found[0], found[1], "function", False, text=name)
    if isinstance(v, Obj) and not isinstance(v, (LayerObj, ModelObj)):
        module, _, name = v.qual.rpartition(".")
        found = CROSSENTROPY_CLASSES.get(name)
        if module != "keras.losses" or found is None:
            return None
        a = v.arg("from_logits", found[1])
        if a is ABSENT:
            flag = False
        elif isinstance(a, Arg) and isinstance(a.value, Const) and isinstance(a.value.value, bool):
            flag = a.value.value
        else:
            flag = None
        text = f"{name}(from_logits={flag})" if flag is not None else name
        return Loss(loss_arg, found[0], name, "object", flag, a, v, text)
    return None


def from_logits_fix(ctx, loss: Loss, value: bool):
    """Set ``from_logits`` on the loss: edit the object, or turn a string or function into the class.

    The fix is safe only where it edits what is written in the ``compile``
    call itself: a loss object built there with a literal (or no)
    ``from_logits``, a literal string, a function named there.
    """
    code = "True" if value else "False"
    msg = f"Set `from_logits={code}`"
    local = loss.arg.via in ("keyword", "positional")
    if loss.how == "object":
        obj = loss.obj
        if obj is None or obj.site is None or obj.site.node is None:
            return None
        inline = local and obj.site.node is loss.arg.node
        if isinstance(loss.logits, Arg):
            node = loss.logits.node
            if node is None:
                return None
            literal = isinstance(node, cst.Name) and node.value in ("True", "False")
            own = loss.logits.via in ("keyword", "positional")
            return ctx.fix(msg, [ctx.replace(loss.logits, code)], safe=inline and own and literal)
        if loss.logits is ABSENT:
            return ctx.fix(msg, [ctx.add_keyword(obj.site, "from_logits", code)], safe=inline)
        return None
    if not value:
        return None  # a string or function loss already takes probabilities
    node = loss.arg.node
    if loss.how == "string":
        literal = isinstance(node, (cst.SimpleString, cst.ConcatenatedString))
    else:
        literal = isinstance(node, cst.Attribute) or (isinstance(node, cst.Name) and node.value in CROSSENTROPY_STRINGS)
    text, imports = ctx.ref(f"keras.losses.{loss.cls}")
    return ctx.fix(f"Use `{loss.cls}(from_logits=True)`", [ctx.replace(loss.arg, f"{text}(from_logits=True)")],
                   safe=local and literal, imports=imports)


# ----------------------------------------------------------------- outputs

#: Layers that neither mix nor squash values: an activation before them is
#: still the model's output activation, and a linear output stays linear.
PASS_LAYERS = K.SHAPE_LAYERS

#: Those of PASS_LAYERS that keep the last axis, so a unit count before them still holds after them.
SAME_UNITS = K.SAME_UNIT_LAYERS


@dataclass
class Output:
    """A model output and the activation it ends with."""

    layer: object  # the model's output layer (where a finding about it is reported)
    activation: str  # an activation name, or "linear"
    kernel: LayerObj | None = None  # the layer whose units the output has
    via: object = None  # the Activation/Softmax layer or op applying the activation, when separate
    units: int | None = None  # the size of the last axis, when known


def model_outputs(a, model, depth: int = 0) -> list | None:
    """The layers (or activation ops) producing ``model``'s outputs; None when the code does not say."""
    if isinstance(model, UserObj):
        model = model.model
    if not isinstance(model, ModelObj) or depth > 4:
        return None
    snap = getattr(model, "snap_layers", None)
    if snap is not None:
        outs = [x for x in snap if x.is_output]
        return outs or None
    if model.kind == "sequential":
        items = [x for x in model.layers if isinstance(x, (LayerObj, ModelObj, UserObj))]
        if model.open or not items:
            return None
        last = items[-1]
        return [last] if isinstance(last, LayerObj) else model_outputs(a, last, depth + 1)
    if model.kind == "functional":
        out: list = []
        for t in model.outputs:
            for p in t.producers:
                if isinstance(p, LayerObj) or (isinstance(p, OpUse) and p.activation):
                    out.append(p)
                    continue
                sub = model_outputs(a, p, depth + 1) if isinstance(p, (ModelObj, UserObj)) else None
                if sub is None:
                    return None
                out += sub
        return out or None
    if model.kind == "subclass" and model.cls is not None:
        seen: set = set()
        out = []
        for x in a.layers:
            key = x.node if x.node is not None else id(x)
            mine = any(m is model for m in x.exits) if x.exits else x.owner is model.cls
            if x.is_output and mine and key not in seen:
                seen.add(key)
                out.append(x)
        return out or None
    return None


def output_activations(a, model) -> list[Output]:
    """Each output of ``model`` whose activation the code tells."""
    outs = model_outputs(a, model) if model is not None else None
    result = []
    for o in outs or []:
        info = output_activation(o)
        if info is not None:
            result.append(info)
    return result


def output_activation(out) -> Output | None:
    """The activation a model output ends with: walk back from it to an activation or kernel layer."""
    if isinstance(out, OpUse):
        prods = [p for p in out.producers if isinstance(p, LayerObj)]
        if len(prods) != 1 or len(out.producers) != 1:
            return None
        kernel, units = _kernel_before(prods[0])
        return Output(prods[0], K.normalize_activation(out.activation), kernel, out, units)
    cur = out
    keep_units = True
    for _ in range(8):
        if not isinstance(cur, LayerObj):
            return None
        if cur.qual in K.ACTIVATION_LAYERS:
            act = activation_layer_activation(cur)
            if act is None:
                return None
            kernel, units = _kernel_before(cur)
            return Output(out, act, kernel, cur, units if keep_units else None)
        layer = cur
        if cur.qual in K.WRAPPER_LAYERS and cur.qual.endswith("TimeDistributed") and isinstance(cur.wrapped, LayerObj):
            layer = cur.wrapped
        if layer.qual in K.KERNEL_LAYERS:
            act = own_activation(layer)
            if act is None:
                return None
            return Output(out, act, layer, None, layer_units(layer) if keep_units else None)
        if cur.qual not in PASS_LAYERS:
            return None
        if cur.qual not in SAME_UNITS:
            keep_units = False
        prods = cur.producers
        if len(prods) != 1:
            return None
        cur = prods[0]
    return None


def activation_layer_activation(layer: LayerObj) -> str | None:
    """What an activation layer applies over the last axis; None for a Softmax over another axis."""
    act = layer_activation(layer)
    if act == "softmax" and layer.qual == "keras.layers.Softmax":
        axis = layer.arg("axis", 0)
        if axis is ABSENT:
            return act
        if isinstance(axis, Arg) and isinstance(axis.value, Const) and axis.value.value == -1:
            return act
        return None
    return act


def _kernel_before(layer: LayerObj):
    """The kernel layer right before an activation layer (through dropout), and its unit count."""
    cur = layer
    for _ in range(4):
        prods = cur.producers
        if len(prods) != 1 or not isinstance(prods[0], LayerObj):
            return None, None
        p = prods[0]
        inner = p.wrapped if p.qual == "keras.layers.TimeDistributed" and isinstance(p.wrapped, LayerObj) else p
        if inner.qual in K.KERNEL_LAYERS:
            return inner, layer_units(inner)
        if p.qual not in SAME_UNITS:
            return None, None
        cur = p
    return None, None


def layer_units(layer: LayerObj) -> int | None:
    """The size of a kernel layer's last output axis, when written as a number."""
    if layer.qual == "keras.layers.Dense":
        a = layer.arg("units", 0)
    elif layer.qual == "keras.layers.EinsumDense":
        a = layer.arg("output_shape", 1)
    elif layer.qual.startswith(("keras.layers.DepthwiseConv",)):
        return None
    else:
        a = layer.arg("filters", 0)
    if not isinstance(a, Arg) or not isinstance(a.value, Const):
        return None
    v = a.value.value
    if isinstance(v, (tuple, list)) and v:
        v = v[-1]
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        return None
    return v


def describe(ctx, o: Output) -> str:
    """How a message names an output: '`Dense` on line 6', or the activation layer or op ending it."""
    if isinstance(o.via, OpUse):
        where, what = o.kernel if o.kernel is not None else o.layer, "the output op after `{1}`"
    else:
        where = o.via if isinstance(o.via, LayerObj) else (o.kernel if o.kernel is not None else o.layer)
        what = "the output `{1}`"
    short = where.qual.rsplit(".", 1)[1] if isinstance(where, LayerObj) else "layer"
    line = ctx.line(where) if isinstance(where, LayerObj) else None
    return what.format(o.activation, short) + (f" on line {line}" if line else "")


def loss_output_mismatches(a, from_logits: bool, mismatched):
    """``(compile, loss, output)`` for each crossentropy loss whose ``from_logits`` is ``from_logits``
    and whose model has an output for which ``mismatched(loss, output)`` holds; once per loss."""
    done: set = set()
    for comp in a.compiles:
        loss = crossentropy_loss(comp.loss)
        if loss is None or loss.from_logits is not from_logits:
            continue
        bad = [o for o in output_activations(a, comp.model) if mismatched(loss, o)]
        if not bad:
            continue
        key = loss.arg.node if loss.arg.node is not None else id(comp)
        if key in done:
            continue
        done.add(key)
        yield comp, loss, bad[0]

"""KL202 dropout-before-batchnorm."""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.source.values import Arg, Const, LayerObj

DROPOUT_LAYERS = K.DROPOUT_LAYERS


class DropoutBeforeBatchNorm(Rule):
    """
    ## What it does
    Checks for a dropout layer (`Dropout`, `SpatialDropout1D/2D/3D`,
    `GaussianDropout`, `AlphaDropout`) whose output goes directly into a
    `BatchNormalization` (or `SyncBatchNormalization`).

    A dropout with a constant rate of 0 and a frozen BatchNormalization
    (`trainable=False`, which runs in inference mode) are not reported.

    ## Why is this bad
    Dropout changes the variance of its output during training only: it
    zeroes units and scales the survivors by `1/(1-rate)`. A
    BatchNormalization right after it learns its moving variance from those
    noisier training activations, then at inference receives the
    dropout-free activations, whose variance is different. The statistics
    it normalizes with no longer match its input ("variance shift", Li et
    al. 2019), and accuracy at inference drops in a way the training loss
    does not show. Dropout belongs after the normalization (and after the
    activation), typically just before the next weight layer.

    ## Example
    ```python
    layers.Dense(256, use_bias=False),
    layers.Dropout(0.3),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    ```

    ## Use instead
    ```python
    layers.Dense(256, use_bias=False),
    layers.BatchNormalization(),
    layers.Dropout(0.3),
    layers.Activation("relu"),
    ```

    ## Fix safety
    The fix swaps the two layers: in a `Sequential` list (or two
    consecutive `model.add(...)` calls) it exchanges the two entries; in a
    functional chain (`x = Dropout(...)(x)` then
    `x = BatchNormalization(...)(x)`, or
    `BatchNormalization(...)(Dropout(...)(x))`) it exchanges the two layer
    constructors, so the normalization is applied first. It is offered only
    when the dropout feeds nothing but that BatchNormalization, which reads
    nothing else, and both are built in place. It is unsafe: it changes the
    model (and the order of its weights), so a checkpoint saved before no
    longer loads.

    ## Options
    None.
    """

    code = "KL202"
    name = "dropout-before-batchnorm"
    summary = "Dropout directly before BatchNormalization"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            "    layers.Dense(256, use_bias=False),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dropout(0.3),\n"
            '    layers.Activation("relu"),\n'
            "    layers.Dense(10),\n"
            "])\n",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((64,))\n"
            "x = layers.Dropout(0.3)(inputs)\n"
            "x = layers.LayerNormalization()(x)\n"
            "model = keras.Model(inputs, layers.Dense(10)(x))\n",
            "LayerNormalization does not keep moving statistics",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            "    layers.Dropout(0.3),\n"
            "    layers.BatchNormalization(trainable=False),\n"
            "    layers.Dense(10),\n"
            "])\n",
            "a frozen BatchNormalization runs in inference mode",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            "    layers.Dense(256, use_bias=False),\n"
            "    layers.Dropout(0.3),\n"
            "    layers.BatchNormalization(),\n"
            '    layers.Activation("relu"),\n'
            "    layers.Dense(10),\n"
            "])\n",
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            "    layers.Dense(256, use_bias=False),\n"
            "    layers.BatchNormalization(),\n"
            "    layers.Dropout(0.3),\n"
            '    layers.Activation("relu"),\n'
            "    layers.Dense(10),\n"
            "])\n",
            lines=(7,),
        ),
        Invalid(
            "from tensorflow.keras import Input, Model\n"
            "from tensorflow.keras.layers import BatchNormalization, Conv2D, Dense, Flatten, ReLU, SpatialDropout2D\n\n"
            "inputs = Input((32, 32, 3))\n"
            "x = Conv2D(32, 3, use_bias=False)(inputs)\n"
            "x = SpatialDropout2D(0.2)(x)\n"
            "x = BatchNormalization(momentum=0.9)(x)\n"
            "x = ReLU()(x)\n"
            "model = Model(inputs, Dense(10)(Flatten()(x)))\n",
            "from tensorflow.keras import Input, Model\n"
            "from tensorflow.keras.layers import BatchNormalization, Conv2D, Dense, Flatten, ReLU, SpatialDropout2D\n\n"
            "inputs = Input((32, 32, 3))\n"
            "x = Conv2D(32, 3, use_bias=False)(inputs)\n"
            "x = BatchNormalization(momentum=0.9)(x)\n"
            "x = SpatialDropout2D(0.2)(x)\n"
            "x = ReLU()(x)\n"
            "model = Model(inputs, Dense(10)(Flatten()(x)))\n",
            lines=(6,),
            note="a functional chain: the two constructors are swapped",
        ),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential()\n"
            "model.add(keras.Input((64,)))\n"
            "model.add(keras.layers.Dense(128, use_bias=False))\n"
            "model.add(keras.layers.Dropout(0.5))\n"
            "model.add(keras.layers.BatchNormalization())\n"
            "model.add(keras.layers.Dense(1))\n",
            "import keras\n\n"
            "model = keras.Sequential()\n"
            "model.add(keras.Input((64,)))\n"
            "model.add(keras.layers.Dense(128, use_bias=False))\n"
            "model.add(keras.layers.BatchNormalization())\n"
            "model.add(keras.layers.Dropout(0.5))\n"
            "model.add(keras.layers.Dense(1))\n",
            lines=(6,),
            note="consecutive model.add calls",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((64,))\n"
            "x = layers.Dropout(0.3)(inputs)\n"
            "y = layers.BatchNormalization()(x)\n"
            "model = keras.Model(inputs, [layers.Dense(1)(y), layers.Dense(1)(x)])\n",
            None,
            lines=(5,),
            note="the dropout also feeds another layer: no fix",
        ),
    ]

    def check(self, ctx) -> None:
        groups: dict = {}
        for layer in ctx.analysis.layers:
            if isinstance(layer, LayerObj) and layer.qual in DROPOUT_LAYERS and not layer.library:
                key = layer.node if layer.node is not None else id(layer)
                groups.setdefault(key, []).append(layer)
        for group in groups.values():
            if _zero_rate(group[0]):
                continue
            pairs = [(d, bn) for d in group for bn in d.consumers if _live_batchnorm(bn)]
            if not pairs:
                continue
            dropout, bn = pairs[0]
            short = dropout.qual.rsplit(".", 1)[1]
            bn_short = bn.qual.rsplit(".", 1)[1]
            line = ctx.line(bn)
            where = f" (line {line})" if line and line != ctx.line(dropout) else ""
            message = (f"`{short}` feeds `{bn_short}`{where} directly: its moving variance is learned on "
                       f"dropout's training noise and is wrong at inference; apply dropout after the normalization")
            fix = self.make_fix(ctx, group, bn) if all(_sole_link(d) for d in group) else None
            ctx.report(dropout, message, fix)

    def make_fix(self, ctx, group: list, bn: LayerObj):
        # every layer the dropout's call builds must feed a layer of the same BatchNormalization call
        if any(d.consumers[0].node is not bn.node for d in group):
            return None
        d = group[0]
        ds, bs = d.site, bn.site
        if ds is None or bs is None or ds.node is None or bs.node is None or ds.top is None or bs.top is None:
            return None
        if not _swappable(ds.node, ds.top, bs.node, bs.top):
            return None
        edits = [ctx.replace(ds, ctx.code(bs.node)), ctx.replace(bs, ctx.code(ds.node))]
        return ctx.fix(f"Move the `{d.qual.rsplit('.', 1)[1]}` after the `{bn.qual.rsplit('.', 1)[1]}`",
                       edits, safe=False)


def _zero_rate(layer) -> bool:
    r = layer.arg("rate", 0)
    return isinstance(r, Arg) and isinstance(r.value, Const) and r.value.value in (0, 0.0) \
        and not isinstance(r.value.value, bool)


def _live_batchnorm(x) -> bool:
    """A BatchNormalization layer that trains (and so keeps moving statistics)."""
    if not isinstance(x, LayerObj) or x.qual not in K.BATCHNORM_LAYERS or x.frozen:
        return False
    t = x.arg("trainable")
    return not (isinstance(t, Arg) and isinstance(t.value, Const) and t.value.value is False)


def _sole_link(d: LayerObj) -> bool:
    """The dropout feeds only one BatchNormalization, which reads only the dropout."""
    if d.is_output or len(d.consumers) != 1:
        return False
    bn = d.consumers[0]
    return _live_batchnorm(bn) and len(bn.producers) == 1 and bn.producers[0] is d


# ------------------------------------------------------------- syntax


def _swappable(dn: cst.Call, dtop, bn: cst.Call, btop) -> bool:
    """Whether exchanging the text of the two constructor calls swaps the layers, and nothing else."""
    if dtop is btop:
        if _consecutive_in_literal(dtop, dn, bn):
            return True
        applied_bn = _application(btop, bn)
        applied_d = _application(dtop, dn)
        # BatchNormalization(...)(Dropout(...)(x))
        return (applied_bn is not None and applied_d is not None and _only_arg(applied_bn) is applied_d
                and _only_arg(applied_d) is not None)
    d_recv, b_recv = _added(dtop, dn), _added(btop, bn)
    if d_recv is not None and b_recv is not None:
        return d_recv.deep_equals(b_recv)  # model.add(Dropout(...)); model.add(BatchNormalization())
    # x = Dropout(...)(x); x = BatchNormalization(...)(x)
    d_target, d_value = _assignment(dtop)
    _b_target, b_value = _assignment(btop)
    if d_target is None or b_value is None:
        return False
    if not (isinstance(d_value, cst.Call) and d_value.func is dn and _only_arg(d_value) is not None):
        return False
    if not (isinstance(b_value, cst.Call) and b_value.func is bn):
        return False
    arg = _only_arg(b_value)
    return isinstance(arg, cst.Name) and arg.value == d_target


def _only_arg(call: cst.Call):
    """The single positional argument of a call with nothing else, or None."""
    if len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


def _small(top):
    if isinstance(top, cst.SimpleStatementLine) and len(top.body) == 1:
        return top.body[0]
    return None


def _added(top, node):
    """The receiver of ``receiver.add(node)`` when that is the whole statement."""
    s = _small(top)
    if isinstance(s, cst.Expr) and isinstance(s.value, cst.Call):
        call = s.value
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "add" and _only_arg(call) is node:
            return call.func.value
    return None


def _assignment(top):
    """``(name, value)`` of a ``name = value`` statement."""
    s = _small(top)
    if isinstance(s, cst.Assign) and len(s.targets) == 1 and isinstance(s.targets[0].target, cst.Name):
        return s.targets[0].target.value, s.value
    return None, None


def _consecutive_in_literal(top, first, second) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def visit_List(self, node) -> None:
            self.check(node)

        def visit_Tuple(self, node) -> None:
            self.check(node)

        def check(self, node) -> None:
            nonlocal found
            values = [e.value for e in node.elements]
            for x, y in zip(values, values[1:]):
                if x is first and y is second:
                    found = True

    top.visit(Finder())
    return found


def _application(top, ctor):
    """The call ``ctor(...)(...)`` that applies the layer built by ``ctor``, inside ``top``."""
    out = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if node.func is ctor:
                out.append(node)

    top.visit(Finder())
    return out[0] if len(out) == 1 else None

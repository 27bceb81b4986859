"""KL101 init-activation-mismatch."""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.graph import Chains, Graph, graph_of
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.layers import (
    NORMALIZED,
    classify_initializer,
    effective_activation,
    loaded_before_training,
    mismatched,
    wanted_family,
)
from klint.source.values import Arg, Const, LayerObj, Obj, OpUse


class InitActivationMismatch(Rule):
    """
    ## What it does
    Checks that the layers with a kernel (Dense, EinsumDense, Conv1D/2D/3D
    and their Transpose forms, SeparableConv, DepthwiseConv) are initialized
    for the activation their output goes through, where that scale reaches
    the next layer with weights: in a *plain chain* of kernel layers, with
    no normalization and no residual connection between them.

    The activation is the layer's own `activation`, or, when the layer is
    linear, that of the layer directly after it (`Activation("relu")`,
    `ReLU()`, `LeakyReLU()`, `PReLU()`, `ELU()`, `tf.nn.relu(x)`); dropout,
    flatten, reshape, pooling and padding layers in between are looked
    through.

    | activation | wants |
    | --- | --- |
    | relu, relu6, leaky_relu, elu, gelu, silu/swish, mish, PReLU | He (`he_normal`, `he_uniform`) |
    | selu | LeCun (`lecun_normal`) |
    | tanh, sigmoid, softmax, linear | Glorot (the Keras default) or LeCun |

    A mismatch is reported once per layer stack (a model, or the layers a
    block helper builds outside any model), naming every layer it covers
    and how deep the plain chain runs, with one fix for all of them. A
    layer whose line says `# noqa: KL101` is left out of the stack.

    Not reported, because the initializer's scale does not reach another
    layer there:
    - a layer whose output is normalized (BatchNormalization,
      LayerNormalization, GroupNormalization...) before the next kernel
      layer;
    - the model's output layer (an He-initialized head under a softmax);
    - a layer on a residual branch, which a skip connection adds back to
      the signal that entered it;
    - a short chain (fewer than 5 kernel layers) whose output is
      normalized, added to a skip connection or read by a layer of its own
      kind (attention, a custom block), rather than reaching the model's
      output: the scale is reset right after it;
    - a short GELU or SiLU feed-forward block behind a LayerNormalization,
      the transformer's usual layout;
    - a layer whose output goes only into something the source view cannot
      see into (an attention layer, a call of another library);
    - layers whose weights are replaced before training (`load_weights` or
      `set_weights` before the first `fit`), frozen layers, and the layers
      a library builds for you (those inside a `keras.applications`
      model).

    A layer that goes where the source view cannot follow (`model.add(...)`
    on a model built elsewhere) is judged by its activation alone; one that
    nothing uses (built to show its config) is not reported.

    ## Why is this bad
    Initializers are derived to keep the variance of activations constant
    from layer to layer, for one kind of nonlinearity. Glorot assumes a
    symmetric, roughly linear activation; ReLU zeroes half of its input, so
    under Glorot every ReLU layer of a plain chain halves the signal, and a
    deep stack starts with vanishing activations and gradients (ten layers:
    a thousandth of the variance). He initialization doubles the variance
    to compensate; using it under tanh or sigmoid does the opposite and
    saturates them. SELU self-normalizes only from LeCun normal weights.
    Normalization layers and residual connections reset the scale, which is
    why the chain's depth is what matters.

    ## Example
    ```python
    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Fix safety
    The fix sets `kernel_initializer` to the matched family and keeps the
    uniform or normal variant the user chose (`glorot_uniform` becomes
    `he_uniform`; the default becomes `he_normal`; `GlorotUniform()` becomes
    `HeUniform()`, spelled through the same module path) on every layer of
    the stack. It only changes starting weights, and is safe. When the
    initializer comes from a dict or constant shared with other calls, the
    edit lands there and is marked unsafe.

    A block helper whose layer serves several calls gets an edit only when
    it is right for all of them: a helper called with `gelu` in one place
    and `selu` in another is reported without a fix for that layer.

    Custom initializers, `Orthogonal`, `VarianceScaling` with explicit
    arguments and other initializers it cannot judge are left alone.

    ## Options
    None.
    """

    code = "KL101"
    name = "init-activation-mismatch"
    summary = "Kernel initializer does not match the activation in a plain chain of layers"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            '    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),\n'
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            '    layers.Dense(256, activation="tanh"),\n'
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
            "tanh wants Glorot, the default",
        ),
        Valid(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input((32, 32, 3))\n"
            'x = layers.Conv2D(32, 3, activation="relu")(inputs)\n'
            "x = layers.BatchNormalization()(x)\n"
            'x = layers.Conv2D(64, 3, activation="relu")(x)\n'
            "x = layers.BatchNormalization()(x)\n"
            "outputs = layers.Dense(10)(layers.Flatten()(x))\n",
            "each layer's output is normalized before the next kernel layer",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            '    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),\n'
            '    layers.Dense(10, activation="softmax", kernel_initializer="he_normal"),\n'
            "])\n",
            "an He-initialized output layer under a softmax",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n\n"
            "def residual_block(x, filters):\n"
            '    y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)\n'
            '    y = layers.Conv2D(filters, 3, padding="same")(y)\n'
            "    return layers.ReLU()(layers.Add()([x, y]))\n\n\n"
            "inputs = keras.Input((32, 32, 16))\n"
            "x = residual_block(inputs, 16)\n"
            "x = residual_block(x, 16)\n"
            "model = keras.Model(inputs, layers.Dense(10)(layers.GlobalAveragePooling2D()(x)))\n",
            "layers on residual branches: the skip connection carries the signal past them",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((64, 128))\n"
            "x = layers.MultiHeadAttention(4, 32)(inputs, inputs)\n"
            "x = layers.LayerNormalization()(x + inputs)\n"
            "ffn = keras.Sequential([layers.Dense(512, activation='gelu'), layers.Dense(128)])\n"
            "x = layers.LayerNormalization()(x + ffn(x))\n",
            "a transformer's GELU feed-forward block, behind its LayerNorm",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            '    layers.Dense(256, activation="relu"),\n'
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n"
            'model.load_weights("pretrained.weights.h5")\n'
            'model.fit(x, y)\n',
            "the weights are replaced before training",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            '    layers.Dense(256, activation="relu"),  # noqa: KL101\n'
            '    layers.Dense(10, activation="softmax"),\n'
            "])\n",
            "a `noqa` comment on the layer",
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
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential()\n"
            "model.add(keras.Input((20,)))\n"
            'model.add(layers.Dense(64, activation="relu"))\n'
            'model.add(layers.Dense(64, activation="relu"))\n'
            'model.add(layers.Dense(1, activation="sigmoid"))\n',
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential()\n"
            "model.add(keras.Input((20,)))\n"
            'model.add(layers.Dense(64, activation="relu", kernel_initializer="he_normal"))\n'
            'model.add(layers.Dense(64, activation="relu", kernel_initializer="he_normal"))\n'
            'model.add(layers.Dense(1, activation="sigmoid"))\n',
            lines=(6,),
            note="one finding for the stack, one fix for all its layers",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((32,))])\n"
            "for width in (256, 256, 128, 128, 64, 64, 32, 32):\n"
            '    model.add(layers.Dense(width, activation="relu"))\n'
            'model.add(layers.Dense(10, activation="softmax"))\n',
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((32,))])\n"
            "for width in (256, 256, 128, 128, 64, 64, 32, 32):\n"
            '    model.add(layers.Dense(width, activation="relu", kernel_initializer="he_normal"))\n'
            'model.add(layers.Dense(10, activation="softmax"))\n',
            lines=(6,),
            note="a deep plain stack built in a loop: a chain of 9 kernel layers",
        ),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((12,)),\n"
            "    keras.layers.Dense(48, activation='tanh', kernel_initializer='he_uniform'),\n"
            "    keras.layers.Dense(1, activation='sigmoid'),\n"
            "])\n",
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((12,)),\n"
            "    keras.layers.Dense(48, activation='tanh', kernel_initializer='glorot_uniform'),\n"
            "    keras.layers.Dense(1, activation='sigmoid'),\n"
            "])\n",
            lines=(5,),
            note="He under tanh",
        ),
        Invalid(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input(shape=(28, 28, 1))\n"
            "x = layers.Conv2D(16, 3)(inputs)\n"
            'x = layers.Activation("relu")(x)\n'
            "x = layers.MaxPooling2D()(x)\n"
            "outputs = layers.Dense(10)(layers.Flatten()(x))\n",
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input(shape=(28, 28, 1))\n"
            'x = layers.Conv2D(16, 3, kernel_initializer="he_normal")(inputs)\n'
            'x = layers.Activation("relu")(x)\n'
            "x = layers.MaxPooling2D()(x)\n"
            "outputs = layers.Dense(10)(layers.Flatten()(x))\n",
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
            note="an initializer class keeps its spelling",
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
            "inputs = keras.Input((32, 32, 3))\n"
            "x = layers.Conv2D(32, 3, **conv_args)(inputs)\n"
            'outputs = layers.Conv2D(3, 1, activation="sigmoid")(x)\n',
            "import keras\nfrom keras import layers\n\n"
            'conv_args = {"activation": "relu", "padding": "same"}\n'
            "inputs = keras.Input((32, 32, 3))\n"
            'x = layers.Conv2D(32, 3, kernel_initializer="he_normal", **conv_args)(inputs)\n'
            'outputs = layers.Conv2D(3, 1, activation="sigmoid")(x)\n',
            lines=(6,),
            note="the activation comes from a ** dict",
        ),
        Invalid(
            "import tensorflow as tf\n\n\n"
            "def block(x, units=64, act=tf.nn.relu):\n"
            "    return tf.keras.layers.Dense(units, act)(x)\n\n\n"
            "inputs = tf.keras.Input((16,))\n"
            "outputs = tf.keras.layers.Dense(1)(block(block(inputs)))\n",
            "import tensorflow as tf\n\n\n"
            "def block(x, units=64, act=tf.nn.relu):\n"
            '    return tf.keras.layers.Dense(units, act, kernel_initializer="he_normal")(x)\n\n\n'
            "inputs = tf.keras.Input((16,))\n"
            "outputs = tf.keras.layers.Dense(1)(block(block(inputs)))\n",
            lines=(5,),
            note="a block helper called twice: one edit serves both calls",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n\n"
            "def block(x, act):\n"
            "    return layers.Dense(64, activation=act)(x)\n\n\n"
            "inputs = keras.Input((16,))\n"
            'x = block(inputs, "gelu")\n'
            'x = block(x, "selu")\n'
            "outputs = layers.Dense(1)(x)\n",
            None,
            lines=(6,),
            note="a helper called with activations that want different initializers: no fix fits both",
        ),
        Invalid(
            'import keras\nkeras.layers.Dense(64, activation="relu")\n',
            'import keras\nkeras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")\n',
            lines=(2,),
            note="nothing visible around the layer: judged by its activation",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        graph = graph_of(a)
        kernels = [x for x in a.layers if isinstance(x, LayerObj) and x.qual in K.KERNEL_LAYERS]
        chains = Chains(kernels, lambda x: graph.ends(x).kernels, lambda x: graph.ends(x).forward)
        loaded, all_loaded = loaded_before_training(a, ctx.view)
        if all_loaded:
            return  # the weights are replaced before training: the initialization never trains
        sites: dict = {}  # construction call -> the layer objects it built (one per call of a helper)
        for layer in kernels:
            if layer.library:
                continue  # a library's own layers (a keras.applications model's) are not the user's to initialize
            key = layer.node if layer.node is not None else id(layer)
            sites.setdefault(key, []).append(layer)
        members = _stacks_of(a)
        stacks = _UnionFind()
        found: list = []
        for key, built in sites.items():
            judged = [self.judge(layer, graph, chains, loaded) for layer in built]
            reported = [j for j in judged if isinstance(j, _Mismatch)]
            if not reported:
                continue
            first = reported[0]
            # one edit serves every call of a helper: offer it only where it is right for all of them
            wants = {(j.want, j.new_name) for j in judged if j is not None and not isinstance(j, _Neutral)}
            fixable = len(wants) == 1 and all(isinstance(j, (_Mismatch, _Neutral)) for j in judged)
            depth = max(j.depth for j in reported)
            more = any(j.more for j in reported if j.depth == depth)
            found.append((key, first, fixable, depth, more))
            for layer in built:
                for stack in members.get(id(layer)) or [_scope_of(layer)]:
                    stacks.union(key, stack)
        groups: dict = {}
        for item in found:
            groups.setdefault(stacks.find(item[0]), []).append(item)
        for items in groups.values():
            self.report(ctx, items)

    def judge(self, layer, graph: Graph, chains: Chains, loaded: set):
        """What KL101 says of one layer object: a mismatch that matters, neutral (nothing to say, whatever
        its initializer), or None (its initializer suits it, or the code does not say)."""
        param = K.KERNEL_LAYERS[layer.qual][0]
        if layer.frozen or id(layer) in loaded:
            return _Neutral()
        init = classify_initializer(layer.arg(param))
        eff = effective_activation(layer)
        if init is None or eff is None:
            return None
        if eff.activation == NORMALIZED:
            return _Neutral()
        want = wanted_family(eff.activation)
        if want is None:
            return None
        variant = "normal" if init.how == "default" else init.variant
        new_name = f"{want}_{variant}"
        if not mismatched(want, init.family):
            return _Fine(want, new_name)
        ends = graph.ends(layer)
        if not ends.kernels:
            if ends.norm or ends.head or ends.residual:
                # normalized, a model output, or the last layer of a residual branch: the
                # initializer's scale does not reach another layer
                return _Neutral(want, new_name)
            if ends.other or ends.sink or ends.join or not (layer.escaped or layer.producers):
                # what reads it is opaque to the source view (an attention layer, a call of another
                # library), or nothing uses it (a layer built to show its config): whether its scale
                # matters cannot be told
                return _Neutral(want, new_name)
            # it goes where the source view cannot follow (``model.add`` on a model built elsewhere):
            # it is judged by its activation alone
        if graph.in_residual_branch(layer):
            return _Neutral(want, new_name)  # the skip connection carries the signal past the branch
        depth, more = chains.depth(layer)
        if depth < DEEP and not more:
            if _settled_after(layer, graph):
                # a short chain whose output is normalized, added to a skip connection, or read by a
                # layer that rescales it itself: the scale does not carry on
                return _Neutral(want, new_name)
            if eff.activation in K.SMOOTH_ACTIVATIONS and all(graph.behind_norm(s) for s in chains.starts(layer)):
                return _Neutral(want, new_name)  # a transformer's feed-forward block, behind its LayerNorm
        return _Mismatch(layer, param, init, eff, want, variant, new_name, depth, more)

    def report(self, ctx, items: list) -> None:
        parts = []
        facts = {}
        for _key, m, fixable, depth, more in items:
            if isinstance(m.eff.via, LayerObj):
                m.via_line = ctx.line(m.eff.via)
            fix = self.make_fix(ctx, m) if fixable else None
            part = ctx.part(m.layer, fix, _note(m))
            if part.at is None:
                # built outside this file's calls (model view): reported where it was built, without a fix
                ctx.report(m.layer, _message([m], [None], depth, more))
                continue
            parts.append(part)
            facts[id(part)] = (m, depth, more)
        if not parts:
            return

        def describe(kept) -> str:
            ms = [facts[id(p)][0] for p in kept]
            depth = max(facts[id(p)][1] for p in kept)
            more = any(facts[id(p)][2] for p in kept if facts[id(p)][1] == depth)
            return _message(ms, [p.row for p in kept], depth, more)

        names = sorted({m.new_name for m, _d, _more in facts.values()})
        ctx.report_group(parts, describe, f"Set the kernel initializers to {' / '.join(names)}")

    def make_fix(self, ctx, m: "_Mismatch"):
        layer, param, init, want, variant, new_name = m.layer, m.param, m.init, m.want, m.variant, m.new_name
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


#: From this many kernel layers, a plain chain is deep whatever comes before it.
DEEP = 5

FAMILY_TEXT = {"he": "He", "lecun": "LeCun normal", "glorot": "Glorot"}


@dataclass
class _Mismatch:
    layer: LayerObj
    param: str
    init: object
    eff: object
    want: str
    variant: str
    new_name: str
    depth: int
    more: bool
    via_line: int | None = None  # the line of the activation layer after it, for the message


@dataclass
class _Fine:
    want: str
    new_name: str


@dataclass
class _Neutral:
    want: str | None = None
    new_name: str | None = None


def _settled_after(layer, graph: Graph) -> bool:
    """Whether every plain chain that goes on from ``layer`` ends in a normalization layer, a residual
    sum or a layer of its own kind (attention, a custom block), never in the model's output nor in
    nothing at all."""
    stack, seen = [layer], {id(layer)}
    while stack:
        node = stack.pop()
        ends = graph.ends(node)
        if ends.head or ends.sink or ends.join or not (ends.kernels or ends.norm or ends.residual or ends.other):
            return False
        for k in ends.kernels:
            if id(k) not in seen:
                seen.add(id(k))
                stack.append(k)
    return True


def _short(layer) -> str:
    return layer.qual.rsplit(".", 1)[1]


def _note(m: _Mismatch) -> str:
    return f"`{_short(m.layer)}` feeds {m.eff.activation}; its `{m.param}` is {m.init.text}"


def _message(ms: list, rows: list, depth: int, more: bool) -> str:
    """The finding's message for the layers that remain (``rows`` are their lines, None when unknown)."""
    if not (depth > 1 or more):
        chain = ""
    elif len(ms) == 1:
        chain = (f" in a plain chain of {'at least ' if more else ''}{depth} kernel layers "
                 f"(no normalization or residual connection between them)")
    else:
        chain = (f" in plain chains {'at least' if more else 'up to'} {depth} kernel layers deep "
                 f"(no normalization or residual connection between them)")
    m = ms[0]
    if len(ms) == 1:
        where = ""
        via = m.eff.via
        if isinstance(via, LayerObj):
            on = f" on line {m.via_line}" if m.via_line else ""
            where = f" (through the following `{_short(via)}`{on})"
        elif isinstance(via, OpUse) and via.node is not None:
            where = " (applied right after it)"
        return (f"`{_short(m.layer)}` feeds {m.eff.activation}{where}{chain}, but its `{m.param}` is "
                f"{m.init.text}; {m.eff.activation} wants {FAMILY_TEXT[m.want]} initialization")
    lines = [r for r in rows if r]
    listed = f" (lines {_join(lines)})" if lines else ""
    acts = {x.eff.activation for x in ms}
    inits = {x.init.text for x in ms}
    wants = {x.want for x in ms}
    if len(acts) == 1 and len(inits) == 1 and len(wants) == 1:
        return (f"{len(ms)} kernel layers{listed} feed {m.eff.activation}{chain}, but their `{m.param}` is "
                f"{m.init.text}; {m.eff.activation} wants {FAMILY_TEXT[m.want]} initialization")
    wanted = "; ".join(sorted({f"{x.eff.activation} wants {FAMILY_TEXT[x.want]}" for x in ms}))
    return (f"{len(ms)} kernel layers{listed}{chain} start from initializers that do not suit their "
            f"activations: {wanted} initialization")


def _join(rows: list) -> str:
    rows = sorted(set(rows))
    if len(rows) > 8:
        return ", ".join(map(str, rows[:8])) + f" and {len(rows) - 8} more"
    return ", ".join(map(str, rows))


def _stacks_of(a) -> dict:
    """The stack each layer belongs to, by layer id: the smallest model that contains it (a GAN's
    generator, not the GAN that trains it with its discriminator), as a one-item list."""
    best: dict = {}
    for m in a.models:
        if getattr(m, "kind", None) == "application":
            continue
        layers, _open = a.model_layers(m)
        for x in layers:
            if id(x) not in best or len(layers) < best[id(x)][0]:
                best[id(x)] = (len(layers), m)
    return {k: [m] for k, (_n, m) in best.items()}


def _scope_of(layer):
    """What a layer outside every model belongs to: the block helper that built it, or the module."""
    f = getattr(layer, "function", None)
    return f.node if f is not None else "module"


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}
        self.keys: dict = {}

    def _id(self, x):
        k = id(x) if not isinstance(x, (str, int)) else x
        self.keys.setdefault(k, x)
        return k

    def find(self, x):
        k = self._id(x)
        root = k
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(k, k) != root:  # path compression
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, x, y) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[ry] = rx


def _quote(layer) -> str:
    """The quote character the call already uses for strings, or a double quote."""
    for a in layer.site.node.args:
        v = a.value
        if isinstance(v, cst.SimpleString):
            return v.quote if len(v.quote) == 1 else '"'
    return '"'

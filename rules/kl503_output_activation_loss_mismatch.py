"""KL503 output-activation-loss-mismatch."""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.losses import (
    SAME_UNITS,
    activation_layer_activation,
    crossentropy_loss,
    describe,
    layer_units,
    output_activations,
)
from klint.knowledge.layers import own_activation
from klint.source.values import Arg, Const, LayerObj

#: Activations whose values are neither probabilities nor logits of either sign.
NOT_PROBABILITIES = frozenset((
    "relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "celu", "gelu", "silu", "mish", "hard_silu",
    "tanh", "hard_tanh", "softplus", "softsign", "exponential",
))


class OutputActivationLossMismatch(Rule):
    """
    ## What it does
    Checks that a model's output activation and unit count fit its
    crossentropy loss. It reports:

    - a softmax over a single unit, anywhere in a model (`Dense(1,
      activation="softmax")`, or a `Softmax()`/`Activation("softmax")`
      right after a one-unit layer): it always outputs 1.0;
    - a categorical crossentropy (`categorical_crossentropy`,
      `sparse_categorical_crossentropy`, their classes and the focal one)
      on a one-unit output: the softmax over one class is always 1.0;
    - a sigmoid output with a categorical crossentropy;
    - a softmax output over more than two units with a binary
      crossentropy (over two units the two losses are the same);
    - a relu, tanh, elu, gelu, softplus or other output that is neither a
      probability nor a logit, with any crossentropy.

    A sigmoid output over several units with a binary crossentropy is a
    multi-label classifier and is not reported. The output activation is
    the output layer's own, or that of an activation layer that is the
    model's output right after it; unit counts are read from
    `Dense(units)` and `Conv*(filters)` written as numbers or constants
    (in the model view, from the built layers). Softmax and sigmoid outputs
    with `from_logits=True` are KL501's, linear outputs with a loss that
    expects probabilities KL502's.

    ## Why is this bad
    Each of these makes the loss measure something other than the error.
    A softmax over one unit is constant, so no gradient reaches the
    model. A categorical crossentropy over one unit is zero for every
    sample. Sigmoid outputs do not sum to one, so a categorical
    crossentropy rescales them and the classes stop competing; binary
    crossentropy on a softmax treats mutually exclusive classes as
    independent yes/no questions, and `"accuracy"` then reports
    per-unit binary accuracy, which looks excellent whatever the model
    does. A relu output cannot go below zero and a tanh output is stuck in
    [-1, 1]: neither is a probability, and as logits they cannot express a
    confident "no". The model trains, slowly or not at all, with no error.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((30,)), layers.Dense(1, activation="softmax")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([keras.Input((30,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    ```

    ## Fix safety
    Only a softmax over one unit trained with a binary crossentropy (with
    `from_logits=False`) has a fix: the activation becomes `"sigmoid"`, the
    only activation that loss can mean on one unit. The model could not
    learn before, so nothing that worked changes; the fix is safe when the
    activation string is written in the layer's call, unsafe when it comes
    from a dict, a constant or a configuration. The other mismatches have more than one
    possible repair (change the loss, the activation or the number of
    units), and no fix is offered.

    A non-linear output with `mse` is a mismatch only when the targets can
    be negative, which the source does not show; it is not reported.

    ## Options
    None.
    """

    code = "KL503"
    name = "output-activation-loss-mismatch"
    summary = "Output activation or unit count does not fit the loss"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation='sigmoid')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(20, activation='sigmoid')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n",
            "multi-label classification",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(2, activation='softmax')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n",
            "softmax over two units: binary crossentropy equals categorical crossentropy",
        ),
        Valid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((50, 64))\n"
            "scores = layers.Dense(1)(inputs)\n"
            "weights = layers.Softmax(axis=1)(scores)\n",
            "attention pooling: a softmax over the time axis",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation='relu')])\n"
            "model.compile(optimizer='adam', loss='mse')\n",
            "a regression: whether targets can be negative is not visible",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(N, activation='softmax')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n",
            "a unit count the source view cannot read",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation='softmax')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n",
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation='sigmoid')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy')\n",
            lines=(3,),
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "inputs = keras.Input((50, 64))\n"
            "scores = layers.Dense(1)(inputs)\n"
            "weights = layers.Softmax()(scores)\n",
            None,
            lines=(6,),
            note="a softmax over a one-unit axis inside a model",
        ),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation='sigmoid')])\n"
            "model.compile(optimizer='adam', loss='categorical_crossentropy')\n",
            None,
            lines=(3,),
            note="a categorical loss over one unit",
        ),
        Invalid(
            "import tensorflow as tf\n\n"
            "NUM_CLASSES = 10\n"
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.Dense(64, activation='relu', kernel_initializer='he_normal'),\n"
            "    tf.keras.layers.Dense(NUM_CLASSES, activation='sigmoid'),\n"
            "])\n"
            "model.compile(optimizer='adam', loss=tf.keras.losses.CategoricalCrossentropy())\n",
            None,
            lines=(6,),
            note="sigmoid with a categorical loss",
        ),
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(5, activation='softmax')])\n"
            "model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n",
            None,
            lines=(3,),
            note="softmax over five classes with a binary loss",
        ),
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([keras.Input((30,)), layers.Dense(5), layers.ReLU()])\n"
            "model.compile(optimizer='adam', loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
            None,
            lines=(4,),
            note="relu logits",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        done: set = set()
        for comp in a.compiles:
            loss = crossentropy_loss(comp.loss)
            for o in output_activations(a, comp.model):
                key = o.layer.node if o.layer.node is not None else id(o.layer)
                if key in done:
                    continue
                found = self.judge(ctx, o, loss)
                if found is None:
                    continue
                message, fix = found
                if ctx.report(o.layer, message, fix):
                    done.add(key)
                    for other in (o.kernel, o.via):  # the same problem, seen from the layer-wide check
                        if isinstance(other, LayerObj):
                            done.add(other.node if other.node is not None else id(other))
        # a softmax over one unit is wrong in any layer, output or not, compiled or not
        for layer in a.layers:
            if layer.qual not in K.KERNEL_LAYERS or layer.library or layer_units(layer) != 1:
                continue
            at = None
            if own_activation(layer) == "softmax":
                at = layer
            elif own_activation(layer) == "linear":
                at = _softmax_after(layer)
            if at is None:
                continue
            key = at.node if at.node is not None else id(at)
            if key in done:
                continue
            done.add(key)
            short = layer.qual.rsplit(".", 1)[1]
            ctx.report(at, f"softmax over the single unit of `{short}` always outputs 1.0: nothing can be "
                           f"learned through it; use sigmoid, or one unit per class")

    def judge(self, ctx, o, loss):
        """The message (and fix) for an output that does not fit its loss, or None."""
        act, n = o.activation, o.units

        def where() -> str:  # for messages only, like lw() below
            return describe(ctx, o)

        if act == "softmax" and n == 1:
            fix = None
            if loss is not None and loss.kind == "binary" and loss.from_logits is False:
                fix = self.sigmoid_fix(ctx, o)
            return (f"{where()} is a softmax over a single unit: it always outputs 1.0 and nothing can be "
                    f"learned; use sigmoid for a binary output, or one unit per class"), fix
        if loss is None:
            return None

        def lw() -> str:  # computed only for a message: a line number costs a position lookup
            line = ctx.line(loss.arg)
            return f"`{loss.text}`" + (f" (line {line})" if line else "")
        if loss.kind == "categorical" and n == 1 and act in ("linear", "sigmoid"):
            return (f"{where()} has a single unit, but {lw()} takes a softmax over the classes: over one "
                    f"class it is always 1.0 and the loss never moves; use BinaryCrossentropy, or one "
                    f"unit per class"), None
        if act == "sigmoid" and loss.kind == "categorical" and loss.from_logits is False:
            return (f"{where()} applies sigmoid, whose outputs do not sum to 1, but {lw()} expects a "
                    f"distribution over classes: use softmax, or BinaryCrossentropy for multi-label "
                    f"targets"), None
        if act == "softmax" and loss.kind == "binary" and loss.from_logits is False and n is not None and n > 2:
            return (f"{where()} is a softmax over {n} mutually exclusive classes, but {lw()} scores each unit "
                    f"as an independent yes/no: use a categorical crossentropy (or sigmoid for "
                    f"multi-label targets)"), None
        if act in NOT_PROBABILITIES:
            return (f"{where()} applies {act}, whose outputs are neither probabilities nor logits of "
                    f"either sign, with {lw()}: use softmax or sigmoid (or a linear output with "
                    f"`from_logits=True`)"), None
        return None

    def sigmoid_fix(self, ctx, o):
        layer = o.kernel
        if o.via is not None or layer is None or layer.site is None:
            return None
        a = layer.arg("activation", K.ACTIVATION_POSITION.get(layer.qual))
        if not isinstance(a, Arg) or not isinstance(a.value, Const) or a.node is None:
            return None
        node = a.value.node if isinstance(a.value.node, cst.SimpleString) else a.node
        quote = node.quote if isinstance(node, cst.SimpleString) and len(node.quote) == 1 else '"'
        literal = isinstance(a.node, cst.SimpleString) and a.via in ("keyword", "positional")
        return ctx.fix("Use `sigmoid`", [ctx.replace(a, f"{quote}sigmoid{quote}")], safe=literal)


def _softmax_after(layer: LayerObj):
    """A softmax layer over the last axis right after ``layer`` (through dropout), or None."""
    cur = layer
    for _ in range(4):
        if len(cur.consumers) != 1 or not isinstance(cur.consumers[0], LayerObj):
            return None
        c = cur.consumers[0]
        if c.qual in K.ACTIVATION_LAYERS:
            return c if activation_layer_activation(c) == "softmax" else None
        if c.qual not in SAME_UNITS:
            return None
        cur = c
    return None

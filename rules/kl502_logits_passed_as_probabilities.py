"""KL502 logits-passed-as-probabilities."""
from __future__ import annotations

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.knowledge.losses import describe, from_logits_fix, loss_output_mismatches


class LogitsPassedAsProbabilities(Rule):
    """
    ## What it does
    Checks that a model whose output is linear (no activation) is not
    compiled with a crossentropy loss that expects probabilities: a loss
    with `from_logits=False`, which is the default of the loss classes and
    what the string losses (`"categorical_crossentropy"`,
    `"sparse_categorical_crossentropy"`, `"binary_crossentropy"` and the
    focal ones) and the loss functions (`keras.losses.binary_crossentropy`)
    always use.

    The output is linear when its layer has no `activation` (or
    `activation=None`/`"linear"`) and no activation layer follows it as
    the model's output; dropout and reshaping layers in between are looked
    through. An output the code does not show (a `Lambda`, a custom layer,
    an activation the source view cannot read) is left alone. The finding
    is reported on the `loss` argument of `compile` (on the output layer
    when the model view finds the loss outside the file).

    ## Why is this bad
    A loss that expects probabilities clips the model's outputs into
    (0, 1), and a categorical one also divides them by their sum. Raw
    logits are neither positive nor normalized: every negative logit is
    clipped to the same tiny value and gets no gradient, and the loss no
    longer measures how wrong the model is. Training stalls or diverges
    while the code runs without error.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ```

    ## Use instead
    ```python
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ```
    or give the output layer `activation="softmax"` (`"sigmoid"` for a
    binary loss).

    ## Fix safety
    The fix tells the loss that it receives logits: it sets
    `from_logits=True` on a loss object, and turns a string or function loss
    into its class with `from_logits=True`, spelled with the file's own
    imports (`"sparse_categorical_crossentropy"` becomes
    `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`). The
    model and what `predict` returns are unchanged; the loss becomes the
    crossentropy the code meant. The fix is safe when the loss is written in
    the `compile` call (a literal string, a function, or an object built
    there), and unsafe when the loss object is built elsewhere (another use
    of it would change too) or the loss comes from a variable or a
    configuration. Adding an output activation
    instead would change what `predict` returns, so it is not offered.
    With a binary loss, note that a metric such as `"accuracy"` thresholds
    the outputs at 0.5; on logits, use `BinaryAccuracy(threshold=0.0)`.

    A categorical loss over a single output unit is left to KL503
    (`output-activation-loss-mismatch`): `from_logits=True` would not make
    it right.

    ## Options
    None.
    """

    code = "KL502"
    name = "logits-passed-as-probabilities"
    summary = "Linear output with a loss that expects probabilities"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation='softmax')])\n"
            "model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])\n"
            "model.compile(optimizer='sgd', loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='adam', loss='mse')\n",
            "a regression loss",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Lambda(squash)])\n"
            "model.compile(optimizer='adam', loss='categorical_crossentropy')\n",
            "an output the source view cannot judge",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Activation('softmax')])\n"
            "model.compile(optimizer='adam', loss='categorical_crossentropy')\n",
            "the activation is a separate layer",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((784,)), keras.layers.Flatten(), keras.layers.Dense(10)])\n"
            "model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n",
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((784,)), keras.layers.Flatten(), keras.layers.Dense(10)])\n"
            "model.compile(optimizer='sgd', loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n",
            lines=(4,),
        ),
        Invalid(
            "from tensorflow.keras import Model, Input\nfrom tensorflow.keras.layers import Dense\n"
            "from tensorflow.keras.losses import BinaryCrossentropy\n\n"
            "inputs = Input((16,))\n"
            "outputs = Dense(1, activation=None)(inputs)\n"
            "model = Model(inputs, outputs)\n"
            "model.compile(optimizer='adam', loss=BinaryCrossentropy(label_smoothing=0.1))\n",
            "from tensorflow.keras import Model, Input\nfrom tensorflow.keras.layers import Dense\n"
            "from tensorflow.keras.losses import BinaryCrossentropy\n\n"
            "inputs = Input((16,))\n"
            "outputs = Dense(1, activation=None)(inputs)\n"
            "model = Model(inputs, outputs)\n"
            "model.compile(optimizer='adam', loss=BinaryCrossentropy(label_smoothing=0.1, from_logits=True))\n",
            lines=(8,),
            note="a loss object with the default from_logits",
        ),
        Invalid(
            "from keras import Sequential, Input, layers\n\n"
            "model = Sequential([Input((32,)), layers.Dense(5)])\n"
            "model.compile('adam', 'categorical_crossentropy')\n",
            "from keras import Sequential, Input, layers\nfrom keras.losses import CategoricalCrossentropy\n\n"
            "model = Sequential([Input((32,)), layers.Dense(5)])\n"
            "model.compile('adam', CategoricalCrossentropy(from_logits=True))\n",
            lines=(4,),
            note="the loss class is imported where the file does not reach it",
        ),
    ]

    def check(self, ctx) -> None:
        def linear(loss, o) -> bool:
            # a categorical loss over one unit is wrong either way: KL503 reports it
            return o.activation == "linear" and not (loss.kind == "categorical" and o.units == 1)

        for _comp, loss, o in loss_output_mismatches(ctx.analysis, False, linear):
            message = (f"{describe(ctx, o)} is linear (logits), but `{loss.text}` expects probabilities: "
                       f"set `from_logits=True` on the loss or add an output activation")
            fix = from_logits_fix(ctx, loss, True)
            if not ctx.report(loss.arg, message, fix):
                ctx.report(o.layer, message)

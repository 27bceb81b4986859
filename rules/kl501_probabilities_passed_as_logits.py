"""KL501 probabilities-passed-as-logits.

The helpers after the rule (what a compiled loss is, which layers are a
model's outputs and what activation they end with) are shared with KL502
and KL503.
"""
from __future__ import annotations

from klint.knowledge.losses import describe, from_logits_fix, loss_output_mismatches
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid


class ProbabilitiesPassedAsLogits(Rule):
    """
    ## What it does
    Checks that a model whose output already goes through softmax or
    sigmoid is not compiled with a crossentropy loss built with
    `from_logits=True`.

    The output activation is the output layer's own `activation`, or that
    of an `Activation`/`Softmax` layer that is the model's output right
    after it (dropout and reshaping layers in between are looked through).
    The losses are `CategoricalCrossentropy`, `SparseCategoricalCrossentropy`,
    `BinaryCrossentropy` and their focal variants. The finding is reported
    on the `loss` argument of `compile` (on the output layer when the
    model view finds the loss outside the file).

    ## Why is this bad
    With `from_logits=True` the loss applies softmax (or sigmoid) itself.
    The model's probabilities are squashed a second time: a softmax over
    values in [0, 1] is nearly uniform, so the loss stays high however
    confident the model is, and its gradient is scaled down by the slope of
    the first softmax. Training is slow, plateaus early, and the model ends
    up poorly calibrated, without any error being raised. Keras on
    TensorFlow catches the simplest case (the softmax is the output's last
    operation) with a warning and recovers the logits; on JAX or PyTorch, or
    with any layer between the softmax and the output, it does not.

    ## Example
    ```python
    model = keras.Sequential([keras.Input((20,)), layers.Dense(5, activation="softmax")])
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    ```

    ## Use instead
    ```python
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=False))
    ```
    or keep `from_logits=True` and remove the output activation (then apply
    softmax yourself to the predictions).

    ## Fix safety
    The fix sets `from_logits=False` on the loss. The model and its
    predictions stay as they are, probabilities; only the loss changes, from
    a doubly squashed one to the crossentropy the code meant (Keras computes
    it from the softmax's logits, so it stays numerically stable). The fix
    is safe when the loss object is built inside the `compile` call with a
    literal `from_logits=True`. It is unsafe when the object is built
    elsewhere and only named in `compile` (another use of it, a custom
    training loop on logits say, would change too) or when the flag comes
    from a variable or a configuration. Removing the output activation
    instead would change what `predict` returns, so it is not offered.

    ## Options
    None.
    """

    code = "KL501"
    name = "probabilities-passed-as-logits"
    summary = "Softmax or sigmoid output with a `from_logits=True` loss"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES

    VALID = [
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(5)])\n"
            "model.compile(optimizer='adam', loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n",
            "a linear output: logits",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(5, activation='softmax')])\n"
            "model.compile(optimizer='adam', loss='categorical_crossentropy')\n",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(5, activation=ACT)])\n"
            "model.compile(optimizer='adam', loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n",
            "an activation the source view cannot read",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(5, activation='softmax')])\n"
            "model.compile(optimizer='adam', loss=keras.losses.CategoricalCrossentropy(from_logits=LOGITS))\n",
            "a from_logits the source view cannot read",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((20,)),\n"
            "    keras.layers.Dense(5, activation='softmax'),\n"
            "])\n"
            "model.compile(\n"
            "    optimizer='adam',\n"
            "    loss=keras.losses.CategoricalCrossentropy(from_logits=True),\n"
            ")\n",
            "import keras\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((20,)),\n"
            "    keras.layers.Dense(5, activation='softmax'),\n"
            "])\n"
            "model.compile(\n"
            "    optimizer='adam',\n"
            "    loss=keras.losses.CategoricalCrossentropy(from_logits=False),\n"
            ")\n",
            lines=(9,),
        ),
        Invalid(
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input((64,))\n"
            "x = layers.Dense(32, activation='relu', kernel_initializer='he_normal')(inputs)\n"
            "x = layers.Dense(1)(x)\n"
            "outputs = layers.Activation('sigmoid')(x)\n"
            "model = keras.Model(inputs, outputs)\n"
            "model.compile(optimizer='adam', loss=keras.losses.BinaryCrossentropy(True))\n",
            "from tensorflow import keras\nfrom tensorflow.keras import layers\n\n"
            "inputs = keras.Input((64,))\n"
            "x = layers.Dense(32, activation='relu', kernel_initializer='he_normal')(inputs)\n"
            "x = layers.Dense(1)(x)\n"
            "outputs = layers.Activation('sigmoid')(x)\n"
            "model = keras.Model(inputs, outputs)\n"
            "model.compile(optimizer='adam', loss=keras.losses.BinaryCrossentropy(False))\n",
            lines=(9,),
            note="the sigmoid is a separate output layer; from_logits given by position",
        ),
        Invalid(
            "import keras\n\n"
            "loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3), keras.layers.Softmax()])\n"
            "model.compile(optimizer='adam', loss=loss_fn)\n",
            "import keras\n\n"
            "loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=False)\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3), keras.layers.Softmax()])\n"
            "model.compile(optimizer='adam', loss=loss_fn)\n",
            lines=(5,),
            note="a loss object built outside compile: the fix is unsafe",
        ),
    ]

    def check(self, ctx) -> None:
        def squashed(loss, o) -> bool:
            return o.activation in ("softmax", "sigmoid")

        for _comp, loss, o in loss_output_mismatches(ctx.analysis, True, squashed):
            message = (f"{describe(ctx, o)} already applies {o.activation}, and `{loss.text}` applies it "
                       f"again: the loss squashes probabilities a second time; set `from_logits=False` "
                       f"or remove the output activation")
            fix = from_logits_fix(ctx, loss, False)
            if not ctx.report(loss.arg, message, fix):
                ctx.report(o.layer, message)

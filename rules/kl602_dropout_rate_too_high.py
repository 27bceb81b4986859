"""KL602 dropout-rate-too-high."""
from __future__ import annotations

from klint.knowledge import api as K

from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid
from klint.source.values import Arg, Const, LayerObj

DROPOUT_LAYERS = K.DROPOUT_LAYERS


def _rate(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
        raise ValueError(f"expected a number in [0, 1), got {v!r}")
    return float(v)


class DropoutRateTooHigh(Rule):
    """
    ## What it does
    Checks that no dropout layer (`Dropout`, `SpatialDropout1D/2D/3D`,
    `GaussianDropout`, `AlphaDropout`) drops more than `max-rate` (0.5)
    of its input. The rate is read from `rate=` or the first positional
    argument, through constants; a rate the source does not give as a
    number is not judged.

    Any position counts: the input layer of a network is the place where
    dropout should be lightest (0.2 in the dropout paper), not heaviest.

    ## Why is this bad
    Keras' `rate` is the fraction of units *dropped*, not kept (the
    original paper and some frameworks use a keep probability, and
    `Dropout(0.8)` is often a translation slip). Above 0.5 most of the
    layer's signal is removed at every step and the survivors are scaled
    up by `1/(1-rate)`: the gradient becomes very noisy, training slows
    down or underfits, and the model at inference (no dropout) sees
    activations very different from those it trained on. 0.5 already gives
    the strongest regularization of a unit (the variance of the mask is
    largest there); more than that mostly destroys information.

    ## Example
    ```python
    layers.Dense(256, activation="relu"),
    layers.Dropout(0.8),
    ```

    ## Use instead
    ```python
    layers.Dense(256, activation="relu"),
    layers.Dropout(0.2),
    ```

    ## Fix safety
    No fix is offered. The right rate depends on what the author meant: a
    keep probability written as a drop rate (0.8 should become 0.2), or a
    deliberately strong regularizer to be brought down to some value that
    only validation can tell. Changing it silently would change the
    model's capacity in an arbitrary direction.

    ## Options
    - `max-rate` (number, default 0.5): the highest rate considered
      reasonable; a higher one is reported.
    """

    code = "KL602"
    name = "dropout-rate-too-high"
    summary = "Dropout rate above 0.5"
    views = ("source", "model")
    fix = FixAvailability.NONE
    options = {"max-rate": Option(_rate, 0.5, "highest dropout rate not reported")}

    VALID = [
        Valid('import keras\nkeras.layers.Dropout(0.5)\n'),
        Valid('import keras\nkeras.layers.Dropout(rate=0.3)\n'),
        Valid('import keras\nrate = get_rate()\nkeras.layers.Dropout(rate)\n', "a rate the source cannot read"),
        Valid(
            "import torch.nn as nn\nnn.Dropout(0.8)\n",
            "not Keras",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\nfrom keras import layers\n\n"
            "model = keras.Sequential([\n"
            "    keras.Input((64,)),\n"
            '    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),\n'
            "    layers.Dropout(0.8),\n"
            "    layers.Dense(10),\n"
            "])\n",
            None,
            lines=(7,),
        ),
        Invalid(
            "from tensorflow.keras.layers import SpatialDropout2D\n\n"
            "KEEP = 0.25\n"
            "DROP = 1 - KEEP\n"
            "drop = SpatialDropout2D(rate=DROP)\n",
            None,
            lines=(5,),
            note="a rate computed from constants",
        ),
        Invalid(
            "import keras\nkeras.layers.Dropout(0.4)\n",
            None,
            options={"max-rate": 0.3},
            note="with max-rate = 0.3",
        ),
    ]

    def check(self, ctx) -> None:
        maximum = ctx.options["max-rate"]
        done: set = set()
        for layer in ctx.analysis.layers:
            key = layer.node if layer.node is not None else id(layer)
            if not isinstance(layer, LayerObj) or layer.qual not in DROPOUT_LAYERS or key in done or layer.library:
                continue
            r = layer.arg("rate", 0)
            if not (isinstance(r, Arg) and isinstance(r.value, Const)):
                continue
            rate = r.value.value
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= maximum:
                continue
            done.add(key)
            short = layer.qual.rsplit(".", 1)[1]
            what = "heavy multiplicative noise" if short == "GaussianDropout" else f"drops {rate:.0%} of its input"
            ctx.report(layer, (
                f"`{short}` rate {rate:g} is above {maximum:g} ({what}): most of the signal is lost at "
                f"every step; Keras' rate is the fraction dropped, not kept"))

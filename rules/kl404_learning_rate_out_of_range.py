"""KL404 learning-rate-out-of-range."""
from __future__ import annotations

from klint.knowledge import api as K
from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid, non_negative_number, optimizer_table
from klint.knowledge.layers import WRAPPING_OPTIMIZERS, trains_only_inputs
from klint.source.values import ABSENT, Arg, Const, Obj, SeqV

ADAPTIVE = ("Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Lion", "Adafactor")
PLAIN = ("SGD", "Adagrad", "Ftrl")

#: Learning rates from which training cannot work, by optimizer (Adadelta, which rescales its steps
#: itself, has none).
DEFAULT_CEILINGS = {**{n: 1.0 for n in ADAPTIVE}, **{n: 10.0 for n in PLAIN}}

#: Learning rates below this do not train, whatever the optimizer.
DEFAULT_FLOOR = 1e-7

#: Optimizers whose learning rate is judged against the floor (Adadelta included).
FLOOR_OPTIMIZERS = frozenset((*ADAPTIVE, *PLAIN, "Adadelta", "Lamb", "Muon"))

WHY_HIGH = {
    **{n: "an adaptive optimizer moves each weight by about the learning rate per step, so the weights jump "
          "by whole units and the loss diverges" for n in ADAPTIVE},
    **{n: "the updates overshoot by orders of magnitude and the loss goes to NaN within a few steps" for n in PLAIN},
}


_ceilings = optimizer_table(DEFAULT_CEILINGS, "ceiling")
_floor = non_negative_number


class LearningRateOutOfRange(Rule):
    """
    ## What it does
    Checks that an optimizer's learning rate lies in the range where
    training can work at all: below a hard ceiling for its kind, and not
    below a floor of 1e-7.

    | optimizer | ceiling |
    | --- | --- |
    | Adam, AdamW, Adamax, Nadam, RMSprop, Lion, Adafactor | 1.0 |
    | SGD, Adagrad, Ftrl | 10 |
    | Adadelta | none |

    A learning rate schedule is judged by its peak: `initial_learning_rate`
    (or `warmup_target` when a `CosineDecay` warms up to it), or the largest
    of the `values` of a `PiecewiseConstantDecay`. The rate may be given by
    keyword (`learning_rate=`, or the legacy `lr=`), by position, through
    constants or through a `**` dict. In the model view, the rate is read
    from the built optimizer (and its schedule's config).

    Unlike KL401, which flags rates that are high for a constant schedule,
    this rule flags values that no schedule, callback or warm-up makes
    workable. An optimizer that updates no model's weights (the image of a
    style-transfer or deep-dream loop, an adversarial input) is not judged:
    its learning rate is a step in pixel space, where large values are
    common.

    ## Why is this bad
    Above the ceiling, every update overshoots: the loss becomes NaN within
    a few steps, or the weights saturate the activations and the model
    stops learning. Below 1e-7 the updates are lost in float32 rounding
    next to weights of order 0.01 to 1, so the model does not train and
    the run silently wastes its budget. Both usually come from a typo
    (`1e3` for `1e-3`), a unit mix-up (a rate in percent), or an
    unconverted command-line value.

    ## Example
    ```python
    opt = keras.optimizers.Adam(learning_rate=1e3)
    ```

    ## Use instead
    ```python
    opt = keras.optimizers.Adam(learning_rate=1e-3)
    ```

    ## Fix safety
    No fix is offered: the intended value cannot be told from a wrong one.

    ## Options
    - `ceilings` (table, optimizer class name to learning rate): replaces
      the ceiling of the optimizers it names, or adds one, for example
      `ceilings = { SGD = 5.0, Adadelta = 100.0 }`.
    - `floor` (number, default 1e-7): the smallest accepted learning rate.
    """

    code = "KL404"
    name = "learning-rate-out-of-range"
    summary = "Learning rate outside the range where training works"
    views = ("source", "model")
    fix = FixAvailability.NONE
    options = {
        "ceilings": Option(_ceilings, DEFAULT_CEILINGS, "highest workable learning rate by optimizer"),
        "floor": Option(_floor, DEFAULT_FLOOR, "lowest workable learning rate"),
    }

    VALID = [
        Valid("import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\n"),
        Valid(
            "import tensorflow as tf\nimport keras\n\n"
            "image = tf.Variable(tf.random.uniform((1, 400, 400, 3)))\n"
            "opt = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(\n"
            "    initial_learning_rate=100.0, decay_steps=100, decay_rate=0.96))\n\n"
            "for step in range(1000):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = style_loss(image)\n"
            "    grads = tape.gradient(loss, image)\n"
            "    opt.apply_gradients([(grads, image)])\n",
            "style transfer: the optimizer moves an image's pixels",
        ),
        Valid("import keras\nopt = keras.optimizers.SGD(learning_rate=1.0, momentum=0.9)\n",
              "1.0 is high but workable for SGD"),
        Valid("import keras\nopt = keras.optimizers.Adadelta(learning_rate=1.0)\n", "Adadelta has no ceiling"),
        Valid(
            "import keras\n"
            "lr = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=10000, warmup_target=1e-3,\n"
            "                                            warmup_steps=1000)\n"
            "opt = keras.optimizers.AdamW(learning_rate=lr)\n",
            "a warm-up from zero: judged by its target",
        ),
        Valid("def Adam(learning_rate):\n    return learning_rate\n\nopt = Adam(learning_rate=5.0)\n",
              "a homonym"),
    ]

    INVALID = [
        Invalid("import keras\n\nopt = keras.optimizers.Adam(learning_rate=1e3)\n", None, lines=(3,)),
        Invalid(
            "from tensorflow.keras.optimizers import SGD\n"
            "from tensorflow.keras.optimizers.schedules import ExponentialDecay\n\n"
            "opt = SGD(ExponentialDecay(initial_learning_rate=50.0, decay_steps=100, decay_rate=0.5))\n",
            None,
            lines=(4,),
            note="a schedule is judged by its initial rate",
        ),
        Invalid(
            "import keras\n\nLR = 1e-9\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.RMSprop(LR), loss='mse')\n",
            None,
            lines=(5,),
            note="below the floor, through a constant",
        ),
        Invalid(
            "import keras\n\nopt = keras.optimizers.SGD(learning_rate=2.0)\n",
            None,
            options={"ceilings": {"SGD": 2.0}},
            note="a configured ceiling",
        ),
    ]

    def check(self, ctx) -> None:
        ceilings = ctx.options["ceilings"]
        floor = ctx.options["floor"]
        done: set = set()
        for opt in ctx.analysis.optimizers:
            key = opt.node if opt.node is not None else id(opt)
            if opt.site is None or opt.qual in WRAPPING_OPTIMIZERS or key in done:
                continue
            ceiling = ceilings.get(opt.short)
            if ceiling is None and opt.short not in FLOOR_OPTIMIZERS or trains_only_inputs(opt):
                continue
            found = _learning_rate(opt)
            if found is None:
                continue
            lr, how = found
            if ceiling is not None and lr >= ceiling:
                why = WHY_HIGH.get(opt.short, "training diverges")
                message = f"`{opt.short}` has a learning rate of {lr:g}{how}, at or above {ceiling:g}: {why}"
            elif lr < floor:
                if lr < 0:
                    why = "it climbs the loss instead of descending it"
                elif lr == 0:
                    why = "the weights never change"
                else:
                    why = "the updates vanish next to the weights and the model does not train"
                message = f"`{opt.short}` has a learning rate of {lr:g}{how}, below {floor:g}: {why}"
            else:
                continue
            done.add(key)
            ctx.report(opt, message)


def _number(v):
    if isinstance(v, Const) and not isinstance(v.value, bool) and isinstance(v.value, (int, float)):
        return float(v.value)
    return None


def _learning_rate(opt) -> tuple[float, str] | None:
    """The (peak) learning rate of an optimizer and how it was found, or None when the code does not say."""
    arg = opt.site.arg("learning_rate", 0, "lr")
    if arg is ABSENT or not isinstance(arg, Arg):
        return None  # Keras's default, or unknown
    v = arg.value
    lr = _number(v)
    if lr is not None:
        return lr, ""
    if isinstance(v, Obj) and v.qual.startswith(K.LR_SCHEDULE_PREFIX):
        short = v.qual.rsplit(".", 1)[1]
        if v.site is not None:
            peak = _peak(short, lambda name, pos: _source_arg(v, name, pos))
        else:  # the model view: the built schedule's config
            schedule = (getattr(opt, "info", None) or {}).get("schedule") or {}
            config = schedule.get("config") or {}
            peak = _peak(short, lambda name, pos: _config_arg(config, name))
        if peak is not None:
            return peak, f" (the peak of its `{short}` schedule)"
    return None


_MISSING = object()


def _source_arg(sched: Obj, name: str, pos: int):
    a = sched.arg(name, pos)
    if a is ABSENT:
        return _MISSING
    if not isinstance(a, Arg):
        return None
    if isinstance(a.value, SeqV):
        if a.value.open:
            return None
        items = [_number(x) for x in a.value.items]
        return None if any(x is None for x in items) else items
    if isinstance(a.value, Const) and a.value.value is None:
        return _MISSING
    return _number(a.value)


def _config_arg(config: dict, name: str):
    if name not in config or config[name] is None:
        return _MISSING
    v = config[name]
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v] if all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                            for x in v) else None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(f"{v:.7g}")  # configs hold float32 values
    return None


def _peak(short: str, get) -> float | None:
    """The highest learning rate a Keras schedule gives: None when it cannot be read."""
    if short == "PiecewiseConstantDecay":
        values = get("values", 1)
        return max(values) if isinstance(values, list) and values else None
    initial = get("initial_learning_rate", 0)
    if not isinstance(initial, float):
        return None
    if short == "CosineDecay":
        target = get("warmup_target", 4)
        if target is None:
            return None
        if isinstance(target, float):
            return max(initial, target)
    return initial

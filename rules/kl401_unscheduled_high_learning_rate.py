"""KL401 unscheduled-high-learning-rate."""
from __future__ import annotations

from klint.rule import FixAvailability, Invalid, Option, Rule, Valid
from klint.semantics import WRAPPING_OPTIMIZERS
from klint import keras_api as K
from klint.source.values import Arg, ClassV, Const, Obj, SeqV, Unknown, UserObj

DEFAULT_THRESHOLDS = {
    "SGD": 0.1, "Adagrad": 0.1,
    "Adam": 0.005, "AdamW": 0.005, "Adamax": 0.005, "Nadam": 0.005, "RMSprop": 0.005, "Lion": 0.005,
    "Adafactor": 0.005, "Ftrl": 0.005,
}


def _thresholds(value):
    if not isinstance(value, dict):
        raise ValueError("expected a table of optimizer names to learning rates")
    out = dict(DEFAULT_THRESHOLDS)
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise ValueError(f"threshold for {k!r} must be a positive number, got {v!r}")
        out[k] = float(v)
    return out


class UnscheduledHighLearningRate(Rule):
    """
    ## What it does
    Checks for optimizers whose learning rate is a constant at or above a
    threshold for their kind, in a file that neither schedules it nor
    changes it: no `LearningRateSchedule`, no `ReduceLROnPlateau` or
    `LearningRateScheduler` (or a callback class of the file that sets the
    learning rate) in the callbacks of `fit`, and no assignment to the
    optimizer's `learning_rate` anywhere in the file.

    The learning rate may be given by keyword (`learning_rate=`, or the
    legacy `lr=`), by position, through constants or through a `**` dict.
    Keras 2's `decay=` argument is a time-based schedule, so an optimizer
    with a non-zero `decay` is not reported here.

    | optimizer | threshold |
    | --- | --- |
    | SGD, Adagrad | 0.1 |
    | Adam, AdamW, Adamax, Nadam, RMSprop, Lion, Adafactor, Ftrl | 0.005 |
    | Adadelta | exempt |

    ## Why is this bad
    A step size that large keeps the weights bouncing across the walls of
    the loss valley instead of settling into it: the loss oscillates or
    plateaus well above its minimum, and for adaptive optimizers, whose
    effective step is close to the learning rate itself, it often diverges
    outright. Large rates can be useful early in training, but only when
    something brings them down later.

    ## Example
    ```python
    optimizer = keras.optimizers.Adam(learning_rate=0.05)
    ```

    ## Use instead
    ```python
    optimizer = keras.optimizers.Adam(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate=0.05, decay_steps=10000, decay_rate=0.9
        )
    )
    ```
    or a lower constant, or a `ReduceLROnPlateau` callback.

    ## Fix safety
    The fix wraps the value in `ExponentialDecay(initial_learning_rate=v,
    decay_steps=10000, decay_rate=0.9)`, spelled with the file's own
    imports. It changes the training dynamics (the rate falls by 10% every
    10,000 steps) and is therefore unsafe: review the schedule's constants.

    ## Options
    - `thresholds` (table, optimizer class name to learning rate): replaces
      the threshold of the optimizers it names, for example
      `thresholds = { SGD = 0.5 }`.
    """

    code = "KL401"
    name = "unscheduled-high-learning-rate"
    summary = "High constant learning rate with no schedule"
    views = ("source", "model")
    fix = FixAvailability.SOMETIMES
    options = {"thresholds": Option(_thresholds, DEFAULT_THRESHOLDS, "learning rate thresholds by optimizer")}

    VALID = [
        Valid("import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\n"),
        Valid("import keras\nopt = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)\n", "below SGD's 0.1"),
        Valid(
            "import keras\n"
            "lr = keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.01, decay_steps=5000)\n"
            "opt = keras.optimizers.SGD(learning_rate=lr)\n",
            "a schedule",
        ),
        Valid(
            "import keras\n\n"
            "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.2), loss='mse')\n"
            "model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau(patience=3)])\n",
            "an LR callback",
        ),
        Valid(
            "import keras\n\nopt = keras.optimizers.Adam(0.01)\n\n"
            "class Warmup(keras.callbacks.Callback):\n"
            "    def on_epoch_begin(self, epoch, logs=None):\n"
            "        self.model.optimizer.learning_rate = 0.01 * min(1.0, (epoch + 1) / 5)\n",
            "a callback class that sets the learning rate",
        ),
        Valid("import keras\nopt = keras.optimizers.Adadelta(learning_rate=1.0)\n", "Adadelta is exempt"),
        Valid("from keras.optimizers import SGD\nopt = SGD(lr=0.1, decay=1e-6)\n", "Keras 2 time-based decay"),
    ]

    INVALID = [
        Invalid(
            "import keras\n\nopt = keras.optimizers.Adam(learning_rate=0.05)\n",
            "import keras\n\nopt = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay("
            "initial_learning_rate=0.05, decay_steps=10000, decay_rate=0.9))\n",
            lines=(3,),
        ),
        Invalid(
            "import keras\n\nLEARNING_RATE = 0.01\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.AdamW(LEARNING_RATE), loss='mse')\n",
            "import keras\n\nLEARNING_RATE = 0.01\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.AdamW(keras.optimizers.schedules.ExponentialDecay("
            "initial_learning_rate=LEARNING_RATE, decay_steps=10000, decay_rate=0.9)), loss='mse')\n",
            lines=(5,),
            note="positional, through a constant",
        ),
        Invalid(
            "from tensorflow.keras.optimizers import SGD\n\nopt = SGD(lr=0.5)\n",
            "from tensorflow.keras.optimizers import SGD\n"
            "from tensorflow.keras.optimizers.schedules import ExponentialDecay\n\n"
            "opt = SGD(lr=ExponentialDecay(initial_learning_rate=0.5, decay_steps=10000, decay_rate=0.9))\n",
            note="the legacy lr= keyword; the schedule is imported",
        ),
        Invalid(
            "import keras\n\nopt = keras.optimizers.SGD(learning_rate=0.08)\n",
            "import keras\n\nopt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay("
            "initial_learning_rate=0.08, decay_steps=10000, decay_rate=0.9))\n",
            options={"thresholds": {"SGD": 0.05}},
            note="a configured threshold",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        if any(owner is None or not _is_callback(owner) for _, owner in a.lr_assignments):
            return  # the file sets the learning rate by hand
        lr_callback_classes = {owner for _, owner in a.lr_assignments if owner is not None}
        thresholds = ctx.options["thresholds"]
        done: set = set()
        for opt in a.optimizers:
            key = opt.node if opt.node is not None else id(opt)
            if opt.site is None or opt.qual in WRAPPING_OPTIMIZERS or key in done:
                continue
            limit = thresholds.get(opt.short)
            if limit is None:
                continue
            arg = opt.site.arg("learning_rate", 0, "lr")
            if not isinstance(arg, Arg) or not isinstance(arg.value, Const):
                continue
            lr = arg.value.value
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < limit:
                continue
            decay = opt.site.arg("decay")
            if isinstance(decay, Arg) and not (isinstance(decay.value, Const) and not decay.value.value):
                continue  # Keras 2's time-based decay schedules the rate (and Keras 3 rejects it: KL402)
            if self.has_lr_callback(a, opt, lr_callback_classes):
                continue
            done.add(key)
            source = ""
            if arg.node is not None and arg.value.node is not None and arg.value.node is not arg.node:
                line = ctx.line(arg.value)
                source = f" (set on line {line})" if line else ""
            message = (f"`{opt.short}` uses a constant learning rate of {lr:g}{source}, at or above {limit:g}, "
                       f"with no schedule, LR callback or manual adjustment")
            fix = None
            if arg.node is not None:
                text, imports = ctx.ref(K.LR_SCHEDULE_PREFIX + "ExponentialDecay")
                new = (f"{text}(initial_learning_rate={ctx.code(arg.node)}, decay_steps=10000, "
                       f"decay_rate=0.9)")
                fix = ctx.fix("Wrap the learning rate in an `ExponentialDecay` schedule",
                              [ctx.replace(arg, new)], safe=False, imports=imports)
            ctx.report(opt, message, fix)

    @staticmethod
    def has_lr_callback(a, opt, lr_classes) -> bool:
        models = opt.models
        if any(m is None for m in models):
            fits = list(a.fits)
        else:
            fits = [f for f in a.fits if f.model is None or any(f.model is m for m in models)]
        if not fits:
            # no fit to read: any LR callback the file builds counts
            return any(cb.qual in K.LR_CALLBACKS for cb in a.callbacks) or bool(lr_classes)
        for f in fits:
            cbs = f.callbacks
            if cbs is None:
                continue
            if not isinstance(cbs, SeqV) or cbs.open:
                return True  # callbacks the source view cannot see
            for cb in cbs.items:
                if isinstance(cb, Obj) and cb.qual in K.LR_CALLBACKS:
                    return True
                if isinstance(cb, UserObj) and (cb.cls in lr_classes or cb.cls.derives(*K.LR_CALLBACKS)):
                    return True
                if isinstance(cb, Unknown):
                    return True
        return False


def _is_callback(cls: ClassV) -> bool:
    return cls.derives("keras.callbacks.Callback", *K.LR_CALLBACKS)

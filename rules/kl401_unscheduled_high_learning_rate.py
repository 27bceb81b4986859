"""KL401 unscheduled-high-learning-rate."""
from __future__ import annotations

from klint.engine.rule import FixAvailability, Invalid, Option, Rule, Valid, optimizer_table
from klint.knowledge.layers import WRAPPING_OPTIMIZERS, trains_only_inputs
from klint.knowledge import api as K
from klint.source.values import Arg, ClassV, Const, LayerObj, Obj, SeqV, Unknown, UserObj

DEFAULT_THRESHOLDS = {
    "SGD": 0.1, "Adagrad": 0.1,
    "Adam": 0.005, "AdamW": 0.005, "Adamax": 0.005, "Nadam": 0.005, "RMSprop": 0.005, "Lion": 0.005,
    "Adafactor": 0.005, "Ftrl": 0.005,
}


_thresholds = optimizer_table(DEFAULT_THRESHOLDS, "threshold")


class UnscheduledHighLearningRate(Rule):
    """
    ## What it does
    Checks for optimizers whose learning rate is a constant at or above a
    threshold for their kind, and that train at that rate somewhere: no
    `LearningRateSchedule`, no `ReduceLROnPlateau` or
    `LearningRateScheduler` (or a callback class of the file that sets the
    learning rate) in the callbacks of a `fit` that trains them, and no
    assignment to their `learning_rate`.

    A callback acts on the `fit` it is given to: an LR callback on one
    `fit` schedules that fit's optimizer, not every optimizer of the file,
    nor one trained by a custom loop; an optimizer fit several times is
    reported when one of those fits runs at the constant rate (the message
    names it). An assignment to one optimizer's learning rate exempts that
    optimizer; one whose optimizer the source view cannot name (outside a
    callback class) exempts the file.

    Not reported: an optimizer that updates no model's weights (the image
    of a style-transfer or deep-dream loop, an adversarial input: a step in
    pixel space, not weight space), one that trains a single kernel layer
    on top of a frozen base (the first stage of transfer learning, where a
    high rate for the new head is the recipe), and a rate that KL404
    reports as out of range, when KL404 is selected.

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
        Valid(
            "import keras\n\n"
            "base = keras.applications.EfficientNetB0(include_top=False, weights='imagenet')\n"
            "base.trainable = False\n"
            "model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(),\n"
            "                          keras.layers.Dense(10, activation='softmax')])\n"
            "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss='categorical_crossentropy')\n"
            "model.fit(x, y)\n",
            "a new head on a frozen base",
        ),
        Valid(
            "import tensorflow as tf\nimport keras\n\n"
            "image = tf.Variable(tf.random.uniform((1, 224, 224, 3)))\n"
            "opt = keras.optimizers.Adam(learning_rate=0.02)\n\n"
            "for step in range(100):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean(image ** 2)\n"
            "    grad = tape.gradient(loss, image)\n"
            "    opt.apply_gradients([(grad, image)])\n",
            "an optimizer of an image, not of weights",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n\n\n"
            "def get_model():\n"
            "    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss='mse')\n"
            "    return model\n\n\n"
            "model = get_model()\n"
            "model.fit(x, y, callbacks=[keras.callbacks.CSVLogger('log.csv')])\n"
            "model = get_model()\n"
            "model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau()])\n",
            "import keras\n\n\n"
            "def get_model():\n"
            "    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])\n"
            "    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=keras.optimizers.schedules."
            "ExponentialDecay(initial_learning_rate=0.1, decay_steps=10000, decay_rate=0.9)), loss='mse')\n"
            "    return model\n\n\n"
            "model = get_model()\n"
            "model.fit(x, y, callbacks=[keras.callbacks.CSVLogger('log.csv')])\n"
            "model = get_model()\n"
            "model.fit(x, y, callbacks=[keras.callbacks.ReduceLROnPlateau()])\n",
            lines=(6,),
            note="an LR callback on one fit does not schedule the other",
        ),
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
        by_hand = [x for x in a.lr_assignments if x.owner is None or not _is_callback(x.owner)]
        if any(x.target is None for x in by_hand):
            return  # the file sets a learning rate by hand, on an optimizer the source view cannot name
        adjusted = {id(x.target) for x in by_hand}
        lr_callback_classes = {x.owner for x in a.lr_assignments if x.owner is not None}
        thresholds = ctx.options["thresholds"]
        # a rate that KL404 reports as out of range is reported there, once
        ceilings = (ctx.options_of("KL404") or {}).get("ceilings") or {}
        done: set = set()
        for opt in a.optimizers:
            key = opt.node if opt.node is not None else id(opt)
            if opt.site is None or opt.qual in WRAPPING_OPTIMIZERS or key in done or id(opt) in adjusted:
                continue
            limit = thresholds.get(opt.short)
            if limit is None or trains_only_inputs(opt) or _trains_a_head_only(a, opt):
                continue
            arg = opt.site.arg("learning_rate", 0, "lr")
            if not isinstance(arg, Arg) or not isinstance(arg.value, Const):
                continue
            lr = arg.value.value
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < limit:
                continue
            if opt.short in ceilings and lr >= ceilings[opt.short]:
                continue
            decay = opt.site.arg("decay")
            if isinstance(decay, Arg) and not (isinstance(decay.value, Const) and not decay.value.value):
                continue  # Keras 2's time-based decay schedules the rate (and Keras 3 rejects it: KL402)
            unscheduled = self.unscheduled_fit(a, opt, lr_callback_classes)
            if unscheduled is False:
                continue
            done.add(key)
            source = ""
            if arg.node is not None and arg.value.node is not None and arg.value.node is not arg.node:
                line = ctx.line(arg.value)
                source = f" (set on line {line})" if line else ""
            message = (f"`{opt.short}` uses a constant learning rate of {lr:g}{source}, at or above {limit:g}, "
                       f"with no schedule, LR callback or manual adjustment")
            if unscheduled is not True:
                line = ctx.line(unscheduled.site)
                if line:
                    message += f" in the `fit` on line {line}"
            fix = None
            if arg.node is not None:
                text, imports = ctx.ref(K.LR_SCHEDULE_PREFIX + "ExponentialDecay")
                new = (f"{text}(initial_learning_rate={ctx.code(arg.node)}, decay_steps=10000, "
                       f"decay_rate=0.9)")
                fix = ctx.fix("Wrap the learning rate in an `ExponentialDecay` schedule",
                              [ctx.replace(arg, new)], safe=False, imports=imports)
            ctx.report(opt, message, fix)

    @staticmethod
    def unscheduled_fit(a, opt, lr_classes):
        """Whether ``opt`` trains at its constant rate somewhere.

        False when every ``fit`` of its models has an LR callback; the first
        such ``fit`` without one, when another ``fit`` of the file has one
        (to say which); True otherwise. A callback only acts on the ``fit``
        it is given to: an LR callback on one model's ``fit`` does not
        schedule another optimizer, nor a custom training loop.
        """
        own = [f for f in a.fits if f.model is not None and any(f.model is m for m in opt.models)]
        if not own:
            # fits on models the source view cannot name, and in the model view the fits of the
            # source (a script whose run stops before a `fit` in a function) may be this optimizer's
            unknown = [f for f in a.fits if f.model is None] + list(getattr(a, "source_fits", None) or [])
            if unknown:
                # fits on models the source view cannot name may be this optimizer's
                return not any(_has_lr_callback(f, lr_classes) for f in unknown)
            if opt.loops or opt.models:
                return True  # trained by a custom loop, or compiled and never fit here: no callback acts on it
            # nothing here trains it: an LR callback the file builds may be meant for it
            return not (any(cb.qual in K.LR_CALLBACKS for cb in a.callbacks) or bool(lr_classes))
        bare = [f for f in own if not _has_lr_callback(f, lr_classes)]
        if not bare:
            return False
        if len(bare) < len(own) and bare[0].site is not None and bare[0].site.node is not None:
            return bare[0]
        return True


def _trains_a_head_only(a, opt) -> bool:
    """Whether ``opt`` trains one kernel layer on top of a frozen base (the first stage of transfer
    learning): a head that sees fixed features is a shallow problem, where a high rate is the recipe."""
    if not opt.models or any(m is None for m in opt.models):
        return False
    for model in opt.models:
        layers, open_ = a.model_layers(model)
        if open_:
            return False
        frozen = [x for x in layers if getattr(x, "frozen", False)]
        trained = [x for x in layers if isinstance(x, LayerObj) and x.qual in K.KERNEL_LAYERS and not x.frozen]
        if not frozen or len(trained) > 1:
            return False
    return True


def _has_lr_callback(fit, lr_classes) -> bool:
    cbs = fit.callbacks
    if cbs is None:
        return False
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

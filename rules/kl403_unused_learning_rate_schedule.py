"""KL403 unused-learning-rate-schedule."""
from __future__ import annotations

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.source.values import Obj

#: Builtins that only look at a value: passing a schedule to them does not use it for training.
class UnusedLearningRateSchedule(Rule):
    """
    ## What it does
    Checks that every Keras learning-rate schedule the file builds
    (`ExponentialDecay`, `CosineDecay`, `PiecewiseConstantDecay`, ... from
    `keras.optimizers.schedules`) reaches training: it must be the
    learning rate of an optimizer (directly or through variables, function
    arguments and return values), be passed to a call the source view
    cannot follow, be returned, or be used by a callback or by the file's
    own code (a `LearningRateScheduler` function that calls it, a custom
    loop that sets the optimizer's learning rate from it).

    Uses that only look at the schedule do not count: printing it, reading
    its attributes (`schedule.initial_learning_rate`), or calling it at top
    level to plot its curve.

    A schedule kept in a module-level variable is reported only in a file
    that trains (builds an optimizer, calls `fit` or applies gradients):
    elsewhere it may be defined for other modules to import.

    ## Why is this bad
    The schedule was written to bring the learning rate down during
    training, and it has no effect: the optimizer keeps the constant rate
    it was given (often a high starting rate meant for the schedule, as in
    `Adam(learning_rate=1e-2)` next to an unused `ExponentialDecay(1e-2,
    ...)`). Training then oscillates or plateaus late, and the code reads
    as if the rate were decayed, which makes the problem hard to see.

    ## Example
    ```python
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=1000, decay_rate=0.9)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss="mse")
    ```

    ## Use instead
    ```python
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=1000, decay_rate=0.9)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr_schedule), loss="mse")
    ```

    ## Fix safety
    No fix is offered: which optimizer the schedule was meant for, and
    whether it should replace that optimizer's learning rate, is the
    author's decision (the file may build several optimizers, or the
    schedule may be a leftover to delete).

    ## Options
    None.
    """

    code = "KL403"
    name = "unused-learning-rate-schedule"
    summary = "Learning rate schedule built but never used"
    views = ("source",)
    fix = FixAvailability.NONE

    VALID = [
        Valid(
            "import keras\n"
            "lr = keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.01, decay_steps=5000)\n"
            "opt = keras.optimizers.SGD(learning_rate=lr)\n",
        ),
        Valid(
            "import keras\n\n"
            "def make_schedule(steps):\n"
            "    return keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=steps, decay_rate=0.9)\n",
            "returned by a factory",
        ),
        Valid(
            "import keras\n\n"
            "schedule = keras.optimizers.schedules.PiecewiseConstantDecay([1000, 2000], [1e-2, 1e-3, 1e-4])\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "scheduler = keras.callbacks.LearningRateScheduler(lambda epoch: float(schedule(epoch)))\n"
            "model.fit(x, y, callbacks=[scheduler])\n",
            "used by a callback",
        ),
        Valid(
            "import keras\n"
            "if fast:\n"
            "    lr = keras.optimizers.schedules.CosineDecay(0.1, 1000)\n"
            "else:\n"
            "    lr = keras.optimizers.schedules.ExponentialDecay(0.1, 1000, 0.5)\n"
            "opt = keras.optimizers.SGD(learning_rate=lr)\n",
            "either branch",
        ),
    ]

    INVALID = [
        Invalid(
            "import keras\n\n"
            "lr_schedule = keras.optimizers.schedules.ExponentialDecay(\n"
            "    initial_learning_rate=1e-2, decay_steps=1000, decay_rate=0.9)\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss='mse')\n",
            None,
            lines=(3,),
        ),
        Invalid(
            "from tensorflow import keras\n\n"
            "def build(model):\n"
            "    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=10000)\n"
            "    print('peak', schedule.initial_learning_rate)\n"
            "    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse')\n",
            None,
            lines=(4,),
            note="only inspected, inside a function",
        ),
    ]

    def check(self, ctx) -> None:
        a = ctx.analysis
        if not a.schedules:
            return
        used = _schedules_given_to_optimizers(a)
        groups: dict = {}
        for s in a.schedules:
            key = s.node if s.node is not None else id(s)
            groups.setdefault(key, []).append(s)
        trains = bool(a.optimizers or a.fits or a.loops)
        reads: dict = {}
        for obj, how in a.schedule_reads.values():
            reads.setdefault(id(obj), []).append(how)
        for objs in groups.values():
            if objs[0].node is None or any(id(s) in used or s.escaped or _used(a, s, reads, trains) for s in objs):
                continue
            short = objs[0].qual.rsplit(".", 1)[1]
            ctx.report(objs[0], f"`{short}` learning rate schedule built but never passed to an optimizer (nor "
                                "returned or used by a callback): training runs at the optimizers' own learning "
                                "rates")


def _schedules_given_to_optimizers(a) -> set:
    """ids of the schedule objects that are an optimizer's learning rate (argument or assignment)."""
    out: set = set()
    for opt in a.optimizers:
        values = [opt.attrs.get(n) for n in ("learning_rate", "lr")]
        if opt.site is not None:
            values.append(opt.site.value("learning_rate", 0, "lr"))
        out |= {id(v) for v in values if isinstance(v, Obj)}
    return out


def _used(a, schedule: Obj, reads: dict, trains: bool) -> bool:
    """Whether a schedule not given to any optimizer may still reach training.

    Built straight into a call, a return or a collection: it may. Built and
    dropped: it does not. Bound to a name: it does when the name is read for
    real (passed on, returned, stored), or called inside a function (a
    scheduler function, a callback, a custom loop) or where the file sets the
    learning rate by hand; printing it, reading its attributes, showing it
    in a notebook cell, or calling it at top level to plot it do not count.
    A module-level schedule in a file that does not train is a definition
    other modules may import.
    """
    made = a.schedule_made.get(id(schedule), {"how": "flow", "module": False})
    if made["how"] == "flow":
        return True
    if made["how"] == "dropped":
        return False
    if made["module"] and not trains:
        return True
    for how in reads.get(id(schedule), ()):
        if how in ("use", "call-in-function") or (how == "call" and a.lr_assignments):
            return True
    return False

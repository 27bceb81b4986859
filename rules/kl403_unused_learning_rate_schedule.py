"""KL403 unused-learning-rate-schedule."""
from __future__ import annotations

import libcst as cst
from libcst.metadata import ClassScope, MetadataWrapper, ParentNodeProvider, ScopeProvider

from klint.rule import FixAvailability, Invalid, Rule, Valid
from klint.source.values import Obj

#: Builtins that only look at a value: passing a schedule to them does not use it for training.
INSPECTING_BUILTINS = frozenset(("print", "repr", "str", "type", "id", "isinstance", "len", "format", "vars", "dir"))


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
        uses = None
        trains = bool(a.optimizers or a.fits or a.loops)
        for objs in groups.values():
            if any(id(s) in used or s.escaped for s in objs) or objs[0].node is None:
                continue
            if uses is None:
                try:
                    uses = _Uses(ctx.module, bool(a.lr_assignments))
                except Exception:  # libcst could not resolve the scopes: say nothing
                    return
            if uses.reaches_training(objs[0].node, trains):
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


class _Uses:
    """Where a schedule's construction call ends up, read from the syntax (scopes resolved by libcst)."""

    def __init__(self, module: cst.Module, sets_lr: bool):
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.scopes = wrapper.resolve(ScopeProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        self.sets_lr = sets_lr  # the file assigns an optimizer's learning rate somewhere

    def reaches_training(self, call: cst.Call, trains: bool) -> bool:
        parent = self.parents.get(call)
        if isinstance(parent, cst.Expr):
            return False  # built and dropped
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is call:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            if len(targets) == 1 and isinstance(targets[0], cst.Name):
                return self.name_used(targets[0], trains)
        return True  # an argument, a return value, an element of a collection...: it may reach training

    def name_used(self, target: cst.Name, trains: bool) -> bool:
        scope = self.scopes.get(target)
        if scope is None or isinstance(scope, ClassScope):
            return True  # a class attribute is read through self
        if scope is scope.globals and not trains:
            return True  # a module of definitions: other modules may import it
        for assignment in scope.assignments[target.value]:
            for access in assignment.references:
                if self.is_use(access.node):
                    return True
        return False

    def is_use(self, node: cst.CSTNode) -> bool:
        parent = self.parents.get(node)
        if isinstance(parent, cst.Expr):
            return False  # a notebook cell that shows it
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return False  # reading its configuration
        if isinstance(parent, cst.FormattedStringExpression):
            return False
        if isinstance(parent, cst.Arg):
            call = self.parents.get(parent)
            inspecting = isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and (
                call.func.value in INSPECTING_BUILTINS)
            return not inspecting
        if isinstance(parent, cst.Call) and parent.func is node:
            # called: a step's learning rate, used by a callback, a scheduler function or a custom loop,
            # or only computed at top level to be looked at (a plot)
            return self.sets_lr or self.in_function(parent)
        return True

    def in_function(self, node: cst.CSTNode) -> bool:
        p = self.parents.get(node)
        while p is not None:
            if isinstance(p, (cst.FunctionDef, cst.Lambda)):
                return True
            p = self.parents.get(p)
        return False

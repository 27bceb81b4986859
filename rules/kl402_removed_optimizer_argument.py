"""KL402 removed-optimizer-argument."""
from __future__ import annotations

import libcst as cst

from klint.knowledge import api as K
from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import arg_location, keyword_arg, without
from klint.source.values import ABSENT, Arg, Const, Obj, UserObj

#: The optimizers Keras ships, whose constructors pass unknown keywords to the base class, which
#: rejects them ("Argument(s) not recognized").
KERAS_OPTIMIZERS = frozenset(f"keras.optimizers.{n}" for n in (
    "SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Ftrl", "Lion", "Adafactor",
    "Lamb", "Muon",
))

#: Keras 3's default learning rates: the initial rate of the schedule that replaces ``decay=``
#: when the call does not set one.
DEFAULT_LEARNING_RATES = {
    "SGD": 0.01, "Adam": 0.001, "AdamW": 0.001, "Adamax": 0.001, "Nadam": 0.001, "RMSprop": 0.001,
    "Adagrad": 0.001, "Adadelta": 0.001, "Ftrl": 0.001, "Lion": 0.001, "Adafactor": 0.001, "Lamb": 0.001,
    "Muon": 0.001,
}

#: Keyword arguments of older optimizers that Keras 3 does not accept, with what became of them.
REMOVED = {
    "lr": "was renamed `learning_rate`; Keras 3 rejects `lr=` (\"Argument(s) not recognized\"), so the script "
          "crashes where the optimizer is built",
    "decay": "(Keras 2's per-step time-based decay) is gone: Keras 3 ignores it with a warning, so the learning "
             "rate silently stays constant, and the optimizers of TF 2.11 to 2.15 reject it",
    "gradient_aggregator": "belongs to the Keras 2 optimizer (TF 2.10 and before); Keras 3 rejects it: remove it "
                           "and aggregate gradients in a custom `train_step` if needed",
    "gradient_transformers": "belongs to the Keras 2 optimizer (TF 2.10 and before); Keras 3 rejects it: remove "
                             "it and transform gradients in a custom `train_step` if needed",
    "jit_compile": "belongs to the optimizers of TF 2.11 to 2.15; Keras 3 rejects it: set `jit_compile` on "
                   "`model.compile()` instead",
}

#: Removed arguments of one optimizer only.
REMOVED_FOR = {
    "Nadam": {"schedule_decay": "(Keras 2's Nadam momentum schedule) is gone: Keras 3's Nadam has a fixed momentum "
                                "schedule and rejects it: remove it"},
}


class RemovedOptimizerArgument(Rule):
    """
    ## What it does
    Checks the constructor calls of Keras optimizers (SGD, Adam, AdamW,
    Adamax, Nadam, RMSprop, Adagrad, Adadelta, Ftrl, Lion, Adafactor, Lamb,
    Muon) for keyword arguments of older Keras versions that Keras 3 no
    longer accepts:

    | argument | in Keras 3 |
    | --- | --- |
    | `lr` | renamed `learning_rate`; rejected |
    | `decay` | ignored with a warning (rejected by TF 2.11 to 2.15) |
    | `gradient_aggregator`, `gradient_transformers` | rejected |
    | `jit_compile` | rejected (set it on `model.compile()`) |
    | `schedule_decay` (Nadam) | rejected |

    Arguments are found whether written in the call or expanded from a
    `**` dict. `decay=None` is accepted by Keras 3 and not reported.

    ## Why is this bad
    Keras 3 optimizers raise `ValueError: Argument(s) not recognized` for
    unknown keywords, so a Keras 2 script that writes `Adam(lr=0.001)`
    crashes on the line that builds the optimizer, before any training.
    `decay=` is worse: Keras 3 only warns and drops it, so the learning
    rate that used to fall as `lr / (1 + decay * step)` now stays at its
    initial value for the whole run, and a script tuned for the decayed
    rate oscillates or diverges late in training. (Keras 3.15.1,
    `keras/src/optimizers/base_optimizer.py`, `BaseOptimizer.__init__`:
    `decay` is popped with "Argument `decay` is no longer supported and
    will be ignored.", and any other unknown keyword raises.)

    ## Example
    ```python
    opt = keras.optimizers.SGD(lr=0.1, decay=1e-4, momentum=0.9)
    ```

    ## Use instead
    ```python
    opt = keras.optimizers.SGD(
        learning_rate=keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=0.1, decay_steps=1, decay_rate=1e-4
        ),
        momentum=0.9,
    )
    ```

    ## Fix safety
    `lr=` becomes `learning_rate=`, keeping the value: the same optimizer,
    so the fix is safe. It is offered only when `lr` is written in the call
    and `learning_rate` is not also given.

    `decay=d` is removed and the learning rate `v` (the call's, or Keras 3's
    default for the optimizer: 0.01 for SGD, 0.001 for the others) becomes
    `InverseTimeDecay(initial_learning_rate=v, decay_steps=1,
    decay_rate=d)`, spelled with the file's own imports. That is exactly
    Keras 2's decay, `v / (1 + d * step)`, but the fix is unsafe: under
    Keras 3 the script was training at a constant rate, and the decayed
    rate changes how it trains. `decay=0` is simply removed (safe). No fix
    is offered when the learning rate is already a schedule (Keras 2
    decayed the schedule's output) or when either argument comes from a
    `**` dict.

    The other arguments have no fix.

    ## Options
    None.
    """

    code = "KL402"
    name = "removed-optimizer-argument"
    summary = "Optimizer argument that Keras 3 no longer accepts"
    views = ("source",)
    fix = FixAvailability.SOMETIMES
    keras3_upgrade = True

    VALID = [
        Valid("import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\n"),
        Valid("import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3, decay=None)\n",
              "an argument Keras 3 accepts"),
        Valid("from torch.optim import SGD\nopt = SGD(params, lr=0.1)\n", "not Keras"),
        Valid(
            "import keras\n\n"
            "class MyOptimizer(keras.optimizers.Optimizer):\n"
            "    def __init__(self, lr=0.01, **kwargs):\n"
            "        super().__init__(learning_rate=lr, **kwargs)\n\n"
            "opt = MyOptimizer(lr=0.1)\n",
            "an optimizer class of the file",
        ),
    ]

    INVALID = [
        Invalid(
            "from tensorflow.keras.optimizers import RMSprop\n\nopt = RMSprop(lr=0.001)\n",
            "from tensorflow.keras.optimizers import RMSprop\n\nopt = RMSprop(learning_rate=0.001)\n",
            lines=(3,),
            raises="ValueError",
        ),
        Invalid(
            "import keras\n\nopt = keras.optimizers.SGD(lr=0.1, decay=1e-4, momentum=0.9)\n",
            "import keras\n\nopt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay("
            "initial_learning_rate=0.1, decay_steps=1, decay_rate=1e-4), momentum=0.9)\n",
            lines=(3,),
            note="lr= is renamed (safe) and decay= becomes a schedule (unsafe)",
            raises="ValueError",
        ),
        Invalid(
            "from keras.optimizers import Adam\n\nopt = Adam(decay=1e-6)\n",
            "from keras.optimizers import Adam\nfrom keras.optimizers.schedules import InverseTimeDecay\n\n"
            "opt = Adam(learning_rate=InverseTimeDecay(initial_learning_rate=0.001, decay_steps=1, "
            "decay_rate=1e-6))\n",
            note="no learning rate: Keras 3's default starts the schedule",
            silent="not isinstance(opt._learning_rate, __import__('keras').optimizers.schedules.LearningRateSchedule)",
        ),
        Invalid(
            "import keras\n\nopt = keras.optimizers.Adam(\n    learning_rate=3e-4,\n    decay=0.0,\n)\n",
            "import keras\n\nopt = keras.optimizers.Adam(\n    learning_rate=3e-4,\n)\n",
            lines=(5,),
            note="decay=0 is removed",
            warns="`decay` is no longer supported",
        ),
        Invalid(
            "import keras\n\nparams = {'lr': 0.01, 'momentum': 0.9}\nopt = keras.optimizers.SGD(**params)\n",
            None,
            lines=(3,),
            note="from a ** dict: reported on the key, not fixed",
            raises="ValueError",
        ),
        Invalid(
            "import tensorflow as tf\n\nopt = tf.keras.optimizers.Adam(1e-3, jit_compile=True)\n",
            None,
            raises="ValueError",
        ),
    ]

    def check(self, ctx) -> None:
        done: set = set()
        for opt in ctx.analysis.optimizers:
            site = opt.site
            if site is None or site.node is None or opt.qual not in KERAS_OPTIMIZERS:
                continue
            removed = {**REMOVED, **REMOVED_FOR.get(opt.short, {})}
            for name, arg in list(site.keywords.items()):
                if name not in removed or (site.node, name) in done:
                    continue
                if name == "decay" and isinstance(arg.value, Const) and arg.value.value is None:
                    continue  # Keras 3 accepts (and ignores) decay=None
                done.add((site.node, name))
                where = arg_location(site, arg, name)
                message = f"`{opt.short}(..., {name}=...)`: `{name}` {removed[name]}"
                fix = None
                if name == "lr":
                    fix = self.rename_fix(ctx, site, arg)
                elif name == "decay":
                    fix = self.decay_fix(ctx, opt, arg)
                    if _is_zero(arg.value):
                        message = f"`{opt.short}(..., decay=0)`: `decay` is gone in Keras 3 and has no effect here"
                ctx.report(where if where is not None else opt, message, fix)

    @staticmethod
    def rename_fix(ctx, site, arg: Arg):
        if arg.via != "keyword" or "learning_rate" in site.keywords or site.positional:
            return None
        kw = keyword_arg(site.node, "lr")
        if kw is None:
            return None
        return ctx.fix("Rename `lr` to `learning_rate`", [ctx.replace((kw.keyword, site.top), "learning_rate")])

    @staticmethod
    def decay_fix(ctx, opt, decay: Arg):
        site = opt.site
        if decay.via != "keyword":
            return None
        call = site.node
        decay_kw = keyword_arg(call, "decay")
        if decay_kw is None:
            return None
        if _is_zero(decay.value):
            return ctx.fix("Remove `decay=0`", [ctx.replace(site, without(call, decay_kw))])
        lr = site.arg("learning_rate", 0, "lr")
        text, imports = ctx.ref(K.LR_SCHEDULE_PREFIX + "InverseTimeDecay")
        if lr is ABSENT:
            default = DEFAULT_LEARNING_RATES.get(opt.short)
            if default is None:
                return None
            schedule = _schedule(text, cst.Float(repr(default)), decay_kw.value)
            args = [a if a is not decay_kw else a.with_changes(keyword=cst.Name("learning_rate"), value=schedule)
                    for a in call.args]
            new = call.with_changes(args=args)
        else:
            if not isinstance(lr, Arg) or lr.via not in ("keyword", "positional") or lr.node is None:
                return None
            if _is_schedule(lr.value):
                return None  # Keras 2 decayed the schedule's output: no single schedule says that
            holder = next((a for a in call.args if a.value is lr.node), None)
            if holder is None:
                return None
            schedule = _schedule(text, lr.node, decay_kw.value)
            new = without(call.with_changes(args=[a if a is not holder else a.with_changes(value=schedule)
                                                   for a in call.args]), None, "decay")
        return ctx.fix("Replace `decay` with an `InverseTimeDecay` learning rate schedule",
                       [ctx.replace(site, new)], safe=False, imports=imports)


def _is_zero(v) -> bool:
    return isinstance(v, Const) and not isinstance(v.value, bool) and isinstance(v.value, (int, float)) and v.value == 0


def _is_schedule(v) -> bool:
    if isinstance(v, Obj):
        return v.qual.startswith(K.LR_SCHEDULE_PREFIX)
    if isinstance(v, UserObj):
        return v.cls.derives(K.LR_SCHEDULE_PREFIX + "LearningRateSchedule")
    return False


def _kwarg(name: str, value: cst.BaseExpression, last: bool = False) -> cst.Arg:
    return cst.Arg(
        keyword=cst.Name(name), value=value,
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
        comma=cst.MaybeSentinel.DEFAULT if last else cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )


def _schedule(text: str, initial: cst.BaseExpression, rate: cst.BaseExpression) -> cst.Call:
    """``InverseTimeDecay(initial_learning_rate=initial, decay_steps=1, decay_rate=rate)``."""
    return cst.Call(func=cst.parse_expression(text), args=[
        _kwarg("initial_learning_rate", initial), _kwarg("decay_steps", cst.Integer("1")),
        _kwarg("decay_rate", rate, last=True),
    ])

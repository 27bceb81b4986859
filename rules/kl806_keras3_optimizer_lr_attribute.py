"""KL806 keras3-optimizer-lr-attribute."""
from __future__ import annotations

import libcst as cst

from klint.engine.rule import FixAvailability, Invalid, Rule, Valid
from klint.engine.syntax import outside_keras3
from klint.knowledge import api as K
from klint.source.values import ModelObj, Obj, OptimizerObj, Ref, UserObj

#: The backend functions that legacy code reads and sets a learning rate with.
SETTERS = ("keras.backend.set_value",)
GETTERS = ("keras.backend.get_value", "keras.backend.eval")


class Keras3OptimizerLrAttribute(Rule):
    """
    ## What it does
    Checks uses of `lr`, Keras 2's alias of an optimizer's learning rate,
    on Keras optimizers: `opt.lr`, `model.optimizer.lr` and, in a
    `keras.callbacks.Callback` subclass, `self.model.optimizer.lr`, read
    (`print(opt.lr)`, `opt.lr.assign(v)`), set (`opt.lr = v`) or passed to
    the Keras 2 backend helpers `K.set_value(opt.lr, v)` and
    `K.get_value(opt.lr)` (with `K` any of `keras.backend`,
    `tensorflow.keras.backend`). `K.set_value` is reported on
    `opt.learning_rate` too, and `K.get_value` from `keras.backend`.

    ## Why is this bad
    Keras 3 optimizers have no `lr` (Keras 3.15.1,
    `keras/src/optimizers/base_optimizer.py`: only the `learning_rate`
    property): reading it raises `AttributeError: 'Adam' object has no
    attribute 'lr'`, typically in a learning-rate callback after the
    first epoch. Setting it is worse: `opt.lr = 0.01` makes a plain
    attribute that nothing reads, and training goes on at the old rate
    without a word. `keras.backend` has no `set_value` or `get_value` in
    Keras 3 (`AttributeError`); TensorFlow's `tf.keras.backend.set_value`
    (its legacy backend) reads `x.dtype.name`, which a Keras 3 variable
    does not have, and raises `AttributeError: 'str' object has no
    attribute 'name'`.

    ## Example
    ```python
    from keras import backend as K

    class Halve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            lr = K.get_value(self.model.optimizer.lr)
            K.set_value(self.model.optimizer.lr, lr / 2)
    ```

    ## Use instead
    ```python
    class Halve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            lr = float(self.model.optimizer.learning_rate)
            self.model.optimizer.learning_rate.assign(lr / 2)
    ```

    ## Fix safety
    `lr` becomes `learning_rate`: for an optimizer built with a constant
    learning rate both name the same variable (setting
    `opt.learning_rate = v` assigns it, as Keras 2's `opt.lr = v` did), so
    the fix is safe. It is unsafe for an optimizer the file builds with a
    learning-rate schedule: Keras 2's `lr` was the schedule object, Keras
    3's `learning_rate` is its current value (and cannot be set). The
    optimizer of `self.model` in a callback is taken to have a constant
    learning rate. A use guarded by `hasattr(x, "lr")` or by `except
    AttributeError` is left alone. A file that reaches Keras only through Keras 2 itself
    (`tf_keras`, `tensorflow.python.keras`) is not checked.

    `K.set_value(opt.lr, v)` becomes `opt.learning_rate.assign(v)`, the
    same assignment of the same variable (safe); it is offered when the
    call is a statement of its own and the optimizer has no schedule.
    `K.get_value(opt.lr)` from `keras.backend` becomes
    `float(opt.learning_rate)`: the same value, but a Python float where
    Keras 2 gave a NumPy `float32`, so the fix is unsafe. With
    `tf.keras.backend.get_value`, which still works on a Keras 3 variable,
    only `lr` is renamed.

    ## Options
    None.
    """

    code = "KL806"
    name = "keras3-optimizer-lr-attribute"
    summary = "`optimizer.lr`, which Keras 3 optimizers do not have"
    views = ("source",)
    fix = FixAvailability.SOMETIMES

    _MODEL = ("import keras\n\nmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
              "model.compile(optimizer=keras.optimizers.Adam(0.01), loss='mse')\n")

    VALID = [
        Valid(_MODEL + "lr = float(model.optimizer.learning_rate)\nmodel.optimizer.learning_rate.assign(lr / 2)\n"),
        Valid("import torch\nopt = torch.optim.SGD(params, lr=0.1)\nprint(opt.lr)\n", "not Keras"),
        Valid("class Opt:\n    lr = 0.1\n\nopt = Opt()\nprint(opt.lr)\n", "a class of the file"),
        Valid("import tensorflow as tf\nimport keras\n\nopt = keras.optimizers.SGD(0.1)\n"
              "print(tf.keras.backend.get_value(opt.learning_rate))\n",
              "TensorFlow's legacy get_value reads a Keras 3 variable"),
        Valid("import keras\n\nclass Log(keras.callbacks.Callback):\n"
              "    def on_epoch_end(self, epoch, logs=None):\n        print(self.lr)\n",
              "not the model's optimizer"),
        Valid("import keras\n\nopt = keras.optimizers.SGD(0.1)\n"
              "lr = opt.lr if hasattr(opt, 'lr') else opt.learning_rate\n", "code that runs on Keras 2 and 3"),
        Valid("import tf_keras as keras\n\nopt = keras.optimizers.SGD(0.1)\nprint(opt.lr)\n",
              "Keras 2 itself (`tf_keras`), whose optimizers have `lr`"),
    ]

    INVALID = [
        Invalid(_MODEL + "print(model.optimizer.lr)\n", _MODEL + "print(model.optimizer.learning_rate)\n",
                lines=(5,), raises="AttributeError"),
        Invalid("import keras\n\nopt = keras.optimizers.SGD(0.01)\nopt.lr = 0.5\n",
                "import keras\n\nopt = keras.optimizers.SGD(0.01)\nopt.learning_rate = 0.5\n",
                note="a plain attribute: the learning rate stays 0.01",
                silent="float(opt.learning_rate) < 0.1"),
        Invalid("from keras.optimizers import Adam\n\nopt = Adam(1e-3)\nopt.lr.assign(1e-4)\n",
                "from keras.optimizers import Adam\n\nopt = Adam(1e-3)\nopt.learning_rate.assign(1e-4)\n",
                raises="AttributeError"),
        Invalid(_MODEL + "from keras import backend as K\n\nK.set_value(model.optimizer.lr, 0.001)\n",
                _MODEL + "from keras import backend as K\n\nmodel.optimizer.learning_rate.assign(0.001)\n",
                raises="AttributeError"),
        Invalid(_MODEL + "import tensorflow as tf\n\ntf.keras.backend.set_value(model.optimizer.learning_rate, 0.001)\n",
                _MODEL + "import tensorflow as tf\n\nmodel.optimizer.learning_rate.assign(0.001)\n",
                note="TensorFlow's legacy set_value fails on a Keras 3 variable", raises="AttributeError"),
        Invalid(_MODEL + "import keras.backend as K\n\nlr = K.get_value(model.optimizer.lr)\n",
                _MODEL + "import keras.backend as K\n\nlr = float(model.optimizer.learning_rate)\n",
                note="unsafe: a Python float, not a NumPy float32", raises="AttributeError"),
        Invalid(_MODEL + "import tensorflow as tf\n\nlr = tf.keras.backend.get_value(model.optimizer.lr)\n",
                _MODEL + "import tensorflow as tf\n\nlr = tf.keras.backend.get_value(model.optimizer.learning_rate)\n",
                note="TensorFlow's legacy get_value still works: only `lr` is renamed", raises="AttributeError"),
        Invalid(
            "import numpy as np\nimport keras\nfrom keras import backend as K\n\n"
            "class Halve(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        K.set_value(self.model.optimizer.lr, K.get_value(self.model.optimizer.lr) / 2)\n\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "model.fit(np.zeros((8, 3)), np.zeros((8, 1)), epochs=1, verbose=0, callbacks=[Halve()])\n",
            "import numpy as np\nimport keras\nfrom keras import backend as K\n\n"
            "class Halve(keras.callbacks.Callback):\n"
            "    def on_epoch_end(self, epoch, logs=None):\n"
            "        self.model.optimizer.learning_rate.assign(float(self.model.optimizer.learning_rate) / 2)\n\n"
            "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
            "model.compile(optimizer='sgd', loss='mse')\n"
            "model.fit(np.zeros((8, 3)), np.zeros((8, 1)), epochs=1, verbose=0, callbacks=[Halve()])\n",
            note="in a callback: `self.model.optimizer`", raises="AttributeError"),
        Invalid("import keras\n\nsched = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)\n"
                "opt = keras.optimizers.SGD(sched)\nprint(opt.lr)\n",
                "import keras\n\nsched = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)\n"
                "opt = keras.optimizers.SGD(sched)\nprint(opt.learning_rate)\n",
                note="unsafe: a schedule's current value, where Keras 2 gave the schedule",
                raises="AttributeError"),
    ]

    def check(self, ctx) -> None:
        if outside_keras3(ctx.analysis):
            return  # the file reaches Keras only through Keras 2 itself (``tf_keras``, ``tensorflow.python.keras``)
        _Checker(ctx).run()


class _Checker:
    def __init__(self, ctx):
        self.ctx = ctx
        a = ctx.analysis
        # ``.lr`` read on an optimizer the source view knows: id(Attribute) -> optimizer
        self.on_optimizer: dict = {}
        # ``model.optimizer`` (the model compiled or not yet): id(Attribute) -> the optimizer, or None
        self.model_optimizer: dict = {}
        for node, _top, base, attr in a.attributes:
            if isinstance(base, OptimizerObj) and base.qual.startswith("keras.optimizers."):
                self.on_optimizer[id(node)] = base
            elif attr == "optimizer" and (isinstance(base, ModelObj) or (
                    isinstance(base, UserObj) and base.model is not None)):
                model = base if isinstance(base, ModelObj) else base.model
                self.model_optimizer[id(node)] = model.optimizers[-1] if model.optimizers else None
        for lra in a.lr_assignments:
            if isinstance(lra.node, cst.Attribute) and isinstance(lra.target, OptimizerObj) \
                    and lra.target.qual.startswith("keras.optimizers."):
                self.on_optimizer[id(lra.node)] = lra.target
        self.callback_selves: dict = {}  # id(FunctionDef) -> name of ``self``
        for cls in a.classes:
            if cls.derives("keras.callbacks.Callback"):
                for f in cls.methods.values():
                    params = f.node.params.params
                    if params:
                        self.callback_selves[id(f.node)] = params[0].name.value
        self.backend_calls = {id(node): q for node, q, _ in a.calls if q in SETTERS + GETTERS}

    def run(self) -> None:
        finder = _Finder(self)
        self.ctx.module.visit(finder)
        done: set = set()
        for call, top, in_expr in finder.calls:
            self.backend_call(call, top, in_expr, done)
        for node, top, write in finder.lrs:
            if id(node) in done:
                continue
            ok, opt = self.optimizer_of(node, finder)
            if not ok:
                continue
            schedule = _has_schedule(opt)
            receiver = self.ctx.code(node.value)
            if write:
                message = (f"`{receiver}.lr = ...` sets a plain attribute on Keras 3, which optimizers do not "
                           f"read: the learning rate does not change; set `{receiver}.learning_rate`")
            else:
                message = (f"`{receiver}.lr` raises AttributeError on Keras 3: optimizers have no `lr`; "
                           f"use `{receiver}.learning_rate`")
            fix_msg = "Use `learning_rate`"
            if schedule:
                fix_msg += (" (the optimizer has a learning-rate schedule: `learning_rate` is its current value, "
                            "where Keras 2's `lr` was the schedule)")
            fix = self.ctx.fix(fix_msg, [self.ctx.replace((node.attr, top), "learning_rate")], safe=not schedule)
            self.ctx.report((node, top), message, fix)

    def optimizer_of(self, node: cst.Attribute, finder) -> tuple[bool, OptimizerObj | None]:
        """Whether ``node`` (``X.lr`` or ``X.learning_rate``) is on a Keras optimizer, and which one."""
        if id(node) in self.on_optimizer:
            return True, self.on_optimizer[id(node)]
        v = node.value
        if isinstance(v, cst.Attribute) and id(v) in self.model_optimizer:
            return True, self.model_optimizer[id(v)]
        me = finder.self_of.get(id(node))
        if me is not None and isinstance(v, cst.Attribute) and v.attr.value == "optimizer" and isinstance(
                v.value, cst.Attribute) and v.value.attr.value == "model" and isinstance(v.value.value, cst.Name) \
                and v.value.value.value == me:
            return True, None
        return False, None

    def backend_call(self, call: cst.Call, top, in_expr: bool, done: set) -> None:
        q = self.backend_calls.get(id(call))
        if q is None or not call.args or call.args[0].keyword is not None or any(a.star for a in call.args):
            return
        first = call.args[0].value
        if not isinstance(first, cst.Attribute) or first.attr.value not in ("lr", "learning_rate"):
            return
        ok, opt = self.optimizer_of(first, self._finder)
        if not ok:
            return
        raw = self.raw(call.func)
        tf_root = raw is not None and raw.startswith("tensorflow.")
        name = f"`{self.ctx.code(call.func)}`"
        receiver = self.ctx.code(first.value)
        schedule = _has_schedule(opt)
        if q in SETTERS:
            if len(call.args) != 2 or call.args[1].keyword is not None:
                return
            why = (f"{name} (TensorFlow's legacy backend) fails on a Keras 3 variable (AttributeError: 'str' "
                   f"object has no attribute 'name')" if tf_root else f"{name} is not in Keras 3's `keras.backend`")
            if raw is None:
                why = f"{name} does not work on Keras 3 (`keras.backend` has no `set_value`, and TensorFlow's " \
                      f"legacy one fails on a Keras 3 variable)"
            if first.attr.value == "lr":
                why += "; and optimizers have no `lr`"
            fix = None
            if in_expr and not schedule:
                value = self.ctx.code(call.args[1].value)
                text = f"{receiver}.learning_rate.assign({value})"
                fix = self.ctx.fix(f"Use `{receiver}.learning_rate.assign(...)`", [self.ctx.replace((call, top), text)])
            done.add(id(first))
            self.ctx.report((call, top), f"{why}: set the learning rate with "
                            f"`{receiver}.learning_rate.assign(...)`", fix)
            return
        if tf_root or raw is None:
            return  # TensorFlow's get_value reads a Keras 3 variable: only ``lr`` is wrong, reported on its own
        done.add(id(first))
        why = f"{name} is not in Keras 3's `keras.backend`"
        if first.attr.value == "lr":
            why += "; and optimizers have no `lr`"
        fix = None
        if not schedule:
            fix = self.ctx.fix(f"Use `float({receiver}.learning_rate)` (a Python float, where `get_value` gave a "
                               f"NumPy float32)",
                               [self.ctx.replace((call, top), f"float({receiver}.learning_rate)")], safe=False)
        self.ctx.report((call, top), f"{why}: read the learning rate with `float({receiver}.learning_rate)`", fix)

    def raw(self, func) -> str | None:
        """The name a call's function is imported as (``tensorflow.keras.backend.set_value``), if known."""
        parts = []
        while isinstance(func, cst.Attribute):
            parts.append(func.attr.value)
            func = func.value
        if not isinstance(func, cst.Name):
            return None
        scope = self.ctx.analysis.module_scope
        v = scope.vars.get(func.value) if scope is not None else None
        if not isinstance(v, Ref):
            return None
        return ".".join([v.raw, *reversed(parts)])


class _Finder(cst.CSTVisitor):
    """``X.lr`` attributes (and whether each is set), backend calls, and the ``self`` of callback methods."""

    def __init__(self, checker: _Checker):
        checker._finder = self
        self.checker = checker
        self.lrs: list = []
        self.calls: list = []
        self.self_of: dict = {}
        self._top = None
        self._selves: list = []
        self._targets: set = set()
        self._exprs: set = set()
        self._guards: list = []  # ``if hasattr(x, "lr")`` and ``try``/``except AttributeError`` being visited

    def visit_Module(self, node) -> None:
        for stmt in node.body:
            self._top = stmt
            stmt.visit(self)
        return False

    def visit_FunctionDef(self, node) -> None:
        self._selves.append(self.checker.callback_selves.get(id(node)))

    def leave_FunctionDef(self, node) -> None:
        self._selves.pop()

    def visit_If(self, node) -> None:
        self._guards.append(_tests_lr(node.test))

    def leave_If(self, node) -> None:
        self._guards.pop()

    def visit_Try(self, node) -> None:
        self._guards.append(any(h.type is None or any(
            isinstance(t, cst.Name) and t.value in ("AttributeError", "Exception", "BaseException")
            for t in (h.type.elements if isinstance(h.type, cst.Tuple) else [h.type]) if t is not None)
            for h in node.handlers))

    def leave_Try(self, node) -> None:
        self._guards.pop()

    def visit_IfExp(self, node) -> None:
        self._guards.append(_tests_lr(node.test))

    def leave_IfExp(self, node) -> None:
        self._guards.pop()

    def visit_AssignTarget(self, node) -> None:
        self._targets.add(id(node.target))

    def visit_AugAssign(self, node) -> None:
        pass  # ``opt.lr *= 0.5`` reads ``lr`` first: a read

    def visit_Expr(self, node) -> None:
        self._exprs.add(id(node.value))

    def visit_Attribute(self, node) -> None:
        if node.attr.value in ("lr", "learning_rate"):
            me = next((s for s in reversed(self._selves) if s is not None), None) if self._selves else None
            if me is not None:
                self.self_of[id(node)] = me
            if node.attr.value == "lr" and not any(self._guards):
                self.lrs.append((node, self._top, id(node) in self._targets))

    def visit_Call(self, node) -> None:
        if id(node) in self.checker.backend_calls and not any(self._guards):
            self.calls.append((node, self._top, id(node) in self._exprs))


def _tests_lr(test) -> bool:
    """Whether a condition asks ``hasattr(x, "lr")``: code that runs on both Keras 2 and 3."""
    found = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, node) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "hasattr" and len(node.args) == 2 \
                    and isinstance(node.args[1].value, cst.SimpleString) and node.args[1].value.raw_value == "lr":
                found.append(node)

    test.visit(_V())
    return bool(found)


def _has_schedule(opt) -> bool:
    """Whether the optimizer is built with a learning-rate schedule."""
    if not isinstance(opt, OptimizerObj) or opt.site is None:
        return False
    v = opt.site.value("learning_rate", 0, "lr")
    if isinstance(v, Obj) and v.qual.startswith(K.LR_SCHEDULE_PREFIX):
        return True
    return isinstance(v, UserObj) and v.cls.derives(K.LR_SCHEDULE_PREFIX + "LearningRateSchedule")

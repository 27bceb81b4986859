"""Branches a constant turns off: the upgrade rules see them, the others do not.

The source view skips a branch whose test is a constant (``optim = "adam"``
then ``if optim == "sgd": ...``): it does not run, so the training-health
rules must not see it. Code upgraded to Keras 3 must be upgraded there too,
so :meth:`SourceAnalysis.with_dead` gives a view whose collections also hold
the records of those branches (``is_dead``), made by a second, detached run;
the ordinary collections and objects stay exactly as they were.

Fast, no TensorFlow.
"""
from __future__ import annotations

import libcst as cst

from klint.source import analyze
from klint.source.analysis import DEAD_COLLECTIONS, _record_key
from klint.source.interpreter import Interpreter, SourceAnalysis
from klint.source.values import LayerObj, ModelObj, OptimizerObj


def _an(src: str):
    module = cst.parse_module(src)
    return module, analyze(module)


def _code(module, r) -> str:
    """The source of the node a record is about."""
    if isinstance(r, tuple):
        node = r[0].node if hasattr(r[0], "node") else r[0]
    elif getattr(r, "site", None) is not None:
        node = r.site.node
    else:
        node = r.node
    return module.code_for_node(node)


def _dead(module, view, name: str) -> list[str]:
    return [_code(module, r) for r in getattr(view, name) if view.is_dead(r)]


def _snapshot(a) -> dict:
    """What the ordinary collections hold, comparable across two analyses of the same module."""
    out = {name: [_record_key(r) for r in getattr(a, name)] for name in DEAD_COLLECTIONS}
    out["model_layers"] = [[id(x.site.node) for x in a.model_layers(m)[0] if x.site is not None]
                           for m in a.models]
    out["model_fits"] = [[id(f.site.node) for f in m.fits] for m in a.models]
    out["model_compiles"] = [[id(c.site.node) for c in m.compiles] for m in a.models]
    out["model_optimizers"] = [[o.qual for o in m.optimizers] for m in a.models]
    out["consumers"] = [len(x.consumers) for x in a.layers]
    out["escaped"] = [x.escaped for x in (*a.layers, *a.optimizers)]
    return out


CONFIG_SWITCH = """\
from keras.models import Sequential
from keras.layers import Dense
from keras.optimizers import SGD, Adam

optim_type = 'Adam'
model = Sequential()
model.add(Dense(10, input_dim=4))
if optim_type == 'SGD':
    opt = SGD(lr=0.01, decay=1e-6)
    model.add(Dense(3, init='uniform'))
    model.compile(optimizer=opt, loss='mse')
else:
    opt = Adam(lr=0.001)
    model.compile(optimizer=opt, loss='mse')
DEBUG = False
if DEBUG:
    model.fit(x, y, nb_epoch=10)
    print(opt.lr)
model.fit(x, y, epochs=10)
"""


def test_dead_optimizer_layer_and_calls_are_in_the_view():
    module, a = _an(CONFIG_SWITCH)
    assert [p for _, p in a.dead_branches] == ["body", "body"]
    assert [o.qual for o in a.optimizers] == ["keras.optimizers.Adam"]
    v = a.with_dead()
    assert _dead(module, v, "optimizers") == ["SGD(lr=0.01, decay=1e-6)"]
    assert _dead(module, v, "layers") == ["Dense(3, init='uniform')"]
    assert _dead(module, v, "compiles") == ["model.compile(optimizer=opt, loss='mse')"]
    assert _dead(module, v, "fits") == ["model.fit(x, y, nb_epoch=10)"]
    assert "SGD(lr=0.01, decay=1e-6)" in _dead(module, v, "calls")
    assert [(r[2], v.is_dead(r)) for r in v.method_calls] == [
        ("add", False), ("compile", False), ("fit", False), ("add", True), ("compile", True), ("fit", True)]
    assert [r[3] for r in v.attributes if v.is_dead(r)] == ["add", "compile", "fit", "lr"]
    # the ordinary records come first, unchanged, and none is dead
    for name in DEAD_COLLECTIONS:
        ordinary = getattr(a, name)
        assert getattr(v, name)[:len(ordinary)] == ordinary
        assert not any(v.is_dead(r) for r in ordinary)
    # the view is made once, and is its own view
    assert a.with_dead() is v and v.with_dead() is v


def test_dead_records_point_at_the_ordinary_objects():
    module, a = _an(CONFIG_SWITCH)
    v = a.with_dead()
    (model,) = a.models
    fit = next(f for f in v.fits if v.is_dead(f))
    assert fit.model is model
    comp = next(c for c in v.compiles if v.is_dead(c))
    assert comp.model is model
    assert isinstance(comp.optimizer, OptimizerObj) and comp.optimizer.qual == "keras.optimizers.SGD"
    assert comp.optimizer is next(o for o in v.optimizers if v.is_dead(o))
    add = next(r for r in v.method_calls if v.is_dead(r) and r[2] == "add")
    assert add[1] is model
    lr = next(r for r in v.attributes if v.is_dead(r) and r[3] == "lr")
    assert lr[2] is a.optimizers[0]  # ``opt`` after the live branch: the Adam


def test_the_ordinary_analysis_does_not_change():
    module, a = _an(CONFIG_SWITCH)
    before = _snapshot(a)
    a.with_dead()
    assert _snapshot(a) == before
    # and it is what an analysis that was never asked for the view holds
    plain = Interpreter(SourceAnalysis()).run(module)
    assert _snapshot(plain) == before
    (model,) = a.models
    assert len(model.layers) == 1 and len(model.fits) == 1 and len(model.compiles) == 1
    assert [o.qual for o in model.optimizers] == ["keras.optimizers.Adam"]
    assert a.dead == set()


def test_dead_else_and_elif_chain():
    src = """\
import tensorflow as tf
from tensorflow.keras.optimizers import RMSprop as R

name = "adam"
if name == "adam":
    opt = tf.keras.optimizers.Adam(learning_rate=1e-3)
elif name == "sgd":
    opt = tf.keras.optimizers.SGD(lr=0.1)
    if True:
        sched = tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
elif name == "rms":
    opt = R(lr=1e-3)
else:
    opt = tf.keras.optimizers.Adagrad(lr=0.01)
"""
    module, a = _an(src)
    assert [(type(n).__name__, p) for n, p in a.dead_branches] == [("If", "else")]
    assert [o.qual for o in a.optimizers] == ["keras.optimizers.Adam"]
    v = a.with_dead()
    assert [o.qual for o in v.optimizers if v.is_dead(o)] == [
        "keras.optimizers.SGD", "keras.optimizers.RMSprop", "keras.optimizers.Adagrad"]
    assert [s.qual for s in v.schedules if v.is_dead(s)] == ["keras.optimizers.schedules.ExponentialDecay"]


def test_dead_branch_in_a_function_and_a_function_defined_in_a_dead_branch():
    src = """\
import keras

def block(x, kind="plain"):
    if kind == "keras1":
        return keras.layers.Dense(8, W_regularizer=None)(x)
    return keras.layers.Dense(8)(x)

LEGACY = 0
if LEGACY:
    def old_optimizer():
        return keras.optimizers.Adam(lr=1e-3, decay=1e-6)

inp = keras.Input((4,))
out = block(inp)
"""
    module, a = _an(src)
    assert [module.code_for_node(x.site.node) for x in a.layers] == ["keras.layers.Dense(8)"]
    assert not a.optimizers
    v = a.with_dead()
    assert _dead(module, v, "layers") == ["keras.layers.Dense(8, W_regularizer=None)"]
    assert _dead(module, v, "optimizers") == ["keras.optimizers.Adam(lr=1e-3, decay=1e-6)"]
    assert [f.node.name.value for f in v.functions if v.is_dead(f)] == ["old_optimizer"]


def test_a_helper_called_only_from_a_dead_branch_is_not_repeated():
    src = """\
import keras

def make_opt(lr=0.01):
    return keras.optimizers.SGD(lr=lr)

USE_SGD = False
if USE_SGD:
    opt = make_opt(0.1)
else:
    opt = keras.optimizers.Adam()
"""
    module, a = _an(src)
    # the helper nothing live calls runs on its defaults in the ordinary run: its optimizer is there
    assert sorted(o.qual for o in a.optimizers) == ["keras.optimizers.Adam", "keras.optimizers.SGD"]
    v = a.with_dead()
    assert not any(v.is_dead(o) for o in v.optimizers)
    assert len(v.optimizers) == 2
    assert _dead(module, v, "calls") == []  # ``keras.optimizers.SGD(lr=lr)`` is the ordinary record


def test_no_dead_branch_is_its_own_view():
    module, a = _an("import keras\nx = 1\nif x:\n    opt = keras.optimizers.Adam()\n")
    assert a.dead_branches == []
    assert a.with_dead() is a
    module, a = _an("import keras\nif flag:\n    opt = keras.optimizers.SGD(lr=0.1)\n")
    assert a.dead_branches == [] and len(a.optimizers) == 1  # an unknown test: both branches run already
    assert a.with_dead() is a


def test_the_detached_run_restores_names_and_returns():
    src = """\
import keras

def make():
    FAST = False
    if FAST:
        return keras.layers.Dense(1, init="zero")
    return keras.layers.Dense(2)

DEBUG = False
layer = keras.layers.Dense(3)
if DEBUG:
    layer = keras.layers.Dense(4, init="one")
made = make()
"""
    module = cst.parse_module(src)
    interp = Interpreter(SourceAnalysis())
    interp.explore = True
    b = interp.run(module)
    scope = b.module_scope.vars
    assert module.code_for_node(scope["layer"].site.node) == "keras.layers.Dense(3)"
    assert module.code_for_node(scope["made"].site.node) == "keras.layers.Dense(2)"
    assert interp.dead == 0
    module, a = _an(src)
    v = a.with_dead()
    # in the order they ran: the module's branch, then the one in ``make()``
    assert _dead(module, v, "layers") == ['keras.layers.Dense(4, init="one")', 'keras.layers.Dense(1, init="zero")']


def test_non_keras_and_user_classes_stay_out():
    src = """\
import torch
import keras

class SGD:
    def __init__(self, lr):
        self.lr = lr

MODE = "keras"
if MODE == "torch":
    opt = torch.optim.SGD(params, lr=0.1)
    mine = SGD(lr=0.1)
    model = torch.nn.Linear(3, 4)
"""
    module, a = _an(src)
    v = a.with_dead()
    assert not [o for o in v.optimizers if v.is_dead(o)]
    assert not [x for x in v.layers if v.is_dead(x)]
    assert not [m for m in v.models if v.is_dead(m)]
    assert sorted(q for _, q, _ in (r for r in v.calls if v.is_dead(r))) == ["torch.nn.Linear", "torch.optim.SGD"]


def test_dead_models_and_their_layers():
    src = """\
from tensorflow.keras.models import Sequential, Model
from tensorflow.keras.layers import Dense, Input

ARCH = "small"
if ARCH == "big":
    big = Sequential([Dense(64, input_dim=8, init="he_normal"), Dense(1)])
    big.compile(optimizer="sgd", loss="mse")
    big.fit(x, y, nb_epoch=3)
"""
    module, a = _an(src)
    assert not a.models and not a.layers and not a.fits and not a.optimizers
    v = a.with_dead()
    (big,) = [m for m in v.models if v.is_dead(m)]
    assert isinstance(big, ModelObj) and big.kind == "sequential"
    assert all(isinstance(x, LayerObj) for x in big.layers) and len(big.layers) == 2
    assert len([x for x in v.layers if v.is_dead(x)]) == 2
    (fit,) = v.fits
    assert v.is_dead(fit) and fit.model is big
    (opt,) = v.optimizers  # compile(optimizer="sgd")
    assert v.is_dead(opt) and opt.string is not None


def test_upgrade_rules_report_and_fix_a_branch_a_constant_turns_off():
    """The script breaks on Keras 3 as soon as the switch is flipped: the upgrade rules see it, the
    training-health rules judge only what runs."""
    from klint.engine.lint import Linter
    from klint.engine.registry import all_rules

    src = ('import keras\n\nOPTIMIZER = "adam"\nif OPTIMIZER == "sgd":\n'
           '    opt = keras.optimizers.SGD(lr=0.5)\nelse:\n    opt = keras.optimizers.Adam(learning_rate=1e-3)\n')
    rules = [r for r in all_rules() if r.code in ("KL402", "KL401")]
    findings, _ = Linter(rules, {}).lint_text("m.py", src)
    assert [(f.code, f.row) for f in findings] == [("KL402", 5)]
    fixed, n, _, _, _ = Linter(rules, {}).fix_text("m.py", src)
    assert "SGD(learning_rate=0.5)" in fixed and n == 1

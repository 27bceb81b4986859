"""The source view's interpreter.

It walks a file's statements in order, as Python would run them, and gives
each expression an abstract value (:mod:`klint.source.values`): imported
names resolve to canonical Keras names, constants and dicts are followed,
``Sequential`` lists, ``model.add`` and functional chains become layer
graphs, and ``compile``/``fit``/``apply_gradients`` calls become training
links. Functions run when they are called (with the call's arguments), and
those never called run once on their defaults, so that every layer a file
builds is seen.

It walks only statements and expressions, through their attributes: a
generic libcst visitor costs as much as the parse itself.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import lru_cache

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.names import canonical, is_keras, keras_root
from klint.source.values import (
    ABSENT,
    UNKNOWN,
    Arg,
    BoundMethod,
    CallSite,
    ClassV,
    Const,
    DatasetV,
    DictV,
    EachV,
    Entry,
    FuncV,
    GradientsV,
    LambdaV,
    LayerObj,
    ModelObj,
    Obj,
    OpUse,
    OptimizerObj,
    PartV,
    Ref,
    SeqV,
    TapeV,
    TensorV,
    Unknown,
    UserObj,
    Value,
    VarsV,
)

MAX_DEPTH = 12
#: Methods that run a training (or evaluation) step: the models they call are trained, not built.
TRAINING_STEPS = frozenset(("train_step", "test_step", "predict_step"))
#: The statements the interpreter may run again, for a file: a base, plus a few times the
#: statements it runs once (the size of the file, as run). Functions run once per distinct call (a
#: block helper called 14 times runs 14 times); once the budget is spent, a call reuses what an
#: earlier call of the same function built (its summary), so the cost stays linear in the size of
#: the file, whatever calls what. On the keras.io examples, the most any file runs again is 464
#: statements, for 277 run once.
BUDGET_BASE = 1000
BUDGET_PER_STATEMENT = 4
LR_ATTRS = ("learning_rate", "lr")
VARIABLE_ATTRS = ("trainable_variables", "trainable_weights", "variables", "weights")
_MISSING = object()

#: Builtins that only look at a value.
INSPECTING_BUILTINS = frozenset(("print", "repr", "str", "type", "id", "isinstance", "len", "format", "vars", "dir"))

BUILTINS = frozenset((
    "dict", "list", "tuple", "zip", "int", "float", "str", "bool", "len", "range", "print", "enumerate",
    "isinstance", "super", "min", "max", "abs", "round", "sorted", "reversed", "map", "filter", "sum",
    "set", "open", "getattr", "setattr", "hasattr", "type", "object", "Exception", "ValueError",
))


class Scope:
    __slots__ = ("vars", "parent", "stars", "is_class")

    def __init__(self, parent: "Scope | None" = None, is_class: bool = False):
        self.vars: dict[str, Value] = {}
        self.parent = parent
        self.stars: list[str] = []
        self.is_class = is_class

    def lookup(self, name: str):
        s = self
        while s is not None:
            v = s.vars.get(name, _MISSING)
            if v is not _MISSING:
                return v
            s = s.parent
        return _MISSING

    def star_modules(self) -> list[str]:
        out: list[str] = []
        s = self
        while s is not None:
            out.extend(s.stars)
            s = s.parent
        return out

    def function_scope(self) -> "Scope":
        s = self
        while s.is_class and s.parent is not None:
            s = s.parent
        return s


@dataclass(eq=False)
class FitInfo:
    model: ModelObj | None
    site: CallSite
    batch: Arg | None  # what set the batch size, when it is known
    batch_from: str  # how the batch size was found, for messages
    callbacks: Value | None  # None: no callbacks argument
    x: Value
    order: int = 0  # how many method calls ran before it (``SourceAnalysis.method_calls``), for "before training"


@dataclass(eq=False)
class CompileInfo:
    model: ModelObj | None
    optimizer: OptimizerObj | None
    site: CallSite
    loss: object = None  # the loss argument: an Arg, ABSENT or UNKNOWN


@dataclass(eq=False)
class LoopInfo:
    """A custom training step: gradients applied by an optimizer."""

    optimizer: OptimizerObj | None
    models: list
    clipped: bool
    node: cst.CSTNode
    owner: ClassV | None
    top: cst.CSTNode | None = None
    inputs: bool = False  # the variables it updates are not a model's weights (an image being optimized)


@dataclass(eq=False)
class LRAssignment:
    """A statement that sets a learning rate by hand (``opt.learning_rate = ...``, ``.assign``, ``set_value``).

    ``target`` is the optimizer it sets, when the source view knows it;
    ``owner`` is the class whose method does it (a callback), or None.
    """

    node: cst.CSTNode
    owner: ClassV | None
    target: OptimizerObj | None = None


@dataclass(eq=False)
class ImportInfo:
    """What a module-level import statement binds: local name -> raw qualified name."""

    bindings: dict


@dataclass(eq=False)
class SourceAnalysis:
    """Everything the source view learned about one file."""

    layers: list = field(default_factory=list)
    models: list = field(default_factory=list)
    optimizers: list = field(default_factory=list)
    schedules: list = field(default_factory=list)
    callbacks: list = field(default_factory=list)
    compiles: list = field(default_factory=list)
    fits: list = field(default_factory=list)
    loops: list = field(default_factory=list)
    lr_assignments: list = field(default_factory=list)  # LRAssignment
    classes: list = field(default_factory=list)
    functions: list = field(default_factory=list)
    imports: list = field(default_factory=list)
    calls: list = field(default_factory=list)  # (Call node, canonical callee, statement) for imported callees
    method_calls: list = field(default_factory=list)  # (CallSite, receiver value, method name) on Keras objects
    unresolved_calls: list = field(default_factory=list)  # (Call node, called name) the source view cannot resolve
    #: Reads of learning-rate schedule objects by name: id(Name node) -> [schedule, how], where how is
    #: "use", "inspect" (an attribute, a print), "show" (a bare expression) or "call"/"call-in-function".
    schedule_reads: dict = field(default_factory=dict)
    #: What happened to each schedule object right where it was built: id -> {"how": "bound" (to a
    #: name), "dropped" (a bare expression) or "flow" (straight into a call, a return, a collection),
    #: "module": built at module level}
    schedule_made: dict = field(default_factory=dict)
    attributes: list = field(default_factory=list)  # (Attribute node, top, receiver value, name) read on Keras objects
    module_scope: Scope | None = None
    roots: dict = field(default_factory=dict)  # Keras root -> how often the file reaches Keras through it
    #: Calls the source view could not follow, once its budget for the file was spent: (call node,
    #: function name). Their results are opaque ops, so a layer chain through them stays connected.
    incomplete: list = field(default_factory=list)
    #: Edges from where a loop's iteration ends to where the next begins, as (id(from), id(to)): walks
    #: that must not go round a loop (what a layer is computed from) leave them out.
    back_edges: set = field(default_factory=set)

    # ---------------------------------------------------------- queries

    @property
    def flavor(self) -> str:
        """The module path through which this file reaches Keras (``keras``, ``tensorflow.keras``...)."""
        if not self.roots:
            return "keras"
        return max(self.roots.items(), key=lambda kv: kv[1])[0]

    def model_layers(self, model, _seen=None) -> tuple[list, bool]:
        """All layers of ``model`` (nested models expanded) and whether that list may be incomplete."""
        seen = _seen if _seen is not None else set()
        if id(model) in seen:
            return [], False
        seen.add(id(model))
        out: list = []
        open_ = False
        if isinstance(model, UserObj):
            model = model.model
            if model is None:
                return [], True
        if not isinstance(model, ModelObj):
            return [], True
        if model.kind == "sequential":
            open_ = model.open
            for item in model.layers:
                sub, o = self._expand(item, seen)
                out += sub
                open_ = open_ or o
        elif model.kind == "functional":
            stack = [p for t in model.outputs for p in t.producers]
            visited = set()
            while stack:
                p = stack.pop()
                if id(p) in visited:
                    continue
                visited.add(id(p))
                if isinstance(p, (LayerObj, ModelObj)):
                    sub, o = self._expand(p, seen)
                    out += sub
                    open_ = open_ or o
                    stack.extend(p.producers)
                elif isinstance(p, OpUse):
                    stack.extend(p.producers)
        elif model.kind == "subclass":
            cls = model.cls
            for layer in self.layers:
                if layer.owner is not None and self._owned_by(layer.owner, cls):
                    out += self._expand(layer, seen)[0]
            for m in self.models:
                if m is not model and m.owner is not None and self._owned_by(m.owner, cls):
                    sub, o = self._expand(m, seen)
                    out += sub
                    open_ = open_ or o
            if model.instance is not None:
                for v in model.instance.attrs.values():
                    if isinstance(v, UserObj) and v.model is not None:
                        sub, o = self.model_layers(v.model, seen)
                        out += sub
                        open_ = open_ or o
                    elif isinstance(v, (ModelObj, LayerObj)):  # ``self.backbone = build_backbone()``
                        sub, o = self._expand(v, seen)
                        out += sub
                        open_ = open_ or o
        elif model.kind == "application":
            out.append(model)
        else:
            open_ = True
        return out, open_

    def _owned_by(self, owner: ClassV, cls: ClassV) -> bool:
        return owner is cls

    def _expand(self, item, seen) -> tuple[list, bool]:
        if isinstance(item, LayerObj):
            out = [item]
            if isinstance(item.wrapped, (LayerObj, ModelObj, UserObj)):
                out += self._expand(item.wrapped, seen)[0]
            return out, False
        if isinstance(item, ModelObj):
            if item.kind == "application":
                return [item], False
            return self.model_layers(item, seen)
        if isinstance(item, UserObj) and item.model is not None:
            return self.model_layers(item.model, seen)
        if isinstance(item, TensorV):
            return [], False  # ``keras.Input(...)`` at the head of a Sequential list
        return [], True

    def layers_of(self, models) -> list:
        """The layers of these models; every layer of the file when one of them is unknown (None)."""
        if not models:
            return self.all_models_layers()
        out: list = []
        for m in models:
            if m is None:
                return self.all_models_layers()
            out += self.model_layers(m)[0]
        return out

    def all_models_layers(self) -> list:
        out = list(self.layers)
        out += [m for m in self.models if m.kind == "application"]
        return out


def _flatten_sequential(items: list, seen: set | None = None) -> list:
    seen = seen if seen is not None else set()
    out: list = []
    for it in items:
        if isinstance(it, ModelObj) and it.kind == "sequential" and id(it) not in seen:
            seen.add(id(it))
            out += _flatten_sequential(it.layers, seen)
        elif isinstance(it, TensorV):
            continue  # keras.Input(...) inside a Sequential list
        else:
            out.append(it)
    return out


def _link(producer, consumer) -> None:
    if isinstance(producer, (LayerObj, ModelObj, OpUse)):
        producer.consumers.append(consumer)


def _mark_output(producer, model) -> None:
    """``producer`` makes an output of ``model``."""
    if isinstance(producer, (LayerObj, ModelObj, OpUse)):
        producer.is_output = True
        if not any(m is model for m in producer.exits):
            producer.exits.append(model)


def tensors_in(v: Value) -> list[TensorV]:
    if isinstance(v, TensorV):
        return [v]
    if isinstance(v, SeqV):
        return [t for it in v.items for t in tensors_in(it)]
    if isinstance(v, DictV):
        return [t for e in v.entries.values() for t in tensors_in(e.value)]
    return []


def join(values: list[Value]) -> Value:
    """One value for several that a name may hold (branches, several returns)."""
    if not values:
        return UNKNOWN
    first = values[0]
    if all(v is first for v in values):
        return first
    if all(isinstance(v, TensorV) for v in values):
        prods: list = []
        for v in values:
            for p in v.producers:
                if not any(p is q for q in prods):
                    prods.append(p)
        return TensorV(prods)
    if all(isinstance(v, Const) for v in values):
        if all(type(v.value) is type(first.value) and v.value == first.value for v in values):
            return first
        return UNKNOWN
    rest = [v for v in values if not (isinstance(v, Const) and v.value is None)]
    if rest and all(v is rest[0] for v in rest):
        return rest[0]
    for v in rest[1:]:
        if isinstance(v, Obj) and v is not rest[0]:
            v.escaped = True  # the name may hold it, but the source view follows only one value
    if any(isinstance(v, (Const, Unknown)) for v in rest):
        for v in rest:
            if isinstance(v, Obj):
                v.escaped = True
        return UNKNOWN
    return rest[0] if rest else UNKNOWN


def const_truth(v: Value) -> bool | None:
    if isinstance(v, Const):
        try:
            return bool(v.value)
        except Exception:  # pragma: no cover - exotic literal
            return None
    return None


_BINOPS = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}
#: Operators that merge tensors in a way the layer graph cares about: a sum (a residual connection).
_MERGE_OPERATORS = {cst.Add: "add", cst.Multiply: "mul"}

_CMPOPS = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
    cst.GreaterThan: operator.gt, cst.LessThanEqual: operator.le, cst.GreaterThanEqual: operator.ge,
    cst.Is: operator.is_, cst.IsNot: operator.is_not,
    cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b,
}


def _literal_string(node: cst.SimpleString) -> str | None:
    raw = node.value
    # the common case, read directly: libcst's evaluated_value compiles the literal
    q = raw[-1:]
    if raw[:1] == q and "\\" not in raw:
        n = 3 if raw.startswith(q * 3) and len(raw) >= 6 else 1
        return raw[n:-n]
    try:
        v = node.evaluated_value
    except Exception:  # pragma: no cover - invalid escape
        return None
    return v if isinstance(v, str) else None


#: Integers beyond this are not followed as values: no configuration needs them, and they overflow
#: the floats that rules compare and format them as.
MAX_INT = 10 ** 300


def _literal_number(node) -> int | float | None:
    text = node.value.replace("_", "")
    try:
        if type(node) is cst.Integer:
            if len(text) > 320:
                return None
            v = int(text, 0)
            return v if -MAX_INT < v < MAX_INT else None
        if type(node) is cst.Float:
            return float(text)
    except ValueError:
        return None
    return None


class Interpreter:
    def __init__(self, analysis: SourceAnalysis):
        self.a = analysis
        self.active: list = []
        self.returns: list[list[Value]] = []
        self.class_ctx: list[ClassV | None] = [None]
        self.defining: list[ClassV | None] = [None]
        self.contexts: dict = {}
        self.instances: dict = {}
        self.in_progress: set = set()
        self.top = None
        self.in_lambda = 0
        self.summaries: dict = {}  # function node -> {call shape: (result, layers that read its inputs)}
        self.natural_steps = 0  # statements run for the first time (the size of the file, as run)
        self.extra_steps = 0  # statements run again, by later calls of a function
        self.rerun = 0
        self.loops: list = []  # iteration counts of the loops being run (None: not known)
        self.training = 0  # inside a training step (a GradientTape block, ``train_step``)
        self.ev_table = {
            cst.Name: self.ev_name,
            cst.Attribute: self.ev_attribute,
            cst.Call: self.ev_call,
            cst.Integer: self.ev_number,
            cst.Float: self.ev_number,
            cst.Imaginary: self.ev_number,
            cst.SimpleString: self.ev_string,
            cst.ConcatenatedString: self.ev_concat,
            cst.List: self.ev_sequence,
            cst.Tuple: self.ev_sequence,
            cst.Set: self.ev_sequence,
            cst.Dict: self.ev_dict,
            cst.Subscript: self.ev_subscript,
            cst.BinaryOperation: self.ev_binary,
            cst.UnaryOperation: self.ev_unary,
            cst.Comparison: self.ev_comparison,
            cst.BooleanOperation: self.ev_boolean,
            cst.IfExp: self.ev_ifexp,
            cst.ListComp: self.ev_comprehension,
            cst.SetComp: self.ev_comprehension,
            cst.GeneratorExp: self.ev_comprehension,
            cst.NamedExpr: self.ev_named,
            cst.Lambda: self.ev_lambda,
            cst.Await: lambda n, s: self.ev(n.expression, s),
            cst.Yield: self.ev_yield,
        }
        self.exec_table = {
            cst.SimpleStatementLine: self.exec_simple_line,
            cst.If: self.exec_if,
            cst.For: self.exec_for,
            cst.While: self.exec_while,
            cst.Try: self.exec_try,
            cst.With: self.exec_with,
            cst.FunctionDef: self.exec_def,
            cst.ClassDef: self.exec_class,
        }
        if hasattr(cst, "TryStar"):
            self.exec_table[cst.TryStar] = self.exec_try
        if hasattr(cst, "Match"):
            self.exec_table[cst.Match] = self.exec_match
        self.small_table = {
            cst.Assign: self.exec_assign,
            cst.AnnAssign: self.exec_annassign,
            cst.AugAssign: self.exec_augassign,
            cst.Expr: self.exec_expr,
            cst.Return: self.exec_return,
            cst.Import: self.exec_import,
            cst.ImportFrom: self.exec_import,
        }

    # ============================================================ driver

    def run(self, module: cst.Module) -> SourceAnalysis:
        scope = Scope()
        scope.vars["__name__"] = Const("__main__")
        self.a.module_scope = scope
        self.module = module
        self.exec_block(module.body, scope, top=True)
        self.drain()
        self.finish()
        return self.a

    def drain(self) -> None:
        """Run the functions and methods that nothing called, on their defaults."""
        i = 0
        while i < len(self.a.functions):
            f = self.a.functions[i]
            i += 1
            if f.node in self.contexts:
                continue
            if f.cls is not None:
                self_obj = self.class_instance(f.cls)
                if f.node in self.contexts:
                    continue
                self.call_function(f, None, self_obj)
            else:
                self.call_function(f, None)

    def finish(self) -> None:
        for m in list(self.a.models):
            if m.kind == "sequential":
                self.link_sequential(m)

    def link_sequential(self, m: ModelObj) -> None:
        """Link a Sequential model's layers in order; a layer class of the file in it is called on
        the output of the layer before it, so that its own layers join the chain."""
        flat = _flatten_sequential(m.layers)
        cur: list = list(m.producers)  # what feeds the model, when it is applied to a tensor
        first = True
        for item in flat:
            if isinstance(item, UserObj) and item.model is not None and (
                    item.cls.find_method("call") or item.cls.find_method("__call__")):
                site = CallSite(None, None)
                site.positional.append(Arg(TensorV(list(cur)), None, "positional"))
                out = tensors_in(self.call_user_layer(item, site))
                cur = [p for t in out for p in t.producers]
            elif isinstance(item, (LayerObj, ModelObj)):
                if not first:
                    for p in cur:
                        _link(p, item)
                        item.producers.append(p)
                cur = [item]
            else:
                for p in cur:
                    _link(p, OpUse())  # something the source view cannot see
                cur = []
            first = False
        for last, start in m.repeats:  # ``model.add`` in a loop: one iteration follows another
            last.consumers.append(start)
            start.producers.append(last)
            self.a.back_edges.add((id(last), id(start)))
        if cur and not m.open:
            for p in cur:
                _mark_output(p, m)

    # ======================================================= statements

    def exec_block(self, stmts, scope: Scope, top: bool = False) -> None:
        table = self.exec_table
        if self.rerun:
            self.extra_steps += len(stmts)
        else:
            self.natural_steps += len(stmts)
        for stmt in stmts:
            fn = table.get(type(stmt))
            self.top = stmt  # the statement that holds the nodes evaluated now
            if fn is not None:
                fn(stmt, scope)

    def exec_body(self, body, scope: Scope) -> None:
        # IndentedBlock or SimpleStatementSuite
        inner = body.body
        if isinstance(body, cst.SimpleStatementSuite):
            for small in inner:
                fn = self.small_table.get(type(small))
                if fn is not None:
                    fn(small, scope)
        else:
            self.exec_block(inner, scope)

    def exec_simple_line(self, line: cst.SimpleStatementLine, scope: Scope) -> None:
        table = self.small_table
        for small in line.body:
            fn = table.get(type(small))
            if fn is not None:
                fn(small, scope)

    def exec_assign(self, node: cst.Assign, scope: Scope) -> None:
        v = self.ev(node.value, scope)
        if all(type(t.target) is cst.Name for t in node.targets):
            self._made_as(v, node.value, "bound")
        for t in node.targets:
            self.bind(t.target, v, scope, node.value)

    def exec_annassign(self, node: cst.AnnAssign, scope: Scope) -> None:
        if node.value is not None:
            self.bind(node.target, self.ev(node.value, scope), scope, node.value)

    def exec_augassign(self, node: cst.AugAssign, scope: Scope) -> None:
        left = self.ev(node.target, scope)
        right = self.ev(node.value, scope)
        opname = type(node.operator).__name__.replace("Assign", "")
        op = getattr(cst, opname, None)
        v = self.binary(left, right, op)
        self.bind(node.target, v, scope, node.value)

    def exec_expr(self, node: cst.Expr, scope: Scope) -> None:
        v = self.ev(node.value, scope)
        self._read_as(node.value, "show")  # a notebook cell showing a value
        self._made_as(v, node.value, "dropped")
        if isinstance(v, LayerObj):
            v.escaped = True  # a layer built and not kept (a snippet): as good as used where klint cannot see

    def _made_as(self, v: Value, node, how: str) -> None:
        """Where a schedule's construction call went, when ``node`` is that call."""
        made = self.a.schedule_made.get(id(v)) if type(v) is Obj else None
        if made is not None and isinstance(node, cst.Call) and v.node is node:
            made["how"] = how

    def _read_as(self, node, how: str) -> None:
        """Say how a schedule read by name at ``node`` was used, when it was one."""
        read = self.a.schedule_reads.get(id(node))
        if read is not None:
            read[1] = how

    def exec_return(self, node: cst.Return, scope: Scope) -> None:
        v = self.ev(node.value, scope) if node.value is not None else Const(None)
        if self.returns:
            self.returns[-1].append(v)

    def bind(self, target, v: Value, scope: Scope, value_node=None) -> None:
        t = type(target)
        if t is cst.Name:
            scope.vars[target.value] = v
        elif t is cst.Tuple or t is cst.List:
            elts = target.elements
            if isinstance(v, SeqV) and not v.open and len(v.items) == len(elts) and not any(
                    isinstance(e, cst.StarredElement) for e in elts):
                for e, item in zip(elts, v.items):
                    self.bind(e.value, item, scope)
            else:
                for e in elts:
                    self.bind(e.value, _part_of(v), scope)
        elif t is cst.Attribute:
            obj = self.ev(target.value, scope)
            attr = target.attr.value
            if attr in LR_ATTRS:
                self.a.lr_assignments.append(LRAssignment(target, self.class_ctx[-1], _optimizer_of(obj)))
            if isinstance(obj, EachV):
                for item in obj.items:
                    if attr == "trainable" and isinstance(v, Const) and v.value is False:
                        item.frozen = True
            elif isinstance(obj, UserObj):
                obj.attrs[attr] = v
            elif isinstance(obj, ClassV):
                obj.attrs[attr] = v
            elif isinstance(obj, (LayerObj, ModelObj)):
                if attr == "trainable" and isinstance(v, Const) and v.value is False:
                    obj.frozen = True
                obj.attrs[attr] = v
            elif isinstance(obj, Obj):
                obj.attrs[attr] = v
        elif t is cst.Subscript:
            obj = self.ev(target.value, scope)
            if isinstance(obj, DictV) and len(target.slice) == 1:
                idx = target.slice[0].slice
                if isinstance(idx, cst.Index):
                    k = self.ev(idx.value, scope)
                    if isinstance(k, Const):
                        obj.entries[k.value] = Entry(v, value_node, None, self.top)
                    else:
                        obj.open = True
        elif t is cst.StarredElement:
            self.bind(target.value, UNKNOWN, scope)

    def exec_if(self, node: cst.If, scope: Scope) -> None:
        self.top = node
        truth = const_truth(self.ev(node.test, scope))
        orelse = node.orelse
        if truth is True:
            self.exec_body(node.body, scope)
            return
        if truth is False:
            self._exec_else(orelse, scope)
            return
        before = dict(scope.vars)
        self.exec_body(node.body, scope)
        after_body = scope.vars
        scope.vars = dict(before)
        self._exec_else(orelse, scope)
        scope.vars = self.join_envs([after_body, scope.vars])

    def _exec_else(self, orelse, scope: Scope) -> None:
        if orelse is None:
            return
        if isinstance(orelse, cst.If):
            self.exec_if(orelse, scope)
        else:
            self.exec_body(orelse.body, scope)

    def join_envs(self, envs: list[dict]) -> dict:
        out: dict = {}
        keys: list = []
        for e in envs:
            for k in e:
                if k not in out:
                    out[k] = None
                    keys.append(k)
        for k in keys:
            vals = [e.get(k, UNKNOWN) for e in envs]
            out[k] = join(vals)
        return out

    def exec_for(self, node: cst.For, scope: Scope) -> None:
        it = self.ev(node.iter, scope)
        self.bind(node.target, self.element_of(it), scope)
        self.run_loop(node.body, scope, it.count() if isinstance(it, SeqV) else None)
        self.top = node
        if node.orelse is not None:
            self.exec_body(node.orelse.body, scope)

    def exec_while(self, node: cst.While, scope: Scope) -> None:
        self.ev(node.test, scope)
        self.run_loop(node.body, scope, None)
        if node.orelse is not None:
            self.exec_body(node.orelse.body, scope)

    def run_loop(self, body, scope: Scope, count: int | None) -> None:
        """Run a loop's body once, standing for all its iterations.

        What the body builds carries the loop's count (``repetitions``). A
        layer chain that the body extends (``x = block(x)``, ``model.add``)
        gets a back edge from where one iteration ends to where the next
        begins, so that walks see the repetition.
        """
        carried = [(name, v, [(p, len(p.consumers)) for p in v.producers if hasattr(p, "consumers")])
                   for name, v in scope.vars.items() if type(v) is TensorV]
        sequences = [(m, len(m.layers)) for m in self.a.models if m.kind == "sequential"]
        self.loops.append(count)
        try:
            self.exec_body(body, scope)
        finally:
            self.loops.pop()
        if count is not None and count < 2:
            return
        for name, before, seen in carried:
            after = scope.vars.get(name)
            if type(after) is not TensorV or after is before:
                continue
            entries = [c for p, n in seen for c in p.consumers[n:]]
            for p in after.producers:
                for e in entries:
                    _link(p, e)
                    if hasattr(e, "producers"):
                        e.producers.append(p)
                    self.a.back_edges.add((id(p), id(e)))
        for m, n in sequences:
            added = [x for x in m.layers[n:] if isinstance(x, (LayerObj, ModelObj))]
            if added:
                m.repeats.append((added[-1], added[0]))  # linked when the model's layers are linked

    def repetitions(self) -> int | None:
        """How many times the code being run now runs: the product of the enclosing loops' counts.

        The body of a loop is run once; what it builds stands for every
        iteration. ``None`` means a loop whose count the code does not say.
        """
        n = 1
        for count in self.loops:
            if count is None:
                return None
            n = min(n * count, 1 << 16)
        return n

    def exec_try(self, node, scope: Scope) -> None:
        self.exec_body(node.body, scope)
        for h in node.handlers:
            self.top = node
            if h.name is not None:
                self.bind(h.name.name, UNKNOWN, scope)
            self.exec_body(h.body, scope)
        if node.orelse is not None:
            self.exec_body(node.orelse.body, scope)
        if node.finalbody is not None:
            self.exec_body(node.finalbody.body, scope)

    def exec_with(self, node: cst.With, scope: Scope) -> None:
        tape = False
        for item in node.items:
            v = self.ev(item.item, scope)
            tape = tape or isinstance(v, TapeV)
            if item.asname is not None:
                self.bind(item.asname.name, v if isinstance(v, TapeV) else UNKNOWN, scope)
        self.training += tape
        try:
            self.exec_body(node.body, scope)
        finally:
            self.training -= tape

    def exec_match(self, node, scope: Scope) -> None:
        self.ev(node.subject, scope)
        before = dict(scope.vars)
        envs = [before]
        for case in node.cases:
            self.top = node
            scope.vars = dict(before)
            self.exec_body(case.body, scope)
            envs.append(scope.vars)
        scope.vars = self.join_envs(envs)

    def exec_def(self, node: cst.FunctionDef, scope: Scope) -> None:
        for d in node.decorators:
            self.ev(d.decorator, scope)
        defaults: dict = {}
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.default is not None:
                defaults[param.name.value] = (self.ev(param.default, scope), param.default)
        cls = self.defining[-1] if scope.is_class else None
        f = FuncV(node, scope.function_scope(), defaults, cls, self.top)
        scope.vars[node.name.value] = f
        if cls is not None:
            cls.methods[node.name.value] = f
        self.a.functions.append(f)

    def exec_class(self, node: cst.ClassDef, scope: Scope) -> None:
        for d in node.decorators:
            self.ev(d.decorator, scope)
        bases = [self.ev(b.value, scope) for b in node.bases]
        body_scope = Scope(scope, is_class=True)
        cls = ClassV(node, scope.function_scope(), bases)
        self.a.classes.append(cls)
        self.defining.append(cls)
        try:
            self.exec_body(node.body, body_scope)
        finally:
            self.defining.pop()
        for k, v in body_scope.vars.items():
            if not isinstance(v, FuncV):
                cls.attrs[k] = v
        scope.vars[node.name.value] = cls

    def exec_import(self, node, scope: Scope) -> None:
        """``import a.b as c`` and ``from a import b as c``, with one notion of what they bind."""
        bindings, star = import_bindings(node)
        if star is not None:
            scope.stars.append(star)
            self.note_root(star)
        for local, raw in bindings.items():
            scope.vars[local] = UNKNOWN if raw is None else self.ref(raw)
        if scope is self.a.module_scope:
            known = {k: v for k, v in bindings.items() if v is not None}
            if known:
                self.a.imports.append(ImportInfo(known))

    def ref(self, raw: str) -> Ref:
        self.note_root(raw)
        return Ref(raw, canonical(raw))

    def note_root(self, raw: str) -> None:
        root = _root_of(raw)
        if root is not None:
            self.a.roots[root] = self.a.roots.get(root, 0) + 1

    # ====================================================== expressions

    def ev(self, node, scope: Scope) -> Value:
        fn = self.ev_table.get(type(node))
        if fn is None:
            return UNKNOWN
        return fn(node, scope)

    def ev_name(self, node: cst.Name, scope: Scope) -> Value:
        name = node.value
        v = scope.lookup(name)
        if v is not _MISSING:
            if type(v) is Obj and v.qual.startswith(K.LR_SCHEDULE_PREFIX):
                self.a.schedule_reads[id(node)] = [v, "use"]
            return v
        if name == "True":
            return Const(True, node, self.top)
        if name == "False":
            return Const(False, node, self.top)
        if name == "None":
            return Const(None, node, self.top)
        stars = scope.star_modules()
        if stars:
            return self.star_ref(stars, name)
        if name in BUILTINS:
            return Ref(f"builtins.{name}", f"builtins.{name}")
        return UNKNOWN

    def star_ref(self, stars: list[str], name: str) -> Value:
        keras_stars = [m for m in stars if is_keras(m)]
        if not keras_stars:
            return UNKNOWN
        for m in reversed(keras_stars):
            q = canonical(f"{m}.{name}")
            if _known_member(q):
                return Ref(f"{m}.{name}", q)
        m = keras_stars[-1]
        if name[:1].isupper():
            return Ref(f"{m}.{name}", canonical(f"{m}.{name}"))
        return UNKNOWN

    def ev_number(self, node, scope: Scope) -> Value:
        v = _literal_number(node)
        return UNKNOWN if v is None else Const(v, node, self.top)

    def ev_string(self, node: cst.SimpleString, scope: Scope) -> Value:
        s = _literal_string(node)
        return Const(s, node, self.top) if s is not None else UNKNOWN

    def ev_concat(self, node: cst.ConcatenatedString, scope: Scope) -> Value:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(left.value + right.value, node, self.top)
        return UNKNOWN

    def ev_sequence(self, node, scope: Scope) -> Value:
        items: list = []
        open_ = False
        for e in node.elements:
            if isinstance(e, cst.StarredElement):
                v = self.ev(e.value, scope)
                if isinstance(v, SeqV):
                    items.extend(v.items)
                    open_ = open_ or v.open
                else:
                    open_ = True
            else:
                items.append(self.ev(e.value, scope))
        return SeqV(items, node, open_)

    def ev_dict(self, node: cst.Dict, scope: Scope) -> Value:
        d = DictV({}, node)
        for e in node.elements:
            if isinstance(e, cst.StarredDictElement):
                v = self.ev(e.value, scope)
                if isinstance(v, DictV):
                    d.entries.update(v.entries)
                    d.open = d.open or v.open
                else:
                    d.open = True
                continue
            k = self.ev(e.key, scope)
            v = self.ev(e.value, scope)
            if isinstance(k, Const):
                d.entries[k.value] = Entry(v, e.value, node, self.top)
            else:
                d.open = True
        return d

    def ev_subscript(self, node: cst.Subscript, scope: Scope) -> Value:
        base = self.ev(node.value, scope)
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            if isinstance(base, TensorV):
                return self.tensor_op([base])
            if isinstance(base, SeqV):
                return SeqV(list(base.items), None, True)
            return UNKNOWN
        k = self.ev(node.slice[0].slice.value, scope)
        if isinstance(base, DictV) and isinstance(k, Const):
            e = base.entries.get(k.value)
            return e.value if e is not None else UNKNOWN
        if isinstance(base, SeqV) and isinstance(k, Const) and isinstance(k.value, int) and not base.open:
            try:
                return base.items[k.value]
            except IndexError:
                return UNKNOWN
        if isinstance(base, TensorV):
            return self.tensor_op([base])
        if isinstance(base, GradientsV):
            return base
        return UNKNOWN

    def binary(self, left: Value, right: Value, op) -> Value:
        if isinstance(left, Const) and isinstance(right, Const):
            fn = _BINOPS.get(op)
            if fn is None:
                return UNKNOWN
            try:
                if op is cst.Power and isinstance(right.value, (int, float)) and abs(right.value) > 64:
                    return UNKNOWN
                if isinstance(left.value, str) or isinstance(right.value, str):
                    if op is not cst.Add:
                        return UNKNOWN
                    if len(left.value) + len(right.value) > 1 << 16:
                        return UNKNOWN
                value = fn(left.value, right.value)
                if isinstance(value, int) and not -MAX_INT < value < MAX_INT:
                    return UNKNOWN
                return Const(value)
            except Exception:
                return UNKNOWN
        if isinstance(left, VarsV) or isinstance(right, VarsV):
            models = []
            for side in (left, right):
                if isinstance(side, VarsV):
                    models += side.model if isinstance(side.model, list) else [side.model]
            return VarsV(models)
        ts = tensors_in(left) + tensors_in(right)
        if ts:
            return self.tensor_op(ts, op=_MERGE_OPERATORS.get(op))
        if isinstance(left, SeqV) and isinstance(right, SeqV) and op is cst.Add:
            return SeqV(left.items + right.items, None, left.open or right.open)
        return UNKNOWN

    def ev_binary(self, node: cst.BinaryOperation, scope: Scope) -> Value:
        return self.binary(self.ev(node.left, scope), self.ev(node.right, scope), type(node.operator))

    def ev_unary(self, node: cst.UnaryOperation, scope: Scope) -> Value:
        v = self.ev(node.expression, scope)
        if isinstance(v, Const):
            try:
                if isinstance(node.operator, cst.Minus):
                    return Const(-v.value, node, self.top)
                if isinstance(node.operator, cst.Plus):
                    return Const(+v.value, node, self.top)
                if isinstance(node.operator, cst.Not):
                    return Const(not v.value, node, self.top)
            except Exception:
                return UNKNOWN
        if isinstance(v, TensorV):
            return self.tensor_op([v])
        return UNKNOWN

    def ev_comparison(self, node: cst.Comparison, scope: Scope) -> Value:
        left = self.ev(node.left, scope)
        result = True
        for c in node.comparisons:
            right = self.ev(c.comparator, scope)
            fn = _CMPOPS.get(type(c.operator))
            if not (isinstance(left, Const) and isinstance(right, Const)) or fn is None:
                return UNKNOWN
            try:
                result = result and bool(fn(left.value, right.value))
            except Exception:
                return UNKNOWN
            left = right
        return Const(result)

    def ev_boolean(self, node: cst.BooleanOperation, scope: Scope) -> Value:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        lt = const_truth(left)
        if isinstance(node.operator, cst.And):
            if lt is False:
                return left
            if lt is True:
                return right
        else:
            if lt is True:
                return left
            if lt is False:
                return right
        return UNKNOWN

    def ev_ifexp(self, node: cst.IfExp, scope: Scope) -> Value:
        t = const_truth(self.ev(node.test, scope))
        body = self.ev(node.body, scope)
        orelse = self.ev(node.orelse, scope)
        if t is True:
            return body
        if t is False:
            return orelse
        if [isinstance(v, Const) and v.value is None for v in (body, orelse)].count(True) == 1:
            # ``gelu if first else None``: the None is a value here (no activation), not a missing one
            return UNKNOWN
        return join([body, orelse])

    def ev_named(self, node: cst.NamedExpr, scope: Scope) -> Value:
        v = self.ev(node.value, scope)
        self.bind(node.target, v, scope)
        return v

    def ev_yield(self, node, scope: Scope) -> Value:
        if node.value is not None:
            self.ev(node.value, scope)
        if self.returns:
            self.returns[-1].append(UNKNOWN)  # a generator: what the caller gets is not a plain value
        return UNKNOWN

    def ev_lambda(self, node: cst.Lambda, scope: Scope) -> Value:
        inner = Scope(scope)
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            inner.vars[param.name.value] = UNKNOWN
        self.in_lambda += 1
        try:
            return LambdaV(self.ev(node.body, inner))
        finally:
            self.in_lambda -= 1

    def ev_comprehension(self, node, scope: Scope) -> Value:
        inner = Scope(scope)
        f = node.for_in
        depth = len(self.loops)
        count: int | None = 1
        try:
            while f is not None:
                it = self.ev(f.iter, inner)
                self.bind(f.target, self.element_of(it), inner)
                n = it.count() if isinstance(it, SeqV) and not f.ifs else None
                count = count * n if count is not None and n is not None else None
                self.loops.append(n)
                for cond in f.ifs:
                    self.ev(cond.test, inner)
                f = f.inner_for_in
            elt = self.ev(node.elt, inner)
        finally:
            del self.loops[depth:]
        return SeqV([elt], node, True, count)

    def element_of(self, it: Value) -> Value:
        if isinstance(it, SeqV):
            if it.items and all(isinstance(x, SeqV) and not x.open for x in it.items):
                # zip(...) or a list of tuples: one element per position
                n = len(it.items[0].items)
                if all(len(x.items) == n for x in it.items):
                    return SeqV([join([x.items[i] for x in it.items]) for i in range(n)])
            if getattr(it, "zipped", False):
                return SeqV([self.element_of(x) for x in it.items])
            objs = [x for x in it.items if isinstance(x, (LayerObj, ModelObj))]
            if len(objs) > 1:
                return EachV(objs)
            return join(list(it.items)) if it.items else UNKNOWN
        if isinstance(it, GradientsV):
            return it
        return UNKNOWN

    def tensor_op(self, tensors: list[TensorV], activation: str | None = None, node=None,
                  op: str | None = None) -> TensorV:
        use = OpUse(activation, node, op=op)
        for t in tensors:
            for p in t.producers:
                _link(p, use)
                use.producers.append(p)
        return TensorV([use])

    def escape(self, site: CallSite) -> None:
        """The arguments go where the source view cannot follow them."""
        ts: list = []
        for a in (*site.positional, *site.keywords.values()):
            v = a.value
            ts += tensors_in(v)
            if isinstance(v, Obj):
                v.escaped = True
            elif isinstance(v, SeqV):
                for item in v.items:
                    if isinstance(item, Obj):
                        item.escaped = True
        if ts:
            self.tensor_op(ts, op="opaque")

    # ------------------------------------------------------- attributes

    def ev_attribute(self, node: cst.Attribute, scope: Scope) -> Value:
        base = self.ev(node.value, scope)
        attr = node.attr.value
        self._read_as(node.value, "inspect")  # reading its configuration
        if isinstance(base, (ModelObj, OptimizerObj, LayerObj)) or (isinstance(base, UserObj) and base.model):
            self.a.attributes.append((node, self.top, base, attr))
        if isinstance(base, Ref):
            raw = f"{base.raw}.{attr}"
            return Ref(raw, canonical(raw))
        if isinstance(base, UserObj):
            if attr in base.attrs:
                return base.attrs[attr]
            if attr in base.cls.attrs:
                return base.cls.attrs[attr]
            if base.model is not None:
                if attr in VARIABLE_ATTRS:
                    return VarsV(base.model)
                if attr == "optimizer" and base.model.optimizers:
                    return base.model.optimizers[-1]
            return BoundMethod(base, attr, node.value)
        if isinstance(base, ModelObj):
            if attr == "optimizer":
                return base.optimizers[-1] if base.optimizers else BoundMethod(base, attr, node.value)
            if attr in VARIABLE_ATTRS:
                return VarsV(base)
            if attr in ("output", "outputs"):
                return TensorV([base])
            if attr in base.attrs:
                return base.attrs[attr]
            if attr == "layers":
                return SeqV(self.a.model_layers(base)[0], None, True)
            return BoundMethod(base, attr, node.value)
        if isinstance(base, LayerObj):
            if attr in VARIABLE_ATTRS:
                return VarsV(base)
            if attr == "output":
                return TensorV([base])
            if attr in base.attrs:
                return base.attrs[attr]
            return BoundMethod(base, attr, node.value)
        if isinstance(base, Obj) and attr in base.attrs:
            return base.attrs[attr]
        if isinstance(base, PartV):
            # a layer inside the model: what comes out of it comes out of the model's layers
            return TensorV([base.model]) if attr in ("output", "outputs") else UNKNOWN
        if isinstance(base, BoundMethod):
            return BoundMethod(base, attr, node.value)  # ``opt.learning_rate.assign``
        if isinstance(base, ClassV):
            if attr in base.attrs:
                return base.attrs[attr]
            m = base.find_method(attr)
            return m if m is not None else UNKNOWN
        if isinstance(base, DictV) or isinstance(base, SeqV) or isinstance(base, TensorV) or isinstance(
                base, (Obj, DatasetV, TapeV, OptimizerObj, Unknown, GradientsV)):
            return BoundMethod(base, attr, node.value)
        return UNKNOWN

    # ------------------------------------------------------------ calls

    def callsite(self, node: cst.Call, scope: Scope) -> CallSite:
        top = self.top
        site = CallSite(node, top)
        for a in node.args:
            if a.star == "*":
                v = self.ev(a.value, scope)
                if isinstance(v, SeqV) and not v.open:
                    for item in v.items:
                        site.positional.append(Arg(item, None, "positional"))
                else:
                    site.open_args = True
            elif a.star == "**":
                v = self.ev(a.value, scope)
                if isinstance(v, DictV):
                    for k, e in v.entries.items():
                        if isinstance(k, str):
                            site.keywords[k] = Arg(e.value, e.node, "dict", k, e.top)
                    site.open_kwargs = site.open_kwargs or v.open
                else:
                    site.open_kwargs = True
            elif a.keyword is not None:
                name = a.keyword.value
                site.keywords[name] = Arg(self.ev(a.value, scope), a.value, "keyword", name, top)
            else:
                site.positional.append(Arg(self.ev(a.value, scope), a.value, "positional", None, top))
        return site

    def ev_call(self, node: cst.Call, scope: Scope) -> Value:
        fv = self.ev(node.func, scope)
        self._read_as(node.func, "call-in-function" if self.active or self.in_lambda else "call")
        site = self.callsite(node, scope)
        t = type(fv)
        if t is Ref:
            self.note_root(fv.raw)
            self.a.calls.append((node, fv.qual, self.top))
            return self.call_ref(fv, site, scope)
        if t is BoundMethod:
            return self.call_method(fv, site, scope)
        if t is FuncV:
            return self.call_function(fv, site)
        if t is ClassV:
            return self.instantiate(fv, site)
        if t is LayerObj or t is ModelObj:
            return self.call_layer(fv, site)
        if t is UserObj:
            return self.call_user_layer(fv, site)
        if t is LambdaV:
            return fv.result
        self.a.unresolved_calls.append((node, _called_name(node.func)))
        self.escape(site)
        return UNKNOWN

    def call_function(self, f: FuncV, site: CallSite | None, self_obj: Value | None = None) -> Value:
        """Run ``f`` on the call's arguments, once per call, within the file's budget.

        Every call runs the body, as Python would: a block helper called 14
        times builds 14 blocks, and a model factory called twice builds two
        models (one trained, one that gets its weights copied). Once the
        budget for re-running bodies is spent, a call reuses an earlier
        call's *summary*: its result, with this call's input tensors linked
        to the layers that read the earlier call's inputs. The layer chain
        stays connected (the calls share one block), and no call is lost.
        """
        node = f.node
        if node in self.in_progress:
            return self.opaque_call(site)  # recursion: the call's result is not followed
        if len(self.active) >= MAX_DEPTH:
            self.a.incomplete.append((site.node if site is not None else node, node.name.value))
            return self.opaque_call(site)
        n = self.contexts.get(node, 0)
        shape = _call_shape(self_obj, site)
        if n and self.extra_steps > BUDGET_BASE + BUDGET_PER_STATEMENT * self.natural_steps:
            summaries = self.summaries.get(node, {})
            summary = summaries.get(shape) or next(reversed(summaries.values()), None)
            if summary is not None:
                return self.replay(summary, site)
            self.a.incomplete.append((site.node if site is not None else node, node.name.value))
            return self.opaque_call(site)
        self.contexts[node] = n + 1
        scope = Scope(f.scope)
        self.bind_params(f, site, self_obj, scope)
        feeds = _input_producers(site)
        seen = [len(p.consumers) for p in feeds]
        self.in_progress.add(node)
        saved_top = self.top
        self.top = f.top
        self.active.append(f)
        self.returns.append([])
        self.class_ctx.append(f.cls)
        if n:
            self.rerun += 1  # the body has run before: this run spends the budget
        step = node.name.value in TRAINING_STEPS
        self.training += step
        try:
            self.exec_body(node.body, scope)
        finally:
            self.training -= step
            if n:
                self.rerun -= 1
            self.class_ctx.pop()
            rets = self.returns.pop()
            self.active.pop()
            self.top = saved_top
            self.in_progress.discard(node)
        result = join(rets) if rets else Const(None)
        if f.cls is not None and node.name.value == "call" and f.cls.derives("keras.Model"):
            model = self_obj.model if isinstance(self_obj, UserObj) else None
            for t in tensors_in(result):
                for p in t.producers:
                    if model is not None:
                        _mark_output(p, model)
                    elif isinstance(p, (LayerObj, ModelObj)):
                        p.is_output = True
        entries = [c for p, k in zip(feeds, seen) for c in p.consumers[k:]]
        self.summaries.setdefault(node, {})[shape] = (result, entries)
        return result

    def replay(self, summary, site: CallSite | None) -> Value:
        """An earlier call's result, with this call's input tensors feeding the layers that read that call's."""
        result, entries = summary
        for p in _input_producers(site):
            for e in entries:
                if isinstance(p, (LayerObj, ModelObj, OpUse)) and not any(c is e for c in p.consumers):
                    p.consumers.append(e)
                    producers = getattr(e, "producers", None)
                    if producers is not None:
                        producers.append(p)
        return result

    def opaque_call(self, site: CallSite | None) -> Value:
        """The result of a call that is not followed: an op over the call's input tensors, if any."""
        if site is None:
            return UNKNOWN
        ts = [t for a in (*site.positional, *site.keywords.values()) for t in tensors_in(a.value)]
        return self.tensor_op(ts) if ts else UNKNOWN

    def bind_params(self, f: FuncV, site: CallSite | None, self_obj, scope: Scope) -> None:
        p = f.node.params
        positional = [*p.posonly_params, *p.params]
        args = list(site.positional) if site is not None else []
        kws = dict(site.keywords) if site is not None else {}
        open_ = site is None or site.open_args or site.open_kwargs
        use_defaults = not (open_ and site is not None)

        def by_name(name: str) -> Value:
            if name in kws:
                return kws.pop(name).value
            if name in f.defaults and use_defaults:
                return f.defaults[name][0]
            return UNKNOWN

        i = 0
        for idx, param in enumerate(positional):
            name = param.name.value
            if idx == 0 and self_obj is not None:
                scope.vars[name] = self_obj
            elif i < len(args):
                scope.vars[name] = args[i].value
                i += 1
            else:
                scope.vars[name] = by_name(name)
        for param in p.kwonly_params:
            scope.vars[param.name.value] = by_name(param.name.value)
        if isinstance(p.star_arg, cst.Param):
            rest = args[i:]
            scope.vars[p.star_arg.name.value] = SeqV([a.value for a in rest], None, site is None or site.open_args)
        if p.star_kwarg is not None:
            d = DictV({k: Entry(a.value, a.node, None, a.top) for k, a in kws.items()}, None,
                      site is None or site.open_kwargs)
            scope.vars[p.star_kwarg.name.value] = d

    def class_instance(self, cls: ClassV) -> UserObj:
        obj = self.instances.get(cls)
        if obj is None:
            obj = self.instantiate(cls, None)
            if not isinstance(obj, UserObj):
                obj = UserObj(cls)
            self.instances[cls] = obj
        return obj

    def instantiate(self, cls: ClassV, site: CallSite | None) -> Value:
        obj = UserObj(cls, site=site)
        if cls.derives("keras.Model", "keras.Sequential", "keras.layers.Layer"):
            m = ModelObj("keras.Model", site, kind="subclass", cls=cls, instance=obj,
                         owner=self.class_ctx[-1])
            obj.model = m
            self.a.models.append(m)
        init = cls.find_method("__init__")
        if init is not None:
            self.call_function(init, site, obj)
        if site is not None:
            self.instances.setdefault(cls, obj)  # the methods nothing calls run on a real instance
        if site is not None and cls.derives("keras.utils.Sequence", "keras.utils.PyDataset"):
            return DatasetV(self.init_arg(cls, site, "batch_size"), None, f"{cls.node.name.value}()")
        return obj

    def init_arg(self, cls: ClassV, site: CallSite, name: str) -> Arg | None:
        init = cls.find_method("__init__")
        pos = None
        default = None
        if init is not None:
            params = [*init.node.params.posonly_params, *init.node.params.params]
            for i, prm in enumerate(params):
                if prm.name.value == name:
                    pos = i - 1
            if name in init.defaults:
                v, n = init.defaults[name]
                default = Arg(v, n, "default", name, init.top)
        a = site.arg(name, pos)
        if isinstance(a, Arg):
            return a
        if a is ABSENT:
            return default
        return None

    def call_layer(self, obj, site: CallSite) -> Value:
        inputs = site.value("inputs", 0)
        if self.training and isinstance(obj, ModelObj):
            # a model applied in a training step (a GAN's discriminator on the generator's images, a
            # loss on a model's output) is not a layer of a bigger model: no edges in or out
            out = TensorV([])
        else:
            out = TensorV([obj])
            for t in tensors_in(inputs):
                for p in t.producers:
                    _link(p, obj)
                    obj.producers.append(p)
        training = site.arg("training")
        if isinstance(training, Arg) and isinstance(training.value, Const) and training.value.value is False:
            if isinstance(obj, ModelObj):
                obj.inference_call = True
        return out

    def call_user_layer(self, obj: UserObj, site: CallSite) -> Value:
        m = obj.cls.find_method("call") or obj.cls.find_method("__call__")
        if m is None:
            self.escape(site)
            return UNKNOWN
        if self.training and obj.model is not None and obj.cls.derives("keras.Model", "keras.Sequential"):
            return TensorV([])  # a whole model run by a training step (see call_layer)
        res = self.call_function(m, site, obj)
        if not tensors_in(res):
            ts = tensors_in(site.value("inputs", 0))
            return self.tensor_op(ts) if ts else TensorV([OpUse()])
        return res

    # ------------------------------------------------ calls of the Keras API

    def call_ref(self, fv: Ref, site: CallSite, scope: Scope) -> Value:
        q = fv.qual
        if q.startswith("builtins."):
            return self.call_builtin(q[9:], site)
        if q.startswith("keras."):
            return self.call_keras(q, site)
        if q.startswith("tensorflow."):
            return self.call_tf(q, site)
        self.escape(site)
        return Obj(q, site)

    def call_builtin(self, name: str, site: CallSite) -> Value:
        if name in INSPECTING_BUILTINS:
            for a in site.positional:
                self._read_as(a.node, "inspect")
        if name == "dict":
            d = DictV({}, site.node, site.open_kwargs or site.open_args)
            if site.positional:
                first = site.positional[0].value
                if isinstance(first, DictV):
                    d.entries.update(first.entries)
                    d.open = d.open or first.open
                else:
                    d.open = True
            for k, a in site.keywords.items():
                d.entries[k] = Entry(a.value, a.node, site.node, a.top)
            return d
        if name in ("list", "tuple"):
            if site.positional:
                v = site.positional[0].value
                if isinstance(v, SeqV):
                    return SeqV(list(v.items), v.node, v.open)
                if isinstance(v, GradientsV):
                    return v
            return SeqV([], site.node, bool(site.positional))
        if name == "zip":
            s = SeqV([a.value for a in site.positional], site.node, True)
            s.zipped = True  # type: ignore[attr-defined]
            counts = [v.count() if isinstance(v, SeqV) else None for v in s.items]
            if counts and None not in counts:
                s.length = min(counts)
            return s
        if name == "range":
            bounds = [a.value.value if isinstance(a.value, Const) else None for a in site.positional]
            if 1 <= len(bounds) <= 3 and not site.keywords and all(
                    isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                try:
                    return SeqV([UNKNOWN], site.node, True, len(range(*bounds)))
                except (ValueError, OverflowError):
                    return UNKNOWN
            return SeqV([UNKNOWN], site.node, True)
        if name == "enumerate" and site.positional:
            v = site.positional[0].value
            if isinstance(v, SeqV) and not v.open:
                return SeqV([SeqV([Const(i), x]) for i, x in enumerate(v.items)], site.node)
            if isinstance(v, SeqV):
                return SeqV([SeqV([UNKNOWN, join(v.items)])], site.node, True, v.count())
            return UNKNOWN
        if name in ("int", "float") and site.positional:
            v = site.positional[0].value
            if isinstance(v, Const):
                try:
                    return Const(int(v.value) if name == "int" else float(v.value))
                except Exception:
                    return UNKNOWN
        if name == "super":
            return UNKNOWN
        return UNKNOWN

    def call_keras(self, q: str, site: CallSite) -> Value:
        a = self.a
        # the class whose method is building: also through module helpers that the method calls
        owner = next((c for c in reversed(self.class_ctx) if c is not None), None)
        short = q.rsplit(".", 1)[1]
        if q == "keras.Sequential":
            layers = site.value("layers", 0)
            m = ModelObj(q, site, kind="sequential", owner=owner)
            if isinstance(layers, SeqV):
                m.layers = list(layers.items)
                m.open = layers.open
            elif site.arg("layers", 0) is not ABSENT:
                m.open = True
            a.models.append(m)
            return m
        if q == "keras.Model":
            outputs = site.arg("outputs", 1)
            if isinstance(outputs, Arg):
                ts = tensors_in(outputs.value)
                m = ModelObj(q, site, kind="functional", outputs=ts, owner=owner, open=not ts)
                for t in ts:
                    for p in t.producers:
                        _mark_output(p, m)
                a.models.append(m)
                return m
            m = ModelObj(q, site, kind="opaque", owner=owner, open=True)
            a.models.append(m)
            return m
        if q == "keras.Input":
            return TensorV([OpUse(node=site.node, op="input")])  # a node, so that skips from the input show
        if q.startswith("keras.layers.") and short[:1].isupper():
            layer = LayerObj(q, site, owner=owner, repeat=self.repetitions(),
                             function=self.active[-1] if self.active else None)
            if q in K.WRAPPER_LAYERS:
                layer.wrapped = site.value("layer", 0)
            elif q == "keras.layers.RNN":
                layer.wrapped = site.value("cell", 0)
            a.layers.append(layer)
            return layer
        if q.startswith("keras.applications.") and short[:1].isupper():
            m = ModelObj(q, site, kind="application", owner=owner)
            for t in tensors_in(site.value("input_tensor")):  # built on a tensor of the file's graph
                for p in t.producers:
                    _link(p, m)
                    m.producers.append(p)
            a.models.append(m)
            return m
        if q in ("keras.models.load_model", "keras.models.clone_model", "keras.models.model_from_json",
                 "keras.models.model_from_config", "keras.models.model_from_yaml"):
            m = ModelObj(q, site, kind="opaque", owner=owner, open=True)
            a.models.append(m)
            return m
        if q.startswith(K.LR_SCHEDULE_PREFIX) and short[:1].isupper():
            o = Obj(q, site)
            a.schedules.append(o)
            a.schedule_made[id(o)] = {"how": "flow", "module": not self.active}
            return o
        if q.startswith("keras.optimizers.") and short[:1].isupper():
            o = OptimizerObj(q, site)
            a.optimizers.append(o)
            return o
        if q.startswith("keras.callbacks.") and short[:1].isupper():
            o = Obj(q, site)
            a.callbacks.append(o)
            return o
        if q in K.DATASET_FACTORIES:
            b = site.arg("batch_size")
            return DatasetV(b if isinstance(b, Arg) else None,
                            K.DATASET_FACTORIES[q][1] if b is ABSENT else None, f"{short}()")
        if q == "keras.backend.set_value" and site.node.args:
            first = site.node.args[0].value
            if isinstance(first, cst.Attribute) and first.attr.value in LR_ATTRS:
                receiver = site.positional[0].value if site.positional else UNKNOWN
                target = _optimizer_of(receiver.obj) if isinstance(receiver, BoundMethod) else None
                a.lr_assignments.append(LRAssignment(site.node, self.class_ctx[-1], target))
        return self.function_op(q, site)

    def function_op(self, q: str, site: CallSite) -> Value:
        """A Keras or TensorFlow function applied to tensors: an op of the layer graph."""
        act = K.activation_from_function(q)
        merge = K.MERGE_FUNCTIONS.get(q)
        # an activation applies to its first argument; other ops (``ops.einsum("ab,bc", x, w)``,
        # ``ops.stack([a, b])``) to every tensor they are given
        args = site.positional[:1] if act else list(site.positional) + list(site.keywords.values())
        ts = [t for arg in args for t in tensors_in(arg.value)]
        if ts:
            return self.tensor_op(ts, act, site.node, merge)
        self.escape(site)
        return Obj(q, site)

    def call_tf(self, q: str, site: CallSite) -> Value:
        if q == "tensorflow.GradientTape":
            return TapeV()
        if q in K.GRADIENT_CLIP_FUNCTIONS:
            g = self.find_gradients([a.value for a in site.positional] + [a.value for a in site.keywords.values()])
            if g is not None:
                clipped = GradientsV(g.model, True)
                if q.endswith("clip_by_global_norm"):
                    return SeqV([clipped, UNKNOWN])
                return clipped
            return UNKNOWN
        if q.startswith("tensorflow.data."):
            return DatasetV(None, None, "the tf.data pipeline")
        return self.function_op(q, site)

    def find_gradients(self, values: list[Value], depth: int = 0) -> GradientsV | None:
        for v in values:
            if isinstance(v, GradientsV):
                return v
            if isinstance(v, SeqV) and depth < 3:
                g = self.find_gradients(list(v.items), depth + 1)
                if g is not None:
                    return g
        return None

    def find_vars(self, values: list[Value], depth: int = 0) -> list:
        out: list = []
        for v in values:
            if isinstance(v, VarsV):
                out += v.model if isinstance(v.model, list) else [v.model]
            elif isinstance(v, SeqV) and depth < 3:
                out += self.find_vars(list(v.items), depth + 1)
        return out

    # ---------------------------------------------------------- methods

    def call_method(self, bm: BoundMethod, site: CallSite, scope: Scope) -> Value:
        obj, name = bm.obj, bm.name
        if isinstance(obj, (Obj, UserObj)):
            self.a.method_calls.append((site, obj, name))
        if isinstance(obj, UserObj):
            m = obj.cls.find_method(name)
            if m is not None:
                return self.call_function(m, site, obj)
            if obj.model is not None:
                result = self.call_method(BoundMethod(obj.model, name, bm.node), site, scope)
                if name in ("fit", "train_on_batch"):
                    # Keras runs the class's own train_step on this instance
                    step = obj.cls.find_method("train_step")
                    if step is not None:
                        self.call_function(step, None, obj)
                return result
            self.escape(site)
            return UNKNOWN
        if isinstance(obj, ModelObj):
            return self.model_method(obj, name, site)
        if isinstance(obj, OptimizerObj):
            if name in ("apply_gradients", "apply", "minimize"):
                self.apply_gradients(obj, name, site)
            return UNKNOWN
        if isinstance(obj, LayerObj):
            if name in ("__call__", "call"):
                return self.call_layer(obj, site)
            return UNKNOWN
        if isinstance(obj, TapeV):
            if name == "gradient":
                return self.gradient(site)
            return UNKNOWN
        if isinstance(obj, DatasetV):
            return self.dataset_method(obj, name, site)
        if isinstance(obj, SeqV):
            if name == "append" and site.positional:
                obj.items.append(site.positional[0].value)
            elif name == "extend" and site.positional:
                v = site.positional[0].value
                if isinstance(v, SeqV):
                    obj.items.extend(v.items)
                    obj.open = obj.open or v.open
                else:
                    obj.open = True
            elif name == "insert" and len(site.positional) == 2:
                idx = site.positional[0].value
                if isinstance(idx, Const) and isinstance(idx.value, int):
                    obj.items.insert(idx.value, site.positional[1].value)
                else:
                    obj.open = True
            return UNKNOWN
        if isinstance(obj, DictV):
            if name == "get" and site.positional:
                k = site.positional[0].value
                if isinstance(k, Const) and k.value in obj.entries:
                    return obj.entries[k.value].value
                if len(site.positional) > 1 and not obj.open:
                    return site.positional[1].value
                return UNKNOWN
            if name == "update":
                if site.positional and isinstance(site.positional[0].value, DictV):
                    obj.entries.update(site.positional[0].value.entries)
                elif site.positional:
                    obj.open = True
                for k, a in site.keywords.items():
                    obj.entries[k] = Entry(a.value, a.node, None, a.top)
                return UNKNOWN
            if name == "copy":
                return DictV(dict(obj.entries), obj.node, obj.open)
            return UNKNOWN
        if isinstance(obj, Obj):
            short = obj.qual.rsplit(".", 1)[-1]
            if short == "ImageDataGenerator" and name in K.GENERATOR_METHODS:
                b = site.arg("batch_size", 2 if name == "flow" else None)
                return DatasetV(b if isinstance(b, Arg) else None,
                                K.GENERATOR_METHODS[name] if b is ABSENT else None, f"ImageDataGenerator.{name}()")
            self.escape(site)
            return UNKNOWN
        if isinstance(obj, TensorV):
            return self.tensor_op([obj])
        if isinstance(obj, GradientsV):
            return UNKNOWN
        # the receiver is unknown: recognise the Keras calls by their shape
        return self.unknown_method(bm, name, site)

    def applies_gradients(self, site: CallSite) -> bool:
        """Whether a call's arguments are gradients or a model's variables (``optimizer.apply(grads, vars)``)."""
        values = [a.value for a in site.positional] + [a.value for a in site.keywords.values()]
        return self.find_gradients(values) is not None or bool(self.find_vars(values))

    def unknown_method(self, bm: BoundMethod, name: str, site: CallSite) -> Value:
        self.a.unresolved_calls.append((site.node, name))
        if name in ("batch", "padded_batch") and (site.positional or "batch_size" in site.keywords):
            return DatasetV(site.positional[0] if site.positional else site.keywords["batch_size"], None,
                            "the dataset")
        if name == "compile" and ("optimizer" in site.keywords or "loss" in site.keywords):
            self.compile(None, site)
            return UNKNOWN
        if name in ("fit", "fit_generator") and (
                any(k in site.keywords for k in ("batch_size", "epochs", "callbacks", "validation_data",
                                                 "validation_split", "steps_per_epoch"))
                or (site.positional and isinstance(site.positional[0].value, DatasetV))):
            self.fit(None, site)
            return UNKNOWN
        if name == "apply_gradients" or (name == "apply" and self.applies_gradients(site)):
            # ``apply`` is also pandas' and tf.data's: only gradients make it a training step
            self.apply_gradients(None, name, site)
            return UNKNOWN
        if name == "gradient" and len(site.positional) >= 2:
            return self.gradient(site)
        if name == "assign" and isinstance(bm.node, cst.Attribute) and bm.node.attr.value in LR_ATTRS:
            receiver = bm.obj.obj if isinstance(bm.obj, BoundMethod) else None
            self.a.lr_assignments.append(LRAssignment(site.node, self.class_ctx[-1], _optimizer_of(receiver)))
            return UNKNOWN
        if name == "assign" and isinstance(bm.node, cst.Name) and bm.node.value in LR_ATTRS:
            self.a.lr_assignments.append(LRAssignment(site.node, self.class_ctx[-1]))
        self.escape(site)
        return UNKNOWN

    def model_method(self, m: ModelObj, name: str, site: CallSite) -> Value:
        if name == "add" and site.positional:
            v = site.positional[0].value
            m.layers.append(v)
            if not isinstance(v, (LayerObj, ModelObj, UserObj, TensorV)):
                m.open = True
            return UNKNOWN
        if name == "pop":
            if m.layers:
                m.layers.pop()
            return UNKNOWN
        if name == "compile":
            self.compile(m, site)
            return UNKNOWN
        if name in ("fit", "fit_generator"):
            self.fit(m, site)
            return UNKNOWN
        if name in ("__call__", "call"):
            return self.call_layer(m, site)
        if name == "get_layer":
            return PartV(m)
        self.escape(site)
        return UNKNOWN

    def dataset_method(self, d: DatasetV, name: str, site: CallSite) -> Value:
        if name in ("batch", "padded_batch", "rebatch"):
            b = site.arg("batch_size", 0)
            return DatasetV(b if isinstance(b, Arg) else None, None, d.what)
        if name in ("unbatch", "bucket_by_sequence_length", "window"):
            return DatasetV(None, None, d.what)
        if name in ("as_numpy_iterator", "take", "skip", "shuffle", "map", "prefetch", "cache", "repeat",
                    "filter", "with_options", "shard", "apply", "concatenate", "ignore_errors", "enumerate",
                    "interleave", "flat_map", "cardinality"):
            return d
        return UNKNOWN

    def compile(self, model: ModelObj | None, site: CallSite) -> None:
        opt = site.arg("optimizer", 0)
        o = None
        if isinstance(opt, Arg):
            v = opt.value
            if isinstance(v, OptimizerObj):
                o = v
            elif isinstance(v, Const) and isinstance(v.value, str):
                cls_name = K.OPTIMIZER_STRINGS.get(v.value.lower())
                if cls_name is not None:
                    o = OptimizerObj(f"keras.optimizers.{cls_name}", None, string=opt)
                    self.a.optimizers.append(o)
        if o is not None and model is not None:
            o.models.append(model)
            model.optimizers.append(o)
        elif o is not None:
            o.models.append(None)
        self.a.compiles.append(CompileInfo(model, o, site, site.arg("loss", 1)))
        if model is not None:
            model.compiles.append(self.a.compiles[-1])

    def fit(self, model: ModelObj | None, site: CallSite) -> None:
        x = site.value("x", 0)
        b = site.arg("batch_size", 2)
        batch: Arg | None = None
        src = ""
        if isinstance(b, Arg) and not (isinstance(b.value, Const) and b.value.value is None):
            batch, src = b, "`fit(batch_size=...)`"
        elif isinstance(x, DatasetV):
            if x.batch is not None:
                batch = x.batch
                src = f"`batch_size` of `{x.what}`" if x.what.endswith("()") else f"`.batch()` of {x.what}"
            elif x.default is not None:
                batch, src = Arg(Const(x.default), None, "default"), f"the default batch size of `{x.what}`"
        elif b is ABSENT and isinstance(x, (SeqV, Obj, Const)):
            batch, src = Arg(Const(32), None, "default"), "the default of `fit()`"
        cb = site.arg("callbacks", 5)
        callbacks = None if cb is ABSENT else (cb.value if isinstance(cb, Arg) else UNKNOWN)
        calls = self.a.method_calls
        order = len(calls) - 1 if calls and calls[-1][0] is site else len(calls)  # the fit's own entry
        info = FitInfo(model, site, batch, src, callbacks, x, order)
        if model is not None:
            model.fits.append(info)
        self.a.fits.append(info)

    def gradient(self, site: CallSite) -> Value:
        sources = site.value("sources", 1)
        models = self.find_vars([sources])
        return GradientsV(models or None, False, not models and _plain_variables([sources]))

    def apply_gradients(self, opt: OptimizerObj | None, name: str, site: CallSite) -> None:
        values = [a.value for a in site.positional] + [a.value for a in site.keywords.values()]
        g = self.find_gradients(values)
        models = self.find_vars(values)
        if g is not None and isinstance(g.model, list):
            models = models or g.model
        clipped = name != "minimize" and g is not None and g.clipped
        inputs = not models and ((g is not None and g.inputs) or _plain_variables(values))
        info = LoopInfo(opt, [m for m in models if m is not None], clipped, site.node, self.class_ctx[-1], site.top,
                        inputs)
        if opt is not None:
            opt.loops.append(info)
        self.a.loops.append(info)


def _call_shape(self_obj, site: CallSite | None) -> tuple:
    """A call's arguments, abstracted: constants by value, tensors as tensors, objects by identity."""
    if site is None:
        return (id(self_obj),)
    return (id(self_obj), tuple(_shape_of(a.value) for a in site.positional),
            tuple((k, _shape_of(a.value)) for k, a in site.keywords.items()))


def _shape_of(v: Value, depth: int = 0):
    t = type(v)
    if t is Const:
        try:
            hash(v.value)
        except TypeError:
            return ("const",)
        return ("const", type(v.value).__name__, v.value)
    if t is TensorV:
        return ("tensor",)
    if (t is SeqV or t is DictV) and depth < 2:
        items = v.items if t is SeqV else [e.value for e in v.entries.values()]
        return (t.__name__, v.open, tuple(_shape_of(x, depth + 1) for x in items[:8]))
    return ("object", id(v))


def _input_producers(site: CallSite | None) -> list:
    """The layers and ops whose tensors a call receives."""
    if site is None:
        return []
    out: list = []
    for a in (*site.positional, *site.keywords.values()):
        for t in tensors_in(a.value):
            for p in t.producers:
                if isinstance(p, (LayerObj, ModelObj, OpUse)) and not any(p is q for q in out):
                    out.append(p)
    return out


@lru_cache(maxsize=4096)
def _root_of(raw: str) -> str | None:
    return keras_root(raw) if is_keras(raw) else None


def _called_name(func) -> str | None:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _part_of(v: Value) -> Value:
    """One element of ``a, b = v`` when ``v`` is not a sequence the source view can split.

    A layer with several outputs (``return_state=True``) gives tensors made
    by that layer; ``image_dataset_from_directory(subset="both")`` gives two
    datasets with the same batch size; gradients stay gradients.
    """
    if isinstance(v, TensorV):
        return TensorV(list(v.producers))
    if isinstance(v, DatasetV):
        return DatasetV(v.batch, v.default, v.what)
    if isinstance(v, GradientsV):
        return GradientsV(v.model, v.clipped, v.inputs)
    if isinstance(v, SeqV) and v.items:
        return join(list(v.items))  # ``a, b, c = [model.get_layer(n).output for n in names]``
    return UNKNOWN


def _plain_variables(values: list, depth: int = 0) -> bool:
    """Whether these values hold variables or tensors that are not a model's weights, and nothing else known.

    ``tf.Variable(image)`` optimized by style transfer or deep dream, or an
    input tensor perturbed by an adversarial attack.
    """
    found = False
    for v in values:
        if isinstance(v, Obj) and v.qual in K.VARIABLE_CLASSES or isinstance(v, TensorV):
            found = True
        elif isinstance(v, SeqV) and depth < 3:
            if _plain_variables(list(v.items), depth + 1):
                found = True
        elif isinstance(v, (VarsV, LayerObj, ModelObj, UserObj)):
            return False
    return found


def _optimizer_of(v) -> OptimizerObj | None:
    """The optimizer a learning-rate assignment sets, when the receiver is one the source view knows."""
    return v if isinstance(v, OptimizerObj) else None


def import_bindings(node) -> tuple[dict, str | None]:
    """The names an import statement binds (to raw dotted names, or None for
    relative imports of the project's own modules), and the module of a
    wildcard import."""
    out: dict = {}
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = _dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                out[alias.asname.name.value] = full
            else:
                top = full.split(".")[0]
                out[top] = top
        return out, None
    module = None if node.relative or node.module is None else _dotted(node.module)
    if isinstance(node.names, cst.ImportStar):
        return out, module
    for alias in node.names:
        name = _dotted(alias.name)
        if name is None:
            continue
        local = alias.asname.name.value if alias.asname is not None and isinstance(
            alias.asname.name, cst.Name) else name
        out[local] = f"{module}.{name}" if module is not None else None
    return out, None


def _dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        left = _dotted(node.value)
        return f"{left}.{node.attr.value}" if left is not None else None
    return None


def _known_member(q: str) -> bool:
    if q in ("keras.Sequential", "keras.Model", "keras.Input"):
        return True
    return (q in K.KERNEL_LAYERS or q in K.ACTIVATION_LAYERS or q in K.NORMALIZATION_LAYERS
            or q in K.RECURRENT_LAYERS or q in K.TRANSPARENT_LAYERS or q in K.OPTIMIZERS
            or q in K.LR_CALLBACKS or q in K.WRAPPER_LAYERS)


def analyze(module: cst.Module) -> SourceAnalysis:
    """Run the source view over a parsed module."""
    return Interpreter(SourceAnalysis()).run(module)

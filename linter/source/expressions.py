"""Evaluating Python expressions, for the source view's interpreter.

:class:`Expressions` gives each expression an abstract value
(:mod:`klint.source.values`): names are looked up in :class:`Scope` chains,
imported names resolve to canonical names, literals, containers, operators,
comprehensions, subscripts and attributes are followed, and a call is
dispatched on what is called. Here too are the helpers on values that every
part of the interpreter uses: :func:`join` (one value for several),
:func:`tensors_in`, and the edges of the layer graph (:func:`link`,
:func:`mark_output`).

It is a mixin of :class:`~klint.source.interpreter.Interpreter`: running
statements and the file's own functions comes from
:class:`~klint.source.evaluator.Evaluator`, and what Keras and TensorFlow
calls and objects mean (``call_keras``, ``call_tf``, ``call_method``,
``call_layer``, ``model_attribute``...) from
:class:`~klint.source.keras_calls.KerasCalls`.
"""
from __future__ import annotations

import operator
from functools import lru_cache

import libcst as cst

from klint.knowledge import api as K
from klint.knowledge.names import canonical, is_keras, keras_root
from klint.source.values import (
    UNKNOWN, Arg, BoundMethod, CallSite, ClassV, Const, DatasetV, DictV, EachV, Entry, FuncV, GradientsV,
    LambdaV, LayerObj, ModelObj, Obj, OpUse, OptimizerObj, PartV, Ref, SeqV, TapeV, TensorV, Unknown, UserObj,
    Value, VarsV,
)

MISSING = object()

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
            v = s.vars.get(name, MISSING)
            if v is not MISSING:
                return v
            s = s.parent
        return MISSING

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


def link(producer, consumer) -> None:
    if isinstance(producer, (LayerObj, ModelObj, OpUse)):
        producer.consumers.append(consumer)


def mark_output(producer, model) -> None:
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


def absorb(into: SeqV | DictV, v: Value) -> None:
    """Add what ``v`` holds to ``into``, a list or a dict, when ``v`` is one of the same kind (``{**d}``,
    ``dict(d)``, ``items.extend(more)``); else ``into`` holds what the source view cannot see."""
    if isinstance(into, SeqV) and isinstance(v, SeqV):
        into.items.extend(v.items)
    elif isinstance(into, DictV) and isinstance(v, DictV):
        into.entries.update(v.entries)
    else:
        into.open = True
        return
    into.open = into.open or v.open


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


class Expressions:
    """The expressions of the interpreter: ``ev(node, scope)`` is the value of ``node``."""

    def __init__(self):
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

    def ev(self, node, scope: Scope) -> Value:
        fn = self.ev_table.get(type(node))
        if fn is None:
            return UNKNOWN
        return fn(node, scope)

    def ev_name(self, node: cst.Name, scope: Scope) -> Value:
        name = node.value
        v = scope.lookup(name)
        if v is not MISSING:
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
                absorb(d, self.ev(e.value, scope))
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
                link(p, use)
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

    def _read_as(self, node, how: str) -> None:
        """Say how a schedule read by name at ``node`` was used, when it was one."""
        read = self.a.schedule_reads.get(id(node))
        if read is not None:
            read[1] = how

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
                v = self.user_model_attribute(base.model, attr)
                if v is not None:
                    return v
            return BoundMethod(base, attr, node.value)
        if isinstance(base, ModelObj):
            return self.model_attribute(base, attr, node)
        if isinstance(base, LayerObj):
            return self.layer_attribute(base, attr, node)
        if isinstance(base, Obj) and attr in base.attrs:
            return base.attrs[attr]
        if isinstance(base, PartV):
            return self.part_attribute(base, attr)
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
                absorb(d, site.positional[0].value)
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

    # ------------------------------------------- methods of lists and dicts

    def list_append(self, obj: SeqV, name: str, site: CallSite) -> Value:
        if site.positional:
            obj.items.append(site.positional[0].value)
        return UNKNOWN

    def list_extend(self, obj: SeqV, name: str, site: CallSite) -> Value:
        if site.positional:
            absorb(obj, site.positional[0].value)
        return UNKNOWN

    def list_insert(self, obj: SeqV, name: str, site: CallSite) -> Value:
        if len(site.positional) == 2:
            idx = site.positional[0].value
            if isinstance(idx, Const) and isinstance(idx.value, int):
                obj.items.insert(idx.value, site.positional[1].value)
            else:
                obj.open = True
        return UNKNOWN

    def dict_get(self, obj: DictV, name: str, site: CallSite) -> Value:
        if not site.positional:
            return UNKNOWN
        k = site.positional[0].value
        if isinstance(k, Const) and k.value in obj.entries:
            return obj.entries[k.value].value
        if len(site.positional) > 1 and not obj.open:
            return site.positional[1].value
        return UNKNOWN

    def dict_update(self, obj: DictV, name: str, site: CallSite) -> Value:
        if site.positional and isinstance(site.positional[0].value, DictV):
            obj.entries.update(site.positional[0].value.entries)
        elif site.positional:
            obj.open = True
        for k, a in site.keywords.items():
            obj.entries[k] = Entry(a.value, a.node, None, a.top)
        return UNKNOWN

    def dict_copy(self, obj: DictV, name: str, site: CallSite) -> Value:
        return DictV(dict(obj.entries), obj.node, obj.open)

    # ------------------------------------------------------------ names

    def ref(self, raw: str) -> Ref:
        self.note_root(raw)
        return Ref(raw, canonical(raw))

    def note_root(self, raw: str) -> None:
        root = _root_of(raw)
        if root is not None:
            self.a.roots[root] = self.a.roots.get(root, 0) + 1


@lru_cache(maxsize=4096)
def _root_of(raw: str) -> str | None:
    return keras_root(raw) if is_keras(raw) else None


def _called_name(func) -> str | None:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _known_member(q: str) -> bool:
    if q in ("keras.Sequential", "keras.Model", "keras.Input"):
        return True
    return (q in K.KERNEL_LAYERS or q in K.ACTIVATION_LAYERS or q in K.NORMALIZATION_LAYERS
            or q in K.RECURRENT_LAYERS or q in K.TRANSPARENT_LAYERS or q in K.OPTIMIZERS
            or q in K.LR_CALLBACKS or q in K.WRAPPER_LAYERS)


#: The methods of a list (a :class:`SeqV`) that change what it holds; the others do nothing here.
LIST_METHODS = {"append": Expressions.list_append, "extend": Expressions.list_extend, "insert": Expressions.list_insert}

#: The methods of a dict (a :class:`DictV`) that the source view follows.
DICT_METHODS = {"get": Expressions.dict_get, "update": Expressions.dict_update, "copy": Expressions.dict_copy}

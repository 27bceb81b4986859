"""Running Python, for the source view's interpreter.

:class:`Evaluator` walks a file's statements in order, as Python would run
them: assignments bind values in scopes, branches are joined (a branch a
constant test turns off is skipped, or run detached for
:meth:`~klint.source.analysis.SourceAnalysis.with_dead`), a loop's body
runs once and stands for all its iterations, imports bind canonical names,
and the file's own functions and classes run when they are called (with the
call's arguments), within a budget for the file. What an expression is worth
comes from :class:`~klint.source.expressions.Expressions`, which it extends.

It is the base of :class:`~klint.source.interpreter.Interpreter`, whose
:class:`~klint.source.keras_calls.KerasCalls` supplies what Keras objects do
when the file's code uses them: ``finish`` (linking Sequential models),
``set_attribute``, ``subclass_model``, ``sequence_dataset`` and
``model_call_outputs``.
"""
from __future__ import annotations

import libcst as cst

from klint.source.analysis import DEAD_COLLECTIONS, ImportInfo, SourceAnalysis
from klint.source.expressions import Expressions, Scope, const_truth, join, link, tensors_in
from klint.source.values import (
    ABSENT, UNKNOWN, Arg, CallSite, ClassV, Const, DatasetV, DictV, Entry, FuncV, GradientsV, LayerObj,
    ModelObj, Obj, OpUse, SeqV, TapeV, TensorV, UserObj, Value,
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


class Evaluator(Expressions):
    """The statements of the interpreter, and the calls of the file's own functions and classes."""

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
        #: Whether the branches a constant turns off are run too, detached (see :meth:`run_dead`): the
        #: second run that :meth:`~klint.source.analysis.SourceAnalysis.with_dead` makes.
        self.explore = False
        self.dead = 0  # inside such a branch (or a function defined in one)
        self.dead_marked: set = set()  # ids of the records made there
        self.dead_funcs: set = set()  # the function nodes defined there
        self._dead_seen: set = set()
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
        super().__init__()  # the expressions' table

    # ============================================================ driver

    def run(self, module: cst.Module) -> SourceAnalysis:
        scope = Scope()
        scope.vars["__name__"] = Const("__main__")
        self.a.module_scope = scope
        self.a.module_node = module
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
            self.set_attribute(target, self.ev(target.value, scope), v)
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
            if orelse is not None:
                self.turned_off(node, "else", scope, lambda: self._exec_else(orelse, scope))
            return
        if truth is False:
            self.turned_off(node, "body", scope, lambda: self.exec_body(node.body, scope))
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

    # ---------------------------------------- branches a constant turns off

    def turned_off(self, node: cst.If, part: str, scope: Scope, run) -> None:
        """A branch that a constant test turns off (``if optim == "sgd":`` after ``optim = "adam"``).

        The ordinary run skips it: it does not run, and what the file does is
        what the other branch does. It is noted in ``dead_branches``; when
        :attr:`explore` is set, it also runs, detached (:meth:`run_dead`).
        """
        if not self.explore:
            key = (id(node), part)
            if key not in self._dead_seen:
                self._dead_seen.add(key)
                self.a.dead_branches.append((node, part))
            return
        self.run_dead(scope, run)

    def run_dead(self, scope: Scope, run) -> None:
        """Run ``run()`` detached: on a copy of the scope's names, restored afterwards, with what it
        returns dropped, and every record it adds to the analysis marked as dead (``dead_marked``)."""
        saved_vars, saved_stars, saved_top = scope.vars, list(scope.stars), self.top
        n_returns = len(self.returns[-1]) if self.returns else 0
        marks = [(lst, len(lst)) for lst in self.dead_lists()]
        scope.vars = dict(saved_vars)
        self.dead += 1
        try:
            run()
        finally:
            self.dead -= 1
            scope.vars, scope.stars, self.top = saved_vars, saved_stars, saved_top
            if self.returns:
                del self.returns[-1][n_returns:]
            for lst, n in marks:
                self.dead_marked.update(id(r) for r in lst[n:])

    def dead_lists(self) -> list:
        a = self.a
        return [getattr(a, name) for name in DEAD_COLLECTIONS]

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
                    link(p, e)
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
        if self.dead:
            self.dead_funcs.add(node)  # its calls from outside the branch (the drain) run dead too
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

    # ------------------------------------------ the file's own functions and classes

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
        if self.explore and not self.dead and node in self.dead_funcs:
            out: list = []
            self.run_dead(Scope(), lambda: out.append(self.call_function(f, site, self_obj)))
            return out[0] if out else UNKNOWN
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
        if f.cls is not None and node.name.value == "call":
            self.model_call_outputs(f, self_obj, result)
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
        self.subclass_model(obj, site)
        init = cls.find_method("__init__")
        if init is not None:
            self.call_function(init, site, obj)
        if site is not None:
            self.instances.setdefault(cls, obj)  # the methods nothing calls run on a real instance
            dataset = self.sequence_dataset(cls, site)
            if dataset is not None:
                return dataset
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

"""What the source view learned about one file: the result of the interpreter.

:class:`SourceAnalysis` holds the layers, models, optimizers, ``compile`` and
``fit`` calls, training loops and imports of a file, with the queries rules
ask of them (``model_layers``, ``layers_of``...). :class:`FitInfo`,
:class:`CompileInfo`, :class:`LoopInfo`, :class:`LRAssignment` and
:class:`ImportInfo` are its records. The interpreter
(:mod:`klint.source.interpreter`) fills them in.

The collections describe what the file does when it runs: a branch that a
constant test turns off is not in them. ``with_dead()`` is the view the Keras
3 upgrade rules read, where those branches' records are there too.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from klint.source.values import Arg, CallSite, ClassV, LayerObj, ModelObj, OpUse, OptimizerObj, TensorV, UserObj, Value

if TYPE_CHECKING:
    from klint.source.expressions import Scope

#: The collections of :class:`SourceAnalysis` that :meth:`SourceAnalysis.with_dead` extends with the
#: records of the branches a constant turns off.
DEAD_COLLECTIONS = (
    "layers", "models", "optimizers", "schedules", "callbacks", "compiles", "fits", "loops",
    "lr_assignments", "classes", "functions", "calls", "method_calls", "unresolved_calls", "attributes",
)


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
    #: The branches a constant test turns off, which the ordinary run skips: (If node, "body" or
    #: "else"). :meth:`with_dead` sees into them.
    dead_branches: list = field(default_factory=list)
    #: ids of the records that come from such branches (set on the view :meth:`with_dead` returns).
    dead: set = field(default_factory=set, repr=False)
    module_node: cst.Module | None = field(default=None, repr=False)  # the module the analysis is of
    _dead_view: "SourceAnalysis | None" = field(default=None, repr=False)

    # ------------------------------------------------- branches turned off

    def with_dead(self) -> "SourceAnalysis":
        """This analysis with the records of the branches a constant turns off, too.

        The ordinary collections (``optimizers``, ``layers``, ``calls``,
        ``method_calls``, ``attributes``, ``fits``, ``compiles``... see
        :data:`DEAD_COLLECTIONS`) describe what the file does when it runs:
        a branch like ``if optim == "sgd":`` after ``optim = "adam"`` is
        skipped. Code that is upgraded to a new Keras must be upgraded in
        those branches too (it breaks as soon as the constant changes), so the
        upgrade rules read this view instead: the same analysis, whose
        collections hold, after the ordinary records, the records of those
        branches (:meth:`is_dead` tells them apart).

        They come from a second run of the interpreter over the file, in
        which each such branch runs *detached*: on a copy of the scope's
        names, restored afterwards, so that the code after it runs as in the
        ordinary run. A record counts when it was made inside such a branch
        (or a function defined there) and the ordinary run has none for the
        same node (a helper called only from the branch ran on its defaults
        already). The objects of the ordinary run stand for those the second
        run made for the same construction call (a dead ``model.fit(...)``
        on a model built outside the branch has that model), and nothing of
        the ordinary run is changed. The view is made once, when first
        asked; a file without such branches is its own view.
        """
        if self._dead_view is None:
            self._dead_view = self._make_dead_view()
        return self._dead_view

    def is_dead(self, record) -> bool:
        """Whether a record of :meth:`with_dead`'s collections comes from a branch a constant turns off."""
        return id(record) in self.dead

    def _make_dead_view(self) -> "SourceAnalysis":
        if not self.dead_branches or self.module_node is None:
            return self
        from klint.source.interpreter import Interpreter

        interp = Interpreter(SourceAnalysis())
        interp.explore = True
        try:
            other = interp.run(self.module_node)
        except Exception:  # pragma: no cover - code only the branches hold trips the interpreter
            return self  # the upgrade rules still see what the ordinary run saw
        marked = interp.dead_marked
        same = _counterparts(self, other)
        view = copy.copy(self)
        view.dead = set()
        view._dead_view = view
        for name in DEAD_COLLECTIONS:
            live = getattr(self, name)
            keys = {_record_key(r) for r in live}
            extra: list = []
            for r in getattr(other, name):
                if id(r) not in marked:
                    continue
                k = _record_key(r)
                if k in keys:
                    continue
                keys.add(k)
                r = _remap(r, same)
                extra.append(r)
                view.dead.add(id(r))
            setattr(view, name, list(live) + extra if extra else live)
        return view

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


# ------------------------------------------------------- the dead view's records

def _node_of(r):
    """The node a record is about, for telling the records of two runs apart."""
    if isinstance(r, OptimizerObj) and r.string is not None:
        return r.string.node
    site = getattr(r, "site", None)
    if isinstance(site, CallSite):
        return site.node
    return getattr(r, "node", None)


def _record_key(r) -> tuple:
    """What makes two records (of two runs of the interpreter over one module) the same record."""
    if isinstance(r, tuple):
        if len(r) == 3 and isinstance(r[0], CallSite):  # method_calls: (site, receiver, name)
            return ("method", id(r[0].node), r[2])
        return ("node", id(r[0]), len(r))  # calls, unresolved_calls, attributes
    node = _node_of(r)
    if node is None:
        return ("object", id(r))
    return (type(r).__name__, getattr(r, "qual", None), id(node))


def _counterparts(live: SourceAnalysis, other: SourceAnalysis) -> dict:
    """id(object of the second run) -> the object of the ordinary run built by the same call."""
    index: dict = {}
    for name in ("layers", "models", "optimizers", "schedules", "callbacks"):
        for o in getattr(live, name):
            index.setdefault(_record_key(o), o)
            inst = getattr(o, "instance", None)
            if isinstance(inst, UserObj) and inst.site is not None:
                index.setdefault(("UserObj", id(inst.site.node)), inst)
    out: dict = {}
    for name in ("layers", "models", "optimizers", "schedules", "callbacks"):
        for o in getattr(other, name):
            twin = index.get(_record_key(o))
            if twin is not None and type(twin) is type(o):
                out[id(o)] = twin
            inst = getattr(o, "instance", None)
            if isinstance(inst, UserObj) and inst.site is not None:
                twin = index.get(("UserObj", id(inst.site.node)))
                if twin is not None:
                    out[id(inst)] = twin
    return out


def _remap(r, same: dict):
    """A dead record, pointing at the ordinary run's objects where the second run's have a twin."""
    def m(v):
        return same.get(id(v), v) if v is not None else v

    if isinstance(r, tuple):
        if len(r) == 3 and isinstance(r[0], CallSite):
            return (r[0], m(r[1]), r[2])
        if len(r) == 4:
            return (r[0], r[1], m(r[2]), r[3])
        return r
    if isinstance(r, FitInfo):
        return dataclasses.replace(r, model=m(r.model))
    if isinstance(r, CompileInfo):
        return dataclasses.replace(r, model=m(r.model), optimizer=m(r.optimizer))
    if isinstance(r, LoopInfo):
        return dataclasses.replace(r, optimizer=m(r.optimizer), models=[m(x) for x in r.models])
    if isinstance(r, LRAssignment):
        return dataclasses.replace(r, target=m(r.target))
    return r

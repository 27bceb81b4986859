"""The layer graph, as the signal sees it: where a layer's output goes, and how deep a plain chain runs.

Rules about initialization ask what happens to a layer's activations on
the way to the next layer with weights: do they reach it as they are (a
*plain* link), or does something reset their scale first, a normalization
layer or a residual sum that carries the input past the layer? Both views
answer with the same objects (layers, ops and models with ``producers``
and ``consumers``), so this module serves both.

Every walk is bounded and keeps a visited set: graphs can be large, and a
block helper whose later calls reuse an earlier call's layers makes cycles.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from klint.knowledge import api as K
from klint.source.values import LayerObj, ModelObj, OpUse

#: Layers the signal passes through without a change of scale that matters here: activations,
#: shape changes, pooling, dropout and noise, and merges other than a sum.
PASS_LAYERS = (
    frozenset(K.ACTIVATION_LAYERS) | K.TRANSPARENT_LAYERS | K.AVERAGE_POOLING_LAYERS
    | frozenset(f"keras.layers.{n}" for n in (
        "Concatenate", "Multiply", "Average", "Maximum", "Minimum", "Subtract", "Lambda", "Masking", "Rescaling",
    ))
)

MAX_NODES = 400  # nodes one walk visits at most
RESIDUAL_REACH = 6  # kernel layers a walk crosses looking for the residual sum that closes a branch
ANCESTOR_REACH = 64  # nodes searched back from a layer for the fork of a skip connection


def graph_of(analysis) -> "Graph":
    """The graph of one file's analysis, built once for all the rules that walk it."""
    g = getattr(analysis, "_graph", None)
    if g is None:
        g = analysis._graph = Graph(analysis)
    return g


def kind(node) -> str:
    """``kernel``, ``norm``, ``add`` (a sum), ``pass``, ``model`` (a model applied as a layer) or ``other``."""
    if isinstance(node, OpUse):
        return {"add": "add", "opaque": "other"}.get(node.op, "pass")
    if isinstance(node, ModelObj):
        return "model"
    if isinstance(node, LayerObj):
        q = node.qual
        if q in K.KERNEL_LAYERS:
            return "kernel"
        if q in K.NORMALIZATION_LAYERS:
            return "norm"
        if q in K.ADD_LAYERS:
            return "add"
        if q in PASS_LAYERS:
            return "pass"
    return "other"


@dataclass
class Ends:
    """What a layer's output reaches, on its paths up to the next layer with weights."""

    kernels: list = field(default_factory=list)  # kernel layers it feeds as it is: plain links
    forward: list = field(default_factory=list)  # those of them reached without going round a loop
    norm: bool = False  # a normalization layer rescales it on some path
    residual: bool = False  # a sum with a skip connection around the layer takes it on some path
    head: bool = False  # it leaves the model (a model output) on some path
    other: bool = False  # a layer the walk cannot see through (attention, recurrent, custom)
    sum: bool = False  # a sum takes it on some path (a residual connection, or a join of branches)
    sink: bool = False  # it goes into a call the source view cannot follow, which may be anything
    join: bool = False  # a sum with another signal (not a skip around the layer) takes it on some path


class Graph:
    """Walks over one analysis's layer graph, with the answers cached.

    A model applied as a layer of another (a ``keras.Sequential`` feed-forward
    block called on a tensor) is a node of the outer graph whose inside is
    a graph of its own: walks go into it through the layers that read its
    input (its *entries*) and out of it through its outputs.
    """

    def __init__(self, analysis):
        self._ends: dict = {}
        self._up: dict = {}
        self._down: dict = {}
        layers = analysis.layers
        self.wrapper = {id(w.wrapped): w for w in layers
                        if isinstance(w, LayerObj) and isinstance(getattr(w, "wrapped", None), LayerObj)}
        self.back = getattr(analysis, "back_edges", set())
        self.entries: dict = {}  # id(model) -> the layers that read its input
        self.entry_of: dict = {}  # id(layer) -> the models whose input it reads
        for m in analysis.models:
            for first in _entries(analysis, m):
                self.entries.setdefault(id(m), []).append(first)
                self.entry_of.setdefault(id(first), []).append(m)
        self.nested = _nested_models(analysis)  # ids of the models that are layers of another model

    # -------------------------------------------------------- downstream

    def ends(self, layer) -> Ends:
        """Where ``layer``'s output goes, up to the next kernel layer, normalization, sum or model output."""
        got = self._ends.get(id(layer))
        if got is None:
            got = self._ends[id(layer)] = self._walk(layer, layer, 0)[0]
        return got

    def _walk(self, start, ref, kernels: int, through_norm: bool = False) -> tuple[Ends, list]:
        """Walk from ``start``'s output; sums are judged against ``ref``. With ``kernels`` > 0 the walk
        also crosses up to that many kernel layers (returned as the second value), and with
        ``through_norm`` normalization layers too."""
        out = Ends()
        crossed: list = []
        seen: set = set()  # the start itself may come back: a loop's back edge to its first layer
        back = self.back
        stack = [(c, (id(start), id(c)) in back) for c in self._next(start, out)]
        while stack and len(seen) < MAX_NODES:
            n, looped = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            k = kind(n)
            if k == "kernel":
                out.kernels.append(n)
                if not looped:
                    out.forward.append(n)
                if len(crossed) < kernels:
                    crossed.append(n)
                    stack.extend((c, looped or (id(n), id(c)) in back) for c in self._next(n, out))
            elif k == "norm":
                out.norm = True
                if through_norm:
                    stack.extend((c, looped or (id(n), id(c)) in back) for c in self._next(n, out))
            elif k == "add":
                out.sum = True
                # a sum ends the plain chain: either a residual connection around the layer (which the
                # skip carries past it), or the join of another signal, whose scale adds to this one
                if self.is_skip_sum(n, ref):
                    out.residual = True
                else:
                    out.join = True
            elif k == "pass":
                stack.extend((c, looped or (id(n), id(c)) in back) for c in self._next(n, out))
            elif k == "model" and self.entries.get(id(n)):
                stack.extend((c, looped) for c in self.entries[id(n)])
            elif isinstance(n, OpUse):
                out.sink = True  # into a call the source view cannot follow (a loss, NumPy, another library)
            else:
                out.other = True
        return out, crossed

    def _next(self, node, out: Ends) -> list:
        """What reads ``node``'s output; a model output is followed into the models that use that model."""
        nxt = list(getattr(node, "consumers", ()))
        if getattr(node, "is_output", False):
            exits = getattr(node, "exits", ())
            used = [m for m in exits if getattr(m, "consumers", None) and id(m) in self.nested]
            for m in used:
                nxt.extend(m.consumers)  # a sub-model applied inside a bigger model
            unused = [m for m in exits if m not in used]
            if any(_component(m) for m in unused):
                out.other = True  # a block of a custom layer, applied where the source view cannot see
            if not exits or any(not _component(m) for m in unused):
                out.head = True
        elif not nxt and id(node) in self.wrapper:
            nxt = self._next(self.wrapper[id(node)], out)  # the layer inside TimeDistributed(...)
        return nxt

    # ------------------------------------------------------ skip connections

    def inputs(self, node) -> list:
        """What feeds ``node`` (loops' back edges left out): its producers, and for the first layer of
        a model used as a layer, what feeds that model."""
        back = self.back
        out = [p for p in getattr(node, "producers", ()) if (id(p), id(node)) not in back]
        for m in self.entry_of.get(id(node), ()):
            out.extend(m.producers)
        return out

    def outputs(self, node) -> list:
        """What reads ``node``'s output (loops' back edges left out), the models it is an output of
        included."""
        back = self.back
        out = [c for c in getattr(node, "consumers", ()) if (id(node), id(c)) not in back]
        if getattr(node, "is_output", False):
            for m in getattr(node, "exits", ()):
                out.append(m)
                out.extend(getattr(m, "consumers", ()))
        return out

    def ancestors(self, node) -> set:
        """Ids of what ``node`` is computed from (itself included), within a bounded distance."""
        return self._reach(node, self.inputs, self._up, ANCESTOR_REACH)

    def descendants(self, node) -> set:
        return self._reach(node, self.outputs, self._down, MAX_NODES)

    @staticmethod
    def _reach(node, edges, cache: dict, limit: int) -> set:
        got = cache.get(id(node))
        if got is not None:
            return got
        seen = {id(node)}
        stack = edges(node)
        while stack and len(seen) < limit:
            n = stack.pop()
            if id(n) not in seen:
                seen.add(id(n))
                stack.extend(edges(n))
        cache[id(node)] = seen
        return seen

    def is_skip_sum(self, add, layer) -> bool:
        """Whether the sum ``add`` (downstream of ``layer``) also takes an input that forks before ``layer``:
        the identity, or a projection shortcut, of a residual connection around it."""
        inputs = list(getattr(add, "producers", ()))
        if len(inputs) < 2:
            return False
        mine = self.ancestors(layer)
        down = self.descendants(layer)
        for p in inputs:
            if id(p) in down:
                continue  # the branch that ``layer`` is on
            if id(p) in mine or self.ancestors(p) & mine:
                return True
        return False

    def behind_norm(self, layer) -> bool:
        """Whether everything that feeds ``layer`` comes out of a normalization layer (through activations,
        dropout and other layers that pass the signal on)."""
        stack = self.inputs(layer)
        if not stack:
            return False
        seen = {id(layer)}
        while stack and len(seen) < MAX_NODES:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            k = kind(n)
            if k == "norm":
                continue
            ins = self.inputs(n)
            if k != "pass" or not ins:
                return False
            stack.extend(ins)
        return True

    def in_residual_branch(self, layer) -> bool:
        """Whether ``layer`` sits on a branch that a skip connection adds back to the signal that entered
        it: every path from its output, within ``RESIDUAL_REACH`` kernel layers (and through the
        normalization of a post-norm block), ends in such a sum."""
        ends, crossed = self._walk(layer, layer, RESIDUAL_REACH, through_norm=True)
        beyond = [k for k in ends.kernels if not any(k is c for c in crossed)]
        return ends.residual and not (ends.head or ends.other or ends.sink or ends.join or beyond)


class Chains:
    """Plain chains: kernel layers linked output to input with nothing that rescales in between.

    ``succ(layer)`` lists the kernel layers that ``layer`` feeds by a plain
    link, ``forward(layer)`` those reached without going round a loop. A
    loop's body is run once and carries a back edge from where one
    iteration ends to where the next begins, so the layers a loop repeats
    form a cycle of plain links: each of them counts as often as the loop
    runs (``repeat``), along the longest path through the body. A layer
    built in a loop whose chain the body breaks (a normalization in it)
    counts once. A loop of unknown count, or a cycle made by a block that
    later calls reuse, makes the depth a lower bound.
    """

    def __init__(self, layers, succ, forward=None):
        self.layers = list(layers)
        self.succ = {id(x): list(succ(x)) for x in self.layers}
        forward = forward or succ
        self.forward = {id(x): list(forward(x)) for x in self.layers}
        self.pred: dict = {}
        for x in self.layers:
            for k in self.succ[id(x)]:
                self.pred.setdefault(id(k), []).append(x)
        self._built = False
        self._fwd: dict = {}
        self._back: dict = {}

    def predecessors(self, layer) -> list:
        return self.pred.get(id(layer), [])

    def starts(self, layer) -> list:
        """The first layers of the plain chains that reach ``layer`` (``layer`` itself when none does)."""
        self._build()
        out, seen, stack = [], {id(layer)}, [layer]
        while stack and len(seen) < MAX_NODES:
            n = stack.pop()
            preds = self._preds_fwd.get(id(n), [])
            if not preds:
                out.append(n)
            for p in preds:
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append(p)
        return out or [layer]

    def depth(self, layer) -> tuple[int, bool]:
        """Kernel layers in the longest plain chain through ``layer``, and whether that is a lower bound."""
        self._build()
        c = self._comp[id(layer)]
        w, w_more = self._weight[c]
        f, f_more = self._longest(c, self._down, self._fwd)
        b, b_more = self._longest(c, self._up, self._back)
        return f + b - w, f_more or b_more or w_more

    def _build(self) -> None:
        if self._built:
            return
        self._built = True
        # a layer counts as often as its loop runs when it lies on a cycle of plain links
        looped: dict = {}
        for group in _components(self.layers, lambda x: self.succ.get(id(x), ())):
            first = group[0]
            cyclic = len(group) > 1 or any(k is first for k in self.succ.get(id(first), ()))
            for x in group:
                looped[id(x)] = cyclic
        # the longest path runs over the links that do not go round a loop; what still forms a cycle
        # (a block reused by later calls) is one component, counted whole, as a lower bound
        groups = _components(self.layers, lambda x: self.forward.get(id(x), ()))
        self._comp = {id(x): i for i, group in enumerate(groups) for x in group}
        self._weight = []
        for group in groups:
            total, more = 0, len(group) > 1
            for x in group:
                n, unknown = repeat(x) if looped[id(x)] else (1, False)
                total += n
                more = more or unknown
            self._weight.append((total, more))
        self._down = [set() for _ in groups]
        self._up = [set() for _ in groups]
        self._preds_fwd: dict = {}
        for x in self.layers:
            a = self._comp[id(x)]
            for k in self.forward[id(x)]:
                b = self._comp.get(id(k))
                if b is not None and a != b:
                    self._down[a].add(b)
                    self._up[b].add(a)
                    self._preds_fwd.setdefault(id(k), []).append(x)

    def _longest(self, c: int, edges: list, memo: dict) -> tuple[int, bool]:
        """The heaviest path from component ``c`` along ``edges`` (the components form a DAG)."""
        if c not in memo:
            for n in _postorder(c, edges, memo):
                best, best_more = 0, False
                for m in edges[n]:
                    d, more = memo[m]
                    if d > best or (d == best and more):
                        best, best_more = d, more
                w, w_more = self._weight[n]
                memo[n] = (w + best, w_more or best_more)
        return memo[c]


def repeat(layer) -> tuple[int, bool]:
    """How many layers one layer object stands for (the loops that built it), and whether at least that."""
    r = getattr(layer, "repeat", 1)
    if r is None:
        return 2, True
    if r == 1:
        return 1, True  # on a cycle without a loop count: a block reused by later calls
    return max(int(r), 1), False


def _components(nodes: list, succ) -> list:
    """Strongly connected components (Tarjan's algorithm, without recursion), each a list of nodes."""
    known = {id(x) for x in nodes}
    index: dict = {}
    low: dict = {}
    on: set = set()
    stack: list = []
    out: list = []
    for root in nodes:
        if id(root) in index:
            continue
        index[id(root)] = low[id(root)] = len(index)
        stack.append(root)
        on.add(id(root))
        work = [(root, iter(succ(root)))]
        while work:
            node, it = work[-1]
            child = next(it, None)
            if child is not None:
                if id(child) not in known:
                    continue
                if id(child) not in index:
                    index[id(child)] = low[id(child)] = len(index)
                    stack.append(child)
                    on.add(id(child))
                    work.append((child, iter(succ(child))))
                elif id(child) in on:
                    low[id(node)] = min(low[id(node)], index[id(child)])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[id(parent)] = min(low[id(parent)], low[id(node)])
            if low[id(node)] == index[id(node)]:
                group = []
                while True:
                    x = stack.pop()
                    on.discard(id(x))
                    group.append(x)
                    if x is node:
                        break
                out.append(group)
    return out


def _postorder(start: int, edges: list, done: dict) -> list:
    """The components reachable from ``start`` that ``done`` lacks, each after those its edges lead to."""
    order: list = []
    seen = {start}
    work = [(start, iter(edges[start]))]
    while work:
        n, it = work[-1]
        m = next(it, None)
        if m is None:
            work.pop()
            order.append(n)
        elif m not in seen and m not in done:
            seen.add(m)
            work.append((m, iter(edges[m])))
    return order


def _nested_models(analysis) -> set:
    """Ids of the models that are layers of another model: items of a Sequential, nodes of a functional
    model's graph, or models whose output a layer reads (through ops). A model merely called on data (a
    policy network in an RL loop, whose output goes to NumPy) is not."""
    out: set = set()
    for m in analysis.models:
        if _read_by_a_layer(m):
            out.add(id(m))
        kind_ = getattr(m, "kind", None)
        if kind_ == "sequential":
            for item in m.layers:
                inner = getattr(item, "model", None) if not isinstance(item, ModelObj) else item
                if isinstance(inner, ModelObj):
                    out.add(id(inner))
        elif kind_ == "functional":
            stack = [p for t in m.outputs for p in t.producers]
            seen: set = set()
            while stack and len(seen) < 10 * MAX_NODES:
                n = stack.pop()
                if id(n) in seen:
                    continue
                seen.add(id(n))
                if isinstance(n, ModelObj):
                    out.add(id(n))
                stack.extend(getattr(n, "producers", ()))
    return out


def _read_by_a_layer(model) -> bool:
    stack, seen = list(getattr(model, "consumers", ())), set()
    while stack and len(seen) < MAX_NODES:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, (LayerObj, ModelObj)):
            return True
        if isinstance(n, OpUse) and n.op != "opaque":
            stack.extend(n.consumers)
    return False


def _component(model) -> bool:
    """Whether a model is a part of a custom layer (built in its ``__init__``), not a model of its own."""
    owner = getattr(model, "owner", None)
    return owner is not None and owner.derives("keras.layers.Layer") and not owner.derives("keras.Model")


def _entries(analysis, model) -> list:
    """The layers of a Sequential or functional model that read its input."""
    kind_ = getattr(model, "kind", None)
    if kind_ == "sequential":
        for item in model.layers:
            if isinstance(item, (LayerObj, ModelObj)):
                return [item]
            if isinstance(item, OpUse) or item is None:
                return []
        return []
    if kind_ == "functional":
        layers, _open = analysis.model_layers(model)
        return [x for x in layers if isinstance(x, LayerObj)
                and all(isinstance(p, OpUse) and p.op == "input" for p in x.producers)]
    return []

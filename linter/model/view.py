"""The snapshot, seen through the objects the rules already read.

Rules are written once against the source view's objects (layers with
``arg()``, ``consumers``, ``is_output``...; optimizers; fits). This module
builds the same objects from a snapshot, so that the same rule code judges
the real model:

* values come from the real layer and optimizer configs;
* graph edges, outputs and trainability come from the built model;
* each object's location is its recorded construction site. When that site
  is a call of the same kind in the checked file, the object carries that
  call's :class:`CallSite`, so findings point there and the rules' fixes
  edit it, exactly as for a source finding. A site elsewhere (another file,
  or a library call such as ``ResNet50(...)`` for the layers it builds) is
  reported without a fix.
"""
from __future__ import annotations

from klint.source.interpreter import CompileInfo, FitInfo, LoopInfo, SourceAnalysis
from klint.knowledge.names import canonical
from klint.source.values import (
    ABSENT,
    UNKNOWN,
    Arg,
    CallSite,
    Const,
    LayerObj,
    ModelObj,
    Obj,
    OptimizerObj,
    Ref,
    SeqV,
    UserObj,
)

#: Keras defaults of the arguments rules read, so that an argument the source
#: does not spell and the config holds at its default reads as "not given".
DEFAULTS = {
    "activation": "linear",
    "kernel_initializer": "glorot_uniform",
    "momentum": 0.99,
    "clipnorm": None, "clipvalue": None, "global_clipnorm": None,
}

_INITIALIZER_NAMES = {
    "GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeUniform": "he_uniform",
    "HeNormal": "he_normal", "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
    "Zeros": "zeros", "Ones": "ones", "Constant": "constant",
}


class Site:
    """A construction site that is not a call of the checked file."""

    def __init__(self, file: str, line: int, col: int | None):
        self.file, self.line, self.col = file, line, col
        self.library = False


def config_value(name: str, value):
    """A config entry as a source-view value."""
    if isinstance(value, dict) and "class_name" in value:
        cls = value.get("class_name")
        if name.endswith("initializer"):
            simple = _INITIALIZER_NAMES.get(cls)
            if simple is not None:
                return Const(simple)
            return UNKNOWN  # VarianceScaling, Orthogonal, custom: not judged
        module = value.get("module") or ""
        return Obj(canonical(f"{module}.{cls}") if module else cls)
    if isinstance(value, dict) and "function" in value:
        return Ref(f"{value.get('module')}.{value['function']}", canonical(f"{value.get('module')}.{value['function']}"))
    if isinstance(value, float):
        return Const(float(f"{value:.7g}"))  # configs hold float32 values: 0.05 is 0.0500000007
    if isinstance(value, (str, int, bool)) or value is None:
        return Const(value)
    if isinstance(value, (list, tuple)) and all(isinstance(x, (str, int, float, bool)) or x is None for x in value):
        return SeqV([config_value(name, x) for x in value])  # kernel_size, strides...
    return UNKNOWN


class SnapLayer(LayerObj):
    """A layer of the built model; ``arg`` answers from its config."""

    def __init__(self, entry: dict, site, source_site: CallSite | None):
        super().__init__(canonical(_module_qual(entry)), source_site)
        self.entry = entry
        self.config = entry.get("config") or {}
        self.where = site  # Site, or None when the source call is known
        self.frozen = not entry.get("trainable", True)

    def arg(self, name: str, pos: int | None = None, *aliases: str):
        src = self.site.arg(name, pos, *aliases) if self.site is not None else ABSENT
        return merged_arg(self.config, src, name, src if self.site is not None else UNKNOWN)


def merged_arg(config: dict, src, name: str, missing):
    """The built object's value of ``name``, placed at the source argument that spells it.

    The value comes from the config (the truth); the node, for fixes, from
    the source. A value the source does not spell and that is Keras's
    default (or None) reads as not given. ``missing`` answers for a name
    the config does not hold.
    """
    if name not in config:
        return missing
    value = config_value(name, config[name])
    if isinstance(src, Arg):
        return src if _same(value, src.value) else Arg(value, src.node, src.via, name, src.top)
    if src is ABSENT and isinstance(value, Const) and (value.value is None or value.value == DEFAULTS.get(name, ())):
        return ABSENT
    return Arg(value, None, "config", name, None)


def _same(a, b) -> bool:
    """The same literal, allowing for the float32 round trip of configs (0.05 is 0.0500000007)."""
    if not (isinstance(a, Const) and isinstance(b, Const)):
        return False
    x, y = a.value, b.value
    if isinstance(x, float) and isinstance(y, (int, float)) and not isinstance(y, bool):
        return abs(x - y) <= 1e-6 * max(1.0, abs(x))
    return x == y


def _module_qual(entry: dict) -> str:
    qual = entry.get("qual") or entry.get("class", "")
    return qual


class SnapObj(Obj):
    """A Keras object of the built model known by its config (a loss, a schedule)."""

    def __init__(self, qual: str, config: dict, source: CallSite | None = None):
        super().__init__(qual, source)
        self.config = config or {}

    def arg(self, name: str, pos: int | None = None, *aliases: str):
        src = self.site.arg(name, pos, *aliases) if self.site is not None else ABSENT
        return merged_arg(self.config, src, name, src if self.site is not None else ABSENT)


def loss_value(loss):
    """The compiled loss as a source-view value: a string, or a loss object with its config."""
    if isinstance(loss, str):
        return Const(loss)
    if isinstance(loss, dict) and "class_name" in loss:
        module = loss.get("module") or "keras.losses"
        return SnapObj(canonical(f"{module}.{loss['class_name']}"), loss.get("config") or {})
    if isinstance(loss, dict) and "function" in loss:
        return Ref(f"{loss.get('module')}.{loss['function']}", canonical(f"{loss.get('module')}.{loss['function']}"))
    return UNKNOWN


class SnapOptimizer(OptimizerObj):
    def __init__(self, info: dict, source_site: CallSite | None, string: Arg | None):
        super().__init__(canonical(info.get("qual") or info.get("class", "")), source_site)
        self.info = info
        self.config = info.get("config") or {}
        self.string = string
        self.where = None

    @property
    def origin(self):
        return self.string if self.string is not None else (self.site if self.site is not None else self.where)


class SnapSite(CallSite):
    """The source call an optimizer came from, answering with the built optimizer's values."""

    def __init__(self, opt: SnapOptimizer, source: CallSite | None):
        super().__init__(source.node if source is not None else None, source.top if source is not None else None)
        self.opt = opt
        self.source = source

    def arg(self, name: str, pos: int | None = None, *aliases: str):
        src = self.source.arg(name, pos, *aliases) if self.source is not None else ABSENT
        sched = self.opt.info.get("schedule")
        if name == "learning_rate" and sched:
            return Arg(SnapObj(canonical(sched.get("qual") or ""), sched.get("config") or {}),
                       getattr(src, "node", None), getattr(src, "via", "config"), name, getattr(src, "top", None))
        return merged_arg(self.opt.config, src, name, src if self.source is not None else ABSENT)


class ModelAnalysis(SourceAnalysis):
    """A :class:`SourceAnalysis` whose models are the captured ones."""

    def model_layers(self, model, _seen=None):
        layers = getattr(model, "snap_layers", None)
        if layers is not None:
            return list(layers), False
        return super().model_layers(model, _seen)

    def all_models_layers(self) -> list:
        return list(self.layers)


def build(snapshot: dict, source: SourceAnalysis, positions, path: str) -> ModelAnalysis:
    """The model view of one file: the snapshot's objects, located in ``source`` where possible."""
    import os

    here = os.path.realpath(path)
    calls = _source_calls(source, positions)
    a = ModelAnalysis()
    a.module_scope = source.module_scope
    a.imports = source.imports
    a.roots = source.roots
    # what the file does besides building the model is the source view's to say
    a.lr_assignments = source.lr_assignments
    a.classes = source.classes
    a.callbacks = source.callbacks
    a.schedules = source.schedules
    a.calls = source.calls
    a.method_calls = source.method_calls
    a.source_fits = source.fits  # in the order the source runs them, for "before training"
    a.attributes = source.attributes
    a.unresolved_calls = source.unresolved_calls

    def locate(site: dict | None, qual: str | None, kinds: tuple):
        """The source object built at ``site``, or where to report (a Site) when there is none.

        A Site whose ``library`` flag is set is a call of the file that is not
        this object's constructor: the object was built inside a library.
        """
        if not site:
            return None, None
        if os.path.realpath(site.get("file") or "") != here:
            return None, Site(site.get("file"), site.get("line"), site.get("col"))
        found = calls.get((site["line"], site.get("col")))
        if found is None and site.get("col") is None:
            cands = [v for (ln, _), v in calls.items() if ln == site["line"]]
            found = cands[0] if len(cands) == 1 else None
        if found is not None and isinstance(found, kinds) and (qual is None or found.qual == qual):
            return found, None
        where = Site(site.get("file"), site.get("line"), site.get("col"))
        where.library = found is not None and getattr(found, "kind", None) == "application"
        return None, where

    optimizers: dict = {}
    for info in snapshot.get("optimizers", []):
        opt = _optimizer(info, locate, calls)
        optimizers[info.get("index")] = opt
        a.optimizers.append(opt)

    for m in snapshot.get("models", []):
        model = ModelObj("keras.Model", None, kind="snapshot")
        src_model, where = locate(m.get("site"), None, (ModelObj,))
        model.site = src_model.site if src_model is not None else None
        model.where = where
        layers: dict = {}
        for entry in m.get("layers", []):
            if entry.get("class") == "InputLayer":
                continue
            qual = canonical(_module_qual(entry))
            src, where = locate(entry.get("site"), qual, (LayerObj, ModelObj))
            layer = SnapLayer(entry, where, src.site if isinstance(src, LayerObj) else None)
            layer.library = bool(where is not None and getattr(where, "library", False))
            if entry.get("is_model"):
                layer.qual = "keras.Model"
            wrapped = (entry.get("config") or {}).get("layer")
            if isinstance(wrapped, dict) and "class_name" in wrapped:
                inner = SnapLayer({"qual": f"{wrapped.get('module') or 'keras.layers'}.{wrapped['class_name']}",
                                   "config": wrapped.get("config") or {}}, None, None)
                layer.wrapped = inner
            cell = (entry.get("config") or {}).get("cell")
            if isinstance(cell, dict) and "class_name" in cell:
                layer.wrapped = SnapLayer({"qual": f"{cell.get('module') or 'keras.layers'}.{cell['class_name']}",
                                           "config": cell.get("config") or {}}, None, None)
            layers[entry["id"]] = layer
        edges = [(s, d) for s, d in m.get("edges", []) if s in layers and d in layers]
        for s, d in edges:
            layers[s].consumers.append(layers[d])
            layers[d].producers.append(layers[s])
        if not edges:
            # a subclassed model has no graph Keras can show: its layers are used where the view
            # cannot see, and rules judge each by its own configuration
            for layer in layers.values():
                layer.escaped = True
        for o in m.get("outputs", []):
            if o in layers:
                layers[o].is_output = True
        model.snap_layers = [x for x in layers.values() if x.qual != "keras.Model"]
        a.layers.extend(model.snap_layers)
        a.models.append(model)
        opt = None
        if m.get("optimizer"):
            idx = m["optimizer"].get("index")
            opt = optimizers.get(idx) if idx is not None else None
            if opt is None:
                opt = _optimizer(m["optimizer"], locate, calls)
                a.optimizers.append(opt)
            if not (_implicit(opt) and _own_train_step(m, source)):
                opt.models.append(model)
                model.optimizers.append(opt)
        if m.get("loss") is not None or m.get("optimizer"):
            src_compile = calls.get(_key(m.get("compile_site")))
            src_site = src_compile.site if isinstance(src_compile, CompileInfo) else None
            loss = loss_value(m.get("loss"))
            src_loss = src_compile.loss if isinstance(src_compile, CompileInfo) else ABSENT
            if isinstance(src_loss, Arg):
                if isinstance(loss, SnapObj) and isinstance(src_loss.value, Obj):
                    loss.site = src_loss.value.site  # the loss object's own call, for fixes
                loss_arg = Arg(loss, src_loss.node, src_loss.via, "loss", src_loss.top)
            else:
                loss_arg = Arg(loss, None, "config", "loss", None) if m.get("loss") is not None else ABSENT
            info = CompileInfo(model, opt if opt in model.optimizers else None, src_site or CallSite(None), loss_arg)
            model.compiles.append(info)
            a.compiles.append(info)
        if m.get("fit"):
            fit = _fit(m["fit"], model, source)
            model.fits.append(fit)
            a.fits.append(fit)
        if m.get("loop"):
            lo = m["loop"]
            lopt = optimizers.get(lo.get("optimizer"))
            loop = LoopInfo(lopt, [model], bool(lo.get("clipped")), None, None, None)
            if lopt is not None:
                lopt.loops.append(loop)
            a.loops.append(loop)
    return a


def _optimizer(info: dict, locate, calls: dict) -> SnapOptimizer:
    qual = canonical(info.get("qual") or "")
    src, where = locate(info.get("site"), qual, (OptimizerObj,))
    string = None
    site = info.get("site")
    if src is None and site:
        # built by compile(optimizer="adam"): its site is that compile call, and the source
        # view knows the string
        c = calls.get((site["line"], site.get("col")))
        if isinstance(c, CompileInfo) and c.optimizer is not None and c.optimizer.string is not None:
            string = c.optimizer.string
    opt = SnapOptimizer(info, None, string)
    opt.site = SnapSite(opt, src.site if src is not None else None)
    opt.source = src  # the source view's optimizer built by the same call, for what the run did not reach
    if src is None and string is None:
        opt.where = where
    return opt


def _key(site: dict | None):
    return (site["line"], site.get("col")) if site else None


def _implicit(opt: SnapOptimizer) -> bool:
    """Made by Keras itself (``compile()`` without an optimizer), not by the user's code."""
    return opt.string is None and (opt.site is None or opt.site.source is None)


def _own_train_step(m: dict, source: SourceAnalysis) -> bool:
    """Whether the model's class (defined in the file) trains with its own ``train_step``.

    Such a class (a GAN, typically) applies the optimizers it chose itself; the
    default optimizer Keras compiles in is then unused.
    """
    for cls in source.classes:
        if cls.node.name.value == m.get("class") and cls.find_method("train_step") is not None:
            return True
    return False


def _fit(info: dict, model, source: SourceAnalysis) -> FitInfo:
    batch, src = None, ""
    if info.get("batch_size") and info.get("via") == "train_on_batch":
        batch, src = Arg(Const(int(info["batch_size"])), None, "config"), "the batch given to `train_on_batch()`"
    elif info.get("batch_size"):
        batch, src = Arg(Const(int(info["batch_size"])), None, "config"), "`fit(batch_size=...)`"
    elif info.get("data_batch"):
        batch, src = Arg(Const(int(info["data_batch"])), None, "config"), "the batch size of the training data"
    elif info.get("data") in ("ndarray", "list", "Tensor", "EagerTensor", "dict"):
        batch, src = Arg(Const(32), None, "default"), "the default of `fit()`"
    classes = {c.node.name.value: c for c in source.classes}
    items = []
    for cb in info.get("callbacks", []):
        if cb.get("module") == "__main__" and cb.get("class") in classes:
            items.append(UserObj(classes[cb["class"]]))
        else:
            items.append(Obj(canonical(cb.get("qual") or "")))
    return FitInfo(model, None, batch, src, SeqV(items), UNKNOWN)


def _source_calls(source: SourceAnalysis, positions) -> dict:
    """Source objects by the (line, 0-based column) of their construction call."""
    out: dict = {}
    objs = list(source.layers) + list(source.models) + list(source.optimizers)
    for o in objs:
        site = getattr(o, "site", None)
        if site is None or site.top is None:
            continue
        span = positions.report_span(site.node, site.top)
        row, col = positions.row_col(span.start)
        out.setdefault((row, col - 1), o)
    for c in source.compiles:
        site = c.site
        if site.top is None:
            continue
        span = positions.report_span(site.node, site.top)
        row, col = positions.row_col(span.start)
        out.setdefault((row, col - 1), c)
    return out


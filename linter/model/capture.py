"""The model view's capture: runs INSIDE the user's interpreter, in a subprocess.

    python -m klint.model.capture SCRIPT OUT.json [--root DIR] [--factory MOD:FUNC ...]

It patches Keras before the script runs, so that:

* every layer and optimizer records where the user's code constructed it
  (the first stack frame inside the project, not inside Keras);
* the first ``Model.fit``, ``Model.train_on_batch`` or
  ``optimizer.apply_gradients`` records the model, its compiled optimizer and
  loss, and the fit arguments, then stops the script: no training step runs.

Scripts that never train still yield the models they built when they end;
when they build none, model factories (configured, or zero-argument
``build_model``-like functions of the script) are called.

The result is a plain JSON snapshot. Nothing here is imported by the parent
process, which never imports TensorFlow.
"""
from __future__ import annotations

import json
import os
import sys
import traceback

SNAPSHOT_VERSION = 1
FACTORY_NAMES = ("build_model", "make_model", "get_model", "create_model")
_LIBRARY_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep,
                    os.sep + "lib" + os.sep + "python")


#: The modules the capture runs with, beside this file (see ``sibling``).
SIBLINGS = ("standins", "tables", "tfds", "inert", "scratch")


def sibling(name: str):
    """A module beside this file (``standins``, ``scratch``...), loaded as part of a private package whose
    name no project module can have, whether or not klint is importable in this interpreter."""
    import importlib
    import importlib.util

    package = "_klint_capture"
    if package not in sys.modules:
        here = os.path.dirname(os.path.abspath(__file__))
        spec = importlib.util.spec_from_file_location(package, os.path.join(here, "__init__.py"),
                                                      submodule_search_locations=[here])
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.{name}")


def _standins():
    return sibling("standins")


class StopCapture(BaseException):
    """Raised at the first training call; a BaseException so that user ``except Exception`` cannot swallow it."""


class Recorder:
    def __init__(self, root: str, script: str):
        self.root = os.path.realpath(root)
        self.script = os.path.realpath(script)
        self.klint_dir = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
        self.layers: list = []  # in construction order; held strongly so nothing is collected before the snapshot
        self.sites: dict = {}  # id(obj) -> site
        self.optimizers: list = []
        self.compile_sites: dict = {}  # id(model) -> site of its compile() call
        self.fit: dict | None = None
        self.trigger: str | None = None
        self.trigger_site: dict | None = None
        self.loop: dict | None = None
        self.clip_calls = 0
        self.opened: set = set()  # project files the script read
        self.factory_errors: list = []
        self.standins = _standins().Standins()

    # ------------------------------------------------------------ sites

    def in_project(self, filename: str) -> bool:
        if not filename or filename.startswith("<"):
            return False
        path = os.path.realpath(filename)
        if path.startswith(self.klint_dir + os.sep):
            return False
        if any(m in path for m in _LIBRARY_MARKERS) and not path.startswith(self.root + os.sep):
            return False
        return path == self.script or path.startswith(self.root + os.sep)

    def site(self, obj=None, depth: int = 2) -> dict | None:
        """The first frame in the project that is not the constructor of ``obj`` itself."""
        f = sys._getframe(depth)
        while f is not None:
            if self.in_project(f.f_code.co_filename) and not (
                    obj is not None and f.f_locals.get("self") is obj):
                return _frame_site(f)
            f = f.f_back
        return None

    def built_by_sequential(self, obj) -> bool:
        """Whether ``obj`` is made by Keras's Sequential itself (the Functional graph it rebuilds at
        each ``add``), not by a call in the project: the first frame that is not ``obj``'s own
        constructor is in Keras's Sequential."""
        f = sys._getframe(2)
        while f is not None:
            if f.f_locals.get("self") is not obj:
                name = f.f_code.co_filename
                return name.replace(os.sep, "/").endswith("/models/sequential.py") and "keras" in name
            f = f.f_back
        return False

    def nearest_project_frame(self, tb) -> dict | None:
        found = None
        while tb is not None:
            if self.in_project(tb.tb_frame.f_code.co_filename):
                found = {"file": tb.tb_frame.f_code.co_filename, "line": tb.tb_lineno, "col": None}
            tb = tb.tb_next
        return found


def _frame_site(f) -> dict:
    line, col = f.f_lineno, None
    positions = getattr(f.f_code, "co_positions", None)
    if positions is not None and f.f_lasti >= 0:
        try:
            pos = list(positions())[f.f_lasti // 2]
            if pos[0] is not None:
                line, col = pos[0], pos[2]
        except (IndexError, ValueError):
            pass
    return {"file": os.path.realpath(f.f_code.co_filename), "line": line, "col": col}


# ------------------------------------------------------------------ JSON

def plain(value, depth: int = 0):
    """A JSON-safe copy of a config value."""
    if depth > 12:
        return repr(value)[:200]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return plain(value.item(), depth + 1)
        if isinstance(value, np.ndarray):
            return plain(value.tolist(), depth + 1) if value.size <= 64 else f"<array {value.shape}>"
    except ImportError:  # pragma: no cover
        pass
    get_config = getattr(value, "get_config", None)
    if callable(get_config):
        try:
            return {"class_name": type(value).__name__, "module": type(value).__module__,
                    "config": plain(get_config(), depth + 1)}
        except Exception:
            pass
    if callable(value):
        name = getattr(value, "__name__", None)
        module = getattr(value, "__module__", None)
        if name:
            return {"function": name, "module": module}
    return repr(value)[:200]


def qualname_of(cls) -> str:
    return f"{cls.__module__}.{cls.__name__}"


# --------------------------------------------------------------- patches

def install(rec: Recorder):
    import keras

    Layer = keras.layers.Layer
    Model = keras.Model
    try:
        from keras.src.optimizers.base_optimizer import BaseOptimizer
    except ImportError:  # pragma: no cover - other Keras layouts
        BaseOptimizer = keras.optimizers.Optimizer

    layer_init = Layer.__init__

    def init(self, *args, **kwargs):
        layer_init(self, *args, **kwargs)
        if id(self) not in rec.sites:
            if isinstance(self, Model) and rec.built_by_sequential(self):
                return  # the graph a Sequential rebuilds at each ``add``: Keras's, not a model of the user's
            rec.sites[id(self)] = rec.site(self)
            rec.layers.append(self)

    Layer.__init__ = init

    opt_init = BaseOptimizer.__init__

    def opt_init_patch(self, *args, **kwargs):
        opt_init(self, *args, **kwargs)
        if id(self) not in rec.sites:
            rec.sites[id(self)] = rec.site(self)
            rec.optimizers.append(self)

    BaseOptimizer.__init__ = opt_init_patch

    compile_orig = Model.compile

    def compile_patch(self, *args, **kwargs):
        rec.compile_sites[id(self)] = rec.site()
        return compile_orig(self, *args, **kwargs)

    Model.compile = compile_patch

    def fit_patch(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, *args,
                  **kwargs):
        rec.trigger = "fit"
        rec.trigger_site = rec.site()
        rec.fit = {
            "model": id(self),
            "batch_size": batch_size,
            "epochs": epochs if isinstance(epochs, int) else None,
            "callbacks": [callback_info(cb) for cb in (callbacks or [])],
            "data_batch": data_batch_size(x),
            "data": type(x).__name__ if x is not None else None,
        }
        raise StopCapture()

    Model.fit = fit_patch

    def train_on_batch_patch(self, x=None, y=None, *args, **kwargs):
        rec.trigger = "train_on_batch"
        rec.trigger_site = rec.site()
        n = None
        try:
            n = len(x) if not isinstance(x, dict) else len(next(iter(x.values())))
        except Exception:
            pass
        rec.fit = {"model": id(self), "batch_size": n, "epochs": None, "callbacks": [], "data_batch": None,
                   "data": type(x).__name__ if x is not None else None, "via": "train_on_batch"}
        raise StopCapture()

    Model.train_on_batch = train_on_batch_patch

    for name in ("apply_gradients", "apply"):
        orig = getattr(BaseOptimizer, name, None)
        if orig is None:
            continue

        def apply_patch(self, *args, __name=name, **kwargs):
            rec.trigger = __name
            rec.trigger_site = rec.site()
            variables = []
            try:
                if __name == "apply_gradients":
                    pairs = list(args[0] if args else kwargs.get("grads_and_vars"))
                    variables = [v for _, v in pairs]
                else:
                    variables = list(args[1] if len(args) > 1 else kwargs.get("trainable_variables") or [])
            except Exception:
                pass
            rec.loop = {"optimizer": id(self), "variables": {id(v) for v in variables},
                        "clip_calls": rec.clip_calls}
            raise StopCapture()

        setattr(BaseOptimizer, name, apply_patch)

    try:  # a picture of the model is written into the project's folder: not by klint's run
        from keras.src.utils import model_visualization

        _standins().in_place(model_visualization.plot_model, lambda orig, *a, **k: None)
    except ImportError:  # pragma: no cover - other Keras layouts
        pass

    try:
        import tensorflow as tf

        for fname in ("clip_by_global_norm", "clip_by_norm", "clip_by_value"):
            orig_fn = getattr(tf, fname)

            def clip(*args, __orig=orig_fn, **kwargs):
                rec.clip_calls += 1
                return __orig(*args, **kwargs)

            setattr(tf, fname, clip)
    except ImportError:  # pragma: no cover - other backends
        pass


def track_files(rec: Recorder) -> None:
    """Remember the project files the script opens, so that a cached snapshot can be checked against them."""
    import builtins
    import io

    orig = builtins.open

    def tracked_open(file, mode="r", *args, **kwargs):
        try:
            if isinstance(file, (str, bytes, os.PathLike)) and "r" in mode and "+" not in mode:
                path = os.path.realpath(os.fsdecode(file))
                if path.startswith(rec.root + os.sep):
                    rec.opened.add(path)
        except (TypeError, ValueError):
            pass
        return orig(file, mode, *args, **kwargs)

    builtins.open = tracked_open
    io.open = tracked_open


def dependencies(rec: Recorder) -> list[str]:
    """Project files besides the script that the capture depended on: imported modules and files read."""
    out = set(rec.opened)
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if f:
            path = os.path.realpath(f)
            if path.startswith(rec.root + os.sep) and rec.in_project(path):
                out.add(path)
    out.discard(rec.script)
    return sorted(p for p in out if os.path.isfile(p))


def callback_info(cb) -> dict:
    cls = type(cb)
    info = {"class": cls.__name__, "qual": qualname_of(cls), "module": cls.__module__,
            "bases": [qualname_of(b) for b in cls.__mro__[1:4]]}
    return info


def data_batch_size(x) -> int | None:
    """The batch size of a dataset-like input, where it can be read without iterating it."""
    if x is None:
        return None
    for attr in ("batch_size", "_batch_size"):
        v = getattr(x, attr, None)
        if v is None:
            continue
        try:
            n = int(v.numpy()) if hasattr(v, "numpy") else int(v)
            if n > 0:
                return n
        except Exception:
            continue
    # tf.data: walk the pipeline back to its BatchDataset
    seen = 0
    d = x
    while d is not None and seen < 32:
        seen += 1
        v = getattr(d, "_batch_size", None)
        if v is not None:
            try:
                return int(v.numpy())
            except Exception:
                return None
        d = getattr(d, "_input_dataset", None)
    return None


# -------------------------------------------------------------- snapshot

def snapshot(rec: Recorder, status: str, error: dict | None) -> dict:
    import keras

    live = list(rec.layers)
    models = [m for m in live if isinstance(m, keras.Model)]
    nested = set()
    for m in models:
        inner = getattr(m, "_functional", None)  # a Sequential's own graph, not a model of the user's
        if inner is not None:
            nested.add(id(inner))
        for sub in _sublayers(m):
            if isinstance(sub, keras.Model) and sub is not m:
                nested.add(id(sub))
    trained_id = rec.fit["model"] if rec.fit else None
    loop_vars = rec.loop["variables"] if rec.loop else set()
    top = [m for m in models if id(m) not in nested or id(m) == trained_id]
    out_models = []
    for m in top:
        info = model_info(rec, m)
        if trained_id == id(m):
            fit = dict(rec.fit)
            fit.pop("model", None)
            info["fit"] = fit
        if loop_vars:
            try:
                mine = {id(v) for v in m.trainable_variables}
            except Exception:
                mine = set()
            if mine & loop_vars:
                info["loop"] = {"optimizer": _opt_ref(rec, rec.loop["optimizer"]),
                                "clipped": rec.loop["clip_calls"] > 0}
        out_models.append(info)
    optimizers = [optimizer_info(rec, o) for o in rec.optimizers]
    return {
        "version": SNAPSHOT_VERSION,
        "status": status,
        "trigger": rec.trigger,
        "trigger_site": rec.trigger_site,
        "error": error,
        "models": out_models,
        "optimizers": optimizers,
        "dependencies": dependencies(rec),
        "factory_errors": rec.factory_errors,
    }


def _opt_ref(rec: Recorder, oid: int) -> int | None:
    for i, o in enumerate(rec.optimizers):
        if id(o) == oid:
            return i
    return None


def _sublayers(model) -> list:
    try:
        return list(model._flatten_layers(include_self=False, recursive=True))
    except Exception:
        return list(getattr(model, "layers", []))


def model_info(rec: Recorder, model) -> dict:
    import keras

    layers: list = []
    edges: list = []
    ids: dict = {}

    def visit(m, path: list[str]):
        children = list(getattr(m, "layers", []))
        for layer in children:
            lid = "/".join(path + [layer.name])
            ids[id(layer)] = lid
            entry = layer_info(rec, layer, path, lid)
            layers.append(entry)
            if isinstance(layer, keras.Model):
                visit(layer, path + [layer.name])
        # edges inside m
        if isinstance(m, keras.Sequential) or not hasattr(m, "_operations"):
            if isinstance(m, keras.Sequential):
                seq = [l for l in children if not isinstance(l, keras.layers.InputLayer)]
                for a, b in zip(seq, seq[1:]):
                    edges.append([ids[id(a)], ids[id(b)]])
            return
        members = {id(l) for l in children}
        for layer in children:
            for node in getattr(layer, "_inbound_nodes", []):
                for parent in getattr(node, "parent_nodes", []):
                    op = parent.operation
                    if id(op) in members and id(layer) in members:
                        edges.append([ids[id(op)], ids[id(layer)]])

    visit(model, [])
    # connect nested models: what feeds a nested model feeds its first layers, and its
    # output layers feed what the nested model feeds
    by_id = {e["id"]: e for e in layers}
    for e in layers:
        if e["is_model"]:
            inner = [x for x in layers if x["path"] == e["path"] + [e["name"]]]
            inner_ids = {x["id"] for x in inner}
            starts = [x["id"] for x in inner if x["class"] != "InputLayer" and not any(
                d == x["id"] and s in inner_ids and by_id[s]["class"] != "InputLayer" for s, d in edges)]
            ends = [x["id"] for x in inner if not any(s == x["id"] and d in inner_ids for s, d in edges)]
            for s, d in list(edges):
                if d == e["id"]:
                    edges.extend([s, st] for st in starts)
                if s == e["id"]:
                    edges.extend([en, d] for en in ends)
    outputs = []
    try:
        for t in model.outputs:
            hist = getattr(t, "_keras_history", None)
            if hist is not None and id(hist[0]) in ids:
                outputs.append(ids[id(hist[0])])
    except Exception:
        pass
    if not outputs and isinstance(model, keras.Sequential):
        seq = [x for x in layers if x["path"] == [] and x["class"] != "InputLayer"]
        if seq:
            outputs.append(seq[-1]["id"])
    info = {
        "name": model.name,
        "class": type(model).__name__,
        "qual": qualname_of(type(model)),
        "site": rec.sites.get(id(model)),
        "kind": "sequential" if isinstance(model, keras.Sequential) else (
            "functional" if hasattr(model, "_operations") and type(model).__name__ == "Functional" else "subclass"),
        "trainable": bool(model.trainable),
        "layers": layers,
        "edges": edges,
        "outputs": outputs,
        "optimizer": None,
        "loss": None,
        "compile_site": rec.compile_sites.get(id(model)),
        "fit": None,
    }
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        info["optimizer"] = optimizer_info(rec, opt)
    loss = getattr(model, "loss", None)
    if loss is not None:
        info["loss"] = plain(loss)
    return info


def layer_info(rec: Recorder, layer, path: list[str], lid: str) -> dict:
    import keras

    try:
        config = plain(layer.get_config())
    except Exception as e:
        config = {"__error__": f"{type(e).__name__}: {e}"}
    return {
        "id": lid,
        "name": layer.name,
        "class": type(layer).__name__,
        "qual": qualname_of(type(layer)),
        "config": config,
        "site": rec.sites.get(id(layer)),
        "path": path,
        "trainable": bool(layer.trainable),
        "is_model": isinstance(layer, keras.Model),
    }


def optimizer_info(rec: Recorder, opt) -> dict:
    try:
        config = plain(opt.get_config())
    except Exception:
        config = {}
    lr = getattr(opt, "_learning_rate", None)
    schedule = None
    try:
        from keras.optimizers.schedules import LearningRateSchedule

        if isinstance(lr, LearningRateSchedule):
            schedule = {"class": type(lr).__name__, "qual": qualname_of(type(lr)), "config": plain(lr.get_config())}
    except ImportError:  # pragma: no cover
        pass
    return {
        "class": type(opt).__name__,
        "qual": qualname_of(type(opt)),
        "config": config,
        "schedule": schedule,
        "site": rec.sites.get(id(opt)),
        "index": next((i for i, o in enumerate(rec.optimizers) if o is opt), None),
    }


# ------------------------------------------------------------------ main

def main(argv: list[str]) -> int:
    import argparse

    if argv[:1] == ["--serve"]:
        return serve()
    ap = argparse.ArgumentParser(prog="klint.model.capture")
    ap.add_argument("script")
    ap.add_argument("out")
    ap.add_argument("--root", default=None)
    ap.add_argument("--factory", action="append", default=[])
    ap.add_argument("--no-auto-factories", action="store_true")
    ap.add_argument("--source", default=None, help="run this text as SCRIPT (the file on disk may be older)")
    ap.add_argument("--scratch", default=None, help="the folder that takes the script's writes into the project")
    ap.add_argument("--data", choices=("synthetic", "real"), default="synthetic",
                    help="stand in for data the script cannot get and for missing display packages, or not")
    a = ap.parse_args(argv)
    run_one(a.script, a.out, a.root, a.factory, a.source, a.no_auto_factories, a.data, a.scratch)
    return 0


def run_one(script: str, out: str, root: str | None, factories: list, source: str | None,
            no_auto_factories: bool = False, data: str = "synthetic", scratch: str | None = None) -> None:
    """Run one script to its first training call and write its snapshot to ``out``.

    ``data="synthetic"``: data the script cannot get, and display packages
    that are not installed, are stood in for (see ``standins.py`` and its siblings).
    """
    script = os.path.realpath(script)
    root = os.path.realpath(root or os.path.dirname(script))
    rec = Recorder(root, script)
    status, error = "end", None
    try:
        import keras  # noqa: F401
    except BaseException as e:  # no Keras in this interpreter
        write(out, {"version": SNAPSHOT_VERSION, "status": "error", "trigger": None, "trigger_site": None,
                    "error": {"type": type(e).__name__, "message": str(e), "file": None, "line": None,
                              "where": "import keras"},
                    "models": [], "optimizers": [], "data": data, "standins": []})
        return
    install(rec)
    track_files(rec)
    if scratch is None:  # run by hand: a scratch folder of its own, removed at exit
        import atexit
        import shutil
        import tempfile

        scratch = tempfile.mkdtemp(prefix="klint-scratch-")
        atexit.register(shutil.rmtree, scratch, True)
    sibling("scratch").Scratch(scratch, [root, os.path.dirname(script), os.getcwd()], own=[out]).install()
    if data == "synthetic":
        rec.standins.install_packages()
        rec.standins.install_data()
    sys.path.insert(0, os.path.dirname(script))
    if root not in sys.path:
        sys.path.insert(1, root)
    sys.argv = [script]
    namespace: dict = {}
    try:
        run_script(script, source or script, namespace)
    except StopCapture:
        status = "trained"
    except SystemExit as e:
        status = "exit"
        error = {"type": "SystemExit", "message": f"the script called sys.exit({e.code!r})", "file": None,
                 "line": None}
    except BaseException as e:
        status = "error"
        site = rec.nearest_project_frame(e.__traceback__)
        error = {"type": type(e).__name__, "message": error_message(e)[:2000],
                 "file": site["file"] if site else None, "line": site["line"] if site else None,
                 "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]}
    if status != "trained" and not _has_models(rec):
        status = run_factories(rec, factories, no_auto_factories, namespace, status)
    try:
        snap = snapshot(rec, status, error)
    except BaseException as e:
        snap = {"version": SNAPSHOT_VERSION, "status": "error", "trigger": rec.trigger, "trigger_site": None,
                "error": {"type": type(e).__name__, "message": f"klint could not read the model: {e}",
                          "file": None, "line": None}, "models": [], "optimizers": []}
    snap["data"] = data
    snap["standins"] = rec.standins.used
    write(out, snap)


def error_message(e: BaseException) -> str:
    """The exception's message. An error raised inside a ``tf.function`` starts with the traced call
    stack ("in user code: File ..."): its message proper is the last line, "Type: message"."""
    text = str(e)
    if text.lstrip().startswith("in user code:"):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        for line in reversed(lines):
            head, sep, rest = line.partition(": ")
            if sep and head.isidentifier() and (head.endswith("Error") or head.endswith("Exception")):
                return rest
        if lines:
            return lines[-1]
    return text


def serve() -> int:
    """The warm server: import Keras once, then fork one isolated child per script.

    Requests are JSON lines on stdin. For each, the server answers
    ``{"pid": N}`` when the child starts and ``{"pid": N, "status": S}`` when
    it ends; the parent kills the child's process group on timeout.
    """
    try:
        import keras  # noqa: F401  - the one import every child shares
    except BaseException as e:
        print(json.dumps({"ready": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        return 0
    print(json.dumps({"ready": True}), flush=True)
    parent = os.getppid()
    for line in sys.stdin:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        pid = os.fork()
        if pid == 0:  # the child: its own session, files and folder
            code = 1
            try:
                os.setsid()
                die_with_parent()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.chdir(os.path.dirname(os.path.realpath(req["script"])))
                run_one(req["script"], req["out"], req.get("root"), req.get("factories", []), req.get("source"),
                        req.get("no_auto_factories", False), req.get("data", "synthetic"), req.get("scratch"))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        status = _wait_child(pid, parent)
        if status is None:  # klint is gone: so is the script, with every process it started
            os._exit(0)
        print(json.dumps({"pid": pid, "status": status}), flush=True)
    return 0


def _wait_child(pid: int, parent: int) -> int | None:
    """The child's wait status; None when klint went away first (its process ended, or the request pipe
    closed), after killing the child's whole process group."""
    import select

    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        # klint sends nothing while a script runs: input now means its end of the pipe has closed
        ready, _, _ = select.select([sys.stdin], [], [], 0.1)
        if ready or os.getppid() != parent:
            try:
                os.killpg(pid, 9)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            return None


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG); elsewhere, nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_script(script: str, source_path: str, namespace: dict) -> None:
    """Run the file ``source_path`` as the module ``__main__`` whose file is ``script``, in ``namespace``.

    The namespace is the caller's, so that what the script defined before it
    raised (a ``build_model()`` function, say) is still there afterwards.
    """
    import types

    with open(source_path, "rb") as f:  # bytes: compile() reads the coding cookie as Python does
        code = compile(f.read(), script, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    namespace.update(module.__dict__)
    namespace.update({"__file__": script, "__builtins__": __builtins__, "__spec__": None, "__loader__": None,
                      "__cached__": None})
    if script.endswith(".ipynb"):  # a notebook's code cells: what IPython gives every notebook
        inert = sibling("inert").Inert
        namespace.setdefault("display", lambda *args, **kwargs: None)
        namespace.setdefault("get_ipython", lambda: inert("get_ipython()"))
    module.__dict__.update(namespace)
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        namespace.clear()
        namespace.update(module.__dict__)
        if saved is not None:
            sys.modules["__main__"] = saved


def _has_models(rec: Recorder) -> bool:
    import keras

    return any(isinstance(x, keras.Model) for x in rec.layers)


def run_factories(rec: Recorder, factories: list, no_auto: bool, namespace: dict, status: str) -> str:
    import importlib

    calls = []
    for spec in factories:
        mod, _, fn = spec.partition(":")
        try:
            m = importlib.import_module(mod)
            calls.append(getattr(m, fn))
        except Exception as e:
            rec.factory_errors.append(f"model factory {spec} could not be imported: {type(e).__name__}: {e}")
    if not calls and not no_auto:
        import inspect

        for name in FACTORY_NAMES:
            fn = namespace.get(name)
            if callable(fn):
                try:
                    params = inspect.signature(fn).parameters.values()
                except (TypeError, ValueError):
                    continue
                if all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                    calls.append(fn)
    for fn in calls:
        try:
            fn()
            status = "factory"
        except StopCapture:
            return "trained"
        except BaseException as e:
            rec.factory_errors.append(f"model factory {getattr(fn, '__name__', fn)}() raised "
                                      f"{type(e).__name__}: {e}")
    return status


def write(path: str, data: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

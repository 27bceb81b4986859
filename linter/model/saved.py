"""Saved models as data: ``.keras`` archives and ``.json`` model configs.

The archive's ``config.json`` is read with :mod:`zipfile` and :mod:`json`
only. Nothing calls ``keras.models.load_model`` and no custom object is
deserialized, so no code in the file runs: a custom initializer class is just
a name here. The result has the shape of a capture snapshot, so the model
view's rules judge it unchanged; findings point at the file.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

MAX_CONFIG_BYTES = 64 * 1024 * 1024


class SavedModelError(Exception):
    pass


def read_config(path: Path, data: bytes | None = None) -> dict:
    """The model config of a ``.keras`` archive or a ``.json`` file."""
    path = Path(path)
    if path.suffix == ".keras":
        try:
            with zipfile.ZipFile(path) as z:
                try:
                    info = z.getinfo("config.json")
                except KeyError as e:
                    raise SavedModelError("the archive has no config.json: not a Keras 3 .keras file") from e
                if info.file_size > MAX_CONFIG_BYTES:
                    raise SavedModelError("config.json is too large")
                raw = z.read(info)
        except zipfile.BadZipFile as e:
            raise SavedModelError(f"not a .keras archive (bad zip file: {e})") from e
        except OSError as e:
            raise SavedModelError(f"cannot read: {e.strerror or e}") from e
    else:
        raw = data if data is not None else path.read_bytes()
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SavedModelError(f"config is not valid JSON: {e}") from e
    if not is_model_config(config):
        raise SavedModelError("not a Keras model config (no class_name/config)")
    return config


def is_model_config(config) -> bool:
    return isinstance(config, dict) and isinstance(config.get("config"), dict) and "class_name" in config and (
        "layers" in config["config"] or config.get("class_name") in ("Sequential", "Functional", "Model"))


def _qual(entry: dict) -> str:
    module = entry.get("module") or "keras.layers"
    if module == "keras" and entry.get("class_name") in ("Sequential", "Functional", "Model"):
        module = "keras.models"
    return f"{module}.{entry.get('class_name')}"


def snapshot(config: dict, path: Path) -> dict:
    """A capture-shaped snapshot of a saved model config."""
    site = {"file": str(Path(path).resolve()), "line": 1, "col": 0}
    layers: list = []
    edges: list = []

    def visit(model: dict, prefix: list[str]) -> tuple[list[str], list[str]]:
        """Add the model's layers; returns the ids of its first and last layers."""
        cfg = model.get("config", {})
        entries = cfg.get("layers", [])
        is_seq = model.get("class_name") == "Sequential"
        ids = {}
        order = []
        for e in entries:
            c = e.get("config", {}) or {}
            name = c.get("name") or e.get("name") or f"layer_{len(layers)}"
            lid = "/".join(prefix + [name])
            ids[name] = lid
            nested = isinstance(c.get("layers"), list)
            layers.append({"id": lid, "name": name, "class": e.get("class_name"), "qual": _qual(e),
                           "config": c, "site": site, "path": prefix, "trainable": c.get("trainable", True),
                           "is_model": nested})
            order.append((lid, e, nested))
        for lid, e, nested in order:
            if nested:
                firsts, lasts = visit(e, prefix + [lid.rsplit("/", 1)[-1]])
                # parents of the nested model feed its first layers; its last layers feed its consumers
                for s, d in list(edges):
                    if d == lid:
                        edges.extend([s, f] for f in firsts)
                e["_ends"] = lasts
        if is_seq:
            seq = [x for x in order if x[1].get("class_name") != "InputLayer"]
            for (a, _, _), (b, _, _) in zip(seq, seq[1:]):
                edges.append([a, b])
        else:
            for lid, e, _ in order:
                for parent in _parents(e):
                    if parent in ids:
                        edges.append([ids[parent], lid])
        for lid, e, nested in order:
            if nested:
                for s, d in list(edges):
                    if s == lid:
                        edges.extend([end, d] for end in e.get("_ends", []))
        real = [x for x in order if x[1].get("class_name") != "InputLayer"]
        firsts = [real[0][0]] if real else []
        if is_seq:
            lasts = [real[-1][0]] if real else []
        else:
            outs = [o[0] if isinstance(o, list) else o for o in cfg.get("output_layers", [])]
            lasts = [ids[o] for o in outs if isinstance(o, str) and o in ids]
        return firsts, lasts

    _, outputs = visit(config, [])
    compile_config = config.get("compile_config") or {}
    optimizer = None
    opt = compile_config.get("optimizer")
    if isinstance(opt, dict) and "class_name" in opt:
        ocfg = opt.get("config", {}) or {}
        lr = ocfg.get("learning_rate")
        schedule = None
        if isinstance(lr, dict) and "class_name" in lr:
            schedule = {"class": lr["class_name"], "qual": f"keras.optimizers.schedules.{lr['class_name']}",
                        "config": lr.get("config", {})}
        optimizer = {"class": opt["class_name"], "qual": f"{opt.get('module') or 'keras.optimizers'}.{opt['class_name']}",
                     "config": ocfg, "schedule": schedule, "site": site, "index": 0}
    kind = "sequential" if config.get("class_name") == "Sequential" else "functional"
    model = {"name": (config.get("config") or {}).get("name"), "class": config.get("class_name"),
             "qual": _qual(config), "site": site, "kind": kind, "trainable": True, "layers": layers,
             "edges": edges, "outputs": outputs, "optimizer": optimizer,
             "loss": compile_config.get("loss"), "compile_site": None, "fit": None}
    return {"version": 1, "status": "saved", "trigger": None, "trigger_site": None, "error": None,
            "models": [model], "optimizers": [optimizer] if optimizer else []}


def _parents(entry: dict) -> list[str]:
    """Names of the layers feeding a layer, from Keras 3 or Keras 2 ``inbound_nodes``."""
    out: list[str] = []
    for node in entry.get("inbound_nodes") or []:
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            _history(node.get("args"), out)
        elif isinstance(node, list):  # Keras 2: [["dense", 0, 0, {}], ...]
            for item in node:
                if isinstance(item, list) and item and isinstance(item[0], str):
                    out.append(item[0])
    return out


def _history(value, out: list) -> None:
    if isinstance(value, dict):
        cfg = value.get("config")
        if value.get("class_name") == "__keras_tensor__" and isinstance(cfg, dict):
            hist = cfg.get("keras_history")
            if isinstance(hist, list) and hist and isinstance(hist[0], str):
                out.append(hist[0])
            return
        for v in value.values():
            _history(v, out)
    elif isinstance(value, list):
        for v in value:
            _history(v, out)

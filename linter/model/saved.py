"""Saved models as data: ``.keras`` archives and ``.json`` model configs.

The archive's ``config.json`` is read with :mod:`zipfile` and :mod:`json`
only. Nothing calls ``keras.models.load_model`` and no custom object is
deserialized, so no code in the file runs: a custom initializer class is just
a name here. The result has the shape of a capture snapshot, so the model
view's rules judge it unchanged; findings point at the file.

The file is untrusted input. Every way it can be wrong is a
:class:`SavedModelError` (reported as "cannot read the saved model"), never
another exception, and the cost of reading it is bounded by the caps below
whatever its headers claim: the archive's directory and the config are
capped before they are parsed, the config's nesting before :func:`json.loads`
recurses into it, and the model's size before the view is built from it.
"""
from __future__ import annotations

import codecs
import io
import json
import os
import re
import struct
import zipfile
import zlib
from itertools import accumulate
from pathlib import Path

#: Decompressed bytes of a config, counted as they come out (a member's declared size can lie).
MAX_CONFIG_BYTES = 64 * 1024 * 1024
#: Bytes of an archive's central directory. zipfile builds an object for each member it lists before
#: any can be read; a Keras archive has a handful (config, metadata, weights, a few assets).
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
#: Nesting of JSON arrays and objects. Keras configs nest a few levels per nested model.
MAX_DEPTH = 200
#: Layers of a model, nested models' layers included; the largest Keras models have a few thousand.
MAX_LAYERS = 100_000

MODEL_CLASSES = ("Sequential", "Functional", "Model")

_CHUNK = 1024 * 1024
_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")  # ZIP64 end of central directory record


class SavedModelError(Exception):
    """The file is not a saved model klint can read; the message says what is wrong with it."""


def read_config(path: Path, data: bytes | None = None) -> dict:
    """The model config of a ``.keras`` archive or a ``.json`` file.

    ``data`` is the file's content when the caller has it (from standard
    input); otherwise the file is read at ``path``, an archive lazily: its
    weights can weigh gigabytes. The config is checked for what
    :func:`snapshot` needs, so that every error is raised here.
    """
    path = Path(path)
    if path.suffix == ".keras":
        raw, what = _archive_config(path, data), "config.json"
    else:
        raw, what = (data if data is not None else _read_file(path)), "the file"
        if len(raw) > MAX_CONFIG_BYTES:
            raise SavedModelError(f"the file is larger than {_mb(MAX_CONFIG_BYTES)}")
    config = _parse(raw, what)
    if not is_model_config(config):
        raise SavedModelError("not a Keras model config (no class_name/config)")
    _check_layers(config)
    return config


def _read_file(path: Path) -> bytes:
    """The bytes of a ``.json`` config, one more than the cap at most (to tell that it is over)."""
    if path.is_dir():
        raise SavedModelError("it is a directory, not a model config file")
    try:
        with open(path, "rb") as f:
            return f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise SavedModelError(f"cannot read: {e.strerror or e}") from e


def _archive_config(path: Path, data: bytes | None) -> bytes:
    """The bytes of the archive's ``config.json``, never more than :data:`MAX_CONFIG_BYTES`."""
    if data is None and path.is_dir():
        raise SavedModelError("it is a directory, not a .keras archive (a .keras model is one zip file)")
    try:
        f = io.BytesIO(data) if data is not None else open(path, "rb")
    except OSError as e:
        raise SavedModelError(f"cannot read: {e.strerror or e}") from e
    try:
        with f:
            _check_directory(f)
            with zipfile.ZipFile(f) as z:
                try:
                    info = z.getinfo("config.json")
                except KeyError as e:
                    raise SavedModelError("the archive has no config.json: not a Keras 3 .keras file") from e
                _check_member(info)
                return _read_member(z, info)
    except zipfile.BadZipFile as e:
        raise SavedModelError(f"not a .keras archive (bad zip file: {e})") from e
    except zlib.error as e:
        raise SavedModelError(f"config.json is corrupt (bad deflate data: {e})") from e
    except EOFError as e:
        raise SavedModelError("config.json is truncated: the archive ends inside it") from e
    except (OSError, RuntimeError, ValueError, struct.error, zipfile.LargeZipFile) as e:
        # what else zipfile raises on archives it cannot read: OSError (a file) or ValueError (bytes)
        # for offsets before the start, NotImplementedError (a RuntimeError) for features it lacks
        raise SavedModelError(f"not a .keras archive klint can read ({type(e).__name__}: {e})") from e


def _check_directory(f) -> None:
    """Refuse an archive whose central directory is larger than :data:`MAX_DIRECTORY_BYTES`.

    zipfile reads the directory's size from the end record (the ZIP64 one if
    there is one) and builds an object for every entry before any member can
    be looked at, at many times the entries' size in memory. This finds the
    record as zipfile does and checks the size first; an archive without one
    is left to zipfile to reject.
    """
    f.seek(0, os.SEEK_END)
    size = f.tell()
    at = None
    if size >= _END.size:
        f.seek(size - _END.size)
        last = f.read(_END.size)
        if last[:4] == b"PK\x05\x06" and last[-2:] == b"\0\0":  # no archive comment
            at = size - _END.size
    if at is None:
        start = max(0, size - _END.size - (1 << 16))  # where zipfile looks: room for the longest comment
        f.seek(start)
        found = f.read().rfind(b"PK\x05\x06")
        if found < 0 or start + found + _END.size > size:
            return
        at = start + found
    f.seek(at)
    directory = _END.unpack(f.read(_END.size))[5]
    if at >= _END64_LOCATOR.size + _END64.size:
        f.seek(at - _END64_LOCATOR.size - _END64.size)
        record = f.read(_END64.size)
        locator = f.read(_END64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            directory = _END64.unpack(record)[8]
    if directory > MAX_DIRECTORY_BYTES:
        raise SavedModelError(f"the archive's directory is {directory} bytes, more than a Keras model's "
                              f"({_mb(MAX_DIRECTORY_BYTES)} at most)")


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse a config.json that zipfile would decrypt, or decompress without a bound on its output.

    Only stored and deflated members are read: zipfile's bzip2 and LZMA
    readers inflate each compressed chunk whole, whatever its size.
    """
    if info.flag_bits & 0x1:
        raise SavedModelError("config.json is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise SavedModelError(f"config.json uses compression method {info.compress_type}; "
                              "klint reads stored or deflated members only")
    if max(info.file_size, info.compress_size) > MAX_CONFIG_BYTES:
        raise SavedModelError(f"config.json is larger than {_mb(MAX_CONFIG_BYTES)}")


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, read in chunks so that no more than the cap is ever inflated.

    The declared size is not trusted: a member that says it is small can
    inflate to gigabytes, and ``ZipFile.read`` would inflate it in one go.
    """
    chunks: list[bytes] = []
    total = 0
    with z.open(info) as member:
        while chunk := member.read(_CHUNK):
            total += len(chunk)
            if total > MAX_CONFIG_BYTES:
                raise SavedModelError(f"config.json is larger than {_mb(MAX_CONFIG_BYTES)} once decompressed")
            chunks.append(chunk)
    return b"".join(chunks)


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"


_NOT_SPECIAL = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_STRING = re.compile(rb'"[^"]*"?')  # a string, once escapes are gone; an unterminated one runs to the end
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def _parse(raw: bytes, what: str):
    """The JSON value of a config, or a SavedModelError saying what is wrong with its bytes."""
    if not raw or raw.isspace():
        raise SavedModelError(f"{what} is empty")
    if raw.startswith(codecs.BOM_UTF8):
        raise SavedModelError(f"{what} starts with a UTF-8 byte order mark; Keras writes JSON without one")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        raise SavedModelError(f"{what} starts with a UTF-16 or UTF-32 byte order mark; Keras writes UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SavedModelError(f"{what} is not UTF-8 text (byte {e.start}: {e.reason})") from e
    if _depth(raw) > MAX_DEPTH:
        raise SavedModelError(f"{what} nests arrays and objects more than {MAX_DEPTH} deep")
    try:
        return json.loads(text, parse_int=_json_int)
    except ValueError as e:
        raise SavedModelError(f"{what} is not valid JSON: {e}") from e


def _json_int(text: str) -> int | float:
    """A JSON integer; one of 300 digits or more is read as a float (infinity past 1.8e308, as ``1e400`` is).

    JSON numbers are doubles to most readers, and the rules compare numbers as
    floats: a 400-digit integer would overflow there, a 5000-digit one in
    :func:`int` already.
    """
    return int(text) if len(text) < 300 else float(text)


def _depth(raw: bytes) -> int:
    """How deep the JSON's arrays and objects nest, found in linear time without parsing.

    :func:`json.loads` recurses once per level, and a deep enough document
    overflows the stack; this bounds the depth first. Escaped backslashes and
    quotes are dropped, then everything but quotes and brackets, then pairs
    of adjacent quotes (which changes no other character's place inside or
    outside a string), then what strings remain; the brackets left become +1
    and -1, and the deepest point is the largest running sum. Every step is a
    single pass in C. (UTF-8 continuation bytes are never ASCII, so bytes do.)
    """
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    specials = unescaped.translate(None, _NOT_SPECIAL).replace(b'""', b"")
    steps = _STRING.sub(b"", specials).translate(_STEPS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def is_model_config(config) -> bool:
    return (isinstance(config, dict) and isinstance(config.get("class_name"), str)
            and isinstance(config.get("config"), dict)
            and ("layers" in config["config"] or config["class_name"] in MODEL_CLASSES))


def _qual(entry: dict) -> str:
    module = entry.get("module")
    module = module if isinstance(module, str) and module else "keras.layers"
    if module == "keras" and entry["class_name"] in MODEL_CLASSES:
        module = "keras.models"
    return f"{module}.{entry['class_name']}"


def _check_layers(config: dict) -> None:
    """Refuse a config whose layers :func:`snapshot` cannot take.

    The layers must be serialized objects (a ``class_name`` string, a
    ``config`` object) in lists, with unique names, and no more than
    :data:`MAX_LAYERS`. This runs in :func:`read_config`, whose errors the
    caller reports as an unreadable model, so that :func:`snapshot` cannot fail
    on a config read here.
    """
    taken: set[str] = set()
    models = [(config, [])]
    while models:
        model, prefix = models.pop()
        for lid, name, entry, nested in _entries(model, prefix):
            if lid in taken:
                raise SavedModelError(f"not a Keras model config: two layers are named {lid!r}")
            taken.add(lid)
            if len(taken) > MAX_LAYERS:
                raise SavedModelError(f"the model has more than {MAX_LAYERS} layers")
            if nested:
                models.append((entry, prefix + [name]))


def _entries(model: dict, prefix: list[str]) -> list[tuple[str, str, dict, bool]]:
    """The model's layers, in order: (id, name, entry, whether it is a nested model)."""
    entries = model["config"].get("layers", [])
    title = "/".join(prefix) or model["class_name"]
    if not isinstance(entries, list):
        raise SavedModelError(f"not a Keras model config: the layers of {title!r} are not a list")
    out = []
    for i, e in enumerate(entries):
        if not (isinstance(e, dict) and isinstance(e.get("class_name"), str)):
            raise SavedModelError(f"not a Keras model config: layer {i} of {title!r} has no class name")
        c = e.get("config", {})
        if not isinstance(c, dict):
            raise SavedModelError(f"not a Keras model config: the config of layer {i} of {title!r} "
                                  "is not an object")
        name = _name(c, e) or f"layer_{i}"
        out.append(("/".join(prefix + [name]), name, e, isinstance(c.get("layers"), list)))
    return out


def snapshot(config: dict, path: Path) -> dict:
    """A capture-shaped snapshot of a saved model config (one :func:`read_config` returned).

    Time and size are linear in the config's. The parts that only add detail
    (inbound nodes, outputs, the compile config) are skipped where they are
    malformed, and the serialized objects in configs are passed on in the
    shape the view reads (see :func:`_plain_config`), so that nothing the
    JSON holds can break the view.
    """
    if not is_model_config(config):
        raise SavedModelError("not a Keras model config (no class_name/config)")
    site = {"file": os.path.realpath(path), "line": 1, "col": 0}
    layers: list = []
    edges: list = []
    ends: dict[str, tuple[list, list]] = {}  # a nested model's id: the ids of its first and last layers

    def visit(model: dict, prefix: list[str]) -> tuple[list[str], list[str]]:
        """Add the model's layers and edges; returns the ids of its first and last layers."""
        order = _entries(model, prefix)
        ids = {name: lid for lid, name, _, _ in order}
        for lid, name, e, nested in order:
            c = e.get("config", {})
            trainable = c.get("trainable", True)
            layers.append({"id": lid, "name": name, "class": e["class_name"], "qual": _qual(e),
                           "config": _plain_config(c), "site": site, "path": prefix,
                           "trainable": trainable if isinstance(trainable, bool) else True, "is_model": nested})
        for lid, name, e, nested in order:
            if nested:
                ends[lid] = visit(e, prefix + [name])
        real = [lid for lid, _, e, _ in order if e["class_name"] != "InputLayer"]
        if model["class_name"] == "Sequential":
            edges.extend([a, b] for a, b in zip(real, real[1:]))
            lasts = real[-1:]
        else:
            for lid, _, e, _ in order:
                edges.extend([ids[p], lid] for p in _parents(e) if p in ids)
            lasts = [ids[o] for o in _output_names(model["config"].get("output_layers")) if o in ids]
        # a nested model stands for its own first and last layers
        firsts = [f for lid in real[:1] for f in (ends[lid][0] if lid in ends else [lid])]
        lasts = [x for lid in dict.fromkeys(lasts) for x in (ends[lid][1] if lid in ends else [lid])]
        return firsts, list(dict.fromkeys(lasts))

    _, outputs = visit(config, [])
    # The parents of a nested model feed its first layer, and its last layer feeds its consumers. One
    # with several last layers is left as it is: which of them feeds which consumer is not known. So
    # each edge adds at most three.
    for s, d in [e for e in edges if e[0] in ends or e[1] in ends]:
        sources = [s] + (ends[s][1] if s in ends and len(ends[s][1]) == 1 else [])
        dests = [d] + (ends[d][0] if d in ends else [])
        edges.extend([a, b] for a in sources for b in dests if (a, b) != (s, d))

    compile_config = config.get("compile_config")
    compile_config = compile_config if isinstance(compile_config, dict) else {}
    optimizer = _optimizer(compile_config.get("optimizer"), site)
    name = config["config"].get("name")
    kind = "sequential" if config["class_name"] == "Sequential" else "functional"
    model = {"name": name if isinstance(name, str) else None, "class": config["class_name"],
             "qual": _qual(config), "site": site, "kind": kind, "trainable": True, "layers": layers,
             "edges": edges, "outputs": outputs, "optimizer": optimizer,
             "loss": _loss(compile_config.get("loss")), "compile_site": None, "fit": None}
    return {"version": 1, "status": "saved", "trigger": None, "trigger_site": None, "error": None,
            "models": [model], "optimizers": [optimizer] if optimizer else []}


def _name(cfg: dict, entry: dict) -> str | None:
    """A layer's name: Keras 3 puts it in the config and the entry, Keras 2 in the config."""
    for name in (cfg.get("name"), entry.get("name")):
        if isinstance(name, str) and name:
            return name
    return None


def _serialized(value) -> dict | None:
    """A serialized Keras object with the types the view reads (str class name and module, dict config)."""
    if not (isinstance(value, dict) and isinstance(value.get("class_name"), str)):
        return None
    module, cfg = value.get("module"), value.get("config")
    return {"module": module if isinstance(module, str) else None, "class_name": value["class_name"],
            "config": _plain_config(cfg) if isinstance(cfg, dict) else {}}


def _plain_config(cfg: dict) -> dict:
    """A config whose serialized objects (initializers, wrapped layers, schedules...) have the view's types.

    The view reads a value with a ``class_name`` as such an object, so one
    whose parts are of other types becomes ``{}``, which it reads as unknown.
    Other values are kept as they are: the view reads any JSON value.
    """
    out = {}
    for key, value in cfg.items():
        if isinstance(value, dict) and "class_name" in value:
            value = _serialized(value) or {}
        out[key] = value
    return out


def _optimizer(opt, site: dict) -> dict | None:
    opt = _serialized(opt)
    if opt is None:
        return None
    cls, ocfg = opt["class_name"], opt["config"]
    lr = ocfg.get("learning_rate")  # a schedule is a serialized object, made plain with the config
    schedule = None
    if isinstance(lr, dict) and "class_name" in lr:
        schedule = {"class": lr["class_name"], "qual": f"keras.optimizers.schedules.{lr['class_name']}",
                    "config": lr["config"]}
    return {"class": cls, "qual": f"{opt['module'] or 'keras.optimizers'}.{cls}", "config": ocfg,
            "schedule": schedule, "site": site, "index": 0}


def _loss(loss):
    """The compiled loss: a name, a serialized loss, or a value the view reads as unknown (several losses)."""
    if isinstance(loss, dict) and "class_name" in loss:
        return _serialized(loss) or {}
    return loss


def _output_names(outputs) -> list[str]:
    """Layer names of ``output_layers``: ``[name, 0, 0]`` for one output (Keras 3), a list of those for several."""
    names: list[str] = []
    for o in outputs if isinstance(outputs, list) else []:
        if isinstance(o, list) and o:
            o = o[0]
        if isinstance(o, str):
            names.append(o)
    return names


def _parents(entry: dict) -> list[str]:
    """Names of the layers feeding a layer, from Keras 3 or Keras 2 ``inbound_nodes``."""
    out: list[str] = []
    nodes = entry.get("inbound_nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            _history(node.get("args"), out)
        elif isinstance(node, list):  # Keras 2: [["dense", 0, 0, {}], ...]
            for item in node:
                if isinstance(item, list) and item and isinstance(item[0], str):
                    out.append(item[0])
    return out


def _history(value, out: list) -> None:
    """Names of the layers whose tensors ``value`` holds (``__keras_tensor__`` entries, at any depth)."""
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

"""Hostile and malformed saved models: each is a KL002 that says what is wrong, never an internal error.

A ``.keras`` archive or ``.json`` config is an untrusted file that klint reads
as data (:mod:`klint.model.saved`). Each test checks one broken file together
with a valid one, through the CLI in this process: the broken file must get
one KL002 with a message, the valid one its findings, and the run must exit
0 or 1 (2 would mean an internal error, KL003) without a traceback. The
archives that lie about themselves must also be read in bounded memory.

Archives are built by hand with :mod:`zipfile`, :mod:`zlib` and :mod:`json`;
nothing here imports TensorFlow or Keras.
"""
from __future__ import annotations

import copy
import io
import json
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import klint.cli.workers
from klint.model import saved, view
from klint.source.interpreter import SourceAnalysis

MB = 1024 * 1024
MEMORY_LIMIT = 200 * MB  # peak of Python allocations while klint reads a bomb


def _initializer(name: str) -> dict:
    return {"module": "keras.initializers", "class_name": name, "config": {"seed": None}, "registered_name": None}


def _dense(name: str, units: int, activation: str = "linear", parent: str | None = None) -> dict:
    layer = {"module": "keras.layers", "class_name": "Dense", "registered_name": None, "name": name,
             "config": {"name": name, "trainable": True, "units": units, "activation": activation,
                        "use_bias": True, "kernel_initializer": _initializer("GlorotUniform"),
                        "bias_initializer": _initializer("Zeros")}}
    if parent is not None:
        layer["inbound_nodes"] = [{"args": [_tensor(parent)], "kwargs": {}}]
    return layer


def _tensor(layer: str) -> dict:
    return {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32",
                                                          "keras_history": [layer, 0, 0]}}


def _input(name: str = "input_layer") -> dict:
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "name": name,
            "config": {"batch_shape": [None, 4], "dtype": "float32", "name": name}, "inbound_nodes": []}


COMPILE = {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "registered_name": None,
                         "config": {"name": "adam", "learning_rate": 0.001, "clipnorm": None}},
           "loss": "mse", "loss_weights": None, "metrics": None}

# Input -> Dense(8, relu) -> Dense(1), as Keras 3 writes it: the relu Dense on Glorot is a KL101.
SEQUENTIAL = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "sequential", "trainable": True,
                         "layers": [_input(), _dense("dense", 8, "relu"), _dense("dense_1", 1)]},
              "compile_config": COMPILE}
FUNCTIONAL = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
              "config": {"name": "functional", "trainable": True,
                         "layers": [_input(), _dense("dense", 8, "relu", "input_layer"),
                                    _dense("dense_1", 1, parent="dense")],
                         "input_layers": ["input_layer", 0, 0], "output_layers": ["dense_1", 0, 0]},
              "compile_config": COMPILE}


def _json(config) -> bytes:
    return json.dumps(config).encode()


def _archive(config: bytes | dict, compression: int = zipfile.ZIP_STORED) -> bytes:
    """A ``.keras`` archive: metadata, the config, and (a stand-in for) the weights."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        z.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        z.writestr("config.json", config if isinstance(config, bytes) else _json(config))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    return buf.getvalue()


def _entry(data: bytes, name: str = "config.json") -> int:
    """The offset of ``name``'s central directory entry."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (size,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46:at + 46 + size] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"no {name} in the archive")


# where the central directory entry keeps each field (APPNOTE 4.3.12)
_FIELDS = {"flags": ("<H", 8), "method": ("<H", 10), "compress_size": ("<L", 20), "file_size": ("<L", 24)}


def _lie(data: bytes, **fields: int) -> bytes:
    """The archive with fields of config.json's central directory entry overwritten."""
    out = bytearray(data)
    at = _entry(data)
    for field, value in fields.items():
        fmt, offset = _FIELDS[field]
        struct.pack_into(fmt, out, at + offset, value)
    return bytes(out)


def _member_data(data: bytes, name: str = "config.json") -> int:
    """The offset of ``name``'s (compressed) bytes, past its local header."""
    (header,) = struct.unpack_from("<L", data, _entry(data, name) + 42)
    name_len, extra_len = struct.unpack_from("<HH", data, header + 26)
    return header + 30 + name_len + extra_len


def _check(cli, project: Path, name: str, content: bytes | None) -> list:
    """Check ``name`` (``content``, or a folder made beforehand) with a valid archive; the findings of both.

    Asserts what holds for every input: exit code 0 or 1, no traceback, no
    internal error, and the valid archive still checked (its KL101).
    """
    if content is not None:
        (project / name).write_bytes(content)
    (project / "good.keras").write_bytes(_archive(SEQUENTIAL))
    rc, findings, err = cli.json(name, "good.keras")
    assert rc in (0, 1), err
    assert "Traceback" not in err
    assert [f for f in findings if f["code"] == "KL003"] == []
    assert "KL101" in [f["code"] for f in findings if f["filename"] == "good.keras"]
    return [f for f in findings if f["filename"] == name]


def _unreadable(cli, project: Path, name: str, content: bytes | None) -> str:
    """The message of the one KL002 that the broken file ``name`` gets."""
    found = _check(cli, project, name, content)
    assert [f["code"] for f in found] == ["KL002"], found
    message = found[0]["message"]
    assert message.startswith("cannot read the saved model: ") and len(message) > 40
    return message


def _readable(cli, project: Path, name: str, content: bytes) -> list:
    """The codes of the findings on ``name``, which must be read (no KL002)."""
    codes = [f["code"] for f in _check(cli, project, name, content)]
    assert "KL002" not in codes
    return codes


def _zero_bomb(megabytes: int) -> bytes:
    """An archive whose config.json is ``megabytes`` MB of zeros, deflated to a few hundred KB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("metadata.json", "{}")
        with z.open("config.json", "w") as f:
            zeros = bytes(MB)
            for _ in range(megabytes):
                f.write(zeros)
    return buf.getvalue()


def _peak(run, monkeypatch) -> int:
    """The peak of Python allocations (bytes) while ``run()`` runs, files checked in this process."""
    monkeypatch.setattr(klint.cli.workers, "ISOLATE", False, raising=False)  # not in forked workers
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------ valid files


def test_valid_files_are_read(cli, project):
    assert "KL101" in _readable(cli, project, "model.keras", _archive(FUNCTIONAL, zipfile.ZIP_DEFLATED))
    assert "KL101" in _readable(cli, project, "model.json", _json(FUNCTIONAL))


def test_an_archive_from_standard_input_is_read_from_its_bytes(cli, project, monkeypatch):
    # the name is only a name: nothing is read from it
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_archive(SEQUENTIAL))))
    rc, out, err = cli("check", "-", "--stdin-filename", "missing/model.keras")
    assert rc == 1 and "Traceback" not in err
    assert "KL101" in out and "KL002" not in out


# --------------------------------------------------- 1. archives that lie


@pytest.mark.parametrize("declared", [1000, 0])
def test_member_that_says_it_is_small_is_not_inflated_whole(cli, project, monkeypatch, declared):
    # 320 MB of zeros in ~300 KB of deflate data, under a header that says it is `declared` bytes:
    # ZipFile.read would inflate all of it at once, whatever the header says
    bomb = _lie(_zero_bomb(320), file_size=declared)
    assert len(bomb) < 2 * MB
    messages = []
    peak = _peak(lambda: messages.append(_unreadable(cli, project, "bomb.keras", bomb)), monkeypatch)
    assert peak < MEMORY_LIMIT, f"reading the bomb took {peak // MB} MB"
    assert "config.json" in messages[0]


def test_member_that_says_it_is_huge_is_refused_before_reading(cli, project):
    bomb = _lie(_zero_bomb(80), file_size=0xFFFFFFF0)
    assert "config.json is larger than 64 MB" in _unreadable(cli, project, "bomb.keras", bomb)


def test_inflated_bytes_are_counted_whatever_the_header_says(cli, project, monkeypatch):
    # zipfile itself stops at the declared size; without the check of that size, counting the
    # inflated bytes is what stops a member that says it is 4 GB
    monkeypatch.setattr(saved, "_check_member", lambda info: None)
    bomb = _lie(_zero_bomb(320), file_size=0xFFFFFFF0)
    messages = []
    peak = _peak(lambda: messages.append(_unreadable(cli, project, "bomb.keras", bomb)), monkeypatch)
    assert peak < MEMORY_LIMIT, f"reading the bomb took {peak // MB} MB"
    assert "config.json is larger than 64 MB once decompressed" in messages[0]


def test_archive_with_a_huge_directory_is_refused(cli, project):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", _json(SEQUENTIAL))
        for i in range(60_000):  # ~5.5 MB of directory entries
            z.writestr(f"assets/{i:040d}", b"")
    assert "directory" in _unreadable(cli, project, "many.keras", buf.getvalue())


def test_encrypted_member(cli, project):
    data = _lie(_archive(SEQUENTIAL), flags=0x1)
    assert "config.json is encrypted" in _unreadable(cli, project, "secret.keras", data)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
def test_unsupported_compression(cli, project, method):
    if method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        data = _archive(SEQUENTIAL, method)
    else:
        data = _lie(_archive(SEQUENTIAL), method=method)
    assert f"compression method {method}" in _unreadable(cli, project, "packed.keras", data)


def test_corrupt_deflate_data(cli, project):
    data = bytearray(_archive(SEQUENTIAL, zipfile.ZIP_DEFLATED))
    at = _member_data(bytes(data))
    data[at:at + 16] = b"\xff" * 16  # a block of the reserved type
    assert "config.json is corrupt" in _unreadable(cli, project, "corrupt.keras", bytes(data))


def test_member_running_past_the_end_of_the_archive(cli, project):
    data = _archive(SEQUENTIAL)
    data = _lie(data, compress_size=2 * len(data), file_size=2 * len(data))  # EOFError in zipfile
    assert "truncated" in _unreadable(cli, project, "short.keras", data)


def test_feature_zipfile_does_not_implement(cli, project):
    data = _lie(_archive(SEQUENTIAL), flags=0x20)  # compressed patched data: NotImplementedError
    assert "NotImplementedError" in _unreadable(cli, project, "patched.keras", data)


def test_impossible_offsets(cli, project):
    data = bytearray(_archive(SEQUENTIAL))
    end = data.rfind(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<L", data, end + 16)
    struct.pack_into("<L", data, end + 16, offset + 1_000_000)  # every member before the file's start
    assert "not a .keras archive" in _unreadable(cli, project, "offsets.keras", bytes(data))


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really", b""], ids=["local header only", "empty"])
def test_not_an_archive(cli, project, content):
    assert "not a .keras archive" in _unreadable(cli, project, "fake.keras", content)


def test_archive_without_config(cli, project):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model.weights.h5", b"")
    assert "no config.json" in _unreadable(cli, project, "weights.keras", buf.getvalue())


def test_json_file_over_the_cap(cli, project):
    data = b" " * saved.MAX_CONFIG_BYTES + _json(SEQUENTIAL)
    assert "larger than 64 MB" in _unreadable(cli, project, "big.json", data)
    with pytest.raises(saved.SavedModelError, match="larger than 64 MB"):  # given as data (standard input)
        saved.read_config(Path("big.json"), data)


# ------------------------------------------- 2. deep and oddly shaped configs


def _with_value(value_json: str) -> bytes:
    """SEQUENTIAL with a raw JSON value as an extra argument of its relu Dense."""
    marker = "__VALUE__"
    config = copy.deepcopy(SEQUENTIAL)
    config["config"]["layers"][1]["config"]["extra"] = marker
    return _json(config).replace(f'"{marker}"'.encode(), value_json.encode())


@pytest.mark.parametrize("suffix", [".keras", ".json"])
def test_deep_nesting_is_refused_before_parsing(cli, project, suffix):
    deep = "[" * 100_000 + "]" * 100_000
    data = _with_value(deep)
    message = _unreadable(cli, project, "deep" + suffix, _archive(data) if suffix == ".keras" else data)
    assert "more than 200 deep" in message


def test_nesting_under_the_cap_is_read(cli, project):
    value = '{"a": ' * 90 + '"[[[[\\"{{"' + "}" * 90  # brackets in strings do not count
    assert "KL101" in _readable(cli, project, "nested.json", _with_value(value))


def _edit(base: dict, change) -> bytes:
    config = copy.deepcopy(base)
    change(config)
    return _json(config)


def _layers(config: dict) -> list:
    return config["config"]["layers"]


def _set(path: tuple, value):
    """A change that sets ``config[path...] = value``."""
    def change(config):
        target = config
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _many_layers(config: dict) -> None:
    _layers(config)[:] = [{"class_name": "Dense", "config": {"name": f"d{i}"}} for i in range(100_001)]


def _nested_bad(config: dict) -> None:
    inner = copy.deepcopy(SEQUENTIAL)
    inner["config"]["name"] = "inner"
    inner["config"]["layers"].append("Dense")
    _layers(config).append(inner)


REFUSED = {
    "layer that is a list": (_set(("config", "layers", 1), ["Dense", {"units": 8}]), "has no class name"),
    "class name that is a number": (_set(("config", "layers", 1, "class_name"), 5), "has no class name"),
    "layer config that is a string": (_set(("config", "layers", 1, "config"), "units=8"), "is not an object"),
    "layers that are not a list": (_set(("config", "layers"), {"dense": {}}), "are not a list"),
    "duplicate layer names": (_set(("config", "layers", 2, "config", "name"), "dense"),
                              "two layers are named 'dense'"),
    "bad layer of a nested model": (_nested_bad, "of 'inner' has no class name"),
    "huge number of layers": (_many_layers, "more than 100000 layers"),
    "model config that is a list": (_set(("config",), []), "not a Keras model config"),
    "model class that is a number": (_set(("class_name",), 3), "not a Keras model config"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_malformed_layers_are_refused(cli, project, case):
    change, expected = REFUSED[case]
    assert expected in _unreadable(cli, project, "odd.json", _edit(SEQUENTIAL, change))


def _cycle(config: dict) -> None:
    layers = _layers(config)
    layers[1]["inbound_nodes"].append({"args": [_tensor("dense_1")], "kwargs": {}})  # dense <-> dense_1
    layers[2]["inbound_nodes"].append({"args": [_tensor("dense_2")], "kwargs": {}})  # self loop
    layers[2]["config"]["name"] = layers[2]["name"] = "dense_2"


def _nested(config: dict) -> None:
    inner = copy.deepcopy(SEQUENTIAL)
    inner["config"]["name"] = inner["name"] = "inner"
    inner["inbound_nodes"] = [{"args": [_tensor("dense")], "kwargs": {}}]
    _layers(config)[2]["inbound_nodes"] = [{"args": [_tensor("inner")], "kwargs": {}}]
    _layers(config).insert(2, inner)


TOLERATED = {
    "inbound nodes that are a number": _set(("config", "layers", 2, "inbound_nodes"), 5),
    "inbound nodes that are a string": _set(("config", "layers", 2, "inbound_nodes"), "dense"),
    "inbound nodes of odd shapes": _set(("config", "layers", 2, "inbound_nodes"), [
        [], [[]], [["dense"]], {"args": 5}, [5, None], {"args": [[{}]]},
        {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [5]}}]}]),
    "layer name that is a number": _set(("config", "layers", 2, "config", "name"), 5),
    "layer name that is a list": _set(("config", "layers", 2, "name"), ["dense"]),
    "output layers of odd shapes": _set(("config", "output_layers"), [[], 5, {"a": 1}, [5, 0, 0], [["dense_1"]]]),
    "output layers that are a string": _set(("config", "output_layers"), "dense_1"),
    "module that is a number": _set(("config", "layers", 2, "module"), 5),
    "initializer with a numeric class": _set(("config", "layers", 1, "config", "kernel_initializer"),
                                             {"class_name": 7, "module": [], "config": "x"}),
    "initializer with a list as class": _set(("config", "layers", 1, "config", "bias_initializer"),
                                             {"class_name": ["Zeros"]}),
    "wrapped layer of odd types": _set(("config", "layers", 2, "config", "layer"),
                                       {"class_name": "Dense", "module": 3, "config": "units"}),
    "activation that is a number": _set(("config", "layers", 2, "config", "activation"), 3),
    "trainable that is a string": _set(("config", "layers", 2, "config", "trainable"), "no"),
    "optimizer with a numeric class": _set(("compile_config", "optimizer", "class_name"), 5),
    "optimizer config that is a string": _set(("compile_config", "optimizer", "config"), "adam"),
    "optimizer that is a string": _set(("compile_config", "optimizer"), "adam"),
    "schedule of odd types": _set(("compile_config", "optimizer", "config", "learning_rate"),
                                  {"class_name": "ExponentialDecay", "config": [0.1]}),
    "loss of odd types": _set(("compile_config", "loss"), {"class_name": 5, "config": "from_logits"}),
    "loss config that is a string": _set(("compile_config", "loss"), {"class_name": "function",
                                                                     "config": "from_logits"}),
    "several losses": _set(("compile_config", "loss"), ["mse", {"out": "mae"}, 5]),
    "compile config that is a list": _set(("compile_config",), ["adam", "mse"]),
    "cycles and self loops in the graph": _cycle,
    "a nested model": _nested,
}


@pytest.mark.parametrize("case", TOLERATED)
def test_malformed_details_are_skipped(cli, project, case):
    _readable(cli, project, "odd.json", _edit(FUNCTIONAL, TOLERATED[case]))


@pytest.mark.parametrize("value", [
    "NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400, "-" + "9" * 5000, "[NaN, Infinity, 1e-400]",
], ids=["nan", "infinity", "-infinity", "1e400", "400 digits", "5000 digits", "list"])
@pytest.mark.parametrize("where", ["layer", "optimizer"])
def test_odd_numbers_are_read(cli, project, value, where):
    marker = "__VALUE__"
    config = copy.deepcopy(SEQUENTIAL)
    for key in ("units", "rate", "momentum", "epsilon"):
        config["config"]["layers"][1]["config"][key] = marker
    if where == "optimizer":
        for key in ("learning_rate", "clipnorm", "clipvalue", "beta_1"):
            config["compile_config"]["optimizer"]["config"][key] = marker
    data = _json(config).replace(f'"{marker}"'.encode(), value.encode())
    _readable(cli, project, "numbers.keras", _archive(data))


def test_nested_models_are_wired_through():
    """A nested model's parent feeds its first layer, its last layer feeds its consumer and is an output."""
    config = copy.deepcopy(FUNCTIONAL)
    _nested(config)
    config["config"]["output_layers"] = [["inner", 0, 0]]
    snap = saved.snapshot(saved.read_config(Path("m.json"), _json(config)), Path("m.json"))
    model = snap["models"][0]
    edges = {tuple(e) for e in model["edges"]}
    assert ("dense", "inner/dense") in edges  # into the nested model's first layer
    assert ("inner/dense", "inner/dense_1") in edges
    assert ("inner/dense_1", "dense_1") in edges  # out of its last layer
    assert model["outputs"] == ["inner/dense_1"]


# --------------------------------------------------- 3. bytes and folders


@pytest.mark.parametrize("content, expected", [
    (b"", "is empty"),
    (b" \n\t\r\n", "is empty"),
    (b"\xef\xbb\xbf" + _json(SEQUENTIAL), "UTF-8 byte order mark"),
    (_json(SEQUENTIAL).decode().encode("utf-16"), "UTF-16 or UTF-32 byte order mark"),
    (_json(SEQUENTIAL).decode().encode("utf-32"), "UTF-16 or UTF-32 byte order mark"),
    (_json(SEQUENTIAL).replace(b'"dense"', b'"dens\xe9"'), "is not UTF-8 text"),
    (b"\x00\x01\x02binary", "is not valid JSON"),
    (b'{"class_name": "Sequential", "config": {"layers": [}', "is not valid JSON"),
    (b'["not", "a", "model"]', "not a Keras model config"),
], ids=["empty", "blank", "utf-8 bom", "utf-16", "utf-32", "latin-1", "binary", "broken json", "not a model"])
@pytest.mark.parametrize("suffix", [".keras", ".json"])
def test_bad_bytes(cli, project, content, expected, suffix):
    data = _archive(content) if suffix == ".keras" else content
    where = "config.json" if suffix == ".keras" else "the file"
    message = _unreadable(cli, project, "bytes" + suffix, data)
    assert expected in message
    if expected.startswith("is "):
        assert f"{where} {expected}" in message


@pytest.mark.parametrize("name", ["folder.keras", "folder.json"])
def test_folder_named_like_a_saved_model(cli, project, name):
    # The CLI walks a folder; read directly, it is an error that says so.
    folder = project / name
    folder.mkdir()
    (folder / "config.json").write_bytes(_json(SEQUENTIAL))  # an unzipped archive
    assert _check(cli, project, name, None) == []
    with pytest.raises(saved.SavedModelError, match="directory"):
        saved.read_config(folder)


def test_missing_file_read_by_path(project):
    with pytest.raises(saved.SavedModelError, match="cannot read"):
        saved.read_config(project / "absent.keras")
    with pytest.raises(saved.SavedModelError, match="cannot read"):
        saved.read_config(project / "absent.json")


# ------------------------------------------------------- 4. no code runs


def test_names_in_the_file_are_only_names(cli, project):
    config = copy.deepcopy(SEQUENTIAL)
    marker = project / "ran"
    _layers(config)[1]["module"] = "os"
    _layers(config)[1]["class_name"] = "system"
    _layers(config)[1]["config"]["command"] = f"touch {marker}"
    config["compile_config"]["loss"] = {"module": "subprocess", "class_name": "run",
                                        "config": {"args": ["touch", str(marker)]}}
    _readable(cli, project, "evil.keras", _archive(config))
    assert not marker.exists()


def test_reading_imports_no_keras(project):
    # in a fresh interpreter, so that what this process imported cannot hide an import
    (project / "model.keras").write_bytes(_archive(SEQUENTIAL))
    program = ("import sys\nfrom klint.cli.main import main\nrc = main(['check', 'model.keras'])\n"
               "print(rc, sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow'}))")
    r = subprocess.run([sys.executable, "-c", program], cwd=project, capture_output=True, text=True, timeout=120)
    assert r.stdout.splitlines()[-1] == "1 []", r.stdout + r.stderr


# ---------------------------------------------------------------- properties


_texts = st.text(max_size=8) | st.text(alphabet='[]{}"\\ ab', max_size=8)  # brackets, quotes, escapes
_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | _texts
            | st.sampled_from(["dense", "dense_1", "input_layer", "relu", "__keras_tensor__"]))
_json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                            | st.dictionaries(_texts, inner, max_size=4), max_leaves=12)
_keys = st.sampled_from(["name", "units", "activation", "kernel_initializer", "rate", "layer", "cell", "trainable",
                         "learning_rate", "momentum", "from_logits", "layers", "output_layers", "config"])


_any = st.deferred(lambda: _json_values)


def _maybe(strategy):
    """``strategy`` three times in four, any JSON value otherwise (with a short repr, unlike one_of)."""
    return st.integers(0, 3).flatmap(lambda i: strategy if i else _any)


def _serialized(classes):
    return _maybe(st.fixed_dictionaries(
        {"class_name": _maybe(st.sampled_from(classes)), "config": _maybe(st.dictionaries(_keys, _json_values))},
        optional={"module": _maybe(st.sampled_from(["keras.layers", "keras", "keras.initializers"]))}))


_nodes = _maybe(st.lists(_maybe(st.fixed_dictionaries({"args": st.lists(_maybe(st.fixed_dictionaries(
    {"class_name": st.just("__keras_tensor__"), "config": st.fixed_dictionaries(
        {"keras_history": _maybe(st.tuples(st.sampled_from(["dense", "dense_1", "inner", "input_layer"]),
                                           st.just(0), st.just(0)).map(list))})})), max_size=3)})), max_size=3))


def _models(layer):
    return st.fixed_dictionaries({
        "class_name": _maybe(st.sampled_from(["Sequential", "Functional", "Model"])),
        "config": _maybe(st.fixed_dictionaries(
            {"layers": _maybe(st.lists(layer, max_size=5))},
            optional={"name": _json_values, "output_layers": _maybe(st.lists(_maybe(st.sampled_from(
                [["dense", 0, 0], ["inner", 0, 0], "dense_1"])), max_size=3))})),
    }, optional={"compile_config": _maybe(st.fixed_dictionaries({}, optional={
        "optimizer": _serialized(["Adam", "SGD"]), "loss": _maybe(_serialized(["BinaryCrossentropy"]))}))})


def _layer(children):
    plain = st.fixed_dictionaries(
        {"class_name": _maybe(st.sampled_from(["Dense", "Dropout", "InputLayer", "BatchNormalization",
                                               "Bidirectional", "Activation"])),
         "config": _maybe(st.fixed_dictionaries({}, optional={
             "name": _maybe(st.sampled_from(["dense", "dense_1", "inner", "input_layer"])),
             "activation": _json_values, "kernel_initializer": _serialized(["GlorotUniform", "HeNormal"]),
             "layer": _serialized(["LSTM", "Dense"]), "units": _json_values, "trainable": _json_values}))},
        optional={"name": _json_values, "inbound_nodes": _nodes, "module": _json_values})
    return _maybe(plain | children)


_configs = st.recursive(_models(_layer(st.nothing())), lambda models: _models(_layer(models)), max_leaves=4)


def _read_and_build(path: Path, data: bytes) -> None:
    """What the engine does with a saved model, up to the rules: only SavedModelError may escape."""
    try:
        config = saved.read_config(path, data)
    except saved.SavedModelError:
        return
    try:
        snap = saved.snapshot(config, path)
    except saved.SavedModelError:  # allowed, though read_config should have said it
        return
    view.build(snap, SourceAnalysis(), None, str(path))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=_configs | _json_values)
def test_any_json_is_read_or_refused(config):
    data = json.dumps(config).encode()
    _read_and_build(Path("model.json"), data)
    _read_and_build(Path("model.keras"), _archive(data))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | _json_values.map(lambda v: json.dumps(v).encode()[:-1]))
def test_any_bytes_are_read_or_refused(data):
    _read_and_build(Path("model.json"), data)
    _read_and_build(Path("model.keras"), _archive(data))
    _read_and_build(Path("model.keras"), data)


@settings(max_examples=200, deadline=None)
@given(value=_json_values, levels=st.integers(150, 250))
def test_nesting_cap_counts_only_real_brackets(value, levels):
    """A value under ``levels`` lists is refused exactly when the document nests deeper than the cap."""
    def depth(v):
        if isinstance(v, (list, dict)):
            return 1 + max(map(depth, v.values() if isinstance(v, dict) else v), default=0)
        return 0

    wrapped = value
    for _ in range(levels):
        wrapped = [wrapped]
    document = {"class_name": "Sequential", "config": {"layers": [], "extra": wrapped}}
    try:
        saved.read_config(Path("model.json"), json.dumps(document).encode())
        refused = False
    except saved.SavedModelError as e:
        assert "deep" in str(e)
        refused = True
    assert refused == (depth(document) > saved.MAX_DEPTH)

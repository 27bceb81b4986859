"""The capture's stand-ins, in this process: no TensorFlow, no Keras.

The stand-ins module runs inside the capture's interpreter, but its pieces
that do not touch Keras are plain Python and are tested here directly; the
end-to-end behaviour is in tests/test_capture_data.py.
"""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

@pytest.fixture(scope="module")
def st():
    """The capture's stand-in modules, as one namespace."""
    from klint.model import inert, scratch, standins, tables, tfds

    merged = {}
    for module in (standins, tables, tfds, inert, scratch):
        merged.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    return types.SimpleNamespace(**merged)


def test_inert_accepts_every_use(st):
    plt = st.StandInModule("matplotlib.pyplot")
    fig = plt.figure(figsize=(4, 4))
    fig.suptitle("x").set_fontsize(3)
    with plt.style.context("dark"):
        ax = fig.add_subplot(1, 1, 1)
    ax.plot([1, 2]) + 1
    ax.title = "t"
    assert list(ax.lines) == [] and len(ax.lines) == 0
    assert f"{ax:>10}" == "" and str(ax) == ""

    class Callback(plt.Base):  # a class deriving from a stand-in is a plain class
        pass

    assert Callback.__mro__ == (Callback, object)


def test_subplots_gives_the_axes_shape_matplotlib_would(st):
    plt = st.StandInModule("matplotlib.pyplot")
    fig, ax = plt.subplots()
    assert isinstance(ax, st.Inert)
    fig, (a, b) = plt.subplots(1, 2)
    fig, axes = plt.subplots(2, 3)
    assert axes.shape == (2, 3) and len(list(axes.flat)) == 6
    fig, axes = plt.subplots(2, 3, squeeze=False)
    assert axes.shape == (2, 3)
    fig, axes = plt.subplots(1, 1, squeeze=False)
    assert axes.shape == (1, 1)


def test_tqdm_stand_in_yields_what_it_wraps(st):
    tqdm_auto = st.StandInModule("tqdm.auto")
    assert list(tqdm_auto.tqdm([3, 1, 2], desc="x")) == [3, 1, 2]
    assert list(tqdm_auto.trange(2, 5)) == [2, 3, 4]
    bar = tqdm_auto.tqdm(range(4))
    assert len(bar) == 4
    bar.set_description("loss")
    with tqdm_auto.tqdm(total=10) as pbar:
        pbar.update(1)


def test_finder_stands_in_only_for_missing_display_and_data_packages(st):
    finder = st.Finder(st.Standins())
    assert finder.find_spec("matplotlib") is not None
    assert finder.find_spec("tqdm") is not None
    assert finder.find_spec("tensorflow_datasets") is not None
    for needed in ("keras_hub", "keras_cv", "transformers", "tensorflow_addons", "pandas", "torch"):
        assert finder.find_spec(needed) is None
    # a submodule of a real package is that package's business
    real = types.ModuleType("PIL")
    sys.modules["PIL"], saved = real, sys.modules.get("PIL")
    try:
        assert finder.find_spec("PIL.ImageTk") is None
    finally:
        if saved is None:
            del sys.modules["PIL"]
        else:
            sys.modules["PIL"] = saved


def test_finder_is_asked_only_when_no_real_finder_has_the_package(st, tmp_path, monkeypatch):
    standins = st.Standins()
    (tmp_path / "seaborn").mkdir()
    (tmp_path / "seaborn" / "__init__.py").write_text("REAL = True\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = st.Finder(standins)
    monkeypatch.setattr(sys, "meta_path", sys.meta_path + [finder])
    for name in ("seaborn", "imageio", "imageio.v3"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import seaborn
    assert seaborn.REAL is True
    import imageio.v3 as iio
    iio.imwrite("never-written.png", [[0]])
    assert not os.path.exists("never-written.png")
    assert [u["name"] for u in standins.used] == ["imageio"]


def test_in_place_reaches_every_alias(st):
    def load(path="a.npz", scale=1):
        return f"{path}:{scale}"

    alias = load
    holder = types.SimpleNamespace(load=load)
    st.in_place(load, lambda orig, *a, **k: "stood in " + orig(*a, **k))
    assert alias() == "stood in a.npz:1"
    assert holder.load("b.npz", scale=2) == "stood in b.npz:2"
    assert st._original(load)("c") == "c:1"
    st.in_place(load, lambda orig, *a, **k: "twice")  # a second patch is refused, not stacked
    assert load() == "stood in a.npz:1"


def test_would_be_path_follows_get_file(st, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", "/k")
    assert st._would_be_path("mnist.npz", "https://x/mnist.npz") == "/k/datasets/mnist.npz"
    assert st._would_be_path(None, "https://x/y/data.csv") == "/k/datasets/data.csv"
    assert st._would_be_path("flower_photos.tgz", "https://x/f.tgz", extract=True) == \
        "/k/datasets/flower_photos_extracted"
    assert st._would_be_path("flower_photos", "https://x/f.tgz", untar=True) == "/k/datasets/flower_photos"
    assert st._would_be_path("d.zip", "https://x/d.zip", cache_dir="/c", cache_subdir="s") == "/c/s/d.zip"


def test_tfds_stand_in_knows_only_listed_datasets(st):
    standins = st.Standins()
    builder = st._TfdsBuilder(standins, "mnist:3.*.*")
    assert builder.info.features["label"].num_classes == 10
    assert builder.info.splits["test"].num_examples == 10000
    with pytest.raises(ModuleNotFoundError, match="no synthetic stand-in for the dataset 'coco'"):
        st._TfdsBuilder(standins, "coco/2017")


# ------------------------------------------------------------------ tables

def test_numpy_readers_give_a_table_for_a_missing_file_and_read_an_existing_one(st, tmp_path):
    import numpy as np

    s = st.Standins()
    st.Tables(s).install()
    try:
        missing = tmp_path / "data.csv"
        assert np.loadtxt(missing, delimiter=",").shape == (st.SYNTHETIC_ROWS, st.SYNTHETIC_COLUMNS)
        cols = np.genfromtxt(str(tmp_path / "d.txt"), usecols=(0, 1, 2), unpack=True, max_rows=50)
        assert cols.shape == (3, 50)
        assert np.loadtxt(tmp_path / "y.csv", usecols=4).shape == (st.SYNTHETIC_ROWS,)
        real = tmp_path / "real.csv"
        real.write_text("1,2\n3,4\n5,6\n")
        assert np.loadtxt(real, delimiter=",").tolist() == [[1, 2], [3, 4], [5, 6]]
    finally:
        for name in ("loadtxt", "genfromtxt"):
            setattr(np, name, getattr(np, name).__klint_original__)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, st.AfterImport)]
    said = [(u["name"], u["detail"], u["missing"]) for u in s.used]
    assert said[0] == ("numpy.loadtxt", "a synthetic table for data.csv", [str(missing)])
    assert ("numpy.genfromtxt", "a synthetic table for d.txt", [str(tmp_path / "d.txt")]) in said
    assert len(said) == 3  # the real file is not a stand-in
    assert s.used[0]["assumed"] == [f"{st.SYNTHETIC_ROWS} rows", f"{st.SYNTHETIC_COLUMNS} columns"]


@pytest.fixture
def pandas_patched(st):
    import pandas as pd

    s = st.Standins()
    st.Tables(s)._patch_pandas(pd)
    yield s, pd
    for name in st.PANDAS_READERS:
        fn = getattr(pd, name, None)
        if fn is not None and getattr(fn, "__klint_original__", None):
            setattr(pd, name, fn.__klint_original__)


def test_pandas_table_for_a_missing_csv_makes_the_columns_the_script_names(pandas_patched, tmp_path):
    s, pd = pandas_patched
    df = pd.read_csv(tmp_path / "heart.csv")
    assert len(df) > 0 and len(df.columns) > 0
    val = df.sample(frac=0.2, random_state=1)
    train = df.drop(val.index)
    target = train.pop("target")  # a column the file would have: made on first use
    assert len(target) == len(train) and "target" not in train.columns
    features = df.drop(columns=["id", "target"])
    assert "id" not in features.columns and "target" not in features.columns and len(features) == len(df)
    assert df[["age", "sex"]].shape == (len(df), 2)
    assert set(dict(df)) >= {"age", "sex", "target", "id"}
    assert s.used[0]["name"] == "pandas.read_csv" and s.used[0]["detail"] == "a synthetic table for heart.csv"
    assert s.used[0]["missing"] == [str(tmp_path / "heart.csv")]


def test_pandas_table_follows_the_arguments_and_reads_real_files(pandas_patched, tmp_path):
    s, pd = pandas_patched
    named = pd.read_csv(tmp_path / "x.csv", names=["a", "b", "c"], nrows=10)
    assert list(named.columns) == ["a", "b", "c"] and len(named) == 10
    numbered = pd.read_csv(tmp_path / "sonar.csv", header=None)
    assert numbered[60].shape == (len(numbered),)  # a numbered column the script uses
    real = tmp_path / "real.csv"
    real.write_text("u,v\n1,2\n3,4\n")
    frame = pd.read_csv(real)
    assert frame.to_dict("list") == {"u": [1, 3], "v": [2, 4]}
    with pytest.raises(KeyError):
        frame["target"]  # a real table is never given columns
    assert [u["detail"] for u in s.used] == ["a synthetic table for x.csv", "a synthetic table for sonar.csv"]
    assert s.used[0]["assumed"] == ["10 rows"]


def test_pandas_table_for_a_url_that_does_not_answer(pandas_patched, monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    s, pd = pandas_patched
    df = pd.read_csv("http://127.0.0.1:9/heart.csv")  # the discard port: the connection is refused
    assert df["target"].shape == (len(df),)
    assert s.used[0]["detail"] == "a synthetic table for http://127.0.0.1:9/heart.csv"
    assert s.used[0]["missing"] == []  # not a path: a cached snapshot cannot wait for it


def test_after_import_hook_runs_once_the_module_is_imported(st, tmp_path, monkeypatch):
    (tmp_path / "klint_fake_tables.py").write_text("def read():\n    return 'real'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    finder = st.AfterImport("klint_fake_tables", lambda m: seen.append(m.read()))
    sys.meta_path.insert(0, finder)
    try:
        import klint_fake_tables  # noqa: F401
    finally:
        sys.modules.pop("klint_fake_tables", None)
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
            pytest.fail("the hook stayed on sys.meta_path")
    assert seen == ["real"]


# ------------------------------------------------------------------ the project is only read

@pytest.fixture
def scratch(st, tmp_path, monkeypatch):
    """A Scratch over tmp_path/project, installed in this process and taken out afterwards."""
    import builtins
    import io
    import shutil

    import numpy as np

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "keep.txt").write_text("keep\n")
    monkeypatch.chdir(project)
    saved = {(m, n): getattr(m, n) for m in (os, shutil, np) for n in dir(m) if callable(getattr(m, n, None))}
    saved.update({(builtins, "open"): builtins.open, (io, "open"): io.open})
    meta = list(sys.meta_path)
    sc = st.Scratch(str(tmp_path / "scratch"), [str(project)])
    sc.install()
    try:
        yield sc, project
    finally:
        for (m, n), v in saved.items():
            setattr(m, n, v)
        sys.meta_path[:] = meta


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_writes_into_the_project_go_to_scratch_and_read_back(scratch, tmp_path):
    import shutil

    import numpy as np

    sc, project = scratch
    before = _tree(project)
    os.makedirs("checkpoints", exist_ok=True)
    assert os.path.isdir("checkpoints")
    with open("checkpoints/notes.txt", "w") as f:
        f.write("hello")
    assert open("checkpoints/notes.txt").read() == "hello"
    assert os.path.exists("checkpoints/notes.txt")
    Path("out").mkdir()
    (project / "out" / "log.txt").write_text("x")  # an absolute path inside the project, through pathlib
    assert Path("out/log.txt").read_text() == "x"
    with open("data/keep.txt", "a") as f:  # appending to a project file appends to a copy
        f.write("more\n")
    assert open("data/keep.txt").read() == "keep\nmore\n"
    np.save("arr.npy", np.arange(3))
    assert np.load("arr.npy").tolist() == [0, 1, 2]
    os.rename("arr.npy", "moved.npy")
    assert np.load("moved.npy").tolist() == [0, 1, 2]
    os.remove("data/keep.txt")  # removing the project's own files removes nothing
    shutil.rmtree("data")
    shutil.copy("checkpoints/notes.txt", "copy.txt")
    assert open("copy.txt").read() == "hello"
    outside = tmp_path / "outside.txt"
    outside.write_text("written")  # a path outside the guarded folders is not redirected
    assert _tree(project) == before
    assert outside.read_text() == "written"
    assert (tmp_path / "scratch").is_dir() and any((tmp_path / "scratch").rglob("notes.txt"))


def test_scratch_never_redirects_klint_s_own_files(st, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    own = project / "snapshot.json"
    sc = st.Scratch(str(tmp_path / "scratch"), [str(project)], own=[str(own)])
    assert sc.write(str(own)) == str(own)
    assert sc.write(str(project / "x.h5")) != str(project / "x.h5")
    assert sc.write("https://example.com/x") == "https://example.com/x"

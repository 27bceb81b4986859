"""The capture's stand-ins, in this process: no TensorFlow, no Keras.

The stand-ins module runs inside the capture's interpreter, but its pieces
that do not touch Keras are plain Python and are tested here directly; the
end-to-end behaviour is in tests/test_capture_data.py.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

STANDINS = Path(__file__).resolve().parent.parent / "linter" / "model" / "standins.py"


@pytest.fixture(scope="module")
def st():
    spec = importlib.util.spec_from_file_location("standins_under_test", STANDINS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    finder = st._Finder(st.Standins())
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
    finder = st._Finder(standins)
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

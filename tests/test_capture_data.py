"""The model view on scripts whose data or display packages are not on this machine.

Each script here would stop before its model without stand-ins: a dataset
download, a missing image folder, ``import matplotlib.pyplot`` in an
environment without it. The capture runs under a small wrapper interpreter
(this Python with its own ``KERAS_HOME``, and optionally with some installed
packages hidden as if they were not installed), so the results do not depend
on what this machine has cached or installed. Snapshots are read through
``klint.model.runner.capture`` where the model's shapes are the point, and
findings and warnings through the command line.

This test process never imports TensorFlow: the captures run in subprocesses.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from klint.cli.main import main
from klint.model import runner
from klint.model.runner import CaptureOptions

pytestmark = pytest.mark.tensorflow

CONFIG = '[tool.klint]\nselect = ["KL101", "KL201", "KL301", "KL401", "KL503"]\n'

# Makes the wrapper interpreter treat the packages named in KLINT_TEST_HIDE as not installed.
HIDE = '''
import importlib.machinery
import os

_hidden = {n for n in os.environ.get("KLINT_TEST_HIDE", "").split(",") if n}
_find = importlib.machinery.PathFinder.find_spec


def _find_spec(name, path=None, target=None):
    if name.partition(".")[0] in _hidden:
        return None
    return _find(name, path, target)


importlib.machinery.PathFinder.find_spec = _find_spec
'''


@pytest.fixture(scope="module", autouse=True)
def _one_capture_server():
    """Files are checked in this process, so that every run of this module uses one warm capture
    server (a forked worker would start its own, importing TensorFlow each time); the server is
    stopped at the end. The forked workers' path with the model view has its own test."""
    import klint.cli.workers

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(klint.cli.workers, "ISOLATE", False)
        yield
    runner.shutdown()


@pytest.fixture(scope="module")
def python(tmp_path_factory):
    """An interpreter that runs this Python with an empty Keras cache and matplotlib, tqdm, seaborn,
    imageio and tensorflow_datasets hidden."""
    root = tmp_path_factory.mktemp("interpreter")
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(HIDE, encoding="utf-8")
    (root / "keras_home").mkdir()
    wrapper = root / "python"
    wrapper.write_text("#!/bin/sh\n"
                       f"export KERAS_HOME='{root / 'keras_home'}'\n"
                       f"export PYTHONPATH='{root / 'site'}'\n"
                       "export KLINT_TEST_HIDE=matplotlib,tqdm,seaborn,imageio,tensorflow_datasets\n"
                       f"exec '{sys.executable}' \"$@\"\n", encoding="utf-8")
    wrapper.chmod(0o755)
    return wrapper


def project(root: Path, files: dict, python: Path, config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(config + f'python = "{python}"\n', encoding="utf-8")
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def klint(cwd: Path, *argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main([str(a) for a in argv])
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 2
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


def klint_json(cwd: Path, *argv) -> tuple[int, list, str]:
    rc, out, err = klint(cwd, "check", "--output-format", "json", "--graph", "--no-cache", *argv)
    return rc, json.loads(out), err


def snapshot(root: Path, name: str, python: Path, data: str = "synthetic") -> dict:
    script = root / name
    res = runner.capture(script, script.read_bytes(), CaptureOptions(python=str(python), timeout=120, root=root,
                                                                      data=data))
    assert res.snapshot is not None, res.warning
    return res.snapshot


def layers_of(snap: dict) -> list:
    return snap["models"][0]["layers"]


def first(snap: dict, cls: str) -> dict:
    return next(layer for layer in layers_of(snap) if layer["class"] == cls)


def last(snap: dict, cls: str) -> dict:
    return [layer for layer in layers_of(snap) if layer["class"] == cls][-1]


def model_findings(found: list, code: str | None = None) -> list:
    return [f for f in found if f["view"] == "model" and (code is None or f["code"] == code)]


# ------------------------------------------------------------------ keras.datasets

MNIST = '''
import keras
from keras import layers

Dense = getattr(layers, "Dense")  # hidden from the source view: a finding on it is the model view's
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
model = keras.Sequential([
    keras.Input(x_train.shape[1:]),
    Dense(256, activation="relu"),
    Dense(128, activation="relu"),
    Dense(int(y_train.max()) + 1, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, batch_size=128, epochs=2)
'''

IMDB = '''
import keras

(x_train, y_train), _ = keras.datasets.imdb.load_data(num_words=5000, maxlen=120)
assert all(max(seq) < 5000 and len(seq) <= 120 for seq in x_train[:200])
x_train = keras.utils.pad_sequences(x_train, maxlen=120)
model = keras.Sequential([keras.Input((x_train.shape[1],)), keras.layers.Embedding(5000, 16),
                          keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x_train, y_train, batch_size=32)
'''

CIFAR = '''
import keras

(x_train, y_train), _ = keras.datasets.cifar100.load_data(label_mode="coarse")
inputs = keras.Input(x_train.shape[1:])
outputs = keras.layers.Dense(int(y_train.max()) + 1, activation="softmax")(keras.layers.Flatten()(inputs))
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, batch_size=64)
'''


def test_mnist_is_synthetic_with_its_real_shapes(tmp_path, python):
    root = project(tmp_path, {"mnist.py": MNIST}, python)
    snap = snapshot(root, "mnist.py", python)
    assert snap["status"] == "trained"
    assert [u["detail"] for u in snap["standins"]] == ["synthetic MNIST data"]
    assert first(snap, "Dense")["config"]["units"] == 256
    assert last(snap, "Dense")["config"]["units"] == 10  # labels 0..9, as MNIST's
    assert snap["models"][0]["fit"]["batch_size"] == 128


def test_mnist_findings_and_the_warning_say_what_the_model_was_built_with(tmp_path, python):
    root = project(tmp_path, {"mnist.py": MNIST}, python)
    rc, found, err = klint_json(root, "mnist.py")
    assert "built with synthetic MNIST data" in err
    assert "no model was built" not in err
    assert {f["code"] for f in model_findings(found)} == {"KL101"}
    # nothing klint chose shapes this model: the findings carry no caveat
    assert not any("assumed" in f["message"] for f in found)
    assert sorted(os.listdir(root)) == ["mnist.py", "pyproject.toml"]  # nothing written into the project


def test_imdb_sequences_follow_the_arguments(tmp_path, python):
    root = project(tmp_path, {"imdb.py": IMDB}, python)
    snap = snapshot(root, "imdb.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert [u["detail"] for u in snap["standins"]] == ["synthetic IMDB data"]


def test_cifar100_coarse_labels(tmp_path, python):
    root = project(tmp_path, {"cifar.py": CIFAR}, python)
    snap = snapshot(root, "cifar.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert first(snap, "InputLayer")["config"]["batch_shape"] == [None, 32, 32, 3]
    assert last(snap, "Dense")["config"]["units"] == 20


# ------------------------------------------------------------------ get_file and data that exists

CACHED_FILE = '''
import numpy as np
import keras

path = keras.utils.get_file("classes.npz", origin="https://example.invalid/classes.npz", cache_dir=CACHE)
with np.load(path) as f:
    x, y = f["x"], f["y"]
model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Dense(int(y.max()) + 1, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, batch_size=32)
'''


def _write_npz(path: Path, classes: int) -> None:
    subprocess.run([sys.executable, "-c", "import numpy as np, sys; "
                    f"np.savez(sys.argv[1], x=np.zeros((8, 5), 'float32'), y=np.arange(8) % {classes})", str(path)],
                   check=True)


def test_get_file_of_a_cached_file_reads_it(tmp_path, python):
    cache = tmp_path / "cache"
    (cache / "datasets").mkdir(parents=True)
    _write_npz(cache / "datasets" / "classes.npz", 7)
    root = project(tmp_path / "p", {"cached.py": CACHED_FILE.replace("CACHE", repr(str(cache)))}, python)
    snap = snapshot(root, "cached.py", python)
    assert snap["standins"] == []
    assert last(snap, "Dense")["config"]["units"] == 7  # the real file's classes


def test_get_file_of_a_missing_file_downloads_nothing(tmp_path, python):
    cache = tmp_path / "cache"
    root = project(tmp_path / "p", {"cached.py": CACHED_FILE.replace("CACHE", repr(str(cache)))}, python)
    snap = snapshot(root, "cached.py", python)
    # the path is returned, nothing is downloaded, and reading the file is the script's own error
    assert [(u["kind"], u["detail"]) for u in snap["standins"]] == [("download", "classes.npz")]
    assert snap["error"]["type"] == "FileNotFoundError"
    assert not (cache / "datasets" / "classes.npz").exists()


# ------------------------------------------------------------------ folders of images and texts

FLOWERS = '''
import pathlib
import keras

archive = keras.utils.get_file("flower_photos.tgz", origin="https://example.invalid/flower_photos.tgz", extract=True)
data_dir = pathlib.Path(archive) / "flower_photos"
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    data_dir, validation_split=0.2, subset="both", seed=1, image_size=(64, 48), batch_size=8,
    label_mode="categorical")
for images, labels in train_ds.take(1):
    shape = tuple(images.shape[1:])
inputs = keras.Input(shape)
x = keras.layers.Conv2D(8, 3, activation="relu", kernel_initializer="he_normal")(inputs)
x = keras.layers.GlobalAveragePooling2D()(x)
head = getattr(keras.layers, "Dense")(len(train_ds.class_names), activation="sigmoid")  # the model view's
model = keras.Model(inputs, head(x))
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(train_ds, validation_data=val_ds, epochs=3)
'''

TEXTS = '''
import keras

train_ds = keras.utils.text_dataset_from_directory("reviews", batch_size=2)
vectorize = keras.layers.TextVectorization(max_tokens=100, output_sequence_length=10)
vectorize.adapt(train_ds.map(lambda text, label: text))
model = keras.Sequential([keras.Input((1,), dtype="string"), vectorize, keras.layers.Embedding(100, 8),
                          keras.layers.GlobalAveragePooling1D(),
                          keras.layers.Dense(len(train_ds.class_names), activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_ds)
'''


def test_missing_image_folder_gives_a_dataset_as_the_arguments_say(tmp_path, python):
    root = project(tmp_path, {"flowers.py": FLOWERS}, python)
    snap = snapshot(root, "flowers.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert first(snap, "InputLayer")["config"]["batch_shape"] == [None, 64, 48, 3]
    assert last(snap, "Dense")["config"]["units"] == 2
    assert snap["models"][0]["fit"]["data_batch"] == 8
    kinds = {u["kind"]: u for u in snap["standins"]}
    assert kinds["data"]["assumed"] == ["2 classes"]
    assert kinds["download"]["detail"] == "flower_photos.tgz"


def test_a_finding_on_a_shape_klint_chose_says_so(tmp_path, python):
    root = project(tmp_path, {"flowers.py": FLOWERS}, python)
    rc, found, err = klint_json(root, "flowers.py")
    assert "synthetic images for the missing folder flower_photos (klint assumed 2 classes)" in err
    assert "not downloaded: flower_photos.tgz" in err
    kl503 = model_findings(found, "KL503")  # sigmoid over 2 one-hot classes with categorical_crossentropy
    assert kl503 and all("klint assumed 2 classes" in f["message"] for f in kl503)


def test_existing_text_folder_is_read_not_replaced(tmp_path, python):
    files = {"texts.py": TEXTS}
    for label in ("bad", "good", "neutral"):
        for i in range(2):
            files[f"reviews/{label}/{i}.txt"] = f"a {label} film number {i}"
    root = project(tmp_path, files, python)
    snap = snapshot(root, "texts.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert snap["standins"] == []
    assert last(snap, "Dense")["config"]["units"] == 3


def test_graph_data_real_turns_the_stand_ins_off(tmp_path, python):
    root = project(tmp_path, {"flowers.py": FLOWERS}, python)
    rc, found, err = klint_json(root, "--graph-data", "real", "flowers.py")
    assert "no model was built" in err and "synthetic" not in err
    assert model_findings(found) == []
    root2 = project(tmp_path / "cfg", {"flowers.py": FLOWERS}, python, config=CONFIG + 'graph-data = "real"\n')
    rc, found, err = klint_json(root2, "flowers.py")
    assert "no model was built" in err


def test_graph_data_config_value_is_checked(tmp_path, python):
    root = project(tmp_path, {"flowers.py": FLOWERS}, python, config=CONFIG + 'graph-data = "fake"\n')
    rc, out, err = klint(root, "check", "--graph", "flowers.py")
    assert rc == 2 and "graph-data" in err and "Traceback" not in err


# ------------------------------------------------------------------ tables read from missing files

HEART = '''
import numpy as np
import pandas as pd
import keras

df = pd.read_csv("data/heart.csv")
val = df.sample(frac=0.2, random_state=1)
train = df.drop(val.index)
y = train.pop("target").to_numpy()
x = train.drop(columns=["thal"]).to_numpy("float32")
extra = np.loadtxt("data/extra.txt", delimiter=",")
inputs = keras.Input((x.shape[1],))
hidden = keras.layers.Dense(16, activation="relu")(inputs)
model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x, y, batch_size=16)
'''


def test_missing_csv_read_with_pandas_and_numpy_gives_a_table(tmp_path, python):
    root = project(tmp_path, {"heart.py": HEART}, python)
    snap = snapshot(root, "heart.py", python)
    assert snap["status"] == "trained", snap["error"]
    said = {u["name"]: u for u in snap["standins"]}
    assert said["pandas.read_csv"]["detail"] == "a synthetic table for heart.csv"
    assert said["pandas.read_csv"]["missing"] == [str(root / "data" / "heart.csv")]
    assert said["numpy.loadtxt"]["detail"] == "a synthetic table for extra.txt"
    # the table's own columns, less the two the script named and removed
    assert first(snap, "InputLayer")["config"]["batch_shape"] == [None, 8]
    rc, found, err = klint_json(root, "heart.py")
    assert "built with a synthetic table for heart.csv, a synthetic table for extra.txt" in err
    assert "klint assumed 2048 rows" in err
    assert sorted(os.listdir(root)) == ["heart.py", "pyproject.toml"]


def test_an_existing_csv_is_read_as_it_is(tmp_path, python):
    root = project(tmp_path, {"heart.py": HEART}, python)
    (root / "data").mkdir()
    rows = "\n".join(f"{i % 3},{i % 5},{i % 2},{i % 4}" for i in range(40))
    (root / "data" / "heart.csv").write_text("age,thal,chol,target\n" + rows + "\n")
    (root / "data" / "extra.txt").write_text("1,2\n3,4\n")
    snap = snapshot(root, "heart.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert snap["standins"] == []
    assert first(snap, "InputLayer")["config"]["batch_shape"] == [None, 2]  # age and chol


# ------------------------------------------------------------------ the project is only read

WRITES = '''
import os
import numpy as np
import keras

os.makedirs("checkpoints", exist_ok=True)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
model.save_weights("checkpoints/initial.weights.h5")
model.load_weights("checkpoints/initial.weights.h5")
model.save("model.keras")
model.export("exported", verbose=False)
with open("notes.txt", "w") as f:
    f.write("started")
os.remove("data.csv")
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((16, 4)), np.zeros((16, 1)), batch_size=8)
'''


def test_what_a_script_writes_before_training_stays_out_of_the_project(tmp_path, python):
    root = project(tmp_path, {"writes.py": WRITES, "data.csv": "a,b\n1,2\n"}, python)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    snap = snapshot(root, "writes.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert (root / "data.csv").read_text() == "a,b\n1,2\n"


# ------------------------------------------------------------------ packages that are not installed

DISPLAY = '''
import imageio
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib import cm
from tqdm.auto import tqdm, trange

import keras

x = np.random.rand(64, 10).astype("float32")
y = (x.sum(axis=1) > 5).astype("float32")
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
left.plot(x[:, 0]); right.hist(y, bins=cm.viridis.N // 64)
fig, axes = plt.subplots(2, 3)
for ax in axes.flat:
    ax.imshow(x[:3], cmap="gray"); ax.axis("off")
sns.heatmap(np.corrcoef(x.T), annot=True)
plt.savefig("before.png")
imageio.mimsave("frames.gif", [x[:2]] * 3)
steps = 0
for i in tqdm(range(5), desc="warm-up"):
    steps += 1
for i in trange(3):
    steps += 1
assert steps == 8
with tqdm(total=3) as bar:
    bar.update(1)
model = keras.Sequential([keras.Input((10,)), getattr(keras.layers, "Dense")(32, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x, y, batch_size=16)
'''

MODEL_DEPENDENCY = '''
import keras
import keras_hub

backbone = keras_hub.models.BertBackbone.from_preset("bert_tiny_en_uncased")
'''


def test_missing_display_packages_are_stubbed(tmp_path, python):
    root = project(tmp_path, {"display.py": DISPLAY}, python)
    rc, found, err = klint_json(root, "display.py")
    assert "no model was built" not in err and "raised" not in err, err
    assert "imageio, matplotlib, seaborn, tqdm stubbed" in err
    assert {f["code"] for f in model_findings(found)} == {"KL101"}
    assert sorted(os.listdir(root)) == ["display.py", "pyproject.toml"]  # no picture was written


def test_a_missing_model_dependency_is_reported_by_name(tmp_path, python):
    root = project(tmp_path, {"dep.py": MODEL_DEPENDENCY}, python)
    rc, found, err = klint_json(root, "dep.py")
    assert "No module named 'keras_hub'" in err and "no model was built" in err


# ------------------------------------------------------------------ tensorflow_datasets

TFDS = '''
import tensorflow as tf
import tensorflow_datasets as tfds
import keras

(train, val), info = tfds.load("tf_flowers", split=["train[:80%]", "train[80%:]"], as_supervised=True,
                               with_info=True)
classes = info.features["label"].num_classes
assert info.splits["train"].num_examples == 3670
train = train.map(lambda image, label: (tf.image.resize(image, (96, 96)), label)).batch(4)
model = keras.Sequential([keras.Input((96, 96, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.GlobalAveragePooling2D(),
                          keras.layers.Dense(classes, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train, epochs=1)
'''


def test_tensorflow_datasets_stand_in(tmp_path, python):
    root = project(tmp_path, {"tfds.py": TFDS}, python)
    snap = snapshot(root, "tfds.py", python)
    assert snap["status"] == "trained", snap["error"]
    assert last(snap, "Dense")["config"]["units"] == 5
    assert snap["models"][0]["fit"]["data_batch"] == 4
    details = [u["detail"] for u in snap["standins"]]
    assert "synthetic tf_flowers data" in details
    rc, found, err = klint_json(root, "tfds.py")
    assert "built with synthetic tf_flowers data (klint assumed 128x128 images)" in err
    assert "tensorflow_datasets stubbed" in err


# ------------------------------------------------------------------ failures

BUILD_THEN_RAISE = '''
import keras
from keras import layers


def build_model():
    return keras.Sequential([keras.Input((4,)), getattr(layers, "Dense")(16, activation="relu"),
                             layers.Dense(1)])


rows = open("measurements.csv").read().splitlines()
model = build_model()
model.compile(optimizer="adam", loss="mse")
'''

EXIT_3 = '''
import os
import keras

os._exit(3)
'''

TF_FUNCTION = '''
import keras
import tensorflow as tf


@tf.function
def prepare(x):
    if x.shape[-1] != 3:
        raise ValueError("expected 3 channels in the images")
    return x


prepare(tf.zeros((2, 4)))
'''


def test_a_script_that_raises_before_building_gets_its_build_model_called(tmp_path, python):
    root = project(tmp_path, {"early.py": BUILD_THEN_RAISE}, python)
    rc, found, err = klint_json(root, "early.py")
    assert "FileNotFoundError" in err and "no model was built" not in err
    assert {f["code"] for f in model_findings(found)} == {"KL101"}


def test_a_failed_capture_is_not_cached(tmp_path, python):
    root = project(tmp_path, {"early.py": BUILD_THEN_RAISE.replace("model = build_model()\n", "")
                              .replace("model.compile(optimizer=\"adam\", loss=\"mse\")\n", "")
                              .replace("def build_model", "def make")}, python)
    rc, out, err = klint(root, "check", "--graph", "early.py")
    assert "FileNotFoundError" in err
    (root / "measurements.csv").write_text("1,2\n", encoding="utf-8")  # the environment changes
    rc, out, err = klint(root, "check", "--graph", "early.py")
    assert "FileNotFoundError" not in err and "built no Keras model" in err


def test_a_synthetic_capture_is_cached_until_the_data_appears(tmp_path, python):
    script = TEXTS.replace('"reviews"', '"data/reviews"')
    root = project(tmp_path, {"texts.py": script}, python)
    rc, out, err = klint(root, "check", "--graph", "texts.py")
    assert "missing folder reviews" in err
    rc, out, err = klint(root, "check", "--graph", "texts.py")
    assert "missing folder reviews" in err  # from the cache: the folder is still missing
    for label in ("a", "b", "c", "d"):
        (root / "data" / "reviews" / label).mkdir(parents=True)
        (root / "data" / "reviews" / label / "1.txt").write_text("some words", encoding="utf-8")
    rc, out, err = klint(root, "check", "--graph", "texts.py")
    assert "missing folder" not in err and "warning" not in err, err


def test_exit_code_of_os_exit_and_the_message_of_a_tf_function(tmp_path, python):
    root = project(tmp_path, {"exit3.py": EXIT_3, "traced.py": TF_FUNCTION}, python)
    rc, found, err = klint_json(root, "exit3.py", "traced.py")
    assert "exit3.py:1:1: warning: model view: the script ended its process with exit code 3" in err
    assert "raised ValueError: expected 3 channels in the images" in err


# ------------------------------------------------------------------ one model, two scripts

MODEL_MODULE = '''
import keras
from keras import layers


def build_model():
    return keras.Sequential([keras.Input((8,)), getattr(layers, "Dense")(32, activation="relu"),
                             getattr(layers, "Dense")(32, activation="relu"), layers.Dense(1)])
'''

TRAIN = '''
import keras
import numpy as np

from netdef import build_model

model = build_model()
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((64, 8)), np.zeros((64, 1)), batch_size=32)
'''


@pytest.mark.parametrize("order", [("netdef.py", "train.py"), ("train.py", "netdef.py")])
def test_a_model_captured_from_two_scripts_is_reported_once(tmp_path, python, order):
    root = project(tmp_path, {"netdef.py": MODEL_MODULE, "train.py": TRAIN}, python)
    rc, found, err = klint_json(root, *order)
    places = [(f["filename"], f["location"]["row"], f["location"]["column"], f["code"]) for f in found]
    assert len(places) == len(set(places)) and places, places
    assert {p[0] for p in places} == {"netdef.py"}


# ------------------------------------------------------------------ stopping klint stops the script

HANG = '''
import os
import subprocess
import time

import keras

child = subprocess.Popen(["sleep", "300"])
with open(PIDS, "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
time.sleep(300)
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_klint_stops_the_script_and_its_processes(tmp_path, python, how):
    pids = tmp_path / "pids"
    root = project(tmp_path / "p", {"hang.py": HANG.replace("PIDS", repr(str(pids)))}, python)
    proc = subprocess.Popen([sys.executable, "-m", "klint", "check", "--graph", "--no-cache", "--timeout", "200",
                             "hang.py"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.2)
        script, child = map(int, pids.read_text().split())
        assert _alive(script) and _alive(child)
        proc.send_signal(how)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while (_alive(script) or _alive(child)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(script) and not _alive(child)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

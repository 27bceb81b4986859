"""Stand-ins for what a script asks for but cannot get: runs INSIDE the capture's interpreter.

A script that downloads its data or plots its results does not need either to
build its model. In the default data mode (``graph-data = "synthetic"``) the
capture gives it:

* **synthetic data of the right structure** where the real data is not on
  this machine: ``keras.datasets.*.load_data()`` (each dataset's shapes and
  dtypes), ``keras.utils.get_file`` of a file that is not in the cache (the
  path it would have, and nothing is downloaded),
  ``image_dataset_from_directory``/``text_dataset_from_directory`` over a
  missing folder (image size, batch size and label mode from the call), and
  ``tensorflow_datasets.load``/``builder`` (the features of the datasets
  listed below) when that package is not installed, and a table read from a
  CSV (or Excel, Parquet, JSON) file that is missing or a URL that does not
  answer, with ``pandas.read_*`` or ``numpy.loadtxt``/``genfromtxt``: its
  columns are the ones the call names, or a few numeric ones, and every
  column the script asks for by name is made when it asks;
* **inert stand-ins** for packages that cannot change the model (plotting,
  progress bars, image display) when they are not installed: every use of
  them is accepted and does nothing; ``tqdm(iterable)`` still yields the
  iterable.

This module holds the record of stand-ins, Keras's datasets, downloads and
directory datasets; its siblings hold the rest: ``tables`` (pandas and numpy
readers), ``tfds`` (tensorflow_datasets), ``inert`` (display packages) and
``scratch`` (whatever the data mode, the project folder is only read: what the
script writes into it goes to a scratch folder). The capture loads them as a
private package, so no module of the user's project can shadow them.

Data that exists is never replaced: a cached dataset or an existing folder is
read as usual. Every stand-in is recorded (``Standins.used``), so that the
snapshot and klint's warning say what the model was built with, and values
klint had to choose (a number of classes, an image size) are listed as
``assumed``. Packages a model does depend on (keras_hub, keras_cv,
transformers...) are never stood in for: they are reported missing.
"""
from __future__ import annotations

import importlib.abc
import os
import sys
import types

#: Keras's datasets: name -> (title, train count, test count, x shape, x dtype, y shape, classes, y dtype)
KERAS_DATASETS = {
    "mnist": ("MNIST", 60000, 10000, (28, 28), "uint8", (), 10, "uint8"),
    "fashion_mnist": ("Fashion-MNIST", 60000, 10000, (28, 28), "uint8", (), 10, "uint8"),
    "cifar10": ("CIFAR-10", 50000, 10000, (32, 32, 3), "uint8", (1,), 10, "uint8"),
    "cifar100": ("CIFAR-100", 50000, 10000, (32, 32, 3), "uint8", (1,), 100, "int64"),
    "boston_housing": ("Boston housing", 404, 102, (13,), "float64", (), None, "float64"),
    "california_housing": ("California housing", 16512, 4128, (8,), "float64", (), None, "float32"),
    "imdb": ("IMDB", 25000, 25000, None, "object", (), 2, "int64"),
    "reuters": ("Reuters", 8982, 2246, None, "object", (), 46, "int64"),
}

#: Batches in a synthetic directory dataset.
SYNTHETIC_BATCHES = 4

WORDS = ("the model learns a good representation of data when training is stable and the rate "
          "is right for each layer").split()


class DataUnavailable(Exception):
    """The data a script asks for is not on this machine, and the capture does not download."""

    def __init__(self, target: str):
        super().__init__(f"not on this machine: {target}")
        self.target = target


class Standins:
    """What this capture stood in for, and the patches that do it."""

    def __init__(self):
        self.used: list[dict] = []
        self._seen: set = set()
        self._loading = 0  # > 0 while a Keras dataset loader runs: its get_file must raise, not stand in
        self._missing: list = []  # the files a dataset loader's get_file did not find
        self.rng = None

    # ------------------------------------------------------------ record

    def record(self, kind: str, name: str, detail: str, assumed: list | None = None,
               missing: list | None = None) -> None:
        """One stand-in: ``missing`` lists the absolute paths whose absence it stands for (a cached
        snapshot holds only while they are still missing)."""
        key = (kind, name, detail)
        if key in self._seen:
            return
        self._seen.add(key)
        self.used.append({"kind": kind, "name": name, "detail": detail, "assumed": list(assumed or []),
                          "missing": [os.path.abspath(p) for p in missing or []]})

    def random(self):
        if self.rng is None:
            import numpy as np

            self.rng = np.random.default_rng(0)
        return self.rng

    # ----------------------------------------------------------- install

    def install_packages(self) -> None:
        """Stand-ins for display packages (and data packages) that are not installed."""
        from .inert import Finder

        sys.meta_path.append(Finder(self))

    def install_data(self) -> None:
        """Synthetic data where Keras's data functions ask for data that is not here."""
        try:
            from keras.src.utils import file_utils
        except ImportError:  # pragma: no cover - other Keras layouts
            return
        from .tables import Tables

        Tables(self).install()
        file_utils.urlretrieve = self._no_download
        in_place(file_utils.get_file, self._get_file)
        for name in KERAS_DATASETS:
            try:
                mod = __import__(f"keras.src.datasets.{name}", fromlist=["load_data"])
            except ImportError:  # pragma: no cover
                continue
            in_place(mod.load_data, lambda orig, *a, __n=name, **k: self._load_data(__n, orig, *a, **k))
            if hasattr(mod, "get_word_index"):
                in_place(mod.get_word_index, lambda orig, *a, __n=name, **k: self._word_index(__n, orig, *a, **k))
        try:
            from keras.src.utils import image_dataset_utils, text_dataset_utils
        except ImportError:  # pragma: no cover
            return
        in_place(image_dataset_utils.image_dataset_from_directory, self._image_dataset)
        in_place(text_dataset_utils.text_dataset_from_directory, self._text_dataset)
        try:
            from keras.src.utils import audio_dataset_utils
        except ImportError:  # pragma: no cover
            return
        in_place(audio_dataset_utils.audio_dataset_from_directory, self._audio_dataset)

    # ----------------------------------------------------------- get_file

    @staticmethod
    def _no_download(url, filename, reporthook=None, data=None):
        raise DataUnavailable(str(url))

    def _get_file(self, orig, fname=None, origin=None, *args, **kwargs):
        try:
            return orig(fname, origin, *args, **kwargs)
        except DataUnavailable:
            path = _would_be_path(fname, origin, *args, **kwargs)
            if self._loading:
                self._missing.append(path)
                raise
        import urllib.parse

        name = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin or "").path)
        self.record("download", "keras.utils.get_file", name or str(origin), missing=[path])
        return path

    # ----------------------------------------------------- keras.datasets

    def _real_or(self, orig, args: tuple, kwargs: dict, what: str, detail: str, synthetic):
        """A Keras dataset loader's own result where its files are here, else ``synthetic()``, recorded."""
        self._loading += 1
        try:
            return orig(*args, **kwargs)
        except DataUnavailable:
            pass
        finally:
            self._loading -= 1
        self.record("data", what, detail, missing=self._missing)
        self._missing = []
        return synthetic()

    def _load_data(self, name, orig, *args, **kwargs):
        return self._real_or(orig, args, kwargs, f"keras.datasets.{name}", f"synthetic {KERAS_DATASETS[name][0]} data",
                             lambda: self.keras_dataset(name, orig, args, kwargs))

    def keras_dataset(self, name: str, orig, args: tuple, kwargs: dict):
        import inspect

        import numpy as np

        try:
            bound = inspect.signature(_original(orig)).bind_partial(*args, **kwargs)
            given = dict(bound.arguments)
        except (TypeError, ValueError):
            given = dict(kwargs)
        title, n_train, n_test, x_shape, x_dtype, y_shape, classes, y_dtype = KERAS_DATASETS[name]
        rng = self.random()
        test_split = given.get("test_split")
        if test_split is not None and name in ("boston_housing", "california_housing", "reuters"):
            total = n_train + n_test
            n_train = int(total * (1 - float(test_split)))
            n_test = total - n_train
        if name == "california_housing" and given.get("version") == "small":
            n_train, n_test = 480, 120
        if name == "cifar100" and given.get("label_mode") == "coarse":
            classes = 20

        def split(n):
            if x_shape is None:  # word-index sequences
                words = int(given.get("num_words") or 10000)
                maxlen = given.get("maxlen")
                hi = min(int(maxlen), 400) if maxlen else 400
                lo = min(10, hi)
                start, index_from = int(given.get("start_char", 1) or 1), int(given.get("index_from", 3) or 3)
                lengths = rng.integers(lo, hi + 1, size=n)
                flat = rng.integers(index_from + 1, max(words, index_from + 2), size=int(lengths.sum()))
                seqs, at = [], 0
                for length in lengths.tolist():
                    seqs.append([start] + flat[at:at + length - 1].tolist())
                    at += length - 1
                x = np.empty(n, dtype="object")
                x[:] = seqs
            elif x_dtype == "uint8":
                x = rng.integers(0, 256, size=(n, *x_shape), dtype=np.uint8)
            else:
                x = rng.standard_normal((n, *x_shape)).astype(x_dtype)
            if classes is None:
                y = rng.standard_normal((n, *y_shape)).astype(y_dtype)
            else:
                y = rng.integers(0, classes, size=(n, *y_shape)).astype(y_dtype)
            return x, y

        return split(n_train), split(n_test)

    def _word_index(self, name, orig, *args, **kwargs):
        return self._real_or(orig, args, kwargs, f"keras.datasets.{name}.get_word_index", "a synthetic word index",
                             lambda: {f"word{i}": i for i in range(1, 10001)})

    # ------------------------------------------------ directory datasets

    def _image_dataset(self, orig, directory, *args, **kwargs):
        if _exists(directory):
            return orig(directory, *args, **kwargs)
        import numpy as np

        a = _arguments(orig, (directory, *args), kwargs)
        size = tuple(int(d) for d in (a.get("image_size") or (256, 256)))
        channels = {"grayscale": 1, "rgba": 4}.get(a.get("color_mode"), 3)
        rng = self.random()

        def images(n):
            return rng.uniform(0, 255, size=(n, *size, channels)).astype(np.float32)

        return self._directory_dataset(a, directory, "images", images)

    def _text_dataset(self, orig, directory, *args, **kwargs):
        if _exists(directory):
            return orig(directory, *args, **kwargs)
        a = _arguments(orig, (directory, *args), kwargs)
        rng = self.random()

        def texts(n):
            import numpy as np

            return np.array([" ".join(rng.choice(WORDS, size=int(rng.integers(5, 40)))) for _ in range(n)])

        return self._directory_dataset(a, directory, "texts", texts)

    def _audio_dataset(self, orig, directory, *args, **kwargs):
        if _exists(directory):
            return orig(directory, *args, **kwargs)
        import numpy as np

        a = _arguments(orig, (directory, *args), kwargs)
        length = int(a.get("output_sequence_length") or 16000)
        rng = self.random()

        def audio(n):
            return rng.uniform(-1, 1, size=(n, length, 1)).astype(np.float32)

        return self._directory_dataset(a, directory, "audio clips", audio)

    def _directory_dataset(self, a: dict, directory, what: str, make):
        """A tf.data dataset as the directory loader would give: batched, labelled per label mode."""
        import numpy as np
        import tensorflow as tf

        assumed = []
        names = a.get("class_names")
        label_mode = a.get("label_mode", "int")
        labels = a.get("labels", "inferred")
        if labels is None:
            label_mode = None
        if names:
            names = list(names)
        elif isinstance(labels, (list, tuple)) and labels:
            names = [f"class_{i}" for i in range(int(max(labels)) + 1)]
        else:
            names = ["class_0", "class_1"]
            if label_mode is not None:
                assumed.append("2 classes")
        bs = a.get("batch_size", 32)
        n = (bs or 32) * SYNTHETIC_BATCHES
        rng = self.random()

        def one():
            x = make(n)
            k = len(names)
            idx = rng.integers(0, k, size=n)
            if label_mode == "categorical":
                y = np.eye(k, dtype=np.float32)[idx]
            elif label_mode == "binary":
                y = idx.reshape(n, 1).astype(np.float32)
            elif label_mode is None:
                y = None
            else:
                y = idx.astype(np.int32)
            ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
            if bs is not None:
                ds = ds.batch(int(bs))
            ds.class_names = list(names)
            ds.file_paths = [os.path.join(os.fspath(directory), f"{i}") for i in range(n)]
            return ds

        folder = os.fspath(directory)
        self.record("data", folder, f"synthetic {what} for the missing folder "
                    f"{os.path.basename(os.path.normpath(folder))}", assumed, missing=[folder])
        if a.get("subset") == "both":
            return one(), one()
        return one()

    # ------------------------------------------------- tensorflow_datasets

    def tfds_module(self) -> types.ModuleType:
        from .tfds import tfds_standin

        return tfds_standin(self)


# ---------------------------------------------------------------- helpers

def in_place(fn, replacement) -> None:
    """Make every reference to the function ``fn`` call ``replacement(original, *args, **kwargs)``.

    Keras exports one function object under several names (``keras.utils``,
    ``tf.keras.utils``, ``keras.preprocessing``...): changing the object's
    code reaches them all, and modules imported later too.
    """
    if not isinstance(fn, types.FunctionType) or fn.__closure__ or getattr(fn, "__klint_original__", None):
        return
    original = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    original.__kwdefaults__ = fn.__kwdefaults__
    original.__doc__ = fn.__doc__
    key = f"__klint_standin_{fn.__name__}_{id(fn)}"
    fn.__globals__[key] = (replacement, original)
    ns: dict = {}
    exec(compile(f"def {fn.__name__}(*args, **kwargs):\n    r, o = {key}\n    return r(o, *args, **kwargs)\n",
                 fn.__code__.co_filename, "exec"), fn.__globals__, ns)
    fn.__code__ = ns[fn.__name__].__code__
    fn.__defaults__ = None
    fn.__kwdefaults__ = None
    fn.__klint_original__ = original


def _wrap(fn, replacement):
    """A function that calls ``replacement(fn, *args, **kwargs)``: for module attributes (numpy's and
    pandas's readers) that scripts reach through their module."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return replacement(fn, *args, **kwargs)

    wrapper.__klint_original__ = fn
    return wrapper


class AfterImport(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: runs ``hook(module)`` once the module ``name`` has been imported by
    the finders that would import it anyway."""

    def __init__(self, name: str, hook):
        self.name, self.hook = name, hook

    def find_spec(self, name, path=None, target=None):
        if name != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module") or getattr(loader, "__klint_standin__", False):
            return spec
        exec_module, hook = loader.exec_module, self.hook

        def exec_then_hook(module):
            exec_module(module)
            try:
                hook(module)
            finally:
                if self in sys.meta_path:
                    sys.meta_path.remove(self)

        loader.exec_module = exec_then_hook
        return spec


def _original(fn):
    return getattr(fn, "__klint_original__", fn)


def _arguments(fn, args: tuple, kwargs: dict) -> dict:
    """The call's arguments by name, defaults included."""
    import inspect

    try:
        bound = inspect.signature(_original(fn)).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return dict(kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _exists(path) -> bool:
    try:
        return os.path.exists(os.fspath(path))
    except TypeError:
        return True  # not a path: the loader's own message


def _would_be_path(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
                   hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None,
                   force_download=False, **_):
    """Where ``keras.utils.get_file`` would have put the file (the extraction folder for archives)."""
    import urllib.parse

    base = os.path.expanduser(cache_dir) if cache_dir else os.path.join(
        os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras"))
    datadir = os.path.join(base, cache_subdir)
    name = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin or "").path)
    if extract or untar:
        if fname and "." in name:
            return os.path.join(datadir, f"{name[:name.find('.')]}_extracted")
        return os.path.join(datadir, name)
    return os.path.join(datadir, name)

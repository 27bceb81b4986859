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

Whatever the data mode, the project folder is only read: what the script
writes into it goes to a scratch folder (``Scratch``, at the end).

Data that exists is never replaced: a cached dataset or an existing folder is
read as usual. Every stand-in is recorded (``Standins.used``), so that the
snapshot and klint's warning say what the model was built with, and values
klint had to choose (a number of classes, an image size) are listed as
``assumed``. Packages a model does depend on (keras_hub, keras_cv,
transformers...) are never stood in for: they are reported missing.
"""
from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import io
import os
import shutil
import sys
import types

#: Packages that only display, plot or report progress: stood in for when not installed.
DISPLAY_PACKAGES = frozenset((
    "matplotlib", "mpl_toolkits", "seaborn", "plotly", "tqdm", "imageio", "IPython", "PIL", "pydot",
    "graphviz", "termcolor", "colorama", "tabulate", "wandb",
))

#: Packages that provide data, stood in for by synthetic data when not installed.
DATA_PACKAGES = frozenset(("tensorflow_datasets",))

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

#: tensorflow_datasets: name -> (title, {split: count}, features). A feature is ("image", shape),
#: ("label", classes), ("text",), ("mask", shape) or ("float", shape). None in a shape: the size
#: varies per example in the real data; the stand-in uses VARYING_SIZE and says so.
TFDS_DATASETS = {
    "mnist": ("MNIST", {"train": 60000, "test": 10000}, {"image": ("image", (28, 28, 1)), "label": ("label", 10)}),
    "fashion_mnist": ("Fashion-MNIST", {"train": 60000, "test": 10000},
                      {"image": ("image", (28, 28, 1)), "label": ("label", 10)}),
    "cifar10": ("CIFAR-10", {"train": 50000, "test": 10000}, {"image": ("image", (32, 32, 3)), "label": ("label", 10)}),
    "cifar100": ("CIFAR-100", {"train": 50000, "test": 10000},
                 {"image": ("image", (32, 32, 3)), "label": ("label", 100), "coarse_label": ("label", 20)}),
    "svhn_cropped": ("SVHN", {"train": 73257, "test": 26032, "extra": 531131},
                     {"image": ("image", (32, 32, 3)), "label": ("label", 10)}),
    "tf_flowers": ("tf_flowers", {"train": 3670}, {"image": ("image", (None, None, 3)), "label": ("label", 5)}),
    "oxford_flowers102": ("Oxford flowers 102", {"train": 1020, "validation": 1020, "test": 6149},
                          {"image": ("image", (None, None, 3)), "label": ("label", 102)}),
    "cats_vs_dogs": ("cats_vs_dogs", {"train": 23262}, {"image": ("image", (None, None, 3)), "label": ("label", 2)}),
    "horses_or_humans": ("horses_or_humans", {"train": 1027, "test": 256},
                         {"image": ("image", (300, 300, 3)), "label": ("label", 2)}),
    "rock_paper_scissors": ("rock_paper_scissors", {"train": 2520, "test": 372},
                            {"image": ("image", (300, 300, 3)), "label": ("label", 3)}),
    "beans": ("beans", {"train": 1034, "validation": 133, "test": 128},
              {"image": ("image", (500, 500, 3)), "label": ("label", 3)}),
    "colorectal_histology": ("colorectal_histology", {"train": 5000},
                             {"image": ("image", (150, 150, 3)), "label": ("label", 8)}),
    "eurosat": ("EuroSAT", {"train": 27000}, {"image": ("image", (64, 64, 3)), "label": ("label", 10)}),
    "patch_camelyon": ("PatchCamelyon", {"train": 262144, "validation": 32768, "test": 32768},
                       {"image": ("image", (96, 96, 3)), "label": ("label", 2)}),
    "stanford_dogs": ("Stanford dogs", {"train": 12000, "test": 8580},
                      {"image": ("image", (None, None, 3)), "label": ("label", 120)}),
    "caltech101": ("Caltech 101", {"train": 3060, "test": 6084},
                   {"image": ("image", (None, None, 3)), "label": ("label", 102)}),
    "food101": ("Food-101", {"train": 75750, "validation": 25250},
                {"image": ("image", (None, None, 3)), "label": ("label", 101)}),
    "oxford_iiit_pet": ("Oxford-IIIT pet", {"train": 3680, "test": 3669},
                        {"image": ("image", (None, None, 3)), "label": ("label", 37),
                         "species": ("label", 2), "segmentation_mask": ("mask", (None, None, 1))}),
    "imdb_reviews": ("IMDB reviews", {"train": 25000, "test": 25000, "unsupervised": 50000},
                     {"text": ("text",), "label": ("label", 2)}),
    "ag_news_subset": ("AG news", {"train": 120000, "test": 7600},
                       {"description": ("text",), "title": ("text",), "label": ("label", 4)}),
    "yelp_polarity_reviews": ("Yelp polarity", {"train": 560000, "test": 38000},
                              {"text": ("text",), "label": ("label", 2)}),
}

#: Supervised keys (as_supervised=True) where they are not ("image"|"text", "label").
TFDS_SUPERVISED = {"oxford_iiit_pet": ("image", "label"), "ag_news_subset": ("description", "label")}

#: The size given to a dimension that varies per example in the real data.
VARYING_SIZE = 128

#: Examples in each synthetic split (the real counts are reported by ``info.splits``).
SYNTHETIC_EXAMPLES = 64

#: Batches in a synthetic directory dataset.
SYNTHETIC_BATCHES = 4

#: Rows in a synthetic table (enough for the windows of a time-series script).
SYNTHETIC_ROWS = 2048

#: Numeric columns a synthetic table starts with when the call names none.
SYNTHETIC_COLUMNS = 8

#: pandas readers of files: a missing file (or a URL that does not answer) gives a synthetic table.
PANDAS_READERS = ("read_csv", "read_table", "read_excel", "read_parquet", "read_json", "read_feather")

_WORDS = ("the model learns a good representation of data when training is stable and the rate "
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
        sys.meta_path.append(_Finder(self))

    def install_data(self) -> None:
        """Synthetic data where Keras's data functions ask for data that is not here."""
        try:
            from keras.src.utils import file_utils
        except ImportError:  # pragma: no cover - other Keras layouts
            return
        self.install_tables()
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

    def install_tables(self) -> None:
        """Synthetic tables where numpy's or pandas's readers ask for a file that is not here."""
        import numpy as np

        for name in ("loadtxt", "genfromtxt"):
            orig = getattr(np, name)
            if not getattr(orig, "__klint_original__", None):
                wrapper = _wrap(orig, lambda o, *a, __n=name, **k: self._numpy_table(__n, o, *a, **k))
                setattr(np, name, wrapper)
        if "pandas" in sys.modules:
            self._patch_pandas(sys.modules["pandas"])
        else:
            sys.meta_path.insert(0, _AfterImport("pandas", self._patch_pandas))

    # ----------------------------------------------------------- tables

    def _patch_pandas(self, pd) -> None:
        for name in PANDAS_READERS:
            orig = getattr(pd, name, None)
            if orig is not None and not getattr(orig, "__klint_original__", None):
                setattr(pd, name, _wrap(orig, lambda o, *a, __n=name, **k: self._pandas_table(__n, o, *a, **k)))

    def _table_source(self, orig, args: tuple, kwargs: dict):
        """(result, None) when the reader could read its source; (None, source) when the source is
        a missing file or a URL that did not answer."""
        source = args[0] if args else next(iter(kwargs.values()), None)
        for key in ("filepath_or_buffer", "io", "path", "path_or_buf", "fname"):
            if key in kwargs:
                source = kwargs[key]
        try:
            text = os.fspath(source)
        except TypeError:
            return orig(*args, **kwargs), None  # a buffer, an open file, an iterable of lines
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        if "://" in text and not text.startswith("file://"):
            try:
                return orig(*args, **kwargs), None
            except OSError:  # urllib's URLError and HTTPError are OSErrors
                return None, text
        if os.path.exists(text) or any(c in text for c in "*?\n"):
            return orig(*args, **kwargs), None
        return None, text

    def _record_table(self, reader: str, source: str, assumed: list) -> None:
        shown = source if "://" in source else os.path.basename(source)
        missing = [] if "://" in source else [source]
        self.record("data", reader, f"a synthetic table for {shown}", assumed, missing=missing)

    def _pandas_table(self, reader, orig, *args, **kwargs):
        result, source = self._table_source(orig, args, kwargs)
        if source is None:
            return result
        import pandas as pd

        a = {k: v for k, v in _arguments(orig, args, kwargs).items() if type(v).__name__ != "_NoDefault"}
        rows = int(a.get("nrows") or SYNTHETIC_ROWS)
        names = a.get("names")
        usecols = a.get("usecols")
        if names is not None and not isinstance(names, (str, bytes)) and list(names):
            columns = list(names)
            assumed = [f"{rows} rows"]
        elif usecols is not None and not callable(usecols) and not isinstance(usecols, (str, bytes)) and list(usecols):
            columns = list(usecols)
            assumed = [f"{rows} rows"]
        else:
            header_none = "header" in a and a.get("header") is None
            columns = (list(range(SYNTHETIC_COLUMNS)) if header_none
                       else [f"column_{i}" for i in range(SYNTHETIC_COLUMNS)])
            assumed = [f"{rows} rows", f"{SYNTHETIC_COLUMNS} numeric columns besides those the script names"]
        frame = synthetic_frame(pd, self.random(), rows, columns)
        self._record_table(f"pandas.{reader}", source, assumed)
        index_col = a.get("index_col")
        if isinstance(index_col, (str, int)) and not isinstance(index_col, bool):
            try:
                frame = frame.set_index(index_col if index_col in frame.columns else frame.columns[0])
            except (KeyError, IndexError, TypeError):
                pass
        if reader == "read_excel" and a.get("sheet_name", 0) is None:
            return {"Sheet1": frame}
        return frame

    def _numpy_table(self, reader, orig, *args, **kwargs):
        result, source = self._table_source(orig, args, kwargs)
        if source is None:
            return result
        import numpy as np

        a = _arguments(orig, args, kwargs)
        rows = int(a.get("max_rows") or SYNTHETIC_ROWS)
        usecols = a.get("usecols")
        assumed = [f"{rows} rows"]
        if usecols is None:
            cols = SYNTHETIC_COLUMNS
            assumed.append(f"{cols} columns")
        elif isinstance(usecols, int):
            cols = 0
        else:
            cols = len(list(usecols))
        dtype = a.get("dtype") or float
        try:
            np.dtype(dtype)
            numeric = np.issubdtype(np.dtype(dtype), np.number)
        except TypeError:
            numeric = False
        rng = self.random()
        shape = (rows, cols) if cols else (rows,)
        values = rng.integers(0, 2, size=shape) if numeric and np.issubdtype(np.dtype(dtype), np.integer) \
            else rng.random(shape)
        arr = values.astype(dtype) if numeric else values
        if a.get("unpack") and arr.ndim == 2:
            arr = arr.T
        self._record_table(f"numpy.{reader}", source, assumed)
        return arr

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

            return np.array([" ".join(rng.choice(_WORDS, size=int(rng.integers(5, 40)))) for _ in range(n)])

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
        return _tfds_standin(self)


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


class _AfterImport(importlib.abc.MetaPathFinder):
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
        if loader is None or not hasattr(loader, "exec_module") or isinstance(loader, _Finder):
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


def synthetic_frame(pd, rng, rows: int, columns: list):
    """A pandas DataFrame of ``rows`` random numeric rows that makes each column the script asks for
    by name (``df["target"]``, ``df.pop("price")``, ``df.drop(columns=[...])``) when it asks: the real
    file's columns are not known, and the script's own names say which ones it has."""
    import warnings

    class SyntheticFrame(pd.DataFrame):
        @property
        def _constructor(self):
            return SyntheticFrame

        def _klint_make(self, key) -> None:
            keys = list(key) if isinstance(key, (list, tuple, pd.Index)) and not isinstance(key, tuple) else [key]
            numbered = all(isinstance(c, int) for c in self.columns) and len(self.columns) > 0
            for k in keys:
                if isinstance(k, bool) or not (isinstance(k, str) or (numbered and isinstance(k, int))):
                    continue
                if k in self.columns:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pd.DataFrame.__setitem__(self, k, rng.integers(0, 2, size=len(self)))

        def __getitem__(self, key):
            if isinstance(key, (str, int, list)) and not isinstance(key, bool):
                self._klint_make(key)
            return super().__getitem__(key)

        def pop(self, item):
            self._klint_make(item)
            return super().pop(item)

        def drop(self, labels=None, *args, axis=0, index=None, columns=None, **kwargs):
            if columns is not None:
                self._klint_make(columns if isinstance(columns, list) else [columns])
            elif labels is not None and axis in (1, "columns"):
                self._klint_make(labels if isinstance(labels, list) else [labels])
            return super().drop(labels, *args, axis=axis, index=index, columns=columns, **kwargs)

    data = {c: rng.random(rows).astype("float32") for c in columns}
    return SyntheticFrame(data)


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


# ------------------------------------------------------------ inert stand-ins

class Inert:
    """Stands for anything a display package gives: every use is accepted and does nothing."""

    __slots__ = ("_name",)

    def __init__(self, name: str = "stand-in"):
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Inert(f"{self._name}.{attr}")

    def __setattr__(self, attr, value):
        pass

    def __delattr__(self, attr):
        pass

    def __call__(self, *args, **kwargs):
        return Inert(f"{self._name}()")

    def __getitem__(self, key):
        return Inert(f"{self._name}[]")

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __contains__(self, item):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __mro_entries__(self, bases):
        return ()  # ``class C(stand_in.Base)``: a plain class

    def __repr__(self):
        return f"<klint stand-in {self._name}>"

    def __str__(self):
        return ""

    def __format__(self, spec):
        return ""

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    def __index__(self):
        return 0

    def __bool__(self):
        return True

    def __eq__(self, other):
        return other is self

    def __hash__(self):
        return id(self)


def _inert_op(self, *args):
    return self


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
            "rshift"):
    setattr(Inert, f"__{_op}__", _inert_op)
    setattr(Inert, f"__r{_op}__", _inert_op)
    setattr(Inert, f"__i{_op}__", _inert_op)
for _op in ("neg", "pos", "abs", "invert"):
    setattr(Inert, f"__{_op}__", _inert_op)
for _op in ("lt", "le", "gt", "ge"):
    setattr(Inert, f"__{_op}__", lambda self, other: False)


class _Progress:
    """tqdm's stand-in: iterates what it wraps; everything else does nothing."""

    def __init__(self, iterable=None, *args, **kwargs):
        self._iterable = iterable
        self.n = 0
        self.total = kwargs.get("total")

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())

    def __len__(self):
        try:
            return len(self._iterable)
        except TypeError:
            return int(self.total or 0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Inert(f"tqdm.{attr}")


def _subplots(nrows=1, ncols=1, *args, squeeze=True, **kwargs):
    """matplotlib's ``subplots``: a figure and an array of axes of the asked shape, all inert."""
    import numpy as np

    axes = np.empty((int(nrows), int(ncols)), dtype=object)
    for i in range(axes.size):
        axes.flat[i] = Inert("Axes")
    if squeeze:
        axes = axes.squeeze()
        if axes.ndim == 0:
            axes = axes.item()
    return Inert("Figure"), axes


_SPECIAL = {
    "tqdm": lambda: _Progress, "trange": lambda: (lambda *a, **k: _Progress(range(*a), **k)),
    "subplots": lambda: _subplots,
}


class StandInModule(types.ModuleType):
    """A module of a package that is not installed and cannot change the model."""

    def __init__(self, name: str):
        super().__init__(name)
        self.__path__ = []  # a package: ``import matplotlib.pyplot`` finds its stand-in too
        self.__klint_standin__ = True

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        make = _SPECIAL.get(attr)
        if make is not None and (attr != "subplots" or self.__name__.startswith("matplotlib")):
            value = make()
        else:
            value = Inert(f"{self.__name__}.{attr}")
        setattr(self, attr, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: asked only for modules no real finder has."""

    def __init__(self, standins: Standins):
        self.standins = standins

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in DISPLAY_PACKAGES and top not in DATA_PACKAGES:
            return None
        if "." in name and not getattr(sys.modules.get(top), "__klint_standin__", False):
            return None  # a submodule missing from a real, installed package: its own error
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        top = spec.name.partition(".")[0]
        if top in DATA_PACKAGES:
            module = self.standins.tfds_module() if spec.name == top else StandInModule(spec.name)
            if spec.name == top:
                self.standins.record("package", top, f"{top} stood in for (not installed)")
            return module
        if spec.name == top:
            self.standins.record("package", top, f"{top} stubbed")
        return StandInModule(spec.name)

    def exec_module(self, module):
        pass


# ------------------------------------------------------ tensorflow_datasets

def _tfds_standin(standins: Standins) -> types.ModuleType:
    mod = StandInModule("tensorflow_datasets")

    def load(name, split=None, *, data_dir=None, batch_size=None, shuffle_files=False, download=True,
             as_supervised=False, with_info=False, **kwargs):
        builder = _TfdsBuilder(standins, name)
        ds = builder.as_dataset(split=split, batch_size=batch_size, as_supervised=as_supervised)
        return (ds, builder.info) if with_info else ds

    def builder(name, **kwargs):
        return _TfdsBuilder(standins, name)

    mod.load = load
    mod.builder = builder
    mod.as_numpy = lambda ds, *a, **k: ds.as_numpy_iterator() if hasattr(ds, "as_numpy_iterator") else ds
    mod.Split = types.SimpleNamespace(TRAIN="train", TEST="test", VALIDATION="validation")
    mod.__klint_standin__ = True
    return mod


class _TfdsFeature:
    def __init__(self, kind: tuple):
        self.kind = kind
        if kind[0] == "label":
            self.num_classes = kind[1]
            self.names = [f"class_{i}" for i in range(kind[1])]
        if kind[0] in ("image", "mask", "float"):
            self.shape = kind[1]

    def int2str(self, i):
        return self.names[int(i)]

    def str2int(self, s):
        return self.names.index(s)


class _TfdsSplit:
    def __init__(self, n: int):
        self.num_examples = n


class _TfdsInfo:
    def __init__(self, name: str, spec: tuple):
        self.name = name
        self.full_name = name
        self.features = {k: _TfdsFeature(v) for k, v in spec[2].items()}
        self.splits = {k: _TfdsSplit(v) for k, v in spec[1].items()}
        self.supervised_keys = TFDS_SUPERVISED.get(name, (next(iter(spec[2])), "label"))
        self.description = f"a synthetic stand-in for {spec[0]}"


class _TfdsBuilder:
    def __init__(self, standins: Standins, name: str):
        base = str(name).partition(":")[0].partition("/")[0]
        spec = TFDS_DATASETS.get(base)
        if spec is None:
            raise ModuleNotFoundError(
                f"No module named 'tensorflow_datasets' (and klint has no synthetic stand-in for the "
                f"dataset {base!r})", name="tensorflow_datasets")
        self.standins, self.name, self.spec = standins, base, spec
        self.info = _TfdsInfo(base, spec)
        assumed = [f"{VARYING_SIZE}x{VARYING_SIZE} images" for f in spec[2].values()
                   if f[0] in ("image", "mask") and None in f[1]][:1]
        standins.record("data", f"tensorflow_datasets/{base}", f"synthetic {spec[0]} data", assumed)

    def download_and_prepare(self, *args, **kwargs):
        pass

    def as_dataset(self, split=None, batch_size=None, as_supervised=False, **kwargs):
        if split is None:
            return {k: self._split(batch_size, as_supervised) for k in self.spec[1]}
        if isinstance(split, (list, tuple)):
            return [self._split(batch_size, as_supervised) for _ in split]
        return self._split(batch_size, as_supervised)

    def _split(self, batch_size, as_supervised):
        import numpy as np
        import tensorflow as tf

        rng = self.standins.random()
        n = SYNTHETIC_EXAMPLES
        columns = {}
        for key, f in self.spec[2].items():
            if f[0] in ("image", "mask"):
                shape = tuple(VARYING_SIZE if d is None else d for d in f[1])
                hi = 256 if f[0] == "image" else 3
                columns[key] = rng.integers(0, hi, size=(n, *shape), dtype=np.uint8)
            elif f[0] == "label":
                columns[key] = rng.integers(0, f[1], size=n).astype(np.int64)
            elif f[0] == "text":
                columns[key] = np.array([" ".join(rng.choice(_WORDS, size=int(rng.integers(5, 40))))
                                         for _ in range(n)])
            else:
                columns[key] = rng.standard_normal((n, *f[1])).astype(np.float32)
        if as_supervised:
            a, b = self.info.supervised_keys
            ds = tf.data.Dataset.from_tensor_slices((columns[a], columns[b]))
        else:
            ds = tf.data.Dataset.from_tensor_slices(columns)
        if batch_size is not None and batch_size != -1:
            ds = ds.batch(int(batch_size))
        return ds


# ------------------------------------------------------ the project folder: written to scratch

# The project is only read: what a script writes into it goes to a scratch folder.
#
# Scripts write before they train: ``model.save_weights("initial.weights.h5")``
# to restore later, ``os.makedirs("checkpoints")``, a saved model, a picture of
# a batch, a log folder. klint runs the script to read its model, and a
# linter's run must leave the project as it found it. So while the capture
# runs, a write to a path inside the guarded folders (the project root, the
# script's folder and the working folder) goes to the same relative path under
# a scratch folder that klint removes afterwards, and a read of a path written
# that way reads the scratch copy: the script sees its own writes, the project
# does not change. Removing or renaming a project file removes or renames
# nothing in the project.
#
# Paths reach the file system through Python (``open``, ``os``, ``shutil``,
# ``pathlib``), through h5py (Keras's ``.weights.h5`` and ``.h5`` files) and
# through TensorFlow's file layer (SavedModel, checkpoints, summaries). The
# first two are redirected where the path is given; TensorFlow's writers
# receive the redirected folder.

_WRITE_MODES = frozenset("wax+")


_STAT = os.stat
_OPEN = builtins.open


def _raw_exists(path: str) -> bool:
    try:
        _STAT(path, follow_symlinks=False)
        return True
    except OSError:
        return False


def _raw_isfile(path: str) -> bool:
    import stat

    try:
        return stat.S_ISREG(_STAT(path).st_mode)
    except OSError:
        return False


class Scratch:
    def __init__(self, scratch: str, guarded: list[str], own: list[str] = ()):
        self.scratch = os.path.realpath(scratch)
        # as given and with links resolved: paths are matched without touching the file system
        self.guarded = sorted({f(g) for g in guarded if g for f in (os.path.abspath, os.path.realpath)},
                              key=len, reverse=True)
        self.own = {os.path.realpath(p) for p in own}  # files klint itself writes (the snapshot)
        self.written: set[str] = set()  # project paths the script wrote (their copies are in scratch)
        os.makedirs(self.scratch, exist_ok=True)

    # ------------------------------------------------------------ mapping

    def _inside(self, path) -> tuple[str, str] | None:
        """(the project path, its scratch path) for a path inside a guarded folder; else None."""
        try:
            text = os.fsdecode(os.fspath(path))
        except TypeError:
            return None
        if "://" in text:
            return None
        full = os.path.normpath(os.path.abspath(text))
        if full == self.scratch or full.startswith(self.scratch + os.sep) or full in self.own:
            return None
        for g in self.guarded:
            if full == g or full.startswith(g + os.sep):
                rel = os.path.relpath(full, g)
                return full, os.path.normpath(os.path.join(self.scratch, str(self.guarded.index(g)), rel))
        return None

    def write(self, path):
        """Where a write to ``path`` goes."""
        hit = self._inside(path)
        if hit is None:
            return path
        full, copy = hit
        if full not in self.written:
            self.written.add(full)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            if _raw_isfile(full) and not _raw_exists(copy):  # appended to or updated in place
                with _OPEN(full, "rb") as a, _OPEN(copy, "wb") as b:
                    shutil.copyfileobj(a, b)
        return copy if isinstance(path, str) else type(path)(copy) if isinstance(path, os.PathLike) else copy

    def read(self, path):
        """Where a read of ``path`` goes: the scratch copy of what the script wrote, else the project."""
        hit = self._inside(path)
        if hit is None:
            return path
        full, copy = hit
        # a file the script wrote; a folder it made that the project does not have
        if _raw_exists(copy) and (full in self.written or not _raw_exists(full)):
            return copy
        return path

    def folder(self, path):
        """A folder a writer will fill (a SavedModel, a log folder): made in scratch."""
        copy = self.write(path)
        if copy is not path:
            os.makedirs(copy, exist_ok=True)
        return copy

    # ------------------------------------------------------------ install

    def install(self) -> None:
        write, read = self.write, self.read
        open_ = builtins.open  # klint's own wrapper that notes the files read, if installed

        def guarded_open(file, mode="r", *args, **kwargs):
            if isinstance(file, int):
                return open_(file, mode, *args, **kwargs)
            target = write(file) if _WRITE_MODES & set(mode) else read(file)
            return open_(target, mode, *args, **kwargs)

        builtins.open = guarded_open
        io.open = guarded_open

        os_open = os.open

        def guarded_os_open(path, flags, *args, **kwargs):
            if kwargs.get("dir_fd") is not None:
                return os_open(path, flags, *args, **kwargs)
            writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC)
            return os_open(write(path) if writing else read(path), flags, *args, **kwargs)

        os.open = guarded_os_open
        for name in ("stat", "lstat", "listdir", "scandir", "access"):
            _redirect(os, name, read)
        for name in ("mkdir", "makedirs"):
            _redirect(os, name, write)
        for name in ("remove", "unlink", "rmdir"):
            _redirect(os, name, self._removal)
        for name in ("rename", "replace"):
            _redirect(os, name, write, both=True)
        _redirect(shutil, "rmtree", self._removal)
        for name in ("copy", "copy2", "copyfile", "copytree", "move"):
            _redirect_two(shutil, name, read, write)

        def numpy_hook(np):
            for name in ("save", "savez", "savez_compressed", "savetxt"):
                _redirect(np, name, write)

        _when_imported("numpy", numpy_hook)

        def h5py_hook(h5py):
            base = h5py.File

            class File(base):
                def __init__(self, name, mode="r", *args, **kwargs):
                    if isinstance(name, (str, bytes, os.PathLike)):
                        name = write(name) if mode != "r" else read(name)
                    super().__init__(name, mode, *args, **kwargs)

            File.__name__ = File.__qualname__ = "File"
            File.__module__ = base.__module__
            h5py.File = File

        _when_imported("h5py", h5py_hook)

        def tensorflow_hook(tf):
            gfile = tf.io.gfile
            for name in ("exists", "isdir", "listdir", "glob", "stat", "walk"):
                _redirect(gfile, name, read)
            for name in ("makedirs", "mkdir"):
                _redirect(gfile, name, write)
            for name in ("remove", "rmtree"):
                _redirect(gfile, name, self._removal)
            _redirect(gfile, "rename", write, both=True)
            _redirect_two(gfile, "copy", read, write)
            gfile_cls = gfile.GFile

            class GFile(gfile_cls):
                def __init__(self, name, mode="r"):
                    super().__init__(write(name) if _WRITE_MODES & set(mode) else read(name), mode)

            gfile.GFile = GFile
            # Keras reaches these through its own lazy ``tf``: the functions themselves are changed
            from tensorflow.python.ops import summary_ops_v2
            from tensorflow.python.saved_model import load, save

            for fn, position, keyword, mapping in ((save.save, 1, "export_dir", self.folder),
                                                   (load.load, 0, "export_dir", read),
                                                   (summary_ops_v2.create_file_writer_v2, 0, "logdir", self.folder)):
                in_place(fn, _mapped(position, keyword, mapping))

        _when_imported("tensorflow", tensorflow_hook)

    def _removal(self, path):
        """A removal touches only what the script wrote: the project's own files stay."""
        hit = self._inside(path)
        if hit is None:
            return path
        full, copy = hit
        if full in self.written or _raw_exists(copy):
            return copy
        return _Nothing()


class _Nothing(os.PathLike):
    """The target of a removal of a project file: removing it is a no-op."""

    def __fspath__(self):
        raise _Skip()


class _Skip(Exception):
    pass


def _redirect(module, name: str, mapping, position: int = 0, keyword: str | None = None, both: bool = False):
    """Replace ``module.name`` by a function that maps its path argument(s) through ``mapping``."""
    fn = getattr(module, name, None)
    if fn is None or getattr(fn, "__klint_scratch__", False):
        return

    def guarded(*args, **kwargs):
        if kwargs.get("dir_fd") is not None or kwargs.get("src_dir_fd") is not None:
            return fn(*args, **kwargs)  # a path relative to an open folder (shutil.rmtree's walk)
        args = list(args)
        try:
            if len(args) > position:
                args[position] = mapping(args[position])
            elif keyword and keyword in kwargs:
                kwargs[keyword] = mapping(kwargs[keyword])
            elif "path" in kwargs:
                kwargs["path"] = mapping(kwargs["path"])
            if both and len(args) > position + 1:
                args[position + 1] = mapping(args[position + 1])
        except _Skip:
            return None
        if any(isinstance(a, _Nothing) for a in args) or any(isinstance(v, _Nothing) for v in kwargs.values()):
            return None
        return fn(*args, **kwargs)

    guarded.__klint_scratch__ = True
    guarded.__wrapped__ = fn
    guarded.__name__ = getattr(fn, "__name__", name)
    guarded.__doc__ = getattr(fn, "__doc__", None)
    setattr(module, name, guarded)


def _mapped(position: int, keyword: str, mapping):
    """A replacement for ``in_place`` that maps one path argument."""

    def call(orig, *args, **kwargs):
        args = list(args)
        if len(args) > position:
            args[position] = mapping(args[position])
        elif keyword in kwargs:
            kwargs[keyword] = mapping(kwargs[keyword])
        return orig(*args, **kwargs)

    return call


def _redirect_two(module, name: str, read, write):
    """``fn(src, dst, ...)``: the source is read, the destination written."""
    fn = getattr(module, name, None)
    if fn is None or getattr(fn, "__klint_scratch__", False):
        return

    def guarded(src, dst, *args, **kwargs):
        return fn(read(src), write(dst), *args, **kwargs)

    guarded.__klint_scratch__ = True
    guarded.__wrapped__ = fn
    guarded.__name__ = getattr(fn, "__name__", name)
    setattr(module, name, guarded)


def _when_imported(name: str, hook) -> None:
    """``hook(module)`` now if the module is imported, else once it is."""
    if name in sys.modules:
        hook(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, hook))

"""``tensorflow_datasets`` when it is not installed: runs INSIDE the capture's interpreter.

``tfds.load``/``tfds.builder`` of the datasets listed here give tf.data
datasets of synthetic examples with the dataset's features (image shapes,
class counts, text), its split sizes in ``info.splits``, and
``as_supervised`` pairs. Another dataset is reported as missing.
"""
from __future__ import annotations

import types

from .inert import StandInModule
from .standins import WORDS

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


def tfds_standin(standins) -> types.ModuleType:
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
    def __init__(self, standins, name: str):
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
                columns[key] = np.array([" ".join(rng.choice(WORDS, size=int(rng.integers(5, 40))))
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

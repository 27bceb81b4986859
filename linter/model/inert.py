"""Inert stand-ins for packages that cannot change the model: runs INSIDE the capture's interpreter.

A script that plots, shows progress or displays images does not need any of it
to build its model. When such a package is not installed, ``import
matplotlib.pyplot as plt`` gives a stand-in module on which every use is
accepted and does nothing; ``tqdm(iterable)`` still yields the iterable and
``plt.subplots(r, c)`` still gives an array of axes of that shape. A data
package (tensorflow_datasets) gets its synthetic stand-in (``tfds``).
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types

#: Packages that only display, plot or report progress: stood in for when not installed.
DISPLAY_PACKAGES = frozenset((
    "matplotlib", "mpl_toolkits", "seaborn", "plotly", "tqdm", "imageio", "IPython", "PIL", "pydot",
    "graphviz", "termcolor", "colorama", "tabulate", "wandb",
))

#: Packages that provide data, stood in for by synthetic data when not installed.
DATA_PACKAGES = frozenset(("tensorflow_datasets",))


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


class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: asked only for modules no real finder has."""

    def __init__(self, standins):
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

"""Synthetic tables for a script that reads a missing file: runs INSIDE the capture's interpreter.

``pandas.read_csv`` (and the other ``read_*`` readers of files),
``numpy.loadtxt`` and ``numpy.genfromtxt`` of a path that does not exist, or
of a URL that does not answer, give a table of random numbers instead of an
error: its columns are the ones the call names (``names``, ``usecols``), or a
few numeric ones, and a pandas table makes each column the script asks for by
name when it asks, since the script's own names say which columns the real file
has. A file that exists is read as it is.
"""
from __future__ import annotations

import os
import sys

from .standins import AfterImport, _arguments, _wrap

#: Rows in a synthetic table (enough for the windows of a time-series script).
SYNTHETIC_ROWS = 2048

#: Numeric columns a synthetic table starts with when the call names none.
SYNTHETIC_COLUMNS = 8

#: pandas readers of files: a missing file (or a URL that does not answer) gives a synthetic table.
PANDAS_READERS = ("read_csv", "read_table", "read_excel", "read_parquet", "read_json", "read_feather")


class Tables:
    """The readers' stand-ins, recorded in ``standins``."""

    def __init__(self, standins):
        self.standins = standins

    def install(self) -> None:
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
            sys.meta_path.insert(0, AfterImport("pandas", self._patch_pandas))

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
        self.standins.record("data", reader, f"a synthetic table for {shown}", assumed, missing=missing)

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
        frame = synthetic_frame(pd, self.standins.random(), rows, columns)
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
        rng = self.standins.random()
        shape = (rows, cols) if cols else (rows,)
        values = rng.integers(0, 2, size=shape) if numeric and np.issubdtype(np.dtype(dtype), np.integer) \
            else rng.random(shape)
        arr = values.astype(dtype) if numeric else values
        if a.get("unpack") and arr.ndim == 2:
            arr = arr.T
        self._record_table(f"numpy.{reader}", source, assumed)
        return arr


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

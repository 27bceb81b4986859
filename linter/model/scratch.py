"""The project is only read: what a script writes into it goes to a scratch folder. Runs INSIDE the
capture's interpreter.

Scripts write before they train: ``model.save_weights("initial.weights.h5")``
to restore later, ``os.makedirs("checkpoints")``, a saved model, a picture of
a batch, a log folder. klint runs the script to read its model, and a
linter's run must leave the project as it found it. So while the capture
runs, a write to a path inside the guarded folders (the project root, the
script's folder and the working folder) goes to the same relative path under
a scratch folder that klint removes afterwards, and a read of a path written
that way reads the scratch copy: the script sees its own writes, the project
does not change. Removing or renaming a project file removes or renames
nothing in the project.

Paths reach the file system through Python (``open``, ``os``, ``shutil``,
``pathlib``), through h5py (Keras's ``.weights.h5`` and ``.h5`` files) and
through TensorFlow's file layer (SavedModel, checkpoints, summaries). The
first two are redirected where the path is given; TensorFlow's writers
receive the redirected folder.
"""
from __future__ import annotations

import builtins
import io
import os
import shutil
import sys

from .standins import AfterImport, in_place

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
        sys.meta_path.insert(0, AfterImport(name, hook))

"""The files ``klint check`` checks: those found under the paths given, each read with care (only a
regular file, up to MAX_FILE_SIZE) and checked, a source file or a saved model.
"""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from klint.engine.config import DEFAULT_EXCLUDE
from klint.engine.lint import (KERAS_MARKERS, DecodeError, EncodeError, FileResult, Linter, Problem, decode, encode,
                               mentions_keras)

#: Source files larger than this are reported (KL002) instead of read. Parsing takes seconds per
#: megabyte and some 500 bytes of memory per byte of source, so klint could not check one within
#: FILE_TIME_LIMIT and WORKER_MEMORY anyway, and this way it says so at once.
MAX_FILE_SIZE = 10 * 1024 * 1024


def _is_venv(d: Path) -> bool:
    return (d / "pyvenv.cfg").is_file()


def collect_files(paths: list[str], cfg) -> tuple[list[Path], list]:
    """The files to check under ``paths``, and the paths that cannot be checked at all.

    As in ruff, the walk checks symlinked files but does not descend into
    symlinked folders, so a symlink loop cannot keep it going. What a file
    is (a FIFO named ``x.py``) is checked when it is read (:func:`check_file`).
    """
    files: list[Path] = []
    problems: list = []
    seen: set = set()
    for raw in paths:
        p = Path(raw)
        try:
            st = os.stat(p)
        except OSError as e:  # missing, a dangling symlink, a symlink loop
            problems.append((raw, Problem("KL002", "io-error", e.strerror or str(e))))
            continue
        if stat.S_ISDIR(st.st_mode):
            for root, dirs, names in os.walk(p):
                rootp = Path(root)
                dirs[:] = sorted(d for d in dirs if d not in DEFAULT_EXCLUDE and not _is_venv(rootp / d)
                                 and not cfg.is_excluded(rootp / d))
                for n in sorted(names):
                    f = rootp / n
                    if cfg.is_included(f):
                        if not cfg.is_excluded(f):
                            key = os.path.abspath(f)
                            if key not in seen:
                                seen.add(key)
                                files.append(f)
        else:
            if cfg.is_excluded(p, explicit=True):
                continue
            if p.suffix not in CHECKED_SUFFIXES and not cfg.is_included(p):
                problems.append((raw, Problem(
                    "KL002", "not-python", f"not checked: klint reads Python files (.py), notebooks (.ipynb) "
                    f"and saved models (.keras, .json), not {p.suffix} files")))
                continue
            key = os.path.abspath(p)
            if key not in seen:
                seen.add(key)
                files.append(p)
    return files, problems


SAVED_MODEL_SUFFIXES = (".keras", ".json")

#: What a path given explicitly may be (a file without a suffix is read as Python, as a script often is).
CHECKED_SUFFIXES = ("", ".py", ".pyi", ".pyw", ".ipynb", *SAVED_MODEL_SUFFIXES)


def check_bytes(path: Path, data: bytes | None, cfg, linter: Linter, fixing: bool) -> FileResult:
    """Check the content of one file; ``data`` is None for a saved model that klint.model.saved reads itself.

    A MemoryError is not reported here but raised, for the worker to report
    and then to make way for a fresh process (see :func:`klint.cli.workers._check_guarded`).
    """
    res = FileResult(str(path))
    if path.suffix in SAVED_MODEL_SUFFIXES:
        # a saved model, read as data: its findings have no source to fix
        try:
            res.findings, res.problems = linter.lint_saved(str(path), data)
        except MemoryError:
            raise
        except Exception as e:
            res.problems = [Problem("KL003", "internal-error", f"klint failed on this file: {type(e).__name__}: {e}")]
        return res
    if not mentions_keras(data):
        res.skipped = True
        return res
    try:
        text, encoding, bom = decode(data)
    except DecodeError as e:
        res.problems.append(Problem("KL002", "decode-error", f"cannot decode: {e}", _decode_line(str(e)), 1))
        return res
    res.source, res.encoding, res.bom = text, encoding, bom
    ignore = cfg.ignored_for(path)
    if path.suffix == ".ipynb":
        return _check_notebook(res, path, text, ignore, linter, fixing)
    try:
        if fixing and not _round_trips(data, text, encoding, bom):
            # the codec does not give the file's own bytes back (``unicode_escape``): any rewrite
            # would change every line, so nothing is fixed
            res.findings, res.problems = linter.lint_text(str(path), text, ignore)
            if any(linter.applicable(f.fix) and f.text_edits for f in res.findings):
                res.problems.append(Problem(
                    "KL004", "fix-reverted", f"fixes were not written: encoding the file as {encoding} does not "
                    "give back its bytes, so a rewrite would change every line"))
        elif fixing:
            new, n, findings, problems, warnings = linter.fix_text(str(path), text, ignore)
            res.findings, res.problems = findings, problems
            res.problems += [Problem("KL004", "fix-reverted", w) for w in warnings]
            if n:
                try:
                    encode(new, encoding, bom)
                except EncodeError as e:
                    res.findings, res.problems = linter.lint_text(str(path), text, ignore)
                    res.problems.append(Problem("KL004", "fix-reverted", f"fixes were not written: {e}"))
                else:
                    res.fixed_source, res.fixed = new, n
        else:
            res.findings, res.problems = linter.lint_text(str(path), text, ignore)
    except MemoryError:
        raise
    except Exception as e:  # never a traceback: report and go on with the other files
        res.findings = []
        res.problems = [Problem("KL003", "internal-error", f"klint failed on this file: {type(e).__name__}: {e}")]
    return res


def _check_notebook(res: FileResult, path: Path, text: str, ignore, linter: Linter, fixing: bool) -> FileResult:
    """A notebook: its code cells linted as one program, fixes written back into the cells."""
    from klint.engine.notebook import Notebook, NotebookError

    try:
        nb = Notebook(text)
    except NotebookError as e:
        res.problems.append(Problem("KL002", "unreadable-notebook", f"not checked: {e}"))
        return res
    res.notebook, res.program = nb, nb.source
    syntax = [Problem("KL001", "syntax-error", f"{s.message} (the other cells were checked)", s.row, s.col)
              for s in nb.syntax]
    for problem, issue in zip(syntax, nb.syntax):
        problem.cell = issue.cell  # its row is the cell's own: the cell is not in the program
    try:
        if fixing:
            new, n, findings, problems, warnings = linter.fix_text(str(path), nb.source, ignore)
            res.findings, res.problems = findings, syntax + problems
            res.problems += [Problem("KL004", "fix-reverted", w) for w in warnings]
            if n:
                try:
                    res.fixed_source = nb.rebuild(new)
                except NotebookError as e:
                    res.findings, problems = linter.lint_text(str(path), nb.source, ignore)
                    res.problems = syntax + problems + [Problem("KL004", "fix-reverted", f"fixes were not written: {e}")]
                else:
                    res.fixed_program, res.fixed = new, n
        else:
            res.findings, problems = linter.lint_text(str(path), nb.source, ignore)
            res.problems = syntax + problems
    except MemoryError:
        raise
    except Exception as e:  # never a traceback: report and go on with the other files
        res.findings = []
        res.problems = [Problem("KL003", "internal-error", f"klint failed on this file: {type(e).__name__}: {e}")]
    for f in res.findings:  # the lines a message names, as cells and lines
        f.message = nb.relabel(f.message)
    for p in res.problems:
        if getattr(p, "cell", None) is None:
            p.message = nb.relabel(p.message)
    return res


def _round_trips(data: bytes, text: str, encoding: str, bom: bool) -> bool:
    """Whether writing ``text`` back in the file's encoding gives exactly the file's bytes."""
    try:
        return encode(text, encoding, bom) == data
    except EncodeError:
        return False


def _decode_line(msg: str) -> int:
    if msg.startswith("line "):
        try:
            return int(msg.split()[1].rstrip(":"))
        except ValueError:
            return 1
    return 1


def check_file(path: Path, cfg, linter: Linter, fixing: bool) -> FileResult:
    """Check one file on disk.

    Only a regular file is read (``os.stat`` follows symlinks): reading a
    FIFO blocks until a writer comes, and ``/dev/zero`` never ends. A source
    file is read up to MAX_FILE_SIZE; a larger one is reported, unless it
    does not mention Keras, which makes it skipped as any such file is. A
    saved model is read by klint.model.saved, which streams the archive with
    caps of its own (its weights can weigh gigabytes).
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return _io_problem(path, f"not a regular file ({_file_kind(st.st_mode)})")
        if path.suffix in SAVED_MODEL_SUFFIXES:
            return check_bytes(path, None, cfg, linter, fixing)
        with open(path, "rb", opener=_open_nonblocking) as f:
            data = f.read(MAX_FILE_SIZE + 1)
            if len(data) > MAX_FILE_SIZE:
                if not _mentions_keras_in(f, data, st.st_size):
                    return FileResult(str(path), skipped=True)
                return _io_problem(path, f"file too large ({format_size(max(st.st_size, len(data)))}; klint reads "
                                         f"source files up to {format_size(MAX_FILE_SIZE)})")
    except OSError as e:
        return _io_problem(path, f"cannot read: {e.strerror or e}")
    return check_bytes(path, data, cfg, linter, fixing)


def read_stdin(name: str) -> tuple[bytes, FileResult | None]:
    """Standard input, read up to MAX_FILE_SIZE: its bytes, and a KL002 result for ``name`` when there
    is more (which is left unread)."""
    data = sys.stdin.buffer.read(MAX_FILE_SIZE + 1)
    if len(data) > MAX_FILE_SIZE:
        return data, _io_problem(name, f"input too large (klint reads up to {format_size(MAX_FILE_SIZE)})")
    return data, None


def _open_nonblocking(path, flags: int) -> int:
    """Open without waiting for a writer, should the path have become a FIFO since it was stat'ed."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _mentions_keras_in(f, head: bytes, size: int) -> bool:
    """Whether a file too large to read whole mentions Keras: ``head``, then the rest in chunks, up to
    ``size`` bytes in all (the size it had when stat'ed, so a growing file cannot keep this going)."""
    if mentions_keras(head):
        return True
    overlap = max(len(m) for m in KERAS_MARKERS) - 1
    tail, left = head[-overlap:], size - len(head)
    while left > 0:
        chunk = f.read(min(1 << 20, left))
        if not chunk:
            return False
        if mentions_keras(tail + chunk):
            return True
        tail, left = chunk[-overlap:], left - len(chunk)
    return False


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def format_size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def _io_problem(path, message: str) -> FileResult:
    res = FileResult(str(path))
    res.problems.append(Problem("KL002", "io-error", message))
    return res

"""Command line: ``klint check``, ``klint rule``, ``klint rules``.

Exit codes follow ruff: 0 no findings, 1 findings (files that do not parse
included), 2 usage, configuration or internal error.
"""
from __future__ import annotations

import argparse
import collections
import difflib
import gc
import math
import os
import pickle
import select
import shutil
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from klint import __version__
from klint.engine.config import (DEFAULT_EXCLUDE, GRAPH_DATA_MODES, ConfigError, find_config, load_config,
                          validate_selectors)
from klint.engine.lint import (KERAS_MARKERS, MAX_FIX_PASSES, DecodeError, EncodeError, FileResult, Linter, Problem,
                          decode, encode, mentions_keras, write_atomic)
from klint.cli.formats import FORMATS, diagnostics_for, display_path, render, statistics

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with a one-line message, as argparse does, but never a traceback
        self.print_usage(sys.stderr)
        sys.stderr.write(f"klint: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def _codes(value: str) -> list[str]:
    """Comma-separated selectors. Empty ones are kept, for validate_selectors to reject as ruff does
    (``--select ''`` would otherwise select no rule, and every run would pass)."""
    return [v.strip() for v in value.split(",")]


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value!r}")
    return n


def _seconds(value: str) -> float:
    """A positive finite number of seconds (``float`` alone takes ``nan`` and ``inf``)."""
    try:
        t = float(value)
    except ValueError:
        t = math.nan
    if not (math.isfinite(t) and t > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return t


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="klint", description="A linter for Keras training code.")
    p.add_argument("--version", action="version", version=f"klint {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    c = sub.add_parser("check", help="check files or directories (default: the current directory)")
    c.add_argument("paths", nargs="*", help="files or directories; '-' reads standard input")
    c.add_argument("--fix", action="store_true", default=None, help="apply safe fixes")
    c.add_argument("--no-fix", dest="fix", action="store_false", help="do not apply fixes")
    c.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply (and show) unsafe fixes")
    c.add_argument("--diff", action="store_true", help="print a diff of the fixes instead of writing them")
    c.add_argument("--select", type=_codes, help="only these rule codes or prefixes (comma separated)")
    c.add_argument("--extend-select", type=_codes, default=[], help="add these rules to the selection")
    c.add_argument("--ignore", type=_codes, default=[], help="ignore these rule codes or prefixes")
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    c.add_argument("--statistics", action="store_true", help="print the number of findings per rule")
    c.add_argument("--config", type=Path, help="a pyproject.toml (or klint.toml) to read instead of the nearest one")
    c.add_argument("--stdin-filename", help="the name of the file read from standard input")
    c.add_argument("--output-format", choices=FORMATS, default="text")
    c.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    c.add_argument("--jobs", "-j", type=_jobs, default=None, help="worker processes (default: the number of CPUs)")
    g = c.add_argument_group("model view (runs the project's code)")
    g.add_argument("--graph", action="store_true", default=None,
                   help="also build each script's real model in a subprocess and check it")
    g.add_argument("--no-graph", dest="graph", action="store_false", help="source view only")
    g.add_argument("--python", help="the interpreter that runs the scripts (default: klint's own)")
    g.add_argument("--timeout", type=_seconds, help="seconds a script may take to reach training (default: 60)")
    g.add_argument("--no-cache", action="store_true", help="do not read or write cached model snapshots")
    g.add_argument("--graph-data", choices=GRAPH_DATA_MODES, default=None,
                   help="'synthetic' (default): data the script cannot get, and missing plotting or progress "
                        "packages, are stood in for; 'real': the script gets only what exists")

    pr = sub.add_parser("probe", help="train a script's model for a few steps and diagnose it (runs your code)")
    pr.add_argument("script")
    pr.add_argument("--steps", type=int, default=50, help="training steps (default 50)")
    pr.add_argument("--seed", type=int, default=0,
                    help="seed for Python, NumPy, Keras and synthetic data: the same seed gives the same run (default 0)")
    pr.add_argument("--plot", type=Path, help="write gradient norms, loss and learning rate to this PNG")
    pr.add_argument("--output-format", choices=("text", "json"), default="text")
    pr.add_argument("--python", help="the interpreter that runs the script (default: klint's own)")
    pr.add_argument("--timeout", type=_seconds, default=300.0, help="seconds for the whole probe (default 300)")
    pr.add_argument("--exit-zero", action="store_true")

    rp = sub.add_parser("report", help="diagnose the JSON lines a klint.keras.TrainingMonitor wrote")
    rp.add_argument("log", type=Path)
    rp.add_argument("--plot", type=Path, help="write gradient norms, loss and learning rate to this PNG")
    rp.add_argument("--output-format", choices=("text", "json"), default="text")
    rp.add_argument("--exit-zero", action="store_true")

    r = sub.add_parser("rule", help="print the documentation of a rule")
    r.add_argument("code", help="a rule code (KL101) or name (init-activation-mismatch)")

    rs = sub.add_parser("rules", help="list the rules")
    rs.add_argument("--output-format", choices=("text", "json", "markdown"), default="text")
    return p


def main(argv: list[str] | None = None) -> int:
    # The interpreter recurses once per level of expression nesting; generated
    # code can nest deeper than Python's default limit allows.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _on_terminate()
    try:
        if args.command == "rule":
            return cmd_rule(args)
        if args.command == "rules":
            from klint.cli.rule_docs import render_rules

            sys.stdout.write(render_rules(args.output_format))
            return EXIT_OK
        if args.command == "check":
            return cmd_check(args)
        if args.command in ("probe", "report"):
            return cmd_runtime(args)
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    except (ConfigError, UsageError) as e:
        sys.stderr.write(f"klint: error: {e}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 128 + signal.SIGTERM
    except BrokenPipeError:
        return EXIT_OK
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(BaseException):
    """SIGTERM (a pre-commit or CI timeout, ``kill``): unwinds like Ctrl-C, so that the worker processes
    and every script the model view or the probe started are stopped before klint exits."""


def _on_terminate():
    """Turn SIGTERM into :class:`Terminated` in this process; the previous handler, to restore."""
    def handler(signum, frame):
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave the signal as it is
        return None


def cmd_runtime(args) -> int:
    """``klint probe SCRIPT`` and ``klint report LOG``: runtime diagnosis."""
    from klint.runtime import commands as runtime

    try:
        if args.command == "probe":
            script = Path(args.script)
            if not script.is_file():
                raise UsageError(f"{args.script}: no such file")
            if args.steps < 2:
                raise UsageError("--steps must be at least 2")
            if not 0 <= args.seed < 2 ** 32:
                raise UsageError("--seed must be between 0 and 4294967295")
            if args.plot:
                runtime.check_plot(args.plot)  # before the run, not after minutes of it
            result = runtime.run_probe(script, args.python or sys.executable, args.timeout, args.steps,
                                       seed=args.seed)
            series = result["probe"]
            for note in series.get("notes") or []:
                sys.stderr.write(f"klint: warning: {note}\n")
            located = runtime.locate(runtime.diagnose(series), result, script)
            title = f"klint probe {script.name}"
        else:
            if not args.log.is_file():
                raise UsageError(f"{args.log}: no such file")
            if args.plot:
                runtime.check_plot(args.plot)
            series = runtime.read_report(args.log)
            located = runtime.locate(runtime.diagnose(series), {"snapshot": {"models": [
                {"fit": True, "layers": [{"name": k, "site": v} for k, v in series.get("sites", {}).items()]}]}},
                args.log)
            title = f"klint report {args.log.name}"
        if args.plot:
            runtime.plot(series, args.plot, title)
    except runtime.RuntimeError_ as e:
        sys.stderr.write(f"klint: error: {e}\n")
        return EXIT_ERROR
    sys.stdout.write(runtime.render(located, series, args.output_format))
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if located else EXIT_OK


def cmd_rule(args) -> int:
    from klint.cli.rule_docs import render_rule
    from klint.engine.registry import rule_by_code

    rule = rule_by_code(args.code)
    if rule is None:
        from klint.runtime.diagnose import CODES, EXPLANATIONS

        for code, (name, summary) in CODES.items():
            if args.code.upper() == code or args.code == name:
                sys.stdout.write(f"# {name} ({code})\n\n{summary}. A runtime finding of `klint probe` and "
                                 f"`klint report`.\n\n{EXPLANATIONS[code]}\n")
                return EXIT_OK
        raise UsageError(f"unknown rule {args.code!r} (see `klint rules`)")
    sys.stdout.write(render_rule(rule))
    return EXIT_OK


# ------------------------------------------------------------------ check


def cmd_check(args) -> int:
    paths = args.paths or ["."]
    config_path = args.config
    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"{config_path}: no such file")
    if config_path is None:
        anchor = next((Path(p) for p in paths if p != "-"), Path.cwd())
        if args.stdin_filename and all(p == "-" for p in paths):
            anchor = Path(args.stdin_filename)
        config_path = find_config(anchor if anchor.exists() else Path.cwd())
    cfg = load_config(config_path)
    for opt in ("select", "extend_select", "ignore"):
        v = getattr(args, opt)
        if v:
            validate_selectors(v, f"--{opt.replace('_', '-')}", ",".join(v))
    rules = cfg.selected_rules(args.select, args.extend_select, args.ignore)
    fix = cfg.fix if args.fix is None else args.fix
    unsafe = cfg.unsafe_fixes if args.unsafe_fixes is None else args.unsafe_fixes
    linter = Linter(rules, cfg.rule_options, unsafe=unsafe, graph=graph_options(args, cfg))
    diff_mode = args.diff
    fixing = fix or diff_mode

    if any(p == "-" for p in paths):
        return check_stdin(args, cfg, linter, fixing, unsafe)

    files, problems = collect_files(paths, cfg)
    results = once_across_files(run_files(files, cfg, linter, fixing, jobs=args.jobs))

    diags = []
    fixed_total = 0
    diffs = []
    written: set = set()
    for path, res in results:
        display = display_path(path)
        diags += diagnostics_for(display, res.fixed_source or res.source, res.findings, res.problems, unsafe)
        if res.fixed_source is not None and res.fixed_source != res.source:
            if diff_mode:
                diffs.append(_diff(display, res.source, res.fixed_source))
            else:
                # a symlink's target is edited, and the link kept (write_atomic replaces what it is given);
                # a file reached under two names is written once
                target = os.path.realpath(path)
                if target in written:
                    continue
                try:
                    write_atomic(Path(target), encode(res.fixed_source, res.encoding, res.bom))
                    written.add(target)
                    fixed_total += res.fixed
                except OSError as e:
                    diags += diagnostics_for(display, None, [], [Problem("KL002", "io-error",
                                                                         f"cannot write fixes: {e}")], unsafe)
    for display, prob in problems:
        diags += diagnostics_for(display, None, [], [prob], unsafe)
    print_warnings([(display_path(p), r) for p, r in results])

    if diff_mode:
        sys.stdout.write("".join(diffs))
        n = sum(r.fixed for _, r in results)
        if n:
            sys.stderr.write(f"Would fix {n} error{'s' if n != 1 else ''}.\n")
        if args.exit_zero:
            return EXIT_OK
        return EXIT_FINDINGS if diffs else EXIT_OK
    if args.statistics:
        sys.stdout.write(statistics(diags, args.output_format))
    else:
        sys.stdout.write(render(args.output_format, diags, fixed=fixed_total, unsafe=unsafe, fix_mode=fix,
                                show_summary=not args.quiet))
    if any(d.code == "KL003" for d in diags):
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if diags else EXIT_OK


def once_across_files(results: list) -> list:
    """Each model-view finding once: a model built in ``model.py`` and captured from ``train.py``, which
    imports it, is reported at its construction line in ``model.py`` by both captures. The finding of
    the file itself (which carries the fix) is kept, else the first."""
    def key(path, f):
        return (os.path.realpath(f.filename or path), f.code, f.row, f.col)

    own = {key(path, f) for path, res in results for f in res.findings if f.view == "model" and not f.filename}
    seen: set = set()
    for path, res in results:
        kept = []
        for f in res.findings:
            if f.view == "model" and f.filename:
                k = key(path, f)
                if k in own or k in seen:
                    continue
                seen.add(k)
            kept.append(f)
        res.findings = kept
    return results


def graph_options(args, cfg):
    """The model view's settings, or None when it is off."""
    on = cfg.graph if args.graph is None else args.graph
    if not on:
        return None
    from klint.model.runner import DEFAULT_TIMEOUT, CaptureOptions

    timeout = args.timeout if args.timeout is not None else (cfg.timeout or DEFAULT_TIMEOUT)
    python = args.python or cfg.python or sys.executable
    cache = None if args.no_cache else cfg.root / ".klint_cache" / "model"
    data = args.graph_data or cfg.graph_data
    return CaptureOptions(python=python, timeout=timeout, factories=list(cfg.model_factories), root=cfg.root,
                          cache_dir=cache, data=data)


def print_warnings(results) -> None:
    for display, res in results:
        for p in res.problems:
            if getattr(p, "warning", False):
                sys.stderr.write(f"{display}:{p.row}:{p.col}: warning: {p.message}\n")


def check_stdin(args, cfg, linter, fixing: bool, unsafe: bool) -> int:
    """Check standard input, in a worker process as a file would be.

    Input past MAX_FILE_SIZE is reported and not read further; when fixing,
    it is passed through unchanged, for an editor that replaces its buffer
    with the output.
    """
    name = args.stdin_filename or "-"
    data = sys.stdin.buffer.read(MAX_FILE_SIZE + 1)
    too_large = len(data) > MAX_FILE_SIZE
    if too_large:
        res = _io_problem(name, f"input too large (klint reads up to {_size(MAX_FILE_SIZE)})")
    else:
        (res,) = run_isolated([Path(name)], lambda path: check_bytes(path, data, cfg, linter, fixing), None,
                              _time_limit(linter, fixing), _memory_limit(linter))
    display = display_path(Path(name)) if args.stdin_filename else "-"
    diags = diagnostics_for(display, res.fixed_source or res.source, res.findings, res.problems, unsafe)
    if args.diff:
        if res.fixed_source is not None and res.fixed_source != res.source:
            sys.stdout.write(_diff(display, res.source, res.fixed_source))
            return EXIT_OK if args.exit_zero else EXIT_FINDINGS
        return EXIT_OK
    if fixing:
        # ruff's convention: the fixed source on stdout, what remains on stderr
        out = res.fixed_source if res.fixed_source is not None else (res.source if res.source is not None else None)
        if out is not None:
            sys.stdout.buffer.write(encode(out, res.encoding, res.bom))
        else:
            sys.stdout.buffer.write(data)
            if too_large:
                shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)
        sys.stderr.write(render(args.output_format, diags, fixed=res.fixed, unsafe=unsafe, fix_mode=True,
                                show_summary=not args.quiet))
    elif args.statistics:
        sys.stdout.write(statistics(diags, args.output_format))
    else:
        sys.stdout.write(render(args.output_format, diags, unsafe=unsafe, show_summary=not args.quiet))
    if any(d.code == "KL003" for d in diags):
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_OK
    return EXIT_FINDINGS if diags else EXIT_OK


def _diff(display: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=display, tofile=display))


# ------------------------------------------------------------------ files

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
                    if n.endswith((".py", ".keras")):
                        f = rootp / n
                        if not cfg.is_excluded(f):
                            key = os.path.abspath(f)
                            if key not in seen:
                                seen.add(key)
                                files.append(f)
        else:
            if cfg.is_excluded(p, explicit=True):
                continue
            key = os.path.abspath(p)
            if key not in seen:
                seen.add(key)
                files.append(p)
    return files, problems


SAVED_MODEL_SUFFIXES = (".keras", ".json")


def check_bytes(path: Path, data: bytes | None, cfg, linter: Linter, fixing: bool) -> FileResult:
    """Check the content of one file; ``data`` is None for a saved model that klint.model.saved reads itself.

    A MemoryError is not reported here but raised, for the worker to report
    and then to make way for a fresh process (see :func:`_check_guarded`).
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
                return _io_problem(path, f"file too large ({_size(max(st.st_size, len(data)))}; klint reads "
                                         f"source files up to {_size(MAX_FILE_SIZE)})")
    except OSError as e:
        return _io_problem(path, f"cannot read: {e.strerror or e}")
    return check_bytes(path, data, cfg, linter, fixing)


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


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def _io_problem(path, message: str) -> FileResult:
    res = FileResult(str(path))
    res.problems.append(Problem("KL002", "io-error", message))
    return res


def _internal_error(path, message: str) -> FileResult:
    res = FileResult(str(path))
    res.problems.append(Problem("KL003", "internal-error", message))
    return res


def detach(res: FileResult) -> FileResult:
    """Drop the libcst nodes a result holds, so that it is cheap to send between processes."""
    for f in res.findings:
        f.at = None
        if f.fix is not None:
            f.fix.edits = []
    return res


def run_files(files: list[Path], cfg, linter: Linter, fixing: bool, jobs: int | None = None) -> list:
    """Check files, each in a worker process (see :func:`run_isolated`): ``[(path, result)]`` in input order."""
    results = run_isolated(files, lambda path: check_file(path, cfg, linter, fixing), jobs,
                           _time_limit(linter, fixing), _memory_limit(linter))
    return list(zip(files, results))


# ------------------------------------------------------------------ worker processes
#
# One file can take a process down with it: libcst's native parser overflows the C stack on deeply
# nested code (SIGSEGV) and aborts when an allocation fails, and a pathological file can keep the
# analysis busy for ever. So files are checked in forked worker processes, and this process only
# hands out the work: when a worker dies, or is killed for taking too long, the file it had is
# reported as KL003 with the cause, a fresh worker takes over, and the other files are checked.

#: Seconds a worker may spend on one file before it is killed and the file reported (KL003).
#: Module attributes, like the two below, so that tests can lower them.
FILE_TIME_LIMIT = 60.0

#: What the model view may add to a file's time in each lint pass besides the script's own `timeout`:
#: the capture server's start (importing TensorFlow, up to 180 s) and the waits around the script.
MODEL_VIEW_ALLOWANCE = 300.0


def _default_worker_memory() -> int:
    """4 GiB, or half the machine's memory when that is less: one file must not make the machine swap."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 4 << 30
    return min(4 << 30, physical // 2)


#: Bytes of address space a worker may map (RLIMIT_AS). A file that needs more is reported "out of memory".
WORKER_MEMORY = _default_worker_memory()

#: Check files in worker processes. Without fork (Windows), or set to False by a test that needs
#: what the checks do to this process, they are checked in this process, one after the other.
ISOLATE = hasattr(os, "fork")

#: What Rust code (libcst's native parser) writes to stderr when an allocation fails, before it aborts.
_ALLOCATION_FAILED = b"memory allocation of "

#: Seconds past its time limit at which a worker's own alarm ends it, should klint's process be gone
#: (killed, say) and unable to: no worker outlives its parent by more than a file.
_ALARM_GRACE = 5.0


def _time_limit(linter: Linter, fixing: bool) -> float:
    """FILE_TIME_LIMIT, plus, with the model view, what a capture may take in each lint pass."""
    if linter.graph is None:
        return FILE_TIME_LIMIT
    passes = MAX_FIX_PASSES + 1 if fixing else 1
    return FILE_TIME_LIMIT + passes * (linter.graph.timeout + MODEL_VIEW_ALLOWANCE)


def _memory_limit(linter: Linter) -> int | None:
    """WORKER_MEMORY, but no limit with the model view: the capture server that a worker starts would
    inherit it, and TensorFlow reserves far more address space than it uses."""
    return None if linter.graph is not None else WORKER_MEMORY


def run_isolated(items: list, check, jobs: int | None, time_limit: float, memory: int | None) -> list:
    """``[check(item) for item in items]``, the calls made in worker processes; results in input order.

    ``check`` returns a FileResult. Workers are forked from this process,
    so they share its state (configuration, rules, a test's patches) without
    pickling it; there are ``jobs`` of them (default: one per CPU), but no
    more than one per 8 items, and always at least one. A worker that dies,
    or is killed after ``time_limit`` seconds on one item, costs only that
    item, which gets a KL003 result naming the cause. ``memory`` caps each
    worker's address space (None: no cap). No worker outlives the call,
    whether it returns or raises (KeyboardInterrupt included).
    """
    if not items:
        return []
    if not ISOLATE:
        return [_check_guarded(check, item, None)[0] for item in items]
    want = max(1, min(jobs or os.cpu_count() or 1, len(items) // 8))
    return _Supervisor(items, check, want, time_limit, memory).run()


def _check_guarded(check, item, memory: int | None) -> tuple[FileResult, bool]:
    """``check(item)``, and whether the process is fit to go on: after a MemoryError, a KL003 result and
    False, for a worker to exit and a fresh one to take the next file."""
    try:
        return check(item), True
    except MemoryError:
        return _internal_error(item, _out_of_memory(memory)), False


def _out_of_memory(memory: int | None) -> str:
    limit = f" (a worker process may use {_size(memory)})" if memory else ""
    return f"klint failed on this file: out of memory{limit}"


class _Supervisor:
    """Hands out the items to worker processes, collects their results, and replaces the ones that die."""

    def __init__(self, items: list, check, want: int, time_limit: float, memory: int | None):
        self.items, self.check, self.want = items, check, want
        self.time_limit, self.memory = time_limit, memory
        self.results: list = [None] * len(items)
        self.todo = collections.deque(range(len(items)))
        self.workers: list[_Worker] = []

    def run(self) -> list:
        try:
            while self.todo or self.workers:
                self._start_workers()
                if self.workers:
                    self._wait()
        finally:
            for w in self.workers:
                w.kill()
        return self.results

    def _start_workers(self) -> None:
        while self.todo and sum(not w.retiring for w in self.workers) < self.want:
            try:
                w = _Worker(self.check, self.items, self.workers, self.time_limit, self.memory)
            except OSError:  # no process to be had: do with the workers there are, or with none
                if not self.workers:
                    while self.todo:
                        i = self.todo.popleft()
                        self.results[i] = _check_guarded(self.check, self.items[i], None)[0]
                return
            self.workers.append(w)
            self._assign(w)

    def _assign(self, w: _Worker) -> None:
        w.assign(self.todo.popleft(), self.time_limit)
        if not self.todo:
            w.retire()  # now, not after the result: the worker exits after it, without a round trip

    def _wait(self) -> None:
        """Wait for a result, a worker's end or a deadline, and act on what came."""
        timeout = max(0.0, min(w.deadline for w in self.workers) - time.monotonic())
        ready, _, _ = select.select([w.results for w in self.workers], [], [], timeout)
        for w in [w for w in self.workers if w.results in ready]:
            for i, res, healthy in w.receive():
                self.results[i] = res
                w.item = None
                w.deadline = time.monotonic() + self.time_limit  # to exit, if no other item comes
                if healthy and self.todo and not w.retiring:
                    self._assign(w)
                else:
                    w.retire()
            if w.ended:
                self._end(w, None)
        now = time.monotonic()
        for w in [w for w in self.workers if w.deadline <= now]:
            w.kill()
            self._end(w, self._gave_up())

    def _gave_up(self) -> str:
        return f"klint gave up on this file after {self.time_limit:g} s"

    def _end(self, w: _Worker, cause: str | None) -> None:
        """Reap a worker that has ended (or been killed); the item it had gets a KL003 result."""
        status = w.reap()
        output = w.take_output()
        if w.item is not None:
            self.results[w.item] = _internal_error(self.items[w.item], cause or self._cause(status, output))
        if output and (w.item is None or _ALLOCATION_FAILED not in output):
            sys.stderr.write(output.decode("utf-8", "replace"))  # its warnings; not an allocator's last words
        self.workers.remove(w)

    def _cause(self, status: int | None, output: bytes) -> str:
        """Why a worker died with an item, from its wait status and what it printed."""
        if _ALLOCATION_FAILED in output:
            return _out_of_memory(self.memory)
        code = None if status is None else os.waitstatus_to_exitcode(status)
        if code == -signal.SIGALRM:
            return self._gave_up()  # its own alarm came before the deadline here (a busy machine)
        return _death(code)


def _death(code: int | None) -> str:
    """A worker's death, from its exit code (negative: the signal that killed it)."""
    if code is None:
        return "klint crashed on this file: its worker process ended unexpectedly"
    if code >= 0:
        return f"klint crashed on this file: its worker process exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    what = signal.strsignal(-code)
    if -code == signal.SIGKILL:
        what = f"{what}, perhaps by the system for lack of memory"  # what Linux's OOM killer sends
    return f"klint crashed on this file: its worker process was killed by {name}" + (f" ({what})" if what else "")


class _Worker:
    """A forked worker process: it reads item indexes from one pipe and writes results to another.

    The parent sends one index at a time, so it always knows which item a
    worker has. A result is a pickle of ``(index, result, healthy)``
    preceded by its length. The worker's stdout and stderr go to a temporary
    file: nothing it prints can get into klint's output, and after its
    death the file tells whether an allocation failed.
    """

    def __init__(self, check, items: list, others: list, time_limit: float, memory: int | None):
        task_r, self.tasks = os.pipe()
        self.results, result_w = os.pipe()
        self.output = tempfile.TemporaryFile()
        sys.stdout.flush()  # or the worker would hold a copy of what is buffered, to print again
        sys.stderr.flush()
        # The worker's garbage collector would visit every object inherited from this process, and so
        # copy every page of the heap (10s of ms per worker): frozen objects are not visited.
        gc.freeze()
        try:
            self.pid = os.fork()
        except OSError:
            gc.unfreeze()
            for fd in (task_r, self.tasks, self.results, result_w):
                os.close(fd)
            self.output.close()
            raise
        if self.pid == 0:
            # the parent's ends of the pipes, this worker's and the others': the parent must hold the only
            # write end of each task pipe, for its closing to end the worker
            inherited = [self.tasks, self.results, *(fd for w in others for fd in w.open_fds())]
            _work(task_r, result_w, self.output.fileno(), inherited, check, items, time_limit, memory)
        gc.unfreeze()
        os.close(task_r)
        os.close(result_w)
        self.buffer = bytearray()
        self.item: int | None = None
        self.deadline = math.inf
        self.retiring = self.ended = self.reaped = False

    def open_fds(self) -> list[int]:
        return ([] if self.retiring else [self.tasks]) + ([] if self.reaped else [self.results])

    def assign(self, i: int, time_limit: float) -> None:
        self.item = i
        self.deadline = time.monotonic() + time_limit
        try:
            os.write(self.tasks, i.to_bytes(4, "big"))
        except BrokenPipeError:
            pass  # it has died: the end of its results pipe will tell, and the item gets the cause

    def retire(self) -> None:
        """No more work: closing the task pipe makes the worker exit once it has sent its result."""
        if not self.retiring:
            os.close(self.tasks)
            self.retiring = True

    def receive(self) -> list:
        """The results that have come in whole; at the end of the pipe, sets ``ended``."""
        chunk = os.read(self.results, 1 << 20)
        if not chunk:
            self.ended = True
            return []
        self.buffer += chunk
        out = []
        while len(self.buffer) >= 8:
            size = int.from_bytes(self.buffer[:8], "big")
            if len(self.buffer) < 8 + size:
                break
            out.append(pickle.loads(self.buffer[8:8 + size]))
            del self.buffer[:8 + size]
        return out

    def kill(self) -> None:
        if not self.reaped:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.reap()

    def reap(self) -> int | None:
        """Wait for the process to end and close the pipes: its wait status (None if not to be had)."""
        status = None
        if not self.reaped:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.reaped = True
            if not self.retiring:
                os.close(self.tasks)
                self.retiring = True
            os.close(self.results)
        return status

    def take_output(self) -> bytes:
        self.output.seek(0)
        data = self.output.read()
        self.output.close()
        return data


def _work(tasks: int, results: int, output: int, inherited: list[int], check, items: list, time_limit: float,
          memory: int | None) -> NoReturn:
    """The worker process: check the items it is sent until the task pipe closes, then exit.

    Each item runs under an alarm, a little later than the parent's
    deadline, whose default action ends the process even in native code:
    then a worker whose parent was killed cannot outlive it by more than
    the file it has. (When its parent is gone, its task pipe closes.)
    """
    code = 1
    try:
        for fd in inherited:
            os.close(fd)
        os.dup2(output, 1)
        os.dup2(output, 2)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which kills the workers
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # its capture servers stop their scripts when it dies
        from klint.model.capture import die_with_parent

        die_with_parent()  # and it dies with klint, even when klint is killed outright
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        runner = sys.modules.get("klint.model.runner")
        if runner is not None:
            runner._SERVERS.clear()  # the parent's capture servers: this process must not use or stop them
        if memory is not None:
            _limit_memory(memory)
        while True:
            task = os.read(tasks, 4)  # a 4-byte write arrives whole; the parent sends one at a time
            if len(task) < 4:
                break
            i = int.from_bytes(task, "big")
            signal.setitimer(signal.ITIMER_REAL, time_limit + _ALARM_GRACE)
            try:
                res, healthy = _check_guarded(check, items[i], memory)
            except BaseException as e:  # SystemExit from a rule, say: report it, then make way for a fresh worker
                res, healthy = _internal_error(items[i], f"klint failed on this file: {type(e).__name__}: {e}"), False
            try:
                payload = pickle.dumps((i, detach(res), healthy), pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                payload = pickle.dumps((i, _internal_error(items[i], f"klint failed on this file: its result "
                                                                      f"cannot be sent: {type(e).__name__}: {e}"),
                                        healthy), pickle.HIGHEST_PROTOCOL)
            _write_all(results, len(payload).to_bytes(8, "big") + payload)
            signal.setitimer(signal.ITIMER_REAL, 0)
            if not healthy:
                break
        code = 0
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, time_limit + _ALARM_GRACE)  # for stopping capture servers
            runner = sys.modules.get("klint.model.runner")
            if runner is not None:
                runner.shutdown()  # the capture servers this worker started (atexit does not run here)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _limit_memory(limit: int) -> None:
    """Cap this worker's address space (never raising a lower cap), so that a file needing more fails here,
    not by making the machine swap or the kernel's OOM killer pick a process."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass

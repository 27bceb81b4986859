"""Command line: ``klint check``, ``klint rule``, ``klint rules``.

Exit codes follow ruff: 0 no findings, 1 findings (files that do not parse
included), 2 usage, configuration or internal error.
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

from klint import __version__
from klint.config import DEFAULT_EXCLUDE, ConfigError, find_config, load_config, validate_selectors
from klint.engine import DecodeError, FileResult, Linter, Problem, decode, encode, mentions_keras, write_atomic
from klint.output import FORMATS, diagnostics_for, display_path, render, statistics

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with a one-line message, as argparse does, but never a traceback
        self.print_usage(sys.stderr)
        sys.stderr.write(f"klint: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def _codes(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


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
    c.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: the number of CPUs)")
    g = c.add_argument_group("model view (runs the project's code)")
    g.add_argument("--graph", action="store_true", default=None,
                   help="also build each script's real model in a subprocess and check it")
    g.add_argument("--no-graph", dest="graph", action="store_false", help="source view only")
    g.add_argument("--python", help="the interpreter that runs the scripts (default: klint's own)")
    g.add_argument("--timeout", type=float, help="seconds a script may take to reach training (default: 60)")
    g.add_argument("--no-cache", action="store_true", help="do not read or write cached model snapshots")

    pr = sub.add_parser("probe", help="train a script's model for a few steps and diagnose it (runs your code)")
    pr.add_argument("script")
    pr.add_argument("--steps", type=int, default=50, help="training steps (default 50)")
    pr.add_argument("--plot", type=Path, help="write gradient norms, loss and learning rate to this PNG")
    pr.add_argument("--output-format", choices=("text", "json"), default="text")
    pr.add_argument("--python", help="the interpreter that runs the script (default: klint's own)")
    pr.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole probe (default 300)")
    pr.add_argument("--exit-zero", action="store_true")

    rp = sub.add_parser("report", help="diagnose the JSON lines a klint.keras.TrainingMonitor wrote")
    rp.add_argument("log", type=Path)
    rp.add_argument("--plot", type=Path, help="write gradient norms, loss and learning rate to this PNG")
    rp.add_argument("--output-format", choices=("text", "json"), default="text")
    rp.add_argument("--exit-zero", action="store_true")

    r = sub.add_parser("rule", help="print the documentation of a rule")
    r.add_argument("code", help="a rule code (KL101) or name (init-activation-mismatch)")

    rs = sub.add_parser("rules", help="list the rules")
    rs.add_argument("--output-format", choices=("text", "json"), default="text")
    return p


def main(argv: list[str] | None = None) -> int:
    # The interpreter recurses once per level of expression nesting; generated
    # code can nest deeper than Python's default limit allows.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "rule":
            return cmd_rule(args)
        if args.command == "rules":
            from klint.docs import render_rules

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
    except BrokenPipeError:
        return EXIT_OK


def cmd_runtime(args) -> int:
    """``klint probe SCRIPT`` and ``klint report LOG``: runtime diagnosis."""
    from klint import runtime

    try:
        if args.command == "probe":
            script = Path(args.script)
            if not script.is_file():
                raise UsageError(f"{args.script}: no such file")
            if args.steps < 2:
                raise UsageError("--steps must be at least 2")
            result = runtime.run_probe(script, args.python or sys.executable, args.timeout, args.steps)
            series = result["probe"]
            located = runtime.locate(runtime.diagnose(series), result, script)
            title = f"klint probe {script.name}"
        else:
            if not args.log.is_file():
                raise UsageError(f"{args.log}: no such file")
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
    from klint.docs import render_rule
    from klint.registry import rule_by_code

    rule = rule_by_code(args.code)
    if rule is None:
        from klint.diagnose import CODES, EXPLANATIONS

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
            validate_selectors(v, f"--{opt.replace('_', '-')}")
    rules = cfg.selected_rules(args.select, args.extend_select, args.ignore)
    fix = cfg.fix if args.fix is None else args.fix
    unsafe = cfg.unsafe_fixes if args.unsafe_fixes is None else args.unsafe_fixes
    linter = Linter(rules, cfg.rule_options, unsafe=unsafe, graph=graph_options(args, cfg))
    diff_mode = args.diff
    fixing = fix or diff_mode

    if any(p == "-" for p in paths):
        return check_stdin(args, cfg, linter, fixing, unsafe)

    files, problems = collect_files(paths, cfg)
    results = run_files(files, cfg, linter, fixing, jobs=args.jobs)

    diags = []
    fixed_total = 0
    diffs = []
    for path, res in results:
        display = display_path(path)
        diags += diagnostics_for(display, res.fixed_source or res.source, res.findings, res.problems, unsafe)
        if res.fixed_source is not None and res.fixed_source != res.source:
            if diff_mode:
                diffs.append(_diff(display, res.source, res.fixed_source))
            else:
                try:
                    write_atomic(path, encode(res.fixed_source, res.encoding, res.bom))
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


def graph_options(args, cfg):
    """The model view's settings, or None when it is off."""
    on = cfg.graph if args.graph is None else args.graph
    if not on:
        return None
    from klint.model.runner import DEFAULT_TIMEOUT, CaptureOptions

    timeout = args.timeout if args.timeout is not None else (cfg.timeout or DEFAULT_TIMEOUT)
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    python = args.python or cfg.python or sys.executable
    cache = None if args.no_cache else cfg.root / ".klint_cache" / "model"
    return CaptureOptions(python=python, timeout=timeout, factories=list(cfg.model_factories), root=cfg.root,
                          cache_dir=cache)


def print_warnings(results) -> None:
    for display, res in results:
        for p in res.problems:
            if getattr(p, "warning", False):
                sys.stderr.write(f"{display}:{p.row}:{p.col}: warning: {p.message}\n")


def check_stdin(args, cfg, linter, fixing: bool, unsafe: bool) -> int:
    name = args.stdin_filename or "-"
    data = sys.stdin.buffer.read()
    res = check_bytes(Path(name), data, cfg, linter, fixing)
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


def _is_venv(d: Path) -> bool:
    return (d / "pyvenv.cfg").is_file()


def collect_files(paths: list[str], cfg) -> tuple[list[Path], list]:
    files: list[Path] = []
    problems: list = []
    seen: set = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            problems.append((raw, Problem("KL002", "io-error", "No such file or directory")))
            continue
        if p.is_dir():
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


def check_bytes(path: Path, data: bytes, cfg, linter: Linter, fixing: bool) -> FileResult:
    res = FileResult(str(path))
    if path.suffix in SAVED_MODEL_SUFFIXES:
        # a saved model, read as data: its findings have no source to fix
        try:
            res.findings, res.problems = linter.lint_saved(str(path), data)
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
        if fixing:
            new, n, findings, problems, warnings = linter.fix_text(str(path), text, ignore)
            res.findings, res.problems = findings, problems
            res.problems += [Problem("KL004", "fix-reverted", w) for w in warnings]
            if n:
                res.fixed_source, res.fixed = new, n
        else:
            res.findings, res.problems = linter.lint_text(str(path), text, ignore)
    except Exception as e:  # never a traceback: report and go on with the other files
        res.findings = []
        res.problems = [Problem("KL003", "internal-error", f"klint failed on this file: {type(e).__name__}: {e}")]
    return res


def _decode_line(msg: str) -> int:
    if msg.startswith("line "):
        try:
            return int(msg.split()[1].rstrip(":"))
        except ValueError:
            return 1
    return 1


def check_file(path: Path, cfg, linter: Linter, fixing: bool) -> FileResult:
    try:
        data = path.read_bytes()
    except OSError as e:
        res = FileResult(str(path))
        res.problems.append(Problem("KL002", "io-error", f"cannot read: {e.strerror or e}"))
        return res
    return check_bytes(path, data, cfg, linter, fixing)


_WORKER: tuple | None = None


def _init_worker(state) -> None:
    global _WORKER
    _WORKER = state


def _work(path: Path) -> FileResult:
    cfg, linter, fixing = _WORKER
    return detach(check_file(path, cfg, linter, fixing))


def detach(res: FileResult) -> FileResult:
    """Drop the libcst nodes a result holds, so that it is cheap to send between processes."""
    for f in res.findings:
        f.at = None
        if f.fix is not None:
            f.fix.edits = []
    return res


def run_files(files: list[Path], cfg, linter: Linter, fixing: bool, jobs: int | None = None) -> list:
    """Check files, in parallel worker processes when there are many."""
    n = jobs if jobs is not None else (os.cpu_count() or 1)
    if n > 1 and len(files) >= 16 and hasattr(os, "fork"):
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        try:
            with ctx.Pool(min(n, len(files) // 8 or 1), initializer=_init_worker,
                          initargs=((cfg, linter, fixing),)) as pool:
                results = pool.map(_work, files, chunksize=max(1, len(files) // (n * 4)))
            return list(zip(files, results))
        except (OSError, RuntimeError):
            pass  # no processes available: fall back to one
    return [(f, check_file(f, cfg, linter, fixing)) for f in files]

"""``klint check``: the configuration and the flags, the files or standard input checked (each in a
worker process, see :mod:`klint.cli.workers`), the fixes written or shown as a diff, the output printed.
"""
from __future__ import annotations

import difflib
import os
import shutil
import sys
from pathlib import Path

from klint.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from klint.cli.files import check_bytes, check_file, collect_files, read_stdin
from klint.cli.formats import diagnostics_for, display_path, render, statistics
from klint.cli.workers import memory_limit_for, run_isolated, time_limit_for
from klint.engine.config import ConfigError, find_config, load_config, validate_selectors
from klint.engine.lint import Linter, Problem, encode, write_atomic


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
    target = args.target_version or cfg.target
    linter = Linter(rules, cfg.rule_options, unsafe=unsafe, graph=graph_options(args, cfg), target=target)
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
        diags += diagnostics_for(display, res.linted_text(), res.findings, res.problems, unsafe, res.notebook)
        if res.fixed_source is not None and res.fixed_source != res.source:
            if diff_mode:
                diffs.append(_diff(display, res))
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
    data, res = read_stdin(name)
    too_large = res is not None
    if not too_large:
        (res,) = run_isolated([Path(name)], lambda path: check_bytes(path, data, cfg, linter, fixing), None,
                              time_limit_for(linter, fixing), memory_limit_for(linter))
    display = display_path(Path(name)) if args.stdin_filename else "-"
    diags = diagnostics_for(display, res.linted_text(), res.findings, res.problems, unsafe, res.notebook)
    if args.diff:
        if res.fixed_source is not None and res.fixed_source != res.source:
            sys.stdout.write(_diff(display, res))
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


def _diff(display: str, res) -> str:
    """The fixes as a unified diff; for a notebook, one per changed cell (``nb.ipynb:cell 3``)."""
    if res.notebook is not None:
        return res.notebook.diff(res.fixed_program, display)
    return "".join(difflib.unified_diff(res.source.splitlines(keepends=True), res.fixed_source.splitlines(keepends=True),
                                        fromfile=display, tofile=display))


def run_files(files: list[Path], cfg, linter: Linter, fixing: bool, jobs: int | None = None) -> list:
    """Check files, each in a worker process (see :func:`run_isolated`): ``[(path, result)]`` in input order."""
    results = run_isolated(files, lambda path: check_file(path, cfg, linter, fixing), jobs,
                           time_limit_for(linter, fixing), memory_limit_for(linter))
    return list(zip(files, results))

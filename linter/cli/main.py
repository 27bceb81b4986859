"""Command line: the argument parser, and the dispatch of ``klint check`` (:mod:`klint.cli.check`),
``klint rule``, ``klint rules``, ``klint probe`` and ``klint report``.

Exit codes follow ruff: 0 no findings, 1 findings (files that do not parse
included), 2 usage, configuration or internal error.
"""
from __future__ import annotations

import argparse
import math
import signal
import sys
from pathlib import Path

from klint import __version__
from klint.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from klint.cli.check import cmd_check
from klint.cli.formats import FORMATS
from klint.engine.config import GRAPH_DATA_MODES, ConfigError


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


def _target(value: str):
    """``--target-version keras3.8`` (or ``keras=3.8``, ``3.8``): the Keras release the code targets."""
    from klint.engine.target import TargetError, parse_target

    try:
        return parse_target(value, "--target-version")
    except TargetError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("'--target-version': ")) from None


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
    c.add_argument("--target-version", type=_target, default=None, metavar="VERSION",
                   help="the Keras release the code targets, e.g. keras3.8 (default: the newest Keras 3; "
                        "overrides the config's target-version)")
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

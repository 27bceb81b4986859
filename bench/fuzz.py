"""Fuzz the real ``klint check`` command line with damaged Keras training scripts.

    python bench/fuzz.py [--count N] [--seed S] [--jobs J] [--kinds K ...] [--out DIR]
                         [--timeout SECONDS] [--batch B] [--fix-fraction F]
    python bench/fuzz.py --minimize FAILURE.py [--timeout SECONDS]
    python bench/fuzz.py --recheck DIR [--jobs J]

Not part of the test suite (``tests/test_fuzz.py`` is the short version that is). The mutators
are in ``tests/fuzzing.py``, shared with that test. Every generated input is a mutation of one
of the project's scripts (``tests/corpus/*.py``, ``examples/*.py``) and goes through
``python -m klint check --output-format json --jobs 1 FILE...`` in a subprocess, many files per
run. A run that goes wrong (a signal, a traceback, output that is not JSON, exit 2 without an
internal-error finding, too slow) is split in halves and re-run until the file that does it is
alone. A fraction of the inputs (``--fix-fraction``) is also fixed on a copy (``--fix``, half of
them with ``--unsafe-fixes``) and fixed again.

What counts as a failure:

* crash: exit code other than 0/1/2 (a negative one is a signal), ``Traceback`` on stderr,
  stdout not a JSON list, a KL003 internal-error finding, exit 2 without a KL003;
* hang: more than ``--timeout`` seconds (default 10) for one file, start-up excluded;
* invalid output: a finding without the JSON fields, on another file, or outside the file's lines;
  a syntax error (KL001) in a file CPython parses; exit code 0 with findings or 1 without;
* fix failure: the fixed file does not parse although the input did, a second ``--fix`` changes
  it again, it has fewer ``#`` comments than the input, or a file that does not parse was changed.

It prints the counts per mutation kind and the distinct failure classes, and writes every failing
input to ``--out`` (default /tmp/klint-fuzz-failures) as ``<kind>-<n>.py`` with ``<kind>-<n>.txt``
describing the failure and the command that reproduces it (run it from that folder). The same
``--seed`` and ``--count`` give the same inputs. Exit status: 0 when nothing failed, 1 otherwise.
KL004 (a fix klint itself reverted because its result would not parse) is counted, not failed.

``--minimize FILE`` shrinks one saved failing input (by lines, then by tokens) while it still
fails the same way, and writes ``FILE.min.py`` (the smallest so far, as it goes). ``--recheck DIR``
runs the inputs saved in DIR again and tells which failure classes remain and which are gone.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

import fuzzing as F  # noqa: E402  (tests/fuzzing.py: the mutators, shared with tests/test_fuzz.py)

KLINT = [sys.executable, "-X", "faulthandler", "-m", "klint", "check", "--output-format", "json", "--jobs", "1"]
CONFIG = "[tool.klint]\n"  # an empty config, so no outer pyproject.toml leaks in
CRASH_KINDS = ("exit/signal", "traceback", "invalid-json", "KL003")
CATEGORIES = ("crash", "hang", "invalid-output", "fix-failure")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ records


@dataclass
class Failure:
    category: str  # crash | hang | invalid-output | fix-failure
    sub: str  # exit/signal | traceback | invalid-json | KL003 | timeout | ... (see summary)
    mode: str  # check | fix | fix-again
    detail: str
    signature: str  # what groups failures into classes
    args: tuple = ()
    extra_files: dict = field(default_factory=dict)  # suffix -> bytes, saved next to the input


@dataclass
class Case:
    idx: int
    kind: str
    seed: str = ""
    data: bytes = b""
    desc: str = ""
    fix: str | None = None  # None, "safe" or "unsafe"
    failures: list = field(default_factory=list)
    seconds: float = 0.0
    kl004: int = 0
    fixed_runs: int = 0

    @property
    def name(self) -> str:
        return f"f{self.idx:06d}.py"

    @property
    def heavy(self) -> bool:
        return self.kind in F.HEAVY or len(self.data) > 300_000


@dataclass
class Run:
    rc: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool
    after: dict  # file name -> bytes after the run (fix mode)
    args: tuple


# ------------------------------------------------------------------ running klint


class Runner:
    def __init__(self, workdir: Path, timeout: float):
        self.workdir = workdir
        self.timeout = timeout
        self.startup = 0.0
        self.lock = threading.Lock()
        self.n = 0

    def calibrate(self) -> None:
        times = []
        for _ in range(3):
            r = self.run([("s.py", b"import keras\n")], ())
            times.append(r.seconds)
        self.startup = sorted(times)[1]

    @property
    def limit(self) -> float:
        """Wall-time bound of one klint run: the per-file bound plus start-up, with room for a busy machine."""
        return self.timeout + 2 * self.startup + 1.0

    def run(self, files: list[tuple[str, bytes]], args: tuple, timeout: float | None = None) -> Run:
        with self.lock:
            self.n += 1
            d = self.workdir / f"r{self.n}"
        d.mkdir()
        (d / "pyproject.toml").write_text(CONFIG)
        for name, data in files:
            (d / name).write_bytes(data)
        cmd = [*KLINT, *args, *[n for n, _ in files]]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout or self.limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # klint and anything it started, nothing else
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
        seconds = time.monotonic() - t0
        after = {}
        if "--fix" in args:
            for name, _ in files:
                try:
                    after[name] = (d / name).read_bytes()
                except OSError:
                    after[name] = b""
        shutil.rmtree(d, ignore_errors=True)
        return Run(None if timed_out else proc.returncode, out, err, seconds, timed_out, after, tuple(args))


def command_line(args: tuple, name: str) -> str:
    return " ".join(["python -m klint check --output-format json", *args, name])


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


def _top_frame(stderr: str) -> str:
    """``file.py:line in func`` of the innermost Python frame of a traceback or a faulthandler dump."""
    frames = re.findall(r'File "([^"]+)", line (\d+),? in (\S+)', stderr)
    if not frames:
        return "?"
    if "most recent call first" in stderr:
        f, line, fn = frames[0]
    else:
        f, line, fn = frames[-1]
    return f"{Path(f).name}:{line} in {fn}"


def _normalize(msg: str) -> str:
    msg = re.sub(r"'[^']*'", "'…'", msg)
    msg = re.sub(r'"[^"]*"', '"…"', msg)
    return re.sub(r"(?<![\w.:])\d+", "N", msg)


def _variant(desc: str) -> str:
    """The gist of a mutation's description: 'deep nesting: unary', 'line endings: cr', ..."""
    first = desc.split(" | ")[0]
    m = re.match(r"(deep nesting: [\w-]+|line endings: [\w-]+|coding cookie '[^']*')", first)
    if m:
        return m.group(1)
    return _normalize(first)[:50]


def _tail(b: bytes, n: int = 2500) -> str:
    s = b.decode("utf-8", "replace")
    return s if len(s) <= n else "…" + s[-n:]


def batch_anomaly(run: Run, runner: Runner, n_files: int, mode: str):
    """A Failure when the run as a whole went wrong (so the batch must be split), else None."""
    err = run.stderr.decode("utf-8", "replace")
    if run.timed_out or run.seconds - runner.startup > runner.timeout + (0 if n_files == 1 else 0.5):
        how = "killed" if run.timed_out else "finished"
        return Failure("hang", "timeout", mode, f"{how} after {run.seconds:.1f} s (start-up {runner.startup:.2f} s)",
                       f"slower than {runner.timeout:g} s per file", run.args)  # the kind is added by the caller
    if run.rc is not None and run.rc < 0:
        frame = _top_frame(err)
        return Failure("crash", "exit/signal", mode, f"killed by {_signal_name(run.rc)}\n{_tail(run.stderr)}",
                       f"{_signal_name(run.rc)} at {frame}", run.args)
    if run.rc not in (0, 1, 2):
        return Failure("crash", "exit/signal", mode, f"exit code {run.rc}\n{_tail(run.stderr)}",
                       f"exit code {run.rc}", run.args)
    if "Traceback" in err:
        last = [line for line in err.strip().splitlines() if line.strip()][-1:] or ["?"]
        return Failure("crash", "traceback", mode, _tail(run.stderr),
                       f"traceback: {_normalize(last[0].strip())[:160]} at {_top_frame(err)}", run.args)
    try:
        diags = json.loads(run.stdout)
    except ValueError as e:
        return Failure("crash", "invalid-json", mode, f"{e}\nstdout: {_tail(run.stdout, 800)}\nstderr: {_tail(run.stderr)}",
                       "stdout is not JSON", run.args)
    if not isinstance(diags, list) or not all(isinstance(d, dict) for d in diags):
        return Failure("crash", "invalid-json", mode, f"stdout is JSON but not a list of objects: {_tail(run.stdout, 800)}",
                       "stdout is not a JSON list", run.args)
    codes = [d.get("code") for d in diags]
    if run.rc == 2 and "KL003" not in codes:
        return Failure("crash", "exit/signal", mode, f"exit code 2 without a KL003 finding\n{_tail(run.stderr)}",
                       "exit code 2 without KL003", run.args)
    if run.rc == 0 and diags:
        return Failure("invalid-output", "exit code", mode, f"exit 0 with {len(diags)} findings", "exit 0 with findings",
                       run.args)
    if run.rc == 1 and not diags:
        return Failure("invalid-output", "exit code", mode, "exit 1 without findings", "exit 1 without findings", run.args)
    return None


def _line_bound(data: bytes) -> int:
    """A generous upper bound of the number of lines klint may count in ``data``."""
    n = len(data.decode("latin-1").splitlines()) + data.count(b"\xe2\x80\xa8") + data.count(b"\xe2\x80\xa9") + 1
    if re.search(rb"coding[:=]", data[:400]):
        n += data.count(b"\\") + data.count(b"\x00") + len(data) // 2  # escapes and wide codecs make more lines
    return n


def file_failures(case: Case, data: bytes, diags: list, mode: str, args: tuple) -> list:
    out = []
    bound = None
    for d in diags:
        loc, end = d.get("location"), d.get("end_location")
        if not isinstance(d.get("code"), str) or not isinstance(loc, dict) or not isinstance(end, dict):
            out.append(Failure("invalid-output", "fields", mode, json.dumps(d)[:800], "finding without its JSON fields",
                               args))
            continue
        if d["code"] == "KL003":
            out.append(Failure("crash", "KL003", mode, d.get("message", ""),
                               f"KL003: {_normalize(d.get('message', ''))[:200]}", args))
            continue
        if d["code"] == "KL004":
            case.kl004 += 1
        if d["code"] == "KL001" and F.parses(data):
            out.append(Failure("invalid-output", "KL001 on valid code", mode, f"{d.get('message', '')}",
                               f"KL001 on code CPython parses: {re.sub(r'[0-9]+', 'N', _normalize(d.get('message', '')))[:120]}", args))
        row, col = loc.get("row"), loc.get("column")
        erow, ecol = end.get("row"), end.get("column")
        if not all(isinstance(v, int) for v in (row, col, erow, ecol)):
            out.append(Failure("invalid-output", "location", mode, json.dumps(d)[:800], "location is not integers",
                               args))
            continue
        bound = bound or _line_bound(data)
        if row < 1 or col < 1 or row > bound or erow > bound:
            out.append(Failure("invalid-output", "location", mode, f"{d['code']} at {row}:{col}-{erow}:{ecol}, "
                               f"the file has at most {bound} lines", f"{d['code']} location outside the file", args))
        elif (erow, ecol) < (row, col):
            out.append(Failure("invalid-output", "location", mode, f"{d['code']} at {row}:{col}-{erow}:{ecol}",
                               f"{d['code']} ends before it starts", args))
    return out


def run_checked(runner: Runner, items: list[tuple[Case, bytes]], args: tuple, mode: str) -> dict:
    """Run klint on the items; split the batch on a whole-run failure. Returns idx -> (diags, after) for the
    files that ran cleanly; failures are appended to their cases."""
    if not items:
        return {}
    files = [(c.name, data) for c, data in items]
    run = runner.run(files, args)
    bad = batch_anomaly(run, runner, len(items), mode)
    if bad is not None:
        if len(items) > 1:
            mid = len(items) // 2
            return {**run_checked(runner, items[:mid], args, mode), **run_checked(runner, items[mid:], args, mode)}
        case = items[0][0]
        if bad.category == "hang":
            bad.signature += f" ({case.kind}: {_variant(case.desc)})"
        case.failures.append(bad)
        if mode == "check":
            case.seconds = max(case.seconds, run.seconds - runner.startup)
        return {}
    diags = json.loads(run.stdout)
    by_file = defaultdict(list)
    names = {c.name for c, _ in items}
    stray = [d for d in diags if d.get("filename") not in names]
    if stray and len(items) > 1:
        mid = len(items) // 2
        return {**run_checked(runner, items[:mid], args, mode), **run_checked(runner, items[mid:], args, mode)}
    for d in diags:
        by_file[d.get("filename")].append(d)
    out = {}
    per_file = (run.seconds - runner.startup) / len(items)
    for case, data in items:
        if stray:
            case.failures.append(Failure("invalid-output", "filename", mode, json.dumps(stray)[:800],
                                         "finding on a file that was not checked", args))
        fails = file_failures(case, data, by_file[case.name], mode, args)
        case.failures += fails
        if mode == "check":
            case.seconds = max(case.seconds, per_file)
        out[case.idx] = (by_file[case.name], run.after.get(case.name))
    return out


def check_fixes(runner: Runner, cases: list[Case]) -> None:
    for how in ("safe", "unsafe"):
        group = [c for c in cases if c.fix == how]
        if not group:
            continue
        args = ("--fix",) if how == "safe" else ("--fix", "--unsafe-fixes")
        first = run_checked(runner, [(c, c.data) for c in group], args, "fix")
        done = [c for c in group if c.idx in first and not any(f.mode == "fix" and f.category == "crash"
                                                                for f in c.failures)]
        again = run_checked(runner, [(c, first[c.idx][1]) for c in done], args, "fix-again")
        for c in done:
            c.fixed_runs += 1
            after = first[c.idx][1]
            if c.idx not in again:
                continue
            after2 = again[c.idx][1]
            input_parses = F.parses(c.data)
            extra = {".fixed.py": after}
            diff = "".join(difflib.unified_diff(c.data.decode("utf-8", "replace").splitlines(True),
                                                after.decode("utf-8", "replace").splitlines(True),
                                                "input", "after --fix", n=1))[:4000]
            if input_parses and not F.parses(after):
                c.failures.append(Failure("fix-failure", "does not parse", "fix", diff,
                                          "--fix output does not parse", args, extra))
            if not input_parses and after != c.data:
                c.failures.append(Failure("fix-failure", "changed unparsable", "fix", diff,
                                          "--fix changed a file that does not parse", args, extra))
            if after2 != after:
                d2 = "".join(difflib.unified_diff(after.decode("utf-8", "replace").splitlines(True),
                                                  after2.decode("utf-8", "replace").splitlines(True),
                                                  "after --fix", "after a second --fix", n=1))[:4000]
                c.failures.append(Failure("fix-failure", "not idempotent", "fix-again", d2,
                                          "a second --fix changes the file", args,
                                          {**extra, ".fixed2.py": after2}))
            before, now = F.comment_count(c.data), F.comment_count(after)
            if before is not None and now is not None and now < before:
                c.failures.append(Failure("fix-failure", "comments lost", "fix", f"{before} comments before, {now} "
                                          f"after\n{diff}", "--fix loses comments", args, extra))


# ------------------------------------------------------------------ the run


def make_case(idx: int, kind: str, seed: int, seeds, fix_fraction: float) -> Case:
    rng = random.Random(f"{seed}:{idx}")
    case = Case(idx, kind)
    case.kind, case.seed, case.data, case.desc = F.generate([kind], seeds, rng, kind)
    if rng.random() < fix_fraction:
        case.fix = rng.choice(("safe", "unsafe"))
    return case


def run_batch(runner: Runner, plan: list[tuple[int, str]], seed: int, seeds, fix_fraction: float) -> list[Case]:
    cases = [make_case(i, k, seed, seeds, fix_fraction) for i, k in plan]
    run_checked(runner, [(c, c.data) for c in cases], (), "check")
    check_fixes(runner, [c for c in cases if c.fix])
    for c in cases:
        if not c.heavy:
            c.data = c.data if c.failures else b""  # keep memory small: only failing inputs are kept
    return cases


def save_failure(out: Path, case: Case, runner: Runner) -> Path:
    stem = f"{case.kind}-{case.idx:06d}"
    path = out / f"{stem}.py"
    path.write_bytes(case.data)
    lines = [f"kind: {case.kind}", f"seed script: {case.seed}", f"mutation: {case.desc}",
             f"input: {len(case.data)} bytes, parses with ast: {F.parses(case.data)}", ""]
    for f in case.failures:
        lines += [f"== {f.category} / {f.sub} ({f.mode}): {f.signature}"]
        if f.mode == "check":
            lines += [f"reproduce: cd {out} && {command_line(f.args, path.name)}"]
        else:
            fargs = " ".join(f.args)
            lines += [f"reproduce: cd {out} && cp {path.name} /tmp/{stem}.copy.py && "
                      f"python -m klint check --output-format json {fargs} /tmp/{stem}.copy.py"
                      + (f" && python -m klint check --output-format json {fargs} /tmp/{stem}.copy.py"
                         if f.mode == "fix-again" or f.sub == "not idempotent" else "")]
        for suffix, data in f.extra_files.items():
            (out / f"{stem}{suffix}").write_bytes(data)
            lines += [f"saved: {stem}{suffix}"]
        lines += [f.detail, ""]
    (out / f"{stem}.txt").write_text("\n".join(lines), encoding="utf-8")
    return path


def summarize(cases: list[Case], kinds: list[str], runner: Runner, elapsed: float) -> str:
    rows = []
    head = ("kind", "inputs", "crashes", *CRASH_KINDS, "hangs", "invalid", "fixed", "fix-fail", "KL004", "max s")
    total = Counter()
    for kind in [*kinds, "total"]:
        sel = cases if kind == "total" else [c for c in cases if c.kind == kind]
        cnt = Counter()
        for c in sel:
            cats = {f.category for f in c.failures}
            subs = {f.sub for f in c.failures if f.category == "crash"}
            cnt["inputs"] += 1
            cnt["crashes"] += "crash" in cats
            for s in CRASH_KINDS:
                cnt[s] += s in subs
            cnt["hangs"] += "hang" in cats
            cnt["invalid"] += "invalid-output" in cats
            cnt["fix-fail"] += "fix-failure" in cats
            cnt["fixed"] += c.fixed_runs
            cnt["KL004"] += c.kl004 > 0
        mx = max((c.seconds for c in sel), default=0.0)
        rows.append((kind, *[str(cnt[h]) for h in head[1:-1]], f"{mx:.1f}"))
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths)))  # noqa
    out = [fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows[:-1]), fmt(["-" * w for w in widths]),
           fmt(rows[-1])]
    out += ["", "crashes = inputs with any crash (a column per crash kind; exit/signal includes exit 2 without KL003);",
            f"hangs = over {runner.timeout:g} s for the file; invalid = bad JSON content or exit code; fixed = inputs "
            "fixed twice; KL004 = inputs where klint reverted its own fix (counted, not a failure); max s = slowest "
            "file, start-up excluded (a batch's time is shared by its files).",
            f"{len(cases)} inputs in {elapsed:.0f} s, klint start-up {runner.startup:.2f} s, {runner.n} klint runs."]
    return "\n".join(out)


def classes(cases: list[Case]) -> str:
    groups: dict = defaultdict(list)
    for c in cases:
        for f in c.failures:
            groups[(f.category, f.signature)].append((c, f))
    if not groups:
        return "no failures"
    out = [f"{len(groups)} failure classes:"]
    for (cat, sig), items in sorted(groups.items(), key=lambda kv: (CATEGORIES.index(kv[0][0]), -len(kv[1]))):
        smallest = min(items, key=lambda cf: len(cf[0].data))[0]
        kinds = Counter(c.kind for c, _ in items)
        variants = Counter(_variant(c.desc) for c, _ in items)
        out.append(f"- [{cat}] {sig}: {len(items)} ({', '.join(f'{k} {n}' for k, n in kinds.most_common())}); "
                   f"smallest: {smallest.kind}-{smallest.idx:06d}.py ({len(smallest.data)} bytes)")
        out.append("    e.g. " + "; ".join(f"{v} ({n})" for v, n in variants.most_common(4)))
    return "\n".join(out)


def fuzz(args) -> int:
    seeds = F.load_seeds()
    kinds = args.kinds or list(F.KINDS)
    for k in kinds:
        if k not in F.KINDS:
            raise SystemExit(f"unknown kind {k!r}; known: {', '.join(F.KINDS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text(CONFIG)
    workdir = Path(tempfile.mkdtemp(prefix="klint-fuzz-"))
    runner = Runner(workdir, args.timeout)
    runner.calibrate()
    # the kinds take turns, so every kind gets its share of the inputs
    plan = [(i, kinds[i % len(kinds)]) for i in range(args.count)]
    light = [p for p in plan if p[1] not in F.HEAVY]
    heavy = [p for p in plan if p[1] in F.HEAVY]
    batches = [light[i:i + args.batch] for i in range(0, len(light), args.batch)] + [[p] for p in heavy]
    random.Random(args.seed).shuffle(batches)  # mix slow and fast batches over the run
    log(f"fuzz: {args.count} inputs ({len(light)} in batches of {args.batch}, {len(heavy)} alone), {len(seeds)} seed "
        f"scripts, {args.jobs} jobs, start-up {runner.startup:.2f} s, failures to {out}")
    t0 = time.monotonic()
    cases: list[Case] = []
    saved = 0
    try:
        with ThreadPoolExecutor(args.jobs) as pool:
            futs = [pool.submit(run_batch, runner, b, args.seed, seeds, args.fix_fraction) for b in batches]
            done_inputs = 0
            for n, fut in enumerate(as_completed(futs), 1):
                got = fut.result()
                cases += got
                done_inputs += len(got)
                for c in got:
                    if c.failures:
                        save_failure(out, c, runner)
                        saved += 1
                    if c.heavy:
                        c.data = c.data if c.failures else b""
                if n % 10 == 0 or n == len(futs):
                    log(f"  {done_inputs}/{args.count} inputs, {saved} failing, {time.monotonic() - t0:.0f} s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cases.sort(key=lambda c: c.idx)
    elapsed = time.monotonic() - t0
    print(summarize(cases, kinds, runner, elapsed))
    print()
    print(classes(cases))
    if saved:
        print(f"\n{saved} failing inputs written to {out} (<kind>-<n>.py and <kind>-<n>.txt)")
    return 1 if saved else 0


# ------------------------------------------------------------------ minimizing


def failure_signatures(runner: Runner, data: bytes, fix: tuple | None, kind: str = "minimize", desc: str = "") -> set:
    case = Case(0, kind, data=data, desc=desc)
    run_checked(runner, [(case, data)], (), "check")
    if fix:
        case.fix = "unsafe" if "--unsafe-fixes" in fix else "safe"
        check_fixes(runner, [case])
    return {f.signature for f in case.failures}


def minimize(args) -> int:
    path = Path(args.minimize)
    data = path.read_bytes()
    txt = path.with_suffix(".txt")
    fix = None
    workdir = Path(tempfile.mkdtemp(prefix="klint-min-"))
    runner = Runner(workdir, args.timeout)
    try:
        runner.calibrate()
        kind, desc = "minimize", ""
        if txt.is_file():
            t = txt.read_text(encoding="utf-8", errors="replace")
            if "(fix" in t:
                fix = ("--fix", "--unsafe-fixes") if "--unsafe-fixes" in t else ("--fix",)
            m = re.search(r"^kind: (.*)$", t, re.M)
            kind = m.group(1) if m else kind
            m = re.search(r"^mutation: (.*)$", t, re.M)
            desc = m.group(1) if m else desc
        target = failure_signatures(runner, data, None, kind, desc)  # a failure of the plain check is cheaper to test
        if target:
            fix = None
        elif fix:
            target = failure_signatures(runner, data, fix, kind, desc)
        if not target:
            log(f"{path}: does not fail (any more)")
            return 1
        sig = sorted(target)[0]
        log(f"minimizing {path} ({len(data)} bytes) for: {sig}")
        outp = path.with_suffix(".min.py")

        def still(d: bytes) -> bool:
            if sig not in failure_signatures(runner, d, fix, kind, desc):
                return False
            outp.write_bytes(d)  # the smallest so far, should the run be stopped
            return True

        data = _ddmin(data.splitlines(keepends=True), still, b"")
        log(f"  by lines: {len(data)} bytes")
        data = _ddmin(re.findall(rb"\w+|\s+|[^\w\s]", data, re.S), still, b"")
        log(f"  by tokens: {len(data)} bytes")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    outp.write_bytes(data)
    print(f"{outp}: {len(data)} bytes, {sig}")
    print(data.decode("utf-8", "backslashreplace")[:2000])
    return 0


def recheck(args) -> int:
    """Run the saved failing inputs of a folder again: which still fail, and how."""
    folder = Path(args.recheck)
    paths = sorted(p for p in folder.glob("*-*.py") if re.fullmatch(r"[a-z_]+-\d+\.py", p.name))
    workdir = Path(tempfile.mkdtemp(prefix="klint-recheck-"))
    runner = Runner(workdir, args.timeout)
    still: dict = defaultdict(list)
    fixed: dict = defaultdict(list)

    def one(path: Path):
        txt = path.with_suffix(".txt")
        t = txt.read_text(encoding="utf-8", errors="replace") if txt.is_file() else ""
        before = set(re.findall(r"^== [^:]+: (.*)$", t, re.M))
        fix = None
        if "(fix" in t:
            fix = ("--fix", "--unsafe-fixes") if "--unsafe-fixes" in t else ("--fix",)
        kind = re.search(r"^kind: (.*)$", t, re.M)
        desc = re.search(r"^mutation: (.*)$", t, re.M)
        return path, before, failure_signatures(runner, path.read_bytes(), fix, kind.group(1) if kind else "minimize",
                                                desc.group(1) if desc else "")

    try:
        runner.calibrate()
        with ThreadPoolExecutor(args.jobs) as pool:
            for path, before, now in pool.map(one, paths):
                for sig in now:
                    still[sig].append(path.name)
                for sig in before - now:
                    fixed[sig].append(path.name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(paths)} saved inputs in {folder}")
    print(f"still failing, {len(still)} classes:")
    for sig, names in sorted(still.items(), key=lambda kv: -len(kv[1])):
        print(f"- {sig}: {len(names)} (e.g. {', '.join(names[:3])})")
    print(f"no longer failing, {len(fixed)} classes:")
    for sig, names in sorted(fixed.items(), key=lambda kv: -len(kv[1])):
        print(f"- {sig}: {len(names)} (e.g. {', '.join(names[:3])})")
    return 1 if still else 0


def _ddmin(parts: list[bytes], still, joiner: bytes) -> bytes:
    """Zeller's delta debugging on a list of chunks (bounded, greedy)."""
    n = 2
    while len(parts) >= 2:
        size = max(1, len(parts) // n)
        chunks = [parts[i:i + size] for i in range(0, len(parts), size)]
        reduced = False
        for i in range(len(chunks)):
            rest = [p for j, c in enumerate(chunks) if j != i for p in c]
            if rest and still(joiner.join(rest)):
                parts, n, reduced = rest, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(parts):
                break
            n = min(len(parts), n * 2)
    return joiner.join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=10_000, help="generated inputs (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--jobs", type=int, default=2, help="klint processes at a time (default 2)")
    p.add_argument("--kinds", nargs="+", metavar="KIND", help=f"mutation kinds (default all: {' '.join(F.KINDS)})")
    p.add_argument("--out", default="/tmp/klint-fuzz-failures", help="folder for failing inputs")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds one file may take (default 10)")
    p.add_argument("--batch", type=int, default=25, help="files per klint run (default 25)")
    p.add_argument("--fix-fraction", type=float, default=0.25, help="share of inputs also fixed twice (default 0.25)")
    p.add_argument("--minimize", metavar="FILE", help="shrink a saved failing input instead of fuzzing")
    p.add_argument("--recheck", metavar="DIR", help="run the failing inputs saved in DIR again instead of fuzzing")
    args = p.parse_args(argv)
    if args.minimize:
        return minimize(args)
    if args.recheck:
        return recheck(args)
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())

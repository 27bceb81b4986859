#!/usr/bin/env python
"""Benchmark klint's model view (``klint check --graph``) against bare TensorFlow imports, in one run.

The model view runs each script up to its first training call in a subprocess: a warm server imports
Keras/TensorFlow once and forks a child per script. Its unavoidable cost is one TensorFlow import, so
the baseline is ``python -c "import tensorflow"`` measured in the same run on the same machine.

Measured, every command a fresh subprocess run from a temp dir (no pyproject.toml, klint defaults):

1. ``klint check --graph --no-cache --exit-zero --output-format json`` on N scripts (``--n``, default 20),
   with the default ``--jobs`` and with ``--jobs 1``;
2. the same on ONE script (the N=1 case);
3. the same N scripts with the snapshot cache warm (``--graph`` without ``--no-cache``; the cache is
   filled by one untimed run first), and ``klint check`` without ``--graph`` (source view only);
4. ``python -c "import tensorflow"``: one import (median), and N sequential imports (``--tf-runs``
   imports are timed and the sum is scaled to N when N is larger; the output says so).

Targets: one file <= one TF import + 1 s; over N files, klint / N <= 0.70 s per file.

Scripts: by default the files of ``tests/corpus`` that build a model quickly. Each candidate is copied
to a temp folder and run once through klint's own capture (this also warms the OS file cache and the
``.pyc`` files of TensorFlow); a script is kept when it ends with a captured model (it reached
training, no warning) within ``--probe-timeout`` seconds. Candidates are taken in folder order until N
are kept; if fewer than N qualify, they are copied again under other names. ``--no-probe`` instead
takes the first files that do not import torch/jax/flax/sklearn/keras_hub/keras_cv/matplotlib.

Usage: python bench/bench_graph.py [--n N] [--folder DIR] [--repeat R] [--repeat-fast R2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import default_folder, klint_command, log, ratio  # noqa: E402
TARGET_PER_FILE_S = 0.70  # over N files: klint wall / N
TARGET_ONE_FILE_EXTRA_S = 1.0  # one file: klint wall <= one TF import + this
SKIP_IMPORTS = re.compile(
    rb"^\s*(?:import|from)\s+(torch|jax|flax|sklearn|keras_hub|keras_cv|matplotlib)\b", re.MULTILINE)
COMMAND_TIMEOUT_S = 900.0


# ----------------------------------------------------------------- measuring


def tf_env() -> dict:
    """The environment klint gives its capture (quiet TF logs, no GPU); the bare imports use it too."""
    try:
        from klint.model.runner import capture_env

        return capture_env()
    except Exception:  # pragma: no cover - an older/newer klint
        env = dict(os.environ)
        env["CUDA_VISIBLE_DEVICES"] = "-1"
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        return env


def tf_version() -> str | None:
    """TensorFlow's version from its metadata (importing it here would cost a TF import)."""
    from importlib import metadata

    for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-intel"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def load_avg() -> list[float] | None:
    """The 1/5/15-minute load: other work on the machine skews every number here."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


class Sample:
    def __init__(self, wall: float, cpu: float, findings: int | None, warnings: int) -> None:
        self.wall, self.cpu, self.findings, self.warnings = wall, cpu, findings, warnings


def run_once(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[Sample, subprocess.CompletedProcess]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"command timed out after {COMMAND_TIMEOUT_S:g} s: {' '.join(cmd)}")
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(
            f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stderr.decode(errors='replace')[-3000:]}"
        )
    return Sample(wall, cpu, count_findings(proc), count_warnings(proc)), proc


def count_findings(proc: subprocess.CompletedProcess) -> int | None:
    try:
        data = json.loads(proc.stdout or b"null")
    except ValueError:
        return None
    return len(data) if isinstance(data, list) else None


def count_warnings(proc: subprocess.CompletedProcess) -> int:
    """klint's ``path:row:col: warning: model view: ...`` lines (a script it could not capture)."""
    return sum(1 for line in proc.stderr.decode(errors="replace").splitlines() if ": warning: " in line)


class Series:
    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict | None = None) -> None:
        self.name, self.cmd, self.cwd, self.env = name, cmd, cwd, env
        self.samples: list[Sample] = []
        self.last: subprocess.CompletedProcess | None = None

    def warm_up(self) -> None:
        _, self.last = run_once(self.cmd, self.cwd, self.env)

    def run(self) -> None:
        s, self.last = run_once(self.cmd, self.cwd, self.env)
        self.samples.append(s)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def findings(self) -> int | None:
        return self.samples[-1].findings if self.samples else None

    @property
    def warnings(self) -> int:
        return self.samples[-1].warnings if self.samples else 0

    def summary(self) -> dict:
        return {
            "cmd": self.cmd,
            "wall_median_s": round(self.wall, 4),
            "cpu_median_s": round(self.cpu, 4),
            "wall_min_s": round(min(s.wall for s in self.samples), 4),
            "wall_max_s": round(max(s.wall for s in self.samples), 4),
            "wall_all_s": [round(s.wall, 4) for s in self.samples],
            "runs": len(self.samples),
            "findings": self.findings,
            "warnings": self.warnings,
        }


def measure(series: list[Series], repeat: int, warm_up: bool) -> None:
    """Optionally warm every command up once, then interleave the timed runs so drift hits all alike."""
    if warm_up:
        for s in series:
            log(f"  warm-up: {s.name}")
            s.warm_up()
    for i in range(repeat):
        for s in series:
            log(f"  run {i + 1}/{repeat}: {s.name}")
            s.run()
            log(f"    {s.samples[-1].wall:.2f}s")


# ----------------------------------------------------------------- files


def all_keras(folder: Path) -> list[Path]:
    """Top-level scripts of the folder that mention Keras or TensorFlow, in name order."""
    out = []
    for f in sorted(folder.glob("*.py")):
        try:
            data = f.read_bytes()
        except OSError:
            continue
        if b"keras" in data or b"tensorflow" in data:
            out.append(f)
    return out


def candidates(folder: Path) -> list[Path]:
    """The Keras scripts of the folder that import no other framework."""
    return [f for f in all_keras(folder) if not SKIP_IMPORTS.search(f.read_bytes())]


def probe(files: list[Path], work: Path, n: int, timeout: float) -> tuple[list[Path], list[dict]]:
    """Run each candidate (a copy under ``work``) once through klint's capture; keep the quick, clean ones."""
    from klint.model import runner

    work.mkdir(parents=True, exist_ok=True)
    kept: list[Path] = []
    report: list[dict] = []
    t0 = time.perf_counter()
    server = runner._server(sys.executable) if hasattr(runner, "_server") else None
    log(f"  capture server ready in {time.perf_counter() - t0:.2f}s" if server else "  no warm server: one-shot")
    try:
        for f in files:
            if len(kept) >= n:
                break
            copy = work / f.name
            shutil.copyfile(f, copy)
            source = copy.read_bytes()
            opts = runner.CaptureOptions(python=sys.executable, timeout=timeout, root=work)
            t = time.perf_counter()
            res = runner.run_capture(copy.resolve(), opts, source)
            dt = time.perf_counter() - t
            snap = res.snapshot or {}
            ok = (bool(snap.get("models")) and snap.get("status") == "trained" and not res.warning
                  and dt <= timeout)
            report.append({"file": f.name, "seconds": round(dt, 3), "status": snap.get("status"),
                           "models": len(snap.get("models") or []), "kept": ok,
                           "warning": (res.warning or "")[:160]})
            log(f"  {'keep' if ok else 'skip'} {f.name}: {dt:.2f}s {snap.get('status')}"
                + (f" ({res.warning[:100]})" if res.warning else ""))
            if ok:
                kept.append(f)
    finally:
        runner.shutdown()
    return kept, report


def lay_out(files: list[Path], n: int, dest: Path) -> list[Path]:
    """N files under ``dest``: the chosen ones in order, copied again under other names if too few."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        src = files[i % len(files)]
        target = dest / f"s{i:03d}_{src.name}"
        shutil.copyfile(src, target)
        out.append(target)
    return out


# ----------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="number of scripts for the folder bench (default 20)")
    ap.add_argument("--folder", type=Path, default=None,
                    help="folder of Keras scripts (default: tests/corpus if it exists, else ../shared/cases)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed runs of each `--graph --no-cache` command over N files (median; default 1)")
    ap.add_argument("--repeat-fast", type=int, default=3,
                    help="timed runs of the one-file, cached, source-only and TF-import commands (default 3)")
    ap.add_argument("--tf-runs", type=int, default=3,
                    help="bare TF imports timed for the N-import baseline; scaled to N when N is larger "
                         "(default 3; pass N or more to time all N)")
    ap.add_argument("--probe-timeout", type=float, default=5.0,
                    help="keep a script when its capture ends with a model within this many seconds (default 5)")
    ap.add_argument("--no-probe", action="store_true",
                    help="do not run the capture to choose files: take the first non-torch/jax/sklearn/... files")
    ap.add_argument("--file", type=Path, default=None, help="the one-file script (default: the first chosen file)")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args(argv)
    if args.n < 1 or args.repeat < 1 or args.repeat_fast < 1 or args.tf_runs < 1:
        ap.error("--n, --repeat, --repeat-fast and --tf-runs must be >= 1")

    folder = (args.folder or default_folder()).resolve()
    if not folder.is_dir():
        ap.error(f"not a folder: {folder}")
    n = args.n
    klint = klint_command()
    py = sys.executable
    env = tf_env()
    results: dict = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "klint": klint},
        "folder": str(folder), "n": n, "repeat": args.repeat, "repeat_fast": args.repeat_fast,
    }
    results["machine"]["tensorflow"] = tf_version()
    results["machine"]["loadavg_start"] = load_avg()

    with tempfile.TemporaryDirectory(prefix="klint-graph-bench-") as tmp:
        tmp_path = Path(tmp)
        # ---- choose the scripts
        if args.no_probe:
            chosen = candidates(folder)[:n]
            results["selection"] = {"method": "first files without torch/jax/flax/sklearn/keras_hub/keras_cv/"
                                              "matplotlib imports", "probe": None}
            log("warm-up: python -c 'import tensorflow' (untimed)")
            run_once([py, "-c", "import tensorflow"], tmp_path, env)
        else:
            log(f"choosing scripts: one capture each (timeout {args.probe_timeout:g}s), in folder order")
            chosen, report = probe(all_keras(folder), tmp_path / "probe", n, args.probe_timeout)
            results["selection"] = {"method": f"ends with a captured model within {args.probe_timeout:g}s "
                                              "(klint's capture, run once; also the warm-up)", "probe": report}
        if not chosen:
            raise SystemExit(f"no usable Keras script under {folder}")
        distinct = len(chosen)
        probe_report = results["selection"]["probe"]
        if probe_report:
            secs = {r["file"]: r["seconds"] for r in probe_report if r["kept"]}
            # the scripts' own time up to fit() in a warm server, over the N laid-out files
            results["selection"]["capture_sum_s"] = round(sum(secs[chosen[i % distinct].name] for i in range(n)), 3)
        results["selection"]["distinct_files"] = distinct
        results["selection"]["files"] = [f.name for f in chosen]
        single_src = args.file.resolve() if args.file else chosen[0]
        if not single_src.is_file():
            ap.error(f"not a file: {single_src}")

        files_dir = tmp_path / "files"
        one_dir = tmp_path / "one"
        lay_out(chosen, n, files_dir)
        one_file = lay_out([single_src], 1, one_dir)[0]
        cwd = tmp_path  # no pyproject.toml: klint's defaults; its cache goes to cwd/.klint_cache
        cache_dir = cwd / ".klint_cache"
        log(f"graph bench: {n} files ({distinct} distinct) in {files_dir}; one file: {single_src.name}")

        base = [*klint, "check", "--exit-zero", "--output-format", "json"]
        g_default = Series("graph --no-cache", [*base, "--graph", "--no-cache", str(files_dir)], cwd)
        g_jobs1 = Series("graph --no-cache --jobs 1",
                         [*base, "--graph", "--no-cache", "--jobs", "1", str(files_dir)], cwd)
        g_one = Series("graph --no-cache, one file", [*base, "--graph", "--no-cache", str(one_file)], cwd)
        c_default = Series("graph, cache warm", [*base, "--graph", str(files_dir)], cwd)
        c_jobs1 = Series("graph, cache warm, --jobs 1", [*base, "--graph", "--jobs", "1", str(files_dir)], cwd)
        s_default = Series("source only", [*base, str(files_dir)], cwd)
        s_jobs1 = Series("source only --jobs 1", [*base, "--jobs", "1", str(files_dir)], cwd)
        s_one = Series("source only, one file", [*base, str(one_file)], cwd)
        tf = Series("python -c 'import tensorflow'", [py, "-c", "import tensorflow"], cwd, env)

        log(f"graph, no cache, {n} files (x{args.repeat})")
        measure([g_default, g_jobs1], args.repeat, warm_up=False)
        if cache_dir.exists():
            log(f"warning: --no-cache runs wrote {cache_dir}")
            shutil.rmtree(cache_dir)
        log(f"one file, TF import (x{args.repeat_fast})")
        tf_timed = max(args.repeat_fast, min(n, args.tf_runs))
        measure([g_one, s_one], args.repeat_fast, warm_up=False)
        measure([tf], tf_timed, warm_up=False)
        log(f"cache warm and source only, {n} files (x{args.repeat_fast}; the cache is filled by the warm-up)")
        c_default.warm_up()  # fills the cache (untimed)
        cache_files = len(list((cache_dir / "model").glob("*.json"))) if cache_dir.is_dir() else 0
        for s in (c_jobs1, s_default, s_jobs1):  # untimed warm-ups of the fast commands
            s.warm_up()
        measure([c_default, c_jobs1, s_default, s_jobs1], args.repeat_fast, warm_up=False)

    results["machine"]["loadavg_end"] = load_avg()

    # ---- numbers
    one_import = tf.wall
    k_walls = [s.wall for s in tf.samples]
    if n <= len(k_walls):
        n_imports = sum(k_walls[:n])
        n_imports_how = f"{n} sequential imports, timed"
    else:
        sample = k_walls[:args.tf_runs] if args.tf_runs < n else k_walls
        n_imports = sum(sample) * n / len(sample)
        n_imports_how = f"{len(sample)} sequential imports timed, sum scaled x{n / len(sample):.2f} to {n}"
    per_file = g_default.wall / n
    per_file_j1 = g_jobs1.wall / n
    one_limit = one_import + TARGET_ONE_FILE_EXTRA_S
    results.update({
        "tf_import": {**tf.summary(), "one_import_s": round(one_import, 4), "n_imports_s": round(n_imports, 4),
                      "n_imports_how": n_imports_how, "env": {k: env.get(k) for k in
                                                              ("CUDA_VISIBLE_DEVICES", "TF_CPP_MIN_LOG_LEVEL",
                                                               "TF_ENABLE_ONEDNN_OPTS")}},
        "graph_no_cache": g_default.summary(),
        "graph_no_cache_jobs1": g_jobs1.summary(),
        "graph_no_cache_one_file": {**g_one.summary(), "file": single_src.name},
        "graph_cache_warm": {**c_default.summary(), "cache_files": cache_files},
        "graph_cache_warm_jobs1": c_jobs1.summary(),
        "source_only": s_default.summary(),
        "source_only_jobs1": s_jobs1.summary(),
        "source_only_one_file": s_one.summary(),
        "folder_targets": {
            "per_file_s": round(per_file, 4), "per_file_jobs1_s": round(per_file_j1, 4),
            "target_per_file_s": TARGET_PER_FILE_S,
            "meets_target": per_file <= TARGET_PER_FILE_S, "meets_target_jobs1": per_file_j1 <= TARGET_PER_FILE_S,
            "ratio_to_n_imports": round(ratio(g_default.wall, n_imports), 3),
            "ratio_to_n_imports_jobs1": round(ratio(g_jobs1.wall, n_imports), 3),
            "ratio_to_one_import": round(ratio(g_default.wall, one_import), 3),
            "ratio_to_one_import_jobs1": round(ratio(g_jobs1.wall, one_import), 3),
            "per_file_net_of_one_import_s": round((g_default.wall - one_import) / n, 4),
            "per_file_net_of_one_import_jobs1_s": round((g_jobs1.wall - one_import) / n, 4),
            "cache_warm_over_source_only": round(ratio(c_default.wall, s_default.wall), 3),
            "cache_warm_over_source_only_jobs1": round(ratio(c_jobs1.wall, s_jobs1.wall), 3),
        },
        "one_file_targets": {
            "klint_s": round(g_one.wall, 4), "tf_import_plus_1s": round(one_limit, 4),
            "over_one_import_s": round(g_one.wall - one_import, 4),
            "ratio_to_one_import": round(ratio(g_one.wall, one_import), 3),
            "meets_target": g_one.wall <= one_limit,
        },
    })
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    def ok(flag: bool) -> str:
        return "ok" if flag else "MISSED"

    ft, ot = results["folder_targets"], results["one_file_targets"]
    sel = results["selection"]
    print()
    print(f"machine: python {platform.python_version()}, tensorflow {results['machine']['tensorflow']}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}")
    print(f"load:    {results['machine']['loadavg_start']} at the start, {results['machine']['loadavg_end']} "
          f"at the end (1/5/15 min; other processes on the machine skew the times)")
    print(f"files:   {n} from {folder} ({distinct} distinct: {sel['method']}); one file: {single_src.name}")
    if sel.get("probe"):
        skipped = [r for r in sel["probe"] if not r["kept"]]
        print(f"probe:   {len(sel['probe'])} files run once through the capture, {distinct} kept, "
              f"{len(skipped)} skipped"
              + (f" ({', '.join(r['file'][:3] + ' ' + str(r['status']) for r in skipped)})" if skipped else "")
              + "; "
              f"capture time of the {n} files in a warm server (script up to fit): {sel['capture_sum_s']:.2f}s")
    if distinct < n:
        print(f"         fewer than {n} qualified: the {distinct} files were copied again under other names")
    print(f"runs:    graph --no-cache over {n} files: {args.repeat} (median); everything else: median of "
          f"{args.repeat_fast}; TF import: {tf_timed} runs, env as klint's capture "
          f"(TF_CPP_MIN_LOG_LEVEL={env.get('TF_CPP_MIN_LOG_LEVEL')}, "
          f"TF_ENABLE_ONEDNN_OPTS={env.get('TF_ENABLE_ONEDNN_OPTS')}, no GPU)")
    print(f"{'':40}{'wall':>9}{'cpu':>9}{'per file':>10}{'findings':>10}{'warnings':>10}")
    rows = (
        (f"klint --graph --no-cache ({n} files)", g_default, n),
        ("klint --graph --no-cache --jobs 1", g_jobs1, n),
        ("klint --graph --no-cache (1 file)", g_one, 1),
        (f"klint --graph, cache warm ({n} files)", c_default, n),
        ("klint --graph, cache warm, --jobs 1", c_jobs1, n),
        (f"klint source only ({n} files)", s_default, n),
        ("klint source only --jobs 1", s_jobs1, n),
        ("klint source only (1 file)", s_one, 1),
        ("python -c 'import tensorflow'", tf, 1),
    )
    for name, s, k in rows:
        fnd = "" if s.findings is None else str(s.findings)
        wrn = "" if s is tf else str(s.warnings)
        print(f"  {name:38}{s.wall:8.2f}s{s.cpu:8.2f}s{s.wall / k:9.2f}s{fnd:>10}{wrn:>10}")
    print(f"  {n} x import tensorflow{'':17}{n_imports:8.2f}s   ({n_imports_how})")
    print("  cpu = user+sys of the waited-for process tree. With the default jobs and >= 16 files klint uses a")
    print("  worker pool whose capture servers are not waited for, so their cpu is missing (a lower bound).")
    print()
    print(f"graph bench: files={n} klint={g_default.wall:.2f}s ({per_file:.2f}s/file, target <= "
          f"{TARGET_PER_FILE_S:.2f}) {ok(ft['meets_target'])}  tf-import={one_import:.2f}s  "
          f"{n}x-tf-import={n_imports:.2f}s  klint/{n}x-import={ft['ratio_to_n_imports']:.2f}  "
          f"klint/1-import={ft['ratio_to_one_import']:.2f}  "
          f"(net of one import: {ft['per_file_net_of_one_import_s']:.2f}s/file)")
    print(f"graph bench --jobs 1: files={n} klint={g_jobs1.wall:.2f}s ({per_file_j1:.2f}s/file, target <= "
          f"{TARGET_PER_FILE_S:.2f}) {ok(ft['meets_target_jobs1'])}  "
          f"klint/{n}x-import={ft['ratio_to_n_imports_jobs1']:.2f}  "
          f"klint/1-import={ft['ratio_to_one_import_jobs1']:.2f}  "
          f"(net of one import: {ft['per_file_net_of_one_import_jobs1_s']:.2f}s/file)")
    print(f"graph bench cached: files={n} klint={c_default.wall:.2f}s (--jobs 1: {c_jobs1.wall:.2f}s)  "
          f"source-only={s_default.wall:.2f}s (--jobs 1: {s_jobs1.wall:.2f}s)  "
          f"cached/source={ft['cache_warm_over_source_only']:.2f} "
          f"(--jobs 1: {ft['cache_warm_over_source_only_jobs1']:.2f})  cache files={cache_files}")
    print(f"graph bench one file: klint={g_one.wall:.2f}s tf-import+1s={one_limit:.2f}s "
          f"{ok(ot['meets_target'])}  (tf-import={one_import:.2f}s, klint-import={ot['over_one_import_s']:+.2f}s, "
          f"ratio={ot['ratio_to_one_import']:.2f}; source only {s_one.wall:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

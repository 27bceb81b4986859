#!/usr/bin/env python
"""Benchmark klint's source view against a libcst "parse floor", measured in the same run.

Three comparisons, every command run as a fresh subprocess (so interpreter start-up is in both
sides of each ratio), median of ``--repeat`` runs after one untimed warm-up:

1. folder, default jobs: ``klint check --output-format json --exit-zero DIR`` versus a subprocess that
   imports libcst, reads every ``.py`` file under DIR mentioning ``keras`` or ``tensorflow`` and runs
   ``libcst.parse_module`` on each (the parse floor). DIR is a temp dir holding ``--copies`` copies
   of the folder's Keras files, so the per-file cost dominates start-up.
2. folder, ``--jobs 1``: the same with klint in a single process, wall time and CPU time
   (user+sys of the child and its waited-for descendants, from ``RUSAGE_CHILDREN`` deltas).
3. one file: ``klint check`` on one typical file versus a bare ``python -c "import libcst"``.

Usage: python bench/bench_source.py [--folder DIR] [--repeat N] [--copies K] [--file F] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO_ROOT, default_folder, klint_command, log, ratio  # noqa: E402
TARGET_RATIO = 1.30
TARGET_SINGLE_FILE_S = 0.50
MARKERS = (b"keras", b"tensorflow")

# Directories klint itself never descends into; mirrored so both sides see the same files.
try:
    from klint.engine.config import DEFAULT_EXCLUDE as _KLINT_EXCLUDE
except Exception:  # pragma: no cover - the bench must still run against an older/newer klint
    _KLINT_EXCLUDE = ()
EXCLUDE_DIRS = set(_KLINT_EXCLUDE) | {".git", ".venv", "venv", "__pycache__", "build", "dist", "node_modules"}

# The parse floor: the least any libcst-based linter has to do on these files.
FLOOR_SCRIPT = r"""
import os, sys
import libcst
n = 0
for root, dirs, names in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(names):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            if b"keras" in data or b"tensorflow" in data:
                libcst.parse_module(data)
                n += 1
print(n)
"""


# ----------------------------------------------------------------- measuring


class Sample:
    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu


def run_once(cmd: list[str], cwd: Path) -> tuple[Sample, subprocess.CompletedProcess]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(
            f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stderr.decode(errors='replace')[-3000:]}"
        )
    return Sample(wall, cpu), proc


class Series:
    """Repeated timings of one command; the first (warm-up) run is not counted."""

    def __init__(self, name: str, cmd: list[str], cwd: Path) -> None:
        self.name, self.cmd, self.cwd = name, cmd, cwd
        self.samples: list[Sample] = []
        self.last: subprocess.CompletedProcess | None = None

    def warm_up(self) -> None:
        _, self.last = run_once(self.cmd, self.cwd)

    def run(self) -> None:
        s, self.last = run_once(self.cmd, self.cwd)
        self.samples.append(s)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    def summary(self) -> dict:
        return {
            "cmd": self.cmd,
            "wall_median_s": round(self.wall, 4),
            "cpu_median_s": round(self.cpu, 4),
            "wall_min_s": round(min(s.wall for s in self.samples), 4),
            "wall_max_s": round(max(s.wall for s in self.samples), 4),
            "runs": len(self.samples),
        }


def measure(series: list[Series], repeat: int) -> None:
    """Warm every command up once, then interleave the timed runs so drift hits all sides alike."""
    for s in series:
        log(f"  warm-up: {s.name}")
        s.warm_up()
    for i in range(repeat):
        log(f"  run {i + 1}/{repeat}")
        for s in series:
            s.run()


# ----------------------------------------------------------------- files


def keras_files(folder: Path) -> list[Path]:
    out: list[Path] = []
    for root, dirs, names in os.walk(folder):
        rootp = Path(root)
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDE_DIRS and not (rootp / d / "pyvenv.cfg").exists())
        for n in sorted(names):
            if n.endswith(".py"):
                f = rootp / n
                try:
                    data = f.read_bytes()
                except OSError:
                    continue
                if any(m in data for m in MARKERS):
                    out.append(f)
    return out


def replicate(files: list[Path], folder: Path, copies: int, dest: Path) -> int:
    n = 0
    for k in range(copies):
        for f in files:
            target = dest / f"copy_{k:03d}" / f.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            n += 1
    return n


def count_findings(proc: subprocess.CompletedProcess | None) -> int | None:
    if proc is None:
        return None
    try:
        data = json.loads(proc.stdout or b"[]")
    except ValueError:
        return None
    return len(data) if isinstance(data, list) else None


# ----------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", type=Path, default=None,
                    help="folder of Keras scripts (default: tests/corpus if it exists, else ../shared/cases)")
    ap.add_argument("--repeat", "-n", type=int, default=5, help="timed runs per command (median; default 5)")
    ap.add_argument("--copies", "-k", type=int, default=5,
                    help="replicate the folder's Keras files this many times (default 5)")
    ap.add_argument("--file", type=Path, default=None,
                    help="the single file (default: examples/unstable_train.py if it exists, else the first file)")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.copies < 1:
        ap.error("--repeat and --copies must be >= 1")

    folder = (args.folder or default_folder()).resolve()
    if not folder.is_dir():
        ap.error(f"not a folder: {folder}")
    files = keras_files(folder)
    if not files:
        ap.error(f"no .py file mentioning keras/tensorflow under {folder}")

    if args.file is not None:
        single = args.file.resolve()
    else:
        example = REPO_ROOT / "examples" / "unstable_train.py"
        single = example if example.is_file() else files[0]
    if not single.is_file():
        ap.error(f"not a file: {single}")

    klint = klint_command()
    py = sys.executable
    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "klint": klint,
        },
        "folder": str(folder),
        "repeat": args.repeat,
        "copies": args.copies,
    }

    with tempfile.TemporaryDirectory(prefix="klint-bench-") as tmp:
        work = Path(tmp) / "corpus"
        n_files = replicate(files, folder, args.copies, work)
        cwd = Path(tmp)  # no pyproject.toml here: klint runs with its defaults
        log(f"source bench: {len(files)} Keras files x {args.copies} copies = {n_files} files in {work}")

        k_default = Series("klint", [*klint, "check", "--output-format", "json", "--exit-zero", str(work)], cwd)
        k_jobs1 = Series("klint --jobs 1",
                         [*klint, "check", "--output-format", "json", "--exit-zero", "--jobs", "1", str(work)], cwd)
        floor = Series("parse floor", [py, "-c", FLOOR_SCRIPT, str(work)], cwd)
        measure([k_default, k_jobs1, floor], args.repeat)

        parsed = int(floor.last.stdout.decode().strip() or 0) if floor.last else 0
        if parsed != n_files:
            log(f"warning: the parse floor parsed {parsed} files, expected {n_files}")
        findings_default, findings_jobs1 = count_findings(k_default.last), count_findings(k_jobs1.last)
        if findings_default != findings_jobs1:
            log(f"warning: findings differ between default jobs ({findings_default}) and --jobs 1 ({findings_jobs1})")

        results["folder_bench"] = {
            "files": n_files,
            "findings": findings_default,
            "klint": k_default.summary(),
            "klint_jobs1": k_jobs1.summary(),
            "parse_floor": floor.summary(),
            "ratio_wall": round(ratio(k_default.wall, floor.wall), 3),
            "ratio_wall_jobs1": round(ratio(k_jobs1.wall, floor.wall), 3),
            "ratio_cpu": round(ratio(k_default.cpu, floor.cpu), 3),
            "ratio_cpu_jobs1": round(ratio(k_jobs1.cpu, floor.cpu), 3),
            "target_ratio": TARGET_RATIO,
        }

    log(f"single-file bench: {single}")
    k_one = Series("klint one file", [*klint, "check", "--output-format", "json", "--exit-zero", str(single)],
                   single.parent)
    imp = Series("import libcst", [py, "-c", "import libcst"], single.parent)
    measure([k_one, imp], args.repeat)
    results["single_file_bench"] = {
        "file": str(single),
        "klint": k_one.summary(),
        "import_libcst": imp.summary(),
        "ratio_wall": round(ratio(k_one.wall, imp.wall), 3),
        "target_wall_s": TARGET_SINGLE_FILE_S,
        "meets_target": k_one.wall <= TARGET_SINGLE_FILE_S,
    }
    fb, sb = results["folder_bench"], results["single_file_bench"]
    fb["meets_target"] = fb["ratio_wall"] <= TARGET_RATIO
    fb["meets_target_jobs1"] = fb["ratio_wall_jobs1"] <= TARGET_RATIO
    # Informational: the per-file part only, with the `import libcst` start-up taken off both sides.
    fb["ratio_wall_net_of_startup"] = round(ratio(k_default.wall - imp.wall, floor.wall - imp.wall), 3)
    fb["ratio_wall_jobs1_net_of_startup"] = round(ratio(k_jobs1.wall - imp.wall, floor.wall - imp.wall), 3)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    def ok(flag: bool) -> str:
        return "ok" if flag else "MISSED"

    print()
    print(f"machine: python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"folder:  {folder} ({len(files)} Keras files x {args.copies} copies = {n_files} files), "
          f"median of {args.repeat} runs, {fb['findings']} findings")
    print(f"{'':26}{'wall':>9}{'cpu':>9}")
    for name, s in (("klint (default jobs)", k_default), ("klint --jobs 1", k_jobs1), ("parse floor", floor),
                    ("klint one file", k_one), ("python -c 'import libcst'", imp)):
        print(f"  {name:24}{s.wall:8.3f}s{s.cpu:8.3f}s")
    print()
    print(f"source bench: files={n_files}  klint={k_default.wall:.2f}s  parse-floor={floor.wall:.2f}s  "
          f"ratio={fb['ratio_wall']:.2f} (target <= {TARGET_RATIO:.2f}) {ok(fb['meets_target'])}")
    print(f"source bench --jobs 1: files={n_files}  klint={k_jobs1.wall:.2f}s  parse-floor={floor.wall:.2f}s  "
          f"ratio={fb['ratio_wall_jobs1']:.2f} (target <= {TARGET_RATIO:.2f}) {ok(fb['meets_target_jobs1'])}  "
          f"cpu: klint={k_jobs1.cpu:.2f}s  parse-floor={floor.cpu:.2f}s  cpu-ratio={fb['ratio_cpu_jobs1']:.2f}")
    print(f"  (net of the import-libcst start-up: ratio={fb['ratio_wall_net_of_startup']:.2f}, "
          f"--jobs 1 ratio={fb['ratio_wall_jobs1_net_of_startup']:.2f})")
    print(f"single file: {single.name}  klint={k_one.wall:.2f}s  import-libcst={imp.wall:.2f}s  "
          f"ratio={sb['ratio_wall']:.2f}  (target: klint <= {TARGET_SINGLE_FILE_S:.2f}s) {ok(sb['meets_target'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

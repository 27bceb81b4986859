"""Run the capture in an isolated subprocess and return its snapshot.

The subprocess uses the user's interpreter (``--python``/``python`` in the
config, the current one by default), hides GPUs, quiets TensorFlow's logs,
keeps ``KERAS_BACKEND``, works from the script's folder, captures the
script's own output, and is killed with its whole process group when it
outlives the timeout. Snapshots are cached by the content hash of the script
and of everything that affects the capture.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from klint import __version__

CAPTURE = Path(__file__).with_name("capture.py")
DEFAULT_TIMEOUT = 60.0


@dataclass
class CaptureResult:
    snapshot: dict | None
    warning: str | None = None  # a clear message when the script could not be captured
    line: int | None = None
    stdout: str = ""
    stderr: str = ""
    cached: bool = False
    extra: dict = field(default_factory=dict)


@dataclass
class CaptureOptions:
    python: str = sys.executable
    timeout: float = DEFAULT_TIMEOUT
    factories: list = field(default_factory=list)
    root: Path | None = None
    cache_dir: Path | None = None


def cache_key(script: Path, source: bytes, opts: CaptureOptions) -> str:
    h = hashlib.sha256()
    for part in (__version__, CAPTURE.read_bytes().hex()[:64], str(script.resolve()), opts.python,
                 os.environ.get("KERAS_BACKEND", ""), json.dumps(sorted(opts.factories))):
        h.update(part.encode() + b"\0")
    h.update(source)
    return h.hexdigest()


def capture(script: Path, source: bytes, opts: CaptureOptions) -> CaptureResult:
    script = Path(script).resolve()
    key = cache_key(script, source, opts)
    cache_file = opts.cache_dir / f"{key}.json" if opts.cache_dir is not None else None
    if cache_file is not None and cache_file.is_file():
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            res = CaptureResult(data.get("snapshot"), data.get("warning"), data.get("line"), cached=True)
            return res
        except (OSError, ValueError):
            pass
    res = run_capture(script, opts, source)
    if cache_file is not None and res.snapshot is not None and not res.extra.get("timeout"):
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"snapshot": res.snapshot, "warning": res.warning, "line": res.line}),
                           encoding="utf-8")
            os.replace(tmp, cache_file)
        except OSError:
            pass
    return res


def capture_env() -> dict:
    env = dict(os.environ)
    env["CUDA_VISIBLE_DEVICES"] = "-1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env


def run_capture(script: Path, opts: CaptureOptions, source: bytes | None = None) -> CaptureResult:
    with tempfile.TemporaryDirectory(prefix="klint-capture-") as td:
        out = Path(td) / "snapshot.json"
        cmd = [opts.python, str(CAPTURE), str(script), str(out), "--root", str(opts.root or script.parent)]
        if source is not None:
            text = Path(td) / "source.py"
            text.write_bytes(source)
            cmd += ["--source", str(text)]
        for f in opts.factories:
            cmd += ["--factory", f]
        try:
            proc = subprocess.Popen(cmd, cwd=str(script.parent), env=capture_env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            return CaptureResult(None, f"cannot start {opts.python}: {e.strerror or e}")
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=opts.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            stdout, stderr = proc.communicate()
        finally:
            _kill_group(proc)  # anything the script left running in its group
        so = stdout.decode("utf-8", "replace")
        se = stderr.decode("utf-8", "replace")
        if timed_out:
            return CaptureResult(None, f"the script did not reach training within {opts.timeout:g} s "
                                       "(raise `timeout` in [tool.klint] if it needs longer)",
                                 stdout=so, stderr=se, extra={"timeout": True})
        if not out.is_file():
            tail = (se.strip().splitlines() or ["no output"])[-1]
            return CaptureResult(None, f"the capture process failed (exit code {proc.returncode}): {tail}",
                                 stdout=so, stderr=se)
        try:
            snap = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            return CaptureResult(None, f"unreadable snapshot: {e}", stdout=so, stderr=se)
    res = CaptureResult(snap, stdout=so, stderr=se)
    err = snap.get("error")
    if err:
        where = ""
        if err.get("file") and err.get("line"):
            where = f" at {os.path.basename(err['file'])}:{err['line']}"
            if Path(err["file"]).resolve() == script:
                res.line = err["line"]
        if err.get("where") == "import keras":
            res.warning = f"cannot build the model: Keras is not importable in {opts.python}: {err['message']}"
        elif err.get("type") == "SystemExit":
            res.warning = f"{err['message']} before training" + (
                "" if snap.get("models") else "; no model was built")
        else:
            res.warning = (f"the script raised {err['type']}: {err['message'].strip().splitlines()[0] if err['message'].strip() else ''}"
                           f"{where}" + ("" if snap.get("models") else "; no model was built"))
    elif not snap.get("models"):
        res.warning = "the script built no Keras model (and no build_model()-like factory was found)"
    return res


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass

"""Run the capture in an isolated subprocess and return its snapshot.

The subprocess uses the user's interpreter (``--python``/``python`` in the
config, the current one by default), hides GPUs, quiets TensorFlow's logs,
keeps ``KERAS_BACKEND``, works from the script's folder, captures the
script's own output, and is killed with its whole process group when it
outlives the timeout. Snapshots are cached by the content hash of the script
and of everything that affects the capture.
"""
from __future__ import annotations

import atexit
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
def capture_modules() -> tuple:
    """What the capture runs with besides capture.py (its ``SIBLINGS``): part of every cache key."""
    from klint.model.capture import SIBLINGS

    return tuple(Path(__file__).with_name(f"{n}.py") for n in SIBLINGS)
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
    data: str = "synthetic"  # "synthetic": stand-ins for missing data and display packages; "real": none


def cache_key(script: Path, source: bytes, opts: CaptureOptions) -> str:
    """What the capture depends on besides the files it reads (checked separately)."""
    h = hashlib.sha256()
    code = hashlib.sha256(b"".join(p.read_bytes() for p in (CAPTURE, *capture_modules()))).hexdigest()
    for part in (__version__, code, str(script.resolve()), opts.python, opts.data,
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
            if _dependencies_unchanged(data.get("dependencies") or {}):
                return CaptureResult(data.get("snapshot"), data.get("warning"), data.get("line"), cached=True)
        except (OSError, ValueError):
            pass
    res = run_capture(script, opts, source)
    if cache_file is not None and cacheable(res):
        try:
            deps = {p: _digest(p) for p in res.snapshot.get("dependencies") or []}
            # data the capture stood in for must still be missing for the snapshot to hold
            deps.update({p: None for p in missing_data(res.snapshot)})
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"snapshot": res.snapshot, "warning": res.warning, "line": res.line,
                                       "dependencies": deps}), encoding="utf-8")
            os.replace(tmp, cache_file)
        except OSError:
            pass
    return res


def cacheable(res: CaptureResult) -> bool:
    """Whether a capture's result holds until its inputs change. A script that raised or exited may
    do otherwise in another environment (a package installed, a data file downloaded, a network that
    answers), which the cache key does not know: such results are not cached."""
    snap = res.snapshot
    if snap is None or res.extra.get("timeout"):
        return False
    return not snap.get("error") and not snap.get("factory_errors")


def missing_data(snap: dict) -> list[str]:
    """The data paths the capture found missing and stood in for."""
    return sorted({p for u in snap.get("standins") or [] for p in u.get("missing") or [] if os.path.isabs(p)})


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _dependencies_unchanged(deps: dict) -> bool:
    """Whether the project modules and files a cached capture read are as they were."""
    return all(not os.path.exists(p) if h is None else _digest(p) == h for p, h in deps.items())


def factories_for(script: Path, factories: list, root: Path) -> list:
    """The configured factories (``module:function``) whose module is ``script`` itself."""
    out = []
    script = script.resolve()
    for spec in factories:
        module = spec.partition(":")[0]
        rel = Path(*module.split("."))
        for cand in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
            if cand.resolve() == script:
                out.append(spec)
                break
    return out


def capture_env() -> dict:
    env = dict(os.environ)
    env["CUDA_VISIBLE_DEVICES"] = "-1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # importing the project's modules must not write into it
    env.pop("PYTHONSTARTUP", None)
    return env


def run_capture(script: Path, opts: CaptureOptions, source: bytes | None = None) -> CaptureResult:
    with tempfile.TemporaryDirectory(prefix="klint-capture-") as td:
        out = Path(td) / "snapshot.json"
        text = None
        if source is not None:
            text = Path(td) / "source.py"
            text.write_bytes(source)
        root = str(opts.root or script.parent)
        factories = factories_for(script, list(opts.factories), Path(root))
        server = _server(opts.python)
        outcome = None
        if server is not None:
            outcome = server.run({"script": str(script), "out": str(out), "log": str(Path(td) / "output.log"),
                                  "root": root, "factories": factories, "data": opts.data,
                                  "scratch": str(Path(td) / "scratch"),
                                  "source": str(text) if text else None}, opts.timeout)
            if outcome is None:  # the server died: start afresh next time, and run this one alone
                _SERVERS.pop(opts.python, None)
        if outcome is None:
            cmd = [opts.python, str(CAPTURE), str(script), str(out), "--root", root, "--data", opts.data,
                   "--scratch", str(Path(td) / "scratch")]
            for f in factories:
                cmd += ["--factory", f]
            if text is not None:
                cmd += ["--source", str(text)]
            outcome = _one_shot(cmd, script, opts.timeout)
            if isinstance(outcome, CaptureResult):
                return outcome
        timed_out, code, output = outcome
        if timed_out:
            return CaptureResult(None, f"the script did not reach training within {opts.timeout:g} s "
                                       "(raise `timeout` in [tool.klint] if it needs longer)",
                                 stdout=output, extra={"timeout": True})
        if not out.is_file():
            lines = output.strip().splitlines()
            if code not in (None, 0) and code > 0:  # the script ended the process itself (os._exit)
                why = f"the script ended its process with exit code {code} before training"
                return CaptureResult(None, why + (f": {lines[-1]}" if lines else ""), stdout=output)
            tail = (lines or ["no output"])[-1]
            return CaptureResult(None, f"the capture process failed ({_exit_status(code)}): {tail}", stdout=output)
        try:
            snap = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            return CaptureResult(None, f"unreadable snapshot: {e}", stdout=output)
    return describe(snap, script, opts, output)


def _exit_status(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def standins_said(snap: dict) -> str | None:
    """What the model was built with, for the warning line: "built with synthetic MNIST data;
    matplotlib stubbed"."""
    used = snap.get("standins") or []
    data = [u["detail"] for u in used if u.get("kind") == "data"]
    downloads = [u["detail"] for u in used if u.get("kind") == "download"]
    packages = [u["name"] for u in used if u.get("kind") == "package"]
    assumed = sorted({a for u in used for a in u.get("assumed") or []})
    parts = []
    if data:
        parts.append("built with " + ", ".join(dict.fromkeys(data)) + (
            f" (klint assumed {', '.join(assumed)})" if assumed else ""))
    if downloads:
        parts.append("not downloaded: " + ", ".join(dict.fromkeys(downloads)))
    if packages:
        parts.append(", ".join(packages) + " stubbed")
    return "; ".join(parts) if parts else None


def describe(snap: dict, script: Path, opts: CaptureOptions, output: str) -> CaptureResult:
    """The snapshot, with canonical Keras names added and a clear warning when the script could
    not be captured as it should."""
    from klint.knowledge.names import canonical

    for m in snap.get("models") or []:
        m["canonical"] = canonical(m.get("qual") or "")
        for layer in m.get("layers") or []:
            layer["canonical"] = canonical(layer.get("qual") or "")
    for o in snap.get("optimizers") or []:
        o["canonical"] = canonical(o.get("qual") or "")
    res = CaptureResult(snap, stdout=output)
    err = snap.get("error")
    if err:
        where = ""
        if err.get("file") and err.get("line"):
            where = f" at {os.path.basename(err['file'])}:{err['line']}"
            if Path(err["file"]).resolve() == script:
                res.line = err["line"]
        message = (err.get("message") or "").strip()
        first = message.splitlines()[0] if message else ""
        if err.get("where") == "import keras":
            res.warning = f"cannot build the model: Keras is not importable in {opts.python}: {first}"
        elif err.get("type") == "SystemExit":
            res.warning = f"{first} before training" + ("" if snap.get("models") else "; no model was built")
        else:
            res.warning = (f"the script raised {err['type']}: {first}{where}"
                           + ("" if snap.get("models") else "; no model was built"))
    elif not snap.get("models"):
        res.warning = "the script built no Keras model (and no build_model()-like factory was found)"
    if snap.get("factory_errors"):
        extra = "; ".join(snap["factory_errors"])
        res.warning = f"{res.warning}; {extra}" if res.warning else extra
    said = standins_said(snap)
    if said:
        res.warning = f"{said}; {res.warning}" if res.warning else said
        res.extra["standins"] = said
    return res


def _one_shot(cmd: list, script: Path, timeout: float):
    """Run one capture in its own interpreter: (timed out, exit code, output), or a CaptureResult on failure."""
    try:
        from klint.model.capture import die_with_parent

        proc = subprocess.Popen(cmd, cwd=str(script.parent), env=capture_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=die_with_parent)
    except OSError as e:
        return CaptureResult(None, f"cannot start {cmd[0]}: {e.strerror or e}")
    timed_out = False
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        output, _ = proc.communicate()
    finally:
        _kill_group(proc)  # anything the script left running in its group
    return timed_out, proc.returncode, output.decode("utf-8", "replace")


class CaptureServer:
    """A warm interpreter that has imported Keras once and forks a child per script."""

    def __init__(self, python: str):
        self.proc = subprocess.Popen([python, str(CAPTURE), "--serve"], env=capture_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     start_new_session=True, bufsize=0)
        self.buf = b""
        hello = self._read(180.0)
        if not hello or not hello.get("ready"):
            self.close()
            raise OSError((hello or {}).get("error") or "the capture server did not start")

    def _read(self, timeout: float) -> dict | None:
        import select
        import time

        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return None

    def run(self, request: dict, timeout: float):
        """(timed out, status, output) for one script, or None when the server is gone."""
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        started = self._read(30.0)
        if not started or "pid" not in started:
            return None
        pid = started["pid"]
        done = self._read(timeout)
        timed_out = done is None
        if timed_out:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
            done = self._read(10.0)
            if done is None:
                self.close()
                _SERVERS.pop(next((k for k, v in _SERVERS.items() if v is self), None), None)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)  # whatever the script left running
            except (ProcessLookupError, PermissionError, OSError):
                pass
        try:
            output = Path(request["log"]).read_text(encoding="utf-8", errors="replace")
        except OSError:
            output = ""
        status = (done or {}).get("status")
        code = os.waitstatus_to_exitcode(status) if isinstance(status, int) else None
        return timed_out, code, output

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(self.proc)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


_SERVERS: dict = {}
_FAILED: set = set()


def _server(python: str) -> CaptureServer | None:
    if not hasattr(os, "fork") or python in _FAILED:
        return None
    server = _SERVERS.get(python)
    if server is not None and server.proc.poll() is None:
        return server
    try:
        server = CaptureServer(python)
    except OSError:
        _FAILED.add(python)
        return None
    _SERVERS[python] = server
    return server


def shutdown() -> None:
    """Stop every warm server (klint calls this before it exits)."""
    while _SERVERS:
        _, server = _SERVERS.popitem()
        server.close()


atexit.register(shutdown)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass

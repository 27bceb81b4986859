"""Property-based fuzzing of ``klint check`` with damaged, real-looking training scripts.

Hypothesis picks a mutation kind and a random seed; ``tests/fuzzing.py`` (shared with the long
stand-alone run, ``bench/fuzz.py``) turns one of the project's scripts into a damaged input:
deleted, duplicated or truncated lines, stray tokens and brackets, odd coding cookies, BOMs,
invalid bytes, NUL bytes, CR line endings, zero-width characters, deep nesting, huge files.
Whatever the input, klint must exit 0, 1 or 2, print a JSON list, never a traceback or an
internal error (KL003), and finish in bounded time; when it offers fixes, ``--fix`` must leave a
file that parses (when the input did) and that a second ``--fix`` does not change.

The light mutations run klint in this process (``klint.cli.main``, fast). Deep nesting and huge
files run ``python -m klint`` in a subprocess with a timeout, because a crash there (a segfault
in a recursive parser) would take the test process with it.

A failing example prints its ``kind`` and ``seed``; the input is
``fuzzing.generate([kind], fuzzing.load_seeds(), random.Random(seed), kind, huge_lines=5000)``.
"""
from __future__ import annotations

import contextlib
import io
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzzing  # noqa: E402

from klint.cli.main import main  # noqa: E402

SEEDS = fuzzing.load_seeds()
# klint.cli.main raises the recursion limit to 20000 on its first call; doing it here first keeps
# hypothesis from warning that a test changed it.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
CONFIG = "[tool.klint]\n"
IN_PROCESS_LIMIT = 30  # seconds for one klint run in this process
SUBPROCESS_TIMEOUT = 15  # seconds for one `python -m klint` run: the 10 s per-file bound, start-up and a margin
HUGE_LINES = 5_000  # huge files here are smaller than bench/fuzz.py's 50,000 lines, to keep the test short

# No shrinking: the inputs come from an integer seed, so a "smaller" seed is not a smaller input.
# bench/fuzz.py --minimize shrinks a failing input.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum, frame):
        raise _Timeout(f"klint took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _in_process(*argv: str) -> tuple[int, str, str]:
    """``klint`` in this process: (exit code, stdout, stderr); an escaping exception becomes a traceback on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        # klint parses the generated code with ast too: its invalid escapes are the input's, not klint's
        warnings.filterwarnings("ignore", message="invalid escape sequence", category=DeprecationWarning)
        try:
            with _time_limit(IN_PROCESS_LIMIT):
                rc = main(list(argv))
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 2
        except _Timeout as e:
            rc = -1
            err.write(f"TIMEOUT: {e}\n")
        except BaseException:  # noqa: BLE001: a crash is what we look for
            rc = 1
            err.write(traceback.format_exc())
    return rc, out.getvalue(), err.getvalue()


def _subprocess(*argv: str, cwd: Path) -> tuple[int, str, str]:
    try:
        r = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "klint", *argv], cwd=cwd, capture_output=True,
                           timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, "", f"TIMEOUT: klint took more than {SUBPROCESS_TIMEOUT} s\n"
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def _findings(rc: int, out: str, err: str, what: str) -> list:
    """The JSON findings of one run, after checking that the run itself went right."""
    assert "TIMEOUT" not in err, f"{what}: {err}"
    assert rc in (0, 1, 2), f"{what}: exit code {rc}\n{err[-3000:]}"
    assert "Traceback" not in err, f"{what}: traceback\n{err[-3000:]}"
    try:
        diags = json.loads(out)
    except ValueError as e:
        raise AssertionError(f"{what}: stdout is not JSON ({e}): {out[:500]!r}\n{err[-2000:]}") from None
    assert isinstance(diags, list), f"{what}: stdout is not a JSON list: {out[:500]!r}"
    internal = [d.get("message") for d in diags if d.get("code") == "KL003"]
    assert not internal, f"{what}: internal error (KL003): {internal}"
    if rc == 2:
        raise AssertionError(f"{what}: exit code 2 without an internal-error finding\n{err[-2000:]}")
    return diags


def _check_and_fix(run, path: Path, data: bytes) -> None:
    """Check ``path`` (holding ``data``); when klint offers fixes, fix twice and check the results."""
    diags = _findings(*run("check", "--output-format", "json", str(path)), what="check")
    if not any(d.get("fix") for d in diags):
        return
    fix = ("check", "--output-format", "json", "--fix", "--unsafe-fixes", str(path))
    _findings(*run(*fix), what="--fix")
    fixed = path.read_bytes()
    if fuzzing.parses(data):
        assert fuzzing.parses(fixed), f"--fix output does not parse:\n{fixed.decode('utf-8', 'replace')[:3000]}"
    _findings(*run(*fix), what="second --fix")
    assert path.read_bytes() == fixed, "a second --fix changed the file again"


def _generate(kind: str, seed: int) -> bytes:
    _, name, data, desc = fuzzing.generate([kind], SEEDS, random.Random(seed), kind, huge_lines=HUGE_LINES)
    note(f"kind={kind} seed={seed}: {name}, {desc} ({len(data)} bytes, parses: {fuzzing.parses(data)})")
    return data


def test_the_seed_scripts_are_there():
    assert len(SEEDS) >= 10
    assert all(fuzzing.parses(data) for _, data in SEEDS if b"keras" in data)


@contextlib.contextmanager
def _script(data: bytes):
    """A folder with an empty klint config and ``train.py`` holding ``data``."""
    with tempfile.TemporaryDirectory(prefix="klint-fuzz-") as d:
        (Path(d) / "pyproject.toml").write_text(CONFIG)
        path = Path(d) / "train.py"
        path.write_bytes(data)
        yield path


@settings(max_examples=40, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([*fuzzing.LIGHT, "combo"]), seed=st.integers(0, 2**32 - 1))
def test_damaged_scripts_in_process(kind, seed):
    data = _generate(kind, seed)
    with _script(data) as path:
        _check_and_fix(_in_process, path, data)


def _in_a_subprocess(data: bytes) -> None:
    with _script(data) as path:
        _check_and_fix(lambda *argv: _subprocess(*argv, cwd=path.parent), path, data)


@settings(max_examples=2, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_deeply_nested_scripts_in_a_subprocess(seed):
    _in_a_subprocess(_generate("deep_nesting", seed))


@settings(max_examples=1, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_huge_scripts_in_a_subprocess(seed):
    _in_a_subprocess(_generate("huge_file", seed))

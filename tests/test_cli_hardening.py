"""Bad input never takes klint down: worker deaths, hangs, special files, symlinks.

klint runs unattended (pre-commit, CI) on every file, so whatever one file
does to the process that checks it, the file gets a clear finding with its
path (KL002: it cannot be read; KL003: klint failed on it, exit code 2), the
other files are checked as usual, stdout stays valid output, and no worker
process is left running.

Worker deaths are made deterministic by a script that patches
``klint.cli.check.check_file`` (which the worker calls for each file) to kill its
own process for one file, then runs ``klint.cli.main``: klint forks its
workers after the patch, so they inherit it. It runs in a separate
interpreter, so that a worker's death cannot touch the test process.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import klint.cli.files
import klint.cli.workers

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked")

HIGH_LR = "import keras\n\nopt = keras.optimizers.Adam(learning_rate=0.05)\n"  # KL401 on line 3

# argv[1]: what to do to the worker that checks the file named argv[2]; argv[3:]: klint's arguments.
# The worker writes its pid to worker.pid first. After klint returns, children.json says whether this
# process still has a child (running, or a zombie nobody reaped).
DRIVER = textwrap.dedent("""
    import json, os, signal, sys, time
    from pathlib import Path

    import klint.cli.check as check
    import klint.cli.main as cli
    import klint.cli.workers as workers

    action, target, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    real = check.check_file

    def check_file(path, *args):
        if path.name == target:
            Path("worker.pid").write_text(str(os.getpid()))
            if action == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            elif action == "exit":
                os._exit(3)
            elif action == "memory-error":
                raise MemoryError
            elif action == "sleep":
                time.sleep(120)
        return real(path, *args)

    check.check_file = check_file
    workers.FILE_TIME_LIMIT = float(os.environ.get("KLINT_TEST_TIME_LIMIT", workers.FILE_TIME_LIMIT))
    workers._ALARM_GRACE = float(os.environ.get("KLINT_TEST_ALARM_GRACE", workers._ALARM_GRACE))
    if "KLINT_TEST_MEMORY" in os.environ:
        workers.WORKER_MEMORY = int(os.environ["KLINT_TEST_MEMORY"])
    rc = cli.main(argv)
    try:
        os.waitpid(-1, os.WNOHANG)
        left = True
    except ChildProcessError:
        left = False
    Path("children.json").write_text(json.dumps(left))
    sys.exit(rc)
""")


def _driver(project: Path, action: str, target: str, *argv, env: dict | None = None, timeout: float = 120):
    script = project.parent / f"{project.name}-driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    return subprocess.run([sys.executable, str(script), action, target, *argv], cwd=project, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _by_file(findings: list) -> dict:
    out: dict = {}
    for f in findings:
        out.setdefault(f["filename"], []).append((f["code"], f["location"]["row"], f["message"]))
    return out


def _files(project: Path, write, n: int) -> list[str]:
    names = [f"m{i:02}.py" for i in range(n)]
    for name in names:
        write(project / name, HIGH_LR)
    return names


# ------------------------------------------------------------------ a worker dies


@pytest.mark.parametrize("n, jobs", [(3, "1"), (24, "2")], ids=["one-worker", "replaced-in-a-pool"])
@pytest.mark.parametrize("action, cause", [
    ("segv", "killed by SIGSEGV (Segmentation fault)"),
    ("exit", "exited with code 3"),
    ("memory-error", "out of memory"),
])
def test_a_dead_worker_costs_only_its_file(project, write, n, jobs, action, cause):
    names = _files(project, write, n)
    victim = names[n // 2]
    expected = _by_file(json.loads(_driver(project, "none", "", "check", "--output-format", "json", *names).stdout))
    assert set(expected) == set(names)  # every file has its KL401

    r = _driver(project, action, victim, "check", "--output-format", "json", "-j", jobs, *names)
    assert r.returncode == 2, r.stderr  # KL003 is an internal error
    assert "Traceback" not in r.stderr
    got = _by_file(json.loads(r.stdout))  # stdout is still one valid JSON document
    ((code, row, message),) = got.pop(victim)
    assert code == "KL003" and row == 1 and cause in message
    del expected[victim]
    assert got == expected  # the files before and after it, checked as usual, in order
    assert json.loads((project / "children.json").read_text()) is False


def test_a_real_parser_crash_is_reported(project, write, run_klint):
    """Deep nesting overflows the C stack in libcst's native parser (SIGSEGV with the usual 8 MiB stack):
    before workers, klint died without a word. Whatever the stack, the file is reported and m.py checked."""
    write(project / "deep.py", "import keras\nx = " + "(" * 50_000 + "1" + ")" * 50_000 + "\n")
    write(project / "m.py", HIGH_LR)
    r = run_klint("check", "deep.py", "m.py", cwd=project)
    assert r.returncode in (1, 2) and r.stderr == b""
    lines = r.stdout.decode().splitlines()
    # refused before parsing (the screen), or reported when the parser crashes: never silent
    assert lines[0].startswith(("deep.py:1:1: KL00", "deep.py:2:")), lines
    assert lines[1].startswith("m.py:3:")


def test_native_out_of_memory_is_reported_as_such(project, write):
    """With a small address space, libcst's native parser aborts on a failed allocation (SIGABRT, after a
    message on stderr): the file is reported "out of memory", and the allocator's message is not shown."""
    # within the source view's limits (characters, operators and delimiters): the parser still needs
    # far more than 200 MiB for it
    per_copy = sum(map(HIGH_LR.count, ",()[]{}.:=+-*/%<>"))
    write(project / "big.py", HIGH_LR * (36_000 // per_copy))
    write(project / "m.py", HIGH_LR)
    r = _driver(project, "none", "", "check", "big.py", "m.py", env={"KLINT_TEST_MEMORY": str(200 << 20)})
    assert r.returncode == 2
    assert r.stdout.startswith("big.py:1:1: KL003 klint failed on this file: out of memory")
    assert "m.py:3:" in r.stdout
    assert r.stderr == ""


def test_a_file_that_hangs_is_given_up(project, write):
    names = _files(project, write, 3)
    start = time.monotonic()
    r = _driver(project, "sleep", names[1], "check", "--output-format", "json", *names,
                env={"KLINT_TEST_TIME_LIMIT": "1"})
    assert time.monotonic() - start < 30  # not the two minutes the file would take
    assert r.returncode == 2
    got = _by_file(json.loads(r.stdout))
    assert got[names[1]] == [("KL003", 1, "klint gave up on this file after 1 s")]
    assert [c for c, _, _ in got[names[0]]] == [c for c, _, _ in got[names[2]]] == ["KL401"]
    assert _gone(int((project / "worker.pid").read_text()))
    assert json.loads((project / "children.json").read_text()) is False


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_no_worker_outlives_klint(project, write, how):
    """On Ctrl-C klint kills its workers; killed itself, it cannot, and a worker's own alarm ends it at
    the file's time limit (plus a grace of a few seconds), even stuck on a file that takes minutes."""
    names = _files(project, write, 2)
    script = project.parent / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    # Ctrl-C must come while the worker is stuck, not after its time limit on a busy machine
    limit = "60" if how == signal.SIGINT else "2"
    proc = subprocess.Popen([sys.executable, str(script), "sleep", names[0], "check", *names], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "KLINT_TEST_TIME_LIMIT": limit, "KLINT_TEST_ALARM_GRACE": "0.5"})
    pid_file = project / "worker.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    proc.send_signal(how)
    out, err = proc.communicate(timeout=30)
    if how == signal.SIGINT:
        assert proc.returncode == 130 and out == b"" and b"Traceback" not in err
        assert _gone(worker, within=1)
    else:
        assert _gone(worker, within=2 + 0.5 + 10)


# ------------------------------------------------------------------ in this process


def test_without_fork_files_are_checked_in_this_process(project, cli, write, monkeypatch):
    names = _files(project, write, 20)
    write(project / "broken.py", "import keras\nx = 1 +\n")
    monkeypatch.setattr(klint.cli.workers, "ISOLATE", True)  # the `cli` fixture checks in this process
    _, in_workers, _ = cli.json("-j", "2", ".")
    monkeypatch.setattr(klint.cli.workers, "ISOLATE", False)
    rc, in_process, err = cli.json(".")
    assert in_process == in_workers and rc == 1 and err == ""
    assert [f["filename"] for f in in_process] == ["broken.py", *names]


# ------------------------------------------------------------------ files that are not files


def test_a_fifo_is_not_read(project, cli, write):
    os.mkfifo(project / "pipe.py")  # reading it would wait for a writer for ever
    write(project / "m.py", HIGH_LR)
    for argv in (("pipe.py", "m.py"), (".",)):  # given, and found by the walk
        rc, findings, err = cli.json(*argv)
        assert rc == 1 and err == ""
        assert sorted((f["filename"], f["code"]) for f in findings) == [("m.py", "KL401"), ("pipe.py", "KL002")]
        assert [f["message"] for f in findings if f["code"] == "KL002"] == ["not a regular file (a FIFO)"]


def test_a_symlink_to_a_device_is_not_read(project, cli, write):
    os.symlink("/dev/zero", project / "zero.py")
    write(project / "m.py", HIGH_LR)
    rc, findings, _ = cli.json(".")
    assert rc == 1
    assert [(f["filename"], f["code"], f["message"]) for f in findings if f["filename"] == "zero.py"] == [
        ("zero.py", "KL002", "not a regular file (a character device)")]


def test_a_file_too_large_is_reported_unless_it_is_not_a_keras_file(project, cli, write, monkeypatch):
    monkeypatch.setattr(klint.cli.files, "MAX_FILE_SIZE", 1000)
    write(project / "big.py", HIGH_LR + "#" * 2000)
    write(project / "late.py", "#" * 2000 + HIGH_LR)  # the mention comes after the first MAX_FILE_SIZE bytes
    write(project / "data.py", "x = 1\n" * 1000)  # no mention of Keras: skipped, as any such file
    write(project / "m.py", HIGH_LR)
    rc, findings, _ = cli.json(".")
    got = [(f["filename"], f["code"], f["message"]) for f in findings]
    assert got[:2] == [("big.py", "KL002", "file too large (2.0 KiB; klint reads source files up to 1000 bytes)"),
                       ("late.py", "KL002", "file too large (2.0 KiB; klint reads source files up to 1000 bytes)")]
    assert [g[:2] for g in got[2:]] == [("m.py", "KL401")]


def test_standard_input_too_large(project, run_klint):
    data = HIGH_LR.encode() + b"#" * klint.cli.files.MAX_FILE_SIZE
    r = run_klint("check", "--stdin-filename", "m.py", "-", cwd=project, stdin=data)
    assert r.returncode == 1 and b"m.py:1:1: KL002 input too large" in r.stdout
    # when fixing, the input is passed through whole, for an editor that replaces its buffer with it
    r = run_klint("check", "--fix", "--stdin-filename", "m.py", "-", cwd=project, stdin=data)
    assert r.stdout == data and b"KL002 input too large" in r.stderr


def test_symlink_loops(project, cli, write):
    write(project / "pkg" / "m.py", HIGH_LR)
    os.symlink("..", project / "pkg" / "up")  # a folder loop: the walk does not follow folder links
    os.symlink("self.py", project / "pkg" / "self.py")  # a link to itself
    rc, findings, err = cli.json(".")
    got = [(f["filename"], f["code"]) for f in findings]
    assert got == [("pkg/m.py", "KL401"), ("pkg/self.py", "KL002")]
    assert "symbolic links" in findings[1]["message"]
    rc, findings, err = cli.json("pkg/self.py")  # given by name
    assert rc == 1 and [(f["filename"], f["code"]) for f in findings] == [("pkg/self.py", "KL002")]


def test_a_symlinked_file_is_checked_and_its_folder_link_is_not_walked(project, cli, write):
    write(project / "real" / "m.py", HIGH_LR)
    os.symlink("real/m.py", project / "link.py")
    os.symlink("real", project / "linked")
    _, findings, _ = cli.json(".")
    assert sorted(f["filename"] for f in findings) == ["link.py", "real/m.py"]


# ------------------------------------------------------------------ --fix on a symlink


def test_fix_through_a_symlink_edits_the_target_and_keeps_the_link(project, cli, write):
    target = write(project / "real" / "m.py", HIGH_LR)
    link = project / "link.py"
    os.symlink("real/m.py", link)
    cli("check", "--fix", "--unsafe-fixes", "link.py")
    assert link.is_symlink() and os.readlink(link) == "real/m.py"
    assert "ExponentialDecay(" in target.read_text()
    assert sorted(os.listdir(project / "real")) == ["m.py"]  # no temporary file left beside it
    # found under both names by the walk, the file is fixed (and counted) once
    target.write_text(HIGH_LR)
    rc, out, _ = cli("check", "--fix", "--unsafe-fixes", ".")
    assert "(1 fixed, 0 remaining)" in out and link.is_symlink()
    assert target.read_text().count("ExponentialDecay(") == 1

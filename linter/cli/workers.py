"""The worker processes that check the files, and their time and memory limits.

One file can take a process down with it: libcst's native parser overflows the C stack on deeply
nested code (SIGSEGV) and aborts when an allocation fails, and a pathological file can keep the
analysis busy for ever. So files are checked in forked worker processes, and this process only
hands out the work: when a worker dies, or is killed for taking too long, the file it had is
reported as KL003 with the cause, a fresh worker takes over, and the other files are checked.
"""
from __future__ import annotations

import collections
import gc
import math
import os
import pickle
import select
import signal
import sys
import tempfile
import time
from typing import NoReturn

from klint.cli.files import format_size
from klint.engine.lint import MAX_FIX_PASSES, FileResult, Linter, Problem

#: Seconds a worker may spend on one file before it is killed and the file reported (KL003).
#: Module attributes, like the two below, so that tests can lower them.
FILE_TIME_LIMIT = 60.0

#: What the model view may add to a file's time in each lint pass besides the script's own `timeout`:
#: the capture server's start (importing TensorFlow, up to 180 s) and the waits around the script.
MODEL_VIEW_ALLOWANCE = 300.0


def _default_worker_memory() -> int:
    """4 GiB, or half the machine's memory when that is less: one file must not make the machine swap."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 4 << 30
    return min(4 << 30, physical // 2)


#: Bytes of address space a worker may map (RLIMIT_AS). A file that needs more is reported "out of memory".
WORKER_MEMORY = _default_worker_memory()

#: Check files in worker processes. Without fork (Windows), or set to False by a test that needs
#: what the checks do to this process, they are checked in this process, one after the other.
ISOLATE = hasattr(os, "fork")

#: What Rust code (libcst's native parser) writes to stderr when an allocation fails, before it aborts.
_ALLOCATION_FAILED = b"memory allocation of "

#: Seconds past its time limit at which a worker's own alarm ends it, should klint's process be gone
#: (killed, say) and unable to: no worker outlives its parent by more than a file.
_ALARM_GRACE = 5.0


def time_limit_for(linter: Linter, fixing: bool) -> float:
    """FILE_TIME_LIMIT, plus, with the model view, what a capture may take in each lint pass."""
    if linter.graph is None:
        return FILE_TIME_LIMIT
    passes = MAX_FIX_PASSES + 1 if fixing else 1
    return FILE_TIME_LIMIT + passes * (linter.graph.timeout + MODEL_VIEW_ALLOWANCE)


def memory_limit_for(linter: Linter) -> int | None:
    """WORKER_MEMORY, but no limit with the model view: the capture server that a worker starts would
    inherit it, and TensorFlow reserves far more address space than it uses."""
    return None if linter.graph is not None else WORKER_MEMORY


def run_isolated(items: list, check, jobs: int | None, time_limit: float, memory: int | None) -> list:
    """``[check(item) for item in items]``, the calls made in worker processes; results in input order.

    ``check`` returns a FileResult. Workers are forked from this process,
    so they share its state (configuration, rules, a test's patches) without
    pickling it; there are ``jobs`` of them (default: one per CPU), but no
    more than one per 8 items, and always at least one. A worker that dies,
    or is killed after ``time_limit`` seconds on one item, costs only that
    item, which gets a KL003 result naming the cause. ``memory`` caps each
    worker's address space (None: no cap). No worker outlives the call,
    whether it returns or raises (KeyboardInterrupt included).
    """
    if not items:
        return []
    if not ISOLATE:
        return [_check_guarded(check, item, None)[0] for item in items]
    want = max(1, min(jobs or os.cpu_count() or 1, len(items) // 8))
    return _Supervisor(items, check, want, time_limit, memory).run()


def _check_guarded(check, item, memory: int | None) -> tuple[FileResult, bool]:
    """``check(item)``, and whether the process is fit to go on: after a MemoryError, a KL003 result and
    False, for a worker to exit and a fresh one to take the next file."""
    try:
        return check(item), True
    except MemoryError:
        return _internal_error(item, _out_of_memory(memory)), False


def _out_of_memory(memory: int | None) -> str:
    limit = f" (a worker process may use {format_size(memory)})" if memory else ""
    return f"klint failed on this file: out of memory{limit}"


class _Supervisor:
    """Hands out the items to worker processes, collects their results, and replaces the ones that die."""

    def __init__(self, items: list, check, want: int, time_limit: float, memory: int | None):
        self.items, self.check, self.want = items, check, want
        self.time_limit, self.memory = time_limit, memory
        self.results: list = [None] * len(items)
        self.todo = collections.deque(range(len(items)))
        self.workers: list[_Worker] = []

    def run(self) -> list:
        try:
            while self.todo or self.workers:
                self._start_workers()
                if self.workers:
                    self._wait()
        finally:
            for w in self.workers:
                w.kill()
        return self.results

    def _start_workers(self) -> None:
        while self.todo and sum(not w.retiring for w in self.workers) < self.want:
            try:
                w = _Worker(self.check, self.items, self.workers, self.time_limit, self.memory)
            except OSError:  # no process to be had: do with the workers there are, or with none
                if not self.workers:
                    while self.todo:
                        i = self.todo.popleft()
                        self.results[i] = _check_guarded(self.check, self.items[i], None)[0]
                return
            self.workers.append(w)
            self._assign(w)

    def _assign(self, w: _Worker) -> None:
        w.assign(self.todo.popleft(), self.time_limit)
        if not self.todo:
            w.retire()  # now, not after the result: the worker exits after it, without a round trip

    def _wait(self) -> None:
        """Wait for a result, a worker's end or a deadline, and act on what came."""
        timeout = max(0.0, min(w.deadline for w in self.workers) - time.monotonic())
        ready, _, _ = select.select([w.results for w in self.workers], [], [], timeout)
        for w in [w for w in self.workers if w.results in ready]:
            for i, res, healthy in w.receive():
                self.results[i] = res
                w.item = None
                w.deadline = time.monotonic() + self.time_limit  # to exit, if no other item comes
                if healthy and self.todo and not w.retiring:
                    self._assign(w)
                else:
                    w.retire()
            if w.ended:
                self._end(w, None)
        now = time.monotonic()
        for w in [w for w in self.workers if w.deadline <= now]:
            w.kill()
            self._end(w, self._gave_up())

    def _gave_up(self) -> str:
        return f"klint gave up on this file after {self.time_limit:g} s"

    def _end(self, w: _Worker, cause: str | None) -> None:
        """Reap a worker that has ended (or been killed); the item it had gets a KL003 result."""
        status = w.reap()
        output = w.take_output()
        if w.item is not None:
            self.results[w.item] = _internal_error(self.items[w.item], cause or self._cause(status, output))
        if output and (w.item is None or _ALLOCATION_FAILED not in output):
            sys.stderr.write(output.decode("utf-8", "replace"))  # its warnings; not an allocator's last words
        self.workers.remove(w)

    def _cause(self, status: int | None, output: bytes) -> str:
        """Why a worker died with an item, from its wait status and what it printed."""
        if _ALLOCATION_FAILED in output:
            return _out_of_memory(self.memory)
        code = None if status is None else os.waitstatus_to_exitcode(status)
        if code == -signal.SIGALRM:
            return self._gave_up()  # its own alarm came before the deadline here (a busy machine)
        return _death(code)


def _death(code: int | None) -> str:
    """A worker's death, from its exit code (negative: the signal that killed it)."""
    if code is None:
        return "klint crashed on this file: its worker process ended unexpectedly"
    if code >= 0:
        return f"klint crashed on this file: its worker process exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    what = signal.strsignal(-code)
    if -code == signal.SIGKILL:
        what = f"{what}, perhaps by the system for lack of memory"  # what Linux's OOM killer sends
    return f"klint crashed on this file: its worker process was killed by {name}" + (f" ({what})" if what else "")


class _Worker:
    """A forked worker process: it reads item indexes from one pipe and writes results to another.

    The parent sends one index at a time, so it always knows which item a
    worker has. A result is a pickle of ``(index, result, healthy)``
    preceded by its length. The worker's stdout and stderr go to a temporary
    file: nothing it prints can get into klint's output, and after its
    death the file tells whether an allocation failed.
    """

    def __init__(self, check, items: list, others: list, time_limit: float, memory: int | None):
        task_r, self.tasks = os.pipe()
        self.results, result_w = os.pipe()
        self.output = tempfile.TemporaryFile()
        sys.stdout.flush()  # or the worker would hold a copy of what is buffered, to print again
        sys.stderr.flush()
        # The worker's garbage collector would visit every object inherited from this process, and so
        # copy every page of the heap (10s of ms per worker): frozen objects are not visited.
        gc.freeze()
        try:
            self.pid = os.fork()
        except OSError:
            gc.unfreeze()
            for fd in (task_r, self.tasks, self.results, result_w):
                os.close(fd)
            self.output.close()
            raise
        if self.pid == 0:
            # the parent's ends of the pipes, this worker's and the others': the parent must hold the only
            # write end of each task pipe, for its closing to end the worker
            inherited = [self.tasks, self.results, *(fd for w in others for fd in w.open_fds())]
            _work(task_r, result_w, self.output.fileno(), inherited, check, items, time_limit, memory)
        gc.unfreeze()
        os.close(task_r)
        os.close(result_w)
        self.buffer = bytearray()
        self.item: int | None = None
        self.deadline = math.inf
        self.retiring = self.ended = self.reaped = False

    def open_fds(self) -> list[int]:
        return ([] if self.retiring else [self.tasks]) + ([] if self.reaped else [self.results])

    def assign(self, i: int, time_limit: float) -> None:
        self.item = i
        self.deadline = time.monotonic() + time_limit
        try:
            os.write(self.tasks, i.to_bytes(4, "big"))
        except BrokenPipeError:
            pass  # it has died: the end of its results pipe will tell, and the item gets the cause

    def retire(self) -> None:
        """No more work: closing the task pipe makes the worker exit once it has sent its result."""
        if not self.retiring:
            os.close(self.tasks)
            self.retiring = True

    def receive(self) -> list:
        """The results that have come in whole; at the end of the pipe, sets ``ended``."""
        chunk = os.read(self.results, 1 << 20)
        if not chunk:
            self.ended = True
            return []
        self.buffer += chunk
        out = []
        while len(self.buffer) >= 8:
            size = int.from_bytes(self.buffer[:8], "big")
            if len(self.buffer) < 8 + size:
                break
            out.append(pickle.loads(self.buffer[8:8 + size]))
            del self.buffer[:8 + size]
        return out

    def kill(self) -> None:
        if not self.reaped:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.reap()

    def reap(self) -> int | None:
        """Wait for the process to end and close the pipes: its wait status (None if not to be had)."""
        status = None
        if not self.reaped:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.reaped = True
            if not self.retiring:
                os.close(self.tasks)
                self.retiring = True
            os.close(self.results)
        return status

    def take_output(self) -> bytes:
        self.output.seek(0)
        data = self.output.read()
        self.output.close()
        return data


def _work(tasks: int, results: int, output: int, inherited: list[int], check, items: list, time_limit: float,
          memory: int | None) -> NoReturn:
    """The worker process: check the items it is sent until the task pipe closes, then exit.

    Each item runs under an alarm, a little later than the parent's
    deadline, whose default action ends the process even in native code:
    then a worker whose parent was killed cannot outlive it by more than
    the file it has. (When its parent is gone, its task pipe closes.)
    """
    code = 1
    try:
        for fd in inherited:
            os.close(fd)
        os.dup2(output, 1)
        os.dup2(output, 2)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which kills the workers
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # its capture servers stop their scripts when it dies
        from klint.model.capture import die_with_parent

        die_with_parent()  # and it dies with klint, even when klint is killed outright
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        runner = sys.modules.get("klint.model.runner")
        if runner is not None:
            runner._SERVERS.clear()  # the parent's capture servers: this process must not use or stop them
        if memory is not None:
            _limit_memory(memory)
        while True:
            task = os.read(tasks, 4)  # a 4-byte write arrives whole; the parent sends one at a time
            if len(task) < 4:
                break
            i = int.from_bytes(task, "big")
            signal.setitimer(signal.ITIMER_REAL, time_limit + _ALARM_GRACE)
            try:
                res, healthy = _check_guarded(check, items[i], memory)
            except BaseException as e:  # SystemExit from a rule, say: report it, then make way for a fresh worker
                res, healthy = _internal_error(items[i], f"klint failed on this file: {type(e).__name__}: {e}"), False
            try:
                payload = pickle.dumps((i, detach(res), healthy), pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                payload = pickle.dumps((i, _internal_error(items[i], f"klint failed on this file: its result "
                                                                      f"cannot be sent: {type(e).__name__}: {e}"),
                                        healthy), pickle.HIGHEST_PROTOCOL)
            _write_all(results, len(payload).to_bytes(8, "big") + payload)
            signal.setitimer(signal.ITIMER_REAL, 0)
            if not healthy:
                break
        code = 0
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, time_limit + _ALARM_GRACE)  # for stopping capture servers
            runner = sys.modules.get("klint.model.runner")
            if runner is not None:
                runner.shutdown()  # the capture servers this worker started (atexit does not run here)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _limit_memory(limit: int) -> None:
    """Cap this worker's address space (never raising a lower cap), so that a file needing more fails here,
    not by making the machine swap or the kernel's OOM killer pick a process."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass


def _internal_error(path, message: str) -> FileResult:
    res = FileResult(str(path))
    res.problems.append(Problem("KL003", "internal-error", message))
    return res


def detach(res: FileResult) -> FileResult:
    """Drop the libcst nodes a result holds, so that it is cheap to send between processes."""
    for f in res.findings:
        f.at = None
        if f.fix is not None:
            f.fix.edits = []
    return res

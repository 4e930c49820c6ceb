"""A small pool of forked workers that can always be stopped: the hunt's parallel part.

Why not ``multiprocessing.Pool``: its workers share one task queue guarded by a lock, and
``Pool.terminate()`` takes that lock for good and then relies on SIGTERM to end the workers. The
workers inherit the CLI's Python-level SIGTERM handler, which CPython runs between bytecodes: a
worker that got the signal just before it blocked on that lock never ran it (the wait did not return,
the signal was already taken), and ``terminate()`` joined it forever (``secaudit logs hunt ... |
head -1`` hung in 2 of 45 runs under load; a second SIGTERM freed the stuck worker). A worker
killed by the kernel (out of memory) made ``imap`` wait for its result forever.

Here each worker has its own two pipes, nothing is shared between workers, and no lock is held
across processes: the parent sends a task index down a worker's pipe and reads the pickled result
from the other. Workers are started with ``fork`` (they inherit what the caller prepared, a
compiled rule engine say, copy-on-write: nothing of it is pickled), ignore SIGINT (the parent
decides), die of SIGTERM at once, and are stopped with SIGKILL and reaped on every way out: the end,
an exception from the caller (a closed stdout), Ctrl-C, a dead worker. A worker that dies without
answering is reported with the task it held, never waited for.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

from secaudit.core.errors import OperationalError

T = TypeVar("T")

#: Tasks a worker holds at once: one it works on, one waiting in its pipe so it never idles while
#: the parent is busy with results (the last few tasks: one, so they go to whichever worker is free).
IN_FLIGHT = 2


_HELD = {signal.SIGINT, signal.SIGTERM}  # held back while workers start and stop


@dataclass(slots=True)
class _Worker:
    pid: int
    tasks: Connection  # parent -> worker: task indexes
    results: Connection  # worker -> parent: pickled (ok, value)
    held: deque[int] = field(default_factory=deque)  # indexes sent and not yet answered, in order
    status: int | None = None  # wait status once reaped
    alive: bool = True  # False once it went away


def ordered_map(
    func: Callable[[int], T], count: int, workers: int, *, describe: Callable[[int], str]
) -> Generator[T, None, None]:
    """``func(0) .. func(count - 1)`` run in ``workers`` forked processes, yielded in index order.

    An exception ``func`` raises in a worker is raised here (its remote traceback added as a note).
    A worker that dies raises OperationalError naming ``describe(index)`` of the task it held.
    Closing the generator (or any exception) kills and reaps every worker before it returns.
    """
    if count <= 0:
        return
    pool: list[_Worker] = []
    # Everything the caller holds now (rules, compiled engine, earlier stages' results) is left out
    # of the cyclic garbage collector's passes until the workers are done: each pass over millions
    # of inherited objects costs a worker CPU and writes to their pages, which the kernel then
    # copies (they are shared with the parent until written).
    gc.freeze()
    try:
        # Ctrl-C and SIGTERM wait until every worker started is in ``pool`` (so none escapes _stop)
        before = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            for _ in range(max(1, min(workers, count))):
                pool.append(_fork(func, pool, before))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        yield from _schedule(pool, count, describe)
    finally:
        _stop(pool)
        gc.unfreeze()


def _schedule(pool: list[_Worker], count: int, describe: Callable[[int], str]) -> Generator[Any, None, None]:
    """Keep every live worker holding IN_FLIGHT tasks, yield answers in index order. A dead worker's
    first task becomes its error, raised when the results reach it (the earlier ones are delivered)."""
    done: dict[int, tuple[bool, Any]] = {}
    sent = 0

    def lost(worker: _Worker) -> None:
        if worker.held:
            done[worker.held[0]] = (False, _died(worker, describe))
        else:
            _reap(worker)
        worker.held.clear()
        worker.alive = False

    def give(worker: _Worker) -> None:
        nonlocal sent
        # the last tasks go one at a time, to whichever worker is free: none waits behind another
        while (
            worker.alive
            and sent < count
            and len(worker.held) < (IN_FLIGHT if count - sent > len(pool) else 1)
        ):
            worker.held.append(sent)
            sent += 1
            try:
                worker.tasks.send(worker.held[-1])
            except OSError:  # it is gone: its task (and any it held) is lost
                lost(worker)

    def collect(timeout: float | None) -> None:
        """Take the answers that are ready (waiting up to ``timeout``) and give those workers more."""
        busy = [w.results for w in pool if w.held]
        if not busy and timeout is None:  # cannot be: every task sent is held, answered or lost
            raise RuntimeError("a task was never given to a worker")
        for ready in wait(busy, timeout):
            worker = by_conn[id(ready)]
            try:
                payload = worker.results.recv_bytes()
            except (EOFError, OSError):
                lost(worker)
                continue
            done[worker.held.popleft()] = pickle.loads(payload)  # noqa: S301 - our own worker's answer, over our own pipe
            give(worker)

    for worker in pool:
        give(worker)
    by_conn = {id(worker.results): worker for worker in pool}
    for index in range(count):
        while index not in done:
            collect(None)
        collect(0)  # feed a worker that finished meanwhile before the caller takes its time
        ok, value = done.pop(index)
        if not ok:
            raise value
        yield value


def _fork(func: Callable[[int], Any], started: list[_Worker], mask: Iterable[int]) -> _Worker:
    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns, never runs the parent's exit handlers or flushes
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for other in started:  # the parent's ends of earlier workers' pipes
                other.tasks.close()
                other.results.close()
            os.close(task_w)
            os.close(result_r)
            _serve(func, Connection(task_r, writable=False), Connection(result_w, readable=False))
            code = 0
        finally:
            os._exit(code)
    os.close(task_r)
    os.close(result_w)
    return _Worker(pid, Connection(task_w, readable=False), Connection(result_r, writable=False))


def _serve(func: Callable[[int], Any], tasks: Connection, results: Connection) -> None:
    while True:
        try:
            index = tasks.recv()
        except EOFError:  # the parent closed the pipe (or died): no more work
            return
        answer: tuple[bool, Any]
        try:
            answer = (True, func(index))
        except Exception as e:
            e.add_note(f"(raised in worker process {os.getpid()}):\n{''.join(traceback.format_exception(e))}")
            answer = (False, e)
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # a result or exception that cannot be pickled: its text can
            error = RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} (not picklable: {e})")
            payload = pickle.dumps((False, error))
        try:
            results.send_bytes(payload)
        except OSError:  # the parent stopped reading: it is stopping us
            return


def _died(worker: _Worker, describe: Callable[[int], str]) -> OperationalError:
    """The error for a worker that went away holding tasks (reaping it to learn how it ended)."""
    _reap(worker)
    status = worker.status
    if status is None or status < 0:
        how = "ended (its exit status is unknown)"
    elif os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        how = f"was killed by {name}"
    else:
        how = f"ended with exit code {os.waitstatus_to_exitcode(status)}"
    what = describe(worker.held[0]) if worker.held else "no task"
    return OperationalError(
        f"a worker process {how} while working on {what}; the run is incomplete",
        hint="the kernel's out-of-memory killer is a common cause (see dmesg); "
        "run again with fewer workers or more memory",
    )


def _reap(worker: _Worker) -> None:
    if worker.status is None:
        while True:
            try:
                worker.status = os.waitpid(worker.pid, 0)[1]
                return
            except InterruptedError:
                continue
            except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): nothing to wait for
                worker.status = -1
                return


def _stop(pool: list[_Worker]) -> None:
    """Kill and reap every worker, with Ctrl-C and SIGTERM held back until it is done (so no worker
    is left behind, running or as a zombie); a signal that came meanwhile is handled on return."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        for worker in pool:
            worker.tasks.close()
            worker.results.close()
            if worker.status is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
        for worker in pool:
            _reap(worker)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)

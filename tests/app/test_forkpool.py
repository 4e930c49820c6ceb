"""The hunt's worker pool: results in order, errors carried over, and no worker left behind on any
way out (the end, an exception, a worker killed, the caller closing the generator)."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from secaudit.app.forkpool import ordered_map
from secaudit.core.errors import OperationalError


def _children() -> set[int]:
    """This process's children, running or zombie (not yet reaped)."""
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids.update(int(p) for p in (task / "children").read_text().split())
    return pids


@pytest.fixture
def no_child_left() -> object:
    before = _children()
    yield
    assert _children() == before


def _task(i: int) -> tuple[int, int]:
    time.sleep(0.02 if i % 3 == 0 else 0)  # some tasks finish out of order
    return i, os.getpid()


@pytest.mark.usefixtures("no_child_left")
def test_results_come_in_task_order_from_forked_workers() -> None:
    out = list(ordered_map(_task, 40, 2, describe=str))
    assert [i for i, _ in out] == list(range(40))
    workers = {pid for _, pid in out}
    assert len(workers) == 2 and os.getpid() not in workers


@pytest.mark.usefixtures("no_child_left")
def test_workers_get_the_callers_state_by_fork_not_by_pickling() -> None:
    lock = threading.Lock()  # cannot be pickled: a pool that pickled the function would fail
    out = list(ordered_map(lambda i: (i, lock.locked()), 5, 2, describe=str))
    assert out == [(i, False) for i in range(5)]


@pytest.mark.usefixtures("no_child_left")
def test_what_the_caller_held_is_kept_out_of_the_collectors_passes_while_workers_run() -> None:
    """gc.freeze() before the fork: a worker's collections skip the objects it inherited (passing over
    them would write to pages it shares with the caller); the caller's objects are collected again
    once the workers are done, also when the map stops early."""
    held = [[n] for n in range(10_000)]  # the caller's objects, present when the workers start
    assert gc.get_freeze_count() == 0
    out = list(ordered_map(lambda i: (gc.get_freeze_count(), gc.is_tracked(held)), 4, 2, describe=str))
    assert all(frozen >= 10_000 and tracked for frozen, tracked in out)
    assert gc.get_freeze_count() == 0
    stopped = ordered_map(lambda i: gc.get_freeze_count(), 6, 2, describe=str)
    assert next(stopped) > 0 and gc.get_freeze_count() > 0  # the caller's own passes skip them too
    stopped.close()
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("no_child_left")
def test_an_exception_in_a_worker_is_raised_in_the_caller_after_the_earlier_results() -> None:
    def task(i: int) -> int:
        if i == 5:
            raise ValueError(f"bad record in task {i}")
        return i

    got: list[int] = []
    with pytest.raises(ValueError, match="bad record in task 5") as raised:
        got.extend(ordered_map(task, 12, 2, describe=str))
    assert got == [0, 1, 2, 3, 4]
    assert any("raised in worker process" in note for note in raised.value.__notes__)


@pytest.mark.usefixtures("no_child_left")
def test_a_result_that_cannot_be_pickled_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="not picklable"):
        list(ordered_map(lambda i: (lambda: i) if i == 2 else i, 4, 2, describe=str))


@pytest.mark.usefixtures("no_child_left")
def test_a_killed_worker_fails_the_run_naming_its_task() -> None:
    def task(i: int) -> int:
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
        time.sleep(0.01)
        return i

    got: list[int] = []
    with pytest.raises(OperationalError) as raised:
        got.extend(ordered_map(task, 10, 2, describe=lambda i: f"shard {i} of the test"))
    assert "was killed by SIGKILL while working on shard 3 of the test" in str(raised.value)
    assert got == [0, 1, 2]


@pytest.mark.usefixtures("no_child_left")
def test_closing_the_results_early_stops_busy_workers_at_once() -> None:
    results = ordered_map(lambda i: time.sleep(30 if i else 0) or i, 20, 2, describe=str)
    assert next(results) == 0
    started = time.monotonic()
    results.close()  # what a closed stdout does to the hunt
    assert time.monotonic() - started < 10  # killed, not waited for (the busy ones sleep 30 s)


@pytest.mark.usefixtures("no_child_left")
def test_fewer_tasks_than_workers_and_no_task() -> None:
    assert list(ordered_map(lambda i: i * 2, 1, 4, describe=str)) == [0]
    assert list(ordered_map(lambda i: i, 0, 2, describe=str)) == []

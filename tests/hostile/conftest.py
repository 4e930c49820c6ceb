"""Every hostile case runs under a memory bound: the peak resident memory of the test process while
the case runs (the kernel's high-water mark, reset before each case through /proc/self/clear_refs,
so native allocations such as the EVTX parser's count too), and of every child process it waits
for (secaudit started as a command), stays under :data:`PEAK_BOUND`."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PEAK_BOUND = 500 * 1024 * 1024
# Generous for a loaded 2-core machine (cases that start secaudit as a command also wait with their
# own timeouts); the slowest case takes about 20 s on a quiet one.
TIME_BOUND = 300.0
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _kib(field: str) -> int:
    for line in _STATUS.read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing from {_STATUS}")


@pytest.fixture(autouse=True)
def memory_bound(request: pytest.FixtureRequest) -> Iterator[None]:
    _CLEAR_REFS.write_text("5", encoding="ascii")  # resets VmHWM to the current resident size
    base = _kib("VmRSS") * 1024
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    peak = _kib("VmHWM") * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    used = peak - base
    assert used < PEAK_BOUND, f"{request.node.nodeid}: the case raised peak memory by {used / 2**20:.0f} MiB"
    if children > children_before:  # a child of this case set a new high-water mark
        assert children < PEAK_BOUND, (
            f"{request.node.nodeid}: a child process peaked at {children / 2**20:.0f} MiB"
        )
    assert elapsed < TIME_BOUND, f"{request.node.nodeid}: the case took {elapsed:.0f} s"

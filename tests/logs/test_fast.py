"""The compiled steps of the log readers (secaudit/logs/_fast.c) against the Python they replace."""

from __future__ import annotations

import os
import random
from collections import OrderedDict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secaudit.logs import _fast


def test_newlines_are_counted_as_bytes_count_counts_them(tmp_path: Path) -> None:
    """The compiled count that numbers the pieces (secaudit/logs/_fast.c) reads a byte range of a
    file, across its 1 MiB blocks and past the file's end, and agrees with bytes.count; a bad range
    or descriptor is refused."""
    rng = random.Random(7)
    block = 1 << 20
    for size in (0, 1, 2, 33, 4096, block - 1, block, block + 1, 2 * block + 70_001):
        data = bytes(rng.choice(b"\n\nab\r\x00\xff") for _ in range(min(size, 5000))) * (size // 5000 + 1)
        data = data[:size]
        path = tmp_path / f"{size}.log"
        path.write_bytes(data)
        with path.open("rb") as handle:
            for start, end in {
                (0, size),
                (0, 0),
                (size // 3, size),
                (1, max(1, size - 1)),
                (block - 3, block + 5),
            }:
                want = data[start:end].count(b"\n")
                assert _fast.count_range(handle.fileno(), start, end) == want, (size, start, end)
            assert _fast.count_range(handle, 0, size + 10) == data.count(b"\n")  # a file object, past its end
    with pytest.raises(ValueError, match="need 0 <= start <= end"):
        _fast.count_range(0, 5, 3)
    with pytest.raises(ValueError, match="need 0 <= start <= end"):
        _fast.count_range(0, -1, 3)
    read, write = os.pipe()
    os.close(write)
    os.close(read)
    with pytest.raises(OSError, match="Bad file descriptor"):
        _fast.count_range(read, 0, 10)


class Text(str):
    """A str subclass: its type is not exactly str, so it is no text kind."""


TEXT_KINDS = frozenset((str, int, bool, type(None)))
values = st.one_of(
    st.text(max_size=3),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.builds(Text, st.text(max_size=2)),
    st.builds(OrderedDict),
)


@given(st.dictionaries(st.text(max_size=4), values, max_size=8))
def test_value_kinds_tells_what_the_set_of_types_told(d: dict[str, object]) -> None:
    kinds = set(map(type, d.values()))
    told = _fast.value_kinds(d)
    assert bool(told & _fast.HAS_DICT) == (dict in kinds)
    assert bool(told & _fast.NOT_TEXT) == (not kinds <= TEXT_KINDS)
    assert (told == 0) == (kinds <= TEXT_KINDS)


def test_value_kinds_takes_a_dict_only() -> None:
    with pytest.raises(TypeError):
        _fast.value_kinds([("a", 1)])  # type: ignore[arg-type]

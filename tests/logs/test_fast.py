"""The compiled steps of the log readers (secaudit/logs/_fast.c) against the Python they replace."""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secaudit.logs import _fast


def test_newlines_are_counted_as_bytes_count_counts_them() -> None:
    """The compiled count that numbers the pieces (secaudit/logs/_fast.c), on buffers of every
    kind, with a length, against bytes.count; a length outside the buffer is refused."""
    rng = random.Random(7)
    for size in (0, 1, 2, 31, 32, 33, 4096, 70_001):
        data = bytes(rng.choice(b"\n\nab\r\x00\xff") for _ in range(size))
        for length in {0, size // 3, max(0, size - 1), size}:
            want = data[:length].count(b"\n")
            assert _fast.count(data, length) == want
            assert _fast.count(bytearray(data), length) == want
            assert _fast.count(memoryview(data)[:length]) == want
        assert _fast.count(data) == data.count(b"\n")
    with pytest.raises(ValueError, match="outside"):
        _fast.count(b"a\n", 3)
    with pytest.raises(ValueError, match="outside"):
        _fast.count(b"a\n", -1)
    with pytest.raises(TypeError):
        _fast.count("a\n")  # type: ignore[arg-type]


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

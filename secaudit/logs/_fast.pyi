"""Types of the compiled module secaudit/logs/_fast.c (see there)."""

HAS_DICT: int
NOT_TEXT: int

def count_range(fd: int, start: int, end: int, /) -> int: ...
def value_kinds(d: dict[str, object], /) -> int: ...

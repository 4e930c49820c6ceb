"""Types of the compiled module secaudit/logs/_fast.c (see there)."""

HAS_DICT: int
NOT_TEXT: int

def count(buffer: bytes | bytearray | memoryview, length: int = ..., /) -> int: ...
def value_kinds(d: dict[str, object], /) -> int: ...

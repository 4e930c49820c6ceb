"""Types of the compiled module secaudit/detect/_gates.c (see there)."""

from collections.abc import Callable
from typing import Any

NOT_PLAIN: int

def hit(literal: int, start: int, end: int, flags: int, hits: list[int]) -> None: ...

class Gates:
    def __init__(
        self,
        rules: int,
        always: tuple[int, ...],
        owners: tuple[tuple[int, ...], ...],
        short: tuple[tuple[bytes, tuple[int, ...]], ...],
        short_wide: tuple[tuple[bytes, tuple[int, ...]], ...],
        second: dict[int, tuple[tuple[int, ...], tuple[bytes, ...], tuple[tuple[str, str], ...]]],
        read: frozenset[str],
        keys: dict[str, dict[str, tuple[int, ...]]],
        fields_db: Any,
        wide_db: Any,
        json_words_db: Any,
        words: Callable[[dict[str, object], list[int]], None] | None,
    ) -> None: ...
    def candidates(
        self, fields: dict[str, object], text: bytes | None
    ) -> tuple[dict[str, object], dict[str, Any], list[int]] | None: ...

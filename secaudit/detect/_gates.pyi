"""Types of the compiled module secaudit/detect/_gates.c (see there)."""

from collections.abc import Callable
from typing import Any

CASELESS: int
SINGLEMATCH: int
HYPERSCAN_VERSION: str

def plain_json(text: bytes, /) -> bool: ...

class Database:
    @classmethod
    def compile(
        cls, expressions: list[bytes], ids: list[int], flags: list[int], literal: bool
    ) -> Database: ...
    @classmethod
    def load(cls, data: bytes) -> Database: ...
    def dump(self) -> bytes: ...
    def scan(self, data: bytes, hits: list[int], /) -> None: ...

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
        fields_db: Database | None,
        wide_db: Database | None,
        json_words_db: Database | None,
        words: Callable[[dict[str, object], list[int]], None] | None,
    ) -> None: ...
    def candidates(
        self, fields: dict[str, object], text: bytes | None, /
    ) -> tuple[dict[str, object], dict[str, Any], list[int]] | None: ...

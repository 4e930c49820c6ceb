"""MAC address vendors from the shipped IEEE registry snapshot (data/oui/oui.tsv.gz).

Loaded on first use, once per table; lookups try the 36-, 28- and 24-bit assignments in turn.
Locally administered addresses (randomized MACs, virtual interfaces) have no vendor.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from secaudit.core.errors import OperationalError


def default_oui_file() -> Path:
    """``data/oui/oui.tsv.gz`` in a checkout, package data when installed."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "data" / "oui" / "oui.tsv.gz"
    return checkout if checkout.is_file() else here.parents[1] / "_content" / "data" / "oui" / "oui.tsv.gz"


class OuiTable:
    """Prefix (upper-case hex, 6, 7 or 9 digits) -> organisation."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path | None = None) -> OuiTable:
        path = path or default_oui_file()
        try:
            text = gzip.decompress(path.read_bytes()).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as e:
            raise OperationalError(
                f"cannot read the MAC vendor table: {e}",
                location=str(path),
                hint="reinstall secaudit, or rebuild the table with data/oui/build.py",
            ) from e
        entries = {}
        for line in text.splitlines():
            prefix, _, organisation = line.partition("\t")
            if prefix and organisation:
                entries[prefix] = organisation
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def vendor(self, mac: str) -> str:
        """The organisation a MAC address (any common notation) is assigned to, or ``""``."""
        digits = "".join(c for c in mac if c.isalnum()).upper()
        if len(digits) != 12:
            return ""
        if int(digits[:2], 16) & 0x02:
            return "(locally administered)"
        for size in (9, 7, 6):
            found = self._entries.get(digits[:size])
            if found:
                return found
        return ""

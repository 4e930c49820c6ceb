"""Making observed text safe to write: banners, log lines and config excerpts are untrusted.

Escaping for HTML is jinja2's job (autoescape). What is left here is what escaping cannot
fix: lone surrogates (bytes that were not UTF-8, kept by ``surrogateescape``) cannot be
encoded at all, and C0 control characters are not allowed in HTML text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a raw byte kept by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return "\ufffd"


def encodable(text: str) -> str:
    """``text`` with every lone surrogate replaced, so it encodes as UTF-8."""
    return _SURROGATE.sub(_escape_surrogate, text)


def printable(text: str) -> str:
    """:func:`encodable`, and C0 controls (other than tab and newlines) shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", encodable(text))


def encodable_data(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars) with every string made encodable."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return {encodable(str(k)): encodable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable_data(v) for v in value]
    return value


def clip(text: str, limit: int) -> tuple[str, int]:
    """``text`` cut to at most ``limit`` characters, and its full length.

    The cut never splits a character from the combining marks that follow it (Thai vowel and
    tone marks, accents), so the kept part still reads as the original did. A writer that gets
    back a length above ``limit`` must say that the text was cut, and by how much.
    """
    size = len(text)
    if size <= limit:
        return text, size
    end = limit
    while end > 0 and _is_mark(text[end]):
        end -= 1
    return text[:end], size


def _is_mark(char: str) -> bool:
    # Combining marks attach to the character before them; cutting between the two would
    # leave a mark with nothing to sit on.
    return unicodedata.category(char) in ("Mn", "Me", "Mc")

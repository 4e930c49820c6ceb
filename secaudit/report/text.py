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


# Everything a terminal may act on rather than show: C0 controls but tab and newline (ESC starts
# CSI/OSC sequences: clear screen, window title, clipboard writes; CR overwrites a line), DEL,
# C1 controls (U+009B is a one-character CSI), and the bidirectional overrides that make a line
# read differently from what it holds.
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """:func:`encodable`, and every character a terminal would act on shown as ``\\xNN``/``\\uNNNN``.

    For any text from data (log fields, banners, rule titles, file names) on its way to a terminal.
    """
    return _TERMINAL.sub(_show, encodable(text))


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

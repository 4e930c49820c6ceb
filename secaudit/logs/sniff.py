"""Which format a file is in, from its first bytes (never from its name).

The tests themselves live with each format (``@sniffer`` in its module, see :mod:`secaudit.logs.formats`);
this module cuts the head into lines and asks them stage by stage.
"""

from __future__ import annotations

import re

from secaudit.logs.formats import Sample, sniffers

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 10

_LINE_END = re.compile(rb"\r?\n|\r")
# every byte but the control characters below 9 and from 14 to 31 (TAB, LF, VT, FF, CR are text)
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))

#: A sniffer returns this when the file is of its shape but not readable as any format: stop, unknown.
UNREADABLE = ""


def _binary(head: bytes) -> bool:
    """Text logs have few NUL bytes and control characters.

    One damaged line (a NUL or two among text) does not make a log binary: its good lines are still
    read and the bad one is skipped and counted. Random bytes hold about 10 % control bytes, UTF-16
    text about 50 % NULs.
    """
    sample = head[:4096]
    controls = len(sample.translate(None, _NOT_CONTROL))  # the control bytes left once text is deleted
    return controls > len(sample) // 20


def sniff(head: bytes) -> str | None:
    """The format of a file starting with ``head`` (up to :data:`SNIFF_BYTES`), or None if none fits."""
    binary = bool(head) and _binary(head)
    raw = Sample(head=head, lines=(), binary=binary)
    for s in sniffers("binary"):
        if (name := s.run(raw, b"")) is not None:
            return name or None
    if not head or binary:
        return None
    # CR-only line ends (old exports) and a bare CR inside a line count as line ends here
    cuts = SNIFF_LINES * 4  # lines looked at: the head is not split further
    pieces = (_LINE_END.split(head, maxsplit=cuts) if b"\r" in head else head.split(b"\n", cuts))[:cuts]
    lines = [line for line in pieces if line.strip()][:SNIFF_LINES]
    if not lines:
        return None
    if len(head) >= SNIFF_BYTES and not head.endswith(b"\n") and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sniff window
    lines[0] = lines[0].lstrip(b"\xef\xbb\xbf")
    sample = Sample(head=head, lines=tuple(lines), binary=False)
    for s in sniffers("document"):
        if (name := s.run(sample, lines[0])) is not None:
            return name or None
    line_sniffers = sniffers("line")
    for line in lines:
        for s in line_sniffers:
            if (name := s.run(sample, line)) is not None:
                return name or None
    for s in sniffers("fallback"):
        if (name := s.run(sample, b"")) is not None:
            return name or None
    return None

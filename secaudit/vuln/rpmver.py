"""RPM version comparison, as rpm's own ``rpmvercmp`` and ``rpmverCmp`` (rpm 4.18) do it.

A version string is compared segment by segment: separators (anything not an ASCII letter or digit,
nor ``~`` or ``^``) are skipped; ``~`` sorts before everything, even the end of the string; ``^``
sorts after the end of the string but before anything else; a digit run compares as a number
(leading zeros dropped, the longer run wins) and beats a letter run; letter runs compare as bytes;
when every segment is equal, the string with something left over is newer.

An EVR (``[epoch:]version[-release]``) compares epochs (none is 0), then versions, then releases, a
missing part older than a present one. The tests hold both against the real ``rpm`` (its Lua
``rpm.vercmp``) on generated pairs.
"""

from __future__ import annotations


def _alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    """-1, 0 or 1 as version ``a`` is older than, equal to or newer than ``b``."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not _alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < lb and not _alnum(b[j]) and b[j] not in "~^":
            j += 1
        ca, cb = a[i] if i < la else "", b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if not (ca and cb):
            break
        si, sj = i, j
        if ca.isdigit():
            while si < la and a[si].isascii() and a[si].isdigit():
                si += 1
            while sj < lb and b[sj].isascii() and b[sj].isdigit():
                sj += 1
            numeric = True
        else:
            while si < la and a[si].isascii() and a[si].isalpha():
                si += 1
            while sj < lb and b[sj].isascii() and b[sj].isalpha():
                sj += 1
            numeric = False
        if sj == j:  # the segments are of different kinds: a number beats letters
            return 1 if numeric else -1
        one, two = a[i:si], b[j:sj]
        if numeric:
            one, two = one.lstrip("0"), two.lstrip("0")
            if len(one) != len(two):
                return 1 if len(one) > len(two) else -1
        if one != two:
            return 1 if one.encode() > two.encode() else -1
        i, j = si, sj
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


def parse_evr(evr: str) -> tuple[str | None, str, str | None]:
    """(epoch, version, release) as rpm's ``parseEVR`` splits them: the epoch is the leading digits
    before a ``:`` (None when there is no ``:``; ``0`` when the digits are empty), the release what
    follows the last ``-`` after them (None when there is none, possibly empty)."""
    digits = 0
    while digits < len(evr) and evr[digits].isascii() and evr[digits].isdigit():
        digits += 1
    epoch: str | None = None
    rest = evr
    if evr[digits : digits + 1] == ":":
        epoch, rest = evr[:digits] or "0", evr[digits + 1 :]
        tail_from = 0
    else:
        tail_from = digits
    dash = rest.rfind("-", tail_from)
    if dash < 0:
        return epoch, rest, None
    return epoch, rest[:dash], rest[dash + 1 :]


def _values(a: str | None, b: str | None) -> int:
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return rpmvercmp(a, b)


def compare_evr(a: str, b: str) -> int:
    """-1, 0 or 1 comparing two ``[epoch:]version[-release]`` strings as rpm's ``rpmverCmp`` does:
    epochs (none is ``0``) as version strings, then versions, then releases, a missing part
    older than a present one."""
    ea, va, ra = parse_evr(a)
    eb, vb, rb = parse_evr(b)
    return _values(ea or "0", eb or "0") or _values(va, vb) or _values(ra, rb)


class EvrKey:
    """A sort key whose ordering is :func:`compare_evr`'s."""

    __slots__ = ("evr",)

    def __init__(self, evr: str) -> None:
        self.evr = evr

    def __lt__(self, other: EvrKey) -> bool:
        return compare_evr(self.evr, other.evr) < 0

    def __le__(self, other: EvrKey) -> bool:
        return compare_evr(self.evr, other.evr) <= 0

    def __gt__(self, other: EvrKey) -> bool:
        return compare_evr(self.evr, other.evr) > 0

    def __ge__(self, other: EvrKey) -> bool:
        return compare_evr(self.evr, other.evr) >= 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EvrKey) and compare_evr(self.evr, other.evr) == 0

    def __hash__(self) -> int:
        return hash(self.evr)

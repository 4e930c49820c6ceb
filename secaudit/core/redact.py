"""The one redaction layer: secrets never leave secaudit in anything it prints or stores.

Every error message, console line, history row and report passes through :func:`redact`
(the CLI's printer and consoles, and the core model's text fields, see ``core.model``), so a
password in a URL, a token in a query string, an ``Authorization:`` header echoed by a server
or an API key repeated in a server's error body is masked wherever it turns up.

Two kinds of knowledge meet here:

- *shapes* that hold a secret whatever its value: ``scheme://user:PASSWORD@host``,
  ``?password=...``/``&token=...`` query parameters, ``Authorization: Basic ...`` and
  ``password=...``/``"api_key": "..."`` pairs;
- *values* secaudit was handed as secrets (from environment variables, see :class:`Secret`):
  those are masked wherever they appear, since a server may repeat them in any wording.

Masking keeps the name (user, parameter, header) so a reader still sees what was configured.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading
from collections.abc import Callable
from typing import Any

MASK = "***"

# scheme://user:password@ : the password runs to the last '@' before whitespace or a quote, so
# a password holding '/', '#', '?' or '@' is masked whole (urlsplit would cut it apart).
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#'\"<>]*):(?P<secret>[^\s'\"<>]*)@")
# Names that say their value is a secret. In a URL query even short ones are clear; in running
# text only unambiguous ones count ("pass: 12" is a baseline tally, not a password; "PWD=/home/x"
# in a sudo log is the working directory).
_NAMES = (
    r"passw(?:or)?d|passphrase|secret|client[_-]?secret|token|access[_-]?token|auth[_-]?token|"
    r"refresh[_-]?token|api[_-]?key|apikey|x-api-key|private[_-]?key"
)
_QUERY = re.compile(
    rf"(?P<head>[?&;](?:{_NAMES}|pass|pwd|sig|signature|credentials?)=)(?P<secret>[^&\s'\"<>#]+)",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"(?P<head>\b(?:proxy-)?authorization\s*[:=]\s*(?:(?:basic|bearer|apikey|token|digest|negotiate)\s+)?)"
    r"(?P<secret>[^\s'\",;]+)",
    re.IGNORECASE,
)
_PAIR = re.compile(
    rf"(?P<head>(?<![A-Za-z0-9_-])(?:{_NAMES})[\"']?\s*[:=]\s*[\"']?)(?P<secret>[^\s'\",;&<>)}}\]]+)",
    re.IGNORECASE,
)
# What each name of _NAMES holds, lowercased: _PAIR matches no text without one of them.
_PAIR_STEMS = ("passw", "passphrase", "secret", "token", "api", "private")
# Values too short to be told apart from ordinary words are not registered.
_MIN_SECRET = 4
# A cheap test before the expensive ones: every shape above holds one of these (a URL's "://", or
# part of a secret's name), so text without any is returned as it is.
_TRIGGERS = ("://", "pass", "pwd", "secret", "token", "key", "auth", "sig", "credential")


class _Known:
    """The secret values handed to secaudit in this process, as one alternation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None


_KNOWN = _Known()


def _mask(match: re.Match[str]) -> str:
    return match.group("head") + MASK


def _pair_mask(match: re.Match[str]) -> str:
    secret = match.group("secret")
    if secret == MASK or secret.endswith("_env") or secret.lower() in _HARMLESS:
        return match.group(0)
    return match.group("head") + MASK


# Words that follow "password:" in our own and in systems' messages without being a password.
_HARMLESS = frozenset(
    {"none", "null", "true", "false", "yes", "no", "set", "unset", "required", "expired", "empty", "***"}
)


def register_secret(value: str) -> None:
    """Mask ``value`` (and the key part of an Elasticsearch ``id:key`` API key) from now on."""
    values = {value}
    try:  # an API key as the server knows it: base64("id:key"); it may echo the decoded parts
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
        values |= {part for part in decoded.split(":", 1)[1:]}
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    with _KNOWN.lock:
        known = _KNOWN.values | {v for v in values if len(v) >= _MIN_SECRET}
        if known == _KNOWN.values:
            return
        # longest first, so a value holding another is masked whole
        alternatives = sorted(known, key=len, reverse=True)
        _KNOWN.pattern = re.compile("|".join(re.escape(v) for v in alternatives))
        _KNOWN.values = known
        _redact_short.cache_clear()  # remembered results predate this secret


def forget_secrets() -> None:
    """Drop every registered value (for tests that register their own)."""
    with _KNOWN.lock:
        _KNOWN.values = frozenset()
        _KNOWN.pattern = None
        _redact_short.cache_clear()


def redact(text: str) -> str:
    """``text`` with every secret masked as ``***`` (see the module doc for what counts)."""
    # Findings repeat their titles and descriptions over many assets: short texts are remembered.
    return _redact_short(text) if len(text) <= 512 else _redact(text)


@functools.lru_cache(maxsize=1 << 16)
def _redact_short(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    pattern = _KNOWN.pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    low = text.lower()
    if not any(trigger in low for trigger in _TRIGGERS):
        return text
    # Each shape runs only when the text holds what it cannot match without: the same masks, in the
    # same order. On long values (a Windows event's Message) the four regexes were most of the time
    # a hunt's output took, about 50 us of 90 per hit.
    gate = _gate(low)
    if "://" in gate and "@" in text:
        text, gate = _applied(_USERINFO, lambda m: f"{m.group('head')}:{MASK}@", text, gate)
    if "=" in text:
        text, gate = _applied(_QUERY, _mask, text, gate)
    if "authorization" in gate:
        text, gate = _applied(_HEADER, _mask, text, gate)
    if ("=" in text or ":" in text) and any(stem in gate for stem in _PAIR_STEMS):
        text = _PAIR.sub(_pair_mask, text)
    return text


def _gate(low: str) -> str:
    """``low`` (a text's lowercase) with every character a case-blind regex takes for an ASCII letter
    made that letter: dotless i and long s (whose lowercase is themselves), and the dot that the
    lowercase of a dotted capital I puts after its i. The other two such characters, the Kelvin sign
    and a capital letter, lowercase to the letter already."""
    if low.isascii():
        return low
    return low.replace("\u0131", "i").replace("\u017f", "s").replace("\u0307", "")


def _applied(
    pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], text: str, gate: str
) -> tuple[str, str]:
    """``pattern.sub(replace, text)`` and the gate of the result."""
    masked = pattern.sub(replace, text)
    return masked, gate if masked == text else _gate(masked.lower())


def redact_data(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


class Secret:
    """A credential that never shows itself: ``str``/``repr`` give ``***``; :meth:`reveal` gives it.

    Making one registers the value with :func:`redact`, so a server that repeats it in an error
    body, or a library that puts it in an exception, cannot carry it out of secaudit.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

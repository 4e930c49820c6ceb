"""Small, strict decoders for the few payloads passive discovery reads.

Each takes bytes an attacker controls and never raises on garbage: it returns nothing instead.
Secrets found here (passwords, SNMP communities) never leave this module whole: callers get
:func:`redact`'s form, which shows only the length.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

#: Modbus function codes (public ones) and which of them write to the device.
MODBUS_FUNCTIONS = {
    1: "read coils",
    2: "read discrete inputs",
    3: "read holding registers",
    4: "read input registers",
    5: "write single coil",
    6: "write single register",
    7: "read exception status",
    8: "diagnostics",
    11: "get comm event counter",
    12: "get comm event log",
    15: "write multiple coils",
    16: "write multiple registers",
    17: "report server id",
    20: "read file record",
    21: "write file record",
    22: "mask write register",
    23: "read/write multiple registers",
    24: "read FIFO queue",
    43: "encapsulated interface (device identification)",
}
MODBUS_WRITES = frozenset({5, 6, 15, 16, 22, 23})


def redact(secret: str) -> str:
    """What reports show of a secret: never any of its characters."""
    return f"<redacted, {len(secret)} characters>"


def modbus_requests(payload: bytes) -> Iterator[tuple[int, int]]:
    """``(unit id, function code)`` of each Modbus/TCP request ADU in a TCP payload."""
    pos, end = 0, len(payload)
    while pos + 8 <= end:
        protocol = (payload[pos + 2] << 8) | payload[pos + 3]
        length = (payload[pos + 4] << 8) | payload[pos + 5]
        if protocol != 0 or length < 2 or length > 254:
            return
        yield payload[pos + 6], payload[pos + 7] & 0x7F
        pos += 6 + length


# ------------------------------------------------------------------------------------------ SNMP
def _ber_length(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 3 or pos + 1 + count > len(data):
        raise ValueError("bad BER length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def snmp_community(payload: bytes) -> tuple[str, str] | None:
    """``(version, community)`` of an SNMPv1/v2c message, or None (SNMPv3 has no community)."""
    try:
        if not payload or payload[0] != 0x30:
            return None
        _, pos = _ber_length(payload, 1)
        if payload[pos] != 0x02:
            return None
        size, pos = _ber_length(payload, pos + 1)
        version = int.from_bytes(payload[pos : pos + size], "big")
        pos += size
        if version not in (0, 1) or payload[pos] != 0x04:
            return None
        size, pos = _ber_length(payload, pos + 1)
        if pos + size > len(payload):
            return None
        community = payload[pos : pos + size].decode("latin-1")
    except (IndexError, ValueError):
        return None
    return ("v1" if version == 0 else "v2c"), community


# ------------------------------------------------------------------------------------------ HTTP
_BASIC = re.compile(rb"(?im)^authorization:[ \t]*basic[ \t]+([A-Za-z0-9+/=]{4,512})[ \t]*\r?$")
_HOST = re.compile(rb"(?im)^host:[ \t]*([^\r\n]{1,255})")
HTTP_METHODS = frozenset({b"GET ", b"POST", b"PUT ", b"HEAD", b"DELE", b"PATC", b"OPTI"})


def http_basic(payload: bytes) -> tuple[str, str, str] | None:
    """``(user, password, request line)`` of an HTTP request with Basic credentials, or None."""
    match = _BASIC.search(payload)
    if match is None:
        return None
    try:
        user, sep, password = base64.b64decode(match.group(1), validate=True).decode("latin-1").partition(":")
    except (binascii.Error, ValueError):
        return None
    if not sep:
        return None
    line = payload.split(b"\r\n", 1)[0][:200].decode("latin-1", "replace")
    method, _, rest = line.partition(" ")
    return user, password, f"{method} {rest.rsplit(' ', 1)[0]}".strip()


# ------------------------------------------------------------------------------------------- FTP
def ftp_commands(payload: bytes) -> Iterator[tuple[str, str]]:
    """``(command, argument)`` of each USER/PASS line a client sent."""
    for raw in payload.split(b"\n"):
        line = raw.rstrip(b"\r").decode("latin-1")
        verb, _, argument = line.partition(" ")
        if verb.upper() in ("USER", "PASS"):
            yield verb.upper(), argument


# ---------------------------------------------------------------------------------------- telnet
_IAC = 255


def telnet_text(data: bytes) -> bytes:
    """Telnet bytes without option negotiation (IAC sequences)."""
    if _IAC not in data:
        return data
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b != _IAC:
            out.append(b)
            i += 1
            continue
        if i + 1 >= n:
            break
        cmd = data[i + 1]
        if cmd == _IAC:
            out.append(_IAC)
            i += 2
        elif cmd == 250:  # subnegotiation: skip to IAC SE
            end = data.find(bytes((_IAC, 240)), i + 2)
            i = n if end < 0 else end + 2
        elif 251 <= cmd <= 254:
            i += 3
        else:
            i += 2
    return bytes(out)


_LOGIN_PROMPT = re.compile(rb"(?i)(login|username|user name)\s*:\s*$")
_PASSWORD_PROMPT = re.compile(rb"(?i)password\s*:\s*$")


def telnet_logins(events: list[tuple[bool, bytes]]) -> list[tuple[str, str]]:
    """``(user, password)`` typed after login and password prompts in one telnet conversation.

    ``events`` are ``(from_client, bytes)`` in capture order. Keystrokes arrive one packet each
    (character mode) or as whole lines; both are handled. Backspace/DEL edit the line.
    """
    logins: list[tuple[str, str]] = []
    server_tail = b""
    field = ""  # "user" or "password": what the client is typing now
    typed = bytearray()
    user = ""
    for from_client, raw in events:
        data = telnet_text(raw)
        if not from_client:
            server_tail = (server_tail + data)[-200:]
            if _PASSWORD_PROMPT.search(server_tail):
                field, typed = "password", bytearray()
            elif _LOGIN_PROMPT.search(server_tail):
                field, typed = "user", bytearray()
            continue
        if not field:
            continue
        for b in data:
            if b in (8, 127):
                if typed:
                    typed.pop()
            elif b in (10, 13, 0):
                if b == 0 or (not typed and b == 10):
                    continue
                text = typed.decode("latin-1")
                if field == "user":
                    user = text
                    server_tail = b""
                elif field == "password":
                    logins.append((user, text))
                    user = ""
                field, typed = "", bytearray()
                break
            else:
                typed.append(b)
    return logins

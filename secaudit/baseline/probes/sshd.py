"""The effective OpenSSH server configuration, derived offline the way ``sshd -T`` would print it:
sshd_config with ``Include`` (globs, relative to /etc/ssh), first value wins, OpenSSH 9.2 defaults
(Debian 12) for anything unset, and ``Match`` blocks reported as extra observations."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import CONFIGS, Param, config_text, probe
from secaudit.baseline.target import FileTarget, ProbeError, Target

SSHD_CONFIG = "/etc/ssh/sshd_config"
MAX_INCLUDE_DEPTH = 16

DEFAULTS: dict[str, str] = {
    "port": "22",
    "addressfamily": "any",
    "loglevel": "INFO",
    "syslogfacility": "AUTH",
    "logingracetime": "120",
    "permitrootlogin": "prohibit-password",
    "strictmodes": "yes",
    "maxauthtries": "6",
    "maxsessions": "10",
    "maxstartups": "10:30:100",
    "pubkeyauthentication": "yes",
    "hostbasedauthentication": "no",
    "ignorerhosts": "yes",
    "ignoreuserknownhosts": "no",
    "passwordauthentication": "yes",
    "permitemptypasswords": "no",
    "kbdinteractiveauthentication": "yes",
    "kerberosauthentication": "no",
    "gssapiauthentication": "no",
    "usepam": "no",
    "allowagentforwarding": "yes",
    "allowtcpforwarding": "yes",
    "allowstreamlocalforwarding": "yes",
    "gatewayports": "no",
    "x11forwarding": "no",
    "permittunnel": "no",
    "permituserenvironment": "no",
    "disableforwarding": "no",
    "clientaliveinterval": "0",
    "clientalivecountmax": "3",
    "usedns": "no",
    "compression": "yes",
    "printmotd": "yes",
    "printlastlog": "yes",
    "banner": "none",
    "tcpkeepalive": "yes",
    "ciphers": "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    "macs": "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "kexalgorithms": "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    "hostkey": "/etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_ecdsa_key /etc/ssh/ssh_host_ed25519_key",
    "authorizedkeysfile": ".ssh/authorized_keys .ssh/authorized_keys2",
}
ALIASES = {"challengeresponseauthentication": "kbdinteractiveauthentication"}
# Keywords whose lines add up instead of the first one winning.
ACCUMULATE = {
    "acceptenv",
    "allowusers",
    "allowgroups",
    "denyusers",
    "denygroups",
    "hostkey",
    "listenaddress",
    "port",
    "subsystem",
    "hostcertificate",
}
ALGORITHM_LISTS = {"ciphers", "macs", "kexalgorithms", "hostkeyalgorithms", "pubkeyacceptedalgorithms"}
TIME_VALUES = {"logingracetime", "clientaliveinterval"}
_LINE = re.compile(r"^(\S+?)(?:\s*=\s*|\s+)(.*)$")
_TIME = re.compile(r"(\d+)([smhdwSMHDW]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(slots=True)
class _Setting:
    values: list[str]
    file: str
    line: int


@dataclass(slots=True)
class SshdConfig:
    settings: dict[str, _Setting] = field(default_factory=dict)
    matches: list[tuple[str, str, _Setting]] = field(default_factory=list)  # (criteria, keyword, setting)


def _seconds(text: str) -> str:
    total = 0
    pos = 0
    for m in _TIME.finditer(text):
        if m.start() != pos:
            return text
        total += int(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    return str(total) if pos == len(text) and text else text


def _parse(target: Target) -> SshdConfig:
    label, text = config_text(target, SSHD_CONFIG, what="OpenSSH server")
    config = SshdConfig()
    _read_into(target, config, label, text, match="", depth=0)
    return config


def _read_into(target: Target, config: SshdConfig, path: str, text: str, match: str, depth: int) -> str:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        keyword = ALIASES.get(m.group(1).lower(), m.group(1).lower())
        value = m.group(2).split("#", 1)[0].strip() if keyword != "banner" else m.group(2).strip()
        if keyword == "match":
            match = "" if value.lower() == "all" else value
            continue
        if keyword == "include":
            match = _include(target, config, value, match, depth, f"{path}:{number}")
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if keyword in TIME_VALUES:
            value = _seconds(value)
        setting = _Setting([value], path, number)
        if match:
            config.matches.append((match, keyword, setting))
        elif keyword in ACCUMULATE and keyword in config.settings:
            config.settings[keyword].values.append(value)
        elif keyword not in config.settings:
            config.settings[keyword] = setting
    return match


def _include(target: Target, config: SshdConfig, value: str, match: str, depth: int, where: str) -> str:
    if isinstance(target, FileTarget):
        return match  # a single dump: included files were not collected
    if depth >= MAX_INCLUDE_DEPTH:
        raise ProbeError(f"{where}: Include nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)")
    for word in value.split():
        pattern = word if word.startswith("/") else posixpath.join("/etc/ssh", word)
        paths = target.glob(pattern) if any(c in pattern for c in "*?[") else [pattern]
        for path in paths:
            text = target.read_text(path)
            if text is not None:
                match = _read_into(target, config, path, text, match, depth + 1)
    return match


def _algorithms(default: str, value: str) -> str:
    base = default.split(",")
    if value.startswith("+"):
        return ",".join(base + [v for v in value[1:].split(",") if v not in base])
    if value.startswith("-"):
        drop = value[1:].split(",")
        return ",".join(b for b in base if not any(fnmatch.fnmatchcase(b, d) for d in drop))
    if value.startswith("^"):
        front = value[1:].split(",")
        return ",".join(front + [b for b in base if b not in front])
    return value


def _normalize(keyword: str, value: str) -> str:
    if keyword == "permitrootlogin" and value.lower() == "without-password":
        return "prohibit-password"
    if keyword in ALGORITHM_LISTS:
        return _algorithms(DEFAULTS.get(keyword, ""), value)
    return value


def sshd_config(target: Target) -> SshdConfig:
    return target.memo("sshd", lambda: _parse(target))


@probe(
    "sshd_setting",
    targets=CONFIGS,
    params=(
        Param(name="setting", type=str, required=True),
        Param(name="match_blocks", type=bool, default=True),
    ),
)
def sshd_setting(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The effective value of one sshd keyword (lower case, as ``sshd -T`` names it); the OpenSSH
    default when unset (note ``OpenSSH default``), unset when it has none. Lines inside ``Match``
    blocks that set the keyword are extra observations, so an override cannot hide."""
    keyword = ALIASES.get(p["setting"].lower(), p["setting"].lower())
    config = sshd_config(target)
    where = str(target.path) if isinstance(target, FileTarget) else SSHD_CONFIG
    setting = config.settings.get(keyword)
    if setting is not None:
        value = " ".join(setting.values) if keyword in ACCUMULATE else setting.values[0]
        out = [
            Observation(
                subject=keyword, value=_normalize(keyword, value), file=setting.file, line=setting.line
            )
        ]
    elif keyword in DEFAULTS:
        out = [Observation(subject=keyword, value=DEFAULTS[keyword], file=where, note="OpenSSH default")]
    else:
        out = [Observation(subject=keyword, value=None, file=where, note="not set")]
    if p.get("match_blocks", True):
        for criteria, key, s in config.matches:
            if key == keyword:
                out.append(
                    Observation(
                        subject=f"{keyword} (Match {criteria})",
                        value=_normalize(keyword, s.values[0]),
                        file=s.file,
                        line=s.line,
                    )
                )
    return out

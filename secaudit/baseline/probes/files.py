"""File probes: existence, mode and ownership, matching lines, directory scans."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.accounts import login_users
from secaudit.baseline.probes.base import (
    TREES,
    Param,
    gid_names,
    logical_lines,
    owner_attrs,
    probe,
    uid_names,
)
from secaudit.baseline.target import NotApplicable, ProbeError, Target

MAX_SCAN_ENTRIES = 500_000


def _paths(target: Target, pattern: str) -> list[str]:
    if any(ch in pattern for ch in "*?["):
        return target.glob(pattern)
    return [pattern]


@probe("file_exists", targets=TREES, params=(Param(name="path", type=str, required=True),))
def file_exists(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """One observation per path (globs allowed): value ``file``/``dir``/... when present, unset when not."""
    pattern = p["path"]
    out = []
    for path in _paths(target, pattern):
        info = target.info(path)
        out.append(Observation(subject=path, value=info.kind if info else None, file=path))
    if not out:
        out.append(Observation(subject=pattern, value=None, file=pattern))
    return out


@probe("file_stat", targets=TREES, params=(Param(name="path", type=str, required=True),))
def file_stat(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Mode (octal text), owner and group of each existing path; no observation for a missing one."""
    out = []
    paths = _paths(target, p["path"])
    for path in paths:
        info = target.info(path)
        if info is None:
            continue
        out.append(
            Observation(
                subject=path,
                value=f"{info.mode:04o}",
                file=path,
                attrs=(*owner_attrs(target, info.uid, info.gid), ("kind", info.kind)),
            )
        )
    # Nothing to judge is still evidence: say where we looked.
    return out or [Observation(subject=p["path"], value=None, file=p["path"], note="no such file")]


@probe(
    "file_lines",
    targets=TREES,
    params=(
        Param(name="path", type=str, required=True),
        Param(name="regex", type=str, required=True),
        Param(name="group", type=(int, str), default=None),
        Param(name="comments", type=str, default="#"),
        Param(name="ignore_case", type=bool, default=True),
    ),
)
def file_lines(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Every non-comment line matching ``regex`` in the file(s); value is ``group`` (default: the first
    capture group if any, else the whole line)."""
    rx = re.compile(p["regex"], re.IGNORECASE if p.get("ignore_case", True) else 0)
    group = p.get("group")
    if group is None:
        group = 1 if rx.groups else 0
    out = []
    searched = []
    globbed = any(ch in p["path"] for ch in "*?[")
    for path in _paths(target, p["path"]):
        if globbed and (info := target.info(path)) is not None and info.kind == "dir":
            continue  # a pattern like /etc/dconf/db/*.d/* also matches the locks/ folder
        text = target.read_text(path)
        if text is None:
            continue
        searched.append(path)
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            comment = p.get("comments", "#")
            if not line or (comment and line.startswith(comment)):
                continue
            m = rx.search(line)
            if m:
                value = m.group(group) if m.group(group) is not None else ""
                out.append(Observation(subject=path, value=value.strip(), file=path, line=number))
    if out:
        return out
    if not searched:
        return [Observation(subject=p["path"], value=None, file=p["path"], note="no such file")]
    return [Observation(subject=path, value=None, file=path, note="no matching line") for path in searched]


@probe(
    "dir_scan",
    targets=TREES,
    params=(
        Param(name="path", type=str, required=True),
        Param(name="name", type=str, default="*"),
        Param(name="recursive", type=bool, default=False),
        Param(name="kind", type=str, default="any", choices=("any", "file", "dir", "link")),
        Param(name="mode_any", type=int, default=0),
        Param(name="skip", type=list, default=[]),
        Param(name="unowned", type=bool, default=False),
    ),
)
def dir_scan(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Entries under ``path`` whose name matches ``name`` (and, when ``mode_any`` is given, whose mode
    has any of those bits; with ``unowned``, whose owner or group is in neither the target's
    /etc/passwd nor /etc/group); value is the mode, attrs owner/group. Symlinks are listed, not
    followed."""
    wanted_kind = p.get("kind", "any")
    mask = int(p.get("mode_any", 0))
    skip = {s.rstrip("/") for s in p.get("skip", [])}
    out: list[Observation] = []
    todo = [p["path"]]
    seen = 0
    while todo:
        base = todo.pop()
        for info in target.scan(base) or []:
            path = info.path
            if path in skip:
                continue
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                raise ProbeError(f"{p['path']}: more than {MAX_SCAN_ENTRIES} entries, scan stopped")
            if info.kind == "dir" and p.get("recursive", False):
                todo.append(path)
            if wanted_kind not in ("any", info.kind):
                continue
            if not fnmatch.fnmatchcase(posixpath.basename(path), p.get("name", "*")):
                continue
            if mask and not info.mode & mask:
                continue
            if p.get("unowned", False) and info.uid in uid_names(target) and info.gid in gid_names(target):
                continue
            out.append(
                Observation(
                    subject=path,
                    value=f"{info.mode:04o}",
                    file=path,
                    attrs=(*owner_attrs(target, info.uid, info.gid), ("kind", info.kind)),
                )
            )
    if not out:
        return [Observation(subject=p["path"], value=None, file=p["path"], note="nothing matching found")]
    return sorted(out, key=lambda o: o.subject)


# Log files under /var/log by name: (name patterns, mode bits that must be clear, owners, groups).
# The first matching rule applies; files in an apt/ folder and the rest fall to the two below.
_LOG_RULES: tuple[tuple[tuple[str, ...], int, frozenset[str], frozenset[str]], ...] = (
    (
        ("lastlog", "lastlog.*", "wtmp", "wtmp.*", "wtmp-*", "btmp", "btmp.*", "btmp-*", "README"),
        0o113,
        frozenset({"root"}),
        frozenset({"root", "utmp"}),
    ),
    (
        ("cloud-init.log*", "localmessages*", "waagent.log*"),
        0o133,
        frozenset({"root", "syslog"}),
        frozenset({"root", "adm"}),
    ),
    (
        ("secure", "secure.*", "secure-*", "auth.log", "syslog", "messages"),
        0o137,
        frozenset({"root", "syslog"}),
        frozenset({"root", "adm"}),
    ),
    (("SSSD", "sssd"), 0o117, frozenset({"root", "SSSD"}), frozenset({"root", "SSSD"})),
    (("gdm", "gdm3"), 0o117, frozenset({"root"}), frozenset({"root", "gdm", "gdm3"})),
    (("*.journal", "*.journal~"), 0o137, frozenset({"root"}), frozenset({"root", "systemd-journal"})),
)
_LOG_APT = (0o133, frozenset({"root"}), frozenset({"root", "adm"}))
_LOG_OTHER = (0o137, frozenset({"root", "syslog"}), frozenset({"root", "adm"}))


@probe("log_files", targets=TREES, params=(Param(name="path", type=str, default="/var/log"),))
def log_files(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Log files (under ``path``, recursively) whose mode, owner or group is beyond what their name
    allows: utmp-style files (lastlog, wtmp, btmp) up to 0664 root:utmp, authentication logs and
    journals up to 0640 (root or syslog, group adm or systemd-journal), apt's logs up to 0644, any
    other file up to 0640 owned by root or syslog with group root or adm - or by a service account
    without a login shell (or root), with that file's group. Value: what is wrong."""
    top = p.get("path", "/var/log").rstrip("/") or "/"
    if target.info(top) is None:
        raise NotApplicable(f"no {top} in the target")
    users, groups, logins = uid_names(target), gid_names(target), login_users(target)
    out: list[Observation] = []
    todo, seen = [top], 0
    while todo:
        folder = todo.pop()
        for info in target.scan(folder) or []:
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                raise ProbeError(f"{top}: more than {MAX_SCAN_ENTRIES} entries, scan stopped")
            if info.kind == "dir":
                todo.append(info.path)
            if info.kind != "file":
                continue
            name = posixpath.basename(info.path)
            owner, group = users.get(info.uid, str(info.uid)), groups.get(info.gid, str(info.gid))
            if posixpath.basename(posixpath.dirname(info.path)) == "apt":
                mask, owners, allowed_groups = _LOG_APT
            else:
                rule = next((r for r in _LOG_RULES if any(fnmatch.fnmatchcase(name, g) for g in r[0])), None)
                mask, owners, allowed_groups = rule[1:] if rule else _LOG_OTHER
                if rule is None and (owner == "root" or (info.uid in users and owner not in logins)):
                    owners, allowed_groups = owners | {owner}, allowed_groups | {group}
            problems = []
            if info.mode & mask:
                problems.append(f"mode {info.mode:04o}, more than {0o777 & ~mask:04o}")
            if owner not in owners:
                problems.append(f"owner {owner}, not {' or '.join(sorted(owners))}")
            if group not in allowed_groups:
                problems.append(f"group {group}, not {' or '.join(sorted(allowed_groups))}")
            if problems:
                problem = "; ".join(problems)
                out.append(
                    Observation(
                        subject=f"{info.path} ({problem})",
                        value=problem,
                        file=info.path,
                        attrs=owner_attrs(target, info.uid, info.gid),
                    )
                )
    if not out:
        return [Observation(subject=top, value=None, file=top, note="every log file within its limits")]
    return sorted(out, key=lambda o: o.subject)


# Where root's PATH comes from on a Debian-family host: the values login(1), su and sudo start from
# (pam_env's /etc/environment, ENV_SUPATH, sudo's secure_path), then what the start-up files a root
# login shell reads do to it.
_SECURE_PATH = re.compile(r"^Defaults(?:[:@>!]\S+)?\s+secure_path\s*=\s*\"?([^\"]*)\"?\s*$")
_PATH_VALUES = (
    ("/etc/environment", re.compile(r"^(?:export\s+)?PATH\s*=\s*[\"']?([^\"']*)[\"']?\s*$")),
    ("/etc/login.defs", re.compile(r"^ENV_SUPATH\s+PATH=(\S*)\s*$")),
    ("/etc/sudoers", _SECURE_PATH),
    ("/etc/sudoers.d/*", _SECURE_PATH),
)
_PATH_SCRIPTS = (
    "/etc/profile",
    "/etc/profile.d/*.sh",
    "/etc/bash.bashrc",
    "/root/.profile",
    "/root/.bash_profile",
    "/root/.bash_login",
    "/root/.bashrc",
)
# PATH=... anywhere on a line (export PATH=..., [ -d x ] && PATH=...), not MANPATH= and the like
_PATH_ASSIGN = re.compile(r"(?<![\w$])PATH=(\"[^\"]*\"|'[^']*'|[^\s;&|)]*)")
_VAR_ASSIGN = re.compile(r"^(?:export\s+)?([A-Za-z_]\w*)=(\"[^\"$`]*\"|'[^']*'|[^\s;&|$`\"']*)\s*$")
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@probe("root_path", targets=TREES, params=())
def root_path(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Every PATH root can start with (/etc/environment, ENV_SUPATH in /etc/login.defs, sudo's
    secure_path) and every PATH assignment in the shell start-up files a root login reads, entry by
    entry: an empty or relative entry (the current directory), a variable other than $PATH, $HOME or
    one the same file sets to a literal (not decidable from files), a directory that is missing, not
    root's, or writable by group or others. Value: what is wrong; one unset observation naming the
    files read when nothing is."""
    del p
    sources: list[tuple[str, int, str, dict[str, str]]] = []  # file, line, PATH value, its file's variables
    read: list[str] = []
    for pattern, rx in _PATH_VALUES:
        for path in _paths(target, pattern):
            text = target.read_text(path)
            if text is None:
                continue
            read.append(path)
            sources.extend(
                (path, n, m.group(1).strip(), {}) for n, line in logical_lines(text) if (m := rx.match(line))
            )
    for pattern in _PATH_SCRIPTS:
        for path in _paths(target, pattern):
            text = target.read_text(path)
            if text is None:
                continue
            read.append(path)
            lines = logical_lines(text)
            variables = {"HOME": "/root"}
            for _, line in lines:
                if (m := _VAR_ASSIGN.match(line)) and m.group(1) != "PATH":
                    variables[m.group(1)] = m.group(2).strip("\"'")
            for number, line in lines:
                sources.extend(
                    (path, number, raw.strip("\"'"), variables) for raw in _PATH_ASSIGN.findall(line)
                )
    out: list[Observation] = []
    judged: dict[str, str | None] = {}
    for path, number, value, variables in sources:
        for entry in value.split(":"):
            if variables and entry.strip() in ("$PATH", "${PATH}"):
                continue  # what the login started with, judged above
            resolved = _expand(entry.strip(), variables)
            if resolved not in judged:
                judged[resolved] = _path_entry(target, resolved)
            if problem := judged[resolved]:
                out.append(
                    Observation(
                        subject=f"PATH entry '{entry}' ({problem})", value=problem, file=path, line=number
                    )
                )
    if not out:
        where = ", ".join(read) or "/etc/environment"
        return [
            Observation(
                subject="root's PATH", value=None, file=where, note="every entry is a root-owned directory"
            )
        ]
    return out


def _expand(text: str, variables: dict[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced where ``variables`` knows the name; others left as written."""
    return _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)


def _path_entry(target: Target, entry: str) -> str | None:
    if not entry or entry == ".":
        return "empty or '.': the current directory"
    if "$" in entry or "`" in entry:
        return "a variable or command that cannot be resolved from files: check it on the host"
    if not entry.startswith("/"):
        return "a relative directory"
    info = target.info(entry)
    if info is None or info.kind != "dir":
        return "not a directory"
    if info.uid != 0:
        return f"owned by uid {info.uid}, not root"
    if info.mode & 0o022:
        return f"mode {info.mode:04o}: writable by group or others"
    return None

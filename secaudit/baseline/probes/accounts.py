"""Users and groups from the target's own passwd, shadow and group files."""

from __future__ import annotations

import posixpath
import time
from collections.abc import Mapping
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import TREES, Param, logical_lines, probe
from secaudit.baseline.target import NotApplicable, Target

Row = tuple[int, list[str]]  # line number, fields

KINDS = (
    "uid0",
    "gid0_user",
    "gid0_group",
    "empty_password",
    "not_shadowed",
    "duplicate_uid",
    "duplicate_gid",
    "duplicate_user",
    "duplicate_group",
    "missing_group",
    "shadow_group_members",
    "system_shell",
    "pass_max_days",
    "pass_min_days",
    "pass_warn_age",
    "pass_inactive",
    "nologin_unlocked",
    "home_dirs",
    "dot_files",
    "future_password_change",
)
# Accounts that legitimately have GID 0 or a "shell" that is not a login shell.
_GID0_OK = {"root", "sync", "shutdown", "halt", "operator"}
_SHELL_OK = {"root", "sync", "shutdown", "halt"}
_SHADOW_FIELDS = {"pass_min_days": 3, "pass_max_days": 4, "pass_warn_age": 5, "pass_inactive": 6}


def _table(target: Target, path: str, width: int) -> list[Row]:
    def build() -> list[Row]:
        text = target.read_text(path)
        if text is None:
            raise NotApplicable(f"no {path} in the target")
        rows: list[Row] = []
        for number, line in logical_lines(text):
            if line.startswith(("+", "-")):  # NIS compat entries
                continue
            fields = line.split(":")
            rows.append((number, fields + [""] * (width - len(fields))))
        return rows

    return target.memo(("table", path), build)


def _obs(path: str, row: Row, value: str, subject: str | None = None) -> Observation:
    return Observation(subject=subject or row[1][0], value=value, file=path, line=row[0])


def _dups(path: str, rows: list[Row], index: int) -> list[Observation]:
    seen: dict[str, Row] = {}
    out = []
    for row in rows:
        key = row[1][index]
        if key in seen:
            out.append(_obs(path, row, key, subject=f"{row[1][0]} ({key}, also {seen[key][1][0]})"))
        else:
            seen[key] = row
    return out


def _uid_min(target: Target) -> int:
    for _, line in logical_lines(target.read_text("/etc/login.defs") or ""):
        words = line.split()
        if len(words) == 2 and words[0] == "UID_MIN" and words[1].isdigit():
            return int(words[1])
    return 1000


@probe(
    "accounts",
    targets=TREES,
    params=(Param(name="kind", type=str, required=True, choices=KINDS),),
)
def accounts(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Offending accounts or groups of one kind (value: the offending value), or for ``pass_*`` kinds
    the shadow field of every account with a usable password (value: the number of days, unset when
    empty). When there is none, one unset observation naming the file that was read."""
    out = _accounts(target, p)
    if out:
        return out
    kind = p["kind"]
    if kind in _SHADOW_FIELDS or kind in {"empty_password", "nologin_unlocked", "future_password_change"}:
        where = "/etc/shadow"
    elif kind in {"duplicate_gid", "duplicate_group", "gid0_group"}:
        where = "/etc/group"
    else:
        where = "/etc/passwd"
    return [Observation(subject=kind, value=None, file=where, note="none found")]


def _accounts(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    kind = p["kind"]
    passwd, group, shadow = "/etc/passwd", "/etc/group", "/etc/shadow"
    if kind in _SHADOW_FIELDS:
        index = _SHADOW_FIELDS[kind]
        out = []
        for row in _table(target, shadow, 9):
            pw = row[1][1]
            if pw and not pw.startswith(("!", "*")):
                out.append(
                    Observation(subject=row[1][0], value=row[1][index] or None, file=shadow, line=row[0])
                )
        return out
    if kind == "empty_password":
        return [_obs(shadow, r, "empty password") for r in _table(target, shadow, 9) if r[1][1] == ""]
    if kind == "future_password_change":
        today = int(time.time() // 86400)
        return [
            _obs(shadow, r, f"last change on day {r[1][2]}, today is day {today}")
            for r in _table(target, shadow, 9)
            if r[1][2].isdigit() and int(r[1][2]) > today
        ]
    if kind == "nologin_unlocked":
        valid = _valid_shells(target)
        no_login = {r[1][0] for r in _table(target, passwd, 7) if r[1][0] != "root" and r[1][6] not in valid}
        return [
            _obs(shadow, r, "password usable")
            for r in _table(target, shadow, 9)
            if r[1][0] in no_login and not r[1][1].startswith(("!", "*"))
        ]
    if kind in {"duplicate_gid", "duplicate_group", "gid0_group"}:
        rows = _table(target, group, 4)
        if kind == "gid0_group":
            return [_obs(group, r, "gid 0") for r in rows if r[1][2] == "0" and r[1][0] != "root"]
        return _dups(group, rows, 2 if kind == "duplicate_gid" else 0)
    rows = _table(target, passwd, 7)
    if kind == "uid0":
        return [_obs(passwd, r, "uid 0") for r in rows if r[1][2] == "0" and r[1][0] != "root"]
    if kind == "gid0_user":
        return [_obs(passwd, r, "gid 0") for r in rows if r[1][3] == "0" and r[1][0] not in _GID0_OK]
    if kind == "not_shadowed":
        return [_obs(passwd, r, "password hash in /etc/passwd") for r in rows if r[1][1] != "x"]
    if kind == "duplicate_uid":
        return _dups(passwd, rows, 2)
    if kind == "duplicate_user":
        return _dups(passwd, rows, 0)
    groups = _table(target, group, 4)
    if kind == "missing_group":
        known = {g[1][2] for g in groups}
        return [_obs(passwd, r, f"gid {r[1][3]}") for r in rows if r[1][3] not in known]
    if kind == "shadow_group_members":
        out = []
        shadow_gids = set()
        for g in groups:
            if g[1][0] == "shadow":
                shadow_gids.add(g[1][2])
                if g[1][3].strip():
                    out.append(_obs(group, g, g[1][3], subject="shadow"))
        out.extend(_obs(passwd, r, "primary group shadow") for r in rows if r[1][3] in shadow_gids)
        return out
    if kind == "home_dirs":
        return _home_dirs(target, rows)
    if kind == "dot_files":
        return _dot_files(target, rows)
    # system_shell: system accounts that can log in
    uid_min = _uid_min(target)
    shells = _valid_shells(target)
    out = []
    for r in rows:
        name, uid, shell = r[1][0], r[1][2], r[1][6]
        if name in _SHELL_OK or not uid.isdigit() or int(uid) >= uid_min or name == "nfsnobody":
            continue
        if shell in shells or (not shells and shell.endswith(("sh", "bash"))):
            out.append(_obs(passwd, r, shell))
    return out


def login_users(target: Target) -> set[str]:
    """Accounts whose shell is a login shell listed in the target's /etc/shells."""
    valid = _valid_shells(target)
    text = target.read_text("/etc/passwd") or ""
    return {f[0] for _, line in logical_lines(text) if len(f := line.split(":")) >= 7 and f[6] in valid}


def _valid_shells(target: Target) -> set[str]:
    """Login shells from the target's /etc/shells (nologin is not one)."""
    return {
        line
        for _, line in logical_lines(target.read_text("/etc/shells") or "")
        if not line.endswith("nologin")
    }


def _home_dirs(target: Target, rows: list[Row]) -> list[Observation]:
    """Interactive accounts whose home is missing, not theirs, or open to the group's writes or to others."""
    valid = _valid_shells(target)
    out = []
    for r in rows:
        uid, home, shell = r[1][2], r[1][5], r[1][6]
        if shell not in valid or not home.startswith("/"):
            continue
        info = target.info(home)
        if info is None or info.kind != "dir":
            out.append(_obs("/etc/passwd", r, f"home {home} does not exist"))
        elif str(info.uid) != uid:
            out.append(_obs("/etc/passwd", r, f"home {home} is owned by uid {info.uid}"))
        elif info.mode & 0o027:
            out.append(_obs("/etc/passwd", r, f"home {home} has mode {info.mode:04o} (more than 0750)"))
    return out


def _dot_files(target: Target, rows: list[Row]) -> list[Observation]:
    """Dot files in interactive accounts' homes that others could use or change: any .forward or
    .rhosts; a dot file not owned by the account and its primary group; .netrc or .bash_history
    open beyond 0600; any other dot file writable by group or others (beyond 0644)."""
    valid = _valid_shells(target)
    out = []
    homes: set[str] = set()
    for r in rows:
        name, uid, gid, home, shell = r[1][0], r[1][2], r[1][3], r[1][5], r[1][6]
        if shell not in valid or not home.startswith("/") or home == "/" or home in homes:
            continue
        homes.add(home)
        for info in target.scan(home) or []:
            base = posixpath.basename(info.path)
            if not base.startswith("."):
                continue
            if base in {".forward", ".rhosts"}:
                problem = f"{base} exists ({name})"
            elif info.kind != "file":
                continue
            elif (str(info.uid), str(info.gid)) != (uid, gid):
                problem = f"owned by uid {info.uid} gid {info.gid}, not {name} ({uid}:{gid})"
            elif base in {".netrc", ".bash_history"} and info.mode & 0o177:
                problem = f"mode {info.mode:04o}, more than 0600"
            elif info.mode & 0o133:
                problem = f"mode {info.mode:04o}, more than 0644"
            else:
                continue
            out.append(Observation(subject=f"{info.path} ({problem})", value=problem, file=info.path))
    return out

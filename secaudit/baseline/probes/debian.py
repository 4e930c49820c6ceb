"""Debian system probes, derived offline from files: packages, units, mounts, sysctl, modules,
login.defs and PAM. Each says "not applicable" when the files it needs are not in the target."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import TREES, Param, logical_lines, probe
from secaudit.baseline.target import NotApplicable, Target

DPKG_STATUS = "/var/lib/dpkg/status"


def _dpkg(target: Target) -> dict[str, tuple[str, int]]:
    """package -> (version, line of its stanza) for packages whose state is "install ok installed"."""

    def build() -> dict[str, tuple[str, int]]:
        text = target.read_text(DPKG_STATUS)
        if text is None:
            raise NotApplicable(f"no {DPKG_STATUS} in the target (not a Debian root)")
        found: dict[str, tuple[str, int]] = {}
        fields: dict[str, str] = {}
        start = 1
        for number, line in enumerate([*text.splitlines(), ""], 1):
            if not line.strip():
                if fields.get("status", "").endswith(" installed") and "package" in fields:
                    found[fields["package"]] = (fields.get("version", ""), start)
                fields = {}
                start = number + 1
                continue
            if line[0] in " \t":
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        return found

    return target.memo("dpkg", build)


@probe("dpkg_package", targets=TREES, params=(Param(name="name", type=str, required=True),))
def dpkg_package(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The installed version of a package (from the dpkg status file), unset when not installed."""
    name = p["name"]
    hit = _dpkg(target).get(name)
    if hit is None:
        return [Observation(subject=name, value=None, file=DPKG_STATUS, note="not installed")]
    return [Observation(subject=name, value=hit[0], file=DPKG_STATUS, line=hit[1], note="installed")]


UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")


@probe("systemd_unit", targets=TREES, params=(Param(name="unit", type=str, required=True),))
def systemd_unit(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Enablement of a unit: ``enabled`` when a ``*.wants``/``*.requires`` link in /etc/systemd/system
    names it, ``masked`` when linked to /dev/null, ``disabled`` when only installed, unset when absent."""
    unit = p["unit"]
    if "." not in unit:
        unit += ".service"
    etc = "/etc/systemd/system"
    link = target.readlink(f"{etc}/{unit}")
    if link in {"/dev/null", "../../../dev/null"}:
        return [Observation(subject=unit, value="masked", file=f"{etc}/{unit}")]
    if target.listdir(etc) is None and target.listdir("/usr/lib/systemd/system") is None:
        raise NotApplicable("no systemd unit folders in the target")
    for entry in target.listdir(etc) or []:
        if entry.endswith((".wants", ".requires")):
            names = target.listdir(f"{etc}/{entry}") or []
            if unit in names:
                return [Observation(subject=unit, value="enabled", file=f"{etc}/{entry}/{unit}")]
    for folder in UNIT_DIRS:
        if target.info(f"{folder}/{unit}") is not None:
            return [Observation(subject=unit, value="disabled", file=f"{folder}/{unit}")]
    return [Observation(subject=unit, value=None, note="unit not installed")]


@probe(
    "fstab_mount",
    targets=TREES,
    params=(Param(name="mountpoint", type=str, required=True), Param(name="default", type=str, default="")),
)
def fstab_mount(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The mount options of a mount point in /etc/fstab (or a systemd .mount unit in /etc); when
    neither lists it, ``default`` (the options systemd itself mounts an API filesystem such as
    /dev/shm with), else unset: not a separate mount."""
    mountpoint = p["mountpoint"].rstrip("/") or "/"
    text = target.read_text("/etc/fstab")
    if text is None:
        raise NotApplicable("no /etc/fstab in the target")
    found: list[Observation] = []
    for number, line in logical_lines(text):
        fields = line.split()
        if len(fields) >= 4 and (fields[1].rstrip("/") or "/") == mountpoint:
            found.append(
                Observation(
                    subject=mountpoint,
                    value=fields[3],
                    file="/etc/fstab",
                    line=number,
                    attrs=(("device", fields[0]), ("fstype", fields[2])),
                )
            )
    if found:
        return found[-1:]
    unit = mountpoint.strip("/").replace("/", "-") + ".mount"
    for folder in ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"):
        path = f"{folder}/{unit}"
        if folder != "/etc/systemd/system" and not _enabled_mount(target, unit):
            continue
        utext = target.read_text(path)
        if utext is None:
            continue
        for number, line in logical_lines(utext):
            key, _, value = line.partition("=")
            if key.strip() == "Options":
                return [Observation(subject=mountpoint, value=value.strip(), file=path, line=number)]
        return [Observation(subject=mountpoint, value="defaults", file=path)]
    if p.get("default"):
        note = "not in /etc/fstab: systemd mounts it itself with these options"
        return [Observation(subject=mountpoint, value=p["default"], file="/etc/fstab", note=note)]
    note = "not a separate mount, so mount options cannot restrict it"
    return [Observation(subject=mountpoint, value=None, file="/etc/fstab", note=note)]


def _enabled_mount(target: Target, unit: str) -> bool:
    for entry in target.listdir("/etc/systemd/system") or []:
        if entry.endswith(".wants") and unit in (target.listdir(f"/etc/systemd/system/{entry}") or []):
            return True
    return False


SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)


def _sysctl(target: Target) -> dict[str, Observation]:
    """Effective sysctl settings the way systemd-sysctl applies them: *.conf files ordered by name
    (a file in /etc hides a same-named one below), then /etc/sysctl.conf; the last assignment wins."""

    def build() -> dict[str, Observation]:
        chosen: dict[str, str] = {}
        for folder in reversed(SYSCTL_DIRS):
            for name in target.listdir(folder) or []:
                if name.endswith(".conf"):
                    chosen[name] = f"{folder}/{name}"
        files = [chosen[n] for n in sorted(chosen)]
        real_conf = "/etc/sysctl.conf"
        if not any(target.readlink(f) and posixpath.basename(f) == "99-sysctl.conf" for f in files):
            files.append(real_conf)
        values: dict[str, Observation] = {}
        for path in files:
            text = target.read_text(path)
            for number, line in logical_lines(text or ""):
                if line.startswith(";"):
                    continue
                key, sep, value = line.partition("=")
                if not sep:
                    continue
                key = key.strip().lstrip("-").replace("/", ".")
                values[key] = Observation(subject=key, value=value.strip(), file=path, line=number)
        return values

    return target.memo("sysctl", build)


@probe("sysctl", targets=TREES, params=(Param(name="key", type=str, required=True),))
def sysctl(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """A kernel parameter as the sysctl configuration files set it at boot; unset when no file sets it
    (offline there is no /proc/sys: the running value needs a live target)."""
    key = p["key"].replace("/", ".")
    hit = _sysctl(target).get(key)
    return [hit or Observation(subject=key, value=None, note="not set in any sysctl configuration file")]


MODPROBE_DIRS = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d")


@probe("kernel_module", targets=TREES, params=(Param(name="name", type=str, required=True),))
def kernel_module(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Whether a module can be loaded: ``disabled`` (install /bin/false or /bin/true), ``blacklisted``
    only, ``loadable``, or ``not-available`` when no kernel in /lib/modules ships it."""
    name = p["name"]
    alt = name.replace("-", "_")
    install: Observation | None = None
    blacklist: Observation | None = None
    for folder in MODPROBE_DIRS:
        for fname in target.listdir(folder) or []:
            if not fname.endswith(".conf"):
                continue
            path = f"{folder}/{fname}"
            for number, line in logical_lines(target.read_text(path) or ""):
                words = line.split()
                if len(words) >= 3 and words[0] == "install" and words[1].replace("-", "_") == alt:
                    if re.fullmatch(r"(/usr)?/bin/(false|true)", words[2]):
                        install = Observation(subject=name, value="disabled", file=path, line=number)
                elif len(words) >= 2 and words[0] == "blacklist" and words[1].replace("-", "_") == alt:
                    blacklist = Observation(subject=name, value="blacklisted", file=path, line=number)
    if install:
        return [install]
    if not _module_shipped(target, name):
        return [Observation(subject=name, value="not-available", file="/lib/modules")]
    if blacklist:
        return [blacklist]
    return [Observation(subject=name, value="loadable", note="no install or blacklist line")]


def _module_shipped(target: Target, name: str) -> bool:
    index = target.memo("modules", lambda: _module_index(target))
    return name.replace("-", "_") in index


def _module_index(target: Target) -> set[str]:
    names: set[str] = set()
    for kernel in target.listdir("/lib/modules") or []:
        text = target.read_text(f"/lib/modules/{kernel}/modules.dep")
        for line in (text or "").splitlines():
            mod = line.split(":", 1)[0]
            base = posixpath.basename(mod).split(".ko", 1)[0]
            names.add(base.replace("-", "_"))
    return names


@probe("login_defs", targets=TREES, params=(Param(name="key", type=str, required=True),))
def login_defs(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """A setting from /etc/login.defs (the last definition wins); unset when not defined."""
    text = target.read_text("/etc/login.defs")
    if text is None:
        raise NotApplicable("no /etc/login.defs in the target")
    key = p["key"]
    hit: Observation | None = None
    for number, line in logical_lines(text):
        words = line.split(None, 1)
        if words[0] == key:
            hit = Observation(
                subject=key,
                value=words[1].strip() if len(words) > 1 else "",
                file="/etc/login.defs",
                line=number,
            )
    return [hit or Observation(subject=key, value=None, file="/etc/login.defs", note="not defined")]


@probe("useradd_default", targets=TREES, params=(Param(name="key", type=str, required=True),))
def useradd_default(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """A default from /etc/default/useradd (KEY=value); unset when not set."""
    key = p["key"]
    path = "/etc/default/useradd"
    for number, line in reversed(logical_lines(target.read_text(path) or "")):
        k, sep, v = line.partition("=")
        if sep and k.strip() == key:
            return [Observation(subject=key, value=v.strip().strip("\"'"), file=path, line=number)]
    return [Observation(subject=key, value=None, file=path, note="not set")]


@probe(
    "pam_entry",
    targets=TREES,
    params=(
        Param(name="file", type=str, required=True),
        Param(name="module", type=str, required=True),
        Param(name="pam_type", type=str, default=""),
        Param(name="option", type=str, default=""),
    ),
)
def pam_entry(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """Lines of a PAM stack file (``/etc/pam.d/FILE``, following ``@include``) that use ``module``.
    Value: the value of ``option`` (``""`` for a flag, unset when absent), else the whole argument list;
    unset when the module is not in the stack."""
    module = p["module"]
    wanted_type = p.get("pam_type", "")
    option = p.get("option", "")
    out: list[Observation] = []
    pamdir = "/etc/pam.d"
    if target.listdir(pamdir) is None:
        raise NotApplicable("no /etc/pam.d in the target")

    def walk(name: str, depth: int) -> None:
        path = f"{pamdir}/{name}"
        for number, line in logical_lines(target.read_text(path) or ""):
            words = line.split()
            if words[0] == "@include" and len(words) > 1 and depth < 8:
                walk(words[1], depth + 1)
                continue
            if len(words) < 3:
                continue
            ptype = words[0].lstrip("-")
            control_end = 1
            if words[1].startswith("["):
                while control_end < len(words) and not words[control_end].endswith("]"):
                    control_end += 1
            mod_index = control_end + 1
            if mod_index >= len(words) or posixpath.basename(words[mod_index]) != module:
                continue
            if wanted_type and ptype != wanted_type:
                continue
            args = words[mod_index + 1 :]
            value: str | None = " ".join(args)
            if option:
                value = None
                for arg in args:
                    k, sep, v = arg.partition("=")
                    if k == option:
                        value = v if sep else ""
            out.append(
                Observation(
                    subject=f"{name}:{module}", value=value, file=path, line=number, attrs=(("type", ptype),)
                )
            )

    walk(p["file"], 0)
    return out or [Observation(subject=f"{p['file']}:{module}", value=None, file=f"{pamdir}/{p['file']}")]


# Where systemd reads drop-ins for its own daemons' configuration (journald.conf(5), "CONFIGURATION
# DIRECTORIES AND PRECEDENCE"): a same-named file in a later folder hides an earlier one; the files
# are then read in name order after the main file, and the last assignment of a key wins.
SYSTEMD_CONF_DIRS = ("/usr/lib/systemd", "/usr/local/lib/systemd", "/run/systemd", "/etc/systemd")


@probe(
    "systemd_conf",
    targets=TREES,
    params=(Param(name="file", type=str, required=True), Param(name="key", type=str, required=True)),
)
def systemd_conf(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The effective value of ``key`` in a systemd daemon's configuration (``file`` such as
    ``journald.conf``): /etc/systemd/FILE (else the vendor copy in /usr/lib/systemd), then every
    ``FILE.d/*.conf`` drop-in in name order; the last assignment wins and an empty one resets the
    key. Unset when nothing sets it: the daemon's built-in default applies."""
    name, key = p["file"], p["key"]
    main = next(
        (f"{d}/{name}" for d in ("/etc/systemd", "/usr/lib/systemd") if target.info(f"{d}/{name}")), None
    )
    dropins: dict[str, str] = {}
    for folder in SYSTEMD_CONF_DIRS:
        for entry in target.listdir(f"{folder}/{name}.d") or []:
            if entry.endswith(".conf"):
                dropins[entry] = f"{folder}/{name}.d/{entry}"
    files = ([main] if main else []) + [dropins[n] for n in sorted(dropins)]
    found: Observation | None = None
    for path in files:
        for number, line in logical_lines(target.read_text(path) or ""):
            if line.startswith((";", "[")):
                continue
            k, sep, value = line.partition("=")
            if sep and k.strip() == key:
                found = Observation(subject=key, value=value.strip() or None, file=path, line=number)
                if not value.strip():
                    found = Observation(
                        subject=key, value=None, file=path, line=number, note="reset to the built-in default"
                    )
    if found is not None:
        return [found]
    where = ", ".join(files) if files else f"/etc/systemd/{name}"
    return [Observation(subject=key, value=None, file=where, note="not set: the built-in default applies")]

"""Installed rpm packages of a target, read with the real ``rpm`` tool, matched against OSV.

The database files (``rpmdb.sqlite`` and its WAL, or BerkeleyDB ``Packages``) are copied out of the
target into a temporary folder and queried there with ``rpm --dbpath``: the target is never written
to (rpm creates lock and shared-memory files beside a database it opens). The distribution's OSV
ecosystem (``Rocky Linux:9``, ``AlmaLinux:9``) comes from os-release; each installed binary package
is looked up by its own name and by its source package's, and compared by EVR as rpm does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from secaudit.core.errors import OperationalError
from secaudit.vuln.osv import OsvAffected, affected, first_fix
from secaudit.vuln.store import VulnStore

RPMDB_DIRS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
RPMDB_FILES = ("rpmdb.sqlite", "rpmdb.sqlite-wal", "Packages")
# os-release ID -> OSV ecosystem name (the release's major version is appended)
ECOSYSTEMS = {"rocky": "Rocky Linux", "almalinux": "AlmaLinux"}
_QUERY = "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class RpmPackage:
    name: str
    epoch: str
    version: str
    release: str
    arch: str
    source: str  # source package name, from SOURCERPM

    @property
    def evr(self) -> str:
        return f"{self.epoch}:{self.version}-{self.release}"

    @property
    def shown(self) -> str:
        return f"{self.version}-{self.release}" if self.epoch == "0" else self.evr


def _source_name(sourcerpm: str) -> str:
    if not sourcerpm.endswith(".src.rpm"):
        return ""
    parts = sourcerpm[: -len(".src.rpm")].rsplit("-", 2)
    return parts[0] if len(parts) == 3 else ""


def query_rpmdb(files: Mapping[str, bytes], where: str) -> list[RpmPackage]:
    """Every installed package of the database made of ``files`` (name -> content)."""
    rpm = shutil.which("rpm")
    if rpm is None:
        raise OperationalError(
            "the rpm tool is not installed here: the rpm database cannot be read",
            location=where,
            hint="install it (Debian: apt-get install rpm)",
        )
    with tempfile.TemporaryDirectory(prefix="secaudit-rpmdb-") as folder:
        for name, content in files.items():
            (Path(folder) / name).write_bytes(content)
        try:
            done = subprocess.run(
                [rpm, "--dbpath", folder, "-qa", "--queryformat", _QUERY],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise OperationalError(f"rpm could not read the database: {e}", location=where) from e
    if done.returncode != 0:
        raise OperationalError(
            f"rpm could not read the database: {done.stderr.strip()[:300]}",
            location=where,
            hint="a BerkeleyDB database needs an rpm built with bdb_ro; sqlite ones are read by rpm 4.16+",
        )
    out = []
    for line in done.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) == 6 and not fields[0].startswith("gpg-pubkey"):
            name, epoch, version, release, arch, sourcerpm = fields
            out.append(
                RpmPackage(
                    name=name,
                    epoch=epoch or "0",
                    version=version,
                    release=release,
                    arch=arch,
                    source=_source_name(sourcerpm),
                )
            )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RpmMatch:
    record: OsvAffected
    package: RpmPackage
    fixed: str | None


def match_rpm(store: VulnStore, packages: Sequence[RpmPackage], ecosystem: str) -> list[RpmMatch]:
    names = {p.name for p in packages} | {p.source for p in packages if p.source}
    records = store.osv(ecosystem, sorted(names))
    out: list[RpmMatch] = []
    for pkg in packages:
        seen: set[str] = set()
        for record in [*records.get(pkg.name, []), *records.get(pkg.source, [])]:
            if record.ecosystem != ecosystem or record.withdrawn or record.osv_id in seen:
                continue
            seen.add(record.osv_id)
            if affected(record, pkg.evr):
                out.append(RpmMatch(record=record, package=pkg, fixed=first_fix(record, pkg.evr)))
    out.sort(key=lambda m: (m.package.name, m.record.rule_id))
    return out

"""Python packages installed outside the distribution, matched against OSV's PyPI records.

The distribution's own Python packages (``/usr/lib/python3/dist-packages`` on Debian and Ubuntu)
are its feed's business: a backported fix keeps their upstream version, so matching them against
PyPI's ranges would report fixed packages. Only what ``pip`` or a virtual environment installed is
read: ``/usr/local/lib/python3*/{dist,site}-packages`` and the environments under ``/opt`` and
``/srv`` (one or two folders deep), each ``*.dist-info/METADATA`` giving a name and a version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from secaudit.vuln.osv import OsvAffected, affected, first_fix, normalize
from secaudit.vuln.store import VulnStore

ECOSYSTEM = "PyPI"
SITE_PATTERNS = (
    "/usr/local/lib/python3*/dist-packages",
    "/usr/local/lib/python3*/site-packages",
    "/opt/*/lib/python3*/site-packages",
    "/opt/*/*/lib/python3*/site-packages",
    "/srv/*/lib/python3*/site-packages",
    "/srv/*/*/lib/python3*/site-packages",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonPackage:
    name: str  # as its metadata spells it
    version: str
    location: str  # the .dist-info folder


def parse_metadata(text: str) -> tuple[str, str] | None:
    """(Name, Version) of a core metadata file (RFC 822 headers before the first blank line)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in fields:
            fields[key] = value.strip()
    name, version = fields.get("Name", ""), fields.get("Version", "")
    return (name, version) if name and version else None


@dataclass(frozen=True, slots=True, kw_only=True)
class OsvMatch:
    record: OsvAffected
    package: PythonPackage
    fixed: str | None  # the first fixed version above the installed one; None: no fix yet


@dataclass(frozen=True, slots=True, kw_only=True)
class OsvResult:
    matches: list[OsvMatch]
    packages: int
    unordered: int  # (package, record) pairs whose version the ecosystem could not order
    withdrawn: int


def match_python(store: VulnStore, packages: Sequence[PythonPackage]) -> OsvResult:
    by_name: dict[str, list[PythonPackage]] = {}
    for pkg in packages:
        by_name.setdefault(normalize(ECOSYSTEM, pkg.name), []).append(pkg)
    records = store.osv(ECOSYSTEM, list(by_name))
    matches: list[OsvMatch] = []
    unordered = withdrawn = 0
    for name, items in records.items():
        for record in items:
            if record.withdrawn:
                withdrawn += 1
                continue
            for pkg in by_name[name]:
                try:
                    hit = affected(record, pkg.version)
                except ValueError:
                    unordered += 1
                    continue
                if hit:
                    matches.append(OsvMatch(record=record, package=pkg, fixed=first_fix(record, pkg.version)))
    matches.sort(key=lambda m: (m.package.location, m.record.rule_id))
    return OsvResult(matches=matches, packages=len(packages), unordered=unordered, withdrawn=withdrawn)

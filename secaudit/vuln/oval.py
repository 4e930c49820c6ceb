"""Debian and Ubuntu OVAL definitions, read as a stream into the same records as the tracker.

Both distributions publish one OVAL file per release (Debian: ``oval-definitions-<codename>.xml``
from https://www.debian.org/security/oval/; Ubuntu: ``com.ubuntu.<codename>.cve.oval.xml`` from
https://security-metadata.canonical.com/oval/). The files are large (Ubuntu's run to hundreds of
megabytes), so they are read with a SAX parser (defusedxml: no DTDs, no entities) that keeps only
compact tables of definitions, tests, objects, states and variables, each element's subtree being
dropped as soon as it has been read. The references are resolved at the end.

What a definition says, per distribution:

- **Debian**: one definition per (CVE, source package); the ``dpkginfo_object`` names the *source*
  package, its state says ``evr less than <fixed version>``; the release comes from the platform
  (``Debian GNU/Linux 12`` is bookworm). A bound of ``0`` cannot be told apart from "not affected"
  or "no fix yet" (Debian writes it for both), so it is kept as *undetermined*: counted, never
  reported; the Debian Security Tracker JSON decides those.
- **Ubuntu**: one definition per CVE; each criterion names a source package in its comment
  (``openssh package in jammy was vulnerable but has been fixed (note: '...')``) and its test's
  object lists that source's *binary* packages; a state ``evr less than`` gives the fixed version,
  no state means every installed version is affected ("needs fixing", "deferred"). "May need
  fixing" (not yet triaged) is kept as undetermined, as the tracker's ``undetermined`` is. Kernel
  checks (``uname``/``variable`` tests) and ``unknown_test`` are not package checks: skipped and
  counted.

Each problem is reported with the file's line of the definition (or test) it concerns; a file with
problems is refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from xml.sax import SAXException, SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

import defusedxml.sax  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from secaudit.core.errors import ConfigError
from secaudit.vuln.feeds import CVE_ID, DistroFix, Feed, FeedKind, _Problems
from secaudit.vuln.version import VersionError, sort_key

_HINT = "import the distribution's OVAL file as published (bz2 or plain XML), unchanged"

# Debian's platform numbers and the codenames the tracker and os-release use
DEBIAN_RELEASES = {
    "8": "jessie",
    "9": "stretch",
    "10": "buster",
    "11": "bullseye",
    "12": "bookworm",
    "13": "trixie",
    "14": "forky",
}
_DEBIAN_PLATFORM = re.compile(r"^Debian GNU/Linux (\d+)")
_UBUNTU_ID = re.compile(r"^oval:com\.ubuntu\.([a-z]+):")
_UBUNTU_SOURCE = re.compile(r"^(\S+) package in [a-z]+\b")
_OBJECT_SOURCE = re.compile(r"'([^']+)' package binar")
_SECTIONS = frozenset({"definitions", "tests", "objects", "states", "variables"})


@dataclass(slots=True)
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def walk(self) -> Iterator[_Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def _local(name: str) -> str:
    return name.rpartition(":")[2]


@dataclass(slots=True)
class _Definition:
    line: int
    ident: str
    cves: list[str]
    platforms: list[str]
    severity: str
    criteria: list[tuple[str, str]]  # (test_ref, comment)


@dataclass(slots=True)
class _Test:
    line: int
    kind: str
    object_ref: str
    state_ref: str


@dataclass(slots=True)
class _Tables:
    timestamp: str = ""
    root_seen: bool = False
    definitions: list[_Definition] = field(default_factory=list)
    tests: dict[str, _Test] = field(default_factory=dict)
    objects: dict[str, tuple[tuple[str, ...], str, str]] = field(
        default_factory=dict
    )  # names, var_ref, comment
    states: dict[str, tuple[str, str]] = field(default_factory=dict)  # evr, operation
    variables: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _Reader(ContentHandler):
    """Builds one small tree per item of a section, hands it to :meth:`_item`, then drops it."""

    def __init__(self, tables: _Tables) -> None:
        super().__init__()
        self.tables = tables
        self.path: list[str] = []
        self.stack: list[_Node] = []
        self.locator: Locator | None = None
        self.in_timestamp = False

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def _line(self) -> int:
        line = self.locator.getLineNumber() if self.locator is not None else None
        return line or 0

    def startElement(self, name: str, attrs: Any) -> None:
        tag = _local(name)
        depth = len(self.path)
        self.path.append(tag)
        if depth == 0:
            if tag != "oval_definitions":
                raise SAXException(f"the root element is <{name}>, not <oval_definitions>")
            self.tables.root_seen = True
            return
        if depth == 2 and self.path[1] == "generator" and tag == "timestamp":
            self.in_timestamp = True
            return
        if depth >= 2 and self.path[1] in _SECTIONS:
            node = _Node(tag=tag, attrs={_local(k): v for k, v in attrs.items()}, line=self._line())
            if self.stack:
                self.stack[-1].children.append(node)
            self.stack.append(node)

    def characters(self, content: str) -> None:
        if self.in_timestamp:
            self.tables.timestamp += content
        elif self.stack:
            self.stack[-1].text += content

    def endElement(self, name: str) -> None:
        depth = len(self.path) - 1
        section = self.path[1] if len(self.path) > 1 else ""
        self.path.pop()
        self.in_timestamp = False
        if depth >= 2 and section in _SECTIONS:
            node = self.stack.pop()
            if depth == 2:
                self._item(section, node)

    def _item(self, section: str, node: _Node) -> None:
        ident = node.attrs.get("id", "")
        tables = self.tables
        if section == "definitions":
            if node.attrs.get("class") == "vulnerability":
                tables.definitions.append(_definition(node))
        elif section == "tests":
            obj, state = node.find("object"), node.find("state")
            tables.tests[ident] = _Test(
                line=node.line,
                kind=node.tag,
                object_ref=obj.attrs.get("object_ref", "") if obj else "",
                state_ref=state.attrs.get("state_ref", "") if state else "",
            )
        elif section == "objects":
            name = node.find("name")
            if name is not None:
                names = (name.text.strip(),) if name.text.strip() else ()
                tables.objects[ident] = (names, name.attrs.get("var_ref", ""), node.attrs.get("comment", ""))
        elif section == "states":
            evr = node.find("evr")
            if evr is not None:
                tables.states[ident] = (evr.text.strip(), evr.attrs.get("operation", "equals"))
        elif section == "variables" and node.tag == "constant_variable":
            values = tuple(dict.fromkeys(v.text.strip() for v in node.children if v.tag == "value"))
            tables.variables[ident] = values


def _definition(node: _Node) -> _Definition:
    metadata = node.find("metadata")
    cves: list[str] = []
    platforms: list[str] = []
    severity = ""
    if metadata is not None:
        for item in metadata.walk():
            if item.tag == "reference" and item.attrs.get("source") == "CVE":
                ref = item.attrs.get("ref_id", "")
                if CVE_ID.match(ref) and ref not in cves:
                    cves.append(ref)
            elif item.tag == "platform":
                platforms.append(item.text.strip())
            elif item.tag == "severity" and not severity:
                severity = item.text.strip().lower()
    criteria = node.find("criteria")
    found = [
        (c.attrs.get("test_ref", ""), c.attrs.get("comment", ""))
        for c in (criteria.walk() if criteria else ())
        if c.tag == "criterion"
    ]
    return _Definition(
        line=node.line,
        ident=node.attrs.get("id", ""),
        cves=cves,
        platforms=platforms,
        severity=severity,
        criteria=found,
    )


def looks_like_oval(head: bytes) -> bool:
    """Whether the first bytes of a (decompressed) file are an OVAL definitions document."""
    return b"<oval_definitions" in head or b":oval_definitions" in head


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_oval(stream: IO[bytes], location: str) -> Feed:
    """Parse a Debian or Ubuntu OVAL file from ``stream``; :class:`ConfigError` with ``file:line``
    when it is not one, or when a definition refers to something the file does not define."""
    tables = _Tables()
    reader = _Reader(tables)
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(reader)
    try:
        parser.parse(stream)
    except SAXParseException as e:
        raise ConfigError(
            f"not well-formed OVAL XML: {e.getMessage()}",
            location=f"{location}:{e.getLineNumber()}",
            hint=_HINT,
        ) from e
    except SAXException as e:
        raise ConfigError(str(e.getMessage()), location=f"{location}:{reader._line()}", hint=_HINT) from e
    except DefusedXmlException as e:
        raise ConfigError(
            f"refused: {e} (an OVAL feed has no DTD or entities)",
            location=f"{location}:{reader._line()}",
            hint=_HINT,
        ) from e
    return _resolve(tables, location)


def _resolve(tables: _Tables, location: str) -> Feed:
    problems = _Problems("", location, _HINT)
    published = _time(tables.timestamp) if tables.timestamp.strip() else None
    if tables.timestamp.strip() and published is None:
        problems.found.append((location, f"generator timestamp {tables.timestamp.strip()!r} is not ISO 8601"))
    families = {
        "debian" if d.ident.startswith("oval:org.debian") else "ubuntu" if _UBUNTU_ID.match(d.ident) else ""
        for d in tables.definitions
    }
    if "" in families:
        bad = next(
            d for d in tables.definitions if not d.ident.startswith(("oval:org.debian", "oval:com.ubuntu"))
        )
        problems.found.append(
            (f"{location}:{bad.line}", f"definition {bad.ident!r} is neither Debian's nor Ubuntu's")
        )
    if len(families - {""}) > 1:
        problems.found.append((location, "the file mixes Debian and Ubuntu definitions"))
    problems.raise_if_any()
    ubuntu = families == {"ubuntu"}
    feed = Feed(
        kind=FeedKind.UBUNTU_OVAL if ubuntu else FeedKind.DEBIAN_OVAL, location=location, published=published
    )
    releases: set[str] = set()
    for definition in tables.definitions:
        where = f"{location}:{definition.line}"
        release = _release(definition, ubuntu)
        if release is None:
            problems.found.append(
                (where, f"{definition.ident}: no release in its platform {definition.platforms}")
            )
            continue
        if not definition.cves:
            feed.skipped += 1  # an advisory without a CVE id
            continue
        records = list(_records(definition, tables, ubuntu, release, location, problems))
        if not records:
            feed.skipped += 1  # only kernel or unknown checks: not a package we can match
            continue
        releases.add(release)
        feed.fixes.extend(records)
    problems.raise_if_any()
    feed.version = ",".join(sorted(releases))
    return feed


def _release(definition: _Definition, ubuntu: bool) -> str | None:
    if ubuntu:
        found = _UBUNTU_ID.match(definition.ident)
        return found.group(1) if found else None
    for platform in definition.platforms:
        number = _DEBIAN_PLATFORM.match(platform)
        if number and number.group(1) in DEBIAN_RELEASES:
            return DEBIAN_RELEASES[number.group(1)]
    return None


def _version(evr: str) -> str:
    return evr[2:] if evr.startswith("0:") else evr


def _records(
    definition: _Definition, tables: _Tables, ubuntu: bool, release: str, location: str, problems: _Problems
) -> Iterator[DistroFix]:
    where = f"{location}:{definition.line}"
    seen: set[tuple[str, str]] = set()
    for test_ref, comment in definition.criteria:
        test = tables.tests.get(test_ref)
        if test is None:
            problems.found.append(
                (where, f"{definition.ident}: criterion refers to test {test_ref!r}, not in the file")
            )
            continue
        if test.kind != "dpkginfo_test":
            continue  # the release and architecture checks, kernel and unknown tests
        obj = tables.objects.get(test.object_ref)
        if obj is None:
            problems.found.append(
                (f"{location}:{test.line}", f"test {test_ref}: object {test.object_ref!r} is not in the file")
            )
            continue
        names, var_ref, object_comment = obj
        if var_ref:
            if var_ref not in tables.variables:
                problems.found.append(
                    (
                        f"{location}:{test.line}",
                        f"object {test.object_ref}: variable {var_ref!r} is not in the file",
                    )
                )
                continue
            names = tables.variables[var_ref]
        if not names:
            problems.found.append((f"{location}:{test.line}", f"object {test.object_ref} names no package"))
            continue
        state = tables.states.get(test.state_ref) if test.state_ref else None
        if test.state_ref and state is None:
            problems.found.append(
                (f"{location}:{test.line}", f"test {test_ref}: state {test.state_ref!r} is not in the file")
            )
            continue
        if state is not None and state[1] != "less than":
            continue  # not a "fixed in" bound: nothing secaudit can state from it
        fixed = _version(state[0]) if state is not None else None
        if fixed is not None:
            try:
                sort_key(fixed)
            except VersionError as e:
                problems.found.append((f"{location}:{test.line}", f"test {test_ref}: {e}"))
                continue
        if ubuntu:
            source = _ubuntu_source(comment, object_comment, names)
            status = "resolved" if fixed else "undetermined" if "may need fixing" in comment else "open"
            binaries = tuple(sorted(names))
        else:
            source, binaries = names[0], ()
            status = "undetermined" if fixed in (None, "0") else "resolved"
            fixed = None if status == "undetermined" else fixed
        for cve in definition.cves:
            if (source, cve) in seen:
                continue
            seen.add((source, cve))
            yield DistroFix(
                release=release,
                package=source,
                cve=cve,
                fixed=fixed,
                status=status,
                urgency=definition.severity,
                binaries=binaries,
            )


def _ubuntu_source(comment: str, object_comment: str, names: tuple[str, ...]) -> str:
    found = _UBUNTU_SOURCE.match(comment) or _OBJECT_SOURCE.search(object_comment)
    return found.group(1) if found else names[0]

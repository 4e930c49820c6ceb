"""nmap XML, parsed in full with defusedxml: every CPE, structured NSE output, OS matches, timing.

python-nmap keeps only the last ``<cpe>`` of a service and flattens NSE tables to text, so we
read nmap's XML ourselves. Parsing is incremental: a file cut short by an interrupted scan still
yields every ``<host>`` it holds completely, and the result says it was truncated.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import defusedxml  # type: ignore[import-untyped]
import defusedxml.ElementTree as DET  # type: ignore[import-untyped]

from secaudit.core.errors import OperationalError


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptElem:
    key: str  # "" for an unkeyed list item
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptTable:
    """An NSE structured-output table; the script's own root table has key ``""``."""

    key: str = ""
    elems: tuple[ScriptElem, ...] = ()
    tables: tuple[ScriptTable, ...] = ()

    def walk(self) -> Iterator[ScriptTable]:
        yield self
        for table in self.tables:
            yield from table.walk()

    def values(self) -> list[str]:
        """Every elem value in this table and below, in document order."""
        out = [e.value for e in self.elems]
        for table in self.tables:
            out.extend(table.values())
        return out

    def under(self, key: str) -> list[str]:
        """Values of every elem named ``key`` and every elem below every table named ``key``."""
        out: list[str] = []
        for table in self.walk():
            out.extend(e.value for e in table.elems if e.key == key)
            out.extend(v for t in table.tables if t.key == key for v in t.values())
        return out

    def has_key(self, key: str) -> bool:
        return any(
            any(e.key == key for e in t.elems) or any(c.key == key for c in t.tables) for t in self.walk()
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Script:
    id: str
    output: str
    table: ScriptTable = ScriptTable()


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    name: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    tunnel: str = ""
    method: str = ""  # "probed" (version detection) or "table" (a guess from the port number)
    conf: int = 0
    ostype: str = ""
    devicetype: str = ""
    hostname: str = ""
    cpes: tuple[str, ...] = ()

    @property
    def probed(self) -> bool:
        return self.method == "probed"

    @property
    def banner(self) -> str:
        return " ".join(
            p for p in (self.product, self.version, f"({self.extrainfo})" * bool(self.extrainfo)) if p
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Port:
    protocol: str
    number: int
    state: str
    reason: str = ""
    reason_ttl: int = 0
    service: Service | None = None
    scripts: tuple[Script, ...] = ()

    def script(self, script_id: str) -> Script | None:
        return next((s for s in self.scripts if s.id == script_id), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class OsClass:
    type: str = ""
    vendor: str = ""
    family: str = ""
    generation: str = ""
    accuracy: int = 0
    cpes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OsMatch:
    name: str
    accuracy: int = 0
    line: int = 0
    classes: tuple[OsClass, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    addr: str
    type: str  # ipv4, ipv6, mac
    vendor: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HostTimes:
    srtt_us: int = -1
    rttvar_us: int = -1
    timeout_us: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    state: str
    reason: str = ""
    addresses: tuple[Address, ...] = ()
    hostnames: tuple[tuple[str, str], ...] = ()  # (name, type: user|PTR)
    ports: tuple[Port, ...] = ()
    extraports: tuple[tuple[str, int], ...] = ()  # (state, count) not listed one by one
    os_matches: tuple[OsMatch, ...] = ()
    scripts: tuple[Script, ...] = ()  # hostscript
    times: HostTimes = HostTimes()
    started: datetime | None = None
    ended: datetime | None = None
    uptime_s: int | None = None
    distance: int | None = None

    @property
    def ip(self) -> str:
        """The IP address (IPv4 preferred), or ``""``."""
        for kind in ("ipv4", "ipv6"):
            for a in self.addresses:
                if a.type == kind:
                    return a.addr
        return ""

    @property
    def mac(self) -> str:
        return next((a.addr for a in self.addresses if a.type == "mac"), "")

    def open_ports(self) -> tuple[Port, ...]:
        return tuple(p for p in self.ports if p.state in ("open", "open|filtered"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanInfo:
    type: str
    protocol: str
    services: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NmapRun:
    """One nmap XML document. ``error`` says what was wrong when ``complete`` is false."""

    args: str = ""
    version: str = ""
    started: datetime | None = None
    ended: datetime | None = None
    elapsed_s: float | None = None
    exit: str = ""  # "success" or "error" from <finished>
    errormsg: str = ""
    summary: str = ""
    scaninfo: tuple[ScanInfo, ...] = ()
    hosts: tuple[Host, ...] = ()
    hosts_up: int | None = None
    hosts_total: int | None = None
    complete: bool = False  # the document ended with <runstats><finished .../>
    error: str = field(default="")

    def up_hosts(self) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if h.state == "up")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


#: NSE tables nested deeper than this are not read (nmap's scripts nest a few levels; a hostile
#: document nesting thousands would exhaust the stack).
MAX_TABLE_DEPTH = 32


def _table(node: ET.Element, key: str = "", depth: int = 0) -> ScriptTable:
    elems = tuple(ScriptElem(key=c.get("key", ""), value=c.text or "") for c in node if c.tag == "elem")
    if depth >= MAX_TABLE_DEPTH:
        return ScriptTable(key=key, elems=elems)
    tables = tuple(_table(c, c.get("key", ""), depth + 1) for c in node if c.tag == "table")
    return ScriptTable(key=key, elems=elems, tables=tables)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _script(node: ET.Element) -> Script:
    return Script(id=node.get("id", ""), output=node.get("output", ""), table=_table(node))


def _service(node: ET.Element) -> Service:
    return Service(
        name=node.get("name", ""),
        product=node.get("product", ""),
        version=node.get("version", ""),
        extrainfo=node.get("extrainfo", ""),
        tunnel=node.get("tunnel", ""),
        method=node.get("method", ""),
        conf=_int(node.get("conf")),
        ostype=node.get("ostype", ""),
        devicetype=node.get("devicetype", ""),
        hostname=node.get("hostname", ""),
        cpes=tuple((c.text or "").strip() for c in node.findall("cpe") if c.text),
    )


def _port(node: ET.Element) -> Port:
    state = node.find("state")
    service = node.find("service")
    return Port(
        protocol=node.get("protocol", ""),
        number=_int(node.get("portid")),
        state=state.get("state", "") if state is not None else "",
        reason=state.get("reason", "") if state is not None else "",
        reason_ttl=_int(state.get("reason_ttl")) if state is not None else 0,
        service=_service(service) if service is not None else None,
        scripts=tuple(_script(s) for s in node.findall("script")),
    )


def _os(node: ET.Element) -> tuple[OsMatch, ...]:
    out = []
    for m in node.findall("os/osmatch"):
        classes = tuple(
            OsClass(
                type=c.get("type", ""),
                vendor=c.get("vendor", ""),
                family=c.get("osfamily", ""),
                generation=c.get("osgen", ""),
                accuracy=_int(c.get("accuracy")),
                cpes=tuple((x.text or "").strip() for x in c.findall("cpe") if x.text),
            )
            for c in m.findall("osclass")
        )
        out.append(
            OsMatch(
                name=m.get("name", ""),
                accuracy=_int(m.get("accuracy")),
                line=_int(m.get("line")),
                classes=classes,
            )
        )
    return tuple(out)


def _host(node: ET.Element) -> Host:
    status = node.find("status")
    times = node.find("times")
    uptime = node.find("uptime")
    distance = node.find("distance")
    return Host(
        state=status.get("state", "") if status is not None else "",
        reason=status.get("reason", "") if status is not None else "",
        addresses=tuple(
            Address(addr=a.get("addr", ""), type=a.get("addrtype", ""), vendor=a.get("vendor", ""))
            for a in node.findall("address")
        ),
        hostnames=tuple((h.get("name", ""), h.get("type", "")) for h in node.findall("hostnames/hostname")),
        ports=tuple(_port(p) for p in node.findall("ports/port")),
        extraports=tuple(
            (e.get("state", ""), _int(e.get("count"))) for e in node.findall("ports/extraports")
        ),
        os_matches=_os(node),
        scripts=tuple(_script(s) for s in node.findall("hostscript/script")),
        times=HostTimes(
            srtt_us=_int(times.get("srtt"), -1),
            rttvar_us=_int(times.get("rttvar"), -1),
            timeout_us=_int(times.get("to"), -1),
        )
        if times is not None
        else HostTimes(),
        started=_time(node.get("starttime")),
        ended=_time(node.get("endtime")),
        uptime_s=_int(uptime.get("seconds")) if uptime is not None else None,
        distance=_int(distance.get("value")) if distance is not None else None,
    )


def parse_nmap_xml(data: bytes, *, source: str = "<nmap output>") -> NmapRun:
    """Parse nmap XML; keep every complete host of a truncated or broken document.

    Raises :class:`OperationalError` only when the data is not nmap XML at all (nothing to keep)
    or declares entities (refused: defusedxml).
    """
    run: dict[str, object] = {}
    hosts: list[Host] = []
    scaninfo: list[ScanInfo] = []
    error = ""
    complete = False
    root: ET.Element | None = None
    try:
        for event, elem in DET.iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                    if elem.tag != "nmaprun":
                        raise OperationalError(
                            f"not nmap XML: the document starts with <{elem.tag}>",
                            location=source,
                            hint="pass the file nmap wrote with -oX",
                        )
                    run.update(args=elem.get("args", ""), version=elem.get("version", ""))
                    run["started"] = _time(elem.get("start"))
                continue
            if elem.tag == "host":
                hosts.append(_host(elem))
                elem.clear()  # keep memory flat on large scans
            elif elem.tag == "scaninfo":
                scaninfo.append(
                    ScanInfo(
                        type=elem.get("type", ""),
                        protocol=elem.get("protocol", ""),
                        services=elem.get("services", ""),
                    )
                )
            elif elem.tag == "finished":
                complete = True
                run.update(
                    ended=_time(elem.get("time")),
                    elapsed_s=_float(elem.get("elapsed")),
                    exit=elem.get("exit", ""),
                    errormsg=elem.get("errormsg", ""),
                    summary=elem.get("summary", ""),
                )
            elif elem.tag == "hosts" and root is not None:
                run.update(hosts_up=_int(elem.get("up")), hosts_total=_int(elem.get("total")))
    except defusedxml.DefusedXmlException as e:
        raise OperationalError(
            f"refused unsafe XML ({e})", location=source, hint="nmap never writes entity declarations"
        ) from e
    except (ET.ParseError, LookupError, ValueError) as e:  # LookupError: an unknown encoding declared
        if root is None:
            raise OperationalError(
                f"not nmap XML ({e})", location=source, hint="pass the file nmap wrote with -oX"
            ) from e
        if isinstance(e, ET.ParseError):
            line, col = e.position
            error = f"XML ends or breaks at line {line}, column {col}: {len(hosts)} complete host(s) kept"
        else:
            error = f"XML unreadable ({str(e)[:100]}): {len(hosts)} complete host(s) kept"
        complete = False
    if complete and run.get("exit") == "error":
        error = f"nmap reported an error: {run.get('errormsg') or 'no message'}"
    if root is not None and not complete and not error:
        error = f"XML has no <runstats> (scan interrupted?): {len(hosts)} complete host(s) kept"
    return NmapRun(
        args=str(run.get("args", "")),
        version=str(run.get("version", "")),
        started=run.get("started"),  # type: ignore[arg-type]
        ended=run.get("ended"),  # type: ignore[arg-type]
        elapsed_s=run.get("elapsed_s"),  # type: ignore[arg-type]
        exit=str(run.get("exit", "")),
        errormsg=str(run.get("errormsg", "")),
        summary=str(run.get("summary", "")),
        scaninfo=tuple(scaninfo),
        hosts=tuple(hosts),
        hosts_up=run.get("hosts_up"),  # type: ignore[arg-type]
        hosts_total=run.get("hosts_total"),  # type: ignore[arg-type]
        complete=complete and run.get("exit") != "error",
        error=error,
    )


def read_nmap_xml(path: Path) -> NmapRun:
    """Parse an nmap XML file (see :func:`parse_nmap_xml`)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise OperationalError(f"cannot read nmap XML: {e.strerror}", location=str(path)) from e
    return parse_nmap_xml(data, source=str(path))

"""Read and validate an audit profile (YAML) into a frozen :class:`Profile`.

Every error names ``file:line`` and what to change. Paths of content (baseline targets, log
files) are resolved against the profile's folder, so a profile and its snapshots travel together.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located, suggest
from secaudit.core.addresses import address_problem, network_problem
from secaudit.core.errors import ConfigError
from secaudit.core.model import Criticality, SegmentKind, Severity
from secaudit.core.profile import (
    LANGUAGES,
    SCAN_PROFILES,
    THAI_ERAS,
    Authorization,
    BaselineTarget,
    DetectionSettings,
    InventoryAsset,
    IPNetwork,
    LogSource,
    MaintenanceWindow,
    Profile,
    ReportSettings,
    Segment,
    VulnSettings,
)
from secaudit.core.redact import redact
from secaudit.core.registry import LOG_FORMATS, REPORT_WRITERS

PROFILE_VERSION = 1
_TOP_KEYS = (
    "version",
    "organisation",
    "authorization",
    "segments",
    "assets",
    "baseline_targets",
    "baseline_waivers",
    "log_sources",
    "detection",
    "kev",
    "elasticsearch",  # read by the Elasticsearch commands (secaudit.elastic.settings), secrets from env
    "report",
    "history",
    "timezone",
    "vuln",
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9-]{1,63})*\.?$"
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_SSH = re.compile(r"^ssh://[A-Za-z0-9._-]+@[A-Za-z0-9.:\[\]_-]+(:\d+)?(\?[^\s#]*)?$")
#: The options an ssh:// target may carry (baseline.remote reads them). None of them is a secret.
SSH_OPTIONS = ("key", "known_hosts", "fingerprint", "timeout")
_SSH_HINT = (
    "secaudit logs in with a key, never a password from the profile: write "
    "ssh://user@host[:port]?key=PATH with a passphrase-less key file readable by the audit account only"
)
DEFAULT_SCAN_PROFILE = {
    SegmentKind.OT: "ot-safe",
    SegmentKind.CCTV: "ot-safe",
    SegmentKind.IT: "standard",
    SegmentKind.DMZ: "standard",
    SegmentKind.MGMT: "standard",
}


class _Ctx:
    """Where we are in the file, for messages."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.base = path.resolve().parent
        self.zone: tzinfo = UTC  # the profile's time zone: a date without a time is a day there

    def fail(self, node: Any, key: str | int | None, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, location=located(self.path, node, key), hint=hint)

    def mapping(self, node: Any, key: str | int, what: str) -> YDict:
        value = node[key]
        if not isinstance(value, YDict):
            raise self.fail(node, key, f"{what} must be a mapping (key: value lines)")
        return value

    def seq(self, node: Any, key: str, what: str) -> YList:
        value = node.get(key)
        if value is None:
            return YList(self.path, node.line_of(key))
        if not isinstance(value, YList):
            raise self.fail(node, key, f"{what} must be a list (lines starting with '- ')")
        return value

    def text(self, node: YDict, key: str, what: str, *, required: bool = True) -> str:
        value = node.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(node, key, f"{what} '{key}' is empty", f"give '{key}' a value")
            return ""
        if isinstance(value, YDict | YList):
            raise self.fail(node, key, f"{what} '{key}' must be text")
        return str(value)

    def texts(self, node: YDict, key: str, what: str) -> tuple[str, ...]:
        seq = self.seq(node, key, what)
        out = []
        for i, item in enumerate(seq):
            if isinstance(item, YDict | YList) or item in (None, ""):
                raise self.fail(seq, i, f"{what}: item {i + 1} must be non-empty text")
            out.append(str(item))
        return tuple(out)

    def resolve(self, raw: str) -> str:
        p = Path(raw).expanduser()
        return str(p if p.is_absolute() else (self.base / p).resolve())


def _moment(ctx: _Ctx, node: YDict, key: str, *, end_of_day: bool) -> datetime:
    value = node.get(key)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ctx.fail(
                node,
                key,
                f"'{key}' has no time zone",
                "add an offset, e.g. 2026-01-01T00:00:00+07:00 (Asia/Bangkok)",
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        clock = time(23, 59, 59) if end_of_day else time(0, 0, 0)
        return datetime.combine(value, clock, tzinfo=ctx.zone).astimezone(UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                raise ctx.fail(node, key, f"'{key}' has no time zone", "add an offset such as +07:00")
            return parsed.astimezone(UTC)
    raise ctx.fail(node, key, f"'{key}' must be a date or date-time, got {value!r}", "write e.g. 2026-12-31")


def _timezone(ctx: _Ctx, root: YDict) -> str:
    """The profile's IANA time zone (default UTC); sets the zone that date-only values mean."""
    if root.get("timezone") in (None, ""):
        return "UTC"
    name = ctx.text(root, "timezone", "the profile")
    if name == "UTC":
        return name
    try:
        ctx.zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        known = zoneinfo.available_timezones()
        hint = "use an IANA time zone name, e.g. timezone: Asia/Bangkok"
        if not known:
            hint += " (no time zone database found: install the Debian package tzdata)"
        raise ctx.fail(root, "timezone", f"unknown time zone '{name}'{suggest(name, known)}", hint) from e
    return name


def _network(ctx: _Ctx, seq: YList, index: int, what: str) -> IPNetwork:
    raw = seq[index]
    try:
        net = ipaddress.ip_network(str(raw).strip(), strict=True)
    except ValueError as e:
        hint = "write an address or CIDR such as 10.20.0.0/24 or 2001:db8::/64"
        try:
            loose = ipaddress.ip_network(str(raw).strip(), strict=False)
        except ValueError:
            pass
        else:
            hint = f"host bits are set; did you mean {loose}?"
        raise ctx.fail(seq, index, f"{what}: '{raw}' is not a valid network", hint) from e
    # One host, one spelling: an IPv4-mapped segment would let ::ffff:10.0.0.3 slip past an
    # exclusion of 10.0.0.3 (secaudit.core.addresses).
    problem = network_problem(net)
    if problem:
        raise ctx.fail(seq, index, f"{what}: {problem}", "use the canonical form, so exclusions hold")
    return net


def _authorization(ctx: _Ctx, root: YDict, now: datetime, require_valid: bool) -> Authorization:
    node = ctx.mapping(root, "authorization", "authorization")
    check_keys(
        node,
        allowed=("reference", "approver", "valid_from", "valid_until", "maintenance_windows"),
        required=("reference", "approver", "valid_from", "valid_until"),
        where="authorization",
    )
    start = _moment(ctx, node, "valid_from", end_of_day=False)
    end = _moment(ctx, node, "valid_until", end_of_day=True)
    if end <= start:
        raise ctx.fail(node, "valid_until", "authorization ends before it starts", "check the two dates")
    reference = ctx.text(node, "reference", "authorization")
    if require_valid and end < now:
        raise ctx.fail(
            node,
            "valid_until",
            f"authorization {reference} expired on {end.date().isoformat()}",
            "renew the written authorization and update reference and valid_until",
        )
    if require_valid and start > now:
        raise ctx.fail(
            node,
            "valid_from",
            f"authorization {reference} is not valid before {start.date().isoformat()}",
            "wait for it, or correct valid_from",
        )
    windows = []
    seq = ctx.seq(node, "maintenance_windows", "maintenance_windows")
    for i, item in enumerate(seq):
        if not isinstance(item, YDict):
            raise ctx.fail(seq, i, "a maintenance window must be a mapping with start and end")
        check_keys(item, allowed=("start", "end"), required=("start", "end"), where="maintenance window")
        w_start = _moment(ctx, item, "start", end_of_day=False)
        w_end = _moment(ctx, item, "end", end_of_day=True)
        if w_end <= w_start:
            raise ctx.fail(item, "end", "maintenance window ends before it starts")
        if w_start < start or w_end > end:
            raise ctx.fail(item, "start", "maintenance window lies outside the authorization's validity")
        windows.append(MaintenanceWindow(start=w_start, end=w_end))
    return Authorization(
        reference=reference,
        approver=ctx.text(node, "approver", "authorization"),
        valid_from=start,
        valid_until=end,
        maintenance_windows=tuple(windows),
    )


def _enum_value(ctx: _Ctx, node: YDict, key: str, choices: list[str]) -> str:
    value = str(node[key]).strip().lower()
    if value not in choices:
        raise ctx.fail(
            node,
            key,
            f"unknown {key} '{node[key]}'{suggest(value, choices)}",
            f"use one of: {', '.join(choices)}",
        )
    return value


def _criticality(ctx: _Ctx, node: YDict, key: str) -> Criticality:
    try:
        return Criticality.parse(str(node[key]))
    except ValueError:
        raise ctx.fail(
            node,
            key,
            f"unknown criticality '{node[key]}'{suggest(str(node[key]), Criticality.names())}",
            f"use one of: {', '.join(Criticality.names())}",
        ) from None


def _segments(ctx: _Ctx, root: YDict, auth: Authorization) -> tuple[Segment, ...]:
    seq = ctx.seq(root, "segments", "segments")
    if not seq:
        raise ctx.fail(root, "segments", "no segments defined", "add at least one authorized segment")
    segments: list[Segment] = []
    seen: dict[str, int] = {}
    owners: dict[IPNetwork, str] = {}
    for i, node in enumerate(seq):
        if not isinstance(node, YDict):
            raise ctx.fail(seq, i, "a segment must be a mapping")
        check_keys(
            node,
            allowed=(
                "name",
                "cidrs",
                "kind",
                "owner",
                "criticality",
                "scan_profile",
                "exclusions",
                "description",
            ),
            required=("name", "cidrs", "kind", "owner", "criticality"),
            where="segment",
        )
        name = ctx.text(node, "name", "segment")
        if not _NAME.match(name):
            raise ctx.fail(node, "name", f"segment name '{name}' is not a simple name", "use a-z, 0-9, . _ -")
        if name in seen:
            raise ctx.fail(
                node, "name", f"duplicate segment name '{name}' (first at line {seen[name]})", "rename one"
            )
        seen[name] = node.line_of("name")
        cidr_seq = ctx.seq(node, "cidrs", "cidrs")
        if not cidr_seq:
            raise ctx.fail(node, "cidrs", f"segment '{name}' has no CIDRs", "list at least one network")
        cidrs = tuple(_network(ctx, cidr_seq, j, f"segment '{name}' cidrs") for j in range(len(cidr_seq)))
        for j, net in enumerate(cidrs):
            if net in owners:
                raise ctx.fail(
                    cidr_seq,
                    j,
                    f"{net} is already the CIDR of segment '{owners[net]}'",
                    "keep it in one segment",
                )
            owners[net] = name
        excl_seq = ctx.seq(node, "exclusions", "exclusions")
        exclusions = tuple(
            _network(ctx, excl_seq, j, f"segment '{name}' exclusions") for j in range(len(excl_seq))
        )
        for j, ex in enumerate(exclusions):
            if not any(ex.version == c.version and ex.subnet_of(c) for c in cidrs):  # type: ignore[arg-type]
                raise ctx.fail(
                    excl_seq,
                    j,
                    f"exclusion {ex} is not inside any CIDR of segment '{name}'",
                    "fix the address",
                )
        kind = SegmentKind(_enum_value(ctx, node, "kind", [k.value for k in SegmentKind]))
        scan_profile = DEFAULT_SCAN_PROFILE[kind]
        if "scan_profile" in node:
            scan_profile = _enum_value(ctx, node, "scan_profile", list(SCAN_PROFILES))
            if scan_profile == "deep" and not auth.maintenance_windows:
                raise ctx.fail(
                    node,
                    "scan_profile",
                    f"segment '{name}' asks for deep scans but the authorization has no maintenance window",
                    "add authorization.maintenance_windows, or use 'standard'",
                )
        segments.append(
            Segment(
                name=name,
                cidrs=cidrs,
                kind=kind,
                owner=ctx.text(node, "owner", "segment"),
                criticality=_criticality(ctx, node, "criticality"),
                scan_profile=scan_profile,
                exclusions=exclusions,
                description=ctx.text(node, "description", "segment", required=False),
            )
        )
    return tuple(segments)


def _assets(ctx: _Ctx, root: YDict, segments: tuple[Segment, ...]) -> tuple[InventoryAsset, ...]:
    seq = ctx.seq(root, "assets", "assets")
    by_name = {s.name: s for s in segments}
    probe = Profile(path=ctx.path, organisation="", authorization=_NO_AUTH, segments=segments)
    assets: list[InventoryAsset] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(seq):
        if not isinstance(node, YDict):
            raise ctx.fail(seq, i, "an asset must be a mapping")
        check_keys(
            node,
            allowed=("name", "address", "hostname", "role", "criticality", "segment", "tags"),
            required=("name", "role", "criticality"),
            where="asset",
        )
        name = ctx.text(node, "name", "asset")
        if name in seen:
            raise ctx.fail(node, "name", f"duplicate asset name '{name}' (first at line {seen[name]})")
        seen[name] = node.line_of("name")
        address = ctx.text(node, "address", "asset", required=False)
        hostname = ctx.text(node, "hostname", "asset", required=False)
        if not address and not hostname:
            raise ctx.fail(node, None, f"asset '{name}' has neither address nor hostname", "add one of them")
        if address:
            try:
                problem = address_problem(address)
            except ValueError:
                raise ctx.fail(
                    node, "address", f"'{address}' is not an IP address", "put names under 'hostname'"
                ) from None
            if problem:
                raise ctx.fail(node, "address", problem, "one host has one spelling in the profile")
        if hostname and not _HOSTNAME.match(hostname):
            raise ctx.fail(node, "hostname", f"'{hostname}' is not a valid hostname")
        segment = ctx.text(node, "segment", "asset", required=False)
        if segment and segment not in by_name:
            raise ctx.fail(
                node,
                "segment",
                f"unknown segment '{segment}'{suggest(segment, by_name)}",
                f"use one of: {', '.join(by_name)}",
            )
        derived = probe.segment_of(address) if address else None
        if segment and derived and derived.name != segment:
            raise ctx.fail(
                node, "segment", f"address {address} lies in segment '{derived.name}', not '{segment}'"
            )
        assets.append(
            InventoryAsset(
                name=name,
                address=address,
                hostname=hostname,
                role=ctx.text(node, "role", "asset"),
                criticality=_criticality(ctx, node, "criticality"),
                segment=segment or (derived.name if derived else ""),
                tags=ctx.texts(node, "tags", "tags"),
            )
        )
    return tuple(assets)


def ssh_target_problem(spec: str) -> str:
    """Why an ``ssh://`` target cannot be used (never quoting a password), or ``""``."""
    rest = spec.removeprefix("ssh://")
    userinfo = rest.rsplit("@", 1)[0] if "@" in rest else ""
    if ":" in userinfo:
        return "the ssh target holds a password (user:password@)"
    query = rest.partition("?")[2]
    names = sorted({part.partition("=")[0] for part in query.split("&") if part})
    unknown = [n for n in names if n not in SSH_OPTIONS]
    if unknown:
        shown = ", ".join(n if n.isidentifier() and len(n) < 40 else "?" for n in unknown)
        return f"the ssh target has unknown option(s) {shown} (options: {', '.join(SSH_OPTIONS)})"
    return ""


def _target(ctx: _Ctx, node: YDict) -> str:
    raw = ctx.text(node, "target", "baseline target")
    if raw.startswith("ssh://"):
        problem = ssh_target_problem(raw)
        if problem:
            raise ctx.fail(node, "target", problem, _SSH_HINT)
    if raw == "local" or _SSH.match(raw):
        return raw
    for scheme in ("offline:", "file:"):
        if raw.startswith(scheme) and len(raw) > len(scheme):
            return scheme + ctx.resolve(raw[len(scheme) :])
    raise ctx.fail(
        node,
        "target",
        f"unknown target '{redact(raw)}'",
        "use offline:DIR, file:PATH, local or ssh://user@host",
    )


def _baseline_targets(ctx: _Ctx, root: YDict, asset_names: set[str]) -> tuple[BaselineTarget, ...]:
    seq = ctx.seq(root, "baseline_targets", "baseline_targets")
    out = []
    for i, node in enumerate(seq):
        if not isinstance(node, YDict):
            raise ctx.fail(seq, i, "a baseline target must be a mapping")
        check_keys(
            node,
            allowed=("target", "baselines", "asset"),
            required=("target", "baselines"),
            where="baseline target",
        )
        baselines = ctx.texts(node, "baselines", "baselines")
        if not baselines:
            raise ctx.fail(
                node, "baselines", "no baselines named", "list baseline ids, e.g. [debian12-server]"
            )
        out.append(
            BaselineTarget(
                target=_target(ctx, node),
                baselines=baselines,
                asset=_asset_ref(ctx, node, asset_names),
            )
        )
    return tuple(out)


def _asset_ref(ctx: _Ctx, node: YDict, asset_names: set[str]) -> str:
    asset = ctx.text(node, "asset", "asset", required=False)
    if asset and asset not in asset_names:
        raise ctx.fail(
            node,
            "asset",
            f"unknown asset '{asset}'{suggest(asset, asset_names)}",
            "name an asset of 'assets'",
        )
    return asset


def _log_sources(ctx: _Ctx, root: YDict, asset_names: set[str]) -> tuple[LogSource, ...]:
    seq = ctx.seq(root, "log_sources", "log_sources")
    out = []
    names: set[str] = set()
    for i, node in enumerate(seq):
        if not isinstance(node, YDict):
            raise ctx.fail(seq, i, "a log source must be a mapping")
        check_keys(
            node, allowed=("name", "paths", "format", "asset"), required=("name", "paths"), where="log source"
        )
        name = ctx.text(node, "name", "log source")
        if name in names:
            raise ctx.fail(node, "name", f"duplicate log source '{name}'")
        names.add(name)
        paths = ctx.texts(node, "paths", "paths")
        if not paths:
            raise ctx.fail(node, "paths", f"log source '{name}' has no paths")
        # "auto" (detect per file) or a registered format (core.registry: this layer cannot import logs)
        fmt = _enum_value(ctx, node, "format", ["auto", *LOG_FORMATS.names()]) if "format" in node else "auto"
        out.append(
            LogSource(
                name=name,
                paths=tuple(ctx.resolve(p) for p in paths),
                format=fmt,
                asset=_asset_ref(ctx, node, asset_names),
            )
        )
    return tuple(out)


def _existing_file(ctx: _Ctx, root: YDict, key: str, what: str, example: str) -> str:
    if key not in root:
        return ""
    path = ctx.resolve(ctx.text(root, key, what))
    if not Path(path).is_file():
        raise ctx.fail(
            root, key, f"{what} not found: {path}", f"give the path of {example}, relative to this profile"
        )
    return path


def _waivers_path(ctx: _Ctx, root: YDict) -> str:
    return _existing_file(ctx, root, "baseline_waivers", "waivers file", "a waivers.yaml")


def _detection(ctx: _Ctx, root: YDict) -> DetectionSettings:
    if "detection" not in root:
        return DetectionSettings()
    node = ctx.mapping(root, "detection", "detection")
    check_keys(node, allowed=("rules", "placeholders"), where="detection")
    rules = (
        tuple(ctx.resolve(p) for p in ctx.texts(node, "rules", "detection rules")) if "rules" in node else ()
    )
    for i, path in enumerate(rules):
        if not Path(path).exists():
            raise ctx.fail(
                node["rules"], i, f"rules path does not exist: {path}", "name a Sigma rule file or folder"
            )
    placeholders: list[tuple[str, tuple[str, ...]]] = []
    if "placeholders" in node:
        values = ctx.mapping(node, "placeholders", "detection placeholders")
        for name in values:
            item = values[name]
            seq = item if isinstance(item, YList) else [item]
            if not seq or any(isinstance(v, YDict | YList) or v in (None, "") for v in seq):
                raise ctx.fail(
                    values,
                    name,
                    f"placeholder '{name}' needs a value or a list of values",
                    "e.g. [127.20.1.5]",
                )
            placeholders.append((str(name).strip("%"), tuple(str(v) for v in seq)))
    return DetectionSettings(rules=rules, placeholders=tuple(placeholders))


def _report(ctx: _Ctx, root: YDict) -> ReportSettings:
    if "report" not in root:
        return ReportSettings()
    node = ctx.mapping(root, "report", "report")
    check_keys(
        node,
        allowed=("language", "languages", "formats", "output_dir", "fail_on", "thai_era"),
        where="report",
    )
    language = _enum_value(ctx, node, "language", list(LANGUAGES)) if "language" in node else "en"
    languages: tuple[str, ...] = ()
    if "languages" in node:
        if "language" in node:
            raise ctx.fail(
                node,
                "languages",
                "give either 'language' or 'languages', not both",
                "keep languages: [en, th]",
            )
        langs = ctx.texts(node, "languages", "languages")
        lang_seq = node.get("languages")
        for j, lang in enumerate(langs):
            if lang not in LANGUAGES:
                raise ctx.fail(
                    lang_seq,
                    j,
                    f"unknown report language '{lang}'{suggest(lang, LANGUAGES)}",
                    f"use some of: {', '.join(LANGUAGES)}",
                )
        if not langs:
            raise ctx.fail(node, "languages", "'languages' is empty", "list at least one: languages: [en]")
        languages = tuple(dict.fromkeys(langs))
        language = languages[0]
    formats = ctx.texts(node, "formats", "formats") if "formats" in node else ReportSettings().formats
    fmt_seq = node.get("formats")
    # the registered writers (core.registry: this layer cannot import report)
    known = REPORT_WRITERS.names() if "formats" in node else ()
    for j, fmt in enumerate(formats if "formats" in node else ()):
        if fmt not in known:
            raise ctx.fail(
                fmt_seq,
                j,
                f"unknown report format '{fmt}'{suggest(fmt, known)}",
                f"use some of: {', '.join(known)}",
            )
    fail_on = ""
    if node.get("fail_on"):
        fail_on = _enum_value(ctx, node, "fail_on", Severity.names())
    thai_era = _enum_value(ctx, node, "thai_era", list(THAI_ERAS)) if "thai_era" in node else "gregorian"
    return ReportSettings(
        language=language,
        languages=languages,
        formats=tuple(dict.fromkeys(formats)),
        output_dir=ctx.text(node, "output_dir", "report", required=False) or "reports",
        fail_on=fail_on,
        thai_era=thai_era,
    )


def _vuln(ctx: _Ctx, root: YDict) -> VulnSettings | None:
    if "vuln" not in root:
        return None
    node = root["vuln"] if root["vuln"] is not None else YDict(root.path, root.line_of("vuln"))
    if not isinstance(node, YDict):
        raise ctx.fail(root, "vuln", "'vuln' must be a mapping", "e.g. vuln: {max_feed_age_days: 7}")
    check_keys(node, allowed=("store", "max_feed_age_days", "release"), where="vuln")
    store = ctx.text(node, "store", "vuln", required=False)
    age = node.get("max_feed_age_days", VulnSettings().max_feed_age_days)
    if not isinstance(age, int) or isinstance(age, bool) or age < 1:
        raise ctx.fail(node, "max_feed_age_days", f"{age!r} is not a whole number of days", "e.g. 7")
    return VulnSettings(
        store=ctx.resolve(store) if store else "",
        max_feed_age_days=age,
        release=ctx.text(node, "release", "vuln", required=False),
    )


_NO_AUTH = Authorization(
    reference="",
    approver="",
    valid_from=datetime.min.replace(tzinfo=UTC),
    valid_until=datetime.max.replace(tzinfo=UTC),
)


def load_profile(
    path: Path, *, now: datetime | None = None, require_valid_authorization: bool = True
) -> Profile:
    """Load and validate a profile; raise :class:`ConfigError` naming file:line and the fix.

    ``require_valid_authorization`` refuses a profile whose authorization is not valid at
    ``now`` (default: the current time); reading old runs' profiles may turn it off.
    """
    moment = now or datetime.now(UTC)
    root = load_yaml(path)
    ctx = _Ctx(path)
    if not isinstance(root, YDict):
        raise ConfigError(
            "a profile must be a mapping of sections",
            location=str(path),
            hint="start from samples/phuket-demo.yaml",
        )
    check_keys(
        root, allowed=_TOP_KEYS, required=("organisation", "authorization", "segments"), where="the profile"
    )
    version = root.get("version", PROFILE_VERSION)
    if version != PROFILE_VERSION:
        raise ctx.fail(
            root, "version", f"unsupported profile version {version!r}", f"use version: {PROFILE_VERSION}"
        )
    timezone = _timezone(ctx, root)
    auth = _authorization(ctx, root, moment, require_valid_authorization)
    segments = _segments(ctx, root, auth)
    assets = _assets(ctx, root, segments)
    asset_names = {a.name for a in assets}
    history = ctx.text(root, "history", "history", required=False)
    return Profile(
        path=str(path),
        organisation=ctx.text(root, "organisation", "the profile"),
        authorization=auth,
        segments=segments,
        assets=assets,
        baseline_targets=_baseline_targets(ctx, root, asset_names),
        baseline_waivers=_waivers_path(ctx, root),
        kev_path=_existing_file(ctx, root, "kev", "KEV catalogue", "a known_exploited_vulnerabilities.json"),
        log_sources=_log_sources(ctx, root, asset_names),
        detection=_detection(ctx, root),
        report=_report(ctx, root),
        history_path=history,
        timezone=timezone,
        vuln=_vuln(ctx, root),
    )

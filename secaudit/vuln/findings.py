"""From matches to findings: one per (asset, package or service, CVE).

The rule id is the CVE id, so SARIF gets one rule per CVE and the report aggregates one CVE in
one package across assets into one row. Severity follows the CVSS base score NVD published
(9.0+ critical, 7.0+ high, 4.0+ medium, else low); without an imported NVD record it is medium
and the finding says the score is unknown. A service match is one severity step lower than its
score, because a banner version is a claim, not proof; the finding says so.

Evidence attributes carry what the risk model and the reports read: ``cve``, ``cvss_vector``,
``epss``/``epss_percentile``, ``kev``/``kev_due``, ``installed``/``fixed``, ``package``,
``network_service``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from secaudit.core.model import Asset, Evidence, Finding, LocalText, Reference, RefKind, Severity, Source
from secaudit.vuln.feeds import CVE_ID, CveInfo, EpssScore, FeedKind
from secaudit.vuln.match import PackageMatch, ServiceMatch
from secaudit.vuln.osv import normalize
from secaudit.vuln.pypi import ECOSYSTEM, OsvMatch
from secaudit.vuln.rpmdb import RpmMatch
from secaudit.vuln.store import KevFact

PRODUCER = "vuln"
TRACKER_URL = "https://security-tracker.debian.org/tracker/"
UBUNTU_URL = "https://ubuntu.com/security/"
OSV_URL = "https://osv.dev/vulnerability/"

# per distribution feed: the distribution, the feed in words, the distribution's page of a CVE
_FEEDS = {
    FeedKind.DEBIAN_TRACKER: ("Debian", "the Debian Security Tracker", TRACKER_URL),
    FeedKind.DEBIAN_OVAL: ("Debian", "Debian's OVAL definitions", TRACKER_URL),
    FeedKind.UBUNTU_OVAL: ("Ubuntu", "Ubuntu's OVAL definitions (Ubuntu CVE Tracker)", UBUNTU_URL),
}
_FEEDS_TH = {
    FeedKind.DEBIAN_TRACKER: "Debian Security Tracker",
    FeedKind.DEBIAN_OVAL: "OVAL ของ Debian",
    FeedKind.UBUNTU_OVAL: "OVAL ของ Ubuntu (Ubuntu CVE Tracker)",
}
NVD_URL = "https://nvd.nist.gov/vuln/detail/"


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrichment:
    """What the feeds say about the CVEs of a run's matches."""

    cves: dict[str, CveInfo]
    epss: dict[str, EpssScore]
    kev: dict[str, KevFact]
    epss_model: str = ""  # the EPSS feed's model version, quoted with every score


def severity_of(score: float | None) -> Severity:
    if score is None:
        return Severity.MEDIUM
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW if score > 0 else Severity.INFO


def _lower(severity: Severity) -> Severity:
    return Severity(max(int(Severity.LOW), int(severity) - 1)) if severity > Severity.LOW else severity


def _facts(
    cve: str, info: Enrichment
) -> tuple[list[tuple[str, str]], list[str], list[str], tuple[Reference, ...]]:
    """Attributes, sentences for the description (English, Thai), and references common to both kinds."""
    attributes = [("cve", cve)]
    said: list[str] = []
    said_th: list[str] = []
    refs = [Reference(kind=RefKind.CVE, id=cve, url=NVD_URL + cve)] if CVE_ID.match(cve) else []
    record = info.cves.get(cve)
    if record is not None and record.vector:
        attributes.append(("cvss_vector", record.vector))
        score = f"{record.score:.1f}" if record.score is not None else "?"
        said.append(f"CVSS base {score} ({record.vector}).")
        said_th.append(f"คะแนนพื้นฐาน CVSS {score} ({record.vector})")
        refs += [Reference(kind=RefKind.CWE, id=c) for c in record.cwes]
    else:
        said.append("No NVD record imported for this CVE: its CVSS score is unknown, severity set to medium.")
        said_th.append("ไม่มีข้อมูล NVD ของ CVE นี้ในคลังข้อมูล จึงไม่ทราบคะแนน CVSS และกำหนดความรุนแรงเป็นปานกลาง")
    epss = info.epss.get(cve)
    if epss is not None:
        attributes += [("epss", f"{epss.probability:.5f}"), ("epss_percentile", f"{epss.percentile:.5f}")]
        if info.epss_model:
            attributes.append(("epss_model", info.epss_model))
        model = f" (model {info.epss_model})" if info.epss_model else ""
        said.append(
            f"EPSS{model}: {epss.probability:.1%} probability of exploitation in the next 30 days, "
            f"percentile {epss.percentile:.3f}."
        )
        model_th = f" (แบบจำลอง {info.epss_model})" if info.epss_model else ""
        said_th.append(
            f"EPSS{model_th}: โอกาสถูกใช้โจมตีภายใน 30 วัน {epss.probability:.1%} "
            f"เปอร์เซ็นไทล์ {epss.percentile:.3f}"
        )
    kev = info.kev.get(cve)
    if kev is not None:
        attributes.append(("kev", "true"))
        due = f", remediation due {kev.due_date:%Y-%m-%d}" if kev.due_date else ""
        if kev.due_date:
            attributes.append(("kev_due", kev.due_date.isoformat()))
        said.append(f"Listed in CISA KEV (known exploited) since {kev.date_added:%Y-%m-%d}{due}.")
        due_th = f" CISA กำหนดให้แก้ไขภายใน {kev.due_date:%Y-%m-%d}" if kev.due_date else ""
        said_th.append(f"อยู่ในรายการช่องโหว่ที่ถูกใช้โจมตีจริง (KEV) ของ CISA ตั้งแต่ {kev.date_added:%Y-%m-%d}{due_th}")
    return attributes, said, said_th, tuple(refs)


def package_finding(
    match: PackageMatch, asset: Asset, info: Enrichment, *, target: str, now: datetime
) -> Finding:
    attributes, said, said_th, refs = _facts(match.cve, info)
    record = info.cves.get(match.cve)
    summary = (record.summary if record else "").strip()
    binaries = " ".join(match.binaries)
    attributes += [
        ("package", match.package),
        ("binaries", binaries),
        ("installed", match.installed),
        ("fixed", match.fixed or ""),
        ("release", match.release),
        ("target", target),
    ]
    distro, feed, page = _FEEDS[match.feed]
    if match.fixed:
        state = f"fixed in {match.fixed}"
        remediation = (
            f"Upgrade to the fixed version ({match.fixed} or later) from the {distro} {match.release} "
            f"security archive: apt-get update && apt-get install --only-upgrade {binaries}"
        )
    else:
        state = "no fix yet"
        remediation = (
            f"{distro} has no fixed {match.package} for {match.release} yet: limit who can reach the "
            f"affected component, apply the upstream advisory's workaround, and follow "
            f"{page}{match.cve} for the fix."
        )
    title = f"{match.cve} in {distro} package {match.package}" + ("" if match.fixed else " (no fix yet)")
    thai = _thai_package(match, binaries, said_th)
    checked = (
        f"Installed version {match.installed} of {binaries} (source package {match.package})"
        if match.feed is FeedKind.UBUNTU_OVAL
        else f"Installed source version {match.installed} ({binaries})"
    )
    description = " ".join(
        [
            *([summary] if summary else []),
            f"{checked} is affected according to {feed} for {match.release}: {state}.",
            *said,
        ]
    )
    return Finding(
        rule_id=match.cve,
        source=Source.VULN,
        severity=severity_of(record.score if record else None),
        title=title,
        asset=asset,
        description=description,
        remediation=remediation,
        evidence_key=f"deb:{match.package}",
        evidence=(
            Evidence(
                kind="package",
                summary=f"{match.package} {match.installed} installed, {state}",
                location=target,
                excerpt=f"{binaries} (source {match.package} {match.installed})",
                attributes=tuple(sorted(attributes)),
            ),
        ),
        references=(
            *refs,
            Reference(kind=RefKind.URL, id=page + match.cve, url=page + match.cve),
        ),
        observed_at=now,
        producer=PRODUCER,
        texts=(thai,),
    )


def _thai_package(match: PackageMatch, binaries: str, said_th: list[str]) -> LocalText:
    distro, _, page = _FEEDS[match.feed]
    state = f"แก้ไขแล้วในรุ่น {match.fixed}" if match.fixed else "ยังไม่มีแพตช์"
    if match.fixed:
        remediation = (
            f"อัปเดตเป็นรุ่นที่แก้ไขแล้ว ({match.fixed} หรือใหม่กว่า) จากคลังการอัปเดตด้านความปลอดภัยของ "
            f"{distro} {match.release}: apt-get update && apt-get install --only-upgrade {binaries}"
        )
    else:
        remediation = (
            f"{distro} ยังไม่มีแพตช์ของ {match.package} สำหรับ {match.release}: จำกัดการเข้าถึงส่วนที่ได้รับผลกระทบ "
            f"ใช้วิธีแก้ไขชั่วคราวตามประกาศของผู้พัฒนา และติดตามแพตช์ที่ {page}{match.cve}"
        )
    checked = (
        f"แพ็กเกจ {binaries} (แพ็กเกจต้นทาง {match.package}) รุ่น {match.installed}"
        if match.feed is FeedKind.UBUNTU_OVAL
        else f"แพ็กเกจต้นทาง {match.package} รุ่น {match.installed} ({binaries})"
    )
    return LocalText(
        lang="th",
        title=f"{match.cve} ในแพ็กเกจ {distro} {match.package}" + ("" if match.fixed else " (ยังไม่มีแพตช์)"),
        description=" ".join(
            [
                f"{checked} ที่ติดตั้งอยู่มีช่องโหว่นี้ "
                f"ตามข้อมูลของ {_FEEDS_TH[match.feed]} สำหรับ {match.release}: {state}",
                *said_th,
            ]
        ),
        remediation=remediation,
    )


def service_finding(match: ServiceMatch, asset: Asset, info: Enrichment, *, now: datetime) -> Finding:
    attributes, said, said_th, refs = _facts(match.cve, info)
    record = info.cves.get(match.cve)
    base = severity_of(record.score if record else None)
    service = match.service
    where = f"{service.address}:{service.port}/{service.proto}"
    claimed = (
        " ".join(p for p in (service.product, service.version) if p) or f"{match.product} {match.version}"
    )
    attributes += [
        ("product", f"{match.vendor}:{match.product}"),
        ("installed", match.version),
        ("network_service", where),
        ("match", match.rule),
        *([("platform_condition", f"uncertain: running on {match.platform}")] if match.platform else []),
    ]
    description = " ".join(
        [
            *([record.summary.strip()] if record and record.summary.strip() else []),
            f"The service on {where} claims {claimed}; NVD lists {match.vendor}:{match.product} "
            f"{match.rule} as affected. A banner version is a claim, not proof: a distribution may have "
            "backported the fix without changing it, so the severity is one step below the CVSS score.",
            *(
                [
                    f"Uncertain: NVD lists it as affected only when running on {match.platform}, and the "
                    "scan could not tell the host's platform, so the severity is one more step lower."
                ]
                if match.platform
                else []
            ),
            *said,
        ]
    )
    return Finding(
        rule_id=match.cve,
        source=Source.VULN,
        severity=_lower(_lower(base)) if match.platform else _lower(base),
        title=f"{match.cve} in {match.product} (version claimed by the service)"
        + (" - platform uncertain" if match.platform else ""),
        asset=asset,
        description=description,
        remediation=(
            f"Confirm the installed version of {match.product} on the host (the package manager, not the "
            f"banner); if it is affected, upgrade it to a release outside {match.rule}, or to the "
            "distribution's fixed package."
        ),
        evidence_key=f"{service.proto}/{service.port}",
        evidence=(
            Evidence(
                kind="service",
                summary=f"{claimed} on {where}",
                location=where,
                excerpt=claimed,
                attributes=tuple(sorted(attributes)),
            ),
        ),
        references=refs,
        observed_at=now,
        producer=PRODUCER,
        texts=(
            LocalText(
                lang="th",
                title=f"{match.cve} ใน {match.product} (รุ่นตามที่บริการแจ้ง)"
                + (" - ไม่แน่ชัดเรื่องแพลตฟอร์ม" if match.platform else ""),
                description=" ".join(
                    [
                        f"บริการที่ {where} แจ้งว่าเป็น {claimed} ซึ่ง NVD ระบุว่า {match.vendor}:{match.product} "
                        f"{match.rule} ได้รับผลกระทบ รุ่นที่บริการแจ้งเป็นเพียงคำอ้าง ไม่ใช่หลักฐาน "
                        "เพราะผู้จัดทำดิสทริบิวชันอาจแก้ไขช่องโหว่โดยไม่เปลี่ยนเลขรุ่น "
                        "จึงลดความรุนแรงลงหนึ่งระดับจากคะแนน CVSS",
                        *(
                            [
                                f"ไม่แน่ชัด: NVD ระบุว่าได้รับผลกระทบเฉพาะเมื่อทำงานบน {match.platform} "
                                "แต่การสแกนไม่สามารถระบุแพลตฟอร์มของเครื่องได้ จึงลดความรุนแรงลงอีกหนึ่งระดับ"
                            ]
                            if match.platform
                            else []
                        ),
                        *said_th,
                    ]
                ),
                remediation=(
                    f"ตรวจสอบรุ่นของ {match.product} ที่ติดตั้งจริงบนเครื่องด้วยตัวจัดการแพ็กเกจ (ไม่ใช่จาก banner) "
                    f"หากได้รับผลกระทบ ให้อัปเดตเป็นรุ่นที่อยู่นอกช่วง {match.rule} "
                    "หรือเป็นแพ็กเกจที่แก้ไขแล้วของดิสทริบิวชัน"
                ),
            ),
        ),
    )


def osv_finding(match: OsvMatch, asset: Asset, info: Enrichment, *, target: str, now: datetime) -> Finding:
    """A Python package installed outside the distribution, affected according to an OSV record."""
    record, pkg = match.record, match.package
    attributes, said, said_th, refs = _facts(record.rule_id, info)
    nvd = info.cves.get(record.cve) if record.cve else None
    site = pkg.location.rpartition("/")[0]
    attributes += [
        ("package", pkg.name),
        ("installed", pkg.version),
        ("fixed", match.fixed or ""),
        ("ecosystem", record.ecosystem),
        ("osv_id", record.osv_id),
        ("location", pkg.location),
        ("target", target),
    ]
    state = f"fixed in {match.fixed}" if match.fixed else "no fix yet"
    if match.fixed:
        remediation = (
            f"Upgrade {pkg.name} to {match.fixed} or later with the pip of the environment that holds "
            f"{site}: pip install --upgrade '{pkg.name}>={match.fixed}', then restart what uses it."
        )
        remediation_th = (
            f"อัปเดต {pkg.name} เป็นรุ่น {match.fixed} หรือใหม่กว่า ด้วย pip ของสภาพแวดล้อมที่มี {site}: "
            f"pip install --upgrade '{pkg.name}>={match.fixed}' แล้วเริ่มบริการที่ใช้แพ็กเกจนี้ใหม่"
        )
    else:
        remediation = (
            f"No fixed release of {pkg.name} is known: remove it where it is not needed, limit who can "
            f"reach what uses it, and follow {OSV_URL}{record.osv_id} for the fix."
        )
        remediation_th = (
            f"ยังไม่มีรุ่นของ {pkg.name} ที่แก้ไขแล้ว: ถอนการติดตั้งหากไม่จำเป็น จำกัดการเข้าถึงบริการที่ใช้แพ็กเกจนี้ "
            f"และติดตามแพตช์ที่ {OSV_URL}{record.osv_id}"
        )
    summary = (nvd.summary if nvd and nvd.summary else record.summary).strip()
    description = " ".join(
        [
            *([summary] if summary else []),
            f"{pkg.name} {pkg.version} installed in {site} (outside the distribution's packages) is "
            f"affected according to OSV record {record.osv_id} ({record.ecosystem}): {state}.",
            *said,
        ]
    )
    state_th = f"แก้ไขแล้วในรุ่น {match.fixed}" if match.fixed else "ยังไม่มีแพตช์"
    return Finding(
        rule_id=record.rule_id,
        source=Source.VULN,
        severity=severity_of(nvd.score if nvd else None),
        title=f"{record.rule_id} in Python package {pkg.name}" + ("" if match.fixed else " (no fix yet)"),
        asset=asset,
        description=description,
        remediation=remediation,
        evidence_key=f"pypi:{site}:{normalize(ECOSYSTEM, pkg.name)}",
        evidence=(
            Evidence(
                kind="package",
                summary=f"{pkg.name} {pkg.version} installed, {state}",
                location=f"{target}:{pkg.location}",
                excerpt=f"{pkg.name} {pkg.version} ({site})",
                attributes=tuple(sorted(attributes)),
            ),
        ),
        references=(
            *refs,
            Reference(kind=RefKind.URL, id=OSV_URL + record.osv_id, url=OSV_URL + record.osv_id),
        ),
        observed_at=now,
        producer=PRODUCER,
        texts=(
            LocalText(
                lang="th",
                title=f"{record.rule_id} ในแพ็กเกจ Python {pkg.name}"
                + ("" if match.fixed else " (ยังไม่มีแพตช์)"),
                description=" ".join(
                    [
                        f"แพ็กเกจ {pkg.name} รุ่น {pkg.version} ที่ติดตั้งไว้ใน {site} (นอกแพ็กเกจของดิสทริบิวชัน) "
                        f"มีช่องโหว่นี้ตามข้อมูล OSV {record.osv_id} ({record.ecosystem}): {state_th}",
                        *said_th,
                    ]
                ),
                remediation=remediation_th,
            ),
        ),
    )


def rpm_finding(match: RpmMatch, asset: Asset, info: Enrichment, *, target: str, now: datetime) -> Finding:
    """An installed rpm package affected according to the distribution's OSV record."""
    record, pkg = match.record, match.package
    attributes, said, said_th, refs = _facts(record.rule_id, info)
    nvd = info.cves.get(record.cve) if record.cve else None
    distro = record.ecosystem
    attributes += [
        ("package", pkg.name),
        ("source_package", pkg.source),
        ("installed", pkg.shown),
        ("fixed", match.fixed or ""),
        ("ecosystem", distro),
        ("osv_id", record.osv_id),
        ("target", target),
    ]
    state = f"fixed in {match.fixed}" if match.fixed else "no fix yet"
    state_th = f"แก้ไขแล้วในรุ่น {match.fixed}" if match.fixed else "ยังไม่มีแพตช์"
    if match.fixed:
        remediation = f"Upgrade to {match.fixed} or later from {distro}'s updates: dnf upgrade {pkg.name}"
        remediation_th = f"อัปเดตเป็นรุ่น {match.fixed} หรือใหม่กว่าจากคลังอัปเดตของ {distro}: dnf upgrade {pkg.name}"
    else:
        remediation = (
            f"{distro} has no fixed {pkg.name} yet: limit who can reach the affected component and follow "
            f"{OSV_URL}{record.osv_id} for the fix."
        )
        remediation_th = (
            f"{distro} ยังไม่มีแพตช์ของ {pkg.name}: จำกัดการเข้าถึงส่วนที่ได้รับผลกระทบ "
            f"และติดตามแพตช์ที่ {OSV_URL}{record.osv_id}"
        )
    summary = (nvd.summary if nvd and nvd.summary else record.summary).strip()
    return Finding(
        rule_id=record.rule_id,
        source=Source.VULN,
        severity=severity_of(nvd.score if nvd else None),
        title=f"{record.rule_id} in {distro} package {pkg.name}" + ("" if match.fixed else " (no fix yet)"),
        asset=asset,
        description=" ".join(
            [
                *([summary] if summary else []),
                f"Installed {pkg.name} {pkg.shown} (source package {pkg.source or pkg.name}) is affected "
                f"according to OSV record {record.osv_id} ({distro}): {state}.",
                *said,
            ]
        ),
        remediation=remediation,
        evidence_key=f"rpm:{pkg.name}",
        evidence=(
            Evidence(
                kind="package",
                summary=f"{pkg.name} {pkg.shown} installed, {state}",
                location=target,
                excerpt=f"{pkg.name}-{pkg.shown}.{pkg.arch}",
                attributes=tuple(sorted(attributes)),
            ),
        ),
        references=(
            *refs,
            Reference(kind=RefKind.URL, id=OSV_URL + record.osv_id, url=OSV_URL + record.osv_id),
        ),
        observed_at=now,
        producer=PRODUCER,
        texts=(
            LocalText(
                lang="th",
                title=f"{record.rule_id} ในแพ็กเกจ {distro} {pkg.name}"
                + ("" if match.fixed else " (ยังไม่มีแพตช์)"),
                description=" ".join(
                    [
                        f"แพ็กเกจ {pkg.name} รุ่น {pkg.shown} (แพ็กเกจต้นทาง {pkg.source or pkg.name}) ที่ติดตั้งอยู่"
                        f"มีช่องโหว่นี้ตามข้อมูล OSV {record.osv_id} ({distro}): {state_th}",
                        *said_th,
                    ]
                ),
                remediation=remediation_th,
            ),
        ),
    )


def cves_of(
    package_matches: Sequence[PackageMatch],
    service_matches: Sequence[ServiceMatch],
    osv_matches: Sequence[OsvMatch | RpmMatch] = (),
) -> list[str]:
    return sorted(
        {m.cve for m in package_matches}
        | {m.cve for m in service_matches}
        | {m.record.cve for m in osv_matches if m.record.cve}
    )

"""From what a capture showed to findings (source: passive): ICS writes, cleartext credentials,
SNMP communities in use, and flows between segments that the flow policy does not allow."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from secaudit.core.model import (
    Asset,
    Evidence,
    Finding,
    LocalText,
    Reference,
    RefKind,
    SegmentKind,
    Severity,
    Source,
)
from secaudit.core.profile import Profile
from secaudit.scan.flows import FlowPolicy
from secaudit.scan.passive import ICS_PROTOCOLS, Credential, Flow, IcsOperation, PassiveResult

PRODUCER = "secaudit.scan.passive"
CLEARTEXT_ID = "PASSIVE-CLEARTEXT-CREDENTIALS"
SNMP_ID = "PASSIVE-SNMP-COMMUNITY"
MODBUS_WRITE_ID = "PASSIVE-MODBUS-WRITE"
FLOW_ID = "PASSIVE-FLOW-NOT-ALLOWED"
_CLEARTEXT_NAMES = {"telnet": "telnet", "ftp": "FTP", "http-basic": "HTTP Basic authentication"}
_CLEARTEXT_NAMES_TH = {"telnet": "telnet", "ftp": "FTP", "http-basic": "การยืนยันตัวตนแบบ HTTP Basic"}


def asset_at(profile: Profile | None, address: str) -> Asset:
    """The inventory asset at ``address``, else the address with its segment's criticality."""
    return Asset(key=address, address=address) if profile is None else profile.address_asset(address)


def passive_findings(
    result: PassiveResult, *, profile: Profile | None, policy: FlowPolicy | None, observed_at: datetime
) -> list[Finding]:
    """Every finding the capture supports, sorted by rule, asset and evidence key."""
    out = _modbus_writes(result.ics, profile, observed_at)
    out += [_credential(c, profile, observed_at) for c in result.credentials]
    if profile is not None and policy is not None:
        out += _flows(result.flows, profile, policy, observed_at)
    return sorted(out, key=lambda f: (f.rule_id, f.asset.key, f.evidence_key))


def _modbus_writes(ops: list[IcsOperation], profile: Profile | None, at: datetime) -> list[Finding]:
    writes: dict[tuple[str, str], list[IcsOperation]] = defaultdict(list)
    for op in ops:
        if op.write:
            writes[(op.client, op.server)].append(op)
    out = []
    for (client, server), found in sorted(writes.items()):
        counts = ", ".join(f"{op.name} (function {op.function}, unit {op.unit}) x{op.count}" for op in found)
        out.append(
            Finding(
                rule_id=MODBUS_WRITE_ID,
                source=Source.PASSIVE,
                severity=Severity.HIGH,
                title="Modbus write commands were sent to a device",
                asset=asset_at(profile, server),
                description=(
                    f"{client} sent Modbus/TCP write requests to {server}. Modbus has no "
                    "authentication: any host that can reach the port can change coils and registers."
                ),
                remediation=(
                    "Confirm the client is the engineering workstation or SCADA server meant to write; "
                    "allow Modbus writes only from it (firewall conduit or a Modbus-aware filter)."
                ),
                evidence_key=f"modbus write from {client}",
                evidence=(
                    Evidence(
                        kind="capture",
                        summary=f"Modbus writes from {client}: {counts}",
                        location=f"{server}:502/tcp",
                        # Every function code seen, in one attribute (attributes are keyed by name).
                        attributes=(
                            ("functions", ", ".join(str(f) for f in sorted({op.function for op in found}))),
                            *_seen(min(op.first_seen for op in found), max(op.last_seen for op in found)),
                        ),
                    ),
                ),
                references=(Reference(kind=RefKind.ATTACK, id="T0855"),),
                observed_at=_when(min(op.first_seen for op in found), at),
                producer=PRODUCER,
                texts=(
                    LocalText(
                        lang="th",
                        title="มีการส่งคำสั่งเขียนค่า Modbus ไปยังอุปกรณ์",
                        description=(
                            f"{client} ส่งคำสั่งเขียนค่า Modbus/TCP ไปยัง {server} โปรโตคอล Modbus ไม่มีการยืนยันตัวตน "
                            "เครื่องใดก็ตามที่เข้าถึงพอร์ตนี้ได้จึงเปลี่ยนค่า coil และ register ของอุปกรณ์ได้"
                        ),
                        remediation=(
                            "ยืนยันว่าเครื่องต้นทางคือเครื่องวิศวกรรม (engineering workstation) หรือเซิร์ฟเวอร์ SCADA "
                            "ที่ได้รับอนุญาตให้เขียนค่า แล้วอนุญาตคำสั่งเขียน Modbus จากเครื่องนั้นเท่านั้น "
                            "(กำหนด conduit ที่ไฟร์วอลล์ หรือใช้ตัวกรองที่เข้าใจ Modbus)"
                        ),
                    ),
                ),
            )
        )
    return out


def _credential(c: Credential, profile: Profile | None, at: datetime) -> Finding:
    where = f"{c.server}:{c.port}/{'udp' if c.protocol == 'snmp' else 'tcp'}"
    if c.protocol == "snmp":
        default = "default community" in c.detail
        return Finding(
            rule_id=SNMP_ID,
            source=Source.PASSIVE,
            severity=Severity.HIGH if default else Severity.MEDIUM,
            title="SNMP community string sent in cleartext" + (" (a well-known default)" if default else ""),
            asset=asset_at(profile, c.server),
            description=(
                f"{c.client} queried {c.server} with {c.detail or 'SNMP v1/v2c'}; the community string "
                "travels in cleartext and grants access to anyone who sees it."
            ),
            remediation="Move the device to SNMPv3 with authentication and privacy; retire v1/v2c "
            "communities.",
            evidence_key=f"{c.detail.split(' ')[0].lower() or 'snmp'} community from {c.client}",
            evidence=(
                Evidence(
                    kind="capture",
                    summary=f"{c.detail or 'SNMP'} community {c.secret} from {c.client} "
                    f"({c.count} message(s))",
                    location=where,
                    attributes=_seen(c.first_seen, c.last_seen),
                ),
            ),
            references=(Reference(kind=RefKind.CWE, id="CWE-319"),),
            observed_at=_when(c.first_seen, at),
            producer=PRODUCER,
            texts=(
                LocalText(
                    lang="th",
                    title="มีการส่ง community string ของ SNMP โดยไม่เข้ารหัส"
                    + (" (เป็นค่าเริ่มต้นที่รู้กันทั่วไป)" if default else ""),
                    description=(
                        f"{c.client} สอบถามข้อมูลจาก {c.server} ด้วย {c.detail or 'SNMP v1/v2c'} "
                        "community string ถูกส่งผ่านเครือข่ายโดยไม่เข้ารหัส ผู้ใดที่ดักเห็นค่านี้ก็เข้าถึงอุปกรณ์ได้"
                    ),
                    remediation="เปลี่ยนอุปกรณ์ไปใช้ SNMPv3 ที่เปิดการยืนยันตัวตนและการเข้ารหัส (authPriv) "
                    "แล้วยกเลิก community ของ v1/v2c",
                ),
            ),
        )
    name = _CLEARTEXT_NAMES.get(c.protocol, c.protocol)
    name_th = _CLEARTEXT_NAMES_TH.get(c.protocol, c.protocol)
    user = f"user '{c.user}'" if c.user else "an empty user name"
    user_th = f"บัญชีผู้ใช้ '{c.user}'" if c.user else "ชื่อผู้ใช้ว่าง"
    request = f" on {c.detail}" if c.detail else ""
    return Finding(
        rule_id=CLEARTEXT_ID,
        source=Source.PASSIVE,
        severity=Severity.HIGH,
        title=f"Credentials sent in cleartext over {name}",
        asset=asset_at(profile, c.server),
        description=(
            f"{c.client} logged in to {c.server} over {name} with {user}; the password crossed the "
            "network unencrypted and is readable by anyone on the path."
        ),
        remediation=(
            "Change the exposed password, then replace the protocol with an encrypted one "
            "(SSH instead of telnet, SFTP/FTPS instead of FTP, HTTPS instead of HTTP)."
        ),
        evidence_key=f"{c.protocol} {c.user} from {c.client}",
        evidence=(
            Evidence(
                kind="capture",
                summary=f"{name} login from {c.client}: {user}, password {c.secret}{request}",
                location=where,
                attributes=(
                    ("protocol", c.protocol),
                    ("times_seen", str(c.count)),
                    *_seen(c.first_seen, c.last_seen),
                ),
            ),
        ),
        references=(Reference(kind=RefKind.CWE, id="CWE-319"), Reference(kind=RefKind.ATTACK, id="T1040")),
        observed_at=_when(c.first_seen, at),
        producer=PRODUCER,
        texts=(
            LocalText(
                lang="th",
                title=f"มีการส่งข้อมูลรับรองโดยไม่เข้ารหัสผ่าน {name_th}",
                description=(
                    f"{c.client} เข้าสู่ระบบ {c.server} ผ่าน {name_th} ด้วย{user_th} "
                    "รหัสผ่านถูกส่งผ่านเครือข่ายโดยไม่เข้ารหัส ผู้ใดที่อยู่บนเส้นทางเครือข่ายก็อ่านได้"
                ),
                remediation=(
                    "เปลี่ยนรหัสผ่านที่รั่วไหลทันที แล้วเปลี่ยนไปใช้โปรโตคอลที่เข้ารหัส "
                    "(SSH แทน telnet, SFTP/FTPS แทน FTP, HTTPS แทน HTTP)"
                ),
            ),
        ),
    )


def _flows(flows: list[Flow], profile: Profile, policy: FlowPolicy, at: datetime) -> list[Finding]:
    out = []
    for flow in flows:
        client_seg, server_seg = profile.segment_of(flow.client), profile.segment_of(flow.server)
        if client_seg is None or server_seg is None or flow.protocol not in ("tcp", "udp"):
            continue
        allowed, why = policy.check(client_seg.name, server_seg.name, flow.key)
        if allowed:
            continue
        into_ot = server_seg.kind in (SegmentKind.OT, SegmentKind.CCTV) or flow.service in ICS_PROTOCOLS
        out.append(
            Finding(
                rule_id=FLOW_ID,
                source=Source.PASSIVE,
                severity=Severity.HIGH if into_ot else Severity.MEDIUM,
                title=f"Traffic between segments that the flow policy does not allow ({flow.service})",
                asset=asset_at(profile, flow.server),
                description=(
                    f"{flow.client} (segment {client_seg.name}) talked to {flow.server} (segment "
                    f"{server_seg.name}) on {flow.key}: {why}."
                ),
                remediation=(
                    "Block the flow at the segment boundary, or, if it is needed, approve it as a conduit "
                    "in the flow policy with the ports it uses."
                ),
                evidence_key=f"{flow.key} from {flow.client}",
                evidence=(
                    Evidence(
                        kind="capture",
                        summary=f"{flow.packets} packets, {flow.bytes} bytes {flow.client} -> {flow.key}",
                        location=f"{flow.server}:{flow.port}/{flow.protocol}",
                        attributes=(
                            ("client_segment", client_seg.name),
                            ("server_segment", server_seg.name),
                            *_seen(flow.first_seen, flow.last_seen),
                        ),
                    ),
                ),
                observed_at=_when(flow.first_seen, at),
                producer=PRODUCER,
                texts=(
                    LocalText(
                        lang="th",
                        title=f"มีการรับส่งข้อมูลข้ามส่วนเครือข่ายที่นโยบายการรับส่งข้อมูลไม่อนุญาต ({flow.service})",
                        description=(
                            f"{flow.client} (ส่วนเครือข่าย {client_seg.name} ประเภท {client_seg.kind.value}) "
                            f"ติดต่อกับ {flow.server} (ส่วนเครือข่าย {server_seg.name} ประเภท "
                            f"{server_seg.kind.value}) ผ่าน {flow.key} โดยไม่มี conduit ใดอนุญาต "
                            + (
                                f"(ตรวจตาม {policy.source})"
                                if policy.conduits
                                else "(ตรวจตามแบบจำลองโซนเริ่มต้น)"
                            )
                        ),
                        remediation=(
                            "ปิดกั้นการรับส่งข้อมูลนี้ที่ขอบของส่วนเครือข่าย หรือหากจำเป็นต้องใช้ ให้อนุมัติเป็น conduit "
                            "ในนโยบายการรับส่งข้อมูล (flow policy) พร้อมระบุพอร์ตที่ใช้"
                        ),
                    ),
                ),
            )
        )
    return out


def _when(capture_time: float, fallback: datetime) -> datetime:
    """A finding is observed when the capture saw it, not when it was analysed (the analysis
    time stands in only for records without a timestamp)."""
    return datetime.fromtimestamp(capture_time, UTC) if capture_time > 0 else fallback


def _seen(first: float, last: float) -> tuple[tuple[str, str], ...]:
    if first <= 0:
        return ()
    return (
        ("first_seen", _when(first, datetime.min).isoformat(timespec="seconds")),
        ("last_seen", _when(last, datetime.min).isoformat(timespec="seconds")),
    )

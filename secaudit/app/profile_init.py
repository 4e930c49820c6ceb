"""A commented starter profile for a city's segments (``secaudit profile init``).

The text is ours, in English with a Thai line for each section, and every value it writes is one the
loader accepts; what only the city can know (the written authorization) is left empty when not given,
so the profile does not validate until a person fills it in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from secaudit.core.errors import UsageError
from secaudit.core.model import SegmentKind

KINDS = tuple(k.value for k in SegmentKind)


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    name: str
    cidrs: tuple[str, ...]
    kind: str


def parse_segment(text: str) -> SegmentSpec:
    """``NAME=CIDR[,CIDR...][:KIND]`` (kind: it, ot, cctv, dmz or mgmt; default it)."""
    name, sep, rest = text.partition("=")
    cidr_text, _, kind = rest.partition(":")
    kind = kind.strip().lower() or "it"
    cidrs = tuple(c.strip() for c in cidr_text.split(",") if c.strip())
    if not sep or not name.strip() or not cidrs:
        raise UsageError(
            f"bad --segment {text!r}", hint="write NAME=CIDR[,CIDR...][:KIND], e.g. signals=10.20.0.0/24:ot"
        )
    if kind not in KINDS:
        raise UsageError(
            f"unknown segment kind {kind!r} in --segment {text!r}", hint=f"use one of: {', '.join(KINDS)}"
        )
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as e:
            raise UsageError(
                f"bad network {cidr!r} in --segment {text!r}: {e}", hint="write a network, e.g. 10.20.0.0/24"
            ) from e
    return SegmentSpec(name.strip(), cidrs, kind)


_KIND_NOTES = {
    "it": "servers and workstations",
    "ot": "field devices: scanned with the gentle ot-safe profile only",
    "cctv": "cameras and video management",
    "dmz": "services reachable from the internet",
    "mgmt": "network management and jump hosts",
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def starter_profile(
    *,
    organisation: str,
    segments: Sequence[SegmentSpec],
    reference: str = "",
    approver: str = "",
    valid_from: date,
    valid_until: date | None = None,
    timezone: str = "UTC",
) -> str:
    """The YAML text of a starter profile (see the module doc)."""
    until = valid_until.isoformat() if valid_until else ""
    lines = [
        "# secaudit audit profile: what may be scanned, checked and hunted, under which authorization.",
        "# โปรไฟล์การตรวจของ secaudit: ขอบเขตการตรวจที่ได้รับอนุญาตให้สแกน ตรวจการตั้งค่า และค้นหาในบันทึก",
        "# Check it with: secaudit profile validate THIS-FILE   (nothing is scanned or written)",
        "version: 1",
        f"organisation: {_quote(organisation)}",
        f"timezone: {timezone}   # every time in the reports is shown in this zone",
        "",
        "# The written authorization that allows the audit. Scans outside its dates are refused.",
        "# หนังสืออนุญาตให้ตรวจ: การสแกนนอกช่วงวันที่นี้จะถูกปฏิเสธ",
        "authorization:",
        f"  reference: {_quote(reference)}   # the document's reference number",
        f"  approver: {_quote(approver)}     # who signed it",
        f"  valid_from: {valid_from.isoformat()}",
        f"  valid_until: {until}   # the last day it allows",
        "  # maintenance_windows:          # only inside a window may a segment use scan_profile: deep",
        "  #   - start: 2027-01-10T01:00:00+07:00",
        "  #     end: 2027-01-10T05:00:00+07:00",
        "",
        "# The networks the authorization covers. Anything else is never scanned.",
        "# ส่วนเครือข่ายที่อยู่ในขอบเขตการตรวจ นอกเหนือจากนี้จะไม่ถูกสแกน",
        "segments:",
    ]
    for seg in segments:
        lines += [
            f"  - name: {_quote(seg.name)}",
            f"    cidrs: [{', '.join(seg.cidrs)}]",
            f"    kind: {seg.kind}   # {_KIND_NOTES[seg.kind]}",
            f"    owner: {_quote(organisation)}   # the unit responsible for this segment",
            "    criticality: high   # low, medium, high, critical or public-safety-critical",
            "    # exclusions: [192.0.2.14/32]   # hosts never to be scanned (fragile devices)",
        ]
    lines += [
        "",
        "# Known hosts: names, roles and criticality make findings readable and rank them.",
        "# สินทรัพย์ที่รู้จัก: ชื่อ บทบาท และระดับความสำคัญ ใช้จัดลำดับความเสี่ยงของข้อตรวจพบ",
        "assets: []",
        "#  - name: cc-app-01",
        "#    address: 192.0.2.10",
        "#    role: Command-center application server",
        "#    criticality: high",
        "",
        "# Configuration baselines (secaudit baseline list shows the shipped ones).",
        "# ตรวจการตั้งค่าตามเกณฑ์การตั้งค่าความปลอดภัย (ดูรายการด้วย secaudit baseline list)",
        "baseline_targets: []",
        "#  - target: offline:snapshots/cc-app-01   # or file:PATH, local, ssh://user@host?key=PATH",
        "#    baselines: [debian12-server, openssh-server]",
        "#    asset: cc-app-01",
        "",
        "# Logs to hunt in with Sigma rules; paths are relative to this file.",
        "# แหล่งบันทึกที่จะค้นหาด้วยกฎ Sigma",
        "log_sources: []",
        "#  - name: cc-app-01-auth",
        "#    paths: [logs/cc-app-01/auth.log]",
        "#    asset: cc-app-01",
        "",
        "# detection:",
        "#   placeholders:                 # values for rules that name %placeholders%",
        "#     ot_engineering_workstations: [192.0.2.11]",
        "",
        "report:",
        "  languages: [en, th]",
        "  formats: [html, json, sarif, junit, csv, md]",
        "  output_dir: reports",
        "  fail_on: critical   # the audit exits 1 when a finding at or above this severity is found",
        "",
    ]
    return "\n".join(lines)

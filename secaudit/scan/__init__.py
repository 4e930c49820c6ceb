"""Authorized active scanning: nmap profiles, full-fidelity XML, exposure rules, the scan stage."""

from secaudit.scan.findings import asset_for, findings_for
from secaudit.scan.nmapxml import NmapRun, parse_nmap_xml, read_nmap_xml
from secaudit.scan.profiles import ALLOWED_SCRIPTS, PROFILES, ScanProfile, build_args, check_args, get_profile
from secaudit.scan.rules import ExposureRule, default_rules_dir, load_rule_file, load_rules
from secaudit.scan.runner import (
    NmapOutput,
    NmapRunner,
    ProcessNmapRunner,
    PythonNmapRunner,
    find_nmap,
    is_privileged,
)
from secaudit.scan.stage import ScanOptions, scan_segments

__all__ = [
    "ALLOWED_SCRIPTS",
    "PROFILES",
    "ExposureRule",
    "NmapOutput",
    "NmapRun",
    "NmapRunner",
    "ProcessNmapRunner",
    "PythonNmapRunner",
    "ScanOptions",
    "ScanProfile",
    "asset_for",
    "build_args",
    "check_args",
    "default_rules_dir",
    "find_nmap",
    "findings_for",
    "get_profile",
    "is_privileged",
    "load_rule_file",
    "load_rules",
    "parse_nmap_xml",
    "read_nmap_xml",
    "scan_segments",
]

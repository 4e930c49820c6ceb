"""Every Sigma v2.1 value modifier and value form: one matching and one non-matching event each,
through the fast engine and the reference matcher (which must agree)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secaudit.detect.engine import Engine

from .helpers import both, event, load_text, rule_text

RID = "11111111-1111-4111-8111-111111111111"

CASES = [
    # (name, detection, matching fields, non-matching fields)
    (
        "plain equality, case-insensitive",
        "sel:\n  Image: 'C:\\Windows\\cmd.exe'\ncondition: sel",
        {"Image": "c:\\windows\\CMD.EXE"},
        {"Image": "c:\\windows\\cmd.exe.bak"},
    ),
    (
        "number matches int and string",
        "sel:\n  EventID: 4688\ncondition: sel",
        {"EventID": "4688"},
        {"EventID": 46880},
    ),
    ("number matches int", "sel:\n  EventID: 4688\ncondition: sel", {"EventID": 4688}, {"EventID": 4689}),
    (
        "string number matches int",
        "sel:\n  EventID: '4688'\ncondition: sel",
        {"EventID": 4688},
        {"EventID": "x"},
    ),
    (
        "contains",
        "sel:\n  CommandLine|contains: ' -enc '\ncondition: sel",
        {"CommandLine": "powershell -ENC abc"},
        {"CommandLine": "powershell -encoded"},
    ),
    (
        "startswith",
        "sel:\n  CommandLine|startswith: 'net '\ncondition: sel",
        {"CommandLine": "NET user x"},
        {"CommandLine": " net user"},
    ),
    (
        "endswith",
        "sel:\n  Image|endswith: '\\whoami.exe'\ncondition: sel",
        {"Image": "C:\\x\\WhoAmI.exe"},
        {"Image": "C:\\x\\whoami.exe.txt"},
    ),
    (
        "list is OR",
        "sel:\n  Image|endswith:\n    - '\\a.exe'\n    - '\\b.exe'\ncondition: sel",
        {"Image": "c:\\b.exe"},
        {"Image": "c:\\c.exe"},
    ),
    (
        "all makes AND",
        "sel:\n  CommandLine|contains|all:\n    - 'vssadmin'\n    - 'delete'\ncondition: sel",
        {"CommandLine": "vssadmin.exe Delete Shadows"},
        {"CommandLine": "vssadmin list shadows"},
    ),
    (
        "wildcard * (after an escaped backslash)",
        "sel:\n  Image: 'C:\\Users\\\\*\\AppData\\\\*.exe'\ncondition: sel",
        {"Image": "C:\\Users\\bob\\AppData\\Roaming\\x.exe"},
        {"Image": "C:\\Users\\bob\\Desktop\\x.exe"},
    ),
    (
        "wildcard ?",
        "sel:\n  Image: 'C:\\tmp\\\\?.exe'\ncondition: sel",
        {"Image": "c:\\tmp\\a.exe"},
        {"Image": "c:\\tmp\\ab.exe"},
    ),
    (
        "escaped wildcard is literal",
        "sel:\n  CommandLine: 'echo \\*'\ncondition: sel",
        {"CommandLine": "echo *"},
        {"CommandLine": "echo x"},
    ),
    (
        "escaped question mark is literal",
        "sel:\n  CommandLine|endswith: 'what\\?'\ncondition: sel",
        {"CommandLine": "so what?"},
        {"CommandLine": "so whatx"},
    ),
    (
        "backslash before a plain character stays",
        "sel:\n  Image: 'C:\\Temp\\x.exe'\ncondition: sel",
        {"Image": "C:\\Temp\\x.exe"},
        {"Image": "C:Tempx.exe"},
    ),
    (
        "re (case-sensitive)",
        "sel:\n  CommandLine|re: 'Invoke-[A-Z]\\w+'\ncondition: sel",
        {"CommandLine": "x Invoke-Mimikatz"},
        {"CommandLine": "x invoke-mimikatz"},
    ),
    (
        "re with i flag",
        "sel:\n  CommandLine|re|i: 'invoke-mimi'\ncondition: sel",
        {"CommandLine": "INVOKE-MIMIKATZ"},
        {"CommandLine": "invoke-mim"},
    ),
    (
        "re with m flag",
        "sel:\n  CommandLine|re|m: '^second$'\ncondition: sel",
        {"CommandLine": "first\nsecond\nthird"},
        {"CommandLine": "first second"},
    ),
    (
        "re with s flag",
        "sel:\n  CommandLine|re|s: 'a.b'\ncondition: sel",
        {"CommandLine": "a\nb"},
        {"CommandLine": "a\n\nb"},
    ),
    (
        "re lookahead (bounded Python re)",
        "sel:\n  CommandLine|re: 'cmd(?=\\.exe)'\ncondition: sel",
        {"CommandLine": "cmd.exe /c"},
        {"CommandLine": "cmd /c"},
    ),
    (
        "cidr v4",
        "sel:\n  DestinationIp|cidr: '10.10.0.0/16'\ncondition: sel",
        {"DestinationIp": "10.10.200.7"},
        {"DestinationIp": "10.11.0.1"},
    ),
    (
        "cidr v6",
        "sel:\n  DestinationIp|cidr: 'fd00:1::/32'\ncondition: sel",
        {"DestinationIp": "fd00:1:ffff::9"},
        {"DestinationIp": "fd00:2::9"},
    ),
    (
        "cidr list",
        "sel:\n  DestinationIp|cidr:\n    - '127.0.0.0/8'\n    - '::1/128'\ncondition: sel",
        {"DestinationIp": "::1"},
        {"DestinationIp": "not an address"},
    ),
    (
        "base64",
        "sel:\n  CommandLine|base64: 'secret'\ncondition: sel",
        {"CommandLine": base64.b64encode(b"secret").decode()},
        {"CommandLine": "secret"},
    ),
    (
        "base64offset|contains",
        "sel:\n  CommandLine|base64offset|contains: 'http://'\ncondition: sel",
        {"CommandLine": "x " + base64.b64encode(b"zz http://evil").decode()},
        {"CommandLine": "http://"},
    ),
    (
        "wide|base64offset|contains",
        "sel:\n  CommandLine|wide|base64offset|contains: 'ping'\ncondition: sel",
        {"CommandLine": "-e " + base64.b64encode("x ping".encode("utf-16-le")).decode()},
        {"CommandLine": "-e " + base64.b64encode(b"x ping").decode()},
    ),
    (
        "utf16be|base64offset|contains",
        "sel:\n  CommandLine|utf16be|base64offset|contains: 'ping'\ncondition: sel",
        {"CommandLine": base64.b64encode("ping".encode("utf-16-be")).decode()},
        {"CommandLine": base64.b64encode("ping".encode("utf-16-le")).decode()},
    ),
    # utf16 as pySigma 1.5 defines it: a byte-order mark (written EF BB BF), then UTF-16LE
    (
        "utf16|base64offset|contains",
        "sel:\n  CommandLine|utf16|base64offset|contains: 'ping'\ncondition: sel",
        {"CommandLine": base64.b64encode(b"\xef\xbb\xbf" + "ping".encode("utf-16-le")).decode()},
        {"CommandLine": base64.b64encode(b"ping").decode()},
    ),
    (
        "windash",
        "sel:\n  CommandLine|windash|contains: ' -exec '\ncondition: sel",
        {"CommandLine": "x /exec bypass"},
        {"CommandLine": "x exec bypass"},
    ),
    (
        "windash en dash",
        "sel:\n  CommandLine|windash|contains: ' -exec '\ncondition: sel",
        {"CommandLine": "x \u2013exec bypass"},
        {"CommandLine": "x +exec bypass"},
    ),
    ("exists true", "sel:\n  ParentImage|exists: true\ncondition: sel", {"ParentImage": ""}, {"Image": "x"}),
    (
        "exists false",
        "sel:\n  ParentImage|exists: false\ncondition: sel",
        {"Image": "x"},
        {"ParentImage": None},
    ),
    ("null", "sel:\n  OriginalFileName: null\ncondition: sel", {"Image": "x"}, {"OriginalFileName": ""}),
    (
        "null value",
        "sel:\n  OriginalFileName: null\ncondition: sel",
        {"OriginalFileName": None},
        {"OriginalFileName": "x"},
    ),
    (
        "empty string",
        "sel:\n  OriginalFileName: ''\ncondition: sel",
        {"OriginalFileName": ""},
        {"Image": "x"},
    ),
    ("gt", "sel:\n  Size|gt: 100\ncondition: sel", {"Size": 101}, {"Size": 100}),
    ("gte", "sel:\n  Size|gte: 100\ncondition: sel", {"Size": "100"}, {"Size": 99.5}),
    ("lt", "sel:\n  Size|lt: 100\ncondition: sel", {"Size": 99}, {"Size": "abc"}),
    ("lte", "sel:\n  Size|lte: 100\ncondition: sel", {"Size": 100.0}, {"Size": 101}),
    ("neq", "sel:\n  Size|neq: 100\ncondition: sel", {"Size": "101"}, {"Size": "100"}),
    (
        "cased",
        "sel:\n  CommandLine|cased|contains: 'AdFind'\ncondition: sel",
        {"CommandLine": "x AdFind.exe"},
        {"CommandLine": "x adfind.exe"},
    ),
    (
        "fieldref",
        "sel:\n  Image|fieldref: ParentImage\ncondition: sel",
        {"Image": "C:\\a.exe", "ParentImage": "c:\\A.exe"},
        {"Image": "C:\\a.exe", "ParentImage": "C:\\b.exe"},
    ),
    (
        "fieldref endswith",
        "sel:\n  CommandLine|fieldref|endswith: Image\ncondition: sel",
        {"CommandLine": "run C:\\a.exe", "Image": "C:\\a.exe"},
        {"CommandLine": "C:\\a.exe run", "Image": "C:\\a.exe"},
    ),
    (
        "hour",
        "sel:\n  UtcTime|hour: 9\ncondition: sel",
        {"UtcTime": "2026-03-14 09:26:53.000"},
        {"UtcTime": "2026-03-14 10:26:53.000"},
    ),
    (
        "minute",
        "sel:\n  UtcTime|minute: 26\ncondition: sel",
        {"UtcTime": "2026-03-14T09:26:53Z"},
        {"UtcTime": "2026-03-14T09:27:53Z"},
    ),
    ("day", "sel:\n  UtcTime|day: 14\ncondition: sel", {"UtcTime": "2026-03-14"}, {"UtcTime": "2026-03-15"}),
    (
        "week",
        "sel:\n  UtcTime|week: 11\ncondition: sel",
        {"UtcTime": "2026-03-14"},
        {"UtcTime": "2026-03-24"},
    ),
    (
        "month",
        "sel:\n  UtcTime|month: 3\ncondition: sel",
        {"UtcTime": "2026-03-14"},
        {"UtcTime": "2026-04-14"},
    ),
    (
        "year",
        "sel:\n  UtcTime|year: 2026\ncondition: sel",
        {"UtcTime": "2026-03-14"},
        {"UtcTime": "2025-03-14"},
    ),
    ("time part of the event timestamp", "sel:\n  Timestamp|hour: 9\ncondition: sel", {"Image": "x"}, None),
    (
        "list value in the event",
        "sel:\n  Tags|contains: 'admin'\ncondition: sel",
        {"Tags": ["users", "Domain Admins"]},
        {"Tags": ["users"]},
    ),
    (
        "keyword (full text)",
        "keywords:\n  - 'mimikatz'\ncondition: keywords",
        {"Image": "x", "CommandLine": "run MimiKatz now"},
        {"CommandLine": "mimi katz"},
    ),
    (
        "keyword with wildcard",
        "keywords:\n  - 'sekurlsa::*pass*'\ncondition: keywords",
        {"CommandLine": "x sekurlsa::logonpasswords"},
        {"CommandLine": "sekurlsa::tickets"},
    ),
    ("keyword number", "keywords:\n  - 4625\ncondition: keywords", {"EventID": 4625}, {"EventID": 4624}),
    (
        "field name with a space (Defender)",
        "sel:\n  ThreatName|contains: 'EICAR'\ncondition: sel",
        {"Threat Name": "Virus:DOS/EICAR_Test_File"},
        {"Threat Name": "Trojan:Win32/X"},
    ),
]


@pytest.mark.parametrize(("name", "detection", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_modifier(tmp_path: Path, name: str, detection: str, good: dict, bad: dict | None) -> None:
    ruleset = load_text(tmp_path, rule_text(detection))
    assert [p for p in ruleset.problems if not p.reason.startswith("loaded;")] == []
    events = [event(good, record=1)] + ([event(bad, record=2)] if bad is not None else [])
    assert both(ruleset, events) == {(RID, 1)}


def test_bounded_regex_is_listed(tmp_path: Path) -> None:
    ruleset = load_text(tmp_path, rule_text("sel:\n  CommandLine|re: '(a)\\1'\ncondition: sel"))
    assert [p.reason.split(";")[0] for p in ruleset.problems] == ["loaded"]
    assert "bounded backtracking engine" in ruleset.problems[0].reason
    assert both(ruleset, [event({"CommandLine": "xaa"}), event({"CommandLine": "xab"}, record=2)]) == {
        (RID, 1)
    }


def test_time_part_uses_event_timestamp_when_field_absent(tmp_path: Path) -> None:
    ruleset = load_text(tmp_path, rule_text("sel:\n  Timestamp|hour: 10\ncondition: sel"))
    late = event({"Image": "x"})._replace(timestamp=datetime(2026, 1, 1, 10, 5, tzinfo=UTC))
    assert both(ruleset, [event({"Image": "x"}, record=1), late._replace(record=2)]) == {(RID, 2)}


def test_expand_uses_configured_placeholders(tmp_path: Path) -> None:
    text = rule_text("sel:\n  User|expand: '%admins%'\ncondition: sel")
    ruleset = load_text(tmp_path, text, placeholders={"admins": ["root", "ops-*"]})
    events = [
        event({"User": "ROOT"}),
        event({"User": "ops-jane"}, record=2),
        event({"User": "jane"}, record=3),
    ]
    assert both(ruleset, events) == {(RID, 1), (RID, 2)}


def test_expand_without_configuration_is_unsupported(tmp_path: Path) -> None:
    ruleset = load_text(tmp_path, rule_text("sel:\n  User|expand: '%admins%'\ncondition: sel"))
    assert ruleset.rules == ()
    [problem] = ruleset.problems
    assert problem.rule_id == RID
    assert problem.location.endswith("rule.yml:1")
    assert "placeholder %admins% has no values" in problem.reason


def test_matched_fields_are_the_satisfied_selections_fields(tmp_path: Path) -> None:
    detection = """
    sel_img:
      Image|endswith: '\\cmd.exe'
    sel_cli:
      CommandLine|contains: 'whoami'
    sel_other:
      ParentImage|endswith: '\\nothing.exe'
    filter:
      User: 'SYSTEM'
    condition: sel_img and 1 of sel_cli or sel_other and not filter
    """
    ruleset = load_text(tmp_path, rule_text(detection))
    fields = {"Image": "C:\\cmd.exe", "CommandLine": "whoami /all", "ParentImage": "x.exe", "User": "bob"}
    [hit] = Engine(ruleset).match([event(fields)])
    assert hit.matched_fields == {"Image": "C:\\cmd.exe", "CommandLine": "whoami /all"}

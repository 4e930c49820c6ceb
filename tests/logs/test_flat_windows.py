"""The compiled flat Windows event step (secaudit/logs/_fast.c: flat_windows_event) against
jsonlogs.flat_event, the Python it stands in for: the same event whenever it gives one, and the
fields untouched whenever it leaves the event to Python."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import wincorpus
from secaudit.core.events import LogEvent, LogKind
from secaudit.logs.context import Context
from secaudit.logs.jsonlogs import flat_event
from secaudit.logs.reader import read_events
from secaudit.logs.sniff import sniff
from secaudit.logs.stats import ReadStats
from secaudit.logs.windows import flat_windows_step, security_aliases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KIND = LogKind("windows", frozenset({"process_creation"}), frozenset({"sysmon"}))


def _context(kind: LogKind | None = None) -> Context:
    return Context("t.jsonl", ReadStats(), kind, None, name="flat-json")


def _same(fast: LogEvent, slow: LogEvent) -> None:
    assert type(fast) is type(slow) is LogEvent
    assert list(fast.fields.items()) == list(slow.fields.items())  # values, names and their order
    assert (fast.kind, fast.source, fast.record, fast.text) == (
        slow.kind,
        slow.source,
        slow.record,
        slow.text,
    )
    assert fast.timestamp == slow.timestamp
    assert fast.timestamp is None or slow.timestamp is None or fast.timestamp.tzinfo is slow.timestamp.tzinfo


def _compare(obj: dict[str, Any], line: bytes, record: int, kind: LogKind | None = None) -> bool:
    """True when the compiled step gave the event (checked against flat_event), False when it left
    it to Python (checked untouched); flat_event runs on a copy either way, as the reader runs it."""
    security_aliases()
    step, waiting = flat_windows_step("t.jsonl", kind)
    assert not waiting
    before = copy.deepcopy(obj)
    slow = flat_event(copy.deepcopy(obj), _context(kind), record, line)
    fast = step(obj, line, record)
    if fast is None:
        assert list(obj.items()) == list(before.items())
        return False
    _same(fast, slow)
    return True


TIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat(timespec="microseconds") + "Z"),
    st.datetimes().map(lambda d: d.isoformat(timespec="seconds") + "Z"),
    st.builds(
        lambda d, digits: d.strftime("%Y-%m-%dT%H:%M:%S") + ("." + digits if digits else "") + "Z",
        st.datetimes(),
        st.text("0123456789", max_size=9),
    ),
    st.sampled_from(
        [
            "2026-11-13T13:46:20.1234567Z",
            "2026-11-13T13:46:20.9999999Z",
            "2026-11-13T24:00:00Z",
            "2026-02-30T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "2026-11-13T13:46:60Z",
            "2026-11-13T13:46:20.Z",
            "2026-11-13T13:46:20,5Z",
            "2026-11-13 13:46:20.5Z",
            " 2026-11-13T13:46:20Z ",
            "2026-11-13T13:46:20+07:00",
            "2026-11-13T13:46:20",
            "2026-11-13T13:46:20.5 UTC",
            "2026-11-13T13:4a:20Z",
            "2026-11-13T13:46:20.1a2Z",
            "2026-11-13T13:46:20\u0660Z",
            "",
        ]
    ),
)
CHANNELS = st.sampled_from(
    [
        "Security",
        "SECURITY",
        "security",
        "Securit\u00ff",
        "Microsoft-Windows-Sysmon/Operational",
        "System",
        "Sec",
    ]
)
PROVIDERS = st.sampled_from(["Microsoft-Windows-Security-Auditing", "Microsoft-Windows-Sysmon", "Other"])
VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(-3, 5000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(0, 3), max_size=2),
    st.fixed_dictionaries({"a": st.integers(0, 3)}),
)
# names the Security aliases copy (SubjectUserName...), names flat_event reads, and others
NAMES = st.sampled_from(
    [
        "SubjectUserName",
        "SubjectLogonId",
        "LogonId",  # an alias already there keeps its value
        "Image",
        "NewProcessName",
        "ParentProcessName",
        "ProcessName",
        "ObjectName",
        "OperationType",
        "Data",
        "CommandLine",
    ]
)


@st.composite
def flat_events(draw: st.DrawFn) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    optional = {
        "Provider_Name": PROVIDERS,
        "ProviderName": PROVIDERS,
        "EventID": st.one_of(
            st.sampled_from([1, 4688, 4624, 4657, 4104, 7045]), st.just("4688"), st.just(True), st.just(2**70)
        ),
        "Channel": CHANNELS,
        "TimeCreated": st.one_of(TIMES, st.none(), st.integers(0, 2**31)),
        "timestamp": TIMES,
        "Computer": st.text(max_size=5),
        "Hostname": st.text(max_size=5),
        "EventRecordID": st.integers(0, 10**6),
        "RecordNumber": st.integers(0, 10**6),
        "MESSAGE": st.text(max_size=5),
        "__REALTIME_TIMESTAMP": st.just("1700000000000000"),
    }
    for name, values in optional.items():
        if draw(st.integers(0, 9)) < (8 if name in ("EventID", "Channel", "TimeCreated", "Computer") else 2):
            obj[name] = draw(values)
    for _ in range(draw(st.integers(0, 5))):
        obj[draw(NAMES)] = draw(VALUES)
    return dict(draw(st.permutations(list(obj.items()))))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_events(), st.booleans())
def test_the_compiled_step_gives_flat_events_event_or_leaves_it(obj: dict[str, Any], override: bool) -> None:
    line = json.dumps(obj).encode()
    # a first pass through flat_event makes the kind known, as the reader's first event of a kind does
    flat_event(copy.deepcopy(obj), _context(), 1, line)
    _compare(obj, line, 7, KIND if override else None)


def test_the_usual_shapes_take_the_compiled_step() -> None:
    """Sysmon, Security (aliases copied in their table's order) and a float value (no text kept)."""
    base = {
        "Provider_Name": "Microsoft-Windows-Security-Auditing",
        "EventID": 4688,
        "TimeCreated": "2026-11-13T13:46:20.1234567Z",
        "EventRecordID": 9,
        "Channel": "Security",
        "Computer": "cc-ws-1",
        "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
        "SubjectUserName": "op14",
    }
    sysmon = {
        **base,
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Channel": "Microsoft-Windows-Sysmon/Operational",
    }
    kept = {**base, "Image": "C:\\x\\own.exe", "LogonId": "0x1", "SubjectLogonId": "0x3e7"}
    for obj in (base, {**base, "Channel": "SECURITY"}, kept, sysmon, {**sysmon, "Version": 2.5}):
        line = orjson.dumps(obj)
        flat_event(dict(obj), _context(), 1, line)
        assert _compare(dict(obj), line, 3), obj
    event = flat_windows_step("t.jsonl", None)[0](dict(base), orjson.dumps(base), 3)
    assert event is not None and event.fields["Image"] == base["NewProcessName"]  # a Sigma alias
    assert event.timestamp is not None and event.timestamp.microsecond == 123456
    event = flat_windows_step("t.jsonl", None)[0](dict(kept), orjson.dumps(kept), 3)
    assert event is not None and event.fields["Image"] == "C:\\x\\own.exe"  # an alias there stays
    # left to Python: event 4657 (its registry aliases), an EventID as text, no Computer, a list
    for other in (
        {**base, "EventID": 4657},
        {**base, "EventID": "4688"},
        {k: v for k, v in base.items() if k != "Computer"},
        {**base, "Data": ["a", "b"]},
    ):
        assert not _compare(other, orjson.dumps(other), 3), other


def test_every_event_of_the_flat_fixtures_and_the_realistic_corpus_reads_the_same_both_ways(
    tmp_path: Path,
) -> None:
    """All flat JSON lines the tests carry, and 3,000 events of the benchmark's realistic Windows
    corpus (Security, Sysmon, PowerShell, System; matching and benign): read by the reader (compiled
    step first) and by flat_event alone, event for event."""
    security_aliases()
    corpus = tmp_path / "realistic.jsonl"
    wincorpus.write(corpus, 3000)
    files = [*sorted(p for p in FIXTURES.rglob("*.json*") if p.is_file()), corpus]
    compared = 0
    for path in files:
        with path.open("rb") as handle:
            lines = list(itertools.islice(handle, 5000))
        if sniff(b"".join(lines[:50])) != "flat-json":
            continue
        read = list(read_events([str(path)], stats=ReadStats()))
        ctx = Context(str(path), ReadStats(), None, None, name="flat-json")
        by_record = {e.record: e for e in read}
        for number, line in enumerate(lines, start=1):
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if type(obj) is dict and number in by_record:
                _same(by_record[number], flat_event(obj, ctx, number, line))
                compared += 1
    assert compared > 3000

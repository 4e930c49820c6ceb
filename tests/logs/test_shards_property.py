"""Property: for any content and any number of parts, reading every shard gives read_events' events and counts."""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secaudit.logs import ReadStats, plan_shards, read_events, read_shard
from secaudit.logs import reader as reader_module

JSON_LINE = st.builds(
    lambda n, text: orjson.dumps({"EventID": 1, "Channel": "Security", "n": n, "text": text}) + b"\n",
    st.integers(0, 10**6),
    st.text(max_size=40),
)
BROKEN = st.sampled_from([b"{broken\n", b"\n", b"   \n", b'{"a": "\xff\xfe"}\n', b"[1]\n", b"\x00\x01\n"])
SYSLOG = st.builds(
    lambda d, msg: f"Nov {d:2d} 03:15:40 host sshd[42]: {msg}\n".encode(),
    st.integers(1, 28),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
)


def _compare(data: bytes, parts: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.log"
        path.write_bytes(data)
        direct = ReadStats()
        expected = [(e.record, e.fields, e.kind) for e in read_events([str(path)], stats=direct)]
        saved = reader_module.MIN_SHARD_BYTES
        reader_module.MIN_SHARD_BYTES = 1  # cut even tiny files into many pieces
        try:
            shards = plan_shards([str(path)], parts=parts)
        finally:
            reader_module.MIN_SHARD_BYTES = saved
        sharded = ReadStats()
        got = []
        for shard in shards:
            stats = ReadStats()
            got.extend((e.record, e.fields, e.kind) for e in read_shard(shard, stats=stats))
            sharded.merge(stats)
    assert got == expected
    assert (sharded.files, sharded.events, sharded.skipped, sharded.replaced, sharded.unreadable_files) == (
        direct.files,
        direct.events,
        direct.skipped,
        direct.replaced,
        direct.unreadable_files,
    )
    assert sharded.errors == direct.errors
    assert sharded.by_format == direct.by_format


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(JSON_LINE, JSON_LINE, BROKEN), min_size=1, max_size=60), st.integers(1, 9))
def test_json_lines_any_cut(lines, parts) -> None:
    _compare(b'{"EventID": 1, "Channel": "Security"}\n' + b"".join(lines), parts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(SYSLOG, SYSLOG, BROKEN), min_size=1, max_size=60), st.integers(1, 9))
def test_syslog_any_cut(lines, parts) -> None:
    _compare(b"Nov  2 03:15:40 host sshd[1]: first\n" + b"".join(lines), parts)


def _evtx_object(record: int, pretty: bool) -> bytes:
    event = {
        "Event": {
            "System": {
                "EventID": 1,
                "EventRecordID": record,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
            },
            "EventData": {"Image": f"C:\\t{record}.exe", "Nested": {"#text": "x"}},
        }
    }
    return orjson.dumps(event, option=orjson.OPT_INDENT_2 if pretty else 0) + b"\n"


EVTX_JSON = st.builds(_evtx_object, st.integers(1, 10**6), st.booleans())
EVTX_NOISE = st.sampled_from([b"Record 7\n", b"\n", b"{\n", b"}\n", b"garbage\n", b'{"Event": 1}\n'])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(EVTX_JSON, EVTX_JSON, EVTX_NOISE), min_size=1, max_size=30), st.integers(1, 9))
def test_evtx_json_any_cut(objects, parts) -> None:
    _compare(_evtx_object(1, True) + b"".join(objects), parts)

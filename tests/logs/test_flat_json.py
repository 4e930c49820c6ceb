"""Flat JSON of unknown origin: keys as fields, nested objects as dotted names, epoch times."""

from __future__ import annotations

from datetime import UTC, datetime

from secaudit.core.events import LogKind


def test_nested_objects_become_dotted_names_and_epoch_times_parse(read, tmp_path) -> None:
    path = tmp_path / "gateway.jsonl"
    path.write_text(
        '{"ts": 1793674800, "device": {"id": "iot-gw-17", "fw": {"version": "2.4.1"}}, "event": "login", "user": "maint"}\n'
        '{"timestamp": 1793674801500, "device": {"id": "iot-gw-18"}, "event": "reboot", "SourceName": "gw"}\n'
    )
    (login, reboot), stats = read(path)
    assert stats.by_format == {"flat-json": 1}
    assert login.fields == {
        "ts": 1793674800,
        "device.id": "iot-gw-17",
        "device.fw.version": "2.4.1",
        "event": "login",
        "user": "maint",
    }
    assert login.timestamp == datetime.fromtimestamp(1793674800, UTC)
    assert reboot.timestamp == datetime.fromtimestamp(1793674801.5, UTC)  # milliseconds
    assert "Provider_Name" not in reboot.fields  # not a Windows event: nothing added
    assert login.kind == reboot.kind == LogKind()


def test_an_event_keeps_its_line_only_when_every_value_is_text_of_that_line(read, tmp_path) -> None:
    lines = [
        b'{"EventID": 4688, "Channel": "Security", "CommandLine": "C:\\\\x\\\\A.exe", "Elevated": true, "P": null}\n',
        b'{"EventID": "4688", "Channel": "Security", "CommandLine": "b"}\n',  # "4688" holds 4688
        b'{"EventID": "4_688", "Channel": "Security", "CommandLine": "c"}\n',  # read as 4688: not in the line
        b'{"EventID": 4688, "Channel": "Security", "Ratio": 1e3}\n',  # 1e3 reads as "1000.0"
        b'{"EventID": 4688, "Channel": "Security", "Args": ["a", 1.5]}\n',
        b'{"ts": 1, "device": {"id": "gw"}}\n',
        b'{"event": "login", "user": "maint"}\n',
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(lines))
    events, stats = read(path)
    assert stats.events == len(lines)
    assert [e.text for e in events] == [lines[0], lines[1], None, None, None, None, lines[6]]
    # an alias added for Security events is a copy of a value the line holds
    assert events[0].fields["EventID"] == 4688

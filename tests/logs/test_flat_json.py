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

"""Syslog (RFC 3164, RFC 5424, rsyslog ISO) and Cisco IOS messages: fields, kinds, records, timestamps, years."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest

from secaudit.core.events import LogKind
from secaudit.logs.context import Context
from secaudit.logs.stats import ReadStats
from secaudit.logs.syslog import infer_year, parse_line

WRITTEN = datetime(2026, 11, 2, 12, 0, tzinfo=UTC).timestamp()  # the fixtures' pretend modification time


@pytest.fixture
def auth_log(fixtures, tmp_path):
    path = tmp_path / "auth.log"
    shutil.copy(fixtures / "linux" / "auth.log", path)
    os.utime(path, (WRITTEN, WRITTEN))
    return path


def test_rfc3164_auth_log(read, auth_log) -> None:
    events, stats = read(auth_log)
    assert stats.by_format == {"syslog": 1} and stats.skipped == 0
    failed, accepted, sudo, useradd, cron, kernel, su, systemd = events
    assert failed.record == 1
    assert failed.timestamp == datetime(2026, 11, 2, 3, 15, 40, tzinfo=UTC)
    assert failed.kind == LogKind("linux", frozenset(), frozenset({"syslog", "sshd", "auth"}))
    assert failed.fields == {
        "timestamp": "Nov  2 03:15:40",
        "hostname": "pkt-cc-jump01",
        "Computer": "pkt-cc-jump01",
        "program": "sshd",
        "pid": 2211,
        "message": "Failed password for invalid user admin from 127.0.0.66 port 51514 ssh2",
        # sshd's client and outcome, so correlations can group failures per source address
        "outcome": "failure",
        "auth_method": "password",
        "user": "admin",
        "src_ip": "127.0.0.66",
        "src_port": 51514,
    }
    assert accepted.record == 2 and accepted.fields["message"].startswith("Accepted password for operator7")
    assert (accepted.fields["outcome"], accepted.fields["user"]) == ("success", "operator7")
    assert "src_ip" not in sudo.fields
    assert sudo.kind.services == {"syslog", "sudo", "auth"}
    assert "pid" not in sudo.fields
    assert sudo.fields["message"].startswith("operator7 : TTY=pts/0 ;")
    assert useradd.kind.services == {"syslog", "useradd", "auth"}
    assert "UID=0, GID=0," in useradd.fields["message"]
    assert cron.fields["program"] == "CRON" and cron.kind.services == {"syslog", "cron"}
    assert kernel.kind.services == {"syslog", "kernel"} and kernel.fields["message"].startswith(
        "[12345.678901]"
    )
    assert su.kind.services == {"syslog", "su", "auth"}
    # A December line in a file written in November belongs to the year before.
    assert systemd.timestamp == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert systemd.kind.services == {"syslog", "systemd"}


def test_rfc5424_with_structured_data_and_iso_file_format(read, fixtures) -> None:
    events, stats = read(fixtures / "linux" / "rfc5424.log")
    assert stats.by_format == {"syslog": 1} and stats.skipped == 0
    nginx, sshd, sudo = events
    assert nginx.timestamp == datetime(2026, 11, 1, 20, 20, 0, 250000, tzinfo=UTC)
    assert nginx.fields["facility"] == 4 and nginx.fields["severity"] == 2
    assert (
        nginx.fields["program"] == "nginx"
        and nginx.fields["pid"] == 812
        and nginx.fields["msgid"] == "ACCESS"
    )
    assert nginx.fields["origin.ip"] == "127.0.0.10"
    assert nginx.fields["meta.note"] == 'a "quoted" ] value'
    assert nginx.fields["message"] == "portal restarted by operator7"  # BOM removed
    assert "pid" not in sshd.fields and "msgid" not in sshd.fields
    assert sshd.kind.services == {"syslog", "sshd", "auth"}
    assert sshd.timestamp == datetime(2026, 11, 2, 3, 21, tzinfo=UTC)
    assert sudo.record == 3
    assert sudo.timestamp == datetime(2026, 11, 1, 20, 22, 0, 123456, tzinfo=UTC)
    assert sudo.fields["hostname"] == "pkt-cc-data01"
    assert sudo.fields["message"].startswith("pam_unix(sudo:session): session opened for user root")


def test_cisco_messages_get_product_cisco_with_parsed_fields(read, fixtures) -> None:
    events, stats = read(fixtures / "network" / "cisco.log")
    assert stats.by_format == {"syslog": 1} and stats.skipped == 0
    success, failed, command, config, bgp = events
    aaa = LogKind("cisco", frozenset(), frozenset({"aaa"}))
    assert success.kind == aaa
    assert success.fields["facility"] == "SEC_LOGIN"
    assert success.fields["severity"] == 5
    assert success.fields["mnemonic"] == "LOGIN_SUCCESS"
    assert success.fields["user"] == "netadmin"
    assert success.fields["src_ip"] == "127.20.9.77"
    assert success.fields["local_port"] == 22
    assert success.fields["hostname"] == "127.20.6.1"
    assert success.fields["sequence"] == 2231 and "program" not in success.fields
    assert success.fields["message"].startswith("%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success")
    assert failed.fields["reason"] == "Login Authentication Failed" and failed.fields["user"] == "admin"
    # No syslog header: the device's own clock and sequence number.
    assert command.kind == aaa
    assert command.fields["user"] == "netadmin"
    assert command.fields["command"] == "no logging host 127.20.6.20"
    assert command.fields["sequence"] == 2233 and command.fields["hostname"] == "127.20.6.1"
    assert command.timestamp is not None and (command.timestamp.month, command.timestamp.microsecond) == (
        11,
        100000,
    )
    assert config.fields["user"] == "netadmin" and config.fields["src_ip"] == "127.20.9.77"
    assert bgp.kind == LogKind("cisco", frozenset(), frozenset())
    assert bgp.fields["message"].startswith("%TCP-6-BADAUTH: Invalid MD5 digest")
    assert bgp.fields["src_ip"] == "127.20.6.2"


def test_sigmahq_cisco_regression_sample_reads_as_cisco_aaa(read, regression) -> None:
    (raw,) = (regression / "rules" / "cisco" / "aaa" / "cisco_cli_dot1x_disabled").glob("*.raw")
    (event,), stats = read(raw)
    assert stats.by_format == {"syslog": 1}
    assert event.kind.covers("cisco", None, "aaa")
    assert event.fields["command"] == "no access-session port-control"
    assert "no access-session port-control" in event.fields["message"]


@pytest.mark.parametrize(
    ("month", "day", "reference", "year"),
    [
        (11, 2, datetime(2026, 11, 2, 12, tzinfo=UTC), 2026),
        (11, 3, datetime(2026, 11, 2, 12, tzinfo=UTC), 2026),  # within a day after: clock skew, same year
        (12, 31, datetime(2026, 1, 1, 0, 5, tzinfo=UTC), 2025),  # the file was written in the new year
        (2, 29, datetime(2025, 3, 1, tzinfo=UTC), 2024),  # no 29 February in 2025
    ],
)
def test_rfc3164_year_inference(month, day, reference, year) -> None:
    stamp = infer_year(month, day, (1, 2, 3, 0), reference)
    assert stamp is not None and stamp.year == year


def test_non_syslog_line_is_skipped_and_counted() -> None:
    stats = ReadStats()
    ctx = Context("x.log", stats, reference=datetime(2026, 11, 2, tzinfo=UTC))
    assert parse_line("this is not syslog at all", ctx, 7) is None


def test_sysmon_for_linux_xml_in_syslog(read, fixtures) -> None:
    events, stats = read(fixtures / "linux" / "sysmon-linux.log")
    assert stats.by_format == {"syslog": 1} and stats.skipped == 0
    curl, connect, broken = events
    assert curl.kind == LogKind("linux", frozenset({"process_creation"}), frozenset({"sysmon"}))
    assert curl.kind.covers("linux", "process_creation", None)
    assert curl.record == 1
    assert curl.timestamp == datetime(2026, 11, 2, 3, 40, 0, 123456, tzinfo=UTC)
    assert curl.fields["Image"] == "/usr/bin/curl"
    assert curl.fields["CommandLine"] == "curl -s http://127.0.0.1/stage.sh"
    assert curl.fields["ParentImage"] == "/usr/bin/bash" and curl.fields["User"] == "root"
    assert curl.fields["EventID"] == 1 and curl.fields["EventRecordID"] == 5101
    assert curl.fields["Provider_Name"] == "Linux-Sysmon" and curl.fields["Computer"] == "pkt-cc-jump01"
    assert connect.kind.categories == {"network_connection"}
    assert connect.fields["DestinationPort"] == "80"
    # Cut XML: kept as a plain syslog message, the problem noted.
    assert broken.kind == LogKind("linux", frozenset(), frozenset({"syslog"}))
    assert broken.fields["message"].startswith("<Event><System>")
    assert stats.errors[0][0] == f"{fixtures / 'linux' / 'sysmon-linux.log'}:3"
    assert stats.errors[0][1].startswith("Sysmon for Linux XML unreadable")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Invalid user oracle from 127.0.0.9 port 40022",
            {"user": "oracle", "src_ip": "127.0.0.9", "src_port": 40022},
        ),
        (
            "Connection closed by authenticating user root 127.0.0.9 port 40023 [preauth]",
            {},
        ),
        ("Disconnected from user operator7 ::1 port 40024", {}),
        (
            "Received disconnect from 127.0.0.9 port 40025:11: Bye Bye [preauth]",
            {"src_ip": "127.0.0.9", "src_port": 40025},
        ),
        (
            "Failed publickey for git from ::1 port 40026 ssh2: ED25519 SHA256:x",
            {"src_ip": "::1", "outcome": "failure"},
        ),
        ("Server listening on 0.0.0.0 port 22.", {}),
    ],
)
def test_sshd_client_fields(message: str, expected: dict[str, object]) -> None:
    stats = ReadStats()
    ctx = Context(source="auth.log", stats=stats, reference=datetime(2026, 11, 21, tzinfo=UTC))
    event = parse_line(f"Nov 20 02:30:10 jump-01 sshd[2211]: {message}", ctx, 1)
    assert event is not None
    got = {k: event.fields[k] for k in ("user", "src_ip", "src_port", "outcome") if k in event.fields}
    assert {k: got.get(k) for k in expected} == expected
    if not expected:
        assert "src_ip" not in event.fields

"""auditd: records joined per serial, hex values decoded, ENRICHED fields, EXECVE as process_creation."""

from __future__ import annotations

from datetime import UTC, datetime

from secaudit.core.events import LogKind


def test_multi_record_execve_event(read, fixtures) -> None:
    events, stats = read(fixtures / "linux" / "audit.log")
    assert stats.by_format == {"auditd": 1} and stats.skipped == 0
    execve, add_user, memfd = events
    assert execve.record == 1
    assert execve.timestamp == datetime.fromtimestamp(1793676905.123, UTC)
    assert execve.kind == LogKind("linux", frozenset({"process_creation"}), frozenset({"auditd"}))
    fields = execve.fields
    assert fields["type"] == ["SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"]
    assert fields["syscall"] == 59 and fields["key"] == "user_mod" and fields["comm"] == "useradd"
    # EXECVE arguments replace SYSCALL's raw argument words; hex-encoded ones are decoded.
    assert [fields[f"a{i}"] for i in range(6)] == ["useradd", "-o", "-u", "0", "-m", "svc sync"]
    assert fields["cwd"] == "/home/operator 7"
    assert fields["proctitle"] == "useradd -o -u 0"
    assert fields["name"] == ["/usr/sbin/useradd", "/lib64/ld-linux-x86-64.so.2"]
    assert fields["mode"] == "0100755"
    assert fields["Image"] == "/usr/sbin/useradd"
    assert fields["CommandLine"] == "useradd -o -u 0 -m svc sync"
    assert fields["CurrentDirectory"] == "/home/operator 7"
    assert fields["ProcessId"] == 2291 and fields["ParentProcessId"] == 2290
    assert "User" not in fields  # raw format: only a uid number, no name
    assert add_user.record == 8
    assert add_user.kind == LogKind("linux", frozenset(), frozenset({"auditd"}))
    assert add_user.fields["type"] == "ADD_USER"
    assert add_user.fields["op"] == "add-user" and add_user.fields["res"] == "success"
    assert add_user.fields["exe"] == "/usr/sbin/useradd"
    assert add_user.fields["AUID"] == "operator7"  # ENRICHED part after 0x1d
    assert memfd.fields["SYSCALL"] == "memfd_create" and memfd.fields["key"] == "fileless"
    assert memfd.fields["a0"] == "7ffd2"
    assert memfd.record == 9


def test_interleaving_broken_lines_are_counted(read, tmp_path) -> None:
    path = tmp_path / "audit.log"
    path.write_text(
        'type=SYSCALL msg=audit(1793676905.000:1): syscall=59 exe="/usr/bin/id" key=(null)\n'
        "garbage that is not auditd\n"
        'type=EXECVE msg=audit(1793676905.000:1): argc=1 a0="id"\n'
        'type=USER_CMD msg=audit(1793676906.000:2): pid=1 uid=1001 msg=\'cwd="/" cmd=6964 exe="/usr/bin/sudo" res=success\'\n'
    )
    events, stats = read(path, input_format="auditd")
    assert stats.skipped == 1 and stats.errors[0][0] == f"{path}:2"
    first, second = events
    assert first.fields["type"] == ["SYSCALL", "EXECVE"] and first.fields["key"] == "(null)"
    assert first.fields["CommandLine"] == "id"
    assert second.fields["cmd"] == "id" and second.record == 4


def test_audit_records_forwarded_through_syslog_are_one_event_each(read, tmp_path) -> None:
    path = tmp_path / "syslog"
    path.write_text(
        "Nov  3 03:35:05 pkt-cc-jump01 audisp-syslog: type=EXECVE msg=audit(1793676905.123:4412): argc=3 "
        'a0="useradd" a1="-m" a2=7376632073796E63\n'
        "Nov  3 03:35:05 pkt-cc-jump01 audisp-syslog: node=pkt-cc-jump01 type=SYSCALL msg=audit(1793676905.123:4412): "
        'syscall=59 success=yes exe="/usr/sbin/useradd" key="user_mod"\n'
    )
    (execve, syscall), stats = read(path)
    assert stats.by_format == {"syslog": 1}
    assert execve.kind == LogKind("linux", frozenset({"process_creation"}), frozenset({"auditd"}))
    assert execve.fields["CommandLine"] == "useradd -m svc sync" and execve.fields["type"] == "EXECVE"
    assert execve.fields["hostname"] == "pkt-cc-jump01" and execve.record == 1
    assert execve.timestamp == datetime.fromtimestamp(1793676905.123, UTC)
    assert syscall.kind == LogKind("linux", frozenset(), frozenset({"auditd"}))
    assert syscall.fields["exe"] == "/usr/sbin/useradd" and syscall.fields["node"] == "pkt-cc-jump01"

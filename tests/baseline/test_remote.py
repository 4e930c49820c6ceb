"""The ssh target against a real sshd on 127.0.0.1 (throw-away keys in tmp_path), and the local target."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paramiko
import pytest

from secaudit.baseline import CheckStatus, LocalTarget, load_baseline, open_target, run_baseline
from secaudit.baseline.probes import REGISTRY
from secaudit.baseline.remote import SshTarget, fingerprint
from secaudit.baseline.target import MAX_FILE_BYTES, NotApplicable, ProbeError
from secaudit.core.errors import OperationalError, ScopeError, UsageError
from tests.baseline.sshd_server import Sshd, keygen, running_sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def ssh(sshd: Sshd) -> Iterator[SshTarget]:
    target = open_target(sshd.spec())
    assert isinstance(target, SshTarget)
    with target:
        yield target


def _connections(sshd: Sshd) -> int:
    return sshd.log.read_text().count("Connection from 127.0.0.1") if sshd.log.exists() else 0


def _table(run: object) -> dict[str, tuple[str, tuple[tuple[str, str | None, str, int], ...]]]:
    return {
        r.check.id: (r.status.value, tuple((o.subject, o.value, o.file, o.line) for o in r.evidence))
        for r in run.results  # type: ignore[attr-defined]
    }


def test_openssh_baseline_over_ssh_sees_what_the_host_has(ssh: SshTarget) -> None:
    baseline = load_baseline("openssh-server")
    remote = run_baseline(baseline, ssh)
    local = run_baseline(baseline, LocalTarget())
    assert remote.target.startswith("ssh://")
    assert [r for r in remote.results if r.status is CheckStatus.ERROR] == []
    # Same host, two ways in: every check, status and piece of evidence agrees.
    assert _table(remote) == _table(local)
    decided = {r.check.id for r in remote.results if r.status in (CheckStatus.PASS, CheckStatus.FAIL)}
    assert "ssh-permit-root-login" in decided
    root_login = next(r for r in remote.results if r.check.id == "ssh-permit-root-login")
    assert root_login.evidence[0].file.startswith("/etc/ssh/")


def test_files_over_sftp_are_the_hosts_files(ssh: SshTarget, sshd: Sshd) -> None:
    assert ssh.read_text(str(sshd.config)) == sshd.config.read_text()
    info = ssh.info(str(sshd.folder / "host_key"))
    assert info is not None
    assert (info.kind, info.mode) == ("file", 0o600)
    assert ssh.read_text(str(sshd.folder / "missing")) is None
    names = ssh.listdir(str(sshd.folder))
    assert names is not None
    assert {"sshd_config", "host_key", "known_hosts"} <= set(names)
    assert ssh.glob(f"{sshd.folder}/host_key*") == [f"{sshd.folder}/host_key", f"{sshd.folder}/host_key.pub"]
    (sshd.folder / "link").symlink_to("/etc")
    # one SFTP round trip per folder, the same entries (links not followed) as read locally
    remote, local = ssh.scan(str(sshd.folder)) or [], LocalTarget().scan(str(sshd.folder)) or []
    assert [i for i in remote if i.path != str(sshd.log)] == [i for i in local if i.path != str(sshd.log)]
    link = next(i for i in ssh.scan(str(sshd.folder)) or [] if i.path.endswith("/link"))
    assert link.kind == "link"


def test_bad_files_over_sftp_are_errors_not_hangs(ssh: SshTarget, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "binary").write_bytes(b"\x7fELF\x00\x01\x02")
    with (tmp_path / "huge").open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    cases = {
        "fifo": "not a regular file",
        "binary": "binary",
        "huge": "byte limit",
        "loop-a": "symbolic links",
        ".": "is a directory",
    }
    for name, message in cases.items():
        with pytest.raises(ProbeError, match=message):
            ssh.read_text(str(tmp_path / name))


def test_live_probes_over_ssh(ssh: SshTarget, sshd: Sshd) -> None:
    # sshd -T on the test server's own config: the effective values it runs with
    for setting, wanted in {
        "maxauthtries": "3",
        "passwordauthentication": "no",
        "logingracetime": "30",
    }.items():
        obs = REGISTRY["sshd_effective"].run(ssh, {"setting": setting, "config": str(sshd.config)})
        assert [(o.subject, o.value) for o in obs] == [(setting, wanted)]
    running = REGISTRY["process"].run(ssh, {"name": "sshd", "regex": str(sshd.config)})
    assert str(sshd.pid) in {o.attr("pid") for o in running}
    assert REGISTRY["process"].run(ssh, {"name": "no-such-daemon"})[0].value is None
    forwarding = REGISTRY["sysctl_running"].run(ssh, {"key": "net.ipv4.ip_forward"})
    assert forwarding[0].value == Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    out = REGISTRY["command"].run(ssh, {"argv": ["echo", "a b", "$HOME", "; id"]})
    assert out[0].value == "a b $HOME ; id"  # words passed as they are: no shell expansion
    status = REGISTRY["command"].run(ssh, {"argv": ["false"], "value": "status"})
    assert status[0].value == "1"
    with pytest.raises(ProbeError, match="not installed"):
        ssh.run(["no-such-program-secaudit"])
    with pytest.raises(ProbeError, match="did not finish within 1 s"):
        ssh.run(["sleep", "5"], timeout=1)


def test_live_only_checks_are_not_applicable_offline(tmp_path: Path, sshd: Sshd) -> None:
    from secaudit.baseline.loader import load_baseline_file

    path = tmp_path / "live-demo.yaml"
    path.write_text(
        "id: live-demo\ntitle: t\nversion: '1'\napplies_to: x\nchecks:\n"
        "  - id: live-max-auth\n    title: t\n    rationale: r\n    severity: low\n"
        "    references: {cis-controls: ['4.1']}\n    remediation: r\n"
        f"    probe: {{type: sshd_effective, setting: maxauthtries, config: {sshd.config}}}\n"
        "    expect: {lte: 4}\n"
    )
    baseline = load_baseline_file(path)
    assert baseline.checks[0].targets == ("local", "ssh")
    offline = run_baseline(baseline, open_target(f"offline:{tmp_path}")).results[0]
    assert offline.status is CheckStatus.NOT_APPLICABLE
    assert "runs on local, ssh targets; this is a offline target" in offline.reason
    assert run_baseline(baseline, LocalTarget()).results[0].status is CheckStatus.PASS


def test_fingerprint_instead_of_known_hosts(sshd: Sshd) -> None:
    host_key = paramiko.PKey.from_path(sshd.folder / "host_key")
    good = fingerprint(host_key)
    with open_target(sshd.spec(known_hosts=None, fingerprint=good)) as target:
        assert target.read_text(str(sshd.config)) is not None
    before = _connections(sshd)
    with pytest.raises(OperationalError, match="HOST KEY MISMATCH"):
        open_target(sshd.spec(known_hosts=None, fingerprint="SHA256:" + "A" * 43))
    assert _connections(sshd) == before + 1  # it connected, looked at the key and left


def test_unknown_or_changed_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(OperationalError, match=r"is not in .*refusing an unknown host key"):
        open_target(sshd.spec(known_hosts=str(empty)))
    other = " ".join(keygen(tmp_path / "other").split()[:2])
    changed = tmp_path / "changed"
    changed.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    with pytest.raises(OperationalError, match="HOST KEY MISMATCH"):
        open_target(sshd.spec(known_hosts=str(changed)))
    assert empty.read_text() == ""  # never added


def test_wrong_user_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    keygen(tmp_path / "stranger")
    with pytest.raises(OperationalError, match="refused the key"):
        open_target(sshd.spec(key=str(tmp_path / "stranger")))
    with pytest.raises(UsageError, match="does not exist"):
        open_target(sshd.spec(key=str(tmp_path / "nope")))


def test_scope_refusal_comes_before_any_packet(sshd: Sshd) -> None:
    asked: list[str] = []

    def refuse(address: str) -> None:
        asked.append(address)
        raise ScopeError(f"{address} is not in any authorized segment")

    before = _connections(sshd)
    with pytest.raises(ScopeError, match="not in any authorized segment"):
        open_target(sshd.spec(), scope=refuse)
    assert asked == ["127.0.0.1"]
    assert _connections(sshd) == before


def test_bad_ssh_specs_are_usage_errors() -> None:
    for spec, message in {
        "ssh://127.0.0.1": "needs a user and a host",
        "ssh://a@h:99999": "ssh target",
        "ssh://a@127.0.0.1?colour=red": "unknown option",
        "ssh://a@127.0.0.1?timeout=soon&key=/dev/null": "timeout must be a number",
    }.items():
        with pytest.raises(UsageError, match=message):
            open_target(spec)


def test_audit_stage_connects_only_inside_the_profile_scope(sshd: Sshd, tmp_path: Path) -> None:
    from secaudit.baseline.stage import run_baseline_stage
    from secaudit.catalog.profile import load_profile

    profile_path = tmp_path / "city.yaml"
    profile_path.write_text(
        f"""\
organisation: Test city
authorization: {{reference: T-1, approver: Test, valid_from: 2020-01-01, valid_until: 2099-12-31}}
segments:
  - {{name: mgmt, cidrs: [127.0.0.0/30], kind: mgmt, owner: IT, criticality: high}}
baseline_targets:
  - target: "{sshd.spec()}"
    baselines: [openssh-server]
  - target: "{sshd.spec(host="127.0.0.9")}"
    baselines: [openssh-server]
  - target: "{sshd.spec(known_hosts=None, fingerprint="SHA256:" + "B" * 43)}"
    baselines: [openssh-server]
"""
    )
    profile = load_profile(profile_path)
    before = _connections(sshd)
    out = run_baseline_stage(
        profile, run_dir=tmp_path / "run", now=datetime.now(UTC), progress=lambda event: None
    )
    assert out.result.skipped == 2
    refused = [e for e in out.result.errors if "127.0.0.9" in e]
    assert len(refused) == 1
    assert "not connecting" in refused[0]
    assert "not in any authorized segment" in refused[0]
    assert _connections(sshd) == before + 2  # only the in-scope targets connected
    assert out.result.findings == len(out.findings)
    # the audit trail names both attempts: who, under which authorization, what, and how it ended
    lines = [
        json.loads(line) for line in (tmp_path / "run" / "baseline-audit.jsonl").read_text().splitlines()
    ]
    assert [(e["targets"], e["result"], e["segment"], e["authorization"]) for e in lines] == [
        (["127.0.0.1"], "completed", "mgmt", "T-1"),
        (["127.0.0.9"], "refused", "", "T-1"),
        (["127.0.0.1"], "failed", "mgmt", "T-1"),
    ]
    assert "HOST KEY MISMATCH" in lines[2]["detail"]
    assert lines[0]["argv"] == [
        "ssh",
        f"ssh://{sshd.user}@127.0.0.1:{sshd.port}",
    ]  # options (key paths) left out
    assert "baseline-audit.jsonl" in out.artifacts


def test_local_target_runs_a_fixed_argv_without_a_shell(tmp_path: Path) -> None:
    local = LocalTarget()
    result = local.run(["echo", "$HOME", "; id", "`id`"])
    assert (result.status, result.stdout) == (0, "$HOME ; id `id`\n")
    assert set(local.run(["env"]).stdout.split()) == {  # a fixed environment, not the caller's
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL=C",
        "LANG=C",
    }
    with pytest.raises(ProbeError, match="did not finish within 1 s"):
        local.run(["sleep", "5"], timeout=1)
    with pytest.raises(ProbeError, match="not installed"):
        local.run(["no-such-program-secaudit"])
    with pytest.raises(ProbeError, match="non-empty list of words"):
        local.run([])
    (tmp_path / "f").write_text("seen\n")
    assert local.read_text(str(tmp_path / "f")) == "seen\n"
    offline = open_target(f"offline:{tmp_path}")
    with pytest.raises(NotApplicable, match="needs a live target"):
        offline.run(["true"])


def test_hashed_known_hosts_entries_are_matched(sshd: Sshd, tmp_path: Path) -> None:
    import subprocess

    hashed = tmp_path / "known_hosts"
    hashed.write_text(sshd.known_hosts.read_text())
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert hashed.read_text().startswith("|1|")  # Debian's default HashKnownHosts form
    with open_target(sshd.spec(known_hosts=str(hashed))) as target:
        assert target.read_text(str(sshd.config)) == sshd.config.read_text()

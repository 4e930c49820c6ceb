"""Probes on real-looking files: sshd, sysctl, nginx, IOS, PostgreSQL, Docker, accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, FileTarget, OfflineTarget, load_baseline, run_baseline
from secaudit.baseline.model import Observation
from secaudit.baseline.probes import REGISTRY
from secaudit.baseline.probes.ios import fragment_gaps, parse_ios
from tests.baseline.fixtures import write_tree

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"


def probe(target: OfflineTarget | FileTarget, probe_name: str, /, **params: object) -> list[Observation]:
    spec = REGISTRY[probe_name]
    full = {p.name: p.default for p in spec.params if p.default is not None}
    full.update(params)
    return spec.run(target, full)


def test_sshd_include_first_value_wins_and_match_blocks_are_seen(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "etc/ssh/sshd_config": "Include sshd_config.d/*.conf\nPermitRootLogin no\nLoginGraceTime 2m\n"
            "Match User backup\n  PermitRootLogin yes\n",
            "etc/ssh/sshd_config.d/01-first.conf": "PermitRootLogin without-password\n",
        },
    )
    target = OfflineTarget(tmp_path)
    obs = probe(target, "sshd_setting", setting="PermitRootLogin")
    assert [(o.subject, o.value, o.location) for o in obs] == [
        ("permitrootlogin", "prohibit-password", "/etc/ssh/sshd_config.d/01-first.conf:1"),
        ("permitrootlogin (Match User backup)", "yes", "/etc/ssh/sshd_config:5"),
    ]
    assert probe(target, "sshd_setting", setting="logingracetime")[0].value == "120"
    default = probe(target, "sshd_setting", setting="maxauthtries")[0]
    assert (default.value, default.note) == ("6", "OpenSSH default")


def test_sshd_on_the_shared_augeas_root_reads_the_roots_own_file() -> None:
    target = OfflineTarget(SHARED / "fakeroot-augeas")
    x11 = probe(target, "sshd_setting", setting="x11forwarding")
    assert (x11[0].value, x11[0].location) == ("yes", "/etc/ssh/sshd_config:100")
    assert ("x11forwarding (Match User anoncvs)", "no") in [(o.subject, o.value) for o in x11]


def test_sysctl_follows_systemd_order(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "usr/lib/sysctl.d/50-default.conf": "net.ipv4.ip_forward = 1\nkernel.yama.ptrace_scope = 0\n",
            "etc/sysctl.d/50-default.conf": "kernel.yama.ptrace_scope = 1\n",  # hides the /usr/lib file
            "etc/sysctl.d/99-late.conf": "net/ipv4/tcp_syncookies=1\n",
            "etc/sysctl.conf": "net.ipv4.tcp_syncookies = 0\n",  # applied last
        },
    )
    target = OfflineTarget(tmp_path)
    assert probe(target, "sysctl", key="net.ipv4.ip_forward")[0].value is None
    ptrace = probe(target, "sysctl", key="kernel.yama.ptrace_scope")[0]
    assert (ptrace.value, ptrace.location) == ("1", "/etc/sysctl.d/50-default.conf:1")
    assert probe(target, "sysctl", key="net.ipv4.tcp_syncookies")[0].location == "/etc/sysctl.conf:1"


def test_nginx_add_header_inheritance(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "http {\n add_header X-Frame-Options DENY;\n server { listen 443 ssl; server_name a; }\n"
        " server { listen 443 ssl; server_name b; add_header X-Other 1; }\n}\n"
    )
    obs = probe(FileTarget(conf), "nginx_directive", directive="add_header", arg="X-Frame-Options")
    assert [(o.subject, o.value, o.note) for o in obs] == [
        ("server a", "DENY", "inherited from http"),
        ("server b", None, "not set"),  # its own add_header hides the http one, as nginx does
    ]


def test_nginx_includes_stay_in_the_root(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "etc/nginx/nginx.conf": "http { include conf.d/*.conf; include /etc/nginx/sites-enabled/*; }\n",
            "etc/nginx/conf.d/tokens.conf": "server_tokens on;\n",
            "etc/nginx/sites-enabled/portal": {"link": "/etc/nginx/sites-available/portal"},
            "etc/nginx/sites-available/portal": "server { listen 80; server_name portal; autoindex on; }\n",
        },
    )
    target = OfflineTarget(tmp_path)
    tokens = probe(target, "nginx_directive", directive="server_tokens", default="on")
    assert [(o.subject, o.value, o.location) for o in tokens] == [
        ("server portal", "on", "/etc/nginx/conf.d/tokens.conf:1")
    ]
    auto = probe(target, "nginx_directive", directive="autoindex", scope="any")
    assert [(o.value, o.location) for o in auto] == [("on", "/etc/nginx/sites-enabled/portal:1")]


def test_nginx_syntax_error_is_a_check_error(tmp_path: Path) -> None:
    conf = tmp_path / "broken.conf"
    conf.write_text("http { server { listen 80;\n")
    run = run_baseline(load_baseline("nginx"), FileTarget(conf))
    assert {r.status for r in run.results} == {CheckStatus.ERROR}
    assert "broken.conf" in run.results[0].reason


def test_ios_sections_and_banners() -> None:
    cfg = SHARED / "ios-batfish/networks/example/live/configs/as1border1.cfg"
    target = FileTarget(cfg)
    vty = probe(target, "ios_config", section=r"^line vty", line=r"^transport input (.+)")
    assert [o.subject for o in vty] == ["line vty 0 4"]
    assert probe(target, "ios_config", line=r"^hostname (\S+)")[0].value == "as1border1"


@pytest.mark.parametrize("cfg", sorted((SHARED / "ios-batfish").rglob("*.cfg")), ids=lambda p: p.name)
def test_ios_baseline_never_errors_on_real_configs(cfg: Path) -> None:
    run = run_baseline(load_baseline("cisco-ios"), FileTarget(cfg))
    assert run.count(CheckStatus.ERROR) == 0, [r.reason for r in run.results if r.status is CheckStatus.ERROR]
    gaps = fragment_gaps(parse_ios(cfg.read_text(encoding="utf-8")))
    if not gaps:  # a full running-config: every check decided
        assert run.count(CheckStatus.PASS) + run.count(CheckStatus.FAIL) == len(run.results)
        assert run.incomplete == ""
    else:  # not a running-config (the iptables hosts' files): said once, absence decides nothing
        assert "is not a full running-config" in run.incomplete
        assert all(
            r.status is not CheckStatus.FAIL or (r.evidence and r.evidence[0].value is not None)
            for r in run.results
        )


def test_postgresql_settings_and_hba(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "etc/postgresql/15/main/postgresql.conf": "ssl = off\ninclude_dir 'conf.d'\nlog_connections = 'on' # audit\n",
            "etc/postgresql/15/main/conf.d/10-ssl.conf": "ssl = on\n",
            "etc/postgresql/15/main/pg_hba.conf": "local all postgres peer\n"
            "host all all 127.0.0.1/32 scram-sha-256\nhost all all 10.0.0.0 255.0.0.0 trust\n",
        },
    )
    target = OfflineTarget(tmp_path)
    ssl = probe(target, "pg_setting", name="ssl")[0]
    assert (ssl.value, ssl.location) == ("on", "/etc/postgresql/15/main/conf.d/10-ssl.conf:1")
    assert probe(target, "pg_setting", name="log_connections")[0].value == "on"
    assert probe(target, "pg_setting", name="password_encryption", default="scram-sha-256")[0].note
    hba = probe(target, "pg_hba")
    assert [(o.subject, o.value) for o in hba] == [
        ("local all postgres", "peer"),
        ("host all all 127.0.0.1/32", "scram-sha-256"),
        ("host all all 10.0.0.0", "trust"),
    ]


def test_docker_daemon_json(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"etc/docker/daemon.json": '{\n  "icc": false,\n  "log-opts": {"max-size": "10m"}\n}\n'}
    )
    target = OfflineTarget(tmp_path)
    icc = probe(target, "docker_daemon", key="icc")[0]
    assert (icc.value, icc.line) == ("false", 2)
    assert probe(target, "docker_daemon", key="log-opts.max-size")[0].value == "10m"
    assert probe(target, "docker_daemon", key="userns-remap")[0].value is None
    (tmp_path / "etc/docker/daemon.json").write_text("{broken")
    from secaudit.baseline import ProbeError

    with pytest.raises(ProbeError, match="invalid JSON"):
        probe(OfflineTarget(tmp_path), "docker_daemon", key="icc")


def test_accounts_on_the_shared_augeas_root() -> None:
    target = OfflineTarget(SHARED / "fakeroot-augeas")
    uid0 = probe(target, "accounts", kind="uid0")
    # no second uid 0 there: one unset observation says which file was read
    assert [(o.subject, o.value, o.file, o.note) for o in uid0] == [
        ("uid0", None, "/etc/passwd", "none found")
    ]
    dups = probe(target, "accounts", kind="duplicate_uid")
    assert all(o.location.startswith("/etc/passwd") for o in dups)


def test_postgresql_baseline_on_a_single_conf_dump(tmp_path: Path) -> None:

    conf = tmp_path / "postgresql.conf"
    conf.write_text("listen_addresses = '*'\nssl = on\nlog_connections = yes  # audit\n")
    run = run_baseline(load_baseline("postgresql"), FileTarget(conf))
    by_id = {r.check.id: r for r in run.results}
    assert by_id["pg-listen-not-everywhere"].status is CheckStatus.FAIL
    assert by_id["pg-listen-not-everywhere"].evidence[0].line == 1
    assert by_id["pg-ssl-enabled"].status is CheckStatus.PASS
    assert by_id["pg-log-connections"].status is CheckStatus.PASS
    # pg_hba.conf is not in a postgresql.conf dump: those checks do not run on file targets
    assert by_id["pg-hba-no-trust"].status is CheckStatus.NOT_APPLICABLE
    assert "file target" in by_id["pg-hba-no-trust"].reason
    assert by_id["pg-password-encryption-scram"].evidence[0].note == "PostgreSQL default"

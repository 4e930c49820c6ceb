"""Bad input never ends a run: the check that needs the bad file is an ERROR with the reason, every
other check is still decided. One case per kind of bad input, planted in a hardened fixture tree."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, FileTarget, OfflineTarget, load_baseline, run_baseline
from secaudit.baseline.target import MAX_FILE_BYTES
from tests.baseline.fixtures import build_case, load_fixtures

NOBODY = 65534


def _binary(root: Path) -> None:
    (root / "etc/login.defs").write_bytes(b"PASS_MAX_DAYS 30\n\x00\x01\x02\x7fELF")


def _huge(root: Path) -> None:
    with (root / "etc/login.defs").open("r+b") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used


def _loop(root: Path) -> None:
    (root / "etc/login.defs").unlink()
    (root / "etc/login.defs").symlink_to("/etc/login.defs")  # itself, inside the root


def _fifo(root: Path) -> None:
    (root / "etc/login.defs").unlink()
    os.mkfifo(root / "etc/login.defs")


def _directory(root: Path) -> None:
    (root / "etc/login.defs").unlink()
    (root / "etc/login.defs").mkdir()


# (baseline, how to break the tree, the check that must be ERROR, words of its reason, a check that must pass)
CASES: dict[str, tuple[str, Callable[[Path], None], str, str, str]] = {
    "binary": (
        "debian12-server",
        _binary,
        "deb12-pass-max-days",
        "is binary, expected a text file",
        "deb12-perm-passwd",
    ),
    "huge": (
        "debian12-server",
        _huge,
        "deb12-pass-max-days",
        f"over the {MAX_FILE_BYTES} byte limit",
        "deb12-perm-passwd",
    ),
    "symlink-loop": (
        "debian12-server",
        _loop,
        "deb12-pass-max-days",
        "too many levels of symbolic links",
        "deb12-perm-passwd",
    ),
    "fifo": ("debian12-server", _fifo, "deb12-pass-max-days", "is not a regular file", "deb12-perm-passwd"),
    "directory": (
        "debian12-server",
        _directory,
        "deb12-pass-max-days",
        "is a directory",
        "deb12-perm-passwd",
    ),
    "sshd-include-loop": (
        "openssh-server",
        lambda root: (root / "etc/ssh/sshd_config.d/10-access.conf").write_text(
            "Include /etc/ssh/sshd_config\n"
        ),
        "ssh-permit-root-login",
        "nested more than 16 deep",
        "ssh-host-private-key-permissions",
    ),
    "nginx-syntax": (
        "nginx",
        lambda dump: dump.write_text("http {\n  server_tokens off\n  server {\n}\n"),  # a file: target
        "nginx-server-tokens-off",
        "nginx syntax error",
        "",
    ),
    "docker-json": (
        "docker-host",
        lambda root: (root / "etc/docker/daemon.json").write_text('{"icc": false,,}\n'),
        "docker-icc-disabled",
        "invalid JSON",
        "docker-audit-daemon",
    ),
    "pg-hba-short-entry": (
        "postgresql",
        lambda root: (root / "etc/postgresql/16/main/pg_hba.conf").write_text("local all\nhost all all\n"),
        "pg-hba-no-trust",
        "pg_hba.conf:1: entry has too few fields",
        "pg-ssl-enabled",
    ),
    "pg-include-loop": (
        "postgresql",
        lambda root: (root / "etc/postgresql/16/main/conf.d/60-security.conf").write_text(
            "include = '/etc/postgresql/16/main/conf.d/60-security.conf'\n"
        ),
        "pg-ssl-enabled",
        "nested more than 10 deep",
        "pg-hba-no-trust",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_an_error_of_one_check_and_the_run_goes_on(case: str, tmp_path: Path) -> None:
    baseline_id, breaker, broken_id, reason, healthy_id = CASES[case]
    data = load_fixtures(baseline_id)
    target = build_case(data, {"base": "hardened"}, tmp_path)
    if isinstance(target, FileTarget):
        breaker(target.path)
        target = FileTarget(target.path)
    else:
        assert isinstance(target, OfflineTarget)
        breaker(Path(target.root))
        target = OfflineTarget(Path(target.root))
    run = run_baseline(load_baseline(baseline_id), target)
    by_id = {r.check.id: r for r in run.results}
    broken = by_id[broken_id]
    assert broken.status is CheckStatus.ERROR, (broken.status, broken.reason)
    assert reason in broken.reason
    assert len(run.results) == len(load_baseline(baseline_id).checks)  # every check has a result
    if healthy_id:  # a check that does not read the bad file is still decided
        assert by_id[healthy_id].status is CheckStatus.PASS, by_id[healthy_id].reason
    else:  # every check reads the one broken dump: each says so, none crashed the run
        assert {r.status for r in run.results} <= {CheckStatus.ERROR, CheckStatus.NOT_APPLICABLE}
        assert run.count(CheckStatus.ERROR) >= 5


@contextmanager
def _as_nobody() -> Iterator[None]:
    """Drop the effective user id (file permission checks use it) and always take it back."""
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to read as another user")
def test_an_unreadable_file_is_an_error_and_the_run_goes_on() -> None:
    # a folder every user can enter (tmp_path's parents are private to root)
    top = Path(tempfile.mkdtemp(prefix="secaudit-unreadable-"))
    try:
        top.chmod(0o755)
        data = load_fixtures("debian12-server")
        target = build_case(data, {"base": "hardened"}, top)
        root = Path(target.root)  # type: ignore[attr-defined]
        (root / "etc/login.defs").chmod(0o600)  # root's alone; the audit runs as nobody
        with _as_nobody():
            run = run_baseline(load_baseline("debian12-server"), OfflineTarget(root))
        by_id = {r.check.id: r for r in run.results}
        assert by_id["deb12-pass-max-days"].status is CheckStatus.ERROR
        assert "/etc/login.defs: cannot open: Permission denied" in by_id["deb12-pass-max-days"].reason
        assert by_id["deb12-perm-passwd"].status is CheckStatus.PASS  # stat needs no read permission
    finally:
        shutil.rmtree(top)

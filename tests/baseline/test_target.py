"""The offline target is read-only and contained; bad files become errors, not crashes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secaudit.baseline import CheckStatus, OfflineTarget, ProbeError, load_baseline, open_target, run_baseline
from secaudit.baseline.target import MAX_FILE_BYTES
from secaudit.core.errors import UsageError
from tests.baseline.fixtures import build_case, load_fixtures, write_tree


def _snapshot(root: Path) -> dict[str, tuple[int, int, int, int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
                st.st_atime_ns,
                st.st_ctime_ns,
            )
    return out


def test_symlinks_resolve_inside_the_root(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "etc/shadow": "root:INSIDE-THE-ROOT:19700::::::\n",
            "home/op/.copy": {"link": "/etc/shadow"},
            "home/op/.rel": {"link": "../../../../../../../../etc/shadow"},
            "home/op/.hostname": {"link": "/etc/hostname"},
            "etc/dir-link": {"link": "/etc"},
        },
    )
    target = OfflineTarget(tmp_path)
    assert target.read_text("/home/op/.copy") == "root:INSIDE-THE-ROOT:19700::::::\n"
    assert target.read_text("/home/op/.rel") == "root:INSIDE-THE-ROOT:19700::::::\n"
    assert target.read_text("/etc/dir-link/shadow") == "root:INSIDE-THE-ROOT:19700::::::\n"
    assert target.read_text("/../../etc/shadow") == "root:INSIDE-THE-ROOT:19700::::::\n"
    # the host has /etc/hostname; the root does not, so the link leads nowhere
    assert Path("/etc/hostname").exists()
    assert target.read_text("/home/op/.hostname") is None
    assert target.info("/home/op/.hostname") is None


def test_running_a_whole_baseline_writes_nothing_into_the_root(tmp_path: Path) -> None:
    data = load_fixtures("debian12-server")
    target = build_case(data, {"base": "hardened"}, tmp_path)
    assert isinstance(target, OfflineTarget)
    root = Path(target.root)
    _snapshot(root)  # settle directory access times (relatime) before measuring
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            # access time older than modification time: any ordinary read would now update it
            os.utime(path, ns=(1, path.stat().st_mtime_ns))
    before = _snapshot(root)
    run = run_baseline(load_baseline("debian12-server"), target)
    assert run.count(CheckStatus.PASS) > 150
    assert _snapshot(root) == before  # no new files, no changed modes, sizes or even access times


def test_symlink_loop_is_an_error_and_the_run_goes_on(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "etc/ssh/sshd_config": {"link": "/etc/ssh/loop"},
            "etc/ssh/loop": {"link": "/etc/ssh/sshd_config"},
            "etc/login.defs": "PASS_MAX_DAYS 30\n",
        },
    )
    target = OfflineTarget(tmp_path)
    with pytest.raises(ProbeError, match="too many levels of symbolic links"):
        target.read_text("/etc/ssh/sshd_config")
    run = run_baseline(load_baseline("debian12-server"), target)
    by_id = {r.check.id: r for r in run.results}
    assert by_id["ssh-permit-root-login"].status is CheckStatus.ERROR
    assert "symbolic links" in by_id["ssh-permit-root-login"].reason
    assert by_id["deb12-encrypt-method"].status is CheckStatus.FAIL  # later checks still ran


def test_binary_huge_fifo_and_directory_are_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {"etc/login.defs": "x", "etc/nginx/nginx.conf": {"dir": True}})
    (tmp_path / "etc/login.defs").write_bytes(b"PASS_MAX_DAYS\x00\x01\x02 90\n")
    with (tmp_path / "etc/fstab").open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    os.mkfifo(tmp_path / "etc/sysctl.conf")
    target = OfflineTarget(tmp_path)
    with pytest.raises(ProbeError, match="binary"):
        target.read_text("/etc/login.defs")
    with pytest.raises(ProbeError, match="byte limit"):
        target.read_text("/etc/fstab")
    with pytest.raises(ProbeError, match="not a regular file"):
        target.read_text("/etc/sysctl.conf")  # a FIFO: refused without blocking
    with pytest.raises(ProbeError, match="is a directory"):
        target.read_text("/etc/nginx/nginx.conf")


def test_open_target_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    assert open_target(f"offline:{tmp_path}").kind == "offline"
    cfg = tmp_path / "r1.cfg"
    cfg.write_text("hostname r1\n")
    assert open_target("file:r1.cfg", base=tmp_path).kind == "file"
    assert open_target("local").kind == "local"
    with pytest.raises(UsageError, match="unknown target"):
        open_target("/etc")
    with pytest.raises(UsageError, match="not a directory"):
        open_target(f"offline:{cfg}")

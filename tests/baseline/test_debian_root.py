"""The Debian 12 baseline on a real debootstrap root: decided checks with evidence, pass and fail for
every check on mutated copies, nothing written into the root, symlink escapes resolved inside it."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secaudit.baseline import Baseline, CheckStatus, OfflineTarget, load_baseline, run_baseline, run_check
from tests.baseline.fixtures import LiveRoot, load_fixtures, write_tree

pytestmark = pytest.mark.slow  # the first run builds the root with debootstrap (about a minute)

DPKG_STATUS = "var/lib/dpkg/status"
# Why a check may be "not applicable" on the stock root: the only acceptable reasons.
STOCK_NOT_APPLICABLE = {
    "nothing to check: not set or not found",  # mount options of a mount point that is not separate
    "does not apply:",  # gated on a package the server set does not install (postfix, at, aide)
    "runs on local, ssh targets",  # decided on a running host only (loaded AppArmor profiles, listening ports)
}


@functools.cache
def _baseline() -> Baseline:
    return load_baseline("debian12-server")


def _metadata_hash(root: Path) -> str:
    """Every entry's path, type, mode, owner, size, link text and all three times."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted([*dirnames, *filenames]):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            link = os.readlink(path) if os.path.islink(path) else ""
            digest.update(
                f"{path}|{st.st_mode}|{st.st_uid}|{st.st_gid}|{st.st_size}|{link}|"
                f"{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_atime_ns}\n".encode()
            )
    return digest.hexdigest()


def test_every_check_is_decided_with_evidence_and_the_root_is_untouched(debian_root: Path) -> None:
    _metadata_hash(debian_root)  # settle directory access times (relatime) before measuring
    before = _metadata_hash(debian_root)
    run = run_baseline(_baseline(), OfflineTarget(debian_root))
    assert _metadata_hash(debian_root) == before  # no file added, changed or even read-stamped

    assert [(r.check.id, r.reason) for r in run.results if r.status is CheckStatus.ERROR] == []
    for r in run.results:
        if r.status in (CheckStatus.PASS, CheckStatus.FAIL):
            assert r.evidence, f"{r.check.id} {r.status.value} without evidence"
            assert all(o.file or o.note for o in r.evidence), r.check.id
        else:
            assert any(r.reason.startswith(ok) for ok in STOCK_NOT_APPLICABLE), (r.check.id, r.reason)
    by_id = {r.check.id: r for r in run.results}
    # A stock Debian server is not hardened: identities of what it gets right and wrong.
    assert by_id["deb12-pass-max-days"].status is CheckStatus.FAIL
    assert by_id["deb12-pass-max-days"].evidence[0].value == "99999"
    assert by_id["deb12-pass-max-days"].evidence[0].file == "/etc/login.defs"
    assert by_id["deb12-pam-unix-no-nullok"].status is CheckStatus.FAIL
    assert by_id["ssh-permit-root-login"].evidence[0].note == "OpenSSH default"
    # /tmp is not separate: that one cause fails once, the three option checks do not apply
    assert by_id["deb12-tmp-separate-mount"].status is CheckStatus.FAIL
    for opt in ("nodev", "nosuid", "noexec"):
        tmp_opt = by_id[f"deb12-mount-tmp-{opt}"]
        assert tmp_opt.status is CheckStatus.NOT_APPLICABLE
        assert "not a separate mount" in tmp_opt.reason
    passed = {cid for cid, r in by_id.items() if r.status is CheckStatus.PASS}
    assert {"deb12-perm-passwd", "deb12-perm-shadow", "deb12-perm-group"} <= passed
    assert run.count(CheckStatus.PASS) + run.count(CheckStatus.FAIL) >= 160


def test_former_false_passes_fail_with_evidence(debian_root: Path) -> None:
    """The stock root runs nginx, has nftables installed but not enabled, no pam_faillock in the PAM
    stack and no apparmor-utils: four checks that used to pass here."""
    by_id = {r.check.id: r for r in run_baseline(_baseline(), OfflineTarget(debian_root)).results}

    web = by_id["deb12-svc-apache-absent"]  # 2.1.18 web server services not in use
    assert web.status is CheckStatus.FAIL
    assert [(o.subject, o.value) for o in web.evidence] == [("nginx.service", "enabled")]
    assert web.evidence[0].file == "/etc/systemd/system/multi-user.target.wants/nginx.service"

    firewall = by_id["deb12-firewall-installed"]  # 4.1.1 a single firewall utility in use
    assert firewall.status is CheckStatus.FAIL
    seen = {o.subject: o.value for o in firewall.evidence}
    assert seen["nftables.service"] == "disabled"  # installed, never started at boot
    assert "none of the alternatives holds" in firewall.reason

    deny = by_id["deb12-faillock-deny"]  # 5.3.3.1.1: unset deny is no pass without pam_faillock
    assert deny.status is CheckStatus.FAIL
    assert deny.evidence[0].subject == "common-auth:pam_faillock.so"
    assert deny.evidence[0].value is None
    assert deny.evidence[0].file == "/etc/pam.d/common-auth"
    assert by_id["deb12-faillock-unlock-time"].status is CheckStatus.FAIL

    apparmor = by_id["deb12-apparmor-installed"]  # 1.3.1.1 needs apparmor-utils too
    assert apparmor.status is CheckStatus.FAIL
    assert [(o.subject, o.note) for o in apparmor.evidence] == [("apparmor-utils", "not installed")]

    # the inconsistencies: /dev/shm judged on systemd's own options (noexec is not among them),
    # grub checks agree, journald Compress does not pass without journald
    shm = {opt: by_id[f"deb12-mount-dev-shm-{opt}"] for opt in ("nodev", "nosuid", "noexec")}
    assert shm["nodev"].status is shm["nosuid"].status is CheckStatus.PASS
    assert shm["noexec"].status is CheckStatus.FAIL
    assert "systemd mounts it itself" in shm["noexec"].evidence[0].note
    grub = [by_id["deb12-grub-password"], by_id["deb12-grub-config-permissions"]]
    assert [r.status for r in grub] == [CheckStatus.NOT_APPLICABLE] * 2
    assert all("/boot/grub/grub.cfg" in r.reason for r in grub)
    compress = by_id["deb12-journald-compress"]
    assert compress.status is CheckStatus.FAIL
    assert compress.evidence[0].subject == "/lib/systemd/systemd-journald"


def _stanzas(text: str) -> dict[str, str]:
    out = {}
    for block in text.strip().split("\n\n"):
        name = next(
            (line.split(":", 1)[1].strip() for line in block.splitlines() if line.startswith("Package:")), ""
        )
        if name:
            out[name] = block.strip() + "\n"
    return out


class _Mutations:
    """Apply a fixture's files to the copy and put the originals back afterwards."""

    def __init__(self, root: Path, stash: Path) -> None:
        self.root, self.stash = root, stash

    def _remove(self, path: Path) -> None:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)

    def apply(self, files: dict[str, Any]) -> list[tuple[Path, Path | None, list[Path]]]:
        undo = []
        for rel, spec in files.items():
            path = self.root / rel
            made = [p for p in path.parents if p != self.root and self.root in p.parents and not p.exists()]
            saved: Path | None = None
            if path.exists() or path.is_symlink():
                saved = self.stash / rel
                saved.parent.mkdir(parents=True, exist_ok=True)
                self._remove(saved)
                shutil.move(str(path), str(saved))
            if spec is not None:
                write_tree(self.root, {rel: spec})
            undo.append((path, saved, made))
        return undo

    def undo(self, undo: list[tuple[Path, Path | None, list[Path]]]) -> None:
        for path, saved, made in reversed(undo):
            self._remove(path)
            if saved is not None:
                shutil.move(str(saved), str(path))
            for p in sorted(made, key=lambda p: len(p.parts), reverse=True):
                if p.is_dir() and not any(p.iterdir()):
                    p.rmdir()


@pytest.fixture(scope="module")
def hardened_copy(
    debian_copy: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, _Mutations]]:
    """The real root with the hardening of the fixtures' ``hardened`` base laid over it. The real dpkg
    status stays; only records of packages the server set lacks (chrony, aide) are added to it."""
    base = dict(load_fixtures("debian12-server")["bases"]["hardened"])
    wanted = _stanzas(base.pop(DPKG_STATUS))
    status = debian_copy / DPKG_STATUS
    real = status.read_text(encoding="utf-8")
    missing = [text for name, text in wanted.items() if name not in _stanzas(real)]
    status.write_text(real.rstrip("\n") + "\n\n" + "\n".join(missing), encoding="utf-8")
    mutations = _Mutations(debian_copy, tmp_path_factory.mktemp("stash"))
    mutations.apply(base)
    yield debian_copy, mutations


@pytest.mark.parametrize("verdict", ["pass", "fail"])
def test_every_check_passes_and_fails_on_the_real_root(
    hardened_copy: tuple[Path, _Mutations], verdict: str
) -> None:
    root, mutations = hardened_copy
    # the Debian baseline includes the OpenSSH one: its checks bring their own fixtures
    fixtures = {**load_fixtures("openssh-server")["checks"], **load_fixtures("debian12-server")["checks"]}
    baseline = _baseline()
    assert {c.id for c in baseline.checks} == set(fixtures)  # every shipped Debian check
    wanted = CheckStatus.PASS if verdict == "pass" else CheckStatus.FAIL
    wrong = []
    for check in baseline.checks:
        case = fixtures[check.id][verdict]
        undo = mutations.apply(case.get("files") or {})
        try:  # a running-host check reads the root as a live target would read /
            result = run_check(check, LiveRoot(root) if case.get("live") else OfflineTarget(root))
        finally:
            mutations.undo(undo)
        if result.status is not wanted or not (result.evidence or result.reason):
            wrong.append((check.id, result.status.value, result.reason))
    assert wrong == []


def test_a_planted_symlink_escape_stays_inside_the_root(debian_copy: Path) -> None:
    inside = debian_copy / "etc/shadow"
    moved = debian_copy / "etc/shadow.real"
    shutil.move(str(inside), str(moved))
    marker = "escape-marker:!:20000:0:99999:7:::\n"
    moved.write_text(moved.read_text(encoding="utf-8") + marker, encoding="utf-8")
    try:
        inside.symlink_to("/etc/shadow")  # points at itself inside the root: a loop, never the host
        (debian_copy / "etc/gshadow-escape").symlink_to("../../../../../../../etc/shadow.real")
        target = OfflineTarget(debian_copy)
        assert target.read_text("/etc/gshadow-escape") == moved.read_text(encoding="utf-8")
        run = run_baseline(_baseline(), target)
        by_id = {r.check.id: r for r in run.results}
        empty = by_id["deb12-no-empty-passwords"]
        assert empty.status is CheckStatus.ERROR
        assert "symbolic links" in empty.reason
        texts = " ".join(f"{o.value} {o.subject}" for r in run.results for o in r.evidence)
        assert "escape-marker" not in texts  # the link was not followed to shadow.real either
        assert by_id["deb12-perm-passwd"].status is CheckStatus.PASS  # the run went on
    finally:
        inside.unlink()
        shutil.move(str(moved), str(inside))


def test_baseline_check_command_on_the_real_root(
    debian_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from secaudit.cli.main import run

    before = _metadata_hash(debian_root)
    code = run(
        [
            "baseline",
            "check",
            "--baseline",
            "debian12-server",
            "--target",
            f"offline:{debian_root}",
            "--format",
            "json",
        ]
    )
    assert code == 1  # a stock server fails checks
    assert _metadata_hash(debian_root) == before
    data = json.loads(capsys.readouterr().out)
    results = {r["id"]: r for r in data["results"]}
    # the default run is CIS Level 1 server: every Level 1 check, no Level 2 control
    assert set(results) == {c.id for c in _baseline().at_level(1).checks}
    assert "deb12-kmod-dccp-disabled" not in results  # a Level 2 server control
    assert {r["status"] for r in results.values()} == {"pass", "fail", "notapplicable"}
    assert results["deb12-pass-max-days"]["status"] == "fail"
    assert results["deb12-pass-max-days"]["evidence"][0]["value"] == "99999"

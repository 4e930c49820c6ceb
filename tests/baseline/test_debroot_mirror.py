"""The test root's Debian mirror comes from the machine's apt sources, never a hard-coded host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.baseline.debroot import SUITE, mirror


def _apt(tmp_path: Path, sources: str = "", listed: str = "") -> Path:
    (tmp_path / "sources.list.d").mkdir()
    if sources:
        (tmp_path / "sources.list.d" / "debian.sources").write_text(sources, encoding="utf-8")
    if listed:
        (tmp_path / "sources.list").write_text(listed, encoding="utf-8")
    return tmp_path


def test_the_mirror_is_read_from_deb822_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECAUDIT_TEST_DEBIAN_MIRROR", raising=False)
    apt = _apt(
        tmp_path,
        sources=(
            f"Types: deb\nURIs: http://mirror.cc.example/debian-security\nSuites: {SUITE}-security\n"
            "Components: main\n\n"
            f"Types: deb-src\nURIs: http://src.cc.example/debian\nSuites: {SUITE}\n\n"
            f"Types: deb\n# a comment\nURIs: http://mirror.cc.example/debian\nSuites: {SUITE} {SUITE}-updates\n"
        ),
    )
    assert mirror(apt) == "http://mirror.cc.example/debian"  # not the security suite, not deb-src


def test_the_mirror_is_read_from_a_one_line_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECAUDIT_TEST_DEBIAN_MIRROR", raising=False)
    listed = (
        f"# deb http://old.example/debian {SUITE} main\n"
        f"deb-src http://src.example/debian {SUITE} main\n"
        f"deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.cc.example/debian {SUITE} main\n"
    )
    assert mirror(_apt(tmp_path, listed=listed)) == "http://mirror.cc.example/debian"


def test_the_environment_wins_and_no_source_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apt = _apt(tmp_path)
    monkeypatch.delenv("SECAUDIT_TEST_DEBIAN_MIRROR", raising=False)
    with pytest.raises(RuntimeError, match="SECAUDIT_TEST_DEBIAN_MIRROR"):
        mirror(apt)
    monkeypatch.setenv("SECAUDIT_TEST_DEBIAN_MIRROR", "http://given.example/debian")
    assert mirror(apt) == "http://given.example/debian"

"""``logs ingest``, ``logs es-check``, ``logs hunt --es`` and ``report --to-es`` through the entry point,
without a cluster: usage errors exit 2, an unreachable cluster exits 3 naming its URL, and a planted
secret never appears in anything printed (even with -vv).

The unreachable cluster is a loopback port nothing listens on: no packet leaves the machine.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from secaudit.cli.main import run

REPO = Path(__file__).resolve().parents[2]
PLANTED = "planted-secret-7f3a9c1e"
LOGS = str(REPO / "samples")


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECAUDIT_ES_API_KEY", PLANTED)
    monkeypatch.delenv("SECAUDIT_ES_URL", raising=False)


@pytest.mark.usefixtures("secrets")
@pytest.mark.parametrize(
    "argv",
    [
        ["logs", "es-check", "{url}"],
        ["logs", "ingest", "--es", "{url}", LOGS],
        ["logs", "hunt", "--es", "{url}", "--since", "24h"],
        ["report", "--to-es", "{url}", "--history", "{history}"],
    ],
)
def test_unreachable_cluster_exits_3_with_the_url_and_no_secret(
    argv: list[str], closed_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.sqlite"
    if "report" in argv:
        _record_a_run(history)
    args = [a.format(url=closed_url, history=history) for a in argv]
    assert run(["-vv", *args]) == 3
    out, err = capsys.readouterr()
    assert closed_url in err
    assert "unreachable" in err
    assert PLANTED not in out + err


def _record_a_run(history: Path) -> None:
    from datetime import UTC, datetime

    from secaudit.core.model import Run, RunStatus
    from secaudit.history.store import HistoryStore

    with HistoryStore.open(history) as store:
        store.begin_run(
            Run(
                id="20261121T010000Z-test",
                profile_path=str(REPO / "samples" / "phuket-demo.yaml"),
                organisation="Phuket",
                started_at=datetime(2026, 11, 21, 1, tzinfo=UTC),
                status=RunStatus.RUNNING,
            ),
            str(REPO / "samples" / "phuket-demo.yaml"),
        )


@pytest.mark.usefixtures("secrets")
@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["logs", "ingest", "--es", "{url}", "-"], "ingest needs files"),
        (["logs", "ingest", "--es", "{url}", "--index", "Bad*Name", LOGS], "not a valid index name"),
        (["logs", "ingest", "--es", f"http://u:{PLANTED}@127.0.0.1:9", LOGS], "carries credentials"),
        (["logs", "hunt", "--es", "{url}", LOGS], "LOG files or --es, not both"),
        (["logs", "hunt", "--hit-cap", "5", LOGS], "for a hunt on Elasticsearch only"),
        (["logs", "hunt", "--es", "{url}", "--input-format", "syslog"], "apply when reading LOG files"),
        (["logs", "hunt"], "or --es URL"),
        (["logs", "hunt", "--es", "{url}", "--since", "3 days"], "not a duration"),
        (["logs", "hunt", "--es", "{url}", "--since", "1d", "--from", "2026-01-01"], "not both"),
        (["logs", "es-check"], "no Elasticsearch URL"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], words: str, closed_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([a.format(url=closed_url) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert words in err
    assert PLANTED not in out + err


def test_profile_settings_reach_the_command(
    tmp_path: Path, closed_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SECAUDIT_ES_URL", raising=False)
    monkeypatch.setenv("CITY_ES_PASSWORD", PLANTED)
    profile = tmp_path / "city.yaml"
    profile.write_text(
        f"elasticsearch:\n  url: {closed_url}\n  username: auditor\n  password_env: CITY_ES_PASSWORD\n",
        encoding="utf-8",
    )
    assert run(["-vv", "logs", "es-check", "--profile", str(profile)]) == 3
    out, err = capsys.readouterr()
    assert closed_url in err
    assert PLANTED not in out + err

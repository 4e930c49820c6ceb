"""Secrets never leave: planted in every input path, looked for in every output.

Each planted secret is a distinct random-looking word, so finding it anywhere (stdout, stderr,
report files, the history database's bytes) is a leak, whatever the wording around it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secaudit.app.stages import Stage, StageContext
from secaudit.cli.main import run as cli_run
from secaudit.core import redact as module
from secaudit.core.model import (
    Asset,
    Criticality,
    Evidence,
    Finding,
    RunStatus,
    Severity,
    Source,
    StageOutput,
    StageResult,
)
from secaudit.core.redact import MASK, Secret, forget_secrets, redact

PROFILE = """\
version: 1
organisation: Test City
authorization:
  reference: AUTH-9
  approver: Test approver
  valid_from: 2026-01-01
  valid_until: 2099-01-01
segments:
  - name: lab
    cidrs: [127.0.0.0/30]
    kind: it
    owner: Lab
    criticality: high
"""

URL_PW = "Urlpw7Qx/#?@z"  # '/', '#', '?' and '@' cut a URL where urlsplit does not expect
QUERY_PW = "QueryPw4Kd9"
HEADER_TOKEN = "HdrTok8Vn2Lm"
PAIR_PW = "PairPw3Jt6"
ENV_KEY = "EnvKey5Rr1Zp0Wq"
SECRETS = (URL_PW, QUERY_PW, HEADER_TOKEN, PAIR_PW, ENV_KEY)


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def _leaks(text: str) -> list[str]:
    parts = {URL_PW, URL_PW.split("/", maxsplit=1)[0], QUERY_PW, HEADER_TOKEN, PAIR_PW, ENV_KEY}
    return sorted(p for p in parts if p in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://elastic:{URL_PW}@es.local:9200/x", f"https://elastic:{MASK}@es.local:9200/x"),
        (f"ssh://audit@h?password={QUERY_PW}&key=k", f"ssh://audit@h?password={MASK}&key=k"),
        (f"GET /a?x=1&access_token={QUERY_PW} HTTP/1.1", f"GET /a?x=1&access_token={MASK} HTTP/1.1"),
        (f"Authorization: Bearer {HEADER_TOKEN}", f"Authorization: Bearer {MASK}"),
        (f'{{"password": "{PAIR_PW}"}}', f'{{"password": "{MASK}"}}'),
        (f"api_key={PAIR_PW} rest", f"api_key={MASK} rest"),
        # not secrets: baseline tallies, variable names, log wording, a key file path
        ("pass: 12, fail: 3", "pass: 12, fail: 3"),
        ("password_env: SECAUDIT_ES_PASSWORD", "password_env: SECAUDIT_ES_PASSWORD"),
        ("Failed password for root from 127.0.0.1", "Failed password for root from 127.0.0.1"),
        ("ssh://audit@h?key=keys/audit_ed25519", "ssh://audit@h?key=keys/audit_ed25519"),
        ("http://[::1]:9200/_cluster/health", "http://[::1]:9200/_cluster/health"),
        (f"https://h/login?pwd={QUERY_PW}", f"https://h/login?pwd={MASK}"),
        # sudo's PWD is the working directory
        ("op : TTY=pts/2 ; PWD=/home/op ; USER=root", "op : TTY=pts/2 ; PWD=/home/op ; USER=root"),
        (f"wmic /user:ADM\\a /password:{PAIR_PW} /node:h", f"wmic /user:ADM\\a /password:{MASK} /node:h"),
    ],
)
def test_redact_masks_the_secret_shapes_and_keeps_the_rest(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_registered_secret_is_masked_in_any_wording() -> None:
    Secret(ENV_KEY)
    assert redact(f"server says: key {ENV_KEY} is unknown ({ENV_KEY[:-1]})") == (
        f"server says: key {MASK} is unknown ({ENV_KEY[:-1]})"
    )


def _secret_stage(ctx: StageContext) -> StageOutput:
    Secret(ENV_KEY)  # as the Elasticsearch settings would, from SECAUDIT_ES_API_KEY
    finding = Finding(
        rule_id="R-1",
        source=Source.SCAN,
        severity=Severity.HIGH,
        title=f"Admin console at https://admin:{URL_PW}@127.0.0.1/",
        asset=Asset(key="host-1", address="127.0.0.1", criticality=Criticality.HIGH, segment="lab"),
        description=f"The banner repeats the header Authorization: Basic {HEADER_TOKEN}",
        evidence_key="tcp/80",
        evidence=(
            Evidence(
                kind="banner",
                summary=f"GET /login?user=a&password={QUERY_PW}",
                location="127.0.0.1:80/tcp",
                excerpt=f'{{"password": "{PAIR_PW}"}}',
                attributes=(("server_error", f"invalid api key {ENV_KEY}"),),
            ),
        ),
    )
    result = StageResult(
        name="scan",
        status=RunStatus.INCOMPLETE,
        findings=1,
        items=1,
        errors=(f"cluster said: 401 for ApiKey {ENV_KEY}",),
    )
    return StageOutput(findings=(finding,), result=result)


def test_an_audit_writes_no_planted_secret_to_any_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SECAUDIT_HISTORY", raising=False)
    monkeypatch.setattr(
        "secaudit.app.stages.STAGES",
        (Stage(name="scan", source=Source.SCAN, run=_secret_stage, description="t"),),
    )
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    out_dir = tmp_path / "reports"
    formats = ("html", "json", "sarif", "junit", "csv", "md")
    args = ["audit", "--profile", str(profile), "--output-dir", str(out_dir), "--fail-on", "none"]
    assert cli_run([*args, *(x for f in formats for x in ("--format", f))]) in (0, 3)
    captured = capsys.readouterr()
    assert _leaks(captured.out + captured.err) == []
    files = [p for p in out_dir.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".json", ".sarif", ".xml", ".csv", ".md", ".sqlite"}
    for path in files:
        assert _leaks(path.read_bytes().decode("utf-8", "replace")) == [], path
    # the run and its finding are there, masked, not dropped
    assert cli_run(["history", "runs", "--history", str(next(out_dir.rglob("*.sqlite"))), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 1
    report = json.loads(next(out_dir.rglob("findings.json")).read_text(encoding="utf-8"))
    assert MASK in json.dumps(report) and "Admin console at https://admin:***@127.0.0.1/" in json.dumps(
        report
    )


@pytest.mark.parametrize(
    "target",
    [f"ssh://audit@127.0.0.1?password={QUERY_PW}", f"ssh://audit:{PAIR_PW}@127.0.0.1"],
)
def test_a_password_in_a_profile_ssh_target_is_refused_without_echo(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(
        PROFILE + f"baseline_targets:\n  - target: '{target}'\n    baselines: [debian12-server]\n",
        encoding="utf-8",
    )
    assert cli_run(["profile", "validate", str(profile)]) == 2
    err = capsys.readouterr().err
    assert _leaks(err) == []
    assert f"{profile}:" in err and "?key=PATH" in err


def test_a_password_in_a_cli_ssh_target_is_refused_without_echo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"ssh://audit:{URL_PW}@127.0.0.1"
    code = cli_run(["baseline", "check", "--baseline", "debian12-server", "--target", target])
    assert code == 2
    captured = capsys.readouterr()
    assert _leaks(captured.out + captured.err) == []
    assert "password" in captured.err


@pytest.mark.parametrize("password", [URL_PW, "Pw#only8Hq", "Pw/only8Hq", "Pw?only8Hq"])
def test_an_elasticsearch_url_with_a_password_is_refused_without_echo(
    password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_run(["logs", "es-check", f"https://elastic:{password}@127.0.0.1:9"]) == 2
    captured = capsys.readouterr()
    assert password not in captured.out + captured.err
    assert (
        password.split("/", maxsplit=1)[0].split("#", maxsplit=1)[0].split("?", maxsplit=1)[0]
        not in captured.out + captured.err
    )
    assert "carries credentials" in captured.err


class _EchoingServer(BaseHTTPRequestHandler):
    """An HTTP server that answers 401 quoting the credentials it got, as some proxies do."""

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "error": {
                    "type": "security_exception",
                    "reason": f"bad credentials [{self.headers['Authorization']}]",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_error_quoting_the_api_key_is_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("SECAUDIT_ES_API_KEY", ENV_KEY)
        code = cli_run(["logs", "es-check", f"http://127.0.0.1:{server.server_address[1]}"])
    finally:
        server.shutdown()
        server.server_close()
    captured = capsys.readouterr()
    assert code == 3
    assert ENV_KEY not in captured.out + captured.err
    assert "bad credentia" in captured.err  # the server's words are shown, never the key


def test_a_foreign_file_given_as_waivers_is_not_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text(f"root:$y$j9T${PAIR_PW}:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    code = cli_run(
        [
            "baseline",
            "check",
            "--baseline",
            "debian12-server",
            "--target",
            f"offline:{root}",
            "--waivers",
            str(shadow),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert PAIR_PW not in err and "root:" not in err
    assert f"{shadow}:1" in err and "is this the right file" in err


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_hit_files_carry_no_secret_from_the_logs_or_from_secaudit(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A logged command line with a password, a proxy log with a token, and a secret secaudit holds
    (an API key an audit log repeats) are masked in the hit file; the hit itself is kept."""
    Secret(ENV_KEY)
    rule = tmp_path / "rule.yml"
    rule.write_text(
        "title: Planted\nid: 3f1c8a4e-55aa-4e39-8c1b-0d6d8f2f9a10\nstatus: test\nlogsource: {product: linux}\n"
        "detection: {sel: {message|contains: planted}, condition: sel}\nlevel: high\n",
        encoding="utf-8",
    )
    lines = [
        f"planted: wmic /user:ADM\\a /password:{PAIR_PW} /node:h",
        f"planted: GET /a?x=1&access_token={QUERY_PW} HTTP/1.1 Authorization: Bearer {HEADER_TOKEN}",
        f"planted: audit log repeats {ENV_KEY} and https://elastic:{URL_PW}@es.local:9200/",
    ]
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps({"message": m, "host": "h"}) + "\n" for m in lines), encoding="utf-8")
    out = tmp_path / f"hits.{fmt}"
    code = cli_run(
        [
            "logs",
            "hunt",
            "--rules",
            str(rule),
            "--logsource",
            "product=linux",
            "--format",
            fmt,
            "--output",
            str(out),
            str(log),
        ]
    )
    assert code == 0, capsys.readouterr().err
    written = out.read_text(encoding="utf-8")
    assert written.count("Planted") == 3  # every hit kept
    assert _leaks(written) == []
    assert written.count(MASK) >= 5


def _every_shape(text: str) -> str:
    """redact as it was before its shapes were gated: all four regexes on any text with a trigger."""
    low = text.lower()
    if not any(trigger in low for trigger in module._TRIGGERS):
        return text
    text = module._USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    text = module._QUERY.sub(module._mask, text)
    text = module._HEADER.sub(module._mask, text)
    return module._PAIR.sub(module._pair_mask, text)


# pieces of the shapes, their names spelt with the characters a case-blind match takes for ASCII
# letters (dotless i, long s, dotted capital I, the Kelvin sign), and filler
_PIECES = st.sampled_from(
    [
        "password", "PassWord", "pa\u017fsword", "passw\u0131rd", "pr\u0130vate_key", "ap\u0130_key", "api-key",
        "\u212aey", "token", "TOKEN", "secret", "client_secret", "Authorization", "AUTHORİZATİON",
        "authorization: Bearer ", "https://", "user:", "@host", "?", "&", ";", "=", ":", " ", "\t", '"', "'",
        "hunter2", "s3cr3t", "x", "é", "\u0307", "sig", "credentials", "pwd", "auth",
    ]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=14))
@settings(max_examples=1500)
def test_gating_the_shapes_masks_what_running_them_all_masks(pieces: list[str]) -> None:
    forget_secrets()
    text = "".join(pieces)
    assert module._redact(text) == _every_shape(text), text


@pytest.mark.parametrize(
    "text",
    [
        "auth pa\u017fsword=hunter2",  # long s: a case-blind s
        "auth pr\u0131vate_key=hunter2",  # dotless i
        "auth pr\u0130vate_key: hunter2",  # dotted capital I, whose lowercase is i and a dot
        "\u212aey api_key=hunter2",  # the Kelvin sign
        "AUTHOR\u0130ZAT\u0130ON: Bearer hunter2",
        "sig https://user:hunter2@host/x",
        "auth x?pa\u017fsword=hunter2&y=1",
    ],
)
def test_names_spelt_with_look_alike_letters_are_masked_as_before(text: str) -> None:
    forget_secrets()
    assert "hunter2" not in module._redact(text)
    assert module._redact(text) == _every_shape(text)

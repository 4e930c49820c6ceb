"""nginx/Apache access logs: the webserver fields SigmaHQ's rules/web use."""

from __future__ import annotations

from datetime import UTC, datetime

from secaudit.core.events import LogKind


def test_combined_common_and_vhost_lines(read, fixtures) -> None:
    events, stats = read(fixtures / "web" / "access.log")
    assert stats.by_format == {"access-log": 1} and stats.skipped == 0
    sqli, post, traversal, vhost, tls = events
    assert sqli.kind == LogKind("", frozenset({"webserver"}), frozenset())
    assert sqli.kind.covers(None, "webserver", None)
    assert sqli.record == 1
    assert sqli.timestamp == datetime(2026, 11, 2, 3, 15, 42, tzinfo=UTC)
    assert sqli.fields["c-ip"] == "127.0.0.44"
    assert sqli.fields["cs-method"] == "GET"
    assert sqli.fields["c-uri"] == "/traffic/junction.php?id=12%27%20or%201=1--"
    assert sqli.fields["cs-uri-stem"] == "/traffic/junction.php"
    assert sqli.fields["cs-uri-query"] == "id=12%27%20or%201=1--"
    assert sqli.fields["c-uri-query"] == "id=12%27%20or%201=1--"
    assert sqli.fields["c-uri-extension"] == "php"
    assert sqli.fields["cs-version"] == "HTTP/1.1"
    assert sqli.fields["sc-status"] == 200 and sqli.fields["sc-bytes"] == 5120
    assert sqli.fields["cs-referer"] == "-"
    assert sqli.fields["c-useragent"].startswith("sqlmap/1.8.3")
    assert sqli.fields["date"] == "02/Nov/2026:10:15:42 +0700"
    assert post.fields["cs-username"] == "operator7"
    assert post.fields["c-useragent"] == 'Mozilla/5.0 (X11; Linux x86_64) "quoted" agent'
    assert "cs-uri-query" not in post.fields
    # Common format: no referer or agent; "-" bytes.
    assert traversal.fields["sc-status"] == 404 and "sc-bytes" not in traversal.fields
    assert "c-useragent" not in traversal.fields
    assert traversal.fields["c-uri"] == "/../../etc/passwd"
    assert vhost.fields["cs-host"] == "portal.phuket.example" and vhost.fields["c-ip"] == "127.0.0.47"
    assert "cs-method" not in tls.fields and tls.fields["sc-status"] == 400
    assert tls.fields["c-uri"] == "\\x16\\x03\\x01\\x00\\xf7\\x01"

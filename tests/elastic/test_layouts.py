"""An index whose field layout is not secaudit's is refused before any rule runs (exit 2), naming the
layout found, instead of being hunted into a clean-looking "no hits"."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.cli.main import run
from secaudit.elastic.check import ECS, SECAUDIT, UNKNOWN, WAZUH, layout_of
from secaudit.elastic.documents import index_template
from tests.elastic.fault_server import INDEX, Script, serve

ECS_MAPPING = {
    "properties": {
        "ecs": {"properties": {"version": {"type": "keyword"}}},
        "winlog": {"properties": {"event_data": {"properties": {"CommandLine": {"type": "keyword"}}}}},
        "process": {"properties": {"command_line": {"type": "wildcard"}}},
    }
}
WAZUH_MAPPING = {
    "properties": {
        "agent": {"properties": {"name": {"type": "keyword"}}},
        "rule": {"properties": {"level": {"type": "long"}}},
        "data": {"properties": {"win": {"properties": {"eventdata": {"properties": {}}}}}},
    }
}
OTHER_MAPPING = {"properties": {"message": {"type": "text"}, "level": {"type": "keyword"}}}


def test_each_layout_is_recognised_from_the_mapping() -> None:
    assert layout_of(index_template("x")["template"]["mappings"]) == SECAUDIT
    assert layout_of(ECS_MAPPING) == ECS
    assert layout_of(WAZUH_MAPPING) == WAZUH
    assert layout_of(OTHER_MAPPING) == UNKNOWN
    assert layout_of({}) == UNKNOWN


@pytest.mark.parametrize(
    ("mapping", "words"),
    [(OTHER_MAPPING, "not one secaudit knows"), (ECS_MAPPING, "ECS"), (WAZUH_MAPPING, "Wazuh")],
)
def test_a_hunt_on_an_index_of_another_layout_exits_2_naming_it(
    mapping: dict, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(
        "title: t\nid: 0b0f4d4e-7f77-4c4e-9c55-3b8c0f3b1a09\nlogsource: {product: linux}\n"
        "detection:\n    k: [evil]\n    condition: k\n",
        encoding="utf-8",
    )
    script = Script(mapping=mapping)
    with serve(script) as url:
        assert run(["logs", "hunt", "--es", url, "--index", INDEX, "--rules", str(rule)]) == 2
    err = capsys.readouterr().err
    assert "field layout" in err and INDEX in err and words in err
    assert not any(path.endswith(("/_pit", "/_msearch", "/_search")) for _, path in script.requests)

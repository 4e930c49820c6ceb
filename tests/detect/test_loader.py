"""Loading: documents and their lines, problems, the content-hash cache, meta filters, correlations."""

from __future__ import annotations

import importlib.metadata
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sigma.rule import SigmaRule

from secaudit.core.errors import ConfigError
from secaudit.detect import documents
from secaudit.detect.correlate import Correlator
from secaudit.detect.engine import Engine
from secaudit.detect.loader import load_rules

from .helpers import WHEN, both, event, load_text, rule_text

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
C = "cccccccc-0000-4000-8000-000000000003"


def two_rules() -> str:
    return (
        rule_text("sel:\n  Image|endswith: '\\a.exe'\ncondition: sel", rule_id=A, level="low")
        + "---\n"
        + rule_text("sel:\n  Image|endswith: '\\b.exe'\ncondition: sel", rule_id=B, level="critical")
    )


def test_multi_document_file_keeps_each_documents_line(tmp_path: Path) -> None:
    text = two_rules() + "---\n# a comment\n" + "title: broken\nid: x\ndetection: [\n"
    ruleset = load_text(tmp_path, text)
    path = tmp_path / "rules" / "rule.yml"
    assert [(r.id, r.location) for r in ruleset.rules] == [(A, f"{path}:1"), (B, f"{path}:14")]
    [problem] = ruleset.problems
    assert problem.location == f"{path}:31"  # the end of the file, where the unclosed [ breaks
    assert problem.reason.startswith("YAML:")
    assert ruleset.files == 1


def test_rule_info_comes_from_the_rule(tmp_path: Path) -> None:
    text = rule_text("sel:\n  Image: x\ncondition: sel", rule_id=A).replace(
        "status: test\n",
        "status: test\ntags:\n  - attack.execution\n  - attack.t1059\nreferences:\n  - https://example.org/x\n",
    )
    [info] = load_text(tmp_path, text).rules
    assert (info.title, info.level, info.status, info.author) == (
        "Test rule aaaaaaaa",
        "high",
        "test",
        "secaudit tests",
    )
    assert info.tags == ("attack.execution", "attack.t1059")
    assert info.references == ("https://example.org/x",)
    assert (info.product, info.category, info.service) == ("windows", "process_creation", None)
    assert info.emit is True


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- just\n- a list\n", "a rule document must be a mapping"),
        (
            "title: no detection\nid: 5f2b1a6e-1d4c-4b7a-9c0e-2a1b3c4d5e6f\nlogsource:\n  product: x\n",
            "detection",
        ),
        (rule_text("sel:\n  Image|nosuchmodifier: x\ncondition: sel"), "nosuchmodifier"),
        (rule_text("sel:\n  Image|re: '(unclosed'\ncondition: sel"), "unclosed|invalid|missing"),
    ],
)
def test_bad_documents_become_problems(tmp_path: Path, text: str, reason: str) -> None:
    ruleset = load_text(tmp_path, text)
    assert ruleset.rules == ()
    [problem] = ruleset.problems
    assert problem.location == f"{tmp_path / 'rules' / 'rule.yml'}:1"
    assert any(word in problem.reason for word in reason.split("|")), problem.reason


def test_non_utf8_file_is_a_problem_and_others_load(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "bad.yml").write_bytes(b"title: \xff\xfe\n")
    (folder / "good.yaml").write_text(two_rules(), encoding="utf-8")
    ruleset = load_rules([folder], cache_dir=tmp_path / "cache")
    assert [r.id for r in ruleset.rules] == [A, B]
    assert [(p.location, p.reason) for p in ruleset.problems] == [
        (f"{folder / 'bad.yml'}:1", "not UTF-8 text (byte 7)")
    ]


def test_missing_rules_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules([tmp_path / "nope"], cache_dir=tmp_path / "cache")


def test_action_global_merges_into_following_documents(tmp_path: Path) -> None:
    text = (
        "action: global\ntitle: Shared\nauthor: secaudit tests\nlogsource:\n  product: windows\n"
        "  category: process_creation\nlevel: medium\ndetection:\n  condition: sel\n"
        f"---\nid: {A}\ndetection:\n  sel:\n    Image: a.exe\n"
        f"---\nid: {B}\ndetection:\n  sel:\n    Image: b.exe\n"
    )
    ruleset = load_text(tmp_path, text)
    assert [(r.id, r.title, r.level) for r in ruleset.rules] == [
        (A, "Shared", "medium"),
        (B, "Shared", "medium"),
    ]
    assert both(ruleset, [event({"Image": "B.EXE"})]) == {(B, 1)}


def test_min_level_keeps_rules_at_or_above(tmp_path: Path) -> None:
    assert [r.id for r in load_text(tmp_path, two_rules(), min_level="high").rules] == [B]
    assert [r.id for r in load_text(tmp_path, two_rules(), min_level="low").rules] == [A, B]
    with pytest.raises(ConfigError, match="unknown rule level"):
        load_text(tmp_path, two_rules(), min_level="severe")


def test_warm_load_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = load_text(tmp_path, two_rules())

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again on a warm load")

    monkeypatch.setattr(SigmaRule, "from_dict", refuse)
    monkeypatch.setattr(documents.yaml, "load", refuse)
    warm = load_rules([tmp_path / "rules"], cache_dir=tmp_path / "cache")
    assert warm == cold


def test_only_changed_files_are_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yml").write_text(rule_text("sel:\n  Image: a\ncondition: sel", rule_id=A), encoding="utf-8")
    (folder / "b.yml").write_text(rule_text("sel:\n  Image: b\ncondition: sel", rule_id=B), encoding="utf-8")
    load_rules([folder], cache_dir=tmp_path / "cache")
    parsed: list[str] = []
    real = SigmaRule.from_dict.__func__  # type: ignore[attr-defined]

    def spy(cls: type[SigmaRule], doc: dict, *args: object, **kwargs: object) -> SigmaRule:
        parsed.append(str(doc["id"]))
        return real(cls, doc, *args, **kwargs)

    monkeypatch.setattr(SigmaRule, "from_dict", classmethod(spy))
    (folder / "b.yml").write_text(rule_text("sel:\n  Image: c\ncondition: sel", rule_id=C), encoding="utf-8")
    ruleset = load_rules([folder], cache_dir=tmp_path / "cache")
    assert parsed == [C]
    assert [r.id for r in ruleset.rules] == [A, C]


def test_corrupt_cache_entries_are_rebuilt(tmp_path: Path) -> None:
    cold = load_text(tmp_path, two_rules())
    entries = sorted((tmp_path / "cache").rglob("*.pickle"))
    assert len(entries) == 2  # the folder's compiled files and the assembled set
    for entry in entries:
        entry.write_bytes(b"\x80\x05garbage")
    assert load_rules([tmp_path / "rules"], cache_dir=tmp_path / "cache") == cold
    assert load_rules([tmp_path / "rules"], cache_dir=tmp_path / "cache") == cold


def test_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yml").write_text(two_rules(), encoding="utf-8")
    ruleset = load_rules([tmp_path / "rules"], cache_dir=blocker)
    assert [r.id for r in ruleset.rules] == [A, B]


# -- meta filters ---------------------------------------------------------------------------------

FILTER = """title: Ignore the build account
id: ffffffff-0000-4000-8000-00000000000f
logsource:
  product: windows
  category: process_creation
filter:
  rules: {rules}
  selection:
    User: 'BUILD\\svc'
  condition: not selection
"""


@pytest.mark.parametrize("rules", [f"[{A}]", "any", "[Test rule aaaaaaaa]"])
def test_meta_filter_applies_to_its_targets(tmp_path: Path, rules: str) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.yml").write_text(two_rules(), encoding="utf-8")
    (folder / "zfilter.yml").write_text(FILTER.format(rules=rules), encoding="utf-8")
    ruleset = load_rules([folder], cache_dir=tmp_path / "cache")
    events = [
        event({"Image": "c:\\a.exe", "User": "BUILD\\svc"}, record=1),
        event({"Image": "c:\\a.exe", "User": "bob"}, record=2),
        event({"Image": "c:\\b.exe", "User": "BUILD\\svc"}, record=3),
    ]
    found = both(ruleset, events)
    if rules == "any":
        assert found == {(A, 2)}
    elif "Test rule" in rules:  # a title is not a reference: only ids and names are
        assert found == {(A, 1), (A, 2), (B, 3)}
        assert [p.reason for p in ruleset.problems] == ["meta filter targets no loaded rule"]
    else:
        assert found == {(A, 2), (B, 3)}


def test_meta_filter_of_another_logsource_does_not_apply(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.yml").write_text(two_rules(), encoding="utf-8")
    text = FILTER.format(rules="any").replace("process_creation", "image_load")
    (folder / "zfilter.yml").write_text(text, encoding="utf-8")
    ruleset = load_rules([folder], cache_dir=tmp_path / "cache")
    assert both(ruleset, [event({"Image": "c:\\a.exe", "User": "BUILD\\svc"})]) == {(A, 1)}
    assert ruleset.problems[0].location == f"{folder / 'zfilter.yml'}:1"


# -- correlations ---------------------------------------------------------------------------------

CORRELATION = """title: Many a.exe starts
id: dddddddd-0000-4000-8000-00000000000d
status: test
author: secaudit tests
correlation:
  type: event_count
  rules:
    - {ref}
  group-by:
    - User
  timespan: 5m
  condition:
    gte: 3{generate}
level: high
"""


@pytest.mark.parametrize("generate", [False, True])
def test_correlation_marks_base_rules_and_compiles(tmp_path: Path, generate: bool) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "base.yml").write_text(two_rules(), encoding="utf-8")
    extra = "\n  generate: true" if generate else ""
    (folder / "corr.yml").write_text(CORRELATION.format(ref=A, generate=extra), encoding="utf-8")
    ruleset = load_rules([folder], cache_dir=tmp_path / "cache")
    assert ruleset.problems == ()
    assert [(r.id, r.emit) for r in ruleset.rules] == [(A, generate), (B, True)]
    [plan] = ruleset.correlations
    assert plan.rules == (A,)
    assert [c.location for c in ruleset.correlation_rules] == [f"{folder / 'corr.yml'}:1"]
    events = [
        event({"Image": "c:\\a.exe", "User": "bob"}, record=i)._replace(timestamp=WHEN + timedelta(seconds=i))
        for i in range(1, 4)
    ]
    hits = list(Engine(ruleset).match(events))
    assert [(h.rule.id, h.event.record, h.rule.emit) for h in hits] == [(A, i, generate) for i in range(1, 4)]
    correlator = Correlator(ruleset.correlations)
    for hit in hits:
        correlator.feed(hit)
    [fired] = correlator.finish()
    assert (fired.rule.id, fired.group, fired.value) == (
        "dddddddd-0000-4000-8000-00000000000d",
        (("User", "bob"),),
        3,
    )
    # warm: the plan comes from the cache
    assert load_rules([folder], cache_dir=tmp_path / "cache").correlations == ruleset.correlations


def test_correlation_with_unknown_reference_is_a_problem(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "corr.yml").write_text(CORRELATION.format(ref="no-such-rule", generate=""), encoding="utf-8")
    ruleset = load_rules([folder], cache_dir=tmp_path / "cache")
    assert ruleset.correlations == ()
    [problem] = ruleset.problems
    assert (problem.location, problem.reason) == (
        f"{folder / 'corr.yml'}:1",
        "correlation references unknown rule(s): no-such-rule",
    )


def test_yaml_is_parsed_with_libyaml() -> None:
    assert documents._LOADER is yaml.CSafeLoader


# -- the cache key --------------------------------------------------------------------------------


def _cached_sets(cache: Path) -> set[str]:
    return {p.name for p in (cache / "sets").glob("*.pickle")}


def test_cache_key_follows_the_installed_pysigma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pySigma 1.5.1 has no ``__version__``: the key reads the installed distribution instead."""
    from secaudit.detect import loader

    assert loader.distribution_version("pysigma") == importlib.metadata.version("pysigma")
    assert loader.distribution_version("no-such-distribution-here") == "absent"
    key = loader.current_cache_format()
    assert f"pysigma-{importlib.metadata.version('pysigma')}/" in key
    assert f"engine-{loader.engine_fingerprint()}/" in key
    load_text(tmp_path, two_rules())
    first = _cached_sets(tmp_path / "cache")
    monkeypatch.setattr(loader, "current_cache_format", lambda: loader.cache_format("99.0.0", "x"))
    load_text(tmp_path, two_rules())
    second = _cached_sets(tmp_path / "cache")
    assert first < second  # another pySigma: another entry, the old one never read for it


def test_cache_key_follows_the_engine_source(tmp_path: Path) -> None:
    from secaudit.detect import loader

    engine = tmp_path / "engine"
    engine.mkdir()
    (engine / "ir.py").write_text("X = 1\n", encoding="utf-8")
    events = tmp_path / "events.py"
    events.write_text("Y = 1\n", encoding="utf-8")
    before = loader.engine_fingerprint((engine, events))
    (engine / "ir.py").write_text("X = 2\n", encoding="utf-8")
    after_engine = loader.engine_fingerprint((engine, events))
    events.write_text("Y = 2\n", encoding="utf-8")
    after_events = loader.engine_fingerprint((engine, events))
    (engine / "new.py").write_text("", encoding="utf-8")
    after_new_file = loader.engine_fingerprint((engine, events))
    assert len({before, after_engine, after_events, after_new_file}) == 4
    assert loader.engine_fingerprint() == loader.engine_fingerprint(loader.ENGINE_SOURCES)
    assert loader.cache_format("1.5.1", before) != loader.cache_format("1.5.1", after_engine)
    assert loader.cache_format("1.5.1", before) != loader.cache_format("1.5.2", before)


def test_cache_key_follows_the_rule_content(tmp_path: Path) -> None:
    load_text(tmp_path, two_rules())
    first = _cached_sets(tmp_path / "cache")
    edited = two_rules().replace("a.exe", "c.exe", 1)
    assert edited != two_rules()
    load_text(tmp_path, edited)
    assert first < _cached_sets(tmp_path / "cache")

from pathlib import Path

import pytest

from secaudit.catalog.yamlload import YDict, YList, check_keys, load_yaml, located, parse_yaml
from secaudit.core.errors import ConfigError


def test_lines_are_kept_for_keys_and_items() -> None:
    data = parse_yaml("a: 1\nb:\n  - x: 2\n    y: z\n  - 3\n", "f.yaml")
    assert isinstance(data, YDict) and isinstance(data["b"], YList)
    assert located("f.yaml", data, "b") == "f.yaml:2"
    assert located("f.yaml", data["b"][0], "y") == "f.yaml:4"
    assert located("f.yaml", data["b"], 1) == "f.yaml:5"


def test_duplicate_key_is_refused_with_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("top:\n  a: 1\n  b: 2\n  a: 3\n", "dup.yaml")
    assert info.value.location == "dup.yaml:4"
    assert "first at line 2" in info.value.message


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "broken.yaml")
    assert info.value.location is not None and info.value.location.startswith("broken.yaml:")
    assert "invalid YAML" in info.value.message


def test_unknown_key_suggests_the_close_one() -> None:
    data = parse_yaml("name: x\ncirds: []\n", "s.yaml")
    with pytest.raises(ConfigError) as info:
        check_keys(data, allowed=("name", "cidrs"), where="segment")
    assert info.value.location == "s.yaml:2"
    assert "did you mean 'cidrs'" in info.value.message


def test_missing_key_and_invalid_utf8(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing key 'cidrs'"):
        check_keys(
            parse_yaml("name: x\n", "s.yaml"), allowed=("name", "cidrs"), required=("cidrs",), where="x"
        )
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(bad)
    assert info.value.location == f"{bad}:2"


def test_merge_keys_and_scalars_construct_like_safe_load() -> None:
    data = parse_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2026-01-01\n", "m.yaml")
    assert data["other"]["x"] == 1
    assert str(data["other"]["y"]) == "2026-01-01"

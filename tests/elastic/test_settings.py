"""Connection settings: the profile's elasticsearch: section, the environment, --es; secrets stay hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.catalog.yamlload import parse_yaml
from secaudit.core.errors import ConfigError, UsageError
from secaudit.elastic.settings import EsSettings, Secret, check_url, from_environment, parse_settings, resolve

PLANTED = "c2VjYXVkaXQtcGxhbnRlZC1zZWNyZXQ="


def _section(text: str, tmp_path: Path) -> tuple[object, Path]:
    profile = tmp_path / "city.yaml"
    profile.write_text(text, encoding="utf-8")
    root = parse_yaml(text, str(profile))
    return root["elasticsearch"], profile


def test_profile_section_with_secrets_from_the_named_variables(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    node, profile = _section(
        "organisation: x\n"
        "elasticsearch:\n"
        "  url: https://es.cc.example:9200/\n"
        "  api_key_env: CITY_ES_KEY\n"
        "  ca_cert: ca.pem\n"
        "  verify: true\n",
        tmp_path,
    )
    settings = parse_settings(node, profile, env={"CITY_ES_KEY": PLANTED})
    assert settings.url == "https://es.cc.example:9200"
    assert settings.api_key == Secret(PLANTED)
    assert settings.ca_cert == tmp_path / "ca.pem"
    assert settings.verify
    assert PLANTED not in repr(settings) and PLANTED not in str(settings.api_key)
    assert PLANTED not in settings.describe()


@pytest.mark.parametrize(
    ("section", "line", "words"),
    [
        ("elasticsearch:\n  url: https://es:9200\n  api_key: abc\n", 3, "must not hold the api key"),
        ("elasticsearch:\n  url: https://es:9200\n  pasword_env: X\n", 3, "did you mean 'password_env'"),
        ("elasticsearch:\n  url: ftp://es\n", 2, "not an Elasticsearch URL"),
        ("elasticsearch:\n  url: https://es:9200\n  api_key_env: UNSET_VAR\n", 3, "UNSET_VAR"),
        ("elasticsearch:\n  url: https://es:9200\n  verify: maybe\n", 3, "true or false"),
        ("elasticsearch:\n  username: a\n", 2, "both username and password_env"),
    ],
)
def test_profile_errors_name_file_and_line(tmp_path: Path, section: str, line: int, words: str) -> None:
    node, profile = _section(section, tmp_path)
    with pytest.raises(ConfigError) as caught:
        parse_settings(node, profile, env={})
    assert caught.value.location == f"{profile}:{line}"
    assert words in str(caught.value)


def test_precedence_option_then_environment_then_profile() -> None:
    profile = EsSettings(url="https://profile:9200", username="p", password=Secret("pp"))
    env = {"SECAUDIT_ES_URL": "https://env:9200", "SECAUDIT_ES_API_KEY": PLANTED}
    assert resolve("https://option:9200", profile=profile, env=env).url == "https://option:9200"
    chosen = resolve(None, profile=profile, env=env)
    assert chosen.url == "https://env:9200"
    assert chosen.api_key == Secret(PLANTED)
    assert resolve(None, profile=profile, env={}).url == "https://profile:9200"
    with pytest.raises(UsageError, match="no Elasticsearch URL"):
        resolve(None, env={})


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(UsageError) as caught:
        check_url(f"https://admin:{PLANTED}@es:9200")
    assert PLANTED not in str(caught.value)
    assert "https://es:9200" in str(caught.value)
    with pytest.raises(UsageError):
        from_environment({"SECAUDIT_ES_URL": "es:9200"})

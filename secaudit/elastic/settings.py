"""Where the Elasticsearch cluster is and how to log in: from the command line, the environment or the
profile's ``elasticsearch:`` section, in that order of precedence.

Secrets (an API key, a password) are only ever read from the environment: the profile names the
variable (``api_key_env``, ``password_env``), never the secret, and a URL with credentials in it is
refused. Secrets are held in :class:`Secret`, whose ``str`` and ``repr`` show ``***``, so no message,
log line, report or history row can carry them by accident. TLS verification is on unless the profile
says ``verify: false``.

Profile section::

    elasticsearch:
      url: https://es.cc.phuket.example:9200
      api_key_env: SECAUDIT_ES_API_KEY      # or: username + password_env
      username: secaudit
      password_env: SECAUDIT_ES_PASSWORD
      ca_cert: certs/city-ca.pem            # relative to the profile file
      fingerprint: "AB:CD:..."              # SHA-256 of the server certificate, instead of a CA
      verify: true

Environment: SECAUDIT_ES_URL, SECAUDIT_ES_API_KEY, SECAUDIT_ES_USER, SECAUDIT_ES_PASSWORD,
SECAUDIT_ES_CA, SECAUDIT_ES_FINGERPRINT.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secaudit.catalog.yamlload import YDict, check_keys, located
from secaudit.core.errors import ConfigError, UsageError
from secaudit.core.redact import Secret, redact  # Secret: settings hand them out

ENV_URL = "SECAUDIT_ES_URL"
ENV_API_KEY = "SECAUDIT_ES_API_KEY"
ENV_USER = "SECAUDIT_ES_USER"
ENV_PASSWORD = "SECAUDIT_ES_PASSWORD"  # noqa: S105 - the name of a variable, not a password
ENV_CA = "SECAUDIT_ES_CA"
ENV_FINGERPRINT = "SECAUDIT_ES_FINGERPRINT"
PROFILE_KEYS = ("url", "api_key_env", "username", "password_env", "ca_cert", "fingerprint", "verify")


@dataclass(frozen=True, slots=True, kw_only=True)
class EsSettings:
    """How to reach one cluster. ``url`` never holds credentials."""

    url: str = ""
    api_key: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    ca_cert: Path | None = None
    fingerprint: str | None = None
    verify: bool = True

    def describe(self) -> str:
        """The settings in words, secrets left out (for -v output and error messages)."""
        auth = "API key" if self.api_key else f"user {self.username}" if self.username else "no credentials"
        tls = ""
        if self.url.startswith("https"):
            tls = "TLS verified" if self.verify else "TLS not verified"
        return ", ".join(p for p in (self.url, auth, tls) if p)


def check_url(url: str, *, location: str | None = None) -> str:
    """The URL if it is http(s)://host[:port][/path] without credentials; else a usage error.

    The URL itself is never echoed when it may hold a password: ``user:pa#ss@`` or ``pa/ss``
    cut the URL in unexpected places, so any ``@`` counts as credentials.
    """
    hint = "write it as https://HOST:9200 (or http:// for a local test cluster)"
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        host = rest.rsplit("@", 1)[1].split("/", 1)[0]
        raise UsageError(
            f"the Elasticsearch URL carries credentials ({scheme}{sep}{host} with user:password@)",
            location=location,
            hint=f"put the URL without them and give the credentials in {ENV_API_KEY}, or {ENV_USER} "
            f"and {ENV_PASSWORD}",
        )
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - validates the port; urlsplit only parses it on access
    except ValueError as e:
        raise UsageError(
            f"not an Elasticsearch URL: {redact(url)!r} (bad port)", location=location, hint=hint
        ) from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an Elasticsearch URL: {redact(url)!r}", location=location, hint=hint)
    return url.rstrip("/")


def parse_settings(node: Any, profile: Path, env: Mapping[str, str] | None = None) -> EsSettings:
    """The profile's ``elasticsearch:`` section (a YDict from load_yaml) as settings; secrets are read
    from the environment variables it names. Raises ConfigError with file:line."""
    env = os.environ if env is None else env
    if not isinstance(node, YDict):
        raise ConfigError(
            "elasticsearch must be a mapping",
            location=located(profile, node),
            hint="write e.g.  elasticsearch: {url: https://es.example:9200, api_key_env: MY_KEY_VARIABLE}",
        )
    for secret_key in ("api_key", "password"):
        if secret_key in node:
            raise ConfigError(
                f"the profile must not hold the {secret_key.replace('_', ' ')} itself",
                location=located(profile, node, secret_key),
                hint=f"store it in an environment variable and name it with '{secret_key}_env:'",
            )
    check_keys(node, allowed=PROFILE_KEYS, where="elasticsearch")

    def text(key: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"elasticsearch {key} must be a non-empty text",
                location=located(profile, node, key),
            )
        return value.strip()

    def secret(key: str) -> Secret | None:
        name = text(key)
        if name is None:
            return None
        value = env.get(name)
        if not value:
            raise ConfigError(
                f"environment variable {name} (elasticsearch {key}) is not set",
                location=located(profile, node, key),
                hint=f"export {name}=... before running secaudit",
            )
        return Secret(value)

    url = text("url")
    if url is not None:
        try:
            url = check_url(url, location=located(profile, node, "url"))
        except UsageError as e:
            raise ConfigError(e.message, location=e.location, hint=e.hint) from e
    verify = node.get("verify", True)
    if not isinstance(verify, bool):
        raise ConfigError(
            "elasticsearch verify must be true or false",
            location=located(profile, node, "verify"),
        )
    ca = text("ca_cert")
    ca_path = None
    if ca is not None:
        ca_path = Path(ca) if Path(ca).is_absolute() else profile.parent / ca
        if not ca_path.is_file():
            raise ConfigError(
                f"CA certificate not found: {ca_path}",
                location=located(profile, node, "ca_cert"),
                hint="give the PEM file of the CA that signed the cluster's certificate",
            )
    username = text("username")
    password = secret("password_env")
    if (username is None) != (password is None):
        raise ConfigError(
            "elasticsearch needs both username and password_env, or neither",
            location=located(profile, node),
        )
    return EsSettings(
        url=url or "",
        api_key=secret("api_key_env"),
        username=username,
        password=password,
        ca_cert=ca_path,
        fingerprint=text("fingerprint"),
        verify=verify,
    )


def from_environment(env: Mapping[str, str] | None = None) -> EsSettings:
    """Settings from the SECAUDIT_ES_* variables (empty ones count as unset)."""
    env = os.environ if env is None else env
    url = env.get(ENV_URL) or ""
    ca = env.get(ENV_CA)
    if ca and not Path(ca).is_file():
        raise UsageError(f"{ENV_CA} names no file: {ca}", hint="give the path of the CA's PEM file")
    return EsSettings(
        url=check_url(url, location=ENV_URL) if url else "",
        api_key=Secret(env[ENV_API_KEY]) if env.get(ENV_API_KEY) else None,
        username=env.get(ENV_USER) or None,
        password=Secret(env[ENV_PASSWORD]) if env.get(ENV_PASSWORD) else None,
        ca_cert=Path(ca) if ca else None,
        fingerprint=env.get(ENV_FINGERPRINT) or None,
    )


def resolve(
    url: str | None, *, profile: EsSettings | None = None, env: Mapping[str, str] | None = None
) -> EsSettings:
    """The settings a command uses: ``url`` (the --es option) over SECAUDIT_ES_URL over the profile's
    url; each credential from the environment over the profile. A usage error when no URL is known."""
    base = profile or EsSettings()
    environment = from_environment(env)
    chosen = check_url(url, location="--es") if url else environment.url or base.url
    if not chosen:
        raise UsageError(
            "no Elasticsearch URL",
            hint=f"pass --es URL, set {ENV_URL}, or add elasticsearch: url: to the profile",
        )
    merged = replace(
        base,
        url=chosen,
        api_key=environment.api_key or base.api_key,
        ca_cert=environment.ca_cert or base.ca_cert,
        fingerprint=environment.fingerprint or base.fingerprint,
    )
    if environment.username or environment.password:
        merged = replace(merged, username=environment.username, password=environment.password)
    if (merged.username is None) != (merged.password is None):
        raise UsageError(
            "basic authentication needs both a user and a password",
            hint=f"set both {ENV_USER} and {ENV_PASSWORD}, or use {ENV_API_KEY}",
        )
    return merged

"""The official Elasticsearch client, built from :class:`EsSettings`, and its errors as ours.

One client for Elasticsearch and OpenSearch: its transport (:mod:`secaudit.elastic.transport`) adapts
every request to the engine :func:`open_cluster` identified.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch

from secaudit.core.errors import OperationalError
from secaudit.elastic.settings import ENV_API_KEY, ENV_PASSWORD, ENV_USER, EsSettings
from secaudit.elastic.transport import Engine, EngineTransport, identify

RETRY_STATUS = (429, 500, 502, 503, 504)


def connect(settings: EsSettings, *, timeout: float = 30.0, retries: int = 3) -> Elasticsearch:
    """A client for the cluster; nothing is sent until the first call."""
    kwargs: dict[str, Any] = {
        "request_timeout": timeout,
        "max_retries": retries,
        "retry_on_status": RETRY_STATUS,
        "retry_on_timeout": True,
        "transport_class": EngineTransport,
    }
    if settings.api_key is not None:
        kwargs["api_key"] = settings.api_key.reveal()
    elif settings.username is not None and settings.password is not None:
        kwargs["basic_auth"] = (settings.username, settings.password.reveal())
    if settings.url.startswith("https"):
        kwargs["verify_certs"] = settings.verify
        if not settings.verify:
            kwargs["ssl_show_warn"] = False
        if settings.ca_cert is not None:
            kwargs["ca_certs"] = str(settings.ca_cert)
        if settings.fingerprint is not None:
            kwargs["ssl_assert_fingerprint"] = settings.fingerprint
    return Elasticsearch(settings.url, **kwargs)


def open_cluster(
    settings: EsSettings, doing: str, *, timeout: float = 30.0, retries: int = 3
) -> tuple[Elasticsearch, Engine]:
    """A client for the cluster with its engine identified (``GET /``); an OperationalError naming the
    engine when secaudit does not support it."""
    client = connect(settings, timeout=timeout, retries=retries)
    with cluster_errors(settings, doing):
        engine = identify(client)
    problem = engine.problem()
    if problem is not None:
        raise OperationalError(
            problem,
            location=settings.url,
            hint="check the URL; `secaudit logs es-check URL` shows what answers there",
        )
    return client, engine


def describe_error(error: Exception) -> str:
    """A short text of a client error: the status and Elasticsearch's own reason when there is one."""
    if isinstance(error, ApiError):
        body: dict[str, Any] = error.body if isinstance(error.body, dict) else {}
        cause: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
        roots = cause.get("root_cause")
        root: dict[str, Any] = (
            roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], dict) else cause
        )
        reason = root.get("reason") or cause.get("reason") or error.message
        kind = root.get("type") or cause.get("type") or ""
        return f"HTTP {error.status_code}" + (f" {kind}" if kind else "") + f": {reason}"
    return f"{type(error).__name__}: {error}"


@contextmanager
def cluster_errors(settings: EsSettings, doing: str) -> Iterator[None]:
    """Turn the client's errors while ``doing`` something into OperationalError naming the URL."""
    try:
        yield
    except ApiError as e:
        hint = None
        if e.status_code in (401, 403):
            hint = (
                f"check the credentials ({ENV_API_KEY}, or {ENV_USER} and {ENV_PASSWORD}) "
                "and their privileges"
            )
        raise OperationalError(
            f"the cluster refused {doing}: {describe_error(e)}", location=settings.url, hint=hint
        ) from e
    except elastic_transport.TlsError as e:
        raise OperationalError(
            f"TLS failed while {doing}: {e}",
            location=settings.url,
            hint="give the cluster's CA (SECAUDIT_ES_CA or the profile's ca_cert) or its fingerprint",
        ) from e
    except elastic_transport.TransportError as e:
        raise OperationalError(
            f"the cluster is unreachable while {doing}: {describe_error(e)}",
            location=settings.url,
            hint="check the URL, that the cluster runs, and that this machine may reach it",
        ) from e

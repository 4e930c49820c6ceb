"""nginx configuration: tokens from crossplane's lexer, the block tree built here, includes
resolved through the target (so an offline root is never left), and nginx's inheritance rules:
a directive set at an inner level hides every value of the same directive from outer levels."""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crossplane.errors import NgxParserBaseException  # type: ignore[import-untyped]
from crossplane.lexer import _balance_braces, _lex_file_object  # type: ignore[import-untyped]

from secaudit.baseline.model import Observation
from secaudit.baseline.probes.base import CONFIGS, Param, config_text, probe
from secaudit.baseline.target import FileTarget, NotApplicable, ProbeError, Target

NGINX_CONF = "/etc/nginx/nginx.conf"
MAX_INCLUDE_DEPTH = 16


@dataclass(slots=True)
class Directive:
    name: str
    args: list[str]
    file: str
    line: int
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)


def _lex(text: str, label: str) -> list[tuple[str, int, bool]]:
    # crossplane's public lex() opens paths itself; feeding it text keeps every read inside the target.
    try:
        return list(_balance_braces(_lex_file_object(io.StringIO(text)), label))
    except NgxParserBaseException as e:
        raise ProbeError(f"{label}: nginx syntax error: {e.strerror} (line {e.lineno})") from e


def _build(
    target: Target, tokens: list[tuple[str, int, bool]], label: str, pos: int, depth: int
) -> tuple[list[Directive], int]:
    out: list[Directive] = []
    while pos < len(tokens):
        word, line, quoted = tokens[pos]
        if word == "}" and not quoted:
            return out, pos + 1
        args: list[str] = []
        pos += 1
        while pos < len(tokens) and not (tokens[pos][0] in {";", "{"} and not tokens[pos][2]):
            args.append(tokens[pos][0])
            pos += 1
        if pos >= len(tokens):
            raise ProbeError(f"{label}:{line}: directive '{word}' has no ending ';'")
        d = Directive(word, args, label, line)
        if tokens[pos][0] == "{":
            d.children, pos = _build(target, tokens, label, pos + 1, depth)
        else:
            pos += 1
        if word == "include" and args:
            out.extend(_include(target, args[0], depth, f"{label}:{line}"))
        else:
            out.append(d)
    return out, pos


def _include(target: Target, pattern: str, depth: int, where: str) -> list[Directive]:
    if isinstance(target, FileTarget):
        return []  # a single dump: included files were not collected
    if depth >= MAX_INCLUDE_DEPTH:
        raise ProbeError(f"{where}: include nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)")
    if not pattern.startswith("/"):
        pattern = posixpath.join(posixpath.dirname(NGINX_CONF), pattern)
    paths = target.glob(pattern) if any(c in pattern for c in "*?[") else [pattern]
    out: list[Directive] = []
    for path in paths:
        text = target.read_text(path)
        if text is not None:
            out.extend(_build(target, _lex(text, path), path, 0, depth + 1)[0])
    return out


def nginx_tree(target: Target, path: str = NGINX_CONF) -> list[Directive]:
    def build() -> list[Directive]:
        label, text = config_text(target, path, what="nginx")
        return _build(target, _lex(text, label), label, 0, 0)[0]

    return target.memo(("nginx", path), build)


def _own(block: list[Directive], name: str) -> list[Directive]:
    return [d for d in block if d.name == name]


def _listens_tls(server: Directive) -> bool:
    for d in _own(server.children, "listen"):
        if "ssl" in d.args or any(a.endswith("443") for a in d.args):
            return True
    return bool(any(d.args[:1] == ["on"] for d in _own(server.children, "ssl")))


def _server_name(server: Directive) -> str:
    names = [a for d in _own(server.children, "server_name") for a in d.args]
    return names[0] if names else "_"


@probe(
    "nginx_directive",
    targets=CONFIGS,
    params=(
        Param(name="directive", type=str, required=True),
        Param(name="scope", type=str, default="server", choices=("http", "server", "location", "any")),
        Param(name="arg", type=str, default=""),
        Param(name="default", type=str, default=None),
        Param(name="tls_only", type=bool, default=False),
        Param(name="path", type=str, default=NGINX_CONF),
    ),
)
def nginx_directive(target: Target, p: Mapping[str, Any]) -> list[Observation]:
    """The effective value (arguments joined by spaces) of a directive at every ``http``, ``server``
    or ``location`` block, inherited from outer blocks, else ``default`` (else unset); ``any`` lists
    every occurrence. ``arg`` keeps only occurrences whose first argument matches (``add_header
    X-Frame-Options``) and drops it from the value. ``tls_only`` looks only at servers that listen
    with TLS."""
    name = p["directive"]
    arg_rx = re.compile(p["arg"], re.IGNORECASE) if p.get("arg") else None
    tree = nginx_tree(target, p.get("path", NGINX_CONF))
    scope = p.get("scope", "server")

    def pick(ds: list[Directive]) -> list[Directive]:
        return [d for d in ds if arg_rx is None or (d.args and arg_rx.fullmatch(d.args[0]))]

    def value(d: Directive) -> str:
        return " ".join(d.args[1:] if arg_rx is not None else d.args)

    if scope == "any":
        everywhere: list[Directive] = []
        todo = list(tree)
        while todo:
            d = todo.pop(0)
            if d.name == name:
                everywhere.append(d)
            todo.extend(d.children)
        return [
            Observation(subject=name, value=value(d), file=d.file, line=d.line) for d in pick(everywhere)
        ] or [Observation(subject=name, value=None, note="not set anywhere")]

    out: list[Observation] = []
    https = [d for d in tree if d.name == "http"]
    # A single dump may be just a server block (a sites-available file): treat it as its own http.
    roots = https or [Directive("http", [], tree[0].file if tree else "", 0, children=tree)]

    def effective(chain: list[Directive], subject: str, at: Directive) -> None:
        for level in reversed(chain):
            own = _own(level.children, name)
            if own:
                chosen = pick(own)
                if chosen:
                    for d in chosen:
                        note = "" if level is chain[-1] else f"inherited from {level.name}"
                        out.append(
                            Observation(subject=subject, value=value(d), file=d.file, line=d.line, note=note)
                        )
                    return
                break
        default = p.get("default")
        out.append(
            Observation(
                subject=subject,
                value=default,
                file=at.file,
                line=at.line,
                note="nginx default" if default is not None else "not set",
            )
        )

    servers = [s for h in roots for s in _own(h.children, "server")]
    if p.get("tls_only") and scope != "http" and not any(_listens_tls(s) for s in servers):
        raise NotApplicable("no server block listens with TLS")
    for http in roots:
        if scope == "http":
            effective([http], "http", http)
            continue
        for server in _own(http.children, "server"):
            if p.get("tls_only") and not _listens_tls(server):
                continue
            label = f"server {_server_name(server)}"
            if scope == "server":
                effective([http, server], label, server)
                continue
            for loc in _own(server.children, "location"):
                effective([http, server, loc], f"{label} location {' '.join(loc.args)}", loc)
    return out

"""Drive Lucene (Debian's liblucene8-java, on Debian's OpenJDK 17) from the tests: our converted
queries parsed by Lucene's classic query parser as Elasticsearch's ``query_string`` uses it, checked
against Elasticsearch's limits and run over our documents in an in-memory Lucene index.

``LuceneCheck.java`` (beside this file) is compiled once into the test cache (outside the repository,
keyed by its source) and runs in one JVM for all documents and queries. Documents are the exact bytes
``bulk_actions`` sends to a cluster, decoded; each value is indexed as the index template maps it
(:func:`secaudit.elastic.documents.index_template`): a lowercase-normalized keyword, the ``cased``
keyword, the ``num`` double and the ``ip`` address, and copied into ``secaudit.values``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from secaudit.elastic.layouts import ADDRESS, ECS, LAYOUTS, NUMBER

SOURCE = Path(__file__).with_name("lucene") / "LuceneCheck.java"
JARS = ("lucene-core", "lucene-queryparser", "lucene-analyzers-common", "lucene-misc")
JAVA_DIR = Path("/usr/share/java")
PACKAGES = "liblucene8-java openjdk-17-jdk-headless"


class LuceneUnavailable(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Answer:
    """Lucene's answer to one query: the documents it matched, or why it was refused."""

    query: str
    clauses: int = 0
    documents: tuple[int, ...] = ()
    error: str | None = None


def classpath() -> list[Path]:
    jars = []
    for name in JARS:
        found = sorted(JAVA_DIR.glob(f"{name}-8*.jar"))
        if not found:
            raise LuceneUnavailable(f"{name}-8*.jar not in {JAVA_DIR}: install {PACKAGES} (make install)")
        jars.append(found[-1])
    return jars


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secaudit-test"


def compiled() -> Path:
    """The folder holding LuceneCheck.class, compiled when its source (or the jars) changed."""
    javac = shutil.which("javac")
    if javac is None:
        raise LuceneUnavailable(f"javac not found: install {PACKAGES} (make install)")
    jars = classpath()
    key = hashlib.sha256(SOURCE.read_bytes() + "".join(j.name for j in jars).encode()).hexdigest()[:16]
    target = _cache() / f"lucene-check-{key}"
    if (target / "LuceneCheck.class").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lucene-check-", dir=target.parent))
    subprocess.run(
        [javac, "-nowarn", "-d", str(work), "-cp", ":".join(map(str, jars)), str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    try:
        work.rename(target)
    except OSError:  # another run compiled it meanwhile
        shutil.rmtree(work, ignore_errors=True)
    return target


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def _texts(value: Any) -> Iterable[str]:
    """The keyword texts Elasticsearch indexes for a JSON value: a list's elements, a boolean as
    true/false, a number as written in the document, nothing for null."""
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, (int, float)):
        yield orjson.dumps(value).decode()
    elif isinstance(value, str):
        yield value
    else:
        raise ValueError(f"an object value where the template maps keywords: {value!r}")


def _address(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text).packed.hex()
    except ValueError:
        return None


def document_lines(doc: dict[str, Any]) -> Iterable[str]:
    yield "D"
    meta = doc.get("secaudit") or {}
    for name in ("product", "categories", "services"):
        for text in _texts(meta.get(name)):
            yield f"C\t{_b64('secaudit.' + name)}\t{_b64(text)}"
    for name, value in (doc.get("sigma") or {}).items():
        field = "sigma." + name
        for text in _texts(value):
            encoded = _b64(text)
            yield f"L\t{_b64(field)}\t{encoded}"
            yield f"L\t{_b64('secaudit.values')}\t{encoded}"
            yield f"C\t{_b64(field + '.cased')}\t{encoded}"
            yield f"N\t{_b64(field + '.num')}\t{encoded}"
            address = _address(text)
            if address is not None:
                yield f"I\t{_b64(field + '.ip')}\t{_b64(address)}"


# ECS fields of the wildcard type (no ignore_above); other ECS keywords are indexed up to 1,024 characters
ECS_WILDCARD = frozenset({"process.command_line", "process.parent.command_line"})


def _flat(doc: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flat(value, name + ".")
        else:
            yield name, value


def layout_document_lines(doc: dict[str, Any], layout_name: str) -> Iterable[str]:
    """A document of an ECS or Wazuh index as that index maps it (secaudit.elastic.layouts): ECS
    numbers, addresses and booleans by their ECS types, other ECS values exact keywords (ignore_above
    1,024, none on wildcard fields), every Wazuh value an exact keyword without ignore_above."""
    layout = LAYOUTS[layout_name]
    yield "D"
    for name, value in _flat(doc):
        kind = layout.kind(name) if layout_name == ECS else ""
        for text in _texts(value):
            if kind == NUMBER:
                yield f"N\t{_b64(name)}\t{_b64(text)}"
            elif kind == ADDRESS:
                address = _address(text)
                if address is not None:
                    yield f"I\t{_b64(name)}\t{_b64(address)}"
            else:
                letter = "K" if layout_name == ECS and name not in ECS_WILDCARD else "W"
                yield f"{letter}\t{_b64(name)}\t{_b64(text)}"


ECS_IGNORE_ABOVE = 1024  # what LuceneCheck.java leaves unindexed on an ECS keyword ("K") field


def ignored_fields(doc: dict[str, Any], layout_name: str) -> set[str]:
    """The fields of a layout document that its index leaves unindexed for length (a value over the
    keyword field's ignore_above, counted in UTF-16 units as Java counts), as Elasticsearch lists them
    in the document's ``_ignored`` field: ECS keywords over 1,024; none on Wazuh (no ignore_above)."""
    if layout_name != ECS:
        return set()
    layout = LAYOUTS[layout_name]
    return {
        name
        for name, value in _flat(doc)
        if layout.kind(name) not in (NUMBER, ADDRESS)
        and name not in ECS_WILDCARD
        and any(
            len(text.encode("utf-16-le", "surrogatepass")) // 2 > ECS_IGNORE_ABOVE for text in _texts(value)
        )
    }


def layout_declarations(documents: Sequence[dict[str, Any]], layout_name: str) -> list[str]:
    """``F`` records: every field of the layout's documents, and its typed fields, read as its index
    maps them (not by the name rules of secaudit's own mapping)."""
    layout = LAYOUTS[layout_name]
    names = {name for doc in documents for name, _ in _flat(doc)} | set(layout.kinds)
    letters = {NUMBER: "N", ADDRESS: "I"}
    return [f"F\t{_b64(name)}\t{letters.get(layout.kind(name), 'C')}" for name in sorted(names)]


def run(
    documents: Sequence[dict[str, Any]],
    queries: Sequence[str],
    *,
    timeout: float = 600,
    layouts: Sequence[tuple[str, Sequence[dict[str, Any]]]] = (),
) -> list[Answer]:
    """Index ``documents`` (numbered in order), then each ``layouts`` entry's documents (an ECS or
    Wazuh layout's, numbered on), and answer every query, in one JVM."""
    classes = compiled()
    java = shutil.which("java")
    if java is None:
        raise LuceneUnavailable(f"java not found: install {PACKAGES} (make install)")
    lines: list[str] = []
    for doc in documents:
        lines.extend(document_lines(doc))
    for name, docs in layouts:
        lines.extend(layout_declarations(docs, name))
        for doc in docs:
            lines.extend(layout_document_lines(doc, name))
    lines.extend(f"Q\t{_b64(q)}" for q in queries)
    process = subprocess.run(
        [
            java,
            "-Xss8m",
            "-Xmx1g",
            "-XX:+UseSerialGC",
            "-cp",
            ":".join([str(classes), *map(str, classpath())]),
            "LuceneCheck",
        ],
        input="\n".join(lines).encode("utf-8", "surrogatepass"),
        capture_output=True,
        check=False,
        timeout=timeout,
    )
    if process.returncode != 0:
        raise RuntimeError(f"LuceneCheck failed ({process.returncode}): {process.stderr.decode()[-2000:]}")
    answers = []
    out = process.stdout.decode("utf-8").split("\n")
    for query, line in zip(queries, out, strict=False):
        parts = line.split("\t")
        if parts[0] == "OK":
            found = tuple(int(n) for n in parts[2].split(",") if n)
            answers.append(Answer(query, clauses=int(parts[1]), documents=found))
        else:
            answers.append(Answer(query, error=parts[1] if len(parts) > 1 else line))
    if len(answers) != len(queries):
        raise RuntimeError(f"LuceneCheck answered {len(answers)} of {len(queries)} queries")
    return answers


def decoded(body: bytes) -> dict[str, Any]:
    return dict(json.loads(body))

"""Load Sigma rules: YAML (libyaml), pySigma's rule model, our IR; cached by content hash.

Each file is parsed once per content: the compiled entries of the files under the same roots are
pickled together under ``cache_dir/files/<hash of roots>.pickle`` (keyed inside by each file's content
hash), and the assembled rule set of a whole list of files under ``cache_dir/sets/<hash>.pickle``,
so a warm load reads and hashes the rule files and unpickles one file: no YAML, no pySigma; after an
edit only the changed files are compiled again. A corrupt or unreadable cache entry is ignored and
rebuilt; a cache folder that cannot be written only costs speed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import multiprocessing as mp
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import yaml
from sigma.correlations import SigmaCorrelationRule
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from secaudit.catalog.compliance import compliance_references
from secaudit.catalog.localtext import RULE_KEYS as THAI_KEYS
from secaudit.catalog.localtext import thai_problem
from secaudit.core.errors import ConfigError
from secaudit.core.model import LocalText
from secaudit.detect.assemble import assemble
from secaudit.detect.documents import split_documents
from secaudit.detect.ir import IRCompiler, bounded_regexes, gates
from secaudit.detect.model import LEVELS, RuleInfo, UnsupportedRule
from secaudit.detect.plans import Assembled, FilterPlan, RuleCache, RulePlan, RuleSet, digest
from secaudit.detect.values import BOUNDED_REGEX_INPUT, REGEX_TIME_BUDGET

# The code that turns rules into cached plans: the compiler and engine, and the log kinds plans name.
ENGINE_SOURCES = (Path(__file__).resolve().parent, Path(__file__).resolve().parents[1] / "core" / "events.py")


def distribution_version(name: str) -> str:
    """The installed version of a distribution (pySigma has no ``__version__``), or "absent"."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def engine_fingerprint(sources: Sequence[Path] = ENGINE_SOURCES) -> str:
    """A hash of every source file of the rule compiler and engine: any change to them is a new key,
    so cached plans are never read by code other than the code that wrote them (no constant to bump)."""
    h = hashlib.blake2b(digest_size=12)
    for source in sources:
        files = sorted(source.rglob("*.py")) if source.is_dir() else [source]
        for path in files:
            name = (path.relative_to(source).as_posix() if source.is_dir() else path.name).encode()
            data = path.read_bytes()
            h.update(len(name).to_bytes(4, "little") + name + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def cache_format(pysigma: str, engine: str) -> str:
    """What a cached entry depends on besides the rule's own bytes: pySigma, our engine, Python."""
    return f"secaudit-rules/pysigma-{pysigma}/engine-{engine}/py{sys.version_info[0]}.{sys.version_info[1]}"


@functools.cache
def current_cache_format() -> str:
    return cache_format(distribution_version("pysigma"), engine_fingerprint())


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secaudit" / "rules"


def rule_files(paths: Sequence[Path]) -> list[Path]:
    """The rule files named by ``paths``: files as given, directories searched for *.yml / *.yaml."""
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = [p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()]
            out.extend(sorted(found, key=lambda p: p.as_posix()))
        elif path.is_file():
            out.append(path)
        else:
            raise ConfigError(
                f"rules path {str(path)!r} does not exist",
                hint="pass a Sigma rule file or a folder of *.yml rules",
            )
    return out


def load_rules(
    paths: Sequence[Path],
    *,
    cache_dir: Path | None = None,
    placeholders: Mapping[str, Sequence[str]] | None = None,
    min_level: str | None = None,
) -> RuleSet:
    """Load every rule under ``paths``; problems are collected per rule, never raised."""
    if min_level is not None and min_level not in LEVELS:
        raise ConfigError(f"unknown rule level {min_level!r}", hint=f"use one of: {', '.join(LEVELS)}")
    cache = RuleCache(cache_dir if cache_dir is not None else default_cache_dir())
    fmt = current_cache_format().encode()
    config = repr(sorted((k, list(v)) for k, v in (placeholders or {}).items())).encode()
    files = rule_files(paths)
    contents: list[tuple[str, bytes, str]] = []
    for file in files:
        data = file.read_bytes()
        contents.append((str(file), data, digest(fmt, config, data)))
    set_key = digest(fmt, config, *(f"{p}\0{d}".encode() for p, _, d in contents))
    assembled = cache.get("sets", set_key)
    if not isinstance(assembled, Assembled):
        # Entries of the files last loaded from the same roots: only changed files are compiled again.
        roots = digest(fmt, config, *(str(Path(p).resolve()).encode() for p in paths))
        known = cache.get("files", roots)
        known = known if isinstance(known, dict) else {}
        todo = [data for _, data, d in contents if d not in known]
        fresh: dict[str, list[Entry]] = dict(
            zip(
                (d for _, data, d in contents if d not in known),
                _compile_many(todo, placeholders),
                strict=True,
            )
        )
        entries = [(path, d, known[d] if d in known else fresh[d]) for path, _, d in contents]
        if fresh:
            cache.put("files", roots, {d: e for _, d, e in entries})
        assembled = assemble(entries, cache)
        cache.put("sets", set_key, assembled)
    return assembled.select(min_level, len(files))


# One compiled file: a list of entries, each a tuple whose first item says what it is.
#   ("rule", line, doc_index, RulePlan without location)
#   ("filter", line, FilterPlan)
#   ("correlation", line, doc_index, document dict, RuleInfo without location)
#   ("problem", line, reason, rule_id, title, level, skipped)
Entry = tuple[Any, ...]


BOUNDED_NOTE = (
    f"loaded; regex evaluated with a bounded backtracking engine (RE2 cannot compile it; only the first "
    f"{BOUNDED_REGEX_INPUT} characters of each value are searched, for at most {REGEX_TIME_BUDGET:g} s each)"
)
PARALLEL_FROM = 200  # files; below this a second process costs more than it saves


def _compile_chunk(datas: list[bytes], placeholders: Mapping[str, Sequence[str]] | None) -> list[list[Entry]]:
    compiler = IRCompiler(placeholders)
    return [compile_file(data, compiler) for data in datas]


def _compile_many(datas: list[bytes], placeholders: Mapping[str, Sequence[str]] | None) -> list[list[Entry]]:
    """Compile files, the second half in a forked process when there are many (YAML and pySigma are
    pure Python past the parser: two cores halve a cold load of the SigmaHQ folders)."""
    if (
        len(datas) < PARALLEL_FROM
        or (os.cpu_count() or 1) < 2
        or "fork" not in mp.get_all_start_methods()
        or threading.active_count() > 1  # forking a threaded process can deadlock the child
    ):
        return _compile_chunk(datas, placeholders)
    half = len(datas) // 2
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork")) as pool:
            second = pool.submit(_compile_chunk, datas[half:], placeholders)
            first = _compile_chunk(datas[:half], placeholders)
            rest: list[list[Entry]] = second.result()
            return first + rest
    except (OSError, BrokenProcessPool):  # no process to be had, or it died: do it here
        return _compile_chunk(datas, placeholders)


def thai_block(rule: Any) -> tuple[LocalText, ...]:
    """A rule's Thai: the custom top-level attribute ``th: {title, description, remediation}`` that
    Sigma allows beside the standard fields (pySigma keeps it in ``custom_attributes``). ``()`` when
    the rule has none or it is malformed (:func:`thai_note` says what is wrong)."""
    block = (getattr(rule, "custom_attributes", None) or {}).get("th")
    if block is None or thai_problem(block, THAI_KEYS) is not None:
        return ()
    return (
        LocalText(
            lang="th",
            title=" ".join(block["title"].split()),
            description=" ".join(block["description"].split()),
            remediation=" ".join(block["remediation"].split()),
        ),
    )


def thai_note(doc: Mapping[str, Any]) -> str | None:
    """What is wrong with a rule document's ``th:`` block (the rule still loads, in English only)."""
    if "th" not in doc:
        return None
    problem = thai_problem(doc["th"], THAI_KEYS)
    if problem is None:
        return None
    message, _key, hint = problem
    return f"loaded without its Thai text: {message} ({hint})"


def info_of(rule: Any, *, correlation: str = "") -> RuleInfo:
    logsource = getattr(rule, "logsource", None)
    return RuleInfo(
        # as secaudit.detect.correlate.rule_key: the id, else the name, else the title
        id=str(rule.id) if rule.id is not None else (rule.name or rule.title or ""),
        title=rule.title or "",
        level=rule.level.name.lower() if rule.level is not None else "",
        status=rule.status.name.lower() if rule.status is not None else "",
        author=rule.author or "",
        description=rule.description or "",
        tags=tuple(str(t) for t in rule.tags),
        references=tuple(str(r) for r in rule.references),
        falsepositives=tuple(str(f) for f in rule.falsepositives),
        product=getattr(logsource, "product", None),
        category=getattr(logsource, "category", None),
        service=getattr(logsource, "service", None),
        correlation=correlation,
        texts=thai_block(rule),
        compliance=compliance_references((getattr(rule, "custom_attributes", None) or {}).get("compliance"))[
            0
        ],
    )


def _problem(line: int, reason: str, doc: Any, *, skipped: bool = True) -> Entry:
    rule_id = str(doc.get("id", "")) if isinstance(doc, dict) else ""
    title = str(doc.get("title", "")) if isinstance(doc, dict) else ""
    level = doc.get("level") if isinstance(doc, dict) else None
    level = level.lower() if isinstance(level, str) and level.lower() in LEVELS else ""
    return ("problem", line, reason, rule_id, title, level, skipped)


def compile_file(data: bytes, compiler: IRCompiler) -> list[Entry]:
    """Every document of one rule file compiled, or turned into a problem entry."""
    out: list[Entry] = []
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark some editors write is not part of the rule
    except UnicodeDecodeError as e:
        return [("problem", 1, f"not UTF-8 text (byte {e.start})", "", "", "", True)]
    for index, (line, doc) in enumerate(split_documents(text)):
        if isinstance(doc, yaml.YAMLError):
            out.append(("problem", line, f"YAML: {getattr(doc, 'problem', None) or doc}", "", "", "", True))
            continue
        if not isinstance(doc, dict):
            out.append(("problem", line, "a rule document must be a mapping", "", "", "", True))
            continue
        note = thai_note(doc)
        if note is not None:
            out.append(_problem(line, note, doc, skipped=False))  # the rule runs, in English
        try:
            if "correlation" in doc:
                rule = SigmaCorrelationRule.from_dict(doc)
                out.append(
                    ("correlation", line, index, doc, info_of(rule, correlation=rule.type.name.lower()))
                )
            elif "filter" in doc and "detection" not in doc:
                flt = SigmaFilter.from_dict(doc)
                rules = flt.filter.rules
                node = compiler.detections(flt.filter.detections, flt.filter.condition)
                fplan = FilterPlan(
                    id=str(flt.id) if flt.id is not None else "",
                    title=flt.title or "",
                    product=flt.logsource.product,
                    category=flt.logsource.category,
                    service=flt.logsource.service,
                    targets=None if isinstance(rules, str) else tuple(r.reference for r in rules),
                    node=node,
                )
                out.append(("filter", line, fplan))
            else:
                det = SigmaRule.from_dict(doc)
                node = compiler.rule(det)
                first, second = gates(node)
                plan = RulePlan(info=info_of(det), node=node, gate=first, name=det.name or "", second=second)
                out.append(("rule", line, index, plan))
                if bounded_regexes(node):
                    out.append(_problem(line, BOUNDED_NOTE, doc, skipped=False))
        except UnsupportedRule as e:
            out.append(_problem(line, f"unsupported: {e.reason}", doc))
        except Exception as e:  # pySigma's errors, and anything a malformed document provokes
            out.append(_problem(line, f"{type(e).__name__}: {e}", doc))
    return out


__all__ = ["RuleSet", "load_rules"]

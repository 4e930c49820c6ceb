"""The fast matcher: logsource groups, a Hyperscan literal prefilter, compiled closures.

Per event: the rules whose logsource covers the event's kind (computed once per distinct LogKind);
the values of the fields those rules name, lowercased once (a long rendered Message no rule names is
left alone); one pass of the group's literal set over those values, and, when the group has keyword
(full-text) rules, one pass of their much smaller set over all values, to find the rules with at
least one required literal present (first gate) and, for rules that have one, a literal or value of
a second test (second gate); then the exact compiled predicate of those candidates only, plus the
few rules that have no literal to filter on. Hits come out in event order, then rule order.
Construction builds closures only: no threads, no open files, safe to fork. A group's literal
databases are compiled when its first event arrives, or read from the cache folder when given."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from operator import itemgetter
from pathlib import Path
from typing import Any

from secaudit.core.events import LogEvent, LogKind
from secaudit.detect import _gates
from secaudit.detect.compile import Pred, compile_node
from secaudit.detect.ir import Node
from secaudit.detect.model import RuleHit, RuleInfo
from secaudit.detect.plans import RuleSet, digest
from secaudit.detect.reference import fields_of, positive_selections
from secaudit.detect.values import RegexBudgetExceeded, sigma_view, text_of, texts

SEPARATOR = "\x00"
MAX_KINDS = 4096
# A field gate literal of fewer UTF-8 bytes ("-", "/v", ";") is looked for with ``in``: in a Hyperscan
# database of thousands of literals, a few of them make every scan about twice as slow
SHORT = 3
MAX_SHAPES = 4096


# How JSON writes the characters a literal may hold without a \u escape (others are themselves)
_JSON_ESCAPES = {
    "\\": b"\\\\",
    '"': b'\\"',
    "\n": b"\\n",
    "\r": b"\\r",
    "\t": b"\\t",
    "\b": b"\\b",
    "\f": b"\\f",
}


# _gates.plain_json(text): JSON text without a non-ASCII byte and without a \u or \/ escape (after
# any number of escaped backslashes). Such a line holds every string value as itself but for the
# escapes _JSON_ESCAPES names, so a lowercased value's text is there with ASCII letters in either
# case; in any other line it may not be, and keyword gates read the values instead.


def _json_form(literal: str) -> bytes | None:
    """``literal`` as it appears inside a JSON string written without \\u escapes; None when it
    cannot (a non-ASCII character, or a control character other than the five JSON names)."""
    out = bytearray()
    for char in literal:
        escaped = _JSON_ESCAPES.get(char)
        if escaped is not None:
            out += escaped
        elif " " <= char <= "\x7f":
            out += char.encode()
        else:
            return None
    return bytes(out)


MAX_CACHED = 256  # compiled databases kept in the cache folder (SigmaHQ's rules/ make about 40)
_HYPERSCAN = _gates.HYPERSCAN_VERSION  # in the cache key of a compiled database


def _database(expressions: list[bytes], ids: list[int], flags: int, cache: Path | None) -> _gates.Database:
    """A Hyperscan block-mode database of the literals ``expressions`` (each with its id in ``ids``
    and ``flags``), read from ``cache`` when an earlier run compiled the same one there.

    Compiling the databases of SigmaHQ's Windows groups takes about a second of CPU in every
    process that matches; loading one takes well under a millisecond. A cached database that
    Hyperscan refuses (another version or CPU, a damaged file) is compiled again and rewritten.
    """
    key = digest(
        _HYPERSCAN.encode(),
        b"literal",
        repr(flags).encode(),
        repr(ids).encode(),
        *expressions,
    )
    path = cache / f"{key}.hsdb" if cache is not None else None
    if path is not None:
        try:
            return _gates.Database.load(path.read_bytes())
        except (OSError, ValueError):
            pass  # not there yet, or not usable here: compile it
    database = _gates.Database.compile(expressions, ids, [flags] * len(ids), True)
    if path is not None:
        _write(path, database.dump())
    return database


def _write(path: Path, data: bytes) -> None:
    """``data`` into ``path``, whole or not at all (a read-only cache only costs speed); beyond
    MAX_CACHED databases in the folder, the least recently written ones go."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        Path(tmp).replace(path)
        kept = sorted(path.parent.glob("*.hsdb"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[MAX_CACHED:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


@dataclass(slots=True)
class _Literals:
    """Gate literals searched in one haystack, first and second gates' together: one Hyperscan
    literal database reporting each literal's id (once per scan)."""

    literals: tuple[str, ...]
    ids: tuple[int, ...]  # ids[n]: the id of literals[n], unique within the group
    database: _gates.Database  # over the literals, UTF-8 (lone surrogates passed through)

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, int]], cache: Path | None) -> _Literals | None:
        """The database of these (literal, id) pairs; None when there are none."""
        pairs = tuple(pairs)
        if not pairs:
            return None
        literals, ids = tuple(lit for lit, _ in pairs), tuple(n for _, n in pairs)
        encoded = [lit.encode("utf-8", "surrogatepass") for lit in literals]
        return cls(literals, ids, _database(encoded, list(ids), _gates.SINGLEMATCH, cache))

    def in_json(self, cache: Path | None) -> _gates.Database | None:
        """A database of the same literals as they are written inside a JSON string, ASCII letters in
        either case, for the :attr:`LogEvent.text` that ``_gates.plain_json`` accepts; None when no
        literal can be written there. A literal that cannot be written without a \\u escape
        (non-ASCII, a control character JSON does not name) cannot be in such a line."""
        expressions, ids = [], []
        for lit, n in zip(self.literals, self.ids, strict=True):
            form = _json_form(lit)
            if form is not None:
                expressions.append(form)
                ids.append(n)
        if not ids:
            return None
        return _database(expressions, ids, _gates.SINGLEMATCH | _gates.CASELESS, cache)

    def find(self, hay: str, hits: list[int]) -> None:
        """Append to ``hits`` the id of every literal found in ``hay``."""
        try:
            data = hay.encode()
        except UnicodeEncodeError:  # a lone surrogate: the literals are encoded the same way
            data = hay.encode("utf-8", "surrogatepass")
        self.database.scan(data, hits)


@dataclass(slots=True)
class _Group:
    """The rules that apply to one LogKind, indexed by their gates.

    Field rules' literals are searched only in the values of the fields the group's rules read
    (``read``): a long Message no field rule names is never lowered into that haystack. Their
    literals of at least SHORT bytes are searched by Hyperscan, the non-ASCII ones only in a
    haystack that is not ASCII (``str.isascii`` is known without a look); shorter ones, which would
    slow every scan, are looked for with ``in``, first gates' on every event, second gates' only
    for the rules whose first gate let the event through. Rules with a keyword (full-text) test have
    their literals searched in all of the event's values.
    """

    always: tuple[int, ...]  # rules without a gate: evaluated on every event of the kind
    read: frozenset[str]  # every field a rule of the group names: the only ones lowered into ``low``
    fields: _Literals | None  # field rules' ASCII gate literals, over the read fields' values
    wide: _Literals | None  # their non-ASCII ones, searched only in non-ASCII haystacks
    short: tuple[tuple[str, tuple[int, ...]], ...]  # first gates' short ASCII literals and their rules
    short_wide: tuple[tuple[str, tuple[int, ...]], ...]  # ... and short non-ASCII ones
    words: _Literals | None  # keyword rules' gate literals, over all values
    json_words: _gates.Database | None  # the same in JSON form (_Literals.in_json), for LogEvent.text
    owners: tuple[tuple[int, ...], ...]  # literal id -> the rules it lets through (first gates)
    keys: dict[str, dict[str, tuple[int, ...]]]  # field -> lowercased value -> rule indexes
    size: int
    # rule index -> its second gate (ir.gates), checked after the first let the rule through
    second: dict[int, _Second]
    shapes: dict[tuple[str, ...], _Shape] = dc_field(default_factory=dict)  # by the event's field names
    # the same gates for the compiled step (_gates.c), which takes the common event and leaves the
    # others (a space in a field name, a null or list value, a lone surrogate) to Engine._candidates
    compiled: Any = None

    def compile(self, rules: int) -> None:
        """Build :attr:`compiled`; ``rules``: how many rules the engine has (rule indexes are below)."""
        words = self.words

        def all_values(fields: dict[str, object], hits: list[int]) -> None:
            assert words is not None
            words.find(all_text(fields), hits)

        def encoded(literal: str) -> bytes:
            return literal.encode("utf-8", "surrogatepass")

        self.compiled = _gates.Gates(
            rules=rules,
            always=self.always,
            owners=self.owners,
            short=tuple((encoded(lit), owned) for lit, owned in self.short),
            short_wide=tuple((encoded(lit), owned) for lit, owned in self.short_wide),
            second={
                i: (tuple(sorted(gate.ids)), tuple(map(encoded, gate.short)), gate.keys)
                for i, gate in self.second.items()
            },
            read=self.read,
            keys=self.keys,
            fields_db=self.fields.database if self.fields is not None else None,
            wide_db=self.wide.database if self.wide is not None else None,
            json_words_db=self.json_words,
            words=all_values if words is not None else None,
        )

    def shape(self, names: tuple[str, ...]) -> _Shape:
        if len(self.shapes) >= MAX_SHAPES:  # input with endless distinct field sets: forget them
            self.shapes.clear()
        read = self.read
        picked = tuple(name for name in names if name in read)
        shape = _Shape(
            spaced=any(" " in name for name in names),
            names=picked,
            values=_values_of(picked),
            keyed=tuple(name for name in names if name in self.keys),
        )
        self.shapes[names] = shape
        return shape


@dataclass(frozen=True, slots=True)
class _Second:
    """A rule's second gate: one of the literals ``ids`` found in the haystack its first gate used,
    one of the ``short`` literals in the read fields' haystack, or one of the (field, lowercased
    value) ``keys``."""

    ids: frozenset[int]
    short: tuple[str, ...]
    keys: tuple[tuple[str, str], ...]

    def passes(self, low: dict[str, Any], found: list[int], hay: str) -> bool:
        if not self.ids.isdisjoint(found):
            return True
        for literal in self.short:
            if literal in hay:
                return True
        for field, value in self.keys:
            have = low.get(field)
            if have.__class__ is str:
                if have == value:
                    return True
            elif have is not None and value in have:
                return True
        return False


@dataclass(frozen=True, slots=True)
class _Shape:
    """What an event's field names alone decide, computed once per distinct list of names."""

    spaced: bool  # a name holds a space: the rules' view of the fields differs (values.sigma_view)
    names: tuple[str, ...]  # the group's read fields the event has, in the event's order
    values: Callable[[dict[str, object]], tuple[object, ...]]  # their values, from the event's fields
    keyed: tuple[str, ...]  # the fields the event has that a (field, value) gate names


_FLAT = frozenset((str, int, float, bool))


def _values_of(names: tuple[str, ...]) -> Callable[[dict[str, object]], tuple[object, ...]]:
    """A function giving the values of ``names`` from a dict holding them, as a tuple, in one C call."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        only = names[0]
        return lambda fields: (fields[only],)
    return lambda fields: ()


def _never(fields: dict[str, object], low: dict[str, Any], event: LogEvent) -> bool:
    """The predicate of a disabled rule."""
    return False


def lowered(fields: dict[str, object]) -> tuple[dict[str, Any], str]:
    """The event's values as lowercased text (str, or tuple of str for lists; nulls left out), and
    the same joined by NUL: the haystack of the prefilter. ``fields`` is the rule's
    view (values.sigma_view).

    The common event (scalars only, no nulls) is done in C: one str() per value, one join, one
    lower(), one split. Lowering the joined string equals joining the lowered values: NUL is
    neither a cased nor a case-ignorable character, so even Greek final sigma sees the same context.
    """
    values = fields.values()
    if _FLAT.issuperset(map(type, values)):
        text = SEPARATOR.join(map(str, values)).lower()  # str(True) is "True": text_of's "true"
        parts = text.split(SEPARATOR)
        if len(parts) == len(fields):  # else a value holds NUL itself
            return dict(zip(fields, parts, strict=True)), text
    low: dict[str, Any] = {}
    hay: list[str] = []
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items = tuple(t.lower() for t in map(text_of, value) if t is not None)
            low[key] = items
            hay.extend(items)
        else:
            text = str(text_of(value)).lower()
            low[key] = text
            hay.append(text)
    return low, SEPARATOR.join(hay)


def lowered_fields(fields: dict[str, object], names: Iterable[str]) -> tuple[dict[str, Any], str]:
    """:func:`lowered` of the fields in ``names`` only (each present in ``fields``)."""
    names = tuple(names)
    values = [fields[k] for k in names]
    if _FLAT.issuperset(map(type, values)):
        text = SEPARATOR.join(map(str, values)).lower()
        parts = text.split(SEPARATOR)
        if len(parts) == len(names):
            return dict(zip(names, parts, strict=True)), text
    return lowered({k: fields[k] for k in names})


def all_text(fields: dict[str, object]) -> str:
    """Every value of the event lowercased and joined by NUL: the haystack of keyword
    rules' gates. It may hold more than the values' texts (a null reads "none"), never less: the
    gate only lets rules through, the exact test decides."""
    values = fields.values()
    kinds = set(map(type, values))
    if list not in kinds and tuple not in kinds:
        return SEPARATOR.join(map(str, values)).lower()
    return SEPARATOR.join([t.lower() for v in values for t in texts(v)])


def fields_named(node: Node) -> set[str]:
    """Every field name the node tests anywhere (under negations and as fieldref targets too)."""
    return _fields_in(node, through_not=True)[0]


def has_keyword(node: Node) -> bool:
    kind: str = node[0]
    if kind in ("and", "or"):
        return any(has_keyword(c) for c in node[1])
    if kind == "not":
        return has_keyword(node[1])
    if kind == "sel":
        return has_keyword(node[2])
    return kind == "kw"


def _fields_read(node: Node) -> tuple[set[str], bool]:
    """Every field the node tests outside negations (fieldref targets included), and whether it
    has a keyword there."""
    return _fields_in(node, through_not=False)


def _fields_in(node: Node, *, through_not: bool) -> tuple[set[str], bool]:
    """The field names ``node`` tests (fieldref targets included) and whether it has a keyword test,
    below negations too when ``through_not``."""
    out: set[str] = set()
    keyword = False
    stack = [node]
    while stack:
        cur = stack.pop()
        kind = cur[0]
        if kind in ("and", "or"):
            stack.extend(cur[1])
        elif kind == "not":
            if through_not:
                stack.append(cur[1])
        elif kind == "sel":
            stack.append(cur[2])
        elif kind == "kw":
            keyword = True
        elif kind == "field":
            out.add(cur[1])
            if cur[2][0] == "fieldref":
                out.add(cur[2][1])
    return out, keyword


class Engine:
    """Matches a rule set against streams of events. Build once, use in any number of processes."""

    def __init__(self, ruleset: RuleSet, cache_dir: Path | None = None) -> None:
        """``cache_dir``: where compiled literal databases are kept between runs (None: nowhere)."""
        self.ruleset = ruleset
        self._cache = cache_dir / "hyperscan" if cache_dir is not None else None
        self._plans = ruleset.plans
        self._infos: tuple[RuleInfo, ...] = tuple(p.info for p in ruleset.plans)
        self._preds: list[Pred] = [compile_node(p.node) for p in ruleset.plans]
        # rules disabled while matching (a backtracking regex over its time budget): rule id -> reason
        self.disabled: dict[str, str] = {}
        # rules whose log source some event had (each rule of a group built for an event's kind)
        self._fed: set[int] = set()
        self._groups: dict[LogKind, _Group] = {}
        # kinds that select the same rules share one group (and its databases): memory is bounded by
        # the rules' logsources, not by how many distinct kinds the input holds
        self._by_members: dict[tuple[int, ...], _Group] = {}
        # the group of each kind object met, by identity (the entry holds the kind, so its id stays
        # its own): readers hand out a few shared LogKind objects, and a dataclass's __hash__ is a
        # Python call per event
        self._by_kind_id: dict[int, tuple[LogKind, _Group]] = {}
        # per rule, built at its first hit: (predicate, field names or None for keywords, node) of
        # each selection outside negations, to say which fields matched
        self._selections: dict[int, list[tuple[Pred, tuple[str, ...] | None, Node]]] = {}

    def _matched_fields(
        self, i: int, fields: dict[str, object], low: dict[str, Any], event: LogEvent
    ) -> dict[str, object]:
        """reference.matched_fields, with the selections compiled."""
        sels = self._selections.get(i)
        if sels is None:
            sels = []
            for sel in positive_selections(self._plans[i].node):
                read, keyword = _fields_read(sel)
                sels.append((compile_node(sel), None if keyword else tuple(sorted(read)), sel))
            self._selections[i] = sels
        out: dict[str, object] = {}
        for pred, names, sel in sels:
            if pred(fields, low, event):
                if names is None:
                    fields_of(sel[2], fields, event, out)
                else:
                    for name in names:
                        if name in fields:
                            out[name] = fields[name]
        return out

    def _group(self, kind: LogKind) -> _Group:
        members = tuple(
            i for i, info in enumerate(self._infos) if kind.covers(info.product, info.category, info.service)
        )
        self._fed.update(members)  # a kind is grouped when its first event arrives
        if len(self._groups) >= MAX_KINDS:  # input with endless distinct kinds: forget the mapping
            self._groups.clear()
        shared = self._by_members.get(members)
        if shared is not None:
            self._groups[kind] = shared
            return shared
        always: list[int] = []
        # literal -> the rules it is a first gate of, per haystack (second gates' literals join with none)
        field_literals: dict[str, list[int]] = {}
        word_literals: dict[str, list[int]] = {}
        by_key: dict[str, dict[str, list[int]]] = {}
        read: set[str] = set()
        seconds: dict[int, tuple[bool, frozenset[str], frozenset[tuple[str, str]]]] = {}
        for i in members:
            plan = self._plans[i]
            read |= fields_named(plan.node)
            gate = plan.gate
            if gate is None:
                always.append(i)
                continue
            # a field rule's literals come from its field tests: they can only be in a read field
            keyword = has_keyword(plan.node)
            by_literal = word_literals if keyword else field_literals
            for lit in gate[0]:
                by_literal.setdefault(lit, []).append(i)
            for field, value in gate[1]:
                by_key.setdefault(field, {}).setdefault(value, []).append(i)
            if plan.second is not None:
                seconds[i] = (keyword, *plan.second)
                for lit in plan.second[0]:
                    by_literal.setdefault(lit, [])
        ids = {lit: n for n, lit in enumerate(field_literals)}
        word_ids = {lit: n for n, lit in enumerate(word_literals, start=len(field_literals))}
        short = {lit for lit in field_literals if len(lit.encode("utf-8", "surrogatepass")) < SHORT}
        scanned = [(lit, n) for lit, n in ids.items() if lit not in short]
        cache = self._cache
        words = _Literals.build(word_ids.items(), cache)
        json_words = words.in_json(cache) if words is not None else None
        second = {
            i: _Second(
                frozenset(
                    word_ids[lit] if keyword else ids[lit] for lit in lits if keyword or lit not in short
                ),
                tuple(sorted(lit for lit in lits if not keyword and lit in short)),
                tuple(sorted(keys)),
            )
            for i, (keyword, lits, keys) in seconds.items()
        }
        first_short = [(lit, tuple(field_literals[lit])) for lit in sorted(short) if field_literals[lit]]
        group = _Group(
            always=tuple(always),
            read=frozenset(read),
            fields=_Literals.build([(lit, n) for lit, n in scanned if lit.isascii()], cache),
            wide=_Literals.build([(lit, n) for lit, n in scanned if not lit.isascii()], cache),
            short=tuple((lit, rules) for lit, rules in first_short if lit.isascii()),
            short_wide=tuple((lit, rules) for lit, rules in first_short if not lit.isascii()),
            words=words,
            json_words=json_words,
            owners=tuple(tuple(rules) for rules in (*field_literals.values(), *word_literals.values())),
            keys={f: {v: tuple(r) for v, r in values.items()} for f, values in by_key.items()},
            size=len(members),
            second=second,
        )
        group.compile(len(self._plans))
        self._groups[kind] = self._by_members[members] = group
        return group

    @staticmethod
    def _candidates(
        group: _Group, fields: dict[str, object], text: bytes | None
    ) -> tuple[dict[str, object], dict[str, Any], list[int]]:
        """The rules' view of the fields, the read fields lowercased (``low``), and the rules the
        gates let through, in rule order.

        Field gates search the read fields' values, lowercased and joined by NUL; keyword gates the
        event's ``text`` (LogEvent.text) when it has one, else all values lowercased. The common
        event (scalars only, no nulls, names without spaces) is done with one str() and one lower()
        per read value.
        """
        names = tuple(fields)
        shape = group.shapes.get(names) or group.shape(names)
        if shape.spaced:
            fields = sigma_view(fields)
            low, hay = lowered_fields(fields, group.read.intersection(fields))
            keyed: Iterable[str] = group.keys.keys() & low.keys()
        else:
            keyed = shape.keyed
            read = shape.values(fields)
            if _FLAT.issuperset(map(type, read)):
                picked = [str(v).lower() for v in read]  # str(True) is "True": text_of's "true"
                low = dict(zip(shape.names, picked, strict=True))
                hay = SEPARATOR.join(picked)
            else:  # a null or a list
                low, hay = lowered_fields(fields, shape.names)
                keyed = [k for k in keyed if k in low]  # a null is left out of ``low``
        # first gates: literals (Hyperscan, then the short ones), then (field, value) keys
        hits: list[int] = []
        if group.fields is not None:
            group.fields.find(hay, hits)
        plain = hay.isascii()
        if not plain and group.wide is not None:
            group.wide.find(hay, hits)
        if group.words is not None:
            if text is not None and _gates.plain_json(text):
                if group.json_words is not None:
                    group.json_words.scan(text, hits)
            else:  # no line, or one that does not show every value as it is: read the values
                group.words.find(all_text(fields), hits)
        found = set(group.always)
        owners = group.owners
        for n in hits:
            found.update(owners[n])
        for literal, owned in group.short:
            if literal in hay:
                found.update(owned)
        if not plain:
            for literal, owned in group.short_wide:
                if literal in hay:
                    found.update(owned)
        keys = group.keys
        for field in keyed:
            value = low[field]
            index = keys[field]
            if value.__class__ is str:
                rules = index.get(value)
                if rules is not None:
                    found.update(rules)
            else:
                for item in value:
                    rules = index.get(item)
                    if rules is not None:
                        found.update(rules)
        if not found:
            return fields, low, []
        # second gates, on the rules the first ones let through
        ordered = sorted(found) if len(found) > 1 else list(found)
        second = group.second
        if not second:
            return fields, low, ordered
        out = []
        for i in ordered:
            check = second.get(i)
            if check is None or check.passes(low, hits, hay):
                out.append(i)
        return fields, low, out

    def candidates(self, event: LogEvent) -> list[int]:
        """Indexes of the rules the prefilter lets through for ``event`` (for tests and benchmarks)."""
        group = self._groups.get(event.kind) or self._group(event.kind)
        fast = group.compiled.candidates(event.fields, event.text)
        return (fast or self._candidates(group, event.fields, event.text))[2]

    def match(self, events: Iterable[LogEvent]) -> Iterator[RuleHit]:
        """Every hit of every rule (``emit=False`` rules included), in event order then rule order."""
        groups = self._groups
        by_id = self._by_kind_id
        preds = self._preds
        candidates = self._candidates
        for event in events:
            kind = event.kind
            known = by_id.get(id(kind))
            if known is not None and known[0] is kind:
                group = known[1]
            else:
                group = groups.get(kind) or self._group(kind)
                if len(by_id) >= MAX_KINDS:
                    by_id.clear()
                by_id[id(kind)] = (kind, group)
            if not group.size:
                continue
            fields = event.fields
            fast = group.compiled.candidates(fields, event.text)
            fields, low, passing = fast or candidates(group, fields, event.text)
            for i in passing:
                try:
                    if preds[i](fields, low, event):
                        yield RuleHit(self._infos[i], event, self._matched_fields(i, fields, low, event))
                except RegexBudgetExceeded as exceeded:
                    self._disable(i, str(exceeded))

    @property
    def fed_rules(self) -> frozenset[str]:
        """The ids of the rules some event of their log source reached (evaluated, or ruled out by
        the literal gate): a rule outside this set looked at nothing."""
        return frozenset(self._infos[i].id for i in self._fed)

    def _disable(self, i: int, reason: str) -> None:
        """Rule ``i`` matches nothing from now on; :attr:`disabled` says why."""
        self._preds[i] = _never
        self.disabled[self._infos[i].id] = reason

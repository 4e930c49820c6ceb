"""pySigma's Elasticsearch Lucene backend, adjusted to the documents secaudit ingests.

Documents keep the Sigma taxonomy fields under ``sigma.`` (see :mod:`secaudit.elastic.documents`),
each a keyword with a lowercase normalizer (Sigma matches case-insensitively; the normalizer lowers
term, wildcard and prefix queries too) and three sub-fields: ``cased`` (the value as read, for
``|cased`` and case-sensitive regexes), ``num`` (a double, for ``|gt``/``|lt``...) and ``ip`` (for
``|cidr``). The backend is pointed at them here: everything else is the stock Lucene backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sigma.backends.elasticsearch.elasticsearch_lucene import LuceneBackend
from sigma.conditions import (
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
)
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddFieldnamePrefixTransformation,
    FieldFunctionTransformation,
    ValueListPlaceholderTransformation,
)
from sigma.types import SigmaRegularExpression, SigmaRegularExpressionFlag

from secaudit.elastic.documents import escape_name
from secaudit.elastic.regex import RegexNotSupported, to_lucene

FIELD_PREFIX = "sigma."
# Clauses one query may have: OpenSearch refuses over 1,024 in a whole query (indices.query.bool.
# max_clause_count; Elasticsearch 8+ derives its limit from the heap). Leaves counted here, with room
# for the logsource condition and the time range.
MAX_LEAVES = 1000
CASED = "cased"
NUMBER = "num"
ADDRESS = "ip"

_FLAG_LETTERS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def pipeline(
    placeholders: Mapping[str, Sequence[str]] | None = None, *, escape_names: bool = True
) -> ProcessingPipeline:
    """Rule field names escaped as documents escape them (:func:`escape_name`; not for indices of the
    earlier dotted shape) and prefixed with ``sigma.``; ``|expand`` placeholders replaced by the
    values the hunt was given (as the embedded engine does), when there are any."""
    items = [ProcessingItem(AddFieldnamePrefixTransformation(FIELD_PREFIX), identifier="secaudit_prefix")]
    if escape_names:
        escape = FieldFunctionTransformation(mapping={}, transform_func=_escaped)
        items.insert(0, ProcessingItem(escape, identifier="secaudit_escape"))
    if placeholders:
        items.insert(0, ProcessingItem(ValueListPlaceholderTransformation(), identifier="secaudit_expand"))
    return ProcessingPipeline(
        name="secaudit documents",
        priority=20,
        items=items,
        vars={name.strip("%"): list(values) for name, values in (placeholders or {}).items()},
    )


def _escaped(name: str | None) -> str:
    return escape_name(name or "")


class SecauditLuceneBackend(LuceneBackend):
    """Lucene queries for secaudit's document shape (module doc)."""

    name: ClassVar[str] = "secaudit Elasticsearch Lucene"
    cidr_expression: ClassVar[str] = "{field}." + ADDRESS + ":{network}\\/{prefixlen}"
    compare_op_expression: ClassVar[str] = "{field}." + NUMBER + ":{operator}{value}"
    case_sensitive_match_expression: ClassVar[str] = "{field}." + CASED + ":{value}"
    # Set when a regex of the rule being converted was relaxed (secaudit.elastic.regex): its query then
    # matches a superset, and the hunt checks each document with the embedded engine. Reset per rule.
    relaxed: bool = False

    def __init__(self, processing_pipeline: ProcessingPipeline | None = None) -> None:
        super().__init__(processing_pipeline)
        self.start_rule()

    # -- OR lists over the clause limit -------------------------------------------------------------
    # A conversion records the condition's roots and every OR node in visiting order; a rule with
    # more leaves than MAX_LEAVES is converted again once per chunk of its largest OR list that no
    # NOT stands above (split_plan), that node's arguments cut to the chunk: each query a disjunct,
    # the rule's hits the union of theirs (the OR is in positive context).

    def start_rule(self, chunk: tuple[int, int, int] | None = None) -> None:
        """Before converting a rule: ``chunk`` (OR visit number, first, end argument) to keep only
        that slice of one OR node's arguments."""
        self._chunk = chunk
        self._visit = 0
        self._roots: list[ConditionItem] = []
        self._seen: list[ConditionItem] = []
        self._ors: list[tuple[int, ConditionOR]] = []  # (visit number, node), not under NOT

    def convert_condition(self, cond: Any, state: ConversionState) -> Any:
        if not isinstance(getattr(cond, "parent", None), ConditionItem) and all(
            cond is not root for root in self._roots
        ):
            self._roots.append(cond)
        if isinstance(cond, ConditionOR) and all(cond is not seen for seen in self._seen):
            self._seen.append(cond)
            number = self._visit
            self._visit += 1
            if self._chunk is not None and self._chunk[0] == number:
                cond.args = cond.args[self._chunk[1] : self._chunk[2]]
            elif self._chunk is None and not _under_not(cond):
                self._ors.append((number, cond))
        return super().convert_condition(cond, state)

    def split_plan(self) -> list[tuple[int, int, int]]:
        """After converting a rule (without a chunk): the chunks to convert it again in, so that each
        query stays within MAX_LEAVES; empty when it already does (or no OR list can be split)."""
        inner = {id(node) for root in self._roots for node in _descendants(root)}
        total = sum(_leaves(root) for root in self._roots if id(root) not in inner)
        negated = {
            id(below)
            for root in self._roots
            for node in (root, *_descendants(root))
            if isinstance(node, ConditionNOT)
            for below in _descendants(node)
        }
        candidates = [
            (number, [_leaves(arg) for arg in node.args])
            for number, node in self._ors
            if id(node) not in negated
        ]
        if total <= MAX_LEAVES or not candidates:
            return []
        number, sizes = max(candidates, key=lambda item: (sum(item[1]), -item[0]))
        budget = max(1, MAX_LEAVES - (total - sum(sizes)))
        chunks: list[tuple[int, int, int]] = []
        start = used = 0
        for index, size in enumerate(sizes):
            if used and used + size > budget:
                chunks.append((number, start, index))
                start, used = index, 0
            used += size
        chunks.append((number, start, len(sizes)))
        return chunks if len(chunks) > 1 else []

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = cond.value
        if not isinstance(value, SigmaRegularExpression):
            raise TypeError(f"expected a regular expression, got {type(value).__name__}")
        flags = "".join(_FLAG_LETTERS.get(flag, "?") for flag in value.flags)
        try:
            lucene = to_lucene(str(value.regexp), flags)
        except RegexNotSupported as e:
            raise SigmaFeatureNotSupportedByBackendError(
                f"regex uses {e.reason}, which Lucene regular expressions cannot express"
            ) from e
        if not lucene.exact:
            self.relaxed = True
        field = self.escape_and_quote_field(cond.field)
        target = field if lucene.insensitive else f"{field}.{CASED}"
        return f"{target}:/{lucene.pattern}/"

    def convert_condition_field_eq_val_re_contains(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("a regex not bound to a field (keyword regex)")


def _leaves(node: Any) -> int:
    args = node.args if isinstance(node, ConditionItem) else None
    return 1 if args is None else sum(_leaves(arg) for arg in args)


def _descendants(node: Any) -> list[Any]:
    args = node.args if isinstance(node, ConditionItem) else []
    return [d for arg in args for d in (arg, *_descendants(arg))]


def _under_not(node: Any) -> bool:
    parent = getattr(node, "parent", None)
    while isinstance(parent, ConditionItem):
        if isinstance(parent, ConditionNOT):
            return True
        parent = getattr(parent, "parent", None)
    return False

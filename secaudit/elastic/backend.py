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
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddFieldnamePrefixTransformation,
    ValueListPlaceholderTransformation,
)
from sigma.types import SigmaRegularExpression, SigmaRegularExpressionFlag

from secaudit.elastic.regex import RegexNotSupported, to_lucene

FIELD_PREFIX = "sigma."
CASED = "cased"
NUMBER = "num"
ADDRESS = "ip"

_FLAG_LETTERS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def pipeline(placeholders: Mapping[str, Sequence[str]] | None = None) -> ProcessingPipeline:
    """Rule field names prefixed with ``sigma.``; ``|expand`` placeholders replaced by the values the
    hunt was given (as the embedded engine does), when there are any."""
    items = [ProcessingItem(AddFieldnamePrefixTransformation(FIELD_PREFIX), identifier="secaudit_prefix")]
    if placeholders:
        items.insert(0, ProcessingItem(ValueListPlaceholderTransformation(), identifier="secaudit_expand"))
    return ProcessingPipeline(
        name="secaudit documents",
        priority=20,
        items=items,
        vars={name.strip("%"): list(values) for name, values in (placeholders or {}).items()},
    )


class SecauditLuceneBackend(LuceneBackend):
    """Lucene queries for secaudit's document shape (module doc)."""

    name: ClassVar[str] = "secaudit Elasticsearch Lucene"
    cidr_expression: ClassVar[str] = "{field}." + ADDRESS + ":{network}\\/{prefixlen}"
    compare_op_expression: ClassVar[str] = "{field}." + NUMBER + ":{operator}{value}"
    case_sensitive_match_expression: ClassVar[str] = "{field}." + CASED + ":{value}"

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
        field = self.escape_and_quote_field(cond.field)
        target = field if lucene.insensitive else f"{field}.{CASED}"
        return f"{target}:/{lucene.pattern}/"

    def convert_condition_field_eq_val_re_contains(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("a regex not bound to a field (keyword regex)")

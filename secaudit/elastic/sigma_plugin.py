"""secaudit as a pySigma plugin: ``sigma convert -t secaudit-lucene -p secaudit RULE`` prints the
Lucene queries secaudit itself runs on its indices.

pySigma finds plugins by module namespace: ``sigma/backends/secaudit`` and ``sigma/pipelines/secaudit``
(beside this package in the source tree and in the wheel) import this module. The pipeline alone (also
usable with the stock ``-t lucene``) puts rule fields under ``sigma.``; only the backend knows the
sub-fields secaudit indexes (``.cased``, ``.num``, ``.ip``), translates regular expressions to Lucene's
dialect, adds each rule's logsource condition on the ``secaudit.*`` fields, and splits OR lists over the
clause limit, exactly as :func:`secaudit.elastic.convert.convert_rules` does.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from secaudit.detect.loader import info_of
from secaudit.elastic.backend import SecauditLuceneBackend, pipeline
from secaudit.elastic.convert import rule_query
from secaudit.elastic.documents import logsource_query

BACKEND = "secaudit-lucene"
PIPELINE = "secaudit"


def secaudit_pipeline() -> ProcessingPipeline:
    """Rule field names under ``sigma.``, as secaudit ingests events (no ``|expand`` values: a rule
    that needs placeholders fails to convert, as it does in a hunt given none)."""
    return pipeline()


class SecauditPluginBackend(SecauditLuceneBackend):
    """The backend secaudit converts with, whole: one query a rule, its logsource condition included."""

    identifier: ClassVar[str] = BACKEND
    name: ClassVar[str] = "secaudit: Lucene queries over secaudit's Elasticsearch indices"
    # without -p secaudit the fields are not where secaudit puts them: refuse, as the stock backend does
    requires_pipeline: ClassVar[bool] = True

    def __init__(
        self,
        processing_pipeline: ProcessingPipeline | None = None,
        collect_errors: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(processing_pipeline)
        self.collect_errors = collect_errors  # sigma convert -s: skip what cannot be converted
        self.backend_options = options

    def convert_rule(
        self, rule: SigmaRule, output_format: str | None = None, callback: Any = None
    ) -> list[Any]:
        original = rule.to_dict()  # the pipeline changes the rule in place: splits convert a fresh copy
        self.relaxed = False
        self.start_rule()
        texts = [str(q) for q in super().convert_rule(rule, output_format, callback)]
        if not texts:  # an error pySigma collected (-s), or a rule that only feeds a correlation
            return []
        split = []
        for chunk in self.split_plan():
            self.start_rule(chunk)
            fresh = SigmaRule.from_dict(original)
            split.append([str(q) for q in super().convert_rule(fresh, output_format, callback)])
        info = info_of(rule)
        return [rule_query(logsource_query(info.product, info.category, info.service), texts, split)]

"""secaudit as a pySigma plugin: ``sigma convert -t secaudit-lucene -p secaudit RULE`` prints the
Lucene queries secaudit itself runs on its indices; ``-t secaudit-ecs-lucene -p secaudit-ecs`` and
``-t secaudit-wazuh-lucene -p secaudit-wazuh`` those it runs on ECS (Winlogbeat, Elastic Agent) and
Wazuh alert indices (:mod:`secaudit.elastic.layouts`).

pySigma finds plugins by module namespace: ``sigma/backends/secaudit`` and ``sigma/pipelines/secaudit``
(beside this package in the source tree and in the wheel) import this module. The ``secaudit``
pipeline alone (also usable with the stock ``-t lucene``) puts rule fields under ``sigma.``; only the
backend knows the sub-fields secaudit indexes (``.cased``, ``.num``, ``.ip``), translates regular
expressions to Lucene's dialect, adds each rule's logsource condition, and splits OR lists over the
clause limit, exactly as :func:`secaudit.elastic.convert.convert_rules` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from secaudit.detect.loader import info_of
from secaudit.elastic import layouts
from secaudit.elastic.backend import SecauditLuceneBackend, pipeline
from secaudit.elastic.convert import layout_where, rule_query
from secaudit.elastic.documents import logsource_query

BACKEND = "secaudit-lucene"
PIPELINE = "secaudit"


def secaudit_pipeline() -> ProcessingPipeline:
    """Rule field names under ``sigma.``, as secaudit ingests events (no ``|expand`` values: a rule
    that needs placeholders fails to convert, as it does in a hunt given none)."""
    return pipeline()


def ecs_pipeline() -> ProcessingPipeline:
    """Rule field names as ECS indices hold them (secaudit's mapping, pySigma's ecs_windows below it)."""
    return layouts.layout_pipeline(layouts.ECS)


def wazuh_pipeline() -> ProcessingPipeline:
    """Rule field names as Wazuh alert indices hold them (``data.win.eventdata.*``...)."""
    return layouts.layout_pipeline(layouts.WAZUH)


class _Whole:
    """One query a rule, as secaudit runs it: the condition's queries behind the rule's logsource
    condition, an OR list over the clause limit converted again chunk by chunk."""

    collect_errors: bool
    errors: list[tuple[SigmaRule, SigmaError]]

    def _whole(
        self,
        convert: Any,
        where_of: Callable[[SigmaRule], str],
        rule: SigmaRule,
        output_format: str | None,
        callback: Any,
    ) -> list[Any]:
        """``convert`` is the parent class's ``convert_rule``; ``where_of`` gives the logsource
        condition on the backend's indices."""
        backend: Any = self
        original = rule.to_dict()  # the pipeline changes the rule in place: splits convert a fresh copy
        try:
            where = where_of(rule)  # before conversion: the pipeline renames the fields
        except SigmaError as e:
            if not self.collect_errors:
                raise
            self.errors.append((rule, e))  # sigma convert -s: skipped, and said, like pySigma's own
            return []
        backend.relaxed = False
        backend.start_rule()
        texts = [str(q) for q in convert(rule, output_format, callback)]
        if not texts:  # an error pySigma collected (-s), or a rule that only feeds a correlation
            return []
        split = []
        for chunk in backend.split_plan():
            backend.start_rule(chunk)
            split.append([str(q) for q in convert(SigmaRule.from_dict(original), output_format, callback)])
        return [rule_query(where, texts, split)]


class SecauditPluginBackend(_Whole, SecauditLuceneBackend):
    """The backend secaudit converts with for its own indices (``-p secaudit``)."""

    identifier: ClassVar[str] = BACKEND
    name: ClassVar[str] = "secaudit: Lucene queries over secaudit's Elasticsearch indices"
    # without its pipeline the fields are not where secaudit puts them: refuse, as the stock backend does
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

    def _where(self, rule: SigmaRule) -> str:
        info = info_of(rule)
        return logsource_query(info.product, info.category, info.service)

    def convert_rule(
        self, rule: SigmaRule, output_format: str | None = None, callback: Any = None
    ) -> list[Any]:
        return self._whole(super().convert_rule, self._where, rule, output_format, callback)


class _LayoutPluginBackend(_Whole, layouts.LayoutLuceneBackend):
    layout_name: ClassVar[str]
    requires_pipeline: ClassVar[bool] = True

    def __init__(
        self,
        processing_pipeline: ProcessingPipeline | None = None,
        collect_errors: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(self.layout_name, processing_pipeline)
        self.collect_errors = collect_errors
        self.backend_options = options

    def _where(self, rule: SigmaRule) -> str:
        return layout_where(self, self.layout_name, rule)

    def convert_rule(
        self, rule: SigmaRule, output_format: str | None = None, callback: Any = None
    ) -> list[Any]:
        return self._whole(super().convert_rule, self._where, rule, output_format, callback)


class SecauditEcsBackend(_LayoutPluginBackend):
    """secaudit's queries on ECS indices (``-p secaudit-ecs``)."""

    identifier: ClassVar[str] = "secaudit-ecs-lucene"
    name: ClassVar[str] = "secaudit: Lucene queries over ECS indices (Winlogbeat, Elastic Agent)"
    layout_name: ClassVar[str] = layouts.ECS


class SecauditWazuhBackend(_LayoutPluginBackend):
    """secaudit's queries on Wazuh alert indices (``-p secaudit-wazuh``)."""

    identifier: ClassVar[str] = "secaudit-wazuh-lucene"
    name: ClassVar[str] = "secaudit: Lucene queries over Wazuh alert indices"
    layout_name: ClassVar[str] = layouts.WAZUH

"""Correlation rules: every type fires on a case made for it and stays silent on its near miss."""

from __future__ import annotations

import dataclasses
import pickle
import random
from datetime import UTC, datetime, timedelta

import pytest
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule

from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.correlate import (
    CorrelationPlan,
    Correlator,
    compile_correlation,
    holds,
    percentile_of,
    rule_key,
)
from secaudit.detect.model import CorrelationHit, RuleHit, RuleInfo, UnsupportedRule

T0 = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
KIND = LogKind(product="linux", services=frozenset({"auth"}))

BASE = """
title: Failed password
id: 11111111-1111-4111-8111-111111111111
name: failed
logsource: {product: linux, service: auth}
detection:
    sel: {msg: failed}
    condition: sel
---
title: Accepted password
id: 22222222-2222-4222-8222-222222222222
name: accepted
logsource: {product: linux, service: auth}
detection:
    sel: {msg: accepted}
    condition: sel
---
title: Session opened
id: 33333333-3333-4333-8333-333333333333
name: opened
logsource: {product: linux, service: auth}
detection:
    sel: {msg: opened}
    condition: sel
"""
FAILED, ACCEPTED, OPENED = (
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
)


def plans(correlation_yaml: str) -> list[CorrelationPlan]:
    """Compile every correlation rule of BASE + ``correlation_yaml`` (one or more documents)."""
    collection = SigmaCollection.from_yaml(BASE + "---\n" + correlation_yaml)
    out = []
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            info = RuleInfo(
                id=rule_key(rule),
                title=rule.title,
                level="high",
                correlation=rule.type.name.lower(),
                emit=not rule.name,
            )
            out.append(compile_correlation(rule, info, location=f"test.yml:{rule.title}"))
    return out


def correlation(
    kind: str, body: str, *, rules: str = "[failed]", group_by: str = "[src]", timespan: str = "5m"
) -> str:
    return f"""
title: Correlation under test
id: 99999999-9999-4999-8999-999999999999
correlation:
    type: {kind}
    rules: {rules}
    group-by: {group_by}
    timespan: {timespan}
{body}
"""


def info(rule_id: str) -> RuleInfo:
    return RuleInfo(id=rule_id, title=rule_id[:8], emit=False)


def hit(
    rule_id: str, seconds: float | None, record: int, source: str = "auth.log", **fields: object
) -> RuleHit:
    at = None if seconds is None else T0 + timedelta(seconds=seconds)
    return RuleHit(info(rule_id), LogEvent(dict(fields), KIND, source, record, at))


def run(plan_list: list[CorrelationPlan], hits: list[RuleHit]) -> tuple[list[CorrelationHit], Correlator]:
    correlator = Correlator(plan_list)
    for h in hits:
        correlator.feed(h)
    return correlator.finish(), correlator


def records(chit: CorrelationHit) -> list[int]:
    return [e.record for e in chit.events]


EVENT_COUNT = correlation("event_count", "    condition: {gte: 5}")


def test_event_count_fires_on_five_failures_from_one_source_within_five_minutes() -> None:
    hits = [hit(FAILED, 60 * i, 10 + i, src="203.0.113.9") for i in range(5)]
    found, _ = run(plans(EVENT_COUNT), hits)
    assert len(found) == 1
    only = found[0]
    assert only.rule.id == "99999999-9999-4999-8999-999999999999"
    assert only.group == (("src", "203.0.113.9"),)
    assert only.value == 5
    assert records(only) == [10, 11, 12, 13, 14]
    assert (only.first, only.last) == (T0, T0 + timedelta(minutes=4))


def test_event_count_one_short_does_not_fire() -> None:
    hits = [hit(FAILED, 60 * i, 10 + i, src="203.0.113.9") for i in range(4)]
    assert run(plans(EVENT_COUNT), hits)[0] == []


def test_event_count_window_exactly_timespan_fires_one_second_more_does_not() -> None:
    exact = [hit(FAILED, 75 * i, i, src="a") for i in range(5)]  # 0..300 s
    assert [c.value for c in run(plans(EVENT_COUNT), exact)[0]] == [5]
    too_long = [hit(FAILED, 0, 0, src="a")] + [hit(FAILED, 75 * i + 1, i, src="a") for i in range(1, 5)]
    assert run(plans(EVENT_COUNT), too_long)[0] == []


def test_event_count_counts_each_group_apart() -> None:
    hits = [hit(FAILED, i, i, src="a") for i in range(3)] + [
        hit(FAILED, i, 10 + i, src="b") for i in range(2)
    ]
    assert run(plans(EVENT_COUNT), hits)[0] == []


def test_hits_out_of_order_across_files_give_the_same_result() -> None:
    hits = [hit(FAILED, 30 * i, i, source=f"auth.log.{i % 2}", src="a") for i in range(8)]
    in_order, _ = run(plans(EVENT_COUNT), hits)
    shuffled = hits[:]
    random.Random(7).shuffle(shuffled)
    out_of_order, _ = run(plans(EVENT_COUNT), shuffled)
    assert in_order == out_of_order
    assert len(in_order) == 1 and in_order[0].value == 8


def test_a_burst_is_one_hit_and_separate_bursts_are_two() -> None:
    burst = [hit(FAILED, 10 * i, i, src="a") for i in range(12)]
    later = [hit(FAILED, 3600 + 10 * i, 100 + i, src="a") for i in range(5)]
    found, _ = run(plans(EVENT_COUNT), burst + later)
    assert [(c.value, records(c)[0], len(c.events)) for c in found] == [(12, 0, 12), (5, 100, 5)]


def test_duplicate_hits_count_once() -> None:
    hits = [hit(FAILED, i, i, src="a") for i in range(4)]
    found, _ = run(plans(EVENT_COUNT), hits + hits)
    assert found == []


def test_events_without_timestamp_are_skipped_and_counted() -> None:
    hits = [hit(FAILED, i, i, src="a") for i in range(4)] + [hit(FAILED, None, 99, src="a")]
    found, correlator = run(plans(EVENT_COUNT), hits)
    assert found == []
    assert correlator.untimed == {FAILED: 1}


def test_events_lacking_a_group_by_field_are_skipped_and_counted() -> None:
    hits = [hit(FAILED, i, i, src="a") for i in range(4)] + [hit(FAILED, 5, 5, user="x")]
    found, correlator = run(plans(EVENT_COUNT), hits)
    assert found == []
    assert correlator.ungrouped == {"99999999-9999-4999-8999-999999999999": 1}


def test_no_group_by_is_one_group() -> None:
    plan = plans(correlation("event_count", "    condition: {gte: 3}", group_by="[]"))
    found, _ = run(plan, [hit(FAILED, i, i, src=s) for i, s in enumerate("abc")])
    assert [(c.group, c.value) for c in found] == [((), 3)]


@pytest.mark.parametrize(
    ("op", "threshold", "fires"),
    [
        ("gt", 4, True),
        ("gt", 5, False),
        ("gte", 5, True),
        ("gte", 6, False),
        ("lt", 6, True),
        ("lt", 5, False),
        ("lte", 5, True),
        ("lte", 4, False),
        ("eq", 5, True),
        ("eq", 4, False),
        ("neq", 5, False),
        ("neq", 4, True),
    ],
)
def test_event_count_operators(op: str, threshold: int, fires: bool) -> None:
    plan = plans(correlation("event_count", f"    condition: {{{op}: {threshold}}}", timespan="1h"))
    found, _ = run(plan, [hit(FAILED, i, i, src="a") for i in range(5)])
    assert bool(found) is fires


def test_non_threshold_conditions_use_tumbling_windows_from_the_first_event() -> None:
    plan = plans(correlation("event_count", "    condition: {lt: 3}", timespan="1m"))
    # windows: [0 s, 30 s, 60 s] (3 events, no), [61 s, 90 s] (2 events, fires), [200 s] (1, fires)
    times = [0, 30, 60, 61, 90, 200]
    found, _ = run(plan, [hit(FAILED, t, i, src="a") for i, t in enumerate(times)])
    assert [(c.value, records(c)) for c in found] == [(2, [3, 4]), (1, [5])]


def test_range_of_criteria_must_all_hold() -> None:
    (plan,) = plans(EVENT_COUNT)
    ranged = dataclasses.replace(plan, conditions=(("gt", 3.0), ("lte", 4.0)))
    assert [c.value for c in run([ranged], [hit(FAILED, i, i, src="a") for i in range(4)])[0]] == [4]
    assert run([ranged], [hit(FAILED, i, i, src="a") for i in range(5)])[0] == []
    assert holds((("gt", 3.0), ("lte", 4.0)), 5) is False


VALUE_COUNT = correlation("value_count", "    condition: {field: user, gte: 3}")


def test_value_count_fires_on_three_distinct_users() -> None:
    hits = [hit(FAILED, i, i, src="a", user=u) for i, u in enumerate(["root", "admin", "root", "operator"])]
    found, _ = run(plans(VALUE_COUNT), hits)
    assert [(c.value, records(c)) for c in found] == [(3, [0, 1, 2, 3])]


def test_value_count_does_not_count_duplicates_or_missing_values() -> None:
    hits = [hit(FAILED, i, i, src="a", user=u) for i, u in enumerate(["root", "root", "admin", "admin"])]
    hits.append(hit(FAILED, 9, 9, src="a"))
    assert run(plans(VALUE_COUNT), hits)[0] == []


def test_value_sum_fires_above_and_not_at_the_threshold() -> None:
    plan = plans(correlation("value_sum", "    condition: {field: bytes, gt: 1000}"))
    over = [hit(FAILED, i, i, src="a", bytes=b) for i, b in enumerate([400, "300", 301])]
    assert [c.value for c in run(plan, over)[0]] == [1001]
    at = [hit(FAILED, i, i, src="a", bytes=b) for i, b in enumerate([400, 300, 300, "n/a"])]
    assert run(plan, at)[0] == []


def test_value_avg() -> None:
    plan = plans(correlation("value_avg", "    condition: {field: ms, gte: 100}"))
    assert [
        c.value
        for c in run(plan, [hit(FAILED, i, i, src="a", ms=m) for i, m in enumerate([50, 150, 100])])[0]
    ] == [100]
    assert run(plan, [hit(FAILED, i, i, src="a", ms=m) for i, m in enumerate([50, 149, 100])])[0] == []


def test_value_percentile_interpolates() -> None:
    plan = plans(correlation("value_percentile", "    condition: {field: ms, percentile: 90, gte: 910}"))
    values = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]  # 90th percentile: 910
    found, _ = run(plan, [hit(FAILED, i, i, src="a", ms=v) for i, v in enumerate(values)])
    assert len(found) == 1 and found[0].value == pytest.approx(910)
    values[-1] = 990  # 90th percentile now 909
    assert run(plan, [hit(FAILED, i, i, src="a", ms=v) for i, v in enumerate(values)])[0] == []
    assert percentile_of([1.0, 2.0, 3.0, 4.0], 50) == 2.5


def test_value_median() -> None:
    plan = plans(correlation("value_median", "    condition: {field: ms, gt: 20}"))
    assert [
        c.value for c in run(plan, [hit(FAILED, i, i, src="a", ms=v) for i, v in enumerate([10, 30, 25])])[0]
    ] == [25]
    assert run(plan, [hit(FAILED, i, i, src="a", ms=v) for i, v in enumerate([10, 30, 20])])[0] == []


TEMPORAL = correlation("temporal", "", rules="[failed, accepted, opened]")


def test_temporal_fires_when_all_rules_occur_in_any_order() -> None:
    hits = [hit(OPENED, 0, 1, src="a"), hit(FAILED, 60, 2, src="a"), hit(ACCEPTED, 120, 3, src="a")]
    found, _ = run(plans(TEMPORAL), hits)
    assert [(c.value, records(c)) for c in found] == [(3, [1, 2, 3])]


def test_temporal_needs_every_rule_in_one_window_and_group() -> None:
    two = [hit(OPENED, 0, 1, src="a"), hit(FAILED, 60, 2, src="a"), hit(FAILED, 70, 3, src="a")]
    assert run(plans(TEMPORAL), two)[0] == []
    spread = [hit(OPENED, 0, 1, src="a"), hit(FAILED, 60, 2, src="a"), hit(ACCEPTED, 301, 3, src="a")]
    assert run(plans(TEMPORAL), spread)[0] == []
    other_group = [hit(OPENED, 0, 1, src="a"), hit(FAILED, 60, 2, src="a"), hit(ACCEPTED, 120, 3, src="b")]
    assert run(plans(TEMPORAL), other_group)[0] == []


def test_temporal_extended_condition() -> None:
    plan = plans(
        correlation(
            "temporal",
            "    condition: failed and accepted and not opened",
            rules="[failed, accepted, opened]",
        )
    )
    assert plan[0].expression == (
        "and",
        ("and", ("rule", FAILED), ("rule", ACCEPTED)),
        ("not", ("rule", OPENED)),
    ) or plan[0].expression == ("and", ("rule", FAILED), ("rule", ACCEPTED), ("not", ("rule", OPENED)))
    fires = [hit(FAILED, 0, 1, src="a"), hit(ACCEPTED, 5, 2, src="a")]
    assert [records(c) for c in run(plan, fires)[0]] == [[1, 2]]
    spoiled = [hit(OPENED, 1, 3, src="a"), *fires]
    assert run(plan, spoiled)[0] == []


ORDERED = correlation("temporal_ordered", "", rules="[failed, accepted]", group_by="[src]", timespan="10m")


def test_temporal_ordered_fires_on_failure_then_success() -> None:
    hits = [hit(FAILED, 0, 1, src="a"), hit(FAILED, 30, 2, src="a"), hit(ACCEPTED, 60, 3, src="a")]
    found, _ = run(plans(ORDERED), hits)
    assert [(c.value, records(c)) for c in found] == [(2, [2, 3])]


def test_temporal_ordered_wrong_order_does_not_fire() -> None:
    hits = [hit(ACCEPTED, 0, 1, src="a"), hit(FAILED, 30, 2, src="a")]
    assert run(plans(ORDERED), hits)[0] == []


def test_temporal_ordered_same_second_keeps_file_order() -> None:
    assert len(run(plans(ORDERED), [hit(FAILED, 0, 1, src="a"), hit(ACCEPTED, 0, 2, src="a")])[0]) == 1
    assert run(plans(ORDERED), [hit(ACCEPTED, 0, 1, src="a"), hit(FAILED, 0, 2, src="a")])[0] == []


def test_temporal_ordered_too_far_apart_does_not_fire() -> None:
    assert run(plans(ORDERED), [hit(FAILED, 0, 1, src="a"), hit(ACCEPTED, 601, 2, src="a")])[0] == []


CHAIN = """
title: Many failures
id: 88888888-8888-4888-8888-888888888888
name: many_failed
correlation:
    type: event_count
    rules: [failed]
    group-by: [src]
    timespan: 5m
    condition: {gte: 3}
---
title: Success after many failures
id: 77777777-7777-4777-8777-777777777777
correlation:
    type: temporal_ordered
    rules: [many_failed, accepted]
    group-by: [src]
    timespan: 10m
"""


def test_chained_correlation_fires_and_inner_is_not_emitted() -> None:
    hits = [hit(FAILED, i * 10, i, src="a") for i in range(3)] + [hit(ACCEPTED, 100, 9, src="a")]
    found, _ = run(plans(CHAIN), hits)
    assert [(c.rule.id, c.group, records(c)) for c in found] == [
        ("77777777-7777-4777-8777-777777777777", (("src", "a"),), [0, 1, 2, 9])
    ]


def test_chained_correlation_success_before_the_threshold_does_not_fire() -> None:
    hits = [
        hit(FAILED, 0, 0, src="a"),
        hit(FAILED, 10, 1, src="a"),
        hit(ACCEPTED, 15, 2, src="a"),
        hit(FAILED, 20, 3, src="a"),
    ]
    assert run(plans(CHAIN), hits)[0] == []


ALIASES = correlation(
    "temporal",
    """    aliases:
        host:
            failed: src
            accepted: client""",
    rules="[failed, accepted]",
    group_by="[host]",
)


def test_aliases_group_different_field_names() -> None:
    plan = plans(ALIASES)
    found, _ = run(plan, [hit(FAILED, 0, 1, src="10.0.0.7"), hit(ACCEPTED, 5, 2, client="10.0.0.7")])
    assert [(c.group, records(c)) for c in found] == [((("host", "10.0.0.7"),), [1, 2])]
    assert run(plan, [hit(FAILED, 0, 1, src="10.0.0.7"), hit(ACCEPTED, 5, 2, client="10.0.0.8")])[0] == []


def test_plans_are_picklable_and_keep_referenced_ids() -> None:
    (plan,) = plans(ORDERED)
    assert pickle.loads(pickle.dumps(plan)) == plan
    assert plan.rules == (FAILED, ACCEPTED)
    assert plan.timespan == 600
    assert plan.type == "temporal_ordered"


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        ("    condition: {field: ms, gte: 1}", "value_percentile", "needs a 'percentile'"),
        ("    condition: {field: ms, percentile: 101, gte: 1}", "value_percentile", "outside 0..100"),
        ("    condition: {field: [a, b], gte: 1}", "value_sum", "exactly one field"),
    ],
)
def test_unsupported_correlations_say_why(body: str, kind: str, reason: str) -> None:
    with pytest.raises(UnsupportedRule, match=reason):
        plans(correlation(kind, body))


def test_temporal_ordered_takes_only_at_least_conditions() -> None:
    with pytest.raises(UnsupportedRule, match="gt or gte"):
        plans(correlation("temporal_ordered", "    condition: {lt: 2}", rules="[failed, accepted]"))


def test_extended_condition_on_temporal_ordered_is_unsupported() -> None:
    with pytest.raises(UnsupportedRule, match="only evaluated for temporal"):
        plans(
            correlation("temporal_ordered", "    condition: failed and accepted", rules="[failed, accepted]")
        )


def test_reference_cycle_is_a_problem_not_a_crash() -> None:
    (plan,) = plans(EVENT_COUNT)
    looped = dataclasses.replace(plan, rules=(plan.id,))
    found, correlator = run([looped], [hit(FAILED, 0, 0, src="a")])
    assert found == []
    assert [p.rule_id for p in correlator.problems] == [plan.id]

"""The correlator against brute-force definitions, on generated hits (hypothesis).

Each oracle states a correlation type the slow, obvious way (every pair or every window of every
group) and must agree with the Correlator on whether each group fires.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.correlate import CorrelationPlan, Correlator
from secaudit.detect.model import RuleHit, RuleInfo

T0 = datetime(2026, 11, 20, tzinfo=UTC)
KIND = LogKind(product="linux")
A, B = "rule-a", "rule-b"

# (seconds, group, rule index, value) per hit, times on a 30 s grid so hits land exactly one timespan
# apart often; records are the list positions
hits_strategy = st.lists(
    st.tuples(
        st.integers(0, 20).map(lambda n: n * 30),
        st.sampled_from(["x", "y"]),
        st.integers(0, 1),
        st.integers(0, 4),
    ),
    max_size=30,
)


def plan(
    kind: str, *, rules: tuple[str, ...] = (A,), threshold: float = 3, span: int = 120
) -> CorrelationPlan:
    return CorrelationPlan(
        info=RuleInfo(id=f"corr-{kind}", title=kind),
        type=kind,
        rules=rules,
        group_by=("src",),
        timespan=span,
        conditions=(("gte", threshold),),
        fields=("user",) if kind == "value_count" else (),
    )


def make(spec: list[tuple[int, str, int, int]]) -> list[RuleHit]:
    return [
        RuleHit(
            RuleInfo(id=(A, B)[r], title=(A, B)[r]),
            LogEvent({"src": g, "user": f"u{v}"}, KIND, "auth.log", i + 1, T0 + timedelta(seconds=s)),
        )
        for i, (s, g, r, v) in enumerate(spec)
    ]


def fired_groups(p: CorrelationPlan, hits: list[RuleHit]) -> set[str]:
    correlator = Correlator([p])
    for h in hits:
        correlator.feed(h)
    found = correlator.finish()
    for c in found:  # every listed event belongs to the group and the referenced rules
        assert all(e.fields["src"] == c.group[0][1] for e in c.events)
        assert c.first <= c.last
    return {c.group[0][1] for c in found}


def windows(
    spec: list[tuple[int, str, int, int]], group: str, span: int
) -> list[list[tuple[int, str, int, int]]]:
    mine = [h for h in spec if h[1] == group]
    return [[h for h in mine if start[0] <= h[0] <= start[0] + span] for start in mine]


@settings(max_examples=150, deadline=None)
@given(hits_strategy)
def test_event_count_fires_iff_some_window_holds_enough(spec: list[tuple[int, str, int, int]]) -> None:
    spec = [(s, g, 0, v) for s, g, _, v in spec]
    expected = {g for g in "xy" if any(len(w) >= 3 for w in windows(spec, g, 120))}
    assert fired_groups(plan("event_count"), make(spec)) == expected


@settings(max_examples=150, deadline=None)
@given(hits_strategy)
def test_value_count_fires_iff_some_window_holds_enough_distinct_values(
    spec: list[tuple[int, str, int, int]],
) -> None:
    spec = [(s, g, 0, v) for s, g, _, v in spec]
    expected = {g for g in "xy" if any(len({h[3] for h in w}) >= 3 for w in windows(spec, g, 120))}
    assert fired_groups(plan("value_count"), make(spec)) == expected


@settings(max_examples=150, deadline=None)
@given(hits_strategy)
def test_temporal_fires_iff_both_rules_share_a_window(spec: list[tuple[int, str, int, int]]) -> None:
    expected = {g for g in "xy" if any({h[2] for h in w} == {0, 1} for w in windows(spec, g, 120))}
    assert fired_groups(plan("temporal", rules=(A, B), threshold=2), make(spec)) == expected


@settings(max_examples=150, deadline=None)
@given(hits_strategy)
def test_temporal_ordered_fires_iff_a_then_b_within_the_span(spec: list[tuple[int, str, int, int]]) -> None:
    hits = make(spec)
    # the correlator's order: time, then source, then record (list position + 1)
    ordered = sorted(enumerate(spec), key=lambda p: (p[1][0], p[0]))
    expected = {
        g
        for g in "xy"
        for i, (pos_a, a) in enumerate(ordered)
        for pos_b, b in ordered[i + 1 :]
        if a[1] == b[1] == g and a[2] == 0 and b[2] == 1 and b[0] - a[0] <= 120
    }
    assert fired_groups(plan("temporal_ordered", rules=(A, B), threshold=2), hits) == expected


@settings(max_examples=60, deadline=None)
@given(hits_strategy, st.randoms(use_true_random=False))
def test_arrival_order_does_not_matter(spec: list[tuple[int, str, int, int]], rnd: random.Random) -> None:
    p = plan("event_count")
    hits = make(spec)
    shuffled = hits[:]
    rnd.shuffle(shuffled)
    one, two = Correlator([p]), Correlator([p])
    for h in hits:
        one.feed(h)
    for h in shuffled:
        two.feed(h)
    assert one.finish() == two.finish()

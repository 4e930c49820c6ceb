"""Debian version ordering against dpkg's own (``dpkg --compare-versions``), on generated pairs."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from secaudit.vuln.version import VersionError, compare, sort_key

DPKG = shutil.which("dpkg")
needs_dpkg = pytest.mark.skipif(DPKG is None, reason="dpkg is not installed")


def dpkg_compare(a: str, b: str) -> int:
    assert DPKG is not None
    for op, result in (("lt", -1), ("eq", 0)):
        done = subprocess.run([DPKG, "--compare-versions", a, op, b], capture_output=True, check=False)
        assert not done.stderr, done.stderr  # a warning means the generator made a version dpkg dislikes
        if done.returncode == 0:
            return result
    return 1


# Characters dpkg accepts without a warning, weighted towards the ones that decide orderings.
_UPSTREAM = "0001123459.~+abzAZ"
_REVISION = "0012349.~+abz"
upstream = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("0123456789"),
    st.text(alphabet=_UPSTREAM, max_size=8),
)
revision = st.text(alphabet=_REVISION, min_size=1, max_size=6)
epoch = st.sampled_from(["", "", "", "0:", "1:", "2:", "10:", "01:"])


@st.composite
def versions(draw: st.DrawFn) -> str:
    up = draw(upstream)
    rev = draw(st.one_of(st.just(""), revision))
    if rev:
        # a hyphen inside upstream is allowed only when a revision follows
        if draw(st.booleans()):
            up += "-" + draw(upstream)
        return f"{draw(epoch)}{up}-{rev}"
    return f"{draw(epoch)}{up}"


@st.composite
def close_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two versions sharing epoch and a prefix, so the comparison is decided deep inside them."""
    prefix = draw(epoch) + draw(upstream)
    tails = st.text(alphabet=_UPSTREAM, max_size=4)
    first, second = prefix + draw(tails), prefix + draw(tails)
    if draw(st.booleans()):
        shared = draw(revision)
        first += "-" + shared + draw(st.text(alphabet=_REVISION, max_size=3))
        second += "-" + shared + draw(st.text(alphabet=_REVISION, max_size=3))
    return first, second


@needs_dpkg
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(versions(), versions()))
@example(("1.0~rc1", "1.0"))
@example(("1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u2"))
@example(("1:9.2p1-2+deb12u3", "9.9p9-9"))
@example(("2.36-9+deb12u7", "2.36-9+deb12u10"))
@example(("1.0", "1.0-0"))
@example(("1.0a", "1.0+"))
@example(("1.0~", "1.0~~"))
@example(("0:1.0", "1.0"))
@example(("1.001", "1.1"))
def test_matches_dpkg_on_generated_pairs(pair: tuple[str, str]) -> None:
    a, b = pair
    assert compare(a, b) == dpkg_compare(a, b), (a, b)


@needs_dpkg
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(close_pairs())
def test_matches_dpkg_on_pairs_with_a_shared_prefix(pair: tuple[str, str]) -> None:
    a, b = pair
    assert compare(a, b) == dpkg_compare(a, b), (a, b)


def test_known_orderings() -> None:
    ordered = [
        "0.9",
        "1.0~~",
        "1.0~~a",
        "1.0~",
        "1.0",
        "1.0-1",
        "1.0a",
        "1.0+",
        "1.0.0",
        "1:0.1",
        "1:9.2p1-2+deb12u2",
        "1:9.2p1-2+deb12u3",
        "1:9.2p1-2+deb12u10",
        "2:0",
    ]
    keys = [sort_key(v) for v in ordered]
    assert keys == sorted(keys)
    assert all(compare(x, y) == -1 for x, y in itertools.pairwise(ordered))
    assert compare("1.01", "1.1") == 0
    assert compare("0:1.0", "1.0") == 0
    assert compare("1.0", "1.0-0") == 0


@pytest.mark.parametrize(
    ("bad", "why"),
    [("", "empty"), ("1 .0", "spaces"), ("a:1.0", "epoch"), ("1:", "after the colon"), ("1.0-", "revision")],
)
def test_versions_dpkg_refuses_are_refused(bad: str, why: str) -> None:
    with pytest.raises(VersionError, match=why):
        sort_key(bad)

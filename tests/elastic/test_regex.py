"""Sigma regexes as Lucene regexes: the translation, what is refused, and agreement with Python's re.

Lucene matches a regex against the whole term with ``.`` matching newlines too; the translated
patterns here only use syntax Python's ``re`` reads the same way, so ``re.fullmatch`` with DOTALL on
the (lowercased, for ``i``) text is the Lucene verdict, and must equal the embedded engine's (RE2 search).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secaudit.detect.ir import compile_re2
from secaudit.elastic.regex import RegexNotSupported, to_lucene

SIGMAHQ_PATTERNS = [
    (r"\\Windows\\System32\\[a-zA-Z0-9]{8}\.tmp$", ""),
    (r"\s-[FTd]\s", ""),
    (r"(?:\s-[^-\s]{0,20}i|\s--inode\s)", ""),
    (r"-(W|R)\s?(\s|\"|')([0-9a-fA-F]{2}\s?){2,20}(\s|\"|')", ""),
    (r"^C:\\Users\\[^\\]+\\NTUSER\.DAT$", "i"),
    (r"(?i)\s(-u|--user)\s*:", ""),
    (r"https?://[0-9]{1,3}\.0[0-9]{3,7}", ""),
    (r"\w+`(?:\w+|-|.)`[\w+|\s]", ""),
    (r"\+.*\+.*\+", ""),
    (r"a@b&c<d>e~f#g\"h/", ""),
    (r"(^|\/)\.[^.\/]", ""),
    (r"(^0oa.*|[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,10})", ""),
    (r"(^[a-zA-Z]{4}$)|(^[a-zA-Z]{8}$)|(^[a-zA-Z]{16}$)", ""),
    (r"^%systemroot%\\[a-zA-Z]{8}\.exe$", ""),
    (r"x(a|b$)", ""),
]


def test_unanchored_pattern_is_wrapped_and_anchors_are_dropped() -> None:
    assert to_lucene(r"abc").pattern == ".*abc.*"
    assert to_lucene(r"^abc$").pattern == "abc"
    assert to_lucene(r"^abc").pattern == "abc.*"
    assert to_lucene(r"a|b").pattern == ".*a.*|.*b.*"


def test_anchors_at_the_edges_of_branches_and_leading_groups() -> None:
    assert to_lucene(r"(^|/)\.x").pattern == r"((.*\/)?)\.x.*"  # Lucene refuses an empty branch
    assert to_lucene(r"(^[a-z]{4}$)|(^[a-z]{8}$)").pattern == "([a-z]{4})|([a-z]{8})"
    assert to_lucene(r"^a|b").pattern == "a.*|.*b.*"
    assert to_lucene(r"(a|b)$").pattern == "(.*a|.*b)"
    assert to_lucene(r"(a$|b)").pattern == "(.*a|.*b.*)"


def test_escapes_classes_and_quantifiers() -> None:
    result = to_lucene(r"\d+\.\w{2,}?x{,3}@/")
    assert result.pattern == r".*[0-9]+\.[0-9A-Za-z_]{2,}x{0,3}\@\/.*"
    assert not result.insensitive
    assert to_lucene(r"[^\\/]\D").pattern == r".*[^\\\/][^0-9].*"


def test_case_insensitive_flag_lowers_the_pattern_for_the_normalized_field() -> None:
    result = to_lucene(r"(?i)PowerShell\.EXE[A-Z]")
    assert result == to_lucene(r"PowerShell\.EXE[A-Z]", "i")
    assert result.insensitive
    assert result.pattern == r".*powershell\.exe[a-z].*"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"a(?=b)", "lookaround"),
        (r"(a)\1", "backreference"),
        (r"\bword\b", "word boundary"),
        (r"a(^b)", "anchor ^ inside"),
        (r"(^a)?b", "anchor ^ inside"),
        (r"a$b", "anchor $ inside"),
        (r"a*+", "possessive"),
        (r"a(?i)b", "inline flags"),
        (r"[[:alpha:]]", "POSIX"),
        (r"(ab", "unbalanced"),
    ],
)
def test_constructs_lucene_lacks_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(RegexNotSupported) as caught:
        to_lucene(pattern)
    assert reason in caught.value.reason


def _lucene_verdict(pattern: str, flags: str, text: str) -> bool:
    result = to_lucene(pattern, flags)
    subject = text.lower() if result.insensitive else text
    return re.fullmatch(result.pattern, subject, re.DOTALL) is not None


def _engine_verdict(pattern: str, flags: str, text: str) -> bool:
    """What the embedded engine decides: RE2 search (ASCII classes)."""
    return compile_re2(pattern, flags).search(text) is not None


@pytest.mark.parametrize(("pattern", "flags"), SIGMAHQ_PATTERNS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_translation_agrees_with_the_engine(pattern: str, flags: str, data: st.DataObject) -> None:
    matching = data.draw(st.from_regex(re.compile(pattern, re.IGNORECASE if "i" in flags else 0)))
    noise = data.draw(st.text(alphabet="aZ09 -\\/.:@`+\"'\t", max_size=30))
    for text in (matching, noise, noise + matching, matching.upper()):
        if "\n" in text:  # Python's '.' stops at newlines, Lucene's does not (documented difference)
            continue
        assert _lucene_verdict(pattern, flags, text) == _engine_verdict(pattern, flags, text), text


def test_an_empty_branch_becomes_an_optional_group() -> None:
    assert to_lucene(r"a(?:\s|)b").pattern == ".*a(([ \\\t\\\n\\\r\\\f])?)b.*"
    assert to_lucene(r"a(|x|)b").pattern == ".*a((x)?)b.*"
    assert to_lucene(r"a()b").pattern == ".*a()b.*"


def test_a_wide_bounded_repeat_is_relaxed_and_marked_inexact() -> None:
    narrow = to_lucene(r"a.{2,8}b")
    assert (narrow.pattern, narrow.exact) == (".*a.{2,8}b.*", True)
    wide = to_lucene(r"(?i)Copy.{2,128} -Dest.{0,32}x")
    assert (wide.pattern, wide.exact) == (r".*copy.{2,} \-dest.{0,}x.*", False)

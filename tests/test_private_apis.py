"""The three private APIs secaudit leans on, each used in one function, each checked here for exactly
what that function needs, so an upgrade of Python or crossplane that changes them fails this file with
a message naming the function to revisit (issue 17, item 8), instead of silently changing results.

- ``re._parser`` and ``re._constants`` (secaudit.detect.ir.regex_literals: literals a regex needs, for
  the prefilter);
- ``json.decoder.JSONObject`` / ``JSONArray`` and ``json.scanner.py_make_scanner``
  (secaudit.catalog.kev._decode_with_spans: the line of a bad entry in a KEV catalogue);
- ``crossplane.lexer._lex_file_object`` and ``_balance_braces`` (secaudit.baseline.probes.nginx._lex:
  nginx tokens from text already read inside the audited target).
"""

from __future__ import annotations

import io
import json
import json.decoder
import json.scanner
import re
from typing import Any

import pytest

FENCE = "the private API changed: revisit {where}"


def test_re_parser_gives_the_parse_regex_literals_walks() -> None:
    where = FENCE.format(where="secaudit.detect.ir.regex_literals")
    parser = pytest.importorskip("re._parser", reason=where)
    constants = pytest.importorskip("re._constants", reason=where)
    parsed = parser.parse(r"(?:ab|cd)+x[yz]*", 0)
    assert hasattr(parsed, "state"), where
    assert hasattr(parsed.state, "flags"), where
    ops = [op for op, _ in parsed]
    assert ops[0] in (constants.MAX_REPEAT, constants.POSSESSIVE_REPEAT), where
    assert constants.LITERAL in ops, where
    repeat = parsed[0][1]
    assert repeat[0] == 1, where  # (min, max, subpattern)
    branch = [op for op, _ in repeat[2]]
    assert constants.SUBPATTERN in branch or constants.BRANCH in branch, where
    for name in (
        "LITERAL",
        "SUBPATTERN",
        "ATOMIC_GROUP",
        "MAX_REPEAT",
        "MIN_REPEAT",
        "POSSESSIVE_REPEAT",
        "BRANCH",
    ):
        assert hasattr(constants, name), f"{where}: re._constants.{name} is gone"
    icase = parser.parse("(?i)abc", 0)
    assert icase.state.flags & re.IGNORECASE, where


def test_regex_literals_still_find_required_literals() -> None:
    """Through our fence: a literal every match contains is found; a regex with none gives None."""
    from secaudit.detect.ir import regex_literals

    assert regex_literals(r"powershell\.exe\s+-enc", "") is not None
    found = regex_literals(r"(mimikatz|kiwi)\.exe", "")
    assert found is not None and all(len(lit) >= 3 for lit in found)
    assert regex_literals(r".*", "") is None


def test_json_scanner_hooks_give_spans() -> None:
    where = FENCE.format(where="secaudit.catalog.kev._decode_with_spans")
    assert callable(getattr(json.decoder, "JSONObject", None)), where
    assert callable(getattr(json.decoder, "JSONArray", None)), where
    assert callable(getattr(json.scanner, "py_make_scanner", None)), where
    spans: dict[int, tuple[int, int]] = {}
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        spans[id(obj)] = (s_and_end[1] - 1, end)
        return obj, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    text = '{"a": [1, {"b": 2}]}'
    data, end = json.scanner.py_make_scanner(decoder)(text, 0)  # type: ignore[attr-defined]
    assert data == {"a": [1, {"b": 2}]}, where
    assert end == len(text), where
    inner = data["a"][1]
    assert text[slice(*spans[id(inner)])] == '{"b": 2}', where


def test_crossplane_lexer_gives_tokens_lines_and_quotes() -> None:
    where = FENCE.format(where="secaudit.baseline.probes.nginx._lex")
    lexer = pytest.importorskip("crossplane.lexer", reason=where)
    errors = pytest.importorskip("crossplane.errors", reason=where)
    text = 'server {\n  listen 80;\n  add_header X-Frame-Options "DENY";\n}\n'
    tokens = list(lexer._balance_braces(lexer._lex_file_object(io.StringIO(text)), "t.conf"))
    assert tokens[0][:2] == ("server", 1), where
    assert ("listen", 2, False) in tokens, where
    assert ("DENY", 3, True) in tokens, where  # quoted tokens are marked
    with pytest.raises(errors.NgxParserBaseException):
        list(lexer._balance_braces(lexer._lex_file_object(io.StringIO("server {\n")), "t.conf"))

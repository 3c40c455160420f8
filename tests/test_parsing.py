"""Fast parsing: the same tree as LibCST's own parse, and validation back afterwards."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from backendlint.engine.parsing import parse_module

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted((ROOT / "src" / "backendlint" / "engine").glob("*.py")), ids=lambda p: p.name)
def test_same_tree_as_libcst(path):
    text = path.read_text(encoding="utf-8")
    fast = parse_module(text)
    assert fast.deep_equals(cst.parse_module(text))
    assert fast.code == text


def test_syntax_errors_still_raise_and_validation_is_restored():
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def f(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


@pytest.mark.parametrize(
    "literal",
    ['"plain"', "'single'", 'r"raw\\d"', '"esc\\n\\t"', '"""tri\nple"""', 'b"bytes"', "u'uni'", '"\\N{BULLET}"', '"é"'],
)
def test_string_value_matches_python(literal):
    from backendlint.api import string_value

    expected = eval(literal)  # a literal, read as Python reads it
    node = cst.parse_expression(literal)
    expected = expected.decode("latin-1") if isinstance(expected, bytes) else expected
    assert string_value(node) == expected
    assert string_value(cst.parse_expression(f"{literal} {literal}")) == expected * 2
    if not literal.startswith("b"):
        assert string_value(cst.parse_expression(f"f'x' {literal}")) is None
    else:
        assert string_value(node, allow_bytes=False) is None

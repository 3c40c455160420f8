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

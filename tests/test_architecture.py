"""Layering: rules import only the public API; the engine knows no rule by name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED_BACKENDLINT = ("backendlint.api", "backendlint.sql", "backendlint.types")
STDLIB_OR_ALLOWED = ("libcst", "sqlglot", "backendlint_rules")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_rules_import_only_the_public_api():
    import sys

    stdlib = set(sys.stdlib_module_names)
    for path in sorted((ROOT / "rules").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "backendlint":
                assert name.startswith(ALLOWED_BACKENDLINT), f"{path.name} imports {name}"
            else:
                assert top in stdlib or top in STDLIB_OR_ALLOWED or top == "__future__", f"{path.name} imports {name}"


def test_engine_names_no_rule():
    """No engine module compares against a rule's code or imports the rule pack
    (rule codes may appear inside documentation text, never as values)."""
    pattern = re.compile(r"^(BL[1-9][0-9]{2}|BL[1-9])$")
    for path in sorted((ROOT / "src" / "backendlint").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not pattern.match(node.value), f"{path.relative_to(ROOT)} uses rule code {node.value!r}"
        assert "backendlint_rules" not in set(_imports(path)), f"{path.relative_to(ROOT)} imports the rule pack"


def test_reporters_are_the_only_output_formats():
    for path in sorted((ROOT / "rules").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "sarif" not in text.lower() and "json.dumps" not in text, path.name

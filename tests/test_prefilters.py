"""Rule pre-filters (``Rule.applies_to``) only ever save work: with them or without,
the findings are the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from backendlint_rules._secrets import might_hold_secret

from backendlint.api import Rule
from backendlint.cli import lint_paths
from backendlint.registry import default_registry
from backendlint.reporters import ReportOptions, reporters
from tests.helpers.lint import FIXTURES, settings_for


def _findings(root: Path, select=("BL",)) -> list:
    result = lint_paths([root], settings_for(root, list(select)), default_registry())
    return json.loads(reporters()["json"](result, ReportOptions()))["findings"]


def _without_prefilters(monkeypatch) -> None:
    for registered in default_registry().rules():
        monkeypatch.setattr(registered.cls, "applies_to", classmethod(lambda cls, ctx: True))


@pytest.mark.parametrize("rule_dir", sorted(p.name for p in FIXTURES.iterdir() if re.match(r"BL\d{3}$", p.name)))
def test_fixtures_give_the_same_findings_without_prefilters(rule_dir, monkeypatch):
    root = FIXTURES / rule_dir
    filtered = _findings(root)
    assert filtered, "the fixtures have findings"
    _without_prefilters(monkeypatch)
    assert _findings(root) == filtered


def test_files_no_rule_applies_to_are_not_parsed(tmp_path, monkeypatch):
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("def add(a, b:\n", encoding="utf-8")
    import backendlint.engine.lint as lint

    parsed = []
    original = lint.parse_module
    monkeypatch.setattr(lint, "parse_module", lambda text: parsed.append(text) or original(text))
    found = _findings(tmp_path)
    assert [(f["path"], f["code"]) for f in found] == [("broken.py", "BL001")]
    # the broken file is confirmed by LibCST (CPython objected); the plain one is never parsed
    assert parsed == ["def add(a, b:\n"]


def test_a_prefilter_that_raises_counts_as_applying(tmp_path, monkeypatch):
    from backendlint_rules.silent_except import SilentExcept

    (tmp_path / "a.py").write_text("try:\n    f()\nexcept Exception:\n    pass\n", encoding="utf-8")

    def broken(cls, ctx):
        raise RuntimeError("bug in a pre-filter")

    monkeypatch.setattr(SilentExcept, "applies_to", classmethod(broken))
    assert [f["code"] for f in _findings(tmp_path, ["BL401"])] == ["BL401"]


def test_default_prefilter_reads_requires_text(tmp_path):
    from backendlint.api import FileInfo

    class Needle(Rule):
        requires_text = ("needle(",)

    python = FileInfo(tmp_path / "a.py", "a.py", "python", "x = NEEDLE()\n", False)
    sql = FileInfo(tmp_path / "a.sql", "a.sql", "sql", "select NEEDLE(1);\n", False)
    assert not Rule.text_contains(python, Needle.requires_text)
    assert Rule.text_contains(sql, Needle.requires_text)  # SQL: any case
    assert Rule.text_contains(python, ())


# -- BL301: the text test is sound for what the rule reads ------------------------------

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PASSWORD = "hunter2-Kx9#qLz"


def _spellings(value: str):
    """The same string value written as literals in ways the raw text hides it."""
    yield f'"{value}"'
    for cut in range(1, len(value)):
        yield f'"{value[:cut]}" "{value[cut:]}"'
        yield f'("{value[:cut]}"  # a comment\n    "{value[cut:]}")'
        yield f'"{value[:cut]}\\\n{value[cut:]}"'
    yield '"' + "".join(f"\\x{ord(c):02x}" for c in value) + '"'
    yield '"' + "".join(f"\\{ord(c):03o}" for c in value) + '"'
    yield '"' + "".join(f"\\u{ord(c):04x}" for c in value) + '"'


def _would_report(tmp_path: Path, source: str, monkeypatch) -> bool:
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    with monkeypatch.context() as patch:
        _without_prefilters(patch)
        return any(f["code"] == "BL301" for f in _findings(tmp_path, ["BL301"]))


@pytest.mark.parametrize(
    "template",
    [
        "CLIENT = Client(auth={v})\n",  # a provider pattern in any literal
        "api_key = {v}\n",
        "settings = {{'DB' + 'Password': 1, 'password': {v}}}\n",
        "connect(passwd={v})\n",
    ],
)
def test_secret_prefilter_sees_through_concatenation_and_escapes(tmp_path, monkeypatch, template):
    value = TOKEN if "auth" in template else PASSWORD
    checked = 0
    for spelling in list(_spellings(value))[:: max(1, len(value) // 6)]:
        source = template.format(v=spelling)
        if _would_report(tmp_path, source, monkeypatch):
            checked += 1
            assert might_hold_secret(source), source
    assert checked >= 3


def test_secret_prefilter_reads_names_through_camel_case_and_separators():
    assert might_hold_secret('config(apiKey="x")\n')
    assert might_hold_secret('d = {"API - KEY": "x"}\n')
    assert might_hold_secret('dbPass = "x"\n')
    assert might_hold_secret('url = "postgres://app:pw@db/app"\n')
    assert might_hold_secret('x = f"AKIA{""}IOSFODNN7EXAMPLF"\n')


def test_secret_prefilter_rejects_plain_code():
    source = "class A:\n    pass\n\n\ndef f(x):\n    if x: pass\n    return {'a': x}\n"
    assert not might_hold_secret(source)
    assert might_hold_secret(source + "compass = 1\n")  # any other `pas` may start a name

"""The engine: one traversal, context tracker, name resolution, crash containment."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List

import libcst as cst

from backendlint.api import Rule, dotted_name
from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from tests.helpers.lint import settings_for

DOC = """Test rule.

## What it does
x
## Why is this bad
x
## Example
x
## Use instead
x
## Options
x
## References
x
"""


def _run(tmp_path: Path, source: str, *rules, name: str = "m.py"):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    codes = tuple(r.code for r in rules) + ("BL001", "BL003")
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=codes)
    return lint_file(SourceFile(path, name, "python"), Job(settings=settings, rules=tuple(rules)))


def _rule(code: str, body):
    return type(f"Rule{code}", (Rule,), {"__doc__": DOC, "code": code, "name": f"r-{code.lower()}", "message": "m", **body})


RESOLVED: List[tuple] = []


def _record_calls(self, node: cst.Call) -> None:
    RESOLVED.append((self.ctx.resolve(node.func), len(self.ctx.loops), self.ctx.function.name if self.ctx.function else None))


def _record_names(self, node: cst.Call) -> None:
    RESOLVED.append((dotted_name(node.func), len(self.ctx.loops), self.ctx.function.name if self.ctx.function else None))


def test_resolve_follows_imports_aliases_and_local_bindings(tmp_path):
    RESOLVED.clear()
    source = """
import requests as r
from requests import get as fetch, Session
import httpx
from typing import Optional

def a(client: httpx.Client, maybe: Optional[Session]):
    r.get("u")
    fetch("u")
    s = Session()
    s.get("u")
    with r.Session() as t:
        t.post("u")
    client.get("u")
    maybe.get("u")
    unknown.get("u")

class Service:
    def __init__(self):
        self.http = r.Session()

    def go(self):
        self.http.get("u")
"""
    _run(tmp_path, source, _rule("XT100", {"visit_Call": _record_calls}))
    names = [n for n, _, _ in RESOLVED]
    assert names == [
        "requests.get", "requests.get", "requests.Session", "requests.Session().get",
        "requests.Session", "requests.Session().post", "httpx.Client().get", "requests.Session().get", None,
        "requests.Session", "requests.Session().get",
    ]


def test_loop_stack_covers_bodies_not_iterables(tmp_path):
    RESOLVED.clear()
    source = """
def f(items):
    for x in load():
        work(x)
        [g(y) for y in h()]
    while check():
        step()
    def inner():
        nested()
    done()
"""
    _run(tmp_path, source, _rule("XT101", {"visit_Call": _record_names}))
    assert RESOLVED == [
        ("load", 0, "f"), ("work", 1, "f"), ("g", 2, "f"), ("h", 1, "f"),
        ("check", 1, "f"), ("step", 1, "f"), ("nested", 0, "inner"), ("done", 0, "f"),
    ]


def _boom(self, node: cst.Call) -> None:
    raise KeyError("surprise")


def _flag_calls(self, node: cst.Call) -> None:
    self.report(node)


def test_a_raising_rule_becomes_bl003_and_others_stand(tmp_path):
    result = _run(tmp_path, "a()\nb()\n", _rule("XT102", {"visit_Call": _boom}), _rule("XT103", {"visit_Call": _flag_calls}))
    codes = sorted((f.code, f.span.line) for f in result.findings)
    assert codes == [("BL003", 1), ("XT103", 1), ("XT103", 2)]
    message = next(f.message for f in result.findings if f.code == "BL003")
    assert "XT102" in message and "visit_Call" in message and "KeyError" in message


def test_syntax_error_is_bl001_with_position(tmp_path):
    result = _run(tmp_path, "def f(:\n    pass\n", _rule("XT104", {"visit_Call": _flag_calls}))
    assert [(f.code, f.span.line, f.span.column) for f in result.findings] == [("BL001", 1, 7)]
    assert result.findings[0].message.startswith("syntax error")


def test_file_without_prefilter_match_is_still_syntax_checked(tmp_path):
    rule = _rule("XT105", {"visit_Call": _flag_calls, "requires_text": ("never-present",)})
    assert _run(tmp_path, "x = 1\n", rule).findings == ()
    broken = _run(tmp_path, "x = (\n", rule)
    assert [f.code for f in broken.findings] == ["BL001"]

"""A rule that fails costs only its own findings on that file: every hook, garbage
reports, failing metadata, the project pass, and a rule pack that cannot be imported."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import libcst as cst
import pytest
from libcst.metadata import BatchableMetadataProvider

from backendlint.api import Rule
from backendlint.cli import lint_paths
from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from backendlint.project import facts as facts_module
from backendlint.registry import Registry
from backendlint.types import Span
from tests.helpers.lint import settings_for
from tests.test_engine import DOC

SOURCE = "a()\nb()\n\n\ndef f():\n    c()\n"


def _rule(code: str, **body: Any) -> type:
    return type(f"Rule{code}", (Rule,), {"__doc__": DOC, "code": code, "name": f"r-{code.lower()}", "message": "m", **body})


def _flag_calls(self, node: cst.Call) -> None:
    self.report(node)


#: A healthy rule next to every broken one: its three findings must always stand.
HEALTHY = _rule("XT500", visit_Call=_flag_calls)


def _lint(tmp_path: Path, *rules: type, source: str = SOURCE, name: str = "m.py", debug: bool = False):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    codes = tuple(r.code for r in rules) + ("BL001", "BL003")
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=codes)
    kind = "sql" if name.endswith(".sql") else "python"
    return lint_file(SourceFile(path, name, kind), Job(settings=settings, rules=tuple(rules), debug=debug))


def _codes(result):
    return sorted((f.code, f.span.line) for f in result.findings)


def _bl003(result):
    found = [f for f in result.findings if f.code == "BL003"]
    assert len(found) == 1, [(f.code, f.message) for f in result.findings]
    return found[0]


def _raise(exc: BaseException):
    def hook(self, *args: Any) -> None:
        raise exc

    return hook


def _calls_then_raise(self, node: cst.Call) -> None:
    self.report(node)
    if self.ctx.function is not None:
        raise LookupError("no such table")


def _recurse(self, node: cst.Call) -> None:
    def down(n: int) -> int:
        return down(n + 1)

    down(0)


@pytest.mark.parametrize(
    "body, hook, line, error",
    [
        ({"visit_Call": _raise(KeyError("surprise"))}, "visit_Call", 1, "KeyError: 'surprise'"),
        ({"leave_Call": _raise(TypeError("bad operand"))}, "leave_Call", 1, "TypeError: bad operand"),
        ({"visit_FunctionDef": _raise(AttributeError("no attr"))}, "visit_FunctionDef", 5, "AttributeError: no attr"),
        ({"end_file": _raise(ValueError("at the end"))}, "end_file", 1, "ValueError: at the end"),
        ({"__init__": _raise(RuntimeError("cannot start"))}, "__init__", 1, "RuntimeError: cannot start"),
        ({"visit_Call": _recurse}, "visit_Call", 1, "RecursionError"),
    ],
    ids=["visit", "leave", "visit-def", "end_file", "init", "recursion"],
)
def test_every_python_hook_is_contained(tmp_path, body, hook, line, error):
    result = _lint(tmp_path, _rule("XT501", **body), HEALTHY)
    assert [c for c in _codes(result) if c[0] == "XT500"] == [("XT500", 1), ("XT500", 2), ("XT500", 6)]
    failure = _bl003(result)
    assert failure.span.line == line
    assert failure.message.startswith(f"rule XT501 (r-xt501) failed in {hook}: {error}")
    assert "its other findings stand (run with --debug for the traceback)" in failure.message
    assert "Traceback" not in failure.message


def test_a_failing_rule_keeps_its_earlier_findings_and_is_switched_off(tmp_path):
    result = _lint(tmp_path, _rule("XT502", visit_Call=_calls_then_raise), HEALTHY)
    assert _codes(result) == [("BL003", 6), ("XT500", 1), ("XT500", 2), ("XT500", 6), ("XT502", 1), ("XT502", 2), ("XT502", 6)]
    source = SOURCE + "\n\ndef g():\n    d()\n"
    result = _lint(tmp_path, _rule("XT502", visit_Call=_calls_then_raise), HEALTHY, source=source)
    # switched off after the first failure: no finding, and no second BL003, in g()
    assert ("XT502", 10) not in _codes(result) and ("XT500", 10) in _codes(result)
    assert _bl003(result).span.line == 6


def test_debug_adds_the_traceback(tmp_path):
    result = _lint(tmp_path, _rule("XT503", visit_Call=_raise(KeyError("surprise"))), HEALTHY, debug=True)
    message = _bl003(result).message
    assert "Traceback (most recent call last)" in message and "in hook" in message and "KeyError: 'surprise'" in message


class _BrokenProvider(BatchableMetadataProvider):
    def visit_Call(self, node: cst.Call) -> None:
        raise ZeroDivisionError("provider bug")


def test_failing_metadata_fails_only_the_rules_that_asked_for_it(tmp_path):
    needy = _rule("XT504", METADATA_DEPENDENCIES=(_BrokenProvider,), visit_Call=_flag_calls)
    result = _lint(tmp_path, needy, HEALTHY)
    assert _codes(result) == [("BL003", 1), ("XT500", 1), ("XT500", 2), ("XT500", 6)]
    assert _bl003(result).message.startswith("rule XT504 (r-xt504) failed in metadata _BrokenProvider: ZeroDivisionError")


def _report(**kwargs: Any):
    def hook(self, node: cst.Call) -> None:
        self.report(node)  # one good report first: it stands
        self.ctx.add_report(dataclasses.replace(self.ctx._reports[-1], **kwargs))

    return hook


@pytest.mark.parametrize(
    "garbage, reason",
    [
        ({"span": Span(0, 0, 0, 0)}, "span 0:0-0:0 is outside the file (6 lines)"),
        ({"span": Span(99, 1, 99, 5)}, "span 99:1-99:5 is outside the file (6 lines)"),
        ({"span": Span(2, 5, 1, 1)}, "span 2:5-1:1 is outside the file"),
        ({"span": (1, 1, 1, 1)}, "span (1, 1, 1, 1) is not a Span of integers"),
        ({"message": None}, "message None is not text"),
        ({"message": ""}, "message '' is not text"),
        ({"severity": "urgent"}, "severity 'urgent' / confidence"),
        ({"node": [], "span": None}, "TypeError"),
    ],
)
def test_garbage_reports_are_dropped_and_named(tmp_path, garbage, reason):
    result = _lint(tmp_path, _rule("XT505", visit_FunctionDef=_report(**garbage)), HEALTHY)
    good = [c for c in _codes(result) if c[0] != "BL003"]
    assert good == [("XT500", 1), ("XT500", 2), ("XT500", 6), ("XT505", 5)]
    failure = _bl003(result)
    assert failure.message.startswith("rule XT505 (r-xt505) made an invalid report: ")
    assert reason in failure.message and failure.message.endswith("; the report was dropped")


class _SqlProbe(Rule):
    __doc__ = DOC
    code = "XT510"
    name = "sql-probe"
    message = "statement"
    languages = ("sql",)

    def check_sql(self, statement) -> None:
        self.report(span=statement.span)


SQL = "SELECT 1;\nSELECT 2;\nSELECT 3;\n"


def _fails_on_second(self, statement) -> None:
    if statement.span.line == 2:
        raise IndexError("second statement")
    self.report(span=statement.span)


@pytest.mark.parametrize(
    "body, hook, line",
    [
        ({"check_sql": _fails_on_second}, "check_sql (statement at line 2)", 2),
        ({"check_sql_file": _raise(KeyError("whole file"))}, "check_sql_file", 1),
        ({"__init__": _raise(RuntimeError("cannot start"))}, "__init__", 1),
        ({"check_sql": lambda self, s: self.report(span=Span(7, 1, 7, 2))}, "made 3 invalid reports (first: span 7:1-7:2", 1),
    ],
    ids=["check_sql", "check_sql_file", "init", "garbage"],
)
def test_sql_hooks_are_contained(tmp_path, body, hook, line):
    broken = _rule("XT511", languages=("sql",), **body)
    result = _lint(tmp_path, broken, _SqlProbe, source=SQL, name="q.sql")
    assert [c for c in _codes(result) if c[0] == "XT510"] == [("XT510", 1), ("XT510", 2), ("XT510", 3)]
    failure = _bl003(result)
    assert failure.span.line == line and hook in failure.message and "XT511" in failure.message
    if hook.startswith("check_sql ("):
        # findings made before the failure stand; the rule is off for the rest of the file
        assert [c for c in _codes(result) if c[0] == "XT511"] == [("XT511", 1)]


# -- the project pass ----------------------------------------------------------------


@dataclasses.dataclass
class _Gatherer:
    name: str
    facts: Any = None
    fail_combine: bool = False

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        return kind == "python"

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        if "boom" in text:
            raise ValueError("gatherer cannot read this")
        return self.facts

    def combine(self, per_file: Dict[str, Any]) -> Any:
        if self.fail_combine:
            raise KeyError("combine bug")
        return {"files": sorted(per_file)}


def _reads_facts(name: str):
    def hook(self, node: cst.Call) -> None:
        facts = self.ctx.project.get(name)
        self.report(node, message=f"facts {facts!r}")

    return hook


def test_project_pass_failures_cost_only_facts(tmp_path, monkeypatch):
    """A gatherer that raises on a file, returns facts that are not JSON, or fails to
    combine gives rules no facts of its kind; the run and every other finding stand."""
    gatherers = {
        "good": _Gatherer("good", facts=[1]),
        "garbage": _Gatherer("garbage", facts={1, 2}),
        "broken": _Gatherer("broken", facts=[1], fail_combine=True),
    }
    for name, gatherer in gatherers.items():
        monkeypatch.setitem(facts_module._GATHERERS, name, gatherer)
    (tmp_path / "a.py").write_text("a()\n", encoding="utf-8")
    (tmp_path / "boom.py").write_text("boom()\n", encoding="utf-8")
    rules = [
        _rule("XT520", project_facts=("good",), visit_Call=_reads_facts("good")),
        _rule("XT521", project_facts=("garbage",), visit_Call=_reads_facts("garbage")),
        _rule("XT522", project_facts=("broken",), visit_Call=_reads_facts("broken")),
        _rule("XT523", project_facts=("good",), visit_Call=_raise(LookupError("facts misread"))),
        HEALTHY,
    ]
    registry = Registry([(r, "test") for r in rules])
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=(*(r.code for r in rules), "BL001", "BL003"))
    for cache_dir in (None, tmp_path / ".cache", tmp_path / ".cache"):
        result = lint_paths([tmp_path], settings, registry, cache_dir=cache_dir)
        got = {(f.path, f.code): f.message for f in result.findings}
        assert got[("a.py", "XT520")] == "facts {'files': ['a.py']}"  # boom.py dropped, a.py kept
        assert got[("a.py", "XT521")] == "facts {'files': []}"
        assert got[("a.py", "XT522")] == "facts None"
        assert got[("a.py", "XT500")] == got[("boom.py", "XT500")] == "m"
        assert got[("a.py", "BL003")].startswith("rule XT523 (r-xt523) failed in visit_Call: LookupError")


# -- rule packs ----------------------------------------------------------------------


def _install_pack(site: Path, module: str, source: str) -> None:
    """A rule pack installed like a third party's: a module and a dist-info with the entry point."""
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[backendlint.rules]\n{module} = {module}\n", encoding="utf-8")


@pytest.mark.parametrize(
    "source, needle",
    [
        ("import no_such_dependency\n", "could not load rule pack 'brokenpack' (brokenpack): ModuleNotFoundError: No module named 'no_such_dependency'"),
        ("raise RuntimeError('pack bug at import')\n", "could not load rule pack 'brokenpack' (brokenpack): RuntimeError: pack bug at import"),
        ("def broken(:\n", "could not load rule pack 'brokenpack' (brokenpack): SyntaxError"),
    ],
    ids=["missing-dependency", "raises", "syntax-error"],
)
def test_rule_pack_that_fails_to_import_exits_2(tmp_path, source, needle):
    site = tmp_path / "site"
    site.mkdir()
    _install_pack(site, "brokenpack", source)
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    for extra in ([], ["--debug"]):
        proc = subprocess.run(
            [sys.executable, "-m", "backendlint", "check", "app.py", "--no-cache", *extra],
            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.startswith("backendlint: error: ") and needle in proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


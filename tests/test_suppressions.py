"""Suppression comments in Python and SQL."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import libcst as cst

from backendlint.api import Rule
from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from backendlint.engine.suppress import python_suppressions, sql_suppressions
from tests.helpers.lint import found, lint, settings_for

SWALLOW = "try:\n    work()\nexcept Exception:{comment}\n    pass\n"


def _lint_source(tmp_path: Path, source: str, **overrides):
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    return lint(tmp_path, ["BL401"], **overrides)


def test_unsuppressed(tmp_path):
    assert found(_lint_source(tmp_path, SWALLOW.format(comment=""))) == {("m.py", 3, "BL401")}


def test_same_line_code_prefix_name_and_noqa(tmp_path):
    for comment in (
        "  # backendlint: ignore[BL401]",
        "  # backendlint: ignore[BL4]",
        "  # backendlint: ignore[silent-except]",
        "  # backendlint: ignore",
        "  # noqa: BL401",
        "  # noqa: E501, BL401",
        "  # type: ignore  # backendlint: ignore[BL401]",
    ):
        result = _lint_source(tmp_path, SWALLOW.format(comment=comment))
        assert found(result) == set(), comment
        assert result.files[0].suppressed == 1


def test_other_codes_and_bare_noqa_do_not_suppress(tmp_path):
    for comment in ("  # backendlint: ignore[BL201]", "  # noqa", "  # noqa: E722", "  # backendlint ignore BL401"):
        assert found(_lint_source(tmp_path, SWALLOW.format(comment=comment))) == {("m.py", 3, "BL401")}, comment


def test_comment_alone_on_the_line_above(tmp_path):
    source = "try:\n    work()\n# backendlint: ignore[BL401]\nexcept Exception:\n    pass\n"
    assert found(_lint_source(tmp_path, source)) == set()
    far = "try:\n    work()\n# backendlint: ignore[BL401]\n\nexcept Exception:\n    pass\n"
    assert found(_lint_source(tmp_path, far)) == {("m.py", 5, "BL401")}


class _PrintRule(Rule):
    """Flags print().

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

    code = "XT001"
    name = "test-print"
    message = "print() call"

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) == "builtins.print":
            self.report(node)


def _lint_with_print_rule(tmp_path: Path, source: str):
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=("XT001",))
    job = Job(settings=settings, rules=(_PrintRule,))
    return {(f.span.line, f.code) for f in lint_file(SourceFile(tmp_path / "m.py", "m.py", "python"), job).findings}


def test_first_line_of_multiline_statement(tmp_path):
    source = 'value = compute(  # backendlint: ignore[XT001]\n    1,\n    print("x"),\n)\n'
    assert _lint_with_print_rule(tmp_path, source) == set()
    assert _lint_with_print_rule(tmp_path, source.replace("  # backendlint: ignore[XT001]", "")) == {(3, "XT001")}
    above = '# backendlint: ignore[XT001]\nvalue = compute(\n    print("x"),\n)\n'
    assert _lint_with_print_rule(tmp_path, above) == set()


def test_compound_header_comment_does_not_cover_the_body(tmp_path):
    source = (
        "for x in items:  # backendlint: ignore[BL401]\n"
        "    try:\n        work()\n    except Exception:\n        continue\n"
    )
    # A comment on the `for` line covers only the `for` header statement, not nested handlers.
    assert found(_lint_source(tmp_path, source)) == {("m.py", 4, "BL401")}


def test_file_level_ignore(tmp_path):
    source = "# backendlint: ignore-file[BL401]\n" + SWALLOW.format(comment="")
    assert found(_lint_source(tmp_path, source)) == set()


def test_directive_inside_a_string_is_not_a_comment(tmp_path):
    source = 'x = "# backendlint: ignore-file[BL401]"\n' + SWALLOW.format(comment="")
    assert found(_lint_source(tmp_path, source)) == {("m.py", 4, "BL401")}


def test_unused_suppressions_reported_when_asked(tmp_path):
    source = "x = 1  # backendlint: ignore[BL401]\ny = 2  # noqa: E501\n" + SWALLOW.format(comment="  # noqa: BL401")
    result = _lint_source(tmp_path, source, report_unused_ignores=True)
    assert found(result) == {("m.py", 1, "BL002")}
    assert found(_lint_source(tmp_path, source)) == set()


def test_parsers():
    items = python_suppressions("a = 1  # backendlint: ignore[BL101, BL2]\n# backendlint: ignore-file\n").items
    assert [(i.line, sorted(i.codes), i.file_wide, i.standalone) for i in items] == [
        (1, ["BL101", "BL2"], False, False),
        (2, ["*"], True, True),
    ]
    sql = sql_suppressions("DROP TABLE t; -- backendlint: ignore[BL501]\n-- backendlint: ignore[BL502]\n").items
    assert [(i.line, sorted(i.codes), i.standalone) for i in sql] == [(1, ["BL501"], False), (2, ["BL502"], True)]


class _DropRule(Rule):
    """Flags DROP TABLE in SQL files.

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

    code = "XT002"
    name = "test-drop"
    message = "DROP TABLE"
    languages = ("sql",)

    def check_sql(self, statement) -> None:
        if statement.text.upper().startswith("DROP TABLE"):
            self.report(span=statement.span)


def _lint_sql_with_drop_rule(tmp_path: Path, source: str, unused: bool = True):
    (tmp_path / "m.sql").write_text(source, encoding="utf-8")
    enabled = ("XT002", "BL002") if unused else ("XT002",)
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=enabled)
    job = Job(settings=settings, rules=(_DropRule,))
    return {(f.span.line, f.code) for f in lint_file(SourceFile(tmp_path / "m.sql", "m.sql", "sql"), job).findings}


def test_unused_ignore_file_and_noqa_forms_in_python(tmp_path):
    source = (
        "# backendlint: ignore-file[BL401]\n"
        "x = 1  # noqa: BL401\n"
        "# backendlint: ignore[silent-except]\n"
        "y = 2\n"
        "z = 3  # backendlint: ignore\n"
    )
    result = _lint_source(tmp_path, source, report_unused_ignores=True)
    assert found(result) == {("m.py", 1, "BL002"), ("m.py", 2, "BL002"), ("m.py", 3, "BL002"), ("m.py", 5, "BL002")}
    messages = {f.span.line: f.message for f in result.findings}
    assert "ignore-file for BL401" in messages[1]
    assert "ignore for every rule" in messages[5]
    # A used file-wide suppression is not reported; nor is a noqa code of another tool.
    used = "# backendlint: ignore-file[BL401]\n" + SWALLOW.format(comment="") + "w = 4  # noqa: E501\n"
    assert found(_lint_source(tmp_path, used, report_unused_ignores=True)) == set()


def test_unused_suppressions_in_sql(tmp_path):
    source = (
        "DROP TABLE users; -- backendlint: ignore[XT002]\n"
        "DROP TABLE orders; -- noqa: XT002\n"
        "SELECT 1; -- backendlint: ignore[XT002]\n"
        "SELECT 2; -- noqa: XT002\n"
        "-- backendlint: ignore-file[XT002]\n"
    )
    # Lines 1 and 2 are used (by the line directive and noqa; the file-wide one is not needed for them).
    assert _lint_sql_with_drop_rule(tmp_path, source) == {(3, "BL002"), (4, "BL002"), (5, "BL002")}
    assert _lint_sql_with_drop_rule(tmp_path, source, unused=False) == set()
    assert _lint_sql_with_drop_rule(tmp_path, "DROP TABLE users;\n") == {(1, "XT002")}


def test_unused_suppressions_from_the_config_key_and_the_flag(tmp_path):
    (tmp_path / "m.py").write_text("x = 1  # backendlint: ignore[BL401]\n", encoding="utf-8")
    (tmp_path / "q.sql").write_text("SELECT 1; -- backendlint: ignore\n", encoding="utf-8")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "backendlint", "check", ".", "--no-cache", "--format", "json", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )

    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    assert run().returncode == 0
    flagged = run("--report-unused-ignores")
    assert flagged.returncode == 1, flagged.stderr
    codes = {(f["path"], f["line"], f["code"]) for f in json.loads(flagged.stdout)["findings"]}
    assert codes == {("m.py", 1, "BL002"), ("q.sql", 1, "BL002")}
    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\nreport-unused-ignores = true\n", encoding="utf-8")
    configured = run()
    assert configured.returncode == 1
    assert {(f["path"], f["line"], f["code"]) for f in json.loads(configured.stdout)["findings"]} == codes
    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\nreport-unused-ignores = 'yes'\n", encoding="utf-8")
    bad = run()
    assert bad.returncode == 2 and "'report-unused-ignores' must be true or false" in bad.stderr

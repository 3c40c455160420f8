"""Suppression comments in Python and SQL."""

from __future__ import annotations

import dataclasses
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

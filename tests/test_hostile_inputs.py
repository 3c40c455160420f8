"""Hostile inputs: every one gets a clear diagnostic (or is linted normally), and
every other file of the same run is still linted."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backendlint.api import Rule
from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from tests.helpers.lint import lint, settings_for
from tests.test_engine import DOC

SWALLOW = "try:\n    work()\nexcept Exception:\n    pass\n"


def _run_with_control(tmp_path: Path, name: str, data: bytes, **overrides):
    """Lint a hostile file next to a control file that has one known finding."""
    (tmp_path / "control.py").write_text(SWALLOW, encoding="utf-8")
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    result = lint(tmp_path, ["BL"], **overrides)
    assert ("control.py", 3, "BL401") in {(f.path, f.span.line, f.code) for f in result.findings}
    return result, [f for f in result.findings if f.path != "control.py"], result


def _messages(findings):
    return [(f.code, f.message) for f in findings]


@pytest.mark.parametrize(
    "name, data, needle",
    [
        ("syntax.py", b"def f(:\n    pass\n", "syntax error: invalid syntax"),
        ("py2.py", b"print 'hello'\nexec 'x = 1'\n", "syntax error"),
        ("bad_utf8.py", b"x = '\xff\xfe'\n", "not valid UTF-8"),
        ("bogus_cookie.py", b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding: klingon"),
        ("nul.py", b"x = 1\x00\n", "NUL bytes"),
        ("binary.py", bytes(range(256)) * 4, "NUL bytes"),
        ("deep.py", b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n", "too many nested parentheses"),
        ("long_sum.py", b"x = " + b"+".join([b"1"] * 20000) + b"\n" + SWALLOW.encode(), "too deeply nested"),
        ("long_chain.py", b"x = a" + b".b" * 5000 + b"\n" + SWALLOW.encode(), "too deeply nested"),
    ],
)
def test_unusable_files_get_bl001(tmp_path, name, data, needle):
    _, findings, _ = _run_with_control(tmp_path, name, data)
    assert [f.code for f in findings] == ["BL001"], _messages(findings)
    assert needle in findings[0].message


@pytest.mark.parametrize(
    "name, data, line",
    [
        ("latin1.py", "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1") + SWALLOW.encode(), 5),
        ("bom.py", b"\xef\xbb\xbf" + SWALLOW.encode(), 3),
        ("crlf.py", SWALLOW.replace("\n", "\r\n").encode(), 3),
        ("formfeed.py", b"\x0c\n" + SWALLOW.encode(), 4),
        ("with space and caf\xc3\xa9/m\xc3\xb6dule one.py".encode().decode(), SWALLOW.encode(), 3),
        ("long_sum.py", b"x = " + b"+".join([b"1"] * 600) + b"\n" + SWALLOW.encode(), 4),
        ("long_call.py", b"x = f(" + b", ".join([b"a.b.c"] * 2000) + b")\n" + SWALLOW.encode(), 4),
    ],
)
def test_odd_but_valid_files_are_linted(tmp_path, name, data, line):
    _, findings, _ = _run_with_control(tmp_path, name, data)
    assert [(f.code, f.span.line) for f in findings] == [("BL401", line)], _messages(findings)


def test_lone_cr_line_endings(tmp_path):
    _, findings, _ = _run_with_control(tmp_path, "cr.py", SWALLOW.replace("\n", "\r").encode())
    assert [f.code for f in findings] in (["BL401"], ["BL001"]), _messages(findings)


def test_empty_file(tmp_path):
    _, findings, result = _run_with_control(tmp_path, "empty.py", b"")
    assert findings == []
    assert result.files_checked == 2


def test_oversized_file_is_skipped_and_reported(tmp_path):
    line = b"VALUE = 'generated data generated data generated data'\n"
    big = line * (10 * 1024 * 1024 // len(line) + 1)
    result, findings, _ = _run_with_control(tmp_path, "generated.py", big)
    assert findings == []
    skipped = {r.path: r.skipped for r in result.files if r.skipped}
    assert "over max-file-size" in skipped["generated.py"]
    # The limit is a setting: a file over a lowered limit is skipped, under a raised one linted.
    medium = line * (1024 * 1024 // len(line) + 1)
    result, findings, _ = _run_with_control(tmp_path, "generated.py", medium, max_file_size="512KB")
    assert "over max-file-size (0.5 MB)" in {r.path: r.skipped for r in result.files}["generated.py"]
    result, findings, _ = _run_with_control(tmp_path, "generated.py", medium, max_file_size="2MB")
    assert findings == [] and not any(r.skipped for r in result.files)


def test_unreadable_file(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not prevent reading")
    target = tmp_path / "secret.py"
    _, findings, _ = _run_with_control(tmp_path, "secret.py", SWALLOW.encode())
    target.chmod(0)
    try:
        result = lint(tmp_path, ["BL"])
        ours = [f for f in result.findings if f.path == "secret.py"]
        assert [f.code for f in ours] == ["BL001"] and "permission denied" in ours[0].message
    finally:
        target.chmod(0o644)


def test_symlink_loop_and_dangling_link(tmp_path):
    os.symlink(tmp_path / "b.py", tmp_path / "a.py")
    os.symlink(tmp_path / "a.py", tmp_path / "b.py")
    os.symlink(tmp_path, tmp_path / "again")
    result, findings, _ = _run_with_control(tmp_path, "x/ok.py", b"x = 1\n")
    assert sorted((f.path, f.code, f.message) for f in findings) == [
        ("a.py", "BL001", "broken symbolic link"),
        ("b.py", "BL001", "broken symbolic link"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "match command:\n    case ['go', where]:\n        pass\n    case _:\n        pass\n",
        "def first[T](items: list[T]) -> T:\n    return items[0]\n\ntype Pair[T] = tuple[T, T]\n",
        "def g(xs):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
        'name = "x"\nprint(f"{name!r:>{10}} {f"{name}"}")\n',
    ],
    ids=["match", "pep695", "except-star", "pep701"],
)
def test_newest_syntax(tmp_path, source):
    _, findings, _ = _run_with_control(tmp_path, "new.py", source.encode())
    for finding in findings:
        assert finding.code == "BL001" and "LibCST cannot parse" in finding.message, _messages(findings)


class _SqlRule(Rule):
    __doc__ = DOC
    code = "XT400"
    name = "every-statement"
    message = "statement"
    languages = ("sql",)

    def check_sql(self, statement) -> None:
        if statement.expression is not None:
            self.report(span=statement.span)


def test_sql_file_that_does_not_parse(tmp_path):
    path = tmp_path / "schema.sql"
    path.write_text("SELECT 1;\nTHIS IS NOT SQL AT ALL (((;\nSELECT 2;\n", encoding="utf-8")
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=("XT400", "BL001"))
    result = lint_file(SourceFile(path, "schema.sql", "sql"), Job(settings=settings, rules=(_SqlRule,)))
    codes = sorted((f.code, f.span.line) for f in result.findings)
    assert ("XT400", 1) in codes and ("XT400", 3) in codes
    assert ("BL001", 2) in codes
    message = next(f.message for f in result.findings if f.code == "BL001")
    assert "could not be parsed" in message


def test_cli_never_prints_a_traceback_on_hostile_tree(tmp_path):
    for name, data in [("a.py", b"\xff\xfe\x00"), ("b.py", b"def (:"), ("c.sql", b"\x00\x01"), ("d.py", b"(" * 3000)]:
        (tmp_path / name).write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "backendlint", "check", str(tmp_path), "--no-cache", "--no-color"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout.count("BL001") >= 3

"""Hostile inputs: every one gets a clear diagnostic (or is linted normally), and
every other file of the same run is still linted."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backendlint.api import Rule
from backendlint.cli import lint_paths
from backendlint.discovery import SourceFile
from backendlint.engine import source as source_module
from backendlint.engine.lint import Job, lint_file
from backendlint.engine.parsing import parse_module
from backendlint.registry import Registry, default_registry
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
        ("py2_backticks.py", b"x = `y`\n", "syntax error"),
        ("py2_octal.py", b"mode = 0777\n", "syntax error: leading zeros"),
        ("py2_ne.py", b"if a <> b:\n    pass\n", "syntax error"),
        ("py2_ur.py", b"x = ur'abc'\n", "syntax error"),
        ("py2_raise.py", b"raise ValueError, 'bad'\n", "syntax error"),
        ("bad_utf8.py", b"x = '\xff\xfe'\n", "not valid UTF-8"),
        ("bad_utf8_cookie.py", b"# -*- coding: utf-8 -*-\nx = '\xff'\n", "cannot decode as utf-8: invalid byte b'\\xff'"),
        ("bad_latin_cookie.py", b"# vim: set fileencoding=ascii :\nx = '\xe9'\n", "cannot decode as ascii"),
        ("bogus_cookie.py", b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding: klingon"),
        ("undefined_codec.py", b"# coding: undefined\nx = 1\n", "cannot decode as undefined"),
        ("bytes_codec.py", b"# coding: hex\nx = 1\n", "unknown encoding 'hex'"),
        ("bom_and_cookie.py", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "invalid encoding declaration"),
        ("utf16.py", "x = 1\n".encode("utf-16"), "encoded as UTF-16"),
        ("utf32.py", "x = 1\n".encode("utf-32"), "encoded as UTF-32"),
        ("nul.py", b"x = 1\x00\n", "NUL bytes"),
        ("late_nul.py", b"x = 1\n" * 3000 + b"y = '\x00'\n" + SWALLOW.encode(), "NUL bytes"),
        ("binary.py", bytes(range(256)) * 4, "NUL bytes"),
        ("binary_no_nul.py", bytes(range(128, 256)) * 8, "not valid UTF-8"),
        ("tabs.py", b"if x:\n\tif y:\n        pass\n", "inconsistent use of tabs and spaces"),
        ("not_chain.py", b"x = " + b"not " * 20000 + b"y\n", "too deeply nested"),
        ("minus_chain.py", b"x = " + b"-" * 50000 + b"y\n", "too deeply nested"),
        ("and_chain.py", b"x = a" + b" and a" * 20000 + b"\n", "too deeply nested"),
        ("compare_chain.py", b"x = a" + b" < a" * 20000 + b"\n", "too deeply nested"),
        ("elif_chain.py", b"if a:\n    pass\n" + b"elif a:\n    pass\n" * 3000, "too deeply nested"),
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
        ("cp1252.py", "# coding: cp1252\nquote = '\u201cok\u201d'\n".encode("cp1252") + SWALLOW.encode(), 5),
        ("bom.py", b"\xef\xbb\xbf" + SWALLOW.encode(), 3),
        ("bom_and_utf8_cookie.py", b"\xef\xbb\xbf# coding: utf-8\n" + SWALLOW.encode(), 4),
        ("crlf.py", SWALLOW.replace("\n", "\r\n").encode(), 3),
        ("cr.py", SWALLOW.replace("\n", "\r").encode(), 3),
        ("mixed_eol.py", b"x = 1\r\ny = 2\r" + SWALLOW.encode(), 5),
        ("no_final_newline.py", SWALLOW.rstrip().encode(), 3),
        ("formfeed.py", b"\x0c\n" + SWALLOW.encode(), 4),
        ("formfeed_inline.py", b"x = 1\x0c\ny = (1 +\x0c 2)\n" + SWALLOW.encode(), 5),
        ("separators.py", "s = 'a\u2028b\x1cc\x85d'\n".encode() + SWALLOW.encode(), 4),
        ("bidi_and_emoji.py", "s = '\u202e\U0001f600'\nn\u00e4me = 1\n".encode() + SWALLOW.encode(), 5),
        ("with space and caf\xc3\xa9/m\xc3\xb6dule one.py".encode().decode(), SWALLOW.encode(), 3),
        ("long_sum.py", b"x = " + b"+".join([b"1"] * 600) + b"\n" + SWALLOW.encode(), 4),
        ("long_call.py", b"x = f(" + b", ".join([b"a.b.c"] * 2000) + b")\n" + SWALLOW.encode(), 4),
    ],
)
def test_odd_but_valid_files_are_linted(tmp_path, name, data, line):
    _, findings, _ = _run_with_control(tmp_path, name, data)
    assert [(f.code, f.span.line) for f in findings] == [("BL401", line)], _messages(findings)
    # Lines are counted as Python counts them (\r ends a line, a form feed does not):
    # the snippet shown is the line the finding is on.
    assert findings[0].snippet == "except Exception:"


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("lead", ["", "\x0c\n", "s = 'a\u2028b'\n"])
def test_suppressions_follow_python_line_numbers(tmp_path, eol, lead):
    source = (lead + SWALLOW.replace("except Exception:", "except Exception:  # backendlint: ignore[BL401]")).replace("\n", eol)
    _, findings, result = _run_with_control(tmp_path, "quiet.py", source.encode())
    assert findings == [] and sum(r.suppressed for r in result.files) == 1


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


def _failing_open(monkeypatch, name: str, error: OSError) -> None:
    """Make opening ``name`` fail at the I/O boundary (works as root, where chmod does not)."""
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith(name):
            raise error
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(source_module.os, "open", fake_open)


@pytest.mark.parametrize(
    "error, needle",
    [
        (PermissionError(errno.EACCES, "Permission denied"), "cannot read file: permission denied"),
        (OSError(errno.EIO, "Input/output error"), "cannot read file: Input/output error"),
        (OSError(errno.ENXIO, "No such device or address"), "cannot read file: No such device or address"),
    ],
)
def test_unreadable_file_any_user(tmp_path, monkeypatch, error, needle):
    (tmp_path / "control.py").write_text(SWALLOW, encoding="utf-8")
    (tmp_path / "secret.py").write_text(SWALLOW, encoding="utf-8")
    _failing_open(monkeypatch, "secret.py", error)
    settings = settings_for(tmp_path, ["BL"])
    # with the cache too: hashing the content for it must not fail the run either
    for cache_dir in (None, tmp_path / ".cache"):
        result = lint_paths([tmp_path], settings, default_registry(), cache_dir=cache_dir)
        assert [(f.path, f.code, f.message) for f in result.findings] == [
            ("control.py", "BL401", next(f.message for f in result.findings if f.code == "BL401")),
            ("secret.py", "BL001", needle),
        ]


def test_named_pipe_and_device_are_not_read(tmp_path):
    """A FIFO named like a module would block a reader forever; a device may never end."""
    (tmp_path / "control.py").write_text(SWALLOW, encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.py")
    proc = subprocess.run(
        [sys.executable, "-m", "backendlint", "check", ".", os.devnull, "--no-cache", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in proc.stderr
    found = {(f["path"].rsplit("/", 1)[-1], f["code"], f["message"]) for f in json.loads(proc.stdout)["findings"]}
    assert ("control.py", "BL401") in {(p, c) for p, c, _ in found}
    message = "not a regular file (a named pipe, socket or device); not read"
    assert {("pipe.py", "BL001", message), (os.path.basename(os.devnull), "BL001", message)} <= found


def test_unreadable_file(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not prevent reading (see test_unreadable_file_any_user)")
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
    os.symlink(tmp_path / "self.py", tmp_path / "self.py")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "dangling.py")
    result, findings, _ = _run_with_control(tmp_path, "x/ok.py", b"x = 1\n")
    assert sorted((f.path, f.code, f.message) for f in findings) == [
        ("a.py", "BL001", "symbolic link loop"),
        ("b.py", "BL001", "symbolic link loop"),
        ("dangling.py", "BL001", "broken symbolic link"),
        ("self.py", "BL001", "symbolic link loop"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "match command:\n    case ['go', where]:\n        pass\n    case {'x': 1, **rest} if rest:\n        pass\n    case _:\n        pass\n",
        "def first[T](items: list[T]) -> T:\n    return items[0]\n\ntype Pair[T] = tuple[T, T]\n",
        "class Box[T: int, *Ts, **P]:\n    pass\n",
        "def g(xs):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
        'name = "x"\nprint(f"{name!r:>{10}} {f"{name}"}")\n',
        "print(f'{\n    1 + 1\n}')\n",
        "try:\n    pass\nexcept (ValueError, TypeError):\n    pass\n",
        "async def f(xs):\n    async with a as b, c as d:\n        return [x async for x in xs]\n",
        "with (\n    open('a') as a,\n    open('b') as b,\n):\n    pass\n",
    ],
    ids=["match", "pep695", "pep695-bounds", "except-star", "pep701", "pep701-multiline", "except-tuple", "async", "paren-with"],
)
def test_newest_syntax_is_linted(tmp_path, source):
    """Syntax newer than the running interpreter is still read (LibCST knows it): the
    silent except appended to each file is found."""
    data = (source + SWALLOW).encode()
    _, findings, _ = _run_with_control(tmp_path, "new.py", data)
    line = source.count("\n") + 3
    assert [(f.code, f.span.line) for f in findings] == [("BL401", line)], _messages(findings)


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


def test_sql_files_sqlglot_cannot_read_in_a_run(tmp_path):
    """Unparsable statements, an unterminated string or dollar quote (sqlglot's tokenizer
    gives up), binary data: each file gets its diagnostic, the rest of the run stands."""
    (tmp_path / "control.py").write_text(SWALLOW, encoding="utf-8")
    (tmp_path / "garbage.sql").write_text("THIS IS NOT SQL AT ALL (((;\nSELECT 2;\n", encoding="utf-8")
    (tmp_path / "quote.sql").write_text("SELECT 1;\nSELECT 'unterminated;\n", encoding="utf-8")
    (tmp_path / "dollar.sql").write_text("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n", encoding="utf-8")
    (tmp_path / "binary.sql").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin1.sql").write_bytes(b"SELECT '\xe9';\n")
    (tmp_path / "ok.sql").write_text("SELECT 1;\n", encoding="utf-8")
    registry = Registry([*((r.cls, r.meta.origin) for r in default_registry().rules()), (_SqlRule, "test")])
    base = settings_for(tmp_path, ["BL"])
    settings = dataclasses.replace(base, enabled=(*base.enabled, "XT400"))
    result = lint_paths([tmp_path], settings, registry)
    got = {(f.path, f.span.line, f.code): f.message for f in result.findings}
    assert set(got) == {
        ("control.py", 3, "BL401"),
        ("garbage.sql", 1, "BL001"),
        ("garbage.sql", 2, "XT400"),
        ("quote.sql", 1, "XT400"),
        ("quote.sql", 2, "BL001"),
        ("dollar.sql", 1, "XT400"),
        ("binary.sql", 1, "BL001"),
        ("latin1.sql", 1, "BL001"),
        ("ok.sql", 1, "XT400"),
    }
    assert got[("garbage.sql", 1, "BL001")] == "1 SQL statement(s) could not be parsed and were not checked (first at line 1)"
    assert got[("quote.sql", 2, "BL001")].endswith("(first at line 2)")
    assert got[("binary.sql", 1, "BL001")] == "contains NUL bytes (binary file?)"
    assert got[("latin1.sql", 1, "BL001")].startswith("cannot decode as utf-8")


def test_file_name_that_is_not_utf8(tmp_path):
    """POSIX file names are bytes: one that is not UTF-8 is shown with \\x escapes, linted,
    and every report format stays valid UTF-8."""
    try:
        (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text(SWALLOW, encoding="utf-8")
        os.symlink(tmp_path / "missing", tmp_path / os.fsdecode(b"l\xefnk.py"))
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses file names that are not UTF-8")
    result, findings, _ = _run_with_control(tmp_path, "ok.py", b"x = 1\n")
    assert sorted((f.path, f.code) for f in findings) == [("caf\\xe9.py", "BL401"), ("l\\xefnk.py", "BL001")]
    for fmt in ("text", "json", "sarif", "github"):
        proc = subprocess.run(
            [sys.executable, "-m", "backendlint", "check", ".", "--no-cache", "--format", fmt, "--output", "report.out"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        assert proc.returncode == 1, proc.stderr
        report = (tmp_path / "report.out").read_bytes().decode("utf-8")
        shown = "caf%5Cxe9.py" if fmt == "sarif" else "caf\\xe9.py"  # SARIF URIs are percent-encoded
        assert shown in report.replace("\\\\", "\\")


def test_syntax_newer_than_libcst(tmp_path):
    """Concatenated PEP 750 template strings (Python 3.14): LibCST fails with an internal
    logic error, not a syntax error. The report uses the interpreter's wording when it
    rejects the file too, and says plainly that LibCST could not parse it otherwise."""
    source = b'name = "x"\ngreeting = t"hello " t"{name}"\n'
    _, findings, _ = _run_with_control(tmp_path, "tstring.py", source)
    try:
        parse_module(source.decode())
    except Exception:  # LibCST gives up: the file is reported, in the interpreter's words where it has some
        if sys.version_info < (3, 14):
            assert [(f.code, f.span.line, f.message) for f in findings] == [("BL001", 2, "syntax error: invalid syntax")]
        assert [f.code for f in findings] == ["BL001"]
        assert findings[0].message.startswith(("syntax error", "not analysed: LibCST could not parse this file"))
    else:  # LibCST reads it (the engine skips the node re-validation that used to fail here): linted as usual
        assert findings == []


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_sql_line_endings(tmp_path, eol):
    path = tmp_path / "schema.sql"
    path.write_bytes(eol.join(["SELECT 1;", "SELECT", "  2;", "SELECT 3;  -- backendlint: ignore[XT400]", ""]).encode())
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=("XT400", "BL001", "BL003"))
    result = lint_file(SourceFile(path, "schema.sql", "sql"), Job(settings=settings, rules=(_SqlRule,)))
    assert [(f.code, f.span.line, f.span.end_line, f.snippet) for f in result.findings] == [
        ("XT400", 1, 1, "SELECT 1;"),
        ("XT400", 2, 3, "SELECT"),
    ]
    assert result.suppressed == 1


def test_the_interpreter_s_warnings_about_a_file_are_not_printed(tmp_path):
    """Invalid escapes and `is` with a literal make Python warn when it reads a file;
    linting it prints nothing of that (stderr stays clean in CI logs)."""
    import warnings

    source = "import re\nPATTERN = re.compile('\\d+')\nif PATTERN is 'x':\n    pass\n" + SWALLOW
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, findings, _ = _run_with_control(tmp_path, "warns.py", source.encode())
    assert [(f.code, f.span.line) for f in findings] == [("BL401", 7)]
    assert [str(w.message) for w in caught] == []

"""Property-based and fuzz tests of the engine and of every registered rule.

Generated Python source (hypothesmith), random and mutated bytes, mutated real
fixture files and random SQL-ish text are linted with every rule of the registry
(so rules added later are fuzzed too) plus probe rules that report at every
statement, call, string and function. The property: ``lint_file`` never raises,
no rule or engine step fails (no BL003), and every finding sits at a sane place
(1-based, ordered, inside the file).

Budget: by default the derandomized ``ci`` profile runs a few dozen examples per
test (seconds in all). ``BACKENDLINT_FUZZ=long`` selects the ``long`` profile (random
seeds, ``BACKENDLINT_FUZZ_EXAMPLES`` examples per test, 2,000 unless set; failures
are saved to hypothesis' example database and replayed first)::

    BACKENDLINT_FUZZ=long BACKENDLINT_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -q
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import List, Sequence, Tuple

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backendlint.api import Rule
from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from backendlint.engine.python import with_deep_stack
from backendlint.engine.source import SourceError, decode_python, decode_sql
from backendlint.registry import default_registry
from backendlint.types import FileResult, Finding
from tests.helpers.lint import FIXTURES, settings_for
from tests.test_engine import DOC

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example]
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("BACKENDLINT_FUZZ_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("BACKENDLINT_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=_QUIET,
)
FUZZ = settings.get_profile(os.environ.get("BACKENDLINT_FUZZ", "ci"))
#: hypothesmith's generators are the slow ones: half the examples.
FUZZ_GENERATED = settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 2))


# -- probe rules: findings at many kinds of places, so that spans are exercised ----------


def _report(self, node: cst.CSTNode) -> None:
    self.report(node)


class _PythonProbe(Rule):
    __doc__ = DOC
    code = "XT900"
    name = "fuzz-python-probe"
    message = "probe"
    visit_Module = _report
    visit_Call = _report
    visit_SimpleString = _report
    visit_FormattedString = _report
    visit_FunctionDef = _report
    visit_ClassDef = _report
    visit_SimpleStatementLine = _report
    visit_ExceptHandler = _report

    def end_file(self) -> None:
        self.ctx.file.lines  # noqa: B018  (the API's view of the lines must not fail either)


class _SqlProbe(Rule):
    __doc__ = DOC
    code = "XT901"
    name = "fuzz-sql-probe"
    message = "probe"
    languages = ("sql",)

    def check_sql(self, statement) -> None:
        self.report(span=statement.span)


REGISTERED = tuple(r.cls for r in default_registry().rules())
RULES = (*REGISTERED, _PythonProbe, _SqlProbe)
#: Every rule's cheap text pre-filter, as one comment: generated code then reaches every rule.
WAKE_ALL = "# " + " ".join(sorted({t for r in REGISTERED for t in r.requires_text})).replace("\n", " ") + "\n"


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Job:
    root = tmp_path_factory.mktemp("fuzz")
    base = settings_for(root, ["BL"])
    codes = tuple(sorted({*base.enabled, *(r.code for r in RULES), "BL001", "BL002", "BL003"}))
    return Job(settings=dataclasses.replace(base, enabled=codes, report_unused_ignores=True), rules=RULES)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


# -- the property ------------------------------------------------------------------------

_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(data: bytes, kind: str) -> List[str]:
    """The file's lines as the property judges them (decoded like the interpreter would)."""
    try:
        text = (decode_sql(data) if kind == "sql" else decode_python(data)).text
    except SourceError:
        text = data.decode("utf-8", "replace")
    lines = _BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def _sane(finding: Finding, lines: Sequence[str]) -> bool:
    span = finding.span
    values = (span.line, span.column, span.end_line, span.end_column)
    if not all(type(v) is int for v in values):
        return False
    if not (1 <= span.line <= span.end_line <= len(lines) + 1 and span.column >= 1 and span.end_column >= 1):
        return False
    if (span.line, span.column) > (span.end_line, span.end_column):
        return False
    for line, column in ((span.line, span.column), (span.end_line, span.end_column)):
        width = len(lines[line - 1]) if line <= len(lines) else 0
        if column > width + 1:
            return False
    return True


def check(job: Job, workdir: Path, data: bytes, name: str = "app/module.py") -> FileResult:
    """Lint ``data`` as ``name`` and assert the property."""
    path = workdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    kind = "sql" if name.endswith(".sql") else "python"
    result = with_deep_stack(lint_file, SourceFile(path, name, kind), job)  # raises: the property fails
    assert isinstance(result, FileResult) and result.path == name
    lines = _lines(data, kind)
    for finding in result.findings:
        assert finding.code != "BL003", f"{finding.message}\n--- input ---\n{data[:2000]!r}"
        assert isinstance(finding.message, str) and finding.message.strip()
        assert _sane(finding, lines), f"{finding.code} at {finding.span} outside {len(lines)} lines: {data[:2000]!r}"
    return result


# -- inputs ------------------------------------------------------------------------------

NAMES = st.sampled_from(["app/module.py", "tests/test_module.py", "migrations/0001_initial.py", "settings.py"])
python_source = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


def _fixture_files() -> List[Tuple[str, bytes]]:
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".py", ".sql") and path.is_file():
            found.append((path.relative_to(FIXTURES).as_posix(), path.read_bytes()))
    return found


FIXTURE_FILES = _fixture_files()
#: Bytes that matter to tokenizers: brackets, quotes, line ends, escapes, NUL, invalid UTF-8.
INTERESTING = st.sampled_from(
    [b"(", b")", b"[", b"]", b"{", b"}", b":", b"\n", b"\r", b"\r\n", b"\t", b"\x0c", b"\\", b"'", b'"', b'"""',
     b"#", b"f'{", b"}'", b"\x00", b"\xff", b"\xc3", b"    ", b"lambda", b"async ", b"await ", b"yield ", b"*", b"**",
     b"@", b"=", b":=", b"match ", b"case ", b"type ", b"# backendlint: ignore", b"# noqa: BL", b"# -*- coding: latin-1 -*-\n"]
)
chunk = st.one_of(INTERESTING, st.binary(max_size=8))
mutation = st.tuples(st.sampled_from(["insert", "delete", "duplicate", "replace", "truncate", "swap-lines"]),
                     st.floats(0, 1), st.integers(0, 64), chunk)


def mutate(data: bytes, edits: Sequence[Tuple[str, float, int, bytes]]) -> bytes:
    for kind, where, size, payload in edits:
        at = int(where * len(data))
        if kind == "insert":
            data = data[:at] + payload + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + size:]
        elif kind == "duplicate":
            data = data[:at + size] + data[at:at + size] + data[at + size:]
        elif kind == "replace":
            data = data[:at] + payload + data[at + len(payload):]
        elif kind == "truncate":
            data = data[:at]
        else:
            lines = data.split(b"\n")
            i, j = int(where * len(lines)) % len(lines), size % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


SQL_WORDS = st.sampled_from(
    ["SELECT", "*", "FROM", "users", "WHERE", "id", "=", "1", "'x'", "'it''s'", "E'\\n'", "\"Quoted\"", "`b`", "$$", "$fn$",
     "CREATE", "TABLE", "INDEX", "CONCURRENTLY", "UNIQUE", "ON", "ALTER", "ADD", "COLUMN", "DROP", "NOT", "NULL", "DEFAULT",
     "PRIMARY KEY", "REFERENCES", "BEGIN", "COMMIT", "INSERT INTO", "VALUES", "UPDATE", "SET", "DELETE", "LIMIT", "JOIN",
     "(", ")", ",", ";", "::", "?", "%s", "%(name)s", ":name", "--", "/*", "*/", "\n", "\r\n", "-- backendlint: ignore",
     "-- noqa: BL", "CREATE FUNCTION f() RETURNS trigger AS", "LANGUAGE plpgsql", "COPY t FROM stdin", "\\.", "GO"]
)
sql_text = st.lists(st.one_of(SQL_WORDS, st.text(max_size=6)), max_size=60).map(" ".join)


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
@FUZZ_GENERATED
@given(source=python_source, name=NAMES, wake=st.booleans())
def test_generated_python(job, workdir, source, name, wake):
    check(job, workdir, ((WAKE_ALL if wake else "") + source).encode("utf-8", "surrogatepass"), name)


@FUZZ
@given(item=st.sampled_from(FIXTURE_FILES), edits=st.lists(mutation, min_size=1, max_size=6))
def test_mutated_fixtures(job, workdir, item, edits):
    name, data = item
    check(job, workdir, mutate(data, edits), name)


@FUZZ
@given(data=st.binary(max_size=3000), prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"# coding: latin-1\n", WAKE_ALL.encode()]))
def test_random_bytes(job, workdir, data, prefix):
    check(job, workdir, prefix + data)


@FUZZ
@given(text=st.text(max_size=400), name=NAMES)
def test_random_text(job, workdir, text, name):
    check(job, workdir, (WAKE_ALL + text).encode("utf-8", "surrogatepass"), name)


@FUZZ
@given(text=sql_text, raw=st.binary(max_size=40))
@example(text="\r0", raw=b"")  # found by a long run: lone CR line ends in SQL files
def test_sql_ish_text(job, workdir, text, raw):
    check(job, workdir, text.encode("utf-8", "surrogatepass"), "db/schema.sql")
    check(job, workdir, text.encode("utf-8", "surrogatepass") + raw, "db/more.sql")


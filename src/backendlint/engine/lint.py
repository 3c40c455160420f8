"""Lint one file (Python or SQL) into a :class:`FileResult`. Never raises."""

from __future__ import annotations

import dataclasses
import functools
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Type

import libcst as cst
import pathspec

from backendlint.api import FileInfo, PendingReport, Rule, RuleContext, SqlStatement
from backendlint.config import Settings
from backendlint.discovery import SourceFile
from backendlint.engine.codes import INTERNAL_ERROR, PARSE_ERROR, UNUSED_SUPPRESSION
from backendlint.engine.fingerprint import with_fingerprints
from backendlint.engine.parsing import parse_module
from backendlint.engine.precheck import precheck
from backendlint.engine.python import ParsedFile, RuleFailure, RuleRef, failure_message, run_rules
from backendlint.engine.source import SourceError, decode_python, decode_sql, looks_binary, physical_lines, read_bytes
from backendlint.engine.suppress import ALL, Suppressions, python_suppressions, sql_suppressions
from backendlint.project.facts import EMPTY as EMPTY_PROJECT
from backendlint.project.facts import ProjectFacts
from backendlint.sql.parse import parse_sql, split_statements
from backendlint.types import Confidence, FileResult, Finding, RuleMeta, Severity, Span


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to lint files; plain, picklable data."""

    settings: Settings
    rules: Tuple[Type[Rule], ...]
    names: Tuple[Tuple[str, str], ...] = ()
    project: ProjectFacts = EMPTY_PROJECT
    debug: bool = False

    def matches(self, pattern: str, code: str) -> bool:
        """Whether a suppression/ignore pattern (code, prefix, name, alias) covers ``code``."""
        mapped = dict(self.names).get(pattern)
        if mapped is not None:
            return mapped == code
        return code.startswith(pattern.upper())

    def is_test(self, relpath: str) -> bool:
        return _spec(self.settings.test_paths).match_file(relpath)

    def ignored_codes(self, relpath: str) -> Tuple[str, ...]:
        out: List[str] = []
        for glob, codes in self.settings.per_file_ignores:
            if _spec((glob,)).match_file(relpath):
                out.extend(codes)
        return tuple(out)

    def rules_for(self, relpath: str, kind: str) -> List[Type[Rule]]:
        ignored = self.ignored_codes(relpath)
        return [
            r
            for r in self.rules
            if kind in r.languages
            and self.settings.is_enabled(r.code)
            and not any(r.code.startswith(code) for code in ignored)
        ]

    def applicable(self, file: FileInfo, candidates: List[Type[Rule]]) -> List[Type[Rule]]:
        """The ``candidates`` whose pre-filter (:meth:`Rule.applies_to`) accepts ``file``;
        a pre-filter that raises counts as accepting (the rule then runs and reports)."""
        if not candidates:
            return []
        ctx = RuleContext(file, None, self.settings.options_map(), self.project, [])
        out = []
        for cls in candidates:
            try:
                wanted = cls.applies_to(ctx)
            except Exception:
                wanted = True
            if wanted:
                out.append(cls)
        return out

    def code_enabled(self, relpath: str, code: str) -> bool:
        return self.settings.is_enabled(code) and not any(code.startswith(c) for c in self.ignored_codes(relpath))


@functools.lru_cache(maxsize=256)
def _spec(lines: Tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(lines))


def _finding(meta: RuleMeta, relpath: str, span: Span, message: str, severity: Optional[Severity] = None) -> Finding:
    return Finding(
        code=meta.code,
        name=meta.name,
        message=message,
        severity=severity if severity is not None else meta.severity,
        confidence=meta.confidence,
        path=relpath,
        span=span,
    )


def _start() -> Span:
    return Span(1, 1, 1, 1)


class WatchedFacts:
    """The project facts as one file's rules see them, noting whether any rule (or
    pre-filter) asked for them."""

    def __init__(self, facts: ProjectFacts) -> None:
        self._facts = facts
        self.used = False

    def get(self, name: str) -> Any:
        self.used = True
        return self._facts.get(name)

    def __getattr__(self, name: str) -> Any:
        self.used = True
        return getattr(self._facts, name)


def lint_file(src: SourceFile, job: Job) -> FileResult:
    """Lint one file; every failure becomes a finding, never an exception."""
    watched = WatchedFacts(job.project)
    with warnings.catch_warnings():
        # Reading the file's code (compile, literal_eval) makes Python warn about it
        # ("invalid escape sequence"...): the user's code, not ours to print on stderr.
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        result = _lint_file(src, dataclasses.replace(job, project=watched))  # type: ignore[arg-type]
    return dataclasses.replace(result, uses_project=True) if watched.used else result


def _lint_file(src: SourceFile, job: Job) -> FileResult:
    limit = job.settings.max_file_size
    if limit:
        try:
            size = src.path.stat().st_size
        except OSError:
            size = 0
        if size > limit:
            return FileResult(src.relpath, skipped=f"{_megabytes(size)} is over max-file-size ({_megabytes(limit)}); not checked")
    try:
        if src.kind == "sql":
            return _lint_sql(src, job)
        return _lint_python(src, job)
    except RecursionError:
        return _diagnostic(src, job, PARSE_ERROR, _start(), "too deeply nested to analyse; file not checked")
    except Exception as exc:  # an engine bug must not break the user's build
        message = f"internal error while linting this file: {type(exc).__name__}: {exc}"
        if job.debug:
            message += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return _diagnostic(src, job, INTERNAL_ERROR, _start(), message)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _diagnostic(
    src: SourceFile, job: Job, meta: RuleMeta, span: Span, message: str, severity: Optional[Severity] = None, text: str = ""
) -> FileResult:
    """A file-level diagnostic, placed inside the file (parsers may point past its end)."""
    if not job.code_enabled(src.relpath, meta.code):
        return FileResult(src.relpath)
    lines = physical_lines(text)
    span = within(span, lines)
    return FileResult(src.relpath, with_fingerprints([_finding(meta, src.relpath, span, message, severity)], lines))


def within(span: Span, lines: List[str]) -> Span:
    """``span`` moved inside a file of ``lines``: 1-based, ordered, on existing lines
    (the line after a final newline included, where parsers place the end of file)."""
    last = len(lines) + 1

    def point(line: int, column: int) -> Tuple[int, int]:
        line = min(max(line, 1), last)
        width = len(lines[line - 1]) if line <= len(lines) else 0
        return line, min(max(column, 1), width + 1)

    start = point(span.line, span.column)
    end = point(span.end_line, span.end_column)
    return Span(*start, *max(start, end))


def span_problem(span: object, lines: List[str]) -> Optional[str]:
    """Why ``span`` is not a place in a file of ``lines`` (``None`` when it is)."""
    if not isinstance(span, Span) or not all(type(v) is int for v in (span.line, span.column, span.end_line, span.end_column)):
        return f"span {span!r} is not a Span of integers"
    if within(span, lines) != span:
        return f"span {span.line}:{span.column}-{span.end_line}:{span.end_column} is outside the file ({len(lines)} lines)"
    return None


def _lint_python(src: SourceFile, job: Job) -> FileResult:
    try:
        data = read_bytes(src.path)
        reason = looks_binary(data)
        if reason:
            raise SourceError(reason)
        decoded = decode_python(data)
    except SourceError as exc:
        return _diagnostic(src, job, PARSE_ERROR, Span(exc.line, exc.column, exc.line, exc.column), str(exc))
    text = decoded.text
    file = FileInfo(src.path, src.relpath, "python", text, job.is_test(src.relpath), job.settings.sql_dialect)
    rules = job.applicable(file, job.rules_for(src.relpath, "python"))
    suppressions = python_suppressions(text)
    verdict = precheck(text)
    if verdict.fatal is not None:
        return _diagnostic(src, job, PARSE_ERROR, *verdict.fatal, text=text)
    if not rules:
        problem = _confirm_syntax_error(text, verdict.syntax_error) if verdict.syntax_error else None
        if problem is not None:
            return _diagnostic(src, job, PARSE_ERROR, problem[0], problem[1], text=text)
        return _finish(src, job, text, [], suppressions, 0)
    try:
        module = parse_module(text)
    except cst.ParserSyntaxError as exc:
        span, message = _describe_syntax_error(exc, verdict.syntax_error)
        return _diagnostic(src, job, PARSE_ERROR, span, message, text=text)
    except RecursionError:
        return _diagnostic(src, job, PARSE_ERROR, _start(), "too deeply nested to parse; file not checked")
    except Exception as exc:
        span, message = _parser_failure(exc, verdict.syntax_error)
        return _diagnostic(src, job, PARSE_ERROR, span, message, text=text)
    try:
        parsed = run_rules(module, file, rules, job.settings.options_map(), job.project)
    except RecursionError:
        return _diagnostic(src, job, PARSE_ERROR, _start(), "too deeply nested to analyse; file not checked")
    findings = _python_findings(src, parsed, job, text)
    return _finish(src, job, text, findings, suppressions, 0)


def _confirm_syntax_error(text: str, cpython: Tuple[Span, str]) -> Optional[Tuple[Span, str]]:
    """CPython objected to a file no rule needs to parse: LibCST (which also reads
    syntax of other Python versions) confirms before the file is reported."""
    try:
        parse_module(text)
        return None
    except cst.ParserSyntaxError as exc:
        return _describe_syntax_error(exc, cpython)
    except RecursionError:
        return _start(), "too deeply nested to parse; file not checked"
    except Exception as exc:
        return _parser_failure(exc, cpython)


def _parser_failure(exc: Exception, cpython: Optional[Tuple[Span, str]]) -> Tuple[Span, str]:
    """LibCST failed without a syntax error of its own (e.g. on syntax newer than it knows)."""
    if cpython is not None:
        return cpython
    return _start(), f"not analysed: LibCST could not parse this file ({type(exc).__name__}: {_one_line(str(exc))})"


def _describe_syntax_error(exc: cst.ParserSyntaxError, cpython: Optional[Tuple[Span, str]]) -> Tuple[Span, str]:
    """Prefer CPython's own wording and position when it agrees that the code is invalid."""
    if cpython is not None:
        return cpython
    line, column = exc.raw_line, exc.raw_column + 1
    message = f"not analysed: this syntax is valid Python but LibCST cannot parse it ({_one_line(exc.message)})"
    return Span(line, column, line, column), message


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _python_findings(src: SourceFile, parsed: ParsedFile, job: Job, text: str) -> List[Tuple[Finding, Tuple[int, ...]]]:
    out: List[Tuple[Finding, Tuple[int, ...]]] = []
    lines = physical_lines(text)
    invalid: Dict[str, List[str]] = {}
    for report in parsed.reports:
        try:
            span = report.span or (parsed.span_of(report.node) if report.node is not None else None) or _start()
            finding = _report_finding(report, src.relpath, span, lines)
            anchors = [span.line]
            if report.statement is not None:
                stmt = parsed.span_of(report.statement)
                if stmt is not None:
                    anchors.append(stmt.line)
            out.append((finding, tuple(anchors)))
        except Exception as exc:  # a rule's garbage is its own failure, not the file's
            _invalid(invalid, report, exc)
    out.extend(_invalid_reports(src, job, invalid))
    for failure in parsed.failures:
        span = (parsed.span_of(failure.node) if failure.node is not None else None) or _start()
        message = failure_message(failure)
        if job.debug:
            message += "\n" + failure.traceback
        if job.code_enabled(src.relpath, INTERNAL_ERROR.code):
            out.append((_finding(INTERNAL_ERROR, src.relpath, span, message), (span.line,)))
    return out


class InvalidReport(ValueError):
    """A rule reported something that is not a finding (no text, a place outside the file...)."""


def _report_finding(report: PendingReport, relpath: str, span: Span, lines: List[str]) -> Finding:
    rule = report.rule
    problem = span_problem(span, lines)
    if problem is not None:
        raise InvalidReport(problem)
    if not isinstance(report.message, str) or not report.message.strip():
        raise InvalidReport(f"message {report.message!r} is not text")
    try:
        severity, confidence = Severity(report.severity), Confidence(report.confidence)
    except ValueError:
        raise InvalidReport(f"severity {report.severity!r} / confidence {report.confidence!r} unknown") from None
    return Finding(
        code=rule.code,
        name=rule.name,
        message=report.message,
        severity=severity,
        confidence=confidence,
        path=relpath,
        span=span,
    )


def _invalid(invalid: Dict[str, List[str]], report: PendingReport, exc: Exception) -> None:
    reason = str(exc) if isinstance(exc, InvalidReport) else f"{type(exc).__name__}: {exc}"
    invalid.setdefault(f"{report.rule.code} ({report.rule.name})", []).append(reason)


def _invalid_reports(src: SourceFile, job: Job, invalid: Dict[str, List[str]]) -> List[Tuple[Finding, Tuple[int, ...]]]:
    """One BL003 per rule that made invalid reports in the file."""
    if not job.code_enabled(src.relpath, INTERNAL_ERROR.code):
        return []
    out = []
    for rule, reasons in sorted(invalid.items()):
        if len(reasons) == 1:
            message = f"rule {rule} made an invalid report: {reasons[0]}; the report was dropped"
        else:
            message = f"rule {rule} made {len(reasons)} invalid reports (first: {reasons[0]}); they were dropped"
        out.append((_finding(INTERNAL_ERROR, src.relpath, _start(), message), (1,)))
    return out


def _finish(
    src: SourceFile,
    job: Job,
    text: str,
    findings: List[Tuple[Finding, Tuple[int, ...]]],
    suppressions: Suppressions,
    _unused: int,
) -> FileResult:
    lines = physical_lines(text)
    standalone = suppressions.standalone_lines()
    kept: List[Finding] = []
    suppressed = 0
    for finding, anchor_lines in findings:
        candidates = set(anchor_lines)
        for line in anchor_lines:
            if line - 1 in standalone:
                candidates.add(line - 1)
        if finding.code not in (INTERNAL_ERROR.code,) and suppressions.match(finding.code, tuple(candidates), job.matches):
            suppressed += 1
            continue
        kept.append(finding)
    if job.code_enabled(src.relpath, UNUSED_SUPPRESSION.code):
        kept.extend(_unused_suppressions(src, job, suppressions))
    redacted = frozenset(r.code for r in job.rules if getattr(r, "redact_source", False))
    return FileResult(src.relpath, with_fingerprints(kept, lines, src.kind, redacted), None, suppressed)


def _unused_suppressions(src: SourceFile, job: Job, suppressions: Suppressions) -> List[Finding]:
    out = []
    enabled = [r.code for r in job.rules_for(src.relpath, src.kind)]
    for item in suppressions.items:
        unused = []
        for pattern in sorted(item.codes):
            if pattern in item.used:
                continue
            if pattern == ALL or any(job.matches(pattern, code) for code in enabled):
                unused.append(pattern)
        if unused:
            label = "every rule" if unused == [ALL] else ", ".join(unused)
            kind = "ignore-file" if item.file_wide else "ignore"
            message = f"unused suppression ({kind} for {label}): no such finding here; remove the comment"
            out.append(_finding(UNUSED_SUPPRESSION, src.relpath, Span(item.line, 1, item.line, 1), message))
    return out


# -- SQL files ------------------------------------------------------------------


def _run_sql_rule(cls: Type[Rule], ctx: RuleContext, statements: List[SqlStatement]) -> Optional[Tuple[RuleFailure, Span]]:
    """Run one rule over a SQL file; the failure (hook, place) when it raised.

    A rule that only implements ``check_sql`` is called statement by statement here,
    so that a failure names the statement; like in Python files, a rule that raised is
    not called again for the rest of the file."""
    try:
        rule = cls(ctx)
    except Exception as exc:
        return RuleFailure(RuleRef(cls), "__init__", None, exc), _start()  # type: ignore[arg-type]
    if type(rule).check_sql_file is not Rule.check_sql_file:
        try:
            rule.check_sql_file(statements)
        except Exception as exc:
            return RuleFailure(rule, "check_sql_file", None, exc), _start()
        return None
    for statement in statements:
        try:
            rule.check_sql(statement)
        except Exception as exc:
            return RuleFailure(rule, f"check_sql (statement at line {statement.span.line})", None, exc), statement.span
    return None


def _lint_sql(src: SourceFile, job: Job) -> FileResult:
    try:
        data = read_bytes(src.path)
        reason = looks_binary(data)
        if reason:
            raise SourceError(reason)
        # Line ends as in Python files (a lone \r ends a line): statement positions are
        # counted in \n, so the text is given with \n only.
        text = decode_sql(data).text.replace("\r\n", "\n").replace("\r", "\n")
    except SourceError as exc:
        return _diagnostic(src, job, PARSE_ERROR, Span(exc.line, exc.column, exc.line, exc.column), str(exc))
    suppressions = sql_suppressions(text)
    dialect = job.settings.sql_dialect
    file = FileInfo(src.path, src.relpath, "sql", text, job.is_test(src.relpath), dialect)
    rules = job.applicable(file, job.rules_for(src.relpath, "sql"))
    if not rules:
        return _finish(src, job, text, [], suppressions, 0)
    statements: List[SqlStatement] = []
    unparsed: List[int] = []
    for chunk, first, _last in split_statements(text, dialect):
        parsed = parse_sql(chunk, dialect)
        expression = parsed.statements[0] if parsed and len(parsed.statements) == 1 else None
        if parsed is None:
            unparsed.append(first)
        lead = len(chunk) - len(chunk.lstrip())
        line = first + chunk[:lead].count("\n")
        end_text = chunk.rstrip()
        end_line = first + end_text.count("\n")
        end_col = len(end_text.rsplit("\n", 1)[-1]) + 1
        statements.append(SqlStatement(chunk.strip(), expression, Span(line, 1, end_line, end_col), parsed.dialect if parsed else None))
    reports: List[PendingReport] = []
    ctx = RuleContext(file, None, job.settings.options_map(), job.project, reports)
    findings: List[Tuple[Finding, Tuple[int, ...]]] = []
    for cls in rules:
        failure = _run_sql_rule(cls, ctx, statements)
        if failure is not None and job.code_enabled(src.relpath, INTERNAL_ERROR.code):
            failed, span = failure
            message = failure_message(failed) + (("\n" + failed.traceback) if job.debug else "")
            findings.append((_finding(INTERNAL_ERROR, src.relpath, span, message), (span.line,)))
    lines = physical_lines(text)
    invalid: Dict[str, List[str]] = {}
    for report in reports:
        try:
            span = report.span or _start()
            finding = _report_finding(report, src.relpath, span, lines)
            findings.append((finding, (span.line,)))
        except Exception as exc:
            _invalid(invalid, report, exc)
    findings.extend(_invalid_reports(src, job, invalid))
    if unparsed and job.code_enabled(src.relpath, PARSE_ERROR.code):
        message = (
            f"{len(unparsed)} SQL statement(s) could not be parsed and were not checked "
            f"(first at line {unparsed[0]})"
        )
        findings.append((_finding(PARSE_ERROR, src.relpath, Span(unparsed[0], 1, unparsed[0], 1), message, Severity.INFO), (unparsed[0],)))
    return _finish(src, job, text, findings, suppressions, 0)


"""Lint one file (Python or SQL) into a :class:`FileResult`. Never raises."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Type

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
from backendlint.engine.source import SourceError, decode_python, decode_sql, looks_binary, read_bytes
from backendlint.engine.suppress import ALL, Suppressions, python_suppressions, sql_suppressions
from backendlint.project.facts import EMPTY as EMPTY_PROJECT
from backendlint.project.facts import ProjectFacts
from backendlint.sql.parse import parse_sql, split_statements
from backendlint.types import FileResult, Finding, RuleMeta, Severity, Span


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
        return _diagnostic(src, job, INTERNAL_ERROR, _start(), f"internal error while linting this file: {type(exc).__name__}: {exc}")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _diagnostic(src: SourceFile, job: Job, meta: RuleMeta, span: Span, message: str, severity: Optional[Severity] = None) -> FileResult:
    if not job.code_enabled(src.relpath, meta.code):
        return FileResult(src.relpath)
    return FileResult(src.relpath, with_fingerprints([_finding(meta, src.relpath, span, message, severity)], ()))


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
        return _diagnostic(src, job, PARSE_ERROR, *verdict.fatal)
    if not rules:
        problem = _confirm_syntax_error(text, verdict.syntax_error) if verdict.syntax_error else None
        if problem is not None:
            return _diagnostic(src, job, PARSE_ERROR, problem[0], problem[1])
        return _finish(src, job, text, [], suppressions, 0)
    try:
        module = parse_module(text)
    except cst.ParserSyntaxError as exc:
        span, message = _describe_syntax_error(exc, verdict.syntax_error)
        return _diagnostic(src, job, PARSE_ERROR, span, message)
    except RecursionError:
        return _diagnostic(src, job, PARSE_ERROR, _start(), "too deeply nested to parse; file not checked")
    except Exception as exc:
        return _diagnostic(src, job, PARSE_ERROR, _start(), f"could not parse: {type(exc).__name__}: {_one_line(str(exc))}")
    try:
        parsed = run_rules(module, file, rules, job.settings.options_map(), job.project)
    except RecursionError:
        return _diagnostic(src, job, PARSE_ERROR, _start(), "too deeply nested to analyse; file not checked")
    findings = _python_findings(src, parsed, job)
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
        return _start(), f"could not parse: {type(exc).__name__}: {_one_line(str(exc))}"


def _describe_syntax_error(exc: cst.ParserSyntaxError, cpython: Optional[Tuple[Span, str]]) -> Tuple[Span, str]:
    """Prefer CPython's own wording and position when it agrees that the code is invalid."""
    if cpython is not None:
        return cpython
    line, column = exc.raw_line, exc.raw_column + 1
    message = f"not analysed: this syntax is valid Python but LibCST cannot parse it ({_one_line(exc.message)})"
    return Span(line, column, line, column), message


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _python_findings(src: SourceFile, parsed: ParsedFile, job: Job) -> List[Tuple[Finding, Tuple[int, ...]]]:
    out: List[Tuple[Finding, Tuple[int, ...]]] = []
    for report in parsed.reports:
        span = report.span or (parsed.span_of(report.node) if report.node is not None else None) or _start()
        lines = [span.line]
        if report.statement is not None:
            stmt = parsed.span_of(report.statement)
            if stmt is not None:
                lines.append(stmt.line)
        out.append((_report_finding(report, src.relpath, span), tuple(lines)))
    for failure in parsed.failures:
        span = (parsed.span_of(failure.node) if failure.node is not None else None) or _start()
        message = failure_message(failure)
        if job.debug:
            message += "\n" + failure.traceback
        if job.code_enabled(src.relpath, INTERNAL_ERROR.code):
            out.append((_finding(INTERNAL_ERROR, src.relpath, span, message), (span.line,)))
    return out


def _report_finding(report: PendingReport, relpath: str, span: Span) -> Finding:
    rule = report.rule
    return Finding(
        code=rule.code,
        name=rule.name,
        message=report.message,
        severity=report.severity,
        confidence=report.confidence,
        path=relpath,
        span=span,
    )


def _finish(
    src: SourceFile,
    job: Job,
    text: str,
    findings: List[Tuple[Finding, Tuple[int, ...]]],
    suppressions: Suppressions,
    _unused: int,
) -> FileResult:
    lines = text.splitlines()
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


def _lint_sql(src: SourceFile, job: Job) -> FileResult:
    try:
        data = read_bytes(src.path)
        reason = looks_binary(data)
        if reason:
            raise SourceError(reason)
        text = decode_sql(data).text
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
        try:
            cls(ctx).check_sql_file(statements)
        except Exception as exc:
            failure = RuleFailure(RuleRef(cls), "check_sql_file", None, exc)  # type: ignore[arg-type]
            message = failure_message(failure) + (("\n" + failure.traceback) if job.debug else "")
            if job.code_enabled(src.relpath, INTERNAL_ERROR.code):
                findings.append((_finding(INTERNAL_ERROR, src.relpath, _start(), message), (1,)))
    for report in reports:
        span = report.span or _start()
        findings.append((_report_finding(report, src.relpath, span), (span.line,)))
    if unparsed and job.code_enabled(src.relpath, PARSE_ERROR.code):
        message = (
            f"{len(unparsed)} SQL statement(s) could not be parsed and were not checked "
            f"(first at line {unparsed[0]})"
        )
        findings.append((_finding(PARSE_ERROR, src.relpath, Span(unparsed[0], 1, unparsed[0], 1), message, Severity.INFO), (unparsed[0],)))
    return _finish(src, job, text, findings, suppressions, 0)


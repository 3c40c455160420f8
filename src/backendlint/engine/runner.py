"""A whole run: discovery results -> :class:`RunResult` in deterministic order."""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

from backendlint.discovery import Problem, SourceFile
from backendlint.engine.codes import PARSE_ERROR
from backendlint.engine.lint import Job, lint_file
from backendlint.engine.python import recursion_limit_guard
from backendlint.types import FileResult, Finding, RuleMeta, RunResult, Span

Progress = Callable[[int], None]


def run(
    files: Sequence[SourceFile],
    job: Job,
    rules: Sequence[RuleMeta],
    problems: Sequence[Problem] = (),
    progress: Optional[Progress] = None,
) -> RunResult:
    """Lint ``files`` in-process; results sorted by path."""
    recursion_limit_guard()
    results: List[FileResult] = []
    for src in files:
        results.append(lint_file(src, job))
        if progress is not None:
            progress(1)
    for problem in problems:
        results.append(problem_result(problem, job))
    results.sort(key=lambda r: r.path)
    return RunResult(tuple(results), tuple(rules))


def problem_result(problem: Problem, job: Job) -> FileResult:
    """A path that could not be used becomes a BL001 finding for that path."""
    if not job.settings.is_enabled(PARSE_ERROR.code):
        return FileResult(problem.relpath, skipped=problem.message)
    finding = Finding(
        code=PARSE_ERROR.code,
        name=PARSE_ERROR.name,
        message=problem.message,
        severity=PARSE_ERROR.severity,
        confidence=PARSE_ERROR.confidence,
        path=problem.relpath,
        span=Span(1, 1, 1, 1),
    )
    return FileResult(problem.relpath, (finding,), skipped=problem.message)

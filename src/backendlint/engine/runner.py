"""A whole run: files -> :class:`RunResult`, in deterministic order.

Cached results are reused; the rest is linted in-process (``jobs == 1`` or a small
run) or by a pool of worker processes, largest files first. Only plain data
crosses the process boundary.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from backendlint.discovery import Problem, SourceFile
from backendlint.engine.cache import Cache, content_key
from backendlint.engine.codes import PARSE_ERROR
from backendlint.engine.fingerprint import with_fingerprints
from backendlint.engine.lint import Job, lint_file
from backendlint.engine.python import with_deep_stack
from backendlint.engine.source import SourceError, read_bytes
from backendlint.types import FileResult, Finding, RuleMeta, RunResult, Span

Progress = Callable[[int], None]

#: Below this many files to lint, worker start-up costs more than it saves.
MIN_PARALLEL_FILES = 24
CHUNK_BYTES = 256 * 1024


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run(
    files: Sequence[SourceFile],
    job: Job,
    rules: Sequence[RuleMeta],
    problems: Sequence[Problem] = (),
    progress: Optional[Progress] = None,
    jobs: int = 1,
    cache: Optional[Cache] = None,
) -> RunResult:
    """Lint ``files``; results sorted by path whatever the job count or cache state."""
    results: List[FileResult] = []
    todo: List[Tuple[SourceFile, Optional[str]]] = []
    if cache is not None:
        cache.load()
    for src in files:
        digest = None
        if cache is not None:
            try:
                digest = content_key(read_bytes(src.path))
            except SourceError:
                digest = None
            hit = cache.get(src.relpath, digest) if digest else None
            if hit is not None:
                results.append(hit)
                if progress is not None:
                    progress(1)
                continue
        todo.append((src, digest))
    linted = lint_many([src for src, _ in todo], job, jobs, progress)
    for (src, digest), result in zip(todo, linted):
        results.append(result)
        if cache is not None and digest is not None:
            cache.put(src.relpath, digest, result)
    if cache is not None:
        cache.save()
    for problem in problems:
        results.append(problem_result(problem, job))
    results.sort(key=lambda r: r.path)
    return RunResult(tuple(results), tuple(rules))


def lint_many(files: Sequence[SourceFile], job: Job, jobs: int, progress: Optional[Progress] = None) -> List[FileResult]:
    """Results in the order of ``files``."""
    if jobs <= 1 or len(files) < MIN_PARALLEL_FILES:
        return _sequential(files, job, progress)
    out: Dict[int, FileResult] = {}
    try:
        for index, result in _parallel(files, job, jobs):
            out[index] = result
            if progress is not None:
                progress(1)
    except Exception:
        # A worker died (BrokenProcessPool: out of memory, killed) or its result could
        # not come back: finish in-process rather than fail the build.
        missing = [i for i in range(len(files)) if i not in out]
        for i, result in zip(missing, _sequential([files[i] for i in missing], job, progress)):
            out[i] = result
    return [out[i] for i in range(len(files))]


def _sequential(files: Sequence[SourceFile], job: Job, progress: Optional[Progress]) -> List[FileResult]:
    def lint_all() -> List[FileResult]:
        results = []
        for src in files:
            results.append(lint_file(src, job))
            if progress is not None:
                progress(1)
        return results

    return with_deep_stack(lint_all) if files else []


def _size(src: SourceFile) -> int:
    try:
        return src.path.stat().st_size
    except OSError:
        return 0


def _chunks(files: Sequence[SourceFile]) -> List[List[int]]:
    """Indices grouped into chunks of about CHUNK_BYTES, largest files first."""
    order = sorted(range(len(files)), key=lambda i: (-_size(files[i]), files[i].relpath))
    chunks: List[List[int]] = []
    current: List[int] = []
    weight = 0
    for index in order:
        current.append(index)
        weight += _size(files[index])
        if weight >= CHUNK_BYTES or len(current) >= 16:
            chunks.append(current)
            current, weight = [], 0
    if current:
        chunks.append(current)
    return chunks


_WORKER_JOB: Optional[Job] = None


def _init_worker(job: Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _lint_chunk(items: List[Tuple[int, SourceFile]]) -> List[Tuple[int, FileResult]]:
    job = _WORKER_JOB
    assert job is not None
    return with_deep_stack(lambda: [(index, lint_file(src, job)) for index, src in items])


def _parallel(files: Sequence[SourceFile], job: Job, jobs: int):
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(job,)) as pool:
        futures = [pool.submit(_lint_chunk, [(i, files[i]) for i in chunk]) for chunk in _chunks(files)]
        for future in as_completed(futures):
            yield from future.result()


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
    return FileResult(problem.relpath, with_fingerprints([finding], ()), skipped=problem.message)

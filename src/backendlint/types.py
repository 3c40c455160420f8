"""Frozen plain data shared by the engine, the rules and the reporters.

Nothing here holds a CST node, so every value can be cached, pickled and sent
between worker processes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Tuple


class Severity(enum.IntEnum):
    """How much a finding matters; ordered so that ``fail-on`` can compare."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None


class Confidence(enum.IntEnum):
    """How sure the rule is that the finding is real."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Span:
    """A source range; lines and columns are 1-based, ``end_column`` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Finding:
    """One reported problem at one place in one file."""

    code: str
    name: str
    message: str
    severity: Severity
    confidence: Confidence
    path: str
    span: Span
    fingerprint: str = ""
    snippet: str = ""
    extra: Tuple[Tuple[str, str], ...] = ()
    line_fingerprint: str = ""

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.message)


@dataclass(frozen=True)
class RuleMeta:
    """What reporters and the CLI know about a rule, without importing its class."""

    code: str
    name: str
    summary: str
    severity: Severity
    confidence: Confidence
    tags: Tuple[str, ...] = ()
    cwe: Optional[int] = None
    aliases: Tuple[str, ...] = ()
    languages: Tuple[str, ...] = ("python",)
    doc: str = ""
    origin: str = "backendlint"

    @property
    def slug(self) -> str:
        return f"{self.code}-{self.name}"


@dataclass(frozen=True)
class FileResult:
    """Everything the engine learnt about one file."""

    path: str
    findings: Tuple[Finding, ...] = ()
    skipped: Optional[str] = None
    suppressed: int = 0
    #: A rule read project-wide facts for this file: its findings are valid only while the
    #: facts are the same (the cache keys the entry on them too).
    uses_project: bool = False


@dataclass(frozen=True)
class BaselineSummary:
    """What a baseline did to a run: findings it hid, recorded findings it no longer matched."""

    path: str
    hidden: int = 0
    stale: int = 0


@dataclass(frozen=True)
class DiffSummary:
    """What ``--diff REF`` did to a run: findings outside the changed lines it left out."""

    ref: str
    hidden: int = 0
    files: int = 0


@dataclass(frozen=True)
class RunResult:
    """The outcome of a whole run, in deterministic order."""

    files: Tuple[FileResult, ...] = ()
    rules: Tuple[RuleMeta, ...] = ()
    notes: Tuple[str, ...] = field(default=())
    baseline: Optional[BaselineSummary] = None
    diff: Optional[DiffSummary] = None

    @property
    def findings(self) -> Tuple[Finding, ...]:
        return tuple(sorted((f for r in self.files for f in r.findings), key=Finding.sort_key))

    @property
    def files_checked(self) -> int:
        return sum(1 for r in self.files if r.skipped is None)

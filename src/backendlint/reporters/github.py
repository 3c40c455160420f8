"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from backendlint.reporters import ReportOptions
from backendlint.types import RunResult, Severity

_LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "error", Severity.LOW: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult, options: ReportOptions) -> str:
    lines = []
    for f in result.findings:
        props = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={f.span.line}",
                f"col={f.span.column}",
                f"endLine={f.span.end_line}",
                f"endColumn={f.span.end_column}",
                f"title={_escape_property(f'{f.code} {f.name}')}",
            ]
        )
        lines.append(f"::{_LEVELS[f.severity]} {props}::{_escape_data(f'{f.code} {f.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")

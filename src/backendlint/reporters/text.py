"""Human-readable output: ``path:line:col CODE message``, a source frame and a
summary by rule. Colour only when asked for (a TTY without ``NO_COLOR``)."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.markup import escape

from backendlint.reporters import ReportOptions
from backendlint.types import Finding, RunResult, Severity

_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "red", Severity.LOW: "yellow", Severity.INFO: "cyan"}


def _frame(finding: Finding) -> list:
    if not finding.snippet.strip():
        return []
    number = str(finding.span.line)
    gutter = " " * len(number)
    code = finding.snippet.expandtabs(4)
    start = max(finding.span.column - 1, 0)
    if finding.span.end_line == finding.span.line:
        width = max(finding.span.end_column - finding.span.column, 1)
    else:
        width = max(len(code.rstrip()) - start, 1)
    caret = " " * start + "^" * min(width, max(len(code) - start, 1))
    return [
        f"  [blue]{number} |[/blue] {escape(code)}",
        f"  [blue]{gutter} |[/blue] [bold]{caret}[/bold]",
    ]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(result: RunResult) -> str:
    findings = result.findings
    parts = [f"{_plural(result.files_checked, 'file')} checked"]
    skipped = sum(1 for r in result.files if r.skipped is not None)
    if skipped:
        parts.append(f"{skipped} skipped")
    suppressed = sum(r.suppressed for r in result.files)
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    if result.baseline is not None:
        parts.append(f"{result.baseline.hidden} hidden by the baseline")
        if result.baseline.stale:
            stale = result.baseline.stale
            parts.append(f"{stale} stale baseline {'entry' if stale == 1 else 'entries'}")
    if result.diff is not None:
        parts.append(f"{result.diff.hidden} outside the lines changed since {escape(result.diff.ref)}")
    if not findings:
        return f"[green]No findings[/green] ({', '.join(parts)})."
    affected = len({f.path for f in findings})
    return f"[bold]Found {_plural(len(findings), 'finding')}[/bold] in {_plural(affected, 'file')} ({', '.join(parts)})."


def render(result: RunResult, options: ReportOptions) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=max(options.width, 40),
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )
    findings = result.findings
    for f in findings:
        where = f"{f.path}:{f.span.line}:{f.span.column}"
        console.print(
            f"[bold]{escape(where)}[/bold] [{_STYLE[f.severity]}]{f.code}[/{_STYLE[f.severity]}] "
            f"{escape(f.message)} [dim]\\[{f.severity.label}][/dim]"
        )
        if options.show_source:
            for line in _frame(f):
                console.print(line)
            console.print()
    flagged = {f.path for f in findings}
    for skipped in result.files:
        if skipped.skipped is not None and skipped.path not in flagged:
            console.print(f"[bold]{escape(skipped.path)}[/bold] [yellow]skipped[/yellow]: {escape(skipped.skipped)}")
    console.print(_summary(result))
    if result.baseline is not None and result.baseline.stale:
        console.print(
            f"[dim]{escape(result.baseline.path)} records findings that are gone; refresh it with "
            f"`backendlint baseline -o {escape(result.baseline.path)}`.[/dim]"
        )
    if not findings:
        return buffer.getvalue()
    names = {f.code: f.name for f in findings}
    counts = Counter(f.code for f in findings)
    for code in sorted(counts):
        console.print(f"  {counts[code]:>5}  {code}  {names[code]}")
    return buffer.getvalue()

"""Diagnostics the engine itself emits (BL0xx). Rules never use these codes."""

from __future__ import annotations

from backendlint.types import Confidence, RuleMeta, Severity

PARSE_ERROR = RuleMeta(
    code="BL001",
    name="parse-error",
    summary="A file could not be read, decoded or parsed, so no rule checked it.",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    tags=("engine",),
    languages=("python", "sql"),
    doc=(
        "A file could not be read, decoded or parsed, so no rule checked it.\n\n"
        "## What it does\nReports a file that backendlint could not analyse: a syntax error "
        "(Python 2 code included), an undecodable byte sequence or unknown coding declaration, "
        "NUL bytes or a UTF-16/32 encoding, a file too deeply nested to analyse, one that could "
        "not be read, a named pipe or device, a broken symbolic link or a link loop. In `.sql` files it "
        "reports (as info) the statements sqlglot could not parse; the others are checked. "
        "Files over `max-file-size` are listed as skipped instead.\n\n"
        "## Why is this bad\nNothing in the file was checked; a syntax error is usually a bug "
        "of its own.\n\n"
        "## Example\n```python\ndef broken(:\n    pass\n```\n\n"
        "## Use instead\nFix the syntax, or exclude generated and vendored files with "
        "`extend-exclude`.\n\n"
        "## Options\nNone.\n\n"
        "## References\n- Python language reference, lexical analysis."
    ),
)

UNUSED_SUPPRESSION = RuleMeta(
    code="BL002",
    name="unused-suppression",
    summary="A suppression comment suppresses no finding.",
    severity=Severity.LOW,
    confidence=Confidence.HIGH,
    tags=("engine",),
    languages=("python", "sql"),
    doc=(
        "A suppression comment suppresses no finding.\n\n"
        "## What it does\nWith `--report-unused-ignores`, reports `# backendlint: ignore[...]` and "
        "`# noqa: BL...` comments that matched no finding.\n\n"
        "## Why is this bad\nStale suppressions hide future findings on that line.\n\n"
        "## Example\n```python\nx = 1  # backendlint: ignore[BL401]\n```\n\n"
        "## Use instead\nDelete the comment.\n\n"
        "## Options\nNone.\n\n"
        "## References\n- squawk's and ruff's unused-ignore reports."
    ),
)

INTERNAL_ERROR = RuleMeta(
    code="BL003",
    name="internal-error",
    summary="A rule failed on this file; its other findings and the other rules' findings stand.",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    tags=("engine",),
    languages=("python", "sql"),
    doc=(
        "A rule failed on this file; its other findings and the other rules' findings stand.\n\n"
        "## What it does\nReports that a rule raised an exception while checking a file (the "
        "rule is switched off for the rest of that file), or made a report that is not a "
        "finding (a place outside the file, no message). The message names the rule, the hook "
        "and the place; `--debug` adds the traceback.\n\n"
        "## Why is this bad\nThat rule could not finish checking the file.\n\n"
        "## Example\nA third-party rule that raises `KeyError` on an unusual node.\n\n"
        "## Use instead\nReport the bug with the `--debug` traceback; meanwhile the finding can "
        "be suppressed or the rule ignored for the file with `per-file-ignores`.\n\n"
        "## Options\nNone.\n\n"
        "## References\n- The project's issue tracker."
    ),
)

ENGINE_CODES = (PARSE_ERROR, UNUSED_SUPPRESSION, INTERNAL_ERROR)

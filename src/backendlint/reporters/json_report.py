"""JSON output, schema version 1 (documented in docs/json-format.md).

Stable, sorted, no timestamps and no absolute paths, so that the same input gives
byte-identical output."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Dict

from backendlint import __version__
from backendlint.reporters import ReportOptions
from backendlint.types import Finding, RunResult

SCHEMA_VERSION = 1


def finding_dict(finding: Finding) -> Dict[str, Any]:
    return {
        "code": finding.code,
        "name": finding.name,
        "message": finding.message,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "path": finding.path,
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "fingerprint": finding.fingerprint,
        "line_fingerprint": finding.line_fingerprint,
    }


def render(result: RunResult, options: ReportOptions) -> str:
    findings = result.findings
    by_rule = Counter(f.code for f in findings)
    payload = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "backendlint", "version": __version__},
        "summary": {
            "files_checked": result.files_checked,
            "files_skipped": [
                {"path": r.path, "reason": r.skipped} for r in result.files if r.skipped is not None
            ],
            "findings": len(findings),
            "suppressed": sum(r.suppressed for r in result.files),
            "by_rule": dict(sorted(by_rule.items())),
            "baseline": None
            if result.baseline is None
            else {"path": result.baseline.path, "hidden": result.baseline.hidden, "stale": result.baseline.stale},
            "diff": None
            if result.diff is None
            else {"ref": result.diff.ref, "files_changed": result.diff.files, "hidden": result.diff.hidden},
        },
        "findings": [finding_dict(f) for f in findings],
    }
    return json.dumps(payload, indent=2, sort_keys=False, ensure_ascii=False) + "\n"

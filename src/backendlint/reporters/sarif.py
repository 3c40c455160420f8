"""SARIF 2.1.0 output for GitHub code scanning and SARIF-aware editors."""

from __future__ import annotations

import json
from typing import Any, Dict, List

from backendlint import __version__
from backendlint.docs import help_uri, sections
from backendlint.reporters import ReportOptions
from backendlint.types import RuleMeta, RunResult, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/backendlint/backendlint"
SRCROOT = "%SRCROOT%"

_LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "1.0"}


def _rule(meta: RuleMeta) -> Dict[str, Any]:
    parts = sections(meta.doc)
    full = parts.get("What it does") or meta.summary
    why = parts.get("Why is this bad")
    help_text = "\n\n".join(p for p in (full, why, parts.get("Use instead")) if p)
    tags = list(meta.tags)
    properties: Dict[str, Any] = {"tags": tags, "precision": _precision(meta)}
    if "security" in tags:
        properties["security-severity"] = _SECURITY_SEVERITY[meta.severity]
    if meta.cwe:
        tags.append(f"external/cwe/cwe-{meta.cwe}")
    rule: Dict[str, Any] = {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": meta.doc},
        "helpUri": help_uri(meta),
        "defaultConfiguration": {"level": _LEVELS[meta.severity]},
        "properties": properties,
    }
    return rule


def _precision(meta: RuleMeta) -> str:
    return {3: "high", 2: "medium", 1: "low"}[int(meta.confidence)]


def render(result: RunResult, options: ReportOptions) -> str:
    metas = list(result.rules)
    index = {m.code: i for i, m in enumerate(metas)}
    results: List[Dict[str, Any]] = []
    for f in result.findings:
        region = {
            "startLine": f.span.line,
            "startColumn": f.span.column,
            "endLine": max(f.span.end_line, f.span.line),
            "endColumn": max(f.span.end_column, 1) if f.span.end_line > f.span.line else max(f.span.end_column, f.span.column),
        }
        entry: Dict[str, Any] = {
            "ruleId": f.code,
            "level": _LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": SRCROOT},
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {"backendlint/v1": f.fingerprint},
            "properties": {"confidence": f.confidence.label, "severity": f.severity.label},
        }
        if f.code in index:
            entry["ruleIndex"] = index[f.code]
        results.append(entry)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "backendlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(m) for m in metas],
                    }
                },
                "originalUriBaseIds": {
                    SRCROOT: {"description": {"text": "The root of the linted project."}}
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"

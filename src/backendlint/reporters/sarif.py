"""SARIF 2.1.0 output for GitHub code scanning and SARIF-aware editors.

Beyond the schema, what GitHub's ingestion wants: every rule with short and full
descriptions (at most 1,024 characters each), ``help`` text and markdown (the rule's
documentation page) and ``helpUri``; ``properties.tags``, ``precision`` and, for rules
tagged ``security``, a ``security-severity`` score derived from the severity (others get
``problem.severity``); results with a level from their severity, a relative,
percent-encoded URI against ``%SRCROOT%`` and one ``partialFingerprints`` value per
result. No absolute path appears anywhere.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List
from urllib.parse import quote

from backendlint import __version__
from backendlint.docs import help_uri, render_markdown, sections
from backendlint.engine.fingerprint import occurrences
from backendlint.reporters import ReportOptions
from backendlint.types import RuleMeta, RunResult, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/backendlint/backendlint"
SRCROOT = "%SRCROOT%"

_LEVELS = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}
# GitHub's bands: critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "1.0"}
_PROBLEM_SEVERITY = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "recommendation", Severity.INFO: "recommendation"}
_MAX_DESCRIPTION = 1024
_GENERATED = "<!--"


def _clip(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "\u2026"


def _rule(meta: RuleMeta) -> Dict[str, Any]:
    what = sections(meta.doc).get("What it does") or meta.summary
    page = render_markdown(meta).split(_GENERATED, 1)[0].rstrip() + "\n"
    tags = list(meta.tags)
    if meta.cwe:
        tags.append(f"external/cwe/cwe-{meta.cwe}")
    properties: Dict[str, Any] = {"tags": tags, "precision": _precision(meta)}
    if "security" in meta.tags:
        properties["security-severity"] = _SECURITY_SEVERITY[meta.severity]
    else:
        properties["problem.severity"] = _PROBLEM_SEVERITY[meta.severity]
    return {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": _clip(meta.summary)},
        "fullDescription": {"text": _clip(what.split("\n\n", 1)[0])},
        "help": {"text": page, "markdown": page},
        "helpUri": help_uri(meta),
        "defaultConfiguration": {"level": _LEVELS[meta.severity]},
        "properties": properties,
    }


def artifact_uri(path: str) -> str:
    """A project-relative POSIX path as a relative URI reference."""
    return quote(path, safe="/-._~!$&'()*+,;=@")


def _precision(meta: RuleMeta) -> str:
    return {3: "high", 2: "medium", 1: "low"}[int(meta.confidence)]


def render(result: RunResult, options: ReportOptions) -> str:
    metas = list(result.rules)
    index = {m.code: i for i, m in enumerate(metas)}
    results: List[Dict[str, Any]] = []
    findings = result.findings
    occurrence = occurrences(findings)
    for position, f in enumerate(findings):
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
                        "artifactLocation": {"uri": artifact_uri(f.path), "uriBaseId": SRCROOT},
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {"backendlint/v1": f"{f.fingerprint}:{occurrence[position]}"},
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

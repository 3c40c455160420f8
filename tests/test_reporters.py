"""Reporter outputs pinned by golden files; SARIF validated against the 2.1.0 schema.

Regenerate the golden files with ``BACKENDLINT_UPDATE_GOLDEN=1 pytest tests/test_reporters.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backendlint.reporters import ReportOptions, reporters
from tests.helpers.lint import lint

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
PROJECT = GOLDEN / "project"
SCHEMA = HERE.parent.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def result():
    return lint(PROJECT, ["BL401", "BL001"])


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("json", "json"), ("sarif", "sarif"), ("github", "txt")])
def test_golden(result, fmt, suffix):
    output = reporters()[fmt](result, ReportOptions(color=False, width=100))
    golden = GOLDEN / f"{fmt}.{suffix}"
    if os.environ.get("BACKENDLINT_UPDATE_GOLDEN"):
        golden.write_text(output, encoding="utf-8")
    assert output == golden.read_text(encoding="utf-8")


def test_sarif_validates_against_schema(result):
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA} (../shared beside the checkout)")
    log = json.loads(reporters()["sarif"](result, ReportOptions()))
    jsonschema.validate(log, json.loads(SCHEMA.read_text(encoding="utf-8")))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for entry in run["results"]:
        assert rules[entry["ruleIndex"]]["id"] == entry["ruleId"]
        location = entry["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
        assert entry["partialFingerprints"]


def test_color_text_has_ansi_and_plain_has_none(result):
    colored = reporters()["text"](result, ReportOptions(color=True))
    plain = reporters()["text"](result, ReportOptions(color=False))
    assert "\x1b[" in colored and "\x1b[" not in plain


def test_fingerprints_survive_line_moves(tmp_path):
    source = (PROJECT / "app" / "jobs.py").read_text(encoding="utf-8")
    (tmp_path / "jobs.py").write_text(source, encoding="utf-8")
    before = {f.fingerprint for f in lint(tmp_path, ["BL401"]).findings}
    (tmp_path / "jobs.py").write_text("# a comment\n\n\n" + source, encoding="utf-8")
    after_result = lint(tmp_path, ["BL401"])
    assert {f.fingerprint for f in after_result.findings} == before
    assert [f.span.line for f in after_result.findings] != []


def test_github_escapes_newlines_and_commas():
    from backendlint.reporters.github import _escape_data, _escape_property

    assert _escape_data("a\nb%") == "a%0Ab%25"
    assert _escape_property("x,y:z") == "x%2Cy%3Az"


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_sarif_meets_github_ingestion_rules():
    """What GitHub code scanning needs beyond the schema, on a run over every fixture."""
    from tests.helpers.lint import FIXTURES

    log = json.loads(reporters()["sarif"](lint(HERE.parent, ["BL"], paths=[FIXTURES]), ReportOptions()))
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["informationUri"].startswith("https://") and driver["semanticVersion"] == driver["version"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"]
    security = 0
    for rule in driver["rules"]:
        assert 0 < len(rule["shortDescription"]["text"]) <= 1024
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith(f"# {rule['id']} ")
        assert rule["helpUri"].endswith(f"/docs/rules/{rule['id']}-{rule['name']}.md")
        properties = rule["properties"]
        assert properties["tags"] and properties["precision"] in ("very-high", "high", "medium", "low")
        if "security" in properties["tags"]:
            security += 1
            assert 0.0 < float(properties["security-severity"]) <= 10.0
        else:
            assert "security-severity" not in properties
            assert properties["problem.severity"] in ("error", "warning", "recommendation")
    assert security >= 2
    fingerprints = [r["partialFingerprints"]["backendlint/v1"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints) and all(fingerprints)
    for entry in run["results"]:
        assert entry["level"] in ("error", "warning", "note")
        uri = entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("tests/fixtures/")
    root = str(HERE.parent)
    for text in _strings(log):
        assert root not in text and not text.startswith(("/", "file:")), text[:200]


def test_sarif_uris_are_percent_encoded_relative_references():
    from backendlint.reporters.sarif import artifact_uri

    assert artifact_uri("app/jobs.py") == "app/jobs.py"
    assert artifact_uri("my app/ü.py") == "my%20app/%C3%BC.py"
    assert artifact_uri("a:b/c#d?.py") == "a%3Ab/c%23d%3F.py"


def test_sarif_security_severity_follows_github_bands():
    from backendlint.reporters.sarif import _SECURITY_SEVERITY
    from backendlint.types import Severity

    bands = {Severity.HIGH: (7.0, 8.9), Severity.MEDIUM: (4.0, 6.9), Severity.LOW: (0.1, 3.9), Severity.INFO: (0.1, 3.9)}
    for severity, (low, high) in bands.items():
        assert low <= float(_SECURITY_SEVERITY[severity]) <= high

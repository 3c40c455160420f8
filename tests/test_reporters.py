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

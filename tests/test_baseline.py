"""Baselines: record today's findings, report only new ones, survive unrelated edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backendlint import baseline as baselines
from tests.helpers.cli import SWALLOW, invoke, run_cli
from tests.helpers.lint import lint

TIMEOUT_CALL = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"
BASELINE = ".backendlint-baseline.json"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    app = tmp_path / "app"
    app.mkdir()
    (app / "jobs.py").write_text(SWALLOW.format(name="sync") + "\n\n" + SWALLOW.format(name="push"), encoding="utf-8")
    (app / "client.py").write_text(TIMEOUT_CALL, encoding="utf-8")
    (app / "clean.py").write_text("def ok():\n    return 1\n", encoding="utf-8")
    return tmp_path


def _json(proc):
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_scenario_twenty_lines_above_then_one_new_violation(project):
    first = _json(run_cli("check", "app", "--format", "json", cwd=project))
    assert first["summary"]["findings"] == 3
    written = run_cli("baseline", "app", "-o", BASELINE, cwd=project)
    assert written.returncode == 0, written.stderr
    assert "Recorded 3 findings in 2 files" in written.stdout

    jobs = project / "app" / "jobs.py"
    jobs.write_text("".join(f"# note {i}\n" for i in range(20)) + jobs.read_text(encoding="utf-8"), encoding="utf-8")
    again = run_cli("check", "app", "--baseline", BASELINE, cwd=project)
    assert again.returncode == 0, again.stdout
    assert "No findings (3 files checked, 3 hidden by the baseline)." in again.stdout

    jobs.write_text(jobs.read_text(encoding="utf-8") + "\n\n" + SWALLOW.format(name="pull"), encoding="utf-8")
    report = _json(run_cli("check", "app", "--baseline", BASELINE, "--format", "json", cwd=project))
    assert [(f["path"], f["line"], f["code"]) for f in report["findings"]] == [("app/jobs.py", 38, "BL401")]
    assert report["summary"]["baseline"] == {"path": BASELINE, "hidden": 3, "stale": 0}
    text = run_cli("check", "app", "--baseline", BASELINE, cwd=project)
    assert text.returncode == 1
    assert "Found 1 finding in 1 file (3 files checked, 3 hidden by the baseline)." in text.stdout


def test_file_is_deterministic_and_has_no_line_numbers_or_absolute_paths(project):
    invoke("baseline", "app", "-o", BASELINE, cwd=project)
    first = (project / BASELINE).read_bytes()
    invoke("baseline", "app", "-o", BASELINE, "--no-cache", cwd=project)
    assert (project / BASELINE).read_bytes() == first
    data = json.loads(first)
    assert data["version"] == baselines.FORMAT_VERSION
    for entry in data["findings"]:
        assert set(entry) == {"rule", "path", "fingerprint", "line_fingerprint", "count", "message"}
        assert not entry["path"].startswith("/")
    assert str(project) not in first.decode()


def test_identical_duplicates_are_counted(tmp_path):
    block = "try:\n    job()\nexcept Exception:\n    pass\nlog()\nlog()\n"  # same code, same neighbours
    (tmp_path / "m.py").write_text(block * 2, encoding="utf-8")
    recorded = baselines.entries_of(lint(tmp_path, ["BL401"]).findings)
    assert [(e.count, e.rule) for e in recorded] == [(2, "BL401")]
    (tmp_path / "m.py").write_text(block * 3, encoding="utf-8")
    result = baselines.apply(lint(tmp_path, ["BL401"]), recorded, BASELINE)
    # The first two in file order are the recorded ones; the third is new.
    assert [f.span.line for f in result.findings] == [15]
    assert (result.baseline.hidden, result.baseline.stale) == (2, 0)


def test_edit_next_to_a_finding_keeps_it_hidden_but_editing_it_reports_it(tmp_path):
    source = SWALLOW.format(name="sync")
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    recorded = baselines.entries_of(lint(tmp_path, ["BL401"]).findings)
    neighbour = source.replace("client.sync()", "client.sync(retries=3)  # edited")
    (tmp_path / "m.py").write_text(neighbour, encoding="utf-8")
    result = baselines.apply(lint(tmp_path, ["BL401"]), recorded, BASELINE)
    assert result.findings == () and result.baseline.hidden == 1

    reformatted = source.replace("except Exception:", "except   Exception :  # still broad")
    (tmp_path / "m.py").write_text(reformatted, encoding="utf-8")
    assert baselines.apply(lint(tmp_path, ["BL401"]), recorded, BASELINE).findings == ()

    changed = source.replace("except Exception:", "except BaseException:")
    (tmp_path / "m.py").write_text(changed, encoding="utf-8")
    result = baselines.apply(lint(tmp_path, ["BL401"]), recorded, BASELINE)
    assert [f.span.line for f in result.findings] == [4]
    assert (result.baseline.hidden, result.baseline.stale) == (0, 1)


def test_stale_entries_are_counted_only_for_files_and_rules_that_ran(project):
    invoke("baseline", "app", "-o", BASELINE, cwd=project)
    (project / "app" / "client.py").write_text(TIMEOUT_CALL.replace("(url)", "(url, timeout=5)"), encoding="utf-8")
    report = _json(invoke("check", "app", "--baseline", BASELINE, "--format", "json", cwd=project))
    assert report["summary"]["findings"] == 0
    assert report["summary"]["baseline"] == {"path": BASELINE, "hidden": 2, "stale": 1}
    text = invoke("check", "app", "--baseline", BASELINE, cwd=project)
    assert "1 stale baseline entry" in text.stdout
    assert f"refresh it with `backendlint baseline -o {BASELINE}`" in text.stdout
    one_file = _json(invoke("check", "app/jobs.py", "--baseline", BASELINE, "--format", "json", cwd=project))
    assert one_file["summary"]["baseline"]["stale"] == 0
    other_rule = _json(invoke("check", "app", "--select", "BL4", "--baseline", BASELINE, "--format", "json", cwd=project))
    assert other_rule["summary"]["baseline"]["stale"] == 0


def test_config_key_is_relative_to_the_config_file_and_no_baseline_overrides(project):
    (project / "pyproject.toml").write_text('[tool.backendlint]\nbaseline = "lint/baseline.json"\n', encoding="utf-8")
    written = invoke("baseline", "app", cwd=project)
    assert written.returncode == 0, written.stderr
    assert (project / "lint" / "baseline.json").is_file()
    inside = invoke("check", ".", cwd=project / "app")
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert "3 hidden by the baseline" in inside.stdout
    everything = invoke("check", ".", "--no-baseline", cwd=project / "app")
    assert everything.returncode == 1 and "Found 3 findings" in everything.stdout


@pytest.mark.parametrize(
    "content, needle",
    [
        (None, "baseline file missing.json not found (create it with `backendlint baseline -o missing.json`)"),
        ("{not json", "missing.json: not a backendlint baseline (invalid JSON"),
        ('{"findings": {}}', "missing.json: not a backendlint baseline (no 'findings' list)"),
        ('{"version": 99, "findings": []}', "baseline format version 99 is not supported"),
        ('{"version": 1, "findings": [{"rule": "BL401"}]}', "findings[0]: 'path' must be a non-empty string"),
        (
            '{"version": 1, "findings": [{"rule": "BL401", "path": "a.py", "fingerprint": "x", "line_fingerprint": "y", "count": 0}]}',
            "findings[0]: 'count' must be a positive integer",
        ),
    ],
)
def test_missing_or_corrupt_baseline_is_a_clear_error(project, content, needle):
    if content is not None:
        (project / "missing.json").write_text(content, encoding="utf-8")
    proc = invoke("check", "app", "--baseline", "missing.json", cwd=project)
    assert proc.returncode == 2, proc.stdout
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_bad_config_value_and_missing_configured_file(project):
    (project / "pyproject.toml").write_text("[tool.backendlint]\nbaseline = 3\n", encoding="utf-8")
    proc = invoke("check", "app", cwd=project)
    assert proc.returncode == 2 and "'baseline' must be a file path (a string)" in proc.stderr
    (project / "pyproject.toml").write_text('[tool.backendlint]\nbaseline = "none.json"\n', encoding="utf-8")
    proc = invoke("check", "app", cwd=project)
    assert proc.returncode == 2 and "baseline file none.json not found" in proc.stderr


def test_hidden_findings_do_not_fail_the_run_but_new_ones_do(project):
    invoke("baseline", "app", "-o", BASELINE, cwd=project)
    assert invoke("check", "app", "--baseline", BASELINE, "--fail-on", "info", cwd=project).returncode == 0
    (project / "app" / "clean.py").write_text(TIMEOUT_CALL, encoding="utf-8")
    assert invoke("check", "app", "--baseline", BASELINE, cwd=project).returncode == 1
    sarif = json.loads(invoke("check", "app", "--baseline", BASELINE, "--format", "sarif", cwd=project).stdout)
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]] == [
        "app/clean.py"
    ]


def test_loads_round_trip():
    entries = [baselines.Entry("BL401", "a b/ü.py", "f" * 16, "e" * 16, 2, "msg")]
    assert baselines.loads(baselines.dumps(entries), "x") == entries
    with pytest.raises(baselines.BaselineError):
        baselines.loads("[]", "x")
    assert Path(baselines.DEFAULT_FILE).suffix == ".json"

"""The command line as a user drives it: exit codes, messages, formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "bad.py").write_text(
        "def f():\n    try:\n        g()\n    except Exception:\n        pass\n", encoding="utf-8"
    )
    (tmp_path / "app" / "good.py").write_text("def g():\n    return 1\n", encoding="utf-8")
    return tmp_path


def test_findings_exit_1_and_text_output(project):
    proc = run_cli("check", "app", cwd=project)
    assert proc.returncode == 1, proc.stderr
    assert "app/bad.py:4:5 BL401" in proc.stdout
    assert "Found 1 finding in 1 file (2 files checked)." in proc.stdout
    assert "Traceback" not in proc.stderr


def test_clean_file_exits_0(project):
    proc = run_cli("check", "app/good.py", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout


def test_exit_zero_and_ignore(project):
    assert run_cli("check", "app", "--exit-zero", cwd=project).returncode == 0
    assert run_cli("check", "app", "--ignore", "BL4", cwd=project).returncode == 0
    assert run_cli("check", "app", "--select", "BL001", cwd=project).returncode == 0


def test_fail_on_threshold(project):
    assert run_cli("check", "app", "--fail-on", "high", cwd=project).returncode == 0
    assert run_cli("check", "app", "--fail-on", "medium", cwd=project).returncode == 1


def test_bad_config_key_exits_2_naming_the_key(project):
    (project / "pyproject.toml").write_text('[tool.backendlint]\nselekt = ["BL4"]\n', encoding="utf-8")
    proc = run_cli("check", "app", cwd=project)
    assert proc.returncode == 2
    assert "unknown key 'tool.backendlint.selekt'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "table, needle",
    [
        ('select = ["BL999"]', "unknown rule code or prefix 'BL999'"),
        ("select = \"BL4\"", "'select' must be a list of strings"),
        ('fail-on = "urgent"', "'fail-on'"),
        ("[tool.backendlint.rules.BL401]\ncheck-typed = true", "unknown key 'rules.BL401.check-typed'"),
        ("[tool.backendlint.rules.BL401]\ncheck-typed-exception = 3", "'rules.BL401.check-typed-exception' must be true or false"),
        ("[tool.backendlint.rules.BL999]\nx = 1", "unknown rule 'BL999'"),
        ("sql-dialect = 'klingon'", "'sql-dialect' must be one of"),
    ],
)
def test_config_errors_name_the_key(project, table, needle):
    text = "[tool.backendlint]\n" + table + "\n" if not table.startswith("[") else "[tool.backendlint]\n" + table + "\n"
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    proc = run_cli("check", "app", cwd=project)
    assert proc.returncode == 2, proc.stdout
    assert needle in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_invalid_toml_is_a_clear_error(project):
    (project / "pyproject.toml").write_text("[tool.backendlint\n", encoding="utf-8")
    proc = run_cli("check", "app", cwd=project)
    assert proc.returncode == 2
    assert "invalid TOML" in proc.stderr


def test_unknown_select_on_command_line(project):
    proc = run_cli("check", "app", "--select", "XX1", cwd=project)
    assert proc.returncode == 2
    assert "--select: unknown rule code or prefix 'XX1'" in proc.stderr


def test_explicit_config_file(project, tmp_path):
    config = project / "strict.toml"
    config.write_text('ignore = ["BL401"]\n', encoding="utf-8")
    assert run_cli("check", "app", "--config", str(config), cwd=project).returncode == 0
    proc = run_cli("check", "app", "--config", "nope.toml", cwd=project)
    assert proc.returncode == 2 and "config file not found" in proc.stderr


def test_rule_options_from_config(project):
    (project / "app" / "typed.py").write_text(
        "try:\n    import x\nexcept ImportError:\n    pass\n", encoding="utf-8"
    )
    assert run_cli("check", "app/typed.py", cwd=project).returncode == 0
    (project / "pyproject.toml").write_text(
        "[tool.backendlint.rules.BL401]\ncheck-typed-exception = true\n", encoding="utf-8"
    )
    proc = run_cli("check", "app/typed.py", cwd=project)
    assert proc.returncode == 1 and "typed.py:3:1 BL401" in proc.stdout


def test_per_file_ignores(project):
    (project / "pyproject.toml").write_text(
        '[tool.backendlint]\nper-file-ignores = { "app/bad.py" = ["BL401"] }\n', encoding="utf-8"
    )
    assert run_cli("check", "app", cwd=project).returncode == 0


def test_output_file_and_json(project):
    proc = run_cli("check", "app", "--format", "json", "--output", "out/report.json", cwd=project)
    assert proc.returncode == 1
    data = json.loads((project / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["findings"] == 1
    assert data["findings"][0]["path"] == "app/bad.py"


def test_rules_and_rule_commands(project):
    listing = run_cli("rules", cwd=project)
    assert listing.returncode == 0 and "BL401" in listing.stdout and "silent-except" in listing.stdout
    doc = run_cli("rule", "BL401", cwd=project)
    assert doc.returncode == 0 and "## Why is this bad" in doc.stdout
    assert run_cli("rule", "silent-except", cwd=project).stdout == doc.stdout
    missing = run_cli("rule", "BL999", cwd=project)
    assert missing.returncode == 2 and "unknown rule 'BL999'" in missing.stderr


def test_version(project):
    from backendlint import __version__

    proc = run_cli("--version", cwd=project)
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_missing_path_is_reported_not_a_traceback(project):
    proc = run_cli("check", "nowhere.py", cwd=project)
    assert proc.returncode == 1
    assert "nowhere.py:1:1 BL001 no such file or directory" in proc.stdout


def test_usage_error_exit_2(project):
    proc = run_cli("check", "--format", "xml", cwd=project)
    assert proc.returncode == 2


def test_no_color_when_not_a_tty(project):
    proc = run_cli("check", "app", cwd=project, env={"NO_COLOR": ""})
    assert "\x1b[" not in proc.stdout


def test_force_color(project):
    proc = run_cli("check", "app", cwd=project, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    env_no = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.run(
        [sys.executable, "-m", "backendlint", "check", "app"],
        cwd=project, capture_output=True, text=True, env={**env_no, "FORCE_COLOR": "1"}, timeout=120,
    )
    assert "\x1b[" in proc.stdout


def test_output_to_a_pipe_or_device_is_written_in_place(project):
    import threading

    fifo = project / "report.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    proc = run_cli("check", "app", "--format", "json", "--output", str(fifo), cwd=project)
    reader.join(timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert fifo.is_fifo()
    assert json.loads(received[0])["summary"]["findings"] == 1


def test_output_file_is_replaced_atomically(project):
    target = project / "report.txt"
    target.write_text("old", encoding="utf-8")
    run_cli("check", "app", "--output", str(target), cwd=project)
    assert "BL401" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".report")) == []

"""Microsoft's SARIF validator, with GitHub code scanning's ingestion rules, takes a real run as is.

The validator is the npm package ``@microsoft/sarif-multitool`` (a self-contained
binary per platform). It is installed once into a cache directory
(``$BACKENDLINT_TEST_CACHE``, default ``~/.cache/backendlint-tests``); the test is
skipped only where ``npm`` is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = "5.7.0"
RULE_KINDS = "Gh;Sarif"


def _cache_dir() -> Path:
    configured = os.environ.get("BACKENDLINT_TEST_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backendlint-tests"


def _binary(prefix: Path) -> Path:
    name = "Sarif.Multitool.exe" if sys.platform == "win32" else "Sarif.Multitool"
    return prefix / "node_modules" / "@microsoft" / f"sarif-multitool-{sys.platform}" / name


@pytest.fixture(scope="module")
def multitool() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so Microsoft's SARIF validator (@microsoft/sarif-multitool) cannot be fetched")
    prefix = _cache_dir() / f"sarif-multitool-{VERSION}"
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable cache: install for this run only
        prefix = Path(tempfile.mkdtemp(prefix="sarif-multitool-")) / VERSION
    binary = _binary(prefix)
    if not binary.is_file():
        staging = Path(tempfile.mkdtemp(dir=prefix.parent, prefix=".install-"))
        proc = subprocess.run(
            [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--no-save",
             f"@microsoft/sarif-multitool@{VERSION}"],
            capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0 or not _binary(staging).is_file():
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"npm could not install @microsoft/sarif-multitool@{VERSION}:\n{proc.stdout}\n{proc.stderr}")
        try:
            os.replace(staging, prefix)
        except OSError:  # another run installed it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    # npm may skip the package's install script, which only sets the executable bit.
    mode = binary.stat().st_mode
    if not mode & stat.S_IXUSR:
        binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


@pytest.fixture(scope="module")
def strict_config(multitool: Path, tmp_path_factory) -> Path:
    """The validator's configuration with every GitHub rule on, as an error (some,
    such as GH1005 relative-or-file URIs, are off by default)."""
    path = tmp_path_factory.mktemp("multitool") / "github-strict.xml"
    proc = subprocess.run([str(multitool), "export-validation-config", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and path.is_file(), proc.stdout + proc.stderr
    text = path.read_text(encoding="utf-8-sig")
    text, count = re.subn(
        r'(<Properties Key="GH[0-9]+\.[A-Za-z]+\.Options">\s*<Property Key="RuleEnabled" Value=")Default"',
        r'\1Error"',
        text,
    )
    assert count >= 10, "the validator's configuration format changed; update this test"
    path.write_text(text, encoding="utf-8")
    return path


def _validate(multitool: Path, config: Path, sarif: Path) -> List[str]:
    """Errors and warnings the validator reports for ``sarif``, as readable lines."""
    out = sarif.with_suffix(".validation.sarif")
    proc = subprocess.run(
        [str(multitool), "validate", "--rule-kind", RULE_KINDS, "--level", "Error;Warning",
         "--config", str(config), "--output", str(out), str(sarif)],
        capture_output=True, text=True, timeout=300,
    )
    assert out.is_file(), f"the validator wrote no log:\n{proc.stdout}\n{proc.stderr}"
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    problems = []
    for run in log["runs"]:
        for invocation in run.get("invocations", []):
            assert invocation.get("executionSuccessful", False), invocation
            for note in invocation.get("toolExecutionNotifications", []) + invocation.get("toolConfigurationNotifications", []):
                if note.get("level", "warning") in ("error", "warning"):
                    problems.append(f"notification: {note['message'].get('text')}")
        for result in run.get("results", []):
            if result.get("level", "warning") in ("error", "warning"):
                message = result["message"].get("text") or " | ".join(result["message"].get("arguments", []))
                problems.append(f"{result['level']} {result['ruleId']}: {message}")
    return problems


@pytest.fixture(scope="module")
def fixtures_sarif(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sarif") / "fixtures.sarif"
    proc = subprocess.run(
        [sys.executable, "-m", "backendlint", "check", "tests/fixtures", "--format", "sarif", "--output", str(out), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the fixtures have findings
    assert json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    return out


def test_fixtures_run_has_no_validator_errors_or_warnings(multitool, strict_config, fixtures_sarif):
    problems = _validate(multitool, strict_config, fixtures_sarif)
    assert problems == []


def test_validator_catches_what_github_rejects(multitool, strict_config, fixtures_sarif, tmp_path):
    """The same log with a rule's help removed and a web URL as a location must fail,
    so the test above can fail too."""
    log = json.loads(fixtures_sarif.read_text(encoding="utf-8"))
    run = log["runs"][0]
    del run["tool"]["driver"]["rules"][0]["help"]
    run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] = {"uri": "https://example.com/app.py"}
    broken = tmp_path / "broken.sarif"
    broken.write_text(json.dumps(log), encoding="utf-8")
    problems = _validate(multitool, strict_config, broken)
    assert any("GH2012" in p for p in problems), problems
    assert any("GH1005" in p for p in problems), problems

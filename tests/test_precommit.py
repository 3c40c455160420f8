"""The pre-commit hook, for real: a throw-away repository whose git pre-commit hook runs
this checkout's ``.pre-commit-hooks.yaml`` through ``pre-commit try-repo``.

pre-commit builds the hook's environment by pip-installing the checkout, afresh for each
``try-repo`` (it uses a temporary store, whatever PRE_COMMIT_HOME says): twice here. That
makes this the slowest test (over a minute, nearly all of it those installs).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = "def sync(client):\n    try:\n        client.sync()\n    except Exception:\n        pass\n"
GOOD = (
    "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
    "def sync(client):\n    try:\n        client.sync()\n    except Exception:\n        logger.exception(\"sync failed\")\n"
)


def _git(repo: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def repo(tmp_path):
    pytest.importorskip("pre_commit", reason="pre-commit is in the test extra: pip install -e '.[test]'")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path / "service"
    work.mkdir()
    for args in (
        ("init", "-q"),
        ("config", "user.email", "dev@example.com"),
        ("config", "user.name", "Dev"),
        ("config", "commit.gpgsign", "false"),
        ("config", "core.hooksPath", ".git/hooks"),
    ):
        assert _git(work, *args).returncode == 0
    (work / "README.md").write_text("service\n", encoding="utf-8")
    _git(work, "add", "README.md")
    assert _git(work, "commit", "-q", "-m", "start", "--no-verify").returncode == 0
    hook = work / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(
        "#!/bin/sh\n"
        f'exec "{sys.executable}" -m pre_commit try-repo "{ROOT}" backendlint --verbose\n',
        encoding="utf-8",
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return work


def test_hook_fails_on_a_finding_and_passes_once_fixed(repo, tmp_path):
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    env.pop("PRE_COMMIT", None)
    (repo / "sync.py").write_text(BAD, encoding="utf-8")
    _git(repo, "add", "sync.py")
    refused = _git(repo, "commit", "-m", "add sync", env=env)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "sync.py:4:5 BL401" in output, output
    assert _git(repo, "log", "--oneline").stdout.count("\n") == 1  # nothing was committed

    (repo / "sync.py").write_text(GOOD, encoding="utf-8")
    _git(repo, "add", "sync.py")
    accepted = _git(repo, "commit", "-m", "add sync", env=env)
    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert "backendlint" in output and "Passed" in output, output
    assert _git(repo, "log", "--oneline").stdout.count("\n") == 2

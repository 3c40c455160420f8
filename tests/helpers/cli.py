"""Test helpers: run the command line and throw-away git repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SWALLOW = "def {name}(client):\n    try:\n        client.{name}()\n    except Exception:\n        pass\n"


def run_cli(*args: str, cwd: Path, env=None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "backendlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; fail the test with git's message on error."""
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def init_repo(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "config", "commit.gpgsign", "false")
    return repo


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, cwd: Path) -> Outcome:
    """The command line in this process (much faster than :func:`run_cli`), from ``cwd``."""
    from click.testing import CliRunner

    from backendlint.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(main, list(args), env={"NO_COLOR": "1"}, catch_exceptions=False)
    finally:
        os.chdir(previous)
    return Outcome(result.exit_code, result.stdout, result.stderr)

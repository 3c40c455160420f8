"""``check --diff REF``: only findings on lines changed since the merge base with REF."""

from __future__ import annotations

import json
import shutil

import pytest

from backendlint.gitdiff import parse_diff
from tests.helpers.cli import SWALLOW, commit_all, git, init_repo, invoke

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

LOGGED = "def {name}(client):\n    try:\n        client.{name}()\n    except Exception:\n        log.exception('x')\n"


def _found(outcome):
    assert outcome.returncode in (0, 1), outcome.stderr
    data = json.loads(outcome.stdout)
    return {(f["path"], f["line"]) for f in data["findings"]}, data["summary"]["diff"]


@pytest.fixture
def repo(tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    (repo / "app").mkdir()
    (repo / "app" / "old.py").write_text(SWALLOW.format(name="sync") + "\n\n" + LOGGED.format(name="push"), encoding="utf-8")
    (repo / "app" / "moved.py").write_text(SWALLOW.format(name="pull"), encoding="utf-8")
    # Unlike added.py below, so that git does not take the pair for a rename.
    (repo / "app" / "gone.py").write_text("LIMIT = 10\nNAMES = ('a', 'b')\n", encoding="utf-8")
    commit_all(repo, "base")
    return repo


def test_only_changed_lines_new_renamed_and_untracked_files(repo):
    old = repo / "app" / "old.py"
    old.write_text(old.read_text(encoding="utf-8").replace("log.exception('x')", "pass"), encoding="utf-8")
    git(repo, "mv", "app/moved.py", "app/renamed.py")
    git(repo, "rm", "-q", "app/gone.py")
    (repo / "app" / "added.py").write_text(SWALLOW.format(name="fresh"), encoding="utf-8")
    commit_all(repo, "work")
    (repo / "app" / "untracked.py").write_text(SWALLOW.format(name="draft"), encoding="utf-8")

    found, summary = _found(invoke("check", "app", "--diff", "HEAD~1", "--format", "json", cwd=repo))
    # old.py:4 (unchanged) and the renamed, otherwise unchanged file are left out.
    assert found == {("app/old.py", 11), ("app/added.py", 4), ("app/untracked.py", 4)}
    assert summary == {"ref": "HEAD~1", "files_changed": 3, "hidden": 1}
    text = invoke("check", "app", "--diff", "HEAD~1", cwd=repo)
    assert "(3 files checked, 1 outside the lines changed since HEAD~1)" in text.stdout


def test_uncommitted_edits_count_and_deleting_a_line_touches_its_neighbours(repo):
    handler = repo / "app" / "handler.py"
    handler.write_text(
        "def push(client):\n    try:\n        client.push()\n    except Exception:\n"
        "        pass\n        log.exception('push failed')\n",
        encoding="utf-8",
    )
    commit_all(repo, "handler")
    # Deleting the logging call (uncommitted) makes the handler silent; no remaining
    # line of it changed, but the lines next to the gap count.
    handler.write_text(handler.read_text(encoding="utf-8").replace("        log.exception('push failed')\n", ""), encoding="utf-8")
    found, _ = _found(invoke("check", "app", "--diff", "HEAD", "--format", "json", cwd=repo))
    assert found == {("app/handler.py", 4)}
    assert parse_diff("+++ b/x.py\n@@ -5,2 +4,0 @@\n-a\n-b\n") == {"x.py": {4, 5}}


def test_merge_base_ignores_what_landed_on_the_target_branch(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app" / "feature.py").write_text(SWALLOW.format(name="feat"), encoding="utf-8")
    commit_all(repo, "feature work")
    git(repo, "checkout", "-q", "main")
    old = repo / "app" / "old.py"
    old.write_text(old.read_text(encoding="utf-8").replace("        pass\n", "        log.exception('x')\n"), encoding="utf-8")
    commit_all(repo, "main fixes old.py")
    git(repo, "checkout", "-q", "feature")
    found, _ = _found(invoke("check", "app", "--diff", "main", "--format", "json", cwd=repo))
    assert found == {("app/feature.py", 4)}  # old.py:4 differs from main, but feature did not touch it


def test_project_root_below_the_repository_top(tmp_path):
    repo = init_repo(tmp_path / "mono")
    service = repo / "services" / "api"
    service.mkdir(parents=True)
    (service / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    (service / "jobs.py").write_text(SWALLOW.format(name="a"), encoding="utf-8")
    commit_all(repo, "base")
    (service / "jobs.py").write_text(SWALLOW.format(name="a") + "\n\n" + SWALLOW.format(name="b"), encoding="utf-8")
    found, _ = _found(invoke("check", ".", "--diff", "HEAD", "--format", "json", cwd=service))
    assert found == {("jobs.py", 11)}
    found, _ = _found(invoke("check", "services/api", "--diff", "HEAD", "--format", "json", cwd=repo))
    assert found == {("jobs.py", 11)}  # paths are relative to the project root (the pyproject.toml)


def test_not_a_repository_and_unknown_ref_are_clear_errors(repo, tmp_path):
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "m.py").write_text(SWALLOW.format(name="x"), encoding="utf-8")
    proc = invoke("check", ".", "--diff", "main", cwd=outside)
    assert proc.returncode == 2
    assert "--diff:" in proc.stderr and "is not inside a git repository" in proc.stderr
    proc = invoke("check", "app", "--diff", "no-such-branch", cwd=repo)
    assert proc.returncode == 2
    assert "unknown git ref 'no-such-branch'" in proc.stderr
    proc = invoke("check", "app", "--diff", "--output=x", cwd=repo)
    assert proc.returncode == 2 and "invalid git ref" in proc.stderr


def test_parse_diff_headers_quoting_and_hunk_bodies():
    text = (
        "diff --git a/a.py b/a.py\n"
        "--- a/a.py\n+++ b/a.py\n"
        "@@ -1,0 +2,2 @@\n"
        "++++ b/not-a-header.py\n"  # an added line that starts with "+++ "
        "+x = 1\n"
        "@@ -10 +12 @@ def f():\n-old\n+new\n"
        "\\ No newline at end of file\n"
        'diff --git "a/sp ace/\\303\\274.py" "b/sp ace/\\303\\274.py"\n'
        '--- "a/sp ace/\\303\\274.py"\n+++ "b/sp ace/\\303\\274.py"\n'
        "@@ -0,0 +1 @@\n+y = 2\n"
        "diff --git a/dead.py b/dead.py\n--- a/dead.py\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-a\n-b\n-c\n"
        "diff --git a/top.py b/top.py\n--- a/top.py\n+++ b/top.py\n@@ -1 +0,0 @@\n-gone\n"
    )
    assert parse_diff(text) == {"a.py": {2, 3, 12}, "sp ace/\u00fc.py": {1}, "top.py": {1}}

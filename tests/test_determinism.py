"""The same input gives byte-identical reports whatever the job count, the order of
the paths, the cache state or where the checkout is; and a run writes nothing into
the tree it lints (the cache directory, which git ignores, aside)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from backendlint.cli import lint_paths
from backendlint.registry import default_registry
from backendlint.reporters import ReportOptions, reporters
from tests.helpers.lint import FIXTURES, settings_for

SWALLOW = "def f{n}():\n    try:\n        g()\n    except Exception:\n        pass\n"
EXTRA = {
    "app/broken.py": b"def x(:\n",
    "app/latin.py": "# coding: latin-1\nname = 'caf\xe9'\n".encode("latin-1"),
    "app/bad_utf8.py": b"x = '\xff'\n",
    "app/crlf.py": SWALLOW.format(n=0).replace("\n", "\r\n").encode(),
    "db/schema.sql": b"CREATE TABLE t (id int);\nNOT SQL (((;\n",
    "db/binary.sql": b"\x00\x01",
}


def make_tree(root: Path) -> Path:
    """The fixtures, hostile files and enough modules for the process pool to start."""
    shutil.copytree(FIXTURES, root / "fixtures")
    for relpath, data in EXTRA.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for index in range(30):
        path = root / "generated" / f"pkg{index % 3}" / f"m{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SWALLOW.format(n=index) * (1 + index % 4), encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.backendlint]\n", encoding="utf-8")
    return root


def _reports(root: Path, targets: List[Path], **kwargs) -> Tuple[str, str]:
    result = lint_paths(targets, settings_for(root, ["BL"]), default_registry(), **kwargs)
    render = reporters()
    return render["json"](result, ReportOptions()), render["sarif"](result, ReportOptions())


def _variants(root: Path, cache_dir: Path) -> Dict[str, Tuple[str, str]]:
    tops = sorted(p for p in root.iterdir() if p.is_dir())
    return {
        "jobs 1": _reports(root, [root], jobs=1),
        "jobs 2": _reports(root, [root], jobs=2),
        "paths reversed, jobs 2": _reports(root, list(reversed(tops)), jobs=2),
        "cache cold": _reports(root, [root], jobs=2, cache_dir=cache_dir),
        "cache warm": _reports(root, [root], jobs=2, cache_dir=cache_dir),
        "cache warm, jobs 1": _reports(root, [root], jobs=1, cache_dir=cache_dir),
    }


def test_reports_are_byte_identical_everywhere(tmp_path):
    one = make_tree(tmp_path / "one")
    two = make_tree(tmp_path / "two" / "a deeper place" / "caf\u00e9")
    variants = _variants(one, tmp_path / "cache")
    baseline = variants["jobs 1"]
    assert '"findings": 0' not in baseline[0] and '"BL001"' in baseline[0]
    for label, reports in variants.items():
        assert reports == baseline, f"{label} differs"
    assert _reports(two, [two], jobs=2) == baseline, "another checkout location differs"
    json_text, sarif_text = baseline
    for text in (json_text, sarif_text):
        assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text), "no timestamps"


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backendlint", "check", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"},
    )


def test_cli_output_does_not_depend_on_the_checkout_location(tmp_path):
    roots = [make_tree(tmp_path / "first"), make_tree(tmp_path / "elsewhere" / "second")]
    outputs = [_cli(root, ".", "--format", "sarif", "--no-cache", "--jobs", "2") for root in roots]
    assert [p.returncode for p in outputs] == [1, 1], outputs[0].stderr
    assert outputs[0].stdout == outputs[1].stdout
    assert str(tmp_path) not in outputs[0].stdout


# -- nothing is written to the scanned tree ------------------------------------------


def snapshot(root: Path) -> Dict[str, Tuple]:
    """Content hash, mode and modification time of every file and directory under ``root``."""
    found: Dict[str, Tuple] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
            found[path.relative_to(root).as_posix()] = (digest, info.st_mode, info.st_mtime_ns)
    return found


def _git_status(root: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def test_no_cache_writes_nothing(tmp_path):
    root = make_tree(tmp_path / "tree")
    before = snapshot(root)
    root_mtime = root.stat().st_mtime_ns
    proc = _cli(root, ".", "--no-cache", "--format", "sarif", "--output", str(tmp_path / "report.sarif"))
    assert proc.returncode == 1 and (tmp_path / "report.sarif").is_file()
    assert snapshot(root) == before and root.stat().st_mtime_ns == root_mtime


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_only_the_self_ignoring_cache_appears(tmp_path):
    root = make_tree(tmp_path / "tree")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    before, status = snapshot(root), _git_status(root)
    for _ in range(2):  # cold, then warm
        assert _cli(root, ".", "--format", "json").returncode == 1
    after = snapshot(root)
    ours = [path for path in after if path != ".git" and not path.startswith(".git/")]
    assert {path for path in ours if path in before and before[path] != after[path]} == set()
    added = {path for path in ours if path not in before}
    assert added and all(path == ".backendlint_cache" or path.startswith(".backendlint_cache/") for path in added)
    assert (root / ".backendlint_cache" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert _git_status(root) == status


@pytest.mark.parametrize(
    "entry",
    [
        [1, 2],
        "text",
        {"hash": "HASH", "result": [1]},
        {"hash": "HASH", "result": {"path": "a.py", "findings": [{"span": [1]}], "skipped": None, "suppressed": 0}},
        {"hash": "HASH", "result": {"path": "a.py", "findings": "oops", "skipped": None, "suppressed": 0}},
    ],
)
def test_cache_entries_of_any_shape_are_ignored(tmp_path, entry):
    import json

    from backendlint.engine.cache import FORMAT, content_key

    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_text(SWALLOW.format(n=1), encoding="utf-8")
    cache_dir = tmp_path / "cache"
    expected = _reports(root, [root], cache_dir=cache_dir)
    digest = content_key((root / "a.py").read_bytes())
    for bucket in (cache_dir / f"v{FORMAT}").glob("*.json"):
        text = json.dumps({"format": FORMAT, "files": {"a.py": entry}}).replace("HASH", digest)
        bucket.write_text(text, encoding="utf-8")
    assert _reports(root, [root], cache_dir=cache_dir) == expected

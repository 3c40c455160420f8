"""Which files a run looks at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backendlint.discovery import discover
from tests.helpers.lint import settings_for


def _touch(path: Path, text: str = "x = 1\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _found(root: Path, *paths: Path, **overrides):
    settings = settings_for(root, ["BL"], **overrides)
    files, problems = discover(list(paths) or [root], settings)
    return [f.relpath for f in files], [(p.relpath, p.message) for p in problems]


def test_walks_python_and_sql_and_skips_noise(tmp_path):
    for rel in (
        "app/views.py", "app/schema.sql", "app/stubs.pyi", "app/readme.md",
        ".git/hooks/x.py", ".venv/lib/x.py", "node_modules/pkg/x.py", "app/__pycache__/x.py",
        "build/lib/x.py", "dist/x.py", "env2/lib/x.py",
    ):
        _touch(tmp_path / rel)
    (tmp_path / "env2" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    files, problems = _found(tmp_path)
    assert files == ["app/schema.sql", "app/stubs.pyi", "app/views.py"]
    assert problems == []


def test_gitignore_nested_and_negated(tmp_path):
    _touch(tmp_path / ".gitignore", "generated/\n*.gen.py\n")
    _touch(tmp_path / "pkg" / ".gitignore", "local_*.py\n!local_keep.py\n")
    for rel in ("a.py", "generated/b.py", "c.gen.py", "pkg/local_x.py", "pkg/local_keep.py", "pkg/d.py"):
        _touch(tmp_path / rel)
    files, _ = _found(tmp_path)
    assert files == ["a.py", "pkg/d.py", "pkg/local_keep.py"]


def test_a_named_directory_is_linted_even_when_ignored(tmp_path):
    # like a named file: the patterns that ignore the directory itself (or a parent of
    # it) are set aside for its walk; the ones about its contents still apply
    _touch(tmp_path / ".gitignore", "vendor/\n*.gen.py\n")
    for rel in ("a.py", "vendor/lib/x.py", "vendor/lib/y.gen.py", "vendor/z.py"):
        _touch(tmp_path / rel)
    assert _found(tmp_path)[0] == ["a.py"]
    files, problems = _found(tmp_path, tmp_path / "vendor" / "lib")
    assert files == ["vendor/lib/x.py"] and problems == []
    assert _found(tmp_path, tmp_path / "vendor")[0] == ["vendor/lib/x.py", "vendor/z.py"]


def test_respect_gitignore_can_be_turned_off(tmp_path):
    _touch(tmp_path / ".gitignore", "generated/\n")
    _touch(tmp_path / "generated" / "b.py")
    config = tmp_path / "backendlint.toml"
    config.write_text("respect-gitignore = false\n", encoding="utf-8")
    files, _ = _found(tmp_path)
    assert files == ["generated/b.py"]


def test_exclude_and_extend_exclude(tmp_path):
    for rel in ("app/a.py", "app/migrations/0001.py", "vendor/lib.py"):
        _touch(tmp_path / rel)
    (tmp_path / "backendlint.toml").write_text('extend-exclude = ["vendor/", "**/migrations/*.py"]\n', encoding="utf-8")
    files, _ = _found(tmp_path)
    assert files == ["app/a.py"]


def test_explicit_file_is_always_linted(tmp_path):
    _touch(tmp_path / "vendor" / "lib.py")
    _touch(tmp_path / "script")
    (tmp_path / "backendlint.toml").write_text('extend-exclude = ["vendor/"]\n', encoding="utf-8")
    files, _ = _found(tmp_path, tmp_path / "vendor" / "lib.py", tmp_path / "script")
    assert files == ["script", "vendor/lib.py"]


def test_missing_paths_and_broken_symlinks_are_problems(tmp_path):
    _touch(tmp_path / "a.py")
    if not hasattr(os, "symlink"):
        pytest.skip("no symlinks")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "dangling.py")
    os.symlink(tmp_path, tmp_path / "loop")
    files, problems = _found(tmp_path)
    assert files == ["a.py"]
    assert problems == [("dangling.py", "broken symbolic link")]
    _, problems = _found(tmp_path, tmp_path / "missing.py")
    assert problems == [("missing.py", "no such file or directory")]


def test_duplicates_removed_and_sorted(tmp_path):
    _touch(tmp_path / "b.py")
    _touch(tmp_path / "a.py")
    files, _ = _found(tmp_path, tmp_path / "b.py", tmp_path, tmp_path / "a.py")
    assert files == ["a.py", "b.py"]

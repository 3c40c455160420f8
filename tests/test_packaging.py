"""Packaging: every package directory on disk is listed, and ends up in the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _declared():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = data["tool"]["setuptools"]
    return setuptools["packages"], setuptools["package-dir"]


def _on_disk(package_dir):
    found = set()
    for name, directory in package_dir.items():
        base = ROOT / directory
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    return found


def test_every_package_directory_is_declared():
    packages, package_dir = _declared()
    assert _on_disk(package_dir) == set(packages)


def test_no_module_directory_without_init():
    _, package_dir = _declared()
    for directory in package_dir.values():
        for path in (ROOT / directory).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            assert (path.parent / "__init__.py").is_file(), f"{path} is in a directory without __init__.py"


def test_entry_point_registers_the_builtin_pack():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["entry-points"]["backendlint.rules"] == {"backendlint": "backendlint_rules"}


def test_wheel_contains_every_package(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(proc.stdout + proc.stderr)
    wheel = next(tmp_path.glob("backendlint-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    packages, _ = _declared()
    for package in packages:
        assert f"{package.replace('.', '/')}/__init__.py" in names, f"{package} missing from the wheel"
    _, package_dir = _declared()
    for name, directory in package_dir.items():
        for path in (ROOT / directory).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT / directory).as_posix()
            assert f"{name}/{rel}" in names, f"{name}/{rel} missing from the wheel"
    entry_points = [n for n in names if n.endswith("entry_points.txt")]
    assert entry_points
    text = zipfile.ZipFile(wheel).read(entry_points[0]).decode()
    assert "[backendlint.rules]" in text and "backendlint_rules" in text

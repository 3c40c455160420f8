"""Real code bases for the benchmark scripts: sdists from the package registry.

``fetch(name)`` downloads the newest sdist of ``name`` once (``pip download
--no-binary :all: --no-deps``) into ``bench/.work/downloads/``, unpacks it once
under ``bench/.work/corpora/`` and returns the project directory.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Optional

WORK = Path(__file__).resolve().parent / ".work"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _archive(downloads: Path, name: str) -> Optional[Path]:
    wanted = _normal(name)
    found = [
        p
        for p in downloads.iterdir()
        if p.name.endswith((".tar.gz", ".zip")) and _normal(p.name.rsplit("-", 1)[0]) == wanted
    ]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def fetch(name: str) -> Path:
    """The unpacked sdist of ``name`` (downloaded and unpacked once, then reused)."""
    target = WORK / "corpora" / name
    if target.is_dir():
        unpacked = sorted(p for p in target.iterdir() if p.is_dir())
        if unpacked:
            return unpacked[0]
    downloads = WORK / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = _archive(downloads, name)
    if archive is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", name, "-d", str(downloads)],
            check=True,
        )
        archive = _archive(downloads, name)
        if archive is None:
            raise SystemExit(f"pip downloaded no sdist for {name}")
    target.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(target)
    else:
        with tarfile.open(archive) as tar:
            try:
                tar.extractall(target, filter="data")
            except TypeError:  # Python < 3.12 without extraction filters
                tar.extractall(target)
    return next(p for p in sorted(target.iterdir()) if p.is_dir())


def own_config(root: Path) -> Path:
    """An empty configuration file at the corpus root, for ``--config``: the corpus is
    then its own project (default settings, paths relative to it), not a part of this
    checkout that happens to lie inside it."""
    config = root / ".backendlint-bench.toml"
    config.write_text("# default settings\n", encoding="utf-8")
    return config

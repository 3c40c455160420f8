"""Paths on the command line -> the Python and SQL files to lint.

Directories are walked without following symlinked directories; default
excludes, ``exclude``/``extend-exclude`` globs and ``.gitignore`` files apply.
A file named explicitly on the command line is always linted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import pathspec

from backendlint.config import Settings

KINDS = {".py": "python", ".pyi": "python", ".sql": "sql"}


@dataclass(frozen=True)
class SourceFile:
    """A file to lint: its path, the path reported to the user, and its kind."""

    path: Path
    relpath: str
    kind: str


@dataclass(frozen=True)
class Problem:
    """A path that could not be used (missing, broken symlink, ...)."""

    relpath: str
    message: str


def relative_to_root(path: Path, root: Path) -> str:
    """A POSIX path relative to the project root when inside it, else as absolute as needed."""
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        try:
            return Path(os.path.relpath(path.absolute(), root)).as_posix()
        except ValueError:  # pragma: no cover - another drive on Windows
            return path.as_posix()


def _gitignore(directory: Path) -> Optional[pathspec.PathSpec]:
    lines: List[str] = []
    for name in (".gitignore", ".git/info/exclude"):
        candidate = directory / name
        try:
            if candidate.is_file():
                lines += candidate.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    if not lines:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


class Walker:
    """Applies the exclusion rules while walking directories."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.root
        self.exclude = pathspec.GitIgnoreSpec.from_lines(
            [*settings.exclude, *settings.extend_exclude]
        )
        self.problems: List[Problem] = []

    def _excluded(self, path: Path, is_dir: bool, ignores: Sequence[Tuple[Path, pathspec.PathSpec]]) -> bool:
        rel = relative_to_root(path, self.root)
        probe = rel + "/" if is_dir else rel
        if self.exclude.match_file(probe) or self.exclude.match_file(path.name + ("/" if is_dir else "")):
            return True
        for base, spec in ignores:
            try:
                sub = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(sub + ("/" if is_dir else "")):
                return True
        return False

    def walk(self, directory: Path, ignores: Sequence[Tuple[Path, pathspec.PathSpec]]) -> Iterator[Path]:
        if self.settings.respect_gitignore:
            spec = _gitignore(directory)
            if spec is not None:
                ignores = [*ignores, (directory, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.problems.append(Problem(relative_to_root(directory, self.root), f"cannot list directory: {exc.strerror or exc}"))
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_dir:
                if self._excluded(path, True, ignores) or _is_virtualenv(path):
                    continue
                yield from self.walk(path, ignores)
                continue
            if path.suffix not in KINDS:
                continue
            if self._excluded(path, False, ignores):
                continue
            if is_link and not path.exists():
                self.problems.append(Problem(relative_to_root(path, self.root), "broken symbolic link"))
                continue
            if is_link and path.is_dir():
                continue
            yield path


def _parent_ignores(directory: Path, root: Path, settings: Settings) -> List[Tuple[Path, pathspec.PathSpec]]:
    """``.gitignore`` files of the directories between the root and ``directory``."""
    if not settings.respect_gitignore:
        return []
    found = []
    try:
        parts = directory.resolve().relative_to(root).parts
    except ValueError:
        return []
    current = root
    chain = [root]
    for part in parts[:-1] if parts else []:
        current = current / part
        chain.append(current)
    for base in chain:
        spec = _gitignore(base)
        if spec is not None:
            found.append((base, spec))
    return found


def discover(paths: Sequence[Path], settings: Settings) -> Tuple[List[SourceFile], List[Problem]]:
    """The files to lint, sorted and de-duplicated, and the paths that could not be used."""
    walker = Walker(settings)
    seen = set()
    files: List[SourceFile] = []

    def add(path: Path, kind: str) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            return
        seen.add(key)
        files.append(SourceFile(path, relative_to_root(path, settings.root), kind))

    for given in paths:
        if given.is_symlink() and not given.exists():
            walker.problems.append(Problem(relative_to_root(given, settings.root), "broken symbolic link"))
            continue
        if given.is_dir():
            ignores = _parent_ignores(given, settings.root, settings)
            for path in walker.walk(given, ignores):
                add(path, KINDS[path.suffix])
        elif given.is_file() or given.exists():
            add(given, KINDS.get(given.suffix, "python"))
        else:
            walker.problems.append(Problem(relative_to_root(given, settings.root), "no such file or directory"))
    files.sort(key=lambda f: f.relpath)
    return files, walker.problems

"""Paths on the command line -> the Python and SQL files to lint.

Directories are walked without following symlinked directories; default
excludes, ``exclude``/``extend-exclude`` globs and ``.gitignore`` files apply.
A file named explicitly on the command line is always linted.
"""

from __future__ import annotations

import errno
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
        return printable(path.absolute().relative_to(root).as_posix())
    except ValueError:
        try:
            return printable(Path(os.path.relpath(path.absolute(), root)).as_posix())
        except ValueError:  # pragma: no cover - another drive on Windows
            return printable(path.as_posix())


def printable(relpath: str) -> str:
    """A file name that is not valid UTF-8 (its bytes were kept as surrogates) shows those
    bytes as ``\\xNN``, so that every report stays valid UTF-8."""
    try:
        relpath.encode("utf-8")
        return relpath
    except UnicodeEncodeError:
        return os.fsencode(relpath).decode("utf-8", "backslashreplace")


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


def link_problem(path: str) -> str:
    """Why a symbolic link leads nowhere."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
    return "broken symbolic link"


_GLOB_CHARS = frozenset("*?[]!/\\")


class Walker:
    """Applies the exclusion rules while walking directories (string paths: this runs
    for every directory and source file of the tree, on every run)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.root
        self._root_prefix = str(settings.root).rstrip(os.sep) + os.sep
        patterns = [*settings.exclude, *settings.extend_exclude]
        self.excluded_names = frozenset(p.rstrip("/") for p in patterns if not (_GLOB_CHARS & set(p.rstrip("/"))))
        globs = [p for p in patterns if _GLOB_CHARS & set(p.rstrip("/"))]
        self.exclude = pathspec.GitIgnoreSpec.from_lines(globs) if globs else None
        self.problems: List[Problem] = []

    def _rel(self, path: str) -> str:
        if path.startswith(self._root_prefix):
            return printable(path[len(self._root_prefix) :].replace(os.sep, "/"))
        return relative_to_root(Path(path), self.root)

    def _excluded(self, path: str, name: str, is_dir: bool, ignores: Sequence[Tuple[str, pathspec.PathSpec]]) -> bool:
        if name in self.excluded_names:
            return True
        suffix = "/" if is_dir else ""
        if self.exclude is not None and self.exclude.match_file(self._rel(path) + suffix):
            return True
        for base, spec in ignores:
            if path.startswith(base):
                if spec.match_file(path[len(base) :].replace(os.sep, "/") + suffix):
                    return True
        return False

    def walk(self, directory: str, ignores: Sequence[Tuple[str, pathspec.PathSpec]]) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.problems.append(Problem(self._rel(directory), f"cannot list directory: {exc.strerror or exc}"))
            return
        if self.settings.respect_gitignore and any(e.name in (".gitignore", ".git") for e in entries):
            spec = _gitignore(Path(directory))
            if spec is not None:
                ignores = [*ignores, (directory.rstrip(os.sep) + os.sep, spec)]
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = entry.is_symlink()
            except OSError:
                continue
            if is_dir:
                if self._excluded(entry.path, entry.name, True, ignores) or os.path.isfile(
                    os.path.join(entry.path, "pyvenv.cfg")
                ):
                    continue
                yield from self.walk(entry.path, ignores)
                continue
            extension = os.path.splitext(entry.name)[1]
            if extension not in KINDS:
                continue
            if self._excluded(entry.path, entry.name, False, ignores):
                continue
            if is_link and not os.path.exists(entry.path):
                self.problems.append(Problem(self._rel(entry.path), link_problem(entry.path)))
                continue
            if is_link and os.path.isdir(entry.path):
                continue
            yield Path(entry.path)


def _parent_ignores(directory: Path, root: Path, settings: Settings) -> List[Tuple[str, pathspec.PathSpec]]:
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
    target = directory.resolve()
    for base in chain:
        spec = _gitignore(base)
        if spec is not None:
            spec = _sparing(spec, target.relative_to(base).parts)
            found.append((str(base).rstrip(os.sep) + os.sep, spec))
    return found


def _sparing(spec: pathspec.PathSpec, parts: Sequence[str]) -> pathspec.PathSpec:
    """``spec`` without the patterns that ignore the named directory (``parts``, relative
    to the spec's base) or one of its parents: a directory named on the command line is
    linted, as a named file is; the patterns about what lies inside it still apply."""
    if not parts:
        return spec
    steps = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    kept = [p for p in spec.patterns if not (p.include and any(p.match_file(step) is not None for step in steps))]
    return spec if len(kept) == len(spec.patterns) else pathspec.GitIgnoreSpec(kept)


def discover(paths: Sequence[Path], settings: Settings) -> Tuple[List[SourceFile], List[Problem]]:
    """The files to lint, sorted and de-duplicated, and the paths that could not be used."""
    walker = Walker(settings)
    seen = set()
    files: List[SourceFile] = []
    prefix = walker._root_prefix

    def add(path: Path, kind: str) -> None:
        absolute = os.path.abspath(path)
        key = os.path.normcase(absolute)
        if key in seen:
            return
        seen.add(key)
        if absolute.startswith(prefix):  # the common case, without pathlib's cost
            relpath = printable(absolute[len(prefix) :].replace(os.sep, "/"))
        else:
            relpath = relative_to_root(path, settings.root)
        files.append(SourceFile(path, relpath, kind))

    for given in paths:
        if given.is_symlink() and not given.exists():
            walker.problems.append(Problem(relative_to_root(given, settings.root), link_problem(str(given))))
            continue
        if given.is_dir():
            ignores = _parent_ignores(given, settings.root, settings)
            for path in walker.walk(str(given.absolute()), ignores):
                add(path, KINDS[path.suffix])
        elif given.is_file() or given.exists():
            add(given, KINDS.get(given.suffix, "python"))
        else:
            walker.problems.append(Problem(relative_to_root(given, settings.root), "no such file or directory"))
    files.sort(key=lambda f: f.relpath)
    return files, walker.problems

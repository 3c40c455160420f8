"""The project pass: facts about the whole project, gathered once before linting.

Some rules judge a line by what other files say: an index declared in a model or a
migration, the state of a field after the earlier migrations of its app. A
:class:`Gatherer` reads the files it wants (cheaply: stdlib ``ast`` or sqlglot, never
the full LibCST pipeline) into small JSON-able per-file facts, then combines them
into one read-only object. Per-file facts are cached by content hash, so a warm run
re-reads only what changed.

Rules ask for the facts they use by name (``Rule.project_facts``); a run whose
selected rules need none skips the pass. The project is the tree under the settings
root (not only the paths on the command line), so that linting one changed file in a
pre-commit hook still sees every model, migration and ``.sql`` file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from backendlint.atomic import write_atomically
from backendlint.config import Settings
from backendlint.discovery import SourceFile, discover
from backendlint.engine.source import SourceError, decode_python, decode_sql, read_bytes


class Gatherer(Protocol):
    """Reads some of the project's files into one kind of project-wide facts."""

    #: The name rules use in ``project_facts`` and in ``ctx.project.get(name)``.
    name: str

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        """Whether the file holds facts of this kind (a cheap path/substring test)."""

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        """The file's facts as JSON-able data (lists, dicts, strings, numbers)."""

    def combine(self, per_file: Mapping[str, Any]) -> Any:
        """All files' facts (relpath -> what :meth:`read` returned) -> the facts object."""


@dataclass(frozen=True)
class ProjectFacts:
    """What the project pass found, by gatherer name; plain data, picklable."""

    facts: Tuple[Tuple[str, Any], ...] = ()
    fingerprint: str = ""
    files: int = 0

    def get(self, name: str) -> Any:
        """The facts of gatherer ``name``, or ``None`` when the run did not gather them."""
        for key, value in self.facts:
            if key == name:
                return value
        return None

    def digest(self) -> str:
        """Changes whenever a file the facts came from changes (part of the cache key)."""
        return self.fingerprint


EMPTY = ProjectFacts()

_GATHERERS: Dict[str, Gatherer] = {}


def register(gatherer: Gatherer) -> Gatherer:
    """Make a gatherer known to the engine (done by the modules of this package)."""
    _GATHERERS[gatherer.name] = gatherer
    return gatherer


def gatherers() -> Dict[str, Gatherer]:
    from backendlint.project import catalog, django_settings, migrations  # noqa: F401  (registers the built-in gatherers)

    return dict(_GATHERERS)


def known_facts() -> Tuple[str, ...]:
    return tuple(sorted(gatherers()))


@dataclass
class _FileCache:
    """Per-file facts of one gatherer, keyed by content hash; atomic JSON file."""

    path: Optional[Path]
    entries: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    fresh: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Optional[Path]) -> _FileCache:
        cache = cls(path)
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    cache.entries = data
            except (OSError, ValueError):
                pass
        return cache

    def get(self, relpath: str, digest: str) -> Tuple[bool, Any]:
        entry = self.entries.get(relpath)
        if isinstance(entry, dict) and entry.get("hash") == digest:
            self.fresh[relpath] = entry
            return True, entry.get("facts")
        return False, None

    def put(self, relpath: str, digest: str, facts: Any) -> None:
        self.fresh[relpath] = {"hash": digest, "facts": facts}

    def save(self) -> None:
        if self.path is None or self.fresh == self.entries:
            return
        if _write_json(self.path, self.fresh):
            _prune(self.path)


def _prune(current: Path, keep: int = 4) -> None:
    """Drop the caches of this kind made for other versions of the code (they are never
    read again), keeping the most recent few."""
    kind = current.stem.rsplit("-", 1)[0]
    others = []
    for path in current.parent.glob(f"{kind}-*.json"):
        try:
            others.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(others, reverse=True)[keep:]:
        if path != current:
            try:
                path.unlink()
            except OSError:
                continue


def _write_json(path: Path, data: Any) -> bool:
    """Write ``data`` to ``path`` atomically (a reader sees the old file or the new one,
    never half of one); ``False`` when the cache cannot be written, which is harmless."""
    try:
        write_atomically(path, json.dumps(data, separators=(",", ":")))  # the C encoder
        return True
    except OSError:
        return False


def _text(src: SourceFile, data: bytes) -> Optional[str]:
    try:
        return (decode_sql(data) if src.kind == "sql" else decode_python(data)).text
    except SourceError:
        return None


def gather_project(
    settings: Settings,
    names: Sequence[str],
    cache_dir: Optional[Path] = None,
    code_key: str = "",
    files: Optional[Sequence[SourceFile]] = None,
) -> ProjectFacts:
    """Run the gatherers ``names`` over the project under ``settings.root``.

    ``files`` replaces the discovery of the project's files (tests); ``cache_dir``
    enables the per-file cache, whose entries are valid for ``code_key`` (the digest
    of the engine's source) only. Never raises for a file it cannot read or parse:
    that file simply contributes no facts."""
    available = gatherers()
    chosen = [available[n] for n in sorted(set(names)) if n in available]
    if not chosen:
        return EMPTY
    if files is None:
        files, _ = discover([settings.root], settings)
    # facts depend on the gatherers' code, the SQL dialect and which files are too big to read
    key = hashlib.sha256(f"{code_key}\0{settings.sql_dialect}\0{settings.max_file_size}".encode()).hexdigest()[:16]
    caches = {
        g.name: _FileCache.load(cache_dir / "project" / f"{g.name}-{key}.json" if cache_dir else None)
        for g in chosen
    }
    per_file: Dict[str, Dict[str, Any]] = {g.name: {} for g in chosen}
    fingerprint = hashlib.sha256(code_key.encode())
    used = 0
    names_key = ",".join(g.name for g in chosen)
    index = _StatIndex.load(cache_dir / "project" / f"files-{key}.json" if cache_dir else None, names_key)
    for src in files:
        stat = _stat(src.path)
        known = index.lookup(src.relpath, stat)
        if known is not None and _reuse(known, src.relpath, caches, per_file):
            digest, wanted = known
            if digest and wanted:
                fingerprint.update(f"{src.relpath}\0{digest}\0".encode())
                used += 1
            index.keep(src.relpath, stat, digest, wanted)
            continue
        try:
            data = read_bytes(src.path)
        except SourceError:
            continue
        if b"\x00" in data[:8192] or len(data) > settings.max_file_size > 0:
            index.keep(src.relpath, stat, "", [])
            continue
        text: Optional[str] = None
        digest = ""
        wanted_by: List[str] = []
        for gatherer in chosen:
            if text is None:
                text = _text(src, data)
                if text is None:
                    break
            if not gatherer.wants(src.relpath, src.kind, text):
                continue
            wanted_by.append(gatherer.name)
            if not digest:
                digest = hashlib.sha256(data).hexdigest()
                fingerprint.update(f"{src.relpath}\0{digest}\0".encode())
                used += 1
            cache = caches[gatherer.name]
            hit, facts = cache.get(src.relpath, digest)
            if not hit:
                try:
                    facts = gatherer.read(src.relpath, src.kind, text, settings.sql_dialect)
                    json.dumps(facts)  # facts are cached as JSON: anything else is dropped here
                except Exception:  # a file a gatherer cannot read contributes no facts
                    facts = None
                cache.put(src.relpath, digest, facts)
            if facts is not None:
                per_file[gatherer.name][src.relpath] = facts
        index.keep(src.relpath, stat, digest, wanted_by)
    for cache in caches.values():
        cache.save()
    index.save()
    combined: List[Tuple[str, Any]] = []
    for gatherer in chosen:
        try:
            value = gatherer.combine(per_file[gatherer.name])
        except Exception:  # rules then see no facts of this kind, as when none were gathered
            value = None
        combined.append((gatherer.name, value))
        fingerprint.update(gatherer.name.encode())
    return ProjectFacts(tuple(combined), fingerprint.hexdigest()[:32], used)


# -- the stat index: files unchanged since the last run are not even read ------------

_RACY_NS = 2_000_000_000  # a file changed this recently may change again within the same mtime


def _stat(path: Path) -> Optional[Tuple[int, int, int]]:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


@dataclass
class _StatIndex:
    """relpath -> (mtime, size, inode, content hash, gatherers that want the file), as
    of the last run: a file whose stat is unchanged is taken from the per-file caches
    without being read (git's index does the same). Entries younger than a couple of
    seconds at save time are left out, so that an edit within one mtime tick is seen."""

    path: Optional[Path]
    names: str
    entries: Dict[str, Any] = field(default_factory=dict)
    fresh: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Optional[Path], names: str) -> _StatIndex:
        index = cls(path, names)
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("gatherers") == names and isinstance(data.get("files"), dict):
                    index.entries = data["files"]
            except (OSError, ValueError):
                pass
        return index

    def lookup(self, relpath: str, stat: Optional[Tuple[int, int, int]]) -> Optional[Tuple[str, List[str]]]:
        entry = self.entries.get(relpath)
        if stat is None or not isinstance(entry, list) or len(entry) != 5 or entry[:3] != list(stat):
            return None
        digest, wanted = entry[3], entry[4]
        if not isinstance(digest, str) or not isinstance(wanted, list):
            return None
        return digest, wanted

    def keep(self, relpath: str, stat: Optional[Tuple[int, int, int]], digest: str, wanted: List[str]) -> None:
        if stat is not None and self.path is not None:
            self.fresh[relpath] = [*stat, digest, wanted]

    def save(self) -> None:
        if self.path is None:
            return
        limit = time.time_ns() - _RACY_NS
        fresh = {k: v for k, v in self.fresh.items() if v[0] < limit}
        if fresh == self.entries:
            return
        if _write_json(self.path, {"gatherers": self.names, "files": fresh}):
            _prune(self.path)


def _reuse(known: Tuple[str, List[str]], relpath: str, caches: Dict[str, _FileCache], per_file: Dict[str, Dict[str, Any]]) -> bool:
    """Take an unchanged file's facts from the per-file caches; ``False`` when one is
    missing there (the file is then read as usual)."""
    digest, wanted = known
    found = []
    for name in wanted:
        cache = caches.get(name)
        if cache is None:
            return False
        hit, facts = cache.get(relpath, digest)
        if not hit:
            return False
        found.append((name, facts))
    for name, facts in found:
        if facts is not None:
            per_file[name][relpath] = facts
    return True

"""The findings cache: one entry per file, keyed by its content hash, inside a
bucket keyed by everything else that decides the findings (backendlint's version,
the effective settings, the source of the engine and of every selected rule pack);
an entry whose rules read project-wide facts is also keyed by their digest.

A bucket is one JSON file, written atomically (temporary file + ``os.replace``), so
concurrent runs and crashes can lose entries but never corrupt the cache; an
unreadable bucket is ignored. Buckets unused for :data:`MAX_AGE_DAYS` and all but
the :data:`MAX_BUCKETS` most recent are pruned. The cache directory ignores
itself for git.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence, Type

from backendlint import __version__
from backendlint.atomic import write_atomically
from backendlint.types import Confidence, FileResult, Finding, Severity, Span

FORMAT = 3
MAX_AGE_DAYS = 14
MAX_BUCKETS = 8
DEFAULT_DIR = ".backendlint_cache"


def _tree_digest(directories: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for directory in sorted(set(directories)):
        for path in sorted(directory.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            try:
                digest.update(path.relative_to(directory).as_posix().encode())
                digest.update(path.read_bytes())
            except OSError:
                continue
    return digest.hexdigest()


def code_digest(rule_classes: Sequence[Type[Any]]) -> str:
    """A digest of the engine's source and of the packages defining the rules, so that
    editing a rule (or the engine) invalidates cached findings."""
    import inspect

    directories = {Path(__file__).resolve().parent.parent}
    for cls in rule_classes:
        try:
            source = inspect.getsourcefile(cls)
        except TypeError:
            source = None
        if source:
            directories.add(Path(source).resolve().parent)
    return _tree_digest(directories)


def bucket_key(settings_repr: str, code: str, project_digest: str, extra: str = "") -> str:
    material = "\0".join(
        [str(FORMAT), __version__, sys.version.split()[0], settings_repr, code, project_digest, extra]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _finding_to_json(finding: Finding) -> Dict[str, Any]:
    data = asdict(finding)
    data["severity"] = int(finding.severity)
    data["confidence"] = int(finding.confidence)
    data["extra"] = [list(pair) for pair in finding.extra]
    return data


def _finding_from_json(data: Dict[str, Any]) -> Finding:
    return Finding(
        code=data["code"],
        name=data["name"],
        message=data["message"],
        severity=Severity(data["severity"]),
        confidence=Confidence(data["confidence"]),
        path=data["path"],
        span=Span(**data["span"]),
        fingerprint=data["fingerprint"],
        snippet=data["snippet"],
        extra=tuple(tuple(pair) for pair in data["extra"]),  # type: ignore[misc]
        line_fingerprint=data["line_fingerprint"],
    )


def result_to_json(result: FileResult) -> Dict[str, Any]:
    return {
        "path": result.path,
        "findings": [_finding_to_json(f) for f in result.findings],
        "skipped": result.skipped,
        "suppressed": result.suppressed,
        "uses_project": result.uses_project,
    }


def result_from_json(data: Dict[str, Any]) -> FileResult:
    return FileResult(
        path=data["path"],
        findings=tuple(_finding_from_json(f) for f in data["findings"]),
        skipped=data["skipped"],
        suppressed=data["suppressed"],
        uses_project=bool(data.get("uses_project")),
    )


class Cache:
    """One bucket of cached file results; call :meth:`save` once at the end of a run.

    An entry is valid for the file's content hash and, when a rule read project-wide
    facts for the file, for ``project`` (the digest of those facts): editing a model
    re-lints the files whose rules looked at the catalogue, not every file."""

    def __init__(self, directory: Path, key: str, project: str = "") -> None:
        self.directory = directory
        self.project = project
        self.path = directory / f"v{FORMAT}" / f"{key}.json"
        self._entries: Dict[str, Dict[str, Any]] = {}
        self._fresh: Dict[str, Dict[str, Any]] = {}
        self._loaded = False

    def load(self) -> None:
        self._loaded = True
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict):
            self._entries = data["files"]

    def get(self, relpath: str, digest: str) -> Optional[FileResult]:
        entry = self._entries.get(relpath)
        if not isinstance(entry, dict) or entry.get("hash") != digest:
            return None
        if entry.get("project") and entry.get("project") != self.project:
            return None
        try:
            result = result_from_json(entry["result"])
        except (KeyError, TypeError, ValueError, AttributeError):  # an entry of another shape
            return None
        self._fresh[relpath] = entry
        return result

    def put(self, relpath: str, digest: str, result: FileResult) -> None:
        project = self.project if result.uses_project else ""
        self._fresh[relpath] = {"hash": digest, "project": project, "result": result_to_json(result)}

    def save(self) -> bool:
        """Write the entries used or made by this run; ``False`` when the directory is unwritable."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by backendlint\n*\n", encoding="utf-8")
            write_atomically(self.path, json.dumps({"format": FORMAT, "files": self._fresh}, separators=(",", ":")))
            self._prune()
            return True
        except OSError:
            return False

    def _prune(self) -> None:
        now = time.time()
        buckets = []
        for path in self.path.parent.glob("*.json"):
            try:
                buckets.append((path.stat().st_mtime, path))
            except OSError:
                continue
        buckets.sort(reverse=True)
        for index, (mtime, path) in enumerate(buckets):
            if path == self.path:
                continue
            if index >= MAX_BUCKETS or now - mtime > MAX_AGE_DAYS * 86400:
                try:
                    path.unlink()
                except OSError:
                    continue

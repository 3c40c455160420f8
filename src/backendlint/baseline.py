"""Baselines: record today's findings once, then report only new ones.

A baseline file (JSON, see ``docs/baseline.md``) lists findings by rule, path and the
two line-number-free fingerprints of :mod:`backendlint.engine.fingerprint`, with a
count for identical findings. Matching a run against it, per rule and path:

1. a finding whose ``fingerprint`` (its code and neighbourhood) is recorded is hidden;
2. a finding left over whose ``line_fingerprint`` (its code alone) is recorded by an
   entry not used in step 1 is hidden too (its neighbourhood was edited);
3. each recorded finding hides at most one finding: with ``count = 2`` recorded and
   three identical findings now, the first two in file order are hidden and the third
   is reported.

Recorded findings that hid nothing in a file that was checked, for a rule that ran,
are *stale* (the problem was fixed or the code changed beyond recognition).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from backendlint import __version__
from backendlint.types import BaselineSummary, FileResult, Finding, RunResult

FORMAT_VERSION = 1
DEFAULT_FILE = ".backendlint-baseline.json"


class BaselineError(Exception):
    """The baseline file is missing, unreadable or not a baseline."""


@dataclass(frozen=True)
class Entry:
    """Identical recorded findings (same rule, path and fingerprints)."""

    rule: str
    path: str
    fingerprint: str
    line_fingerprint: str
    count: int = 1
    message: str = ""


def entries_of(findings: Iterable[Finding]) -> List[Entry]:
    """Entries recording ``findings``, duplicates counted, in a stable order."""
    counts: Counter = Counter()
    messages: Dict[Tuple[str, str, str, str], str] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        key = (finding.path, finding.code, finding.fingerprint, finding.line_fingerprint)
        counts[key] += 1
        messages.setdefault(key, finding.message.split("\n", 1)[0])
    out = []
    for key in sorted(counts):
        path, code, fingerprint, line_fingerprint = key
        out.append(Entry(code, path, fingerprint, line_fingerprint, counts[key], messages[key]))
    return out


def dumps(entries: Sequence[Entry]) -> str:
    """The baseline file's text: deterministic, no timestamps, no line numbers."""
    payload = {
        "version": FORMAT_VERSION,
        "tool": {"name": "backendlint", "version": __version__},
        "findings": [
            {
                "rule": e.rule,
                "path": e.path,
                "fingerprint": e.fingerprint,
                "line_fingerprint": e.line_fingerprint,
                "count": e.count,
                "message": e.message,
            }
            for e in entries
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def loads(text: str, where: str) -> List[Entry]:
    """Entries of a baseline file's text; :class:`BaselineError` names what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"{where}: not a backendlint baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{where}: not a backendlint baseline (no 'findings' list)")
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise BaselineError(
            f"{where}: baseline format version {version!r} is not supported (expected {FORMAT_VERSION}); "
            "regenerate it with `backendlint baseline`"
        )
    entries = []
    for index, item in enumerate(data["findings"]):
        entries.append(_entry(item, f"{where}: findings[{index}]"))
    return entries


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, dict):
        raise BaselineError(f"{where} must be an object")
    values: Dict[str, Any] = {}
    for key in ("rule", "path", "fingerprint", "line_fingerprint"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise BaselineError(f"{where}: '{key}' must be a non-empty string")
        values[key] = value
    count = item.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise BaselineError(f"{where}: 'count' must be a positive integer")
    message = item.get("message", "")
    return Entry(count=count, message=message if isinstance(message, str) else "", **values)


def read(path: Path) -> List[Entry]:
    """Entries of the baseline file at ``path``."""
    shown = display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"baseline file {shown} not found (create it with `backendlint baseline -o {shown}`)") from None
    except IsADirectoryError:
        raise BaselineError(f"baseline file {shown} is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read baseline file {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    return loads(text, shown)


def display(path: Path) -> str:
    """``path`` relative to the working directory when inside it."""
    try:
        return path.absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


class _Pool:
    """Recorded findings of one rule and path, by line fingerprint then fingerprint."""

    def __init__(self) -> None:
        self.units: Dict[str, Counter] = {}

    def add(self, entry: Entry) -> None:
        self.units.setdefault(entry.line_fingerprint, Counter())[entry.fingerprint] += entry.count

    def take_exact(self, finding: Finding) -> bool:
        found = self.units.get(finding.line_fingerprint)
        if found and found[finding.fingerprint] > 0:
            found[finding.fingerprint] -= 1
            return True
        return False

    def take_line(self, finding: Finding) -> bool:
        found = self.units.get(finding.line_fingerprint)
        if not found:
            return False
        for fingerprint in sorted(found):
            if found[fingerprint] > 0:
                found[fingerprint] -= 1
                return True
        return False

    def left(self) -> int:
        return sum(sum(c.values()) for c in self.units.values())


def apply(result: RunResult, entries: Sequence[Entry], label: str) -> RunResult:
    """``result`` without the findings ``entries`` record, with a :class:`BaselineSummary`."""
    pools: Dict[Tuple[str, str], _Pool] = {}
    for entry in entries:
        pools.setdefault((entry.rule, entry.path), _Pool()).add(entry)
    findings = [f for r in result.files for f in r.findings]
    hidden = set()
    for step in ("exact", "line"):
        for index, finding in enumerate(findings):
            if index in hidden:
                continue
            pool = pools.get((finding.code, finding.path))
            if pool is not None and (pool.take_exact(finding) if step == "exact" else pool.take_line(finding)):
                hidden.add(index)
    checked = {r.path for r in result.files if r.skipped is None}
    ran = {m.code for m in result.rules}
    stale = sum(pool.left() for (rule, path), pool in pools.items() if path in checked and rule in ran)
    kept: List[FileResult] = []
    position = 0
    for file_result in result.files:
        mine = file_result.findings
        keep = tuple(f for i, f in enumerate(mine, start=position) if i not in hidden)
        position += len(mine)
        kept.append(replace(file_result, findings=keep) if len(keep) != len(mine) else file_result)
    return replace(result, files=tuple(kept), baseline=BaselineSummary(label, len(hidden), stale))

"""Changed lines since a git ref, for ``check --diff REF``.

"Changed since REF" means changed since the merge base of REF and ``HEAD`` (what a pull
request changes, whatever landed on REF since), committed or not: ``git diff
--unified=0 <merge-base>`` against the working tree, plus untracked files that git does
not ignore (wholly new). A renamed file counts under its new name with only its edited
lines; where lines were deleted, the lines on either side of the gap count as changed
(deleting a ``raise`` can make the ``except`` above it silent). Deleted files have no
lines. Paths from git (relative to the repository's top level) are mapped to paths
relative to the project root, which may be a sub-directory of the repository.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence, Set

from backendlint.discovery import relative_to_root
from backendlint.types import DiffSummary, FileResult, Finding, RunResult

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}
_TIMEOUT = 120


class GitError(Exception):
    """git is missing, the directory is not a repository, or the ref is unknown."""


@dataclass(frozen=True)
class ChangedLines:
    """Changed line numbers by path (relative to the project root); ``None``: the whole file."""

    ref: str
    files: Dict[str, Optional[FrozenSet[int]]]

    def wants(self, relpath: str) -> bool:
        return relpath in self.files

    def covers(self, finding: Finding) -> bool:
        if finding.path not in self.files:
            return False
        lines = self.files[finding.path]
        if lines is None:
            return True
        last = max(finding.span.end_line, finding.span.line)
        return any(number in lines for number in range(finding.span.line, last + 1))


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_TIMEOUT,
        )
    except FileNotFoundError:
        raise GitError("--diff needs git, which is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"--diff: `git {' '.join(args)}` did not finish in {_TIMEOUT} s") from None


def _out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.decode("utf-8", "surrogateescape")


def _err(proc: subprocess.CompletedProcess) -> str:
    text = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[-1] if text else f"exit status {proc.returncode}"


def changed_lines(root: Path, ref: str) -> ChangedLines:
    """The lines of files under ``root`` changed since ``ref``; :class:`GitError` otherwise."""
    if not ref or ref.startswith("-"):
        raise GitError(f"--diff: invalid git ref {ref!r}")
    top_proc = _git(["rev-parse", "--show-toplevel"], root)
    if top_proc.returncode != 0:
        raise GitError(f"--diff: {root} is not inside a git repository ({_err(top_proc)})")
    top = Path(_out(top_proc).strip()).resolve()
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
    if commit.returncode != 0:
        raise GitError(f"--diff: unknown git ref {ref!r} (a branch, tag or commit; fetch it first in CI)")
    base = _git(["merge-base", _out(commit).strip(), "HEAD"], top)
    if base.returncode != 0:
        raise GitError(
            f"--diff: no common history between {ref!r} and HEAD ({_err(base)}); "
            "in a shallow clone, fetch more history (actions/checkout: fetch-depth: 0)"
        )
    diff = _git(
        [
            "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
            "--src-prefix=a/", "--dst-prefix=b/", "--ignore-submodules", _out(base).strip(), "--",
        ],
        top,
    )
    if diff.returncode != 0:
        raise GitError(f"--diff: git diff failed: {_err(diff)}")
    by_top: Dict[str, Optional[Set[int]]] = dict(parse_diff(_out(diff)))
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    if untracked.returncode == 0:
        for name in _out(untracked).split("\0"):
            if name:
                by_top[name] = None
    files: Dict[str, Optional[FrozenSet[int]]] = {}
    for name, lines in by_top.items():
        relpath = relative_to_root(top / name, root)
        files[relpath] = None if lines is None else frozenset(lines)
    return ChangedLines(ref, files)


def _unquote(path: str) -> str:
    """A path as git prints it: C-style quoted when it has unusual characters."""
    if not (len(path) >= 2 and path[0] == path[-1] == '"'):
        return path
    body = path[1:-1]
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            if following in "01234567" and re.match(r"[0-7]{3}", body[index + 1 : index + 4]):
                out.append(int(body[index + 1 : index + 4], 8))
                index += 4
                continue
            out += _ESCAPES.get(following, following).encode()
            index += 2
            continue
        out += char.encode("utf-8", "surrogateescape")
        index += 1
    return out.decode("utf-8", "surrogateescape")


def parse_diff(text: str) -> Dict[str, Set[int]]:
    """New-side changed line numbers per path from ``git diff --unified=0`` output."""
    files: Dict[str, Set[int]] = {}
    current: Optional[Set[int]] = None
    pending = 0  # hunk body lines still to skip
    for line in text.split("\n"):
        if pending:
            if line[:1] in ("+", "-"):
                pending -= 1
            continue
        if line.startswith("+++ "):
            name = _unquote(line[4:].rstrip("\t"))
            if name == "/dev/null":
                current = None
            else:
                current = files.setdefault(name[2:] if name.startswith("b/") else name, set())
            continue
        match = _HUNK.match(line)
        if match is None or current is None:
            continue
        old_count = int(match.group(2)) if match.group(2) is not None else 1
        start = int(match.group(3))
        new_count = int(match.group(4)) if match.group(4) is not None else 1
        pending = old_count + new_count
        if new_count:
            current.update(range(start, start + new_count))
        else:  # lines deleted after line `start` of the new file
            current.update(n for n in (start, start + 1) if n >= 1)
    return files


def apply(result: RunResult, changed: ChangedLines) -> RunResult:
    """``result`` with only the findings on changed lines; paths git does not know
    (a missing path given on the command line) keep their findings."""
    kept: List[FileResult] = []
    hidden = 0
    for file_result in result.files:
        if not changed.wants(file_result.path):
            kept.append(file_result)
            continue
        keep = tuple(f for f in file_result.findings if changed.covers(f))
        hidden += len(file_result.findings) - len(keep)
        kept.append(replace(file_result, findings=keep))
    linted = sum(1 for r in result.files if changed.wants(r.path))
    return replace(result, files=tuple(kept), diff=DiffSummary(changed.ref, hidden, linted))

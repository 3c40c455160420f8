"""Line-number-free fingerprints of findings.

Two hashes per finding, neither of which contains a line number:

- ``fingerprint``: the rule, the path, the normalised code of the finding (its first
  lines, up to :data:`CODE_LINES`) and its neighbourhood (up to :data:`CONTEXT_LINES`
  significant lines before and after). Identical findings in identical surroundings
  share it; reporters that need one value per result add an occurrence number.
- ``line_fingerprint``: the rule, the path and the normalised code alone, for matching
  a finding whose neighbourhood was edited.

Normalising drops comments and all whitespace, so re-indenting, re-spacing, adding a
comment or moving code up or down leaves both hashes unchanged. Blank and
comment-only lines never count as neighbours.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Dict, FrozenSet, Iterable, List, Sequence, Tuple

from backendlint.types import Finding

CODE_LINES = 3
CONTEXT_LINES = 2
_DIGITS = 16


def normalise(line: str, comment: str = "#") -> str:
    """``line`` without its trailing comment and without any whitespace."""
    cut = line.find(comment)
    if cut < 0 or not any(q in line[:cut] for q in "'\""):
        return "".join((line if cut < 0 else line[:cut]).split())
    quote = ""
    index = 0
    end = len(line)
    while index < end:
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif line.startswith(quote, index):
                index += len(quote) - 1
                quote = ""
        elif line.startswith(comment, index):
            line = line[:index]
            break
        elif char in "'\"":
            quote = char * 3 if line.startswith(char * 3, index) else char
            index += len(quote) - 1
        index += 1
    return "".join(line.split())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:_DIGITS]


class _Source:
    """The lines of one file, normalised on first use."""

    def __init__(self, lines: Sequence[str], comment: str) -> None:
        self._raw = lines
        self._comment = comment
        self._normal: Dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, index: int) -> str:
        found = self._normal.get(index)
        if found is None:
            found = self._normal[index] = normalise(self._raw[index], self._comment)
        return found

    def code(self, first: int, last: int) -> Tuple[List[str], int]:
        """Significant normalised lines ``first..last`` (1-based), at most CODE_LINES,
        and the number of the last line taken (``first`` when none is)."""
        out: List[str] = []
        end = first
        for index in range(max(first, 1) - 1, min(last, len(self))):
            if self[index]:
                out.append(self[index])
                end = index + 1
            if len(out) == CODE_LINES:
                break
        return out, end

    def around(self, first: int, last: int) -> Tuple[List[str], List[str]]:
        before: List[str] = []
        index = first - 2
        while index >= 0 and len(before) < CONTEXT_LINES:
            if index < len(self) and self[index]:
                before.insert(0, self[index])
            index -= 1
        after: List[str] = []
        index = last
        while index < len(self) and len(after) < CONTEXT_LINES:
            if self[index]:
                after.append(self[index])
            index += 1
        return before, after


def with_fingerprints(
    findings: Iterable[Finding],
    lines: Sequence[str],
    kind: str = "python",
    redacted: FrozenSet[str] = frozenset(),
) -> Tuple[Finding, ...]:
    """``findings`` sorted, each with both fingerprints and a one-line snippet.

    Findings of rules in ``redacted`` (rules that set ``redact_source``, e.g. secrets)
    get no snippet, so no report format repeats the source line."""
    source = _Source(lines, "--" if kind == "sql" else "#")
    out: List[Finding] = []
    for finding in sorted(findings, key=Finding.sort_key):
        span = finding.span
        code, last = source.code(span.line, max(span.end_line, span.line))
        before, after = source.around(span.line, last)
        body = "\n".join(code)
        line_fp = _digest(finding.code, finding.path, body)
        full_fp = _digest(finding.code, finding.path, body, "\n".join(before), "\n".join(after))
        index = span.line - 1
        snippet = lines[index] if 0 <= index < len(lines) else ""
        out.append(
            replace(
                finding,
                fingerprint=full_fp,
                line_fingerprint=line_fp,
                snippet="" if finding.code in redacted else snippet[:400],
            )
        )
    return tuple(out)


def occurrences(findings: Sequence[Finding]) -> Dict[int, int]:
    """1-based occurrence number of each finding (by position in ``findings``) among
    findings with the same path, rule and fingerprint, in file order."""
    counts: Dict[Tuple[str, str, str], int] = {}
    out: Dict[int, int] = {}
    for position, finding in enumerate(findings):
        key = (finding.path, finding.code, finding.fingerprint)
        counts[key] = counts.get(key, 0) + 1
        out[position] = counts[key]
    return out

"""Suppression comments.

Python: ``# backendlint: ignore[BL401]`` (codes, prefixes or rule names,
comma-separated; ``ignore`` alone means every rule), ``# backendlint:
ignore-file[BL301]`` and ``# noqa: BL401``. A bare ``# noqa`` is left to the tools it
is usually meant for. SQL: ``-- backendlint: ignore[BL501]``.

A comment applies to its own line; a comment alone on a line applies to the next
line; a comment on the first line of a multi-line statement applies to the
whole statement.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from backendlint.engine.source import physical_lines

_DIRECTIVE = re.compile(
    r"backendlint:\s*(?P<kind>ignore-file|ignore)\b(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE
)
_NOQA = re.compile(r"\bnoqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)

ALL = "*"


@dataclass
class Suppression:
    """One directive found in a comment."""

    line: int
    codes: FrozenSet[str]
    file_wide: bool
    standalone: bool
    text: str
    used: Set[str] = field(default_factory=set)


@dataclass
class Suppressions:
    """All directives of one file, with the lookup the engine needs."""

    items: List[Suppression] = field(default_factory=list)

    def match(
        self, code: str, lines: Tuple[int, ...], matches: Callable[[str, str], bool]
    ) -> Optional[Suppression]:
        """The directive that suppresses ``code`` reported on any of ``lines``."""
        for item in self.items:
            if not item.file_wide and item.line not in lines:
                continue
            for pattern in item.codes:
                if pattern == ALL or matches(pattern, code):
                    item.used.add(pattern)
                    return item
        return None

    def standalone_lines(self) -> Dict[int, Suppression]:
        return {s.line: s for s in self.items if s.standalone and not s.file_wide}


def _parse_codes(raw: Optional[str]) -> FrozenSet[str]:
    if raw is None:
        return frozenset({ALL})
    codes = {c.strip() for c in re.split(r"[\s,]+", raw) if c.strip()}
    return frozenset(codes) if codes else frozenset({ALL})


def _directives(comment: str, line: int, standalone: bool, out: List[Suppression]) -> None:
    for match in _DIRECTIVE.finditer(comment):
        out.append(
            Suppression(
                line=line,
                codes=_parse_codes(match.group("codes")),
                file_wide=match.group("kind").lower() == "ignore-file",
                standalone=standalone,
                text=match.group(0),
            )
        )
    for match in _NOQA.finditer(comment):
        codes = frozenset(c.upper() for c in re.split(r"[\s,]+", match.group("codes")) if c)
        out.append(Suppression(line, codes, False, standalone, match.group(0)))


def python_suppressions(source: str) -> Suppressions:
    """Directives in the comments of Python ``source`` (strings are not comments)."""
    if "backendlint" not in source and "noqa" not in source.lower():
        return Suppressions()
    found: List[Suppression] = []
    lines = physical_lines(source)
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source, newline=None).readline)
        for tok in tokens:
            if tok.type != tokenize.COMMENT:
                continue
            line = tok.start[0]
            before = lines[line - 1][: tok.start[1]] if line - 1 < len(lines) else ""
            _directives(tok.string, line, not before.strip(), found)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return Suppressions()
    return Suppressions(found)


def sql_suppressions(source: str) -> Suppressions:
    """Directives in ``--`` comments of SQL ``source``."""
    if "backendlint" not in source and "noqa" not in source.lower():
        return Suppressions()
    found: List[Suppression] = []
    for number, text in enumerate(physical_lines(source), start=1):
        position = text.find("--")
        if position < 0:
            continue
        _directives(text[position + 2 :], number, not text[:position].strip(), found)
    return Suppressions(found)

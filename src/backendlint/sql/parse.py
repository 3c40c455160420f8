"""Parse SQL text with sqlglot, memoised, with placeholder normalisation and
dialect fallbacks. A string that does not parse is not SQL: callers never flag it.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

if TYPE_CHECKING:  # pragma: no cover
    import sqlglot
    import sqlglot.expressions as exp

# sqlglot is imported by the functions that parse: importing it costs more than linting
# a small file, and most runs never meet SQL.

_PYFORMAT = re.compile(r"%\((\w+)\)s")
_FORMAT = re.compile(r"(?<!%)%[sdf]")
_ORACLE = re.compile(r"(?<![:\w]):(\d+)\b")
#: asyncpg's ``$1``: a Parameter for postgres, but a *column* named ``$1`` for every other
#: dialect, so it is made a ``?`` like the other positional styles.
_DOLLAR = re.compile(r"(?<![\w$])\$(\d+)(?![\w$])")
#: ``%s::jsonb`` -> ``?::jsonb``, which no dialect reads; ``(?)::jsonb`` parses everywhere.
_CAST_PLACEHOLDER = re.compile(r"(?<![\w?])\?(?=::)")
_ADJACENT_HOLES = re.compile(r"(__hole\d+__)\s+__hole\d+__")
_HOLE = re.compile(r"__hole\d+__")

#: sqlglot logs a warning whenever it keeps a statement as an opaque Command; that is
#: an answer here, not news for the user's terminal.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DEFAULT_FALLBACKS: Tuple[Optional[str], ...] = ("postgres", "mysql", "sqlite", None)


@dataclass(frozen=True)
class ParsedSql:
    """The statements of a SQL text and the dialect that read them."""

    statements: Tuple[exp.Expression, ...]
    dialect: Optional[str]
    normalised: str


def normalise(text: str) -> str:
    """DB-API placeholder styles -> sqlglot-friendly ones (``%(name)s`` -> ``:name``; ``%s``,
    ``:1`` and ``$1`` -> ``?``, ``(?)`` before a ``::`` cast; ``%%`` -> ``%``); adjacent holes merged."""
    text = _PYFORMAT.sub(r":\1", text)
    text = _FORMAT.sub("?", text)
    text = _ORACLE.sub("?", text)
    text = _DOLLAR.sub("?", text)
    text = text.replace("%%", "%")
    text = _CAST_PLACEHOLDER.sub("(?)", text)
    return _ADJACENT_HOLES.sub(r"\1", text)


def _dialects(dialect: Optional[str]) -> List[Optional[str]]:
    order: List[Optional[str]] = [dialect] if dialect else []
    for fallback in DEFAULT_FALLBACKS:
        if fallback not in order:
            order.append(fallback)
    return order


@functools.lru_cache(maxsize=4096)
def parse_sql(text: str, dialect: Optional[str] = "postgres") -> Optional[ParsedSql]:
    """Parse ``text`` (placeholders normalised first); ``None`` when no dialect reads it.

    Statements that sqlglot only keeps as an opaque ``exp.Command`` are returned too;
    callers decide whether that is enough for them."""
    normalised = normalise(text)
    if not normalised.strip():
        return None
    import sqlglot
    from sqlglot.errors import ErrorLevel, SqlglotError

    for candidate in _dialects(dialect):
        try:
            parsed = sqlglot.parse(normalised, read=candidate, error_level=ErrorLevel.RAISE)
        except (SqlglotError, RecursionError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue
        statements = tuple(s for s in parsed if s is not None)
        if statements:
            return ParsedSql(statements, candidate, normalised)
    return None


def is_hole(node: exp.Expression) -> bool:
    """Whether a sqlglot node is (only) a placeholder for an f-string/format hole."""
    import sqlglot.expressions as exp

    if isinstance(node, (exp.Column, exp.Identifier, exp.Table)):
        return bool(_HOLE.fullmatch(node.name or ""))
    return False


def has_hole(text: str) -> bool:
    return bool(_HOLE.search(text))


def split_statements(text: str, dialect: Optional[str] = "postgres") -> List[Tuple[str, int, int]]:
    """Split a SQL script into ``(statement text, start line, end line)`` (1-based),
    honouring quotes, comments and dollar-quoted bodies via sqlglot's tokenizer."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except (SqlglotError, ValueError, KeyError, IndexError, TypeError, RecursionError):
        return _split_naive(text)
    out: List[Tuple[str, int, int]] = []
    start: Optional[int] = None
    last_end = 0
    for token in tokens:
        if token.token_type == sqlglot.TokenType.SEMICOLON:
            if start is not None:
                out.append(_piece(text, start, last_end))
            start = None
            continue
        if start is None:
            start = _token_start(text, token)
        last_end = token.end + 1
    if start is not None:
        out.append(_piece(text, start, last_end))
    return out


def _token_start(text: str, token: sqlglot.tokens.Token) -> int:
    return max(0, token.start)


def _piece(text: str, start: int, end: int) -> Tuple[str, int, int]:
    chunk = text[start:end]
    first = text.count("\n", 0, start) + 1
    last = first + chunk.count("\n")
    return chunk, first, last


def _split_naive(text: str) -> List[Tuple[str, int, int]]:
    out = []
    offset = 0
    for part in text.split(";"):
        if part.strip():
            lead = len(part) - len(part.lstrip())
            out.append(_piece(text, offset + lead, offset + len(part.rstrip())))
        offset += len(part) + 1
    return out


def statement_kinds(statements: Sequence[exp.Expression]) -> List[str]:
    return [type(s).__name__ for s in statements]

"""CPython's parser reads a file before LibCST does.

CPython's C parser is about ten times faster than LibCST's, so it is the cheap first
opinion on a file:

- it says at once whether the file is valid for the running interpreter (LibCST is
  asked only when it objects, since LibCST also reads syntax of other versions);
- it reports the hard limits no Python version accepts (``too many nested
  parentheses``) with CPython's own wording;
- it measures nesting (a chain of ``and`` or of comparisons counts as deep as LibCST
  sees it). LibCST's parser slows down super-linearly on long left-nested
  chains (a 2,000-term sum takes seconds, a 4,000-term one half a minute), so a file
  nested deeper than :data:`MAX_DEPTH` is reported as not analysed instead of
  stalling the run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import List, Optional, Tuple

from backendlint.engine.source import line_starts
from backendlint.types import Span

#: AST levels LibCST is asked to handle; a 1,000-level chain parses in well under a second.
MAX_DEPTH = 1000

#: CPython limits that hold for every version: such a file can never run.
_LIMIT_ERRORS = ("too many nested parentheses", "too many statically nested blocks", "too many nested")


@dataclass(frozen=True)
class Precheck:
    """CPython's verdict on a file's text."""

    #: A problem that no parser will overcome: the file is reported, never parsed.
    fatal: Optional[Tuple[Span, str]] = None
    #: CPython's syntax error (LibCST may still accept the file); ``None`` when valid.
    syntax_error: Optional[Tuple[Span, str]] = None


def precheck(text: str) -> Precheck:
    """Parse ``text`` with CPython and judge it; never raises."""
    try:
        tree = compile(text, "<file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):
        # CPython's parser gives up on very deep nesting with one of these (which one
        # depends on the version); LibCST would then need gigabytes and minutes.
        return Precheck(fatal=(Span(1, 1, 1, 1), "too deeply nested to analyse; file not checked"))
    except SyntaxError as err:
        line = err.lineno or 1
        column = max(err.offset or 1, 1)
        message = " ".join(str(err.msg).split())
        found = (Span(line, column, line, column), f"syntax error: {message}")
        if any(message.startswith(limit) for limit in _LIMIT_ERRORS):
            return Precheck(fatal=found)
        return Precheck(syntax_error=found)
    except ValueError as err:
        return Precheck(syntax_error=(Span(1, 1, 1, 1), f"syntax error: {' '.join(str(err).split())}"))
    deep = deepest_point(tree, text)
    if deep is not None:
        return Precheck(
            fatal=(
                Span(deep, 1, deep, 1),
                f"too deeply nested to analyse (more than {MAX_DEPTH} levels in one statement); file not checked",
            )
        )
    return Precheck()


def deepest_point(tree: ast.AST, text: str, limit: int = MAX_DEPTH) -> Optional[int]:
    """The line of a node nested deeper than ``limit``, or ``None``.

    A node's subtree cannot be deeper than its source is long (every level takes at
    least one character), so only statements longer than the remaining budget are
    descended into: on ordinary code this visits a handful of nodes per file."""
    starts: Optional[List[int]] = None
    stack: List[Tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None)
        if end_line is not None:
            line, column, end_column = node.lineno, node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
            if line == end_line:
                length = end_column - column
            else:
                if starts is None:
                    starts = line_starts(text)
                length = _offset(starts, end_line, end_column) - _offset(starts, line, column)
            if depth + length <= limit:
                continue
        below = depth + _levels(node)
        for child in ast.iter_child_nodes(node):
            stack.append((child, below))
    return None


def _levels(node: ast.AST) -> int:
    """Levels a node takes in LibCST's tree: ``a and b and c`` and ``a < b < c`` are
    one flat node for CPython but a chain of binary nodes for LibCST."""
    if isinstance(node, ast.BoolOp):
        return max(1, len(node.values) - 1)
    if isinstance(node, ast.Compare):
        return max(1, len(node.ops))
    return 1


def _offset(starts: List[int], line: int, column: int) -> int:
    base = starts[line] if line < len(starts) else starts[-1]
    return base + column

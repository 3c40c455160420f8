"""Positions of a few nodes, for the price of (part of) one code generation.

LibCST's ``PositionProvider`` records a range for every node of the module, which
costs several times the parse; findings need the places of a handful of nodes. This
module generates the module's code once, as the provider does, but computes lines and
columns lazily and only where a wanted node starts or ends, and stops as soon as the
last wanted node is placed. The ranges are the provider's (syntactic positions,
0-based columns): a node whose syntactic range is hoisted from its children
(``start_node``/``end_node``) gets them the same way.
"""

from __future__ import annotations

import contextlib
import re
from typing import ContextManager, Dict, Iterable, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

Point = Tuple[int, int]  # line (1-based), column (0-based)
Range = Tuple[Point, Point]

_NEWLINE = re.compile(r"\r\n?|\n")
_NOTHING = contextlib.nullcontext()


class _Done(Exception):
    """Every wanted node is placed: the rest of the module need not be generated."""


class _Record:
    """The syntactic range of one wanted node (``with state.record_syntactic_position``)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _State, node: cst.CSTNode, start_node: Optional[cst.CSTNode], end_node: Optional[cst.CSTNode]) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.start: Point = (0, 0)

    def __enter__(self) -> None:
        self.start = self.state.point()

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            state = self.state
            computed = state.computed
            start = computed[self.start_node][0] if self.start_node is not None else self.start
            end = computed[self.end_node][1] if self.end_node is not None else state.point()
            state.place(self.node, (start, end))


class _State(CodegenState):
    """Code generation that tracks positions only around wanted nodes."""

    def __init__(self, module: cst.Module, wanted: Iterable[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.wanted = set(wanted)
        self.left = len(self.wanted)  # wanted nodes not placed yet
        self.computed: Dict[cst.CSTNode, Range] = {}
        self.open: List[Tuple[cst.CSTNode, Point]] = []  # wanted nodes being generated
        self.seen = 0  # tokens already counted into line/column
        self.line = 1
        self.column = 0

    def point(self) -> Point:
        """The current position, counting the tokens added since the last call."""
        tokens = self.tokens
        count = len(tokens)
        if self.seen < count:
            chunk = "".join(tokens[self.seen : count])
            if "\r" in chunk:  # count as the provider does, token by token
                for token in tokens[self.seen : count]:
                    segments = _NEWLINE.split(token)
                    if len(segments) == 1:
                        self.column += len(token)
                    else:
                        self.line += len(segments) - 1
                        self.column = len(segments[-1])
            else:
                newlines = chunk.count("\n")
                if newlines:
                    self.line += newlines
                    self.column = len(chunk) - chunk.rfind("\n") - 1
                else:
                    self.column += len(chunk)
            self.seen = count
        return self.line, self.column

    def place(self, node: cst.CSTNode, where: Range) -> None:
        if node not in self.computed:
            self.left -= 1
        self.computed[node] = where

    def want(self, node: cst.CSTNode) -> None:
        if node not in self.wanted:
            self.wanted.add(node)
            self.left += 1

    # -- hooks of CodegenState --------------------------------------------------------
    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.wanted:
            self.open.append((node, self.point()))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if self.open and self.open[-1][0] is node:
            _, start = self.open.pop()
            if node not in self.computed:  # no syntactic range: the whole node
                self.place(node, (start, self.point()))
            if not self.open and self.left == 0:
                raise _Done

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> ContextManager[None]:
        if node not in self.wanted:
            return _NOTHING
        if start_node is not None:
            self.want(start_node)
        if end_node is not None:
            self.want(end_node)
        return _Record(self, node, start_node, end_node)

    def pop_trailing_newline(self) -> None:
        self.point()  # the provider counts the newline it removes
        super().pop_trailing_newline()


def positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> Dict[cst.CSTNode, Range]:
    """The syntactic ranges of ``nodes`` (nodes of ``module``), as ``PositionProvider``
    would give them; a node not found in the module is left out."""
    wanted = list(nodes)
    if not wanted:
        return {}
    state = _State(module, wanted)
    try:
        module._codegen(state)
    except _Done:
        pass
    return {node: state.computed[node] for node in wanted if node in state.computed}

"""The SQL text of a Python expression, as far as it can be known without running it.

``sql_text(node, ctx)`` reads string literals, implicit and ``+`` concatenation,
f-strings, ``str.format``, ``%`` interpolation, ``sep.join([...])`` and conditional
expressions between literals, and follows names through simple local bindings
(``q = f"..."; q += "..."``) and module-level constants. What cannot be known
becomes a *hole*: the sentinel ``__holeN__`` in the text (valid as a table, a
column or a value for sqlglot), with the expression that fills it kept in
:attr:`SqlText.holes`. Holes whose value is a known constant are folded into the
text and do not make the SQL dynamic.

The result is only a candidate: callers parse it (:meth:`SqlText.parse`) and treat a
text that does not parse as "not SQL".
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from backendlint.engine.names import string_value
from backendlint.sql.parse import ParsedSql, parse_sql

if TYPE_CHECKING:  # pragma: no cover
    from backendlint.api import RuleContext

#: How deep names and operands are followed; past it a value is unknown.
MAX_DEPTH = 16
#: Texts longer than this are not assembled further (generated giants are not queries).
MAX_LENGTH = 200_000

_SQL_START = re.compile(
    r"^\s*(?:\(\s*|--[^\n]*(?:\n\s*|$)|/\*.*?\*/\s*)*"
    r"(?:select|with|insert|update|delete|merge|replace|upsert|create|alter|drop|truncate|grant|revoke|"
    r"set|show|explain|analyze|vacuum|reindex|begin|commit|rollback|savepoint|release|lock|copy|call|exec|"
    r"execute|declare|do|comment|refresh|listen|notify|unlisten|pragma|attach|detach|values|table|use|describe|"
    r"cluster|prepare|deallocate|reset|discard|load|start|rename)\b",
    re.IGNORECASE | re.DOTALL,
)


def starts_like_sql(text: str) -> bool:
    """A cheap test: the text begins with a SQL keyword (after comments and parentheses)."""
    return bool(_SQL_START.match(text))


@dataclass(frozen=True)
class Hole:
    """A part of the SQL whose value is not a known constant."""

    #: The expression that fills it (``None`` for a part the reader could not see).
    node: Optional[cst.CSTNode]
    #: How it enters the string: ``fstring``, ``format``, ``percent``, ``concat``, ``join``.
    via: str


@dataclass(frozen=True)
class SqlText:
    """The SQL a Python expression evaluates to, with unknown parts as ``__holeN__``."""

    text: str
    holes: Tuple[Hole, ...] = ()
    #: How the string was built: literal, fstring, format, percent, concat, join, augassign.
    kinds: FrozenSet[str] = frozenset()
    #: The expression that was read (e.g. a sink's argument).
    node: Optional[cst.CSTNode] = None
    #: The expressions the text was written in, when reached through names.
    origins: Tuple[cst.CSTNode, ...] = ()

    @property
    def dynamic(self) -> bool:
        """Whether any part of the text is not a known constant."""
        return bool(self.holes)

    def parse(self, dialect: Optional[str] = "postgres") -> Optional[ParsedSql]:
        """The parsed statements, or ``None`` when the text is not SQL."""
        if not starts_like_sql(self.text):
            return None
        return parse_sql(self.text, dialect)


# A piece under construction: literal text or a hole.
_Piece = Union[str, Hole]


@dataclass
class _Value:
    pieces: List[_Piece] = field(default_factory=list)
    kinds: Set[str] = field(default_factory=set)
    origins: List[cst.CSTNode] = field(default_factory=list)

    def length(self) -> int:
        return sum(len(p) if isinstance(p, str) else 10 for p in self.pieces)


def sql_text(node: cst.CSTNode, ctx: Optional[RuleContext] = None) -> Optional[SqlText]:
    """The SQL text of ``node``, or ``None`` when it is not a string expression.

    ``ctx`` (a rule's context) lets names be followed through local bindings and module
    constants; without it only the expression itself is read."""
    value = _Reader(ctx).read(node, 0)
    if value is None:
        return None
    text_parts: List[str] = []
    holes: List[Hole] = []
    for piece in value.pieces:
        if isinstance(piece, str):
            text_parts.append(piece)
        else:
            holes.append(piece)
            text_parts.append(f"__hole{len(holes)}__")
    return SqlText("".join(text_parts), tuple(holes), frozenset(value.kinds), node, tuple(value.origins))


def constant_string(node: cst.CSTNode, ctx: Optional[RuleContext] = None) -> Optional[str]:
    """The value of a string expression whose every part is a known constant."""
    found = sql_text(node, ctx)
    return found.text if found is not None and not found.holes else None


class _Reader:
    def __init__(self, ctx: Optional[RuleContext]) -> None:
        self.ctx = ctx
        self.following: Set[int] = set()

    # -- entry ---------------------------------------------------------------------
    def read(self, node: cst.CSTNode, depth: int) -> Optional[_Value]:
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, cst.SimpleString):
            text = _simple(node)
            return None if text is None else _Value([text], {"literal"})
        if isinstance(node, cst.ConcatenatedString):
            return self._concatenated(node, depth)
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, depth)
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Add):
                return self._add(node, depth)
            if isinstance(node.operator, cst.Modulo):
                return self._percent(node, depth)
            return None
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        if isinstance(node, cst.IfExp):
            return self._ifexp(node, depth)
        if isinstance(node, (cst.Name, cst.Attribute)):
            return self._name(node, depth)
        return None

    # -- literals --------------------------------------------------------------------
    def _concatenated(self, node: cst.ConcatenatedString, depth: int) -> Optional[_Value]:
        left = self.read(node.left, depth + 1)
        right = self.read(node.right, depth + 1)
        if left is None or right is None:
            return None
        return _join_values([left, right])

    def _fstring(self, node: cst.FormattedString, depth: int) -> Optional[_Value]:
        prefix = node.start[: len(node.start) - len(node.end)]
        raw = "r" in prefix.lower()
        value = _Value(kinds={"fstring"})
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                value.pieces.append(_fstring_text(part.value, node.end, raw))
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            folded = self._constant(part.expression, depth) if part.format_spec is None and part.conversion is None else None
            value.pieces.append(folded if folded is not None else Hole(part.expression, "fstring"))
        return value

    # -- operators ---------------------------------------------------------------------
    def _add(self, node: cst.BinaryOperation, depth: int) -> Optional[_Value]:
        left = self.read(node.left, depth + 1)
        right = self.read(node.right, depth + 1)
        if left is None and right is None:
            return None
        parts = [
            side if side is not None else _Value([Hole(operand, "concat")])
            for side, operand in ((left, node.left), (right, node.right))
        ]
        joined = _join_values(parts)
        joined.kinds.add("concat")
        return joined

    def _percent(self, node: cst.BinaryOperation, depth: int) -> Optional[_Value]:
        template = self.read(node.left, depth + 1)
        if template is None or not all(isinstance(p, str) for p in template.pieces):
            return None
        text = "".join(template.pieces)  # type: ignore[arg-type]
        right = node.right
        named: Dict[str, cst.CSTNode] = {}
        positional: List[cst.CSTNode] = []
        if isinstance(right, cst.Dict):
            for element in right.elements:
                if isinstance(element, cst.DictElement):
                    key = _simple(element.key) if isinstance(element.key, cst.SimpleString) else None
                    if key is not None:
                        named[key] = element.value
        elif isinstance(right, cst.Tuple):
            positional = [e.value for e in right.elements]
        else:
            positional = [right]
        value = _Value(kinds=set(template.kinds) | {"percent"}, origins=list(template.origins))
        index = 0
        position = 0
        for match in _PERCENT_SPEC.finditer(text):
            value.pieces.append(text[position : match.start()])
            position = match.end()
            spec = match.group(0)
            if spec == "%%":
                value.pieces.append("%")
                continue
            key = match.group(1)
            target: Optional[cst.CSTNode]
            if key is not None:
                target = named.get(key)
            else:
                target = positional[index] if index < len(positional) else None
                index += 1
            folded = self._constant(target, depth) if target is not None else None
            value.pieces.append(folded if folded is not None else Hole(target, "percent"))
        value.pieces.append(text[position:])
        return value

    def _call(self, node: cst.Call, depth: int) -> Optional[_Value]:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method == "format":
            return self._format(node, depth)
        if method == "join" and len(node.args) == 1 and node.args[0].keyword is None:
            separator = self.read(func.value, depth + 1)
            if separator is None or not all(isinstance(p, str) for p in separator.pieces):
                return None
            return self._join("".join(separator.pieces), node.args[0].value, depth)  # type: ignore[arg-type]
        if method in ("strip", "lstrip", "rstrip") and not node.args:
            inner = self.read(func.value, depth + 1)
            if inner is not None and inner.pieces and all(isinstance(p, str) for p in inner.pieces):
                text = "".join(inner.pieces)  # type: ignore[arg-type]
                inner.pieces = [getattr(text, method)()]
            return inner
        return None

    def _format(self, node: cst.Call, depth: int) -> Optional[_Value]:
        template = self.read(node.func.value, depth + 1)  # type: ignore[attr-defined]
        if template is None or not all(isinstance(p, str) for p in template.pieces):
            return None
        text = "".join(template.pieces)  # type: ignore[arg-type]
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        value = _Value(kinds=set(template.kinds) | {"format"}, origins=list(template.origins))
        auto = 0
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError:
            return None
        for literal, field_name, spec, conversion in parsed:
            if literal:
                value.pieces.append(literal)
            if field_name is None:
                continue
            head = re.split(r"[.\[]", field_name, maxsplit=1)[0]
            target: Optional[cst.CSTNode]
            if head == "":
                target = positional[auto] if auto < len(positional) else None
                auto += 1
            elif head.isdigit():
                index = int(head)
                target = positional[index] if index < len(positional) else None
            else:
                target = named.get(head)
            simple = head == field_name and not spec and not conversion
            folded = self._constant(target, depth) if target is not None and simple else None
            value.pieces.append(folded if folded is not None else Hole(target, "format"))
        return value

    def _join(self, separator: str, iterable: cst.CSTNode, depth: int) -> _Value:
        if isinstance(iterable, (cst.List, cst.Tuple)) and all(
            isinstance(e, cst.Element) for e in iterable.elements
        ):
            parts: List[_Value] = []
            for index, element in enumerate(iterable.elements):
                if index:
                    parts.append(_Value([separator]))
                found = self.read(element.value, depth + 1)
                parts.append(found if found is not None else _Value([Hole(element.value, "join")]))
            joined = _join_values(parts) if parts else _Value([""])
            joined.kinds.add("join")
            return joined
        return _Value([Hole(iterable, "join")], {"join"})

    def _ifexp(self, node: cst.IfExp, depth: int) -> Optional[_Value]:
        body = self.read(node.body, depth + 1)
        orelse = self.read(node.orelse, depth + 1)
        if body is None or orelse is None:
            return None
        if body.pieces and orelse.pieces and all(isinstance(p, str) for p in [*body.pieces, *orelse.pieces]):
            return body  # both branches are constants: either is a fine sample of the SQL
        return _Value([Hole(node, "concat")], body.kinds | orelse.kinds)

    # -- names ---------------------------------------------------------------------------
    def _name(self, node: Union[cst.Name, cst.Attribute], depth: int) -> Optional[_Value]:
        ctx = self.ctx
        if ctx is None:
            return None
        name = _dotted(node)
        if name is None:
            return None
        bindings = ctx.bindings(name)
        if not bindings:
            return None
        # The last plain assignment, then the `+=` that followed it.
        start = None
        for index in range(len(bindings) - 1, -1, -1):
            if bindings[index].kind != "augassign":
                start = index
                break
        if start is None or bindings[start].kind not in ("assign", "annotation") or bindings[start].value is None:
            return None
        key = id(bindings[start].value)
        if key in self.following:
            return None
        self.following.add(key)
        try:
            base = self.read(bindings[start].value, depth + 1)  # type: ignore[arg-type]
            if base is None:
                return None
            base.origins.append(bindings[start].value)  # type: ignore[arg-type]
            parts = [base]
            for later in bindings[start + 1 :]:
                augment = later.value
                if not isinstance(augment, cst.AugAssign) or not isinstance(augment.operator, cst.AddAssign):
                    return None
                added = self.read(augment.value, depth + 1)
                parts.append(added if added is not None else _Value([Hole(augment.value, "concat")]))
            joined = _join_values(parts)
            if len(parts) > 1:
                joined.kinds.add("augassign")
            return joined if joined.length() <= MAX_LENGTH else None
        finally:
            self.following.discard(key)

    def _constant(self, node: Optional[cst.CSTNode], depth: int) -> Optional[str]:
        """The text of a hole whose value is a known constant (a literal, a number, or a
        name bound to one), else ``None``."""
        if node is None:
            return None
        if isinstance(node, (cst.Integer, cst.Float)):
            return node.value
        if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
            return node.value
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            inner = self._constant(node.expression, depth)
            return f"-{inner}" if inner is not None and inner[:1].isdigit() else None
        if isinstance(node, (cst.Name, cst.Attribute)) and self.ctx is not None:
            name = _dotted(node)
            found = self.ctx.binding(name) if name else None
            if found is not None and found.kind in ("assign", "annotation") and isinstance(found.value, (cst.Integer, cst.Float)):
                return found.value.value
        value = self.read(node, depth + 1)
        if value is not None and all(isinstance(p, str) for p in value.pieces):
            return "".join(value.pieces)  # type: ignore[arg-type]
        return None


_PERCENT_SPEC = re.compile(r"%%|%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?[diouxXeEfFgGcrsa]")


def _simple(node: cst.SimpleString) -> Optional[str]:
    return string_value(node)


def _fstring_text(raw_text: str, quote: str, raw: bool) -> str:
    """The value of an f-string's literal part (escapes and ``{{``/``}}`` undone)."""
    try:
        value = ast.literal_eval(("r" if raw else "") + quote + raw_text + quote)
    except (ValueError, SyntaxError, MemoryError):
        value = raw_text
    return str(value).replace("{{", "{").replace("}}", "}")


def _join_values(values: Sequence[_Value]) -> _Value:
    out = _Value()
    for value in values:
        for piece in value.pieces:
            if isinstance(piece, str) and out.pieces and isinstance(out.pieces[-1], str):
                out.pieces[-1] += piece
            else:
                out.pieces.append(piece)
        out.kinds |= value.kinds
        out.origins.extend(value.origins)
    return out


def _dotted(node: cst.CSTNode) -> Optional[str]:
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None

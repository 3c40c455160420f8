"""Where each ``__holeN__`` of string-built SQL sits in the parsed statement: a value, an
identifier, an ORDER BY term or a whole condition, so that a message can name the right fix."""

from __future__ import annotations

import re
from typing import Dict, Sequence

import sqlglot.expressions as exp

_HOLE = re.compile(r"__hole(\d+)__")

VALUE, IDENTIFIER, ORDER, CLAUSE = "value", "identifier", "order", "clause"


def hole_roles(statements: Sequence[exp.Expression], text: str = "") -> Dict[int, str]:
    """``{hole number: role}``: a ``value`` (a literal, a comparison's right side, VALUES,
    IN, LIMIT), an ``identifier`` (table, column), an ``order`` term or a whole ``clause``.
    Holes the parse does not show (a keyword position such as ``BEGIN {mode}``) are a
    ``value`` inside quotes of ``text`` and an ``identifier`` outside."""
    roles: Dict[int, str] = {}
    for match in _HOLE.finditer(text):
        quoted = text.count("'", 0, match.start()) % 2 == 1
        roles[int(match.group(1))] = VALUE if quoted else IDENTIFIER
    found: Dict[int, str] = {}
    for statement in statements:
        if isinstance(statement, exp.Command):
            _command_roles(statement, found)
            continue
        for node in statement.walk():
            if isinstance(node, exp.Literal) and node.is_string:
                for match in _HOLE.finditer(node.this):
                    found.setdefault(int(match.group(1)), VALUE)
            elif isinstance(node, (exp.Identifier, exp.Var, exp.Placeholder)):
                match = _HOLE.search(str(node.this or node.name or ""))
                if match:
                    found.setdefault(int(match.group(1)), _role_of(node))
    roles.update(found)
    return roles


def _command_roles(statement: exp.Command, roles: Dict[int, str]) -> None:
    text = statement.sql()
    for match in _HOLE.finditer(text):
        before = text[: match.start()]
        quoted = before.count("'") % 2 == 1
        roles.setdefault(int(match.group(1)), VALUE if quoted else IDENTIFIER)


def _role_of(node: exp.Expression) -> str:
    child = node
    parent = node.parent
    while parent is not None:
        key = child.arg_key
        if isinstance(parent, (exp.Ordered, exp.Order)):
            return ORDER
        if isinstance(parent, (exp.Limit, exp.Offset, exp.Fetch, exp.Values)):
            return VALUE
        if isinstance(parent, exp.In) and key == "expressions":
            return VALUE
        if isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
            return VALUE
        if isinstance(parent, (exp.Where, exp.Having, exp.Join)) or isinstance(parent, exp.Connector):
            return CLAUSE if isinstance(child, exp.Column) else IDENTIFIER
        if isinstance(parent, exp.Binary) and key == "expression":
            return VALUE
        if isinstance(parent, (exp.Binary, exp.Table, exp.Select, exp.Create, exp.Drop, exp.Group)):
            return IDENTIFIER
        child, parent = parent, parent.parent
    return IDENTIFIER

"""SQL text in the n-plus-one rule: what kind of statement a call sends, whether it
is a bounded page (a batching loop), and whether the loop variables enter it as
values (a query per row) or as identifiers (one statement per table)."""

from __future__ import annotations

import re
from typing import FrozenSet, Optional

import libcst as cst
from backendlint_rules._loop_facts import depends_on

from backendlint.api import RuleContext
from backendlint.sql.extract import SqlText, sql_text

_LEADING = re.compile(r"^\s*(?:\(\s*|--[^\n]*\n\s*|/\*.*?\*/\s*)*(\w+)", re.DOTALL)
_BOUNDED = re.compile(r"\blimit\b|\bfetch\s+(?:first|next)\b|\btop\s*\(?\s*\d", re.IGNORECASE)
_HOLE = re.compile(r"__hole(\d+)__")
_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)
#: Statements that read or write rows; anything else (DDL, SET, LOCK, VACUUM...) run in a
#: loop is maintenance, not an N+1.
READS = frozenset({"select", "with", "values", "table", "show", "call", "exec", "execute"})
WRITES = frozenset({"insert", "update", "delete", "replace", "merge", "upsert"})
_VALUE_BEFORE = re.compile(
    r"(?:[=<>+\-*/%]|\|\||!=|\b(?:in|like|ilike|between|values|limit|offset|any|then|else|when|is|not|escape)\s*\(?)\s*$",
    re.IGNORECASE,
)
_LIST_BEFORE = re.compile(r"[(,]\s*$")
SQLALCHEMY_TEXT = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"})
SQLALCHEMY_DML = {
    "sqlalchemy.insert": "insert", "sqlalchemy.update": "update", "sqlalchemy.delete": "delete",
    "sqlalchemy.sql.insert": "insert", "sqlalchemy.sql.update": "update", "sqlalchemy.sql.delete": "delete",
    "sqlalchemy.dialects.postgresql.insert": "insert", "sqlalchemy.dialects.mysql.insert": "insert",
    "sqlalchemy.dialects.sqlite.insert": "insert", "sqlmodel.insert": "insert", "sqlmodel.update": "update",
    "sqlmodel.delete": "delete",
}


def statement_kind(text: Optional[SqlText]) -> str:
    """``read``, ``write``, ``other`` (DDL/utility) or ``unknown`` (no text)."""
    if text is None:
        return "unknown"
    found = _LEADING.match(text.text)
    if found is None:
        return "unknown"
    word = found.group(1).lower()
    if word.startswith("__hole"):
        return "unknown"
    if word == "select" and not _FROM.search(text.text):
        return "other"  # SELECT load_extension(?), SELECT set_config(...): a function call, no rows
    if word in READS:
        return "read"
    if word in WRITES:
        return "write"
    return "other"


def bounded(text: Optional[SqlText]) -> bool:
    return text is not None and bool(_BOUNDED.search(text.text))


def unwrap_text(node: cst.CSTNode, ctx: RuleContext) -> cst.CSTNode:
    """``text(sql)`` / ``str(sql)`` / ``sql.SQL(sql)`` -> ``sql``."""
    for _ in range(3):
        if isinstance(node, cst.Call) and node.args:
            name = ctx.qualname(node.func) or ""
            if name in SQLALCHEMY_TEXT or name in ("builtins.str", "psycopg.sql.SQL", "psycopg2.sql.SQL"):
                node = node.args[0].value
                continue
        break
    return node


def dml_kind(node: cst.CSTNode, ctx: RuleContext, depth: int = 0) -> str:
    """``insert``/``update``/``delete`` for an SQLAlchemy DML construct, else ``""``."""
    current = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        if current.func.attr.value in ("insert", "update", "delete") and isinstance(
            current.func.value, (cst.Name, cst.Attribute)
        ):
            return current.func.attr.value  # users_table.insert()
        current = current.func.value
    if isinstance(current, cst.Call):
        return SQLALCHEMY_DML.get(ctx.qualname(current.func) or "", "")
    if isinstance(current, cst.Name) and depth < 3:
        bindings = ctx.bindings(current.value)
        if bindings and bindings[-1].kind == "assign" and bindings[-1].value is not None:
            return dml_kind(bindings[-1].value, ctx, depth + 1)
    return ""


def _root_name(node: cst.CSTNode) -> Optional[str]:
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def statement_dependence(sql: cst.CSTNode, names: FrozenSet[str], ctx: RuleContext, depth: int = 0) -> Optional[bool]:
    """How the SQL argument of a call depends on loop variables: ``True`` (they enter it
    as values: one query per row), ``False`` (not at all) or ``None`` (the statement
    itself comes from the loop: a list of statements, or one statement per table)."""
    core = unwrap_text(sql, ctx)
    if isinstance(core, (cst.Name, cst.Attribute, cst.Subscript)) and _root_name(core) in names:
        return None
    template = _template(core)
    if template is not None and isinstance(template, (cst.Name, cst.Attribute, cst.Subscript)) and (
        _root_name(template) in names
    ):
        return None  # template % params / template.format(...) with the template from the loop
    text = sql_text(core, ctx)
    if text is not None:
        literal = _HOLE.sub("", text.text).strip()
        if not literal:
            return None if depends_on(core, names, ctx) else False
        verdict: Optional[bool] = False
        for index, hole in enumerate(text.holes, start=1):
            if hole.node is None or not depends_on(hole.node, names, ctx):
                continue
            if _value_hole(text.text, index, hole.node):
                return True
            verdict = None
        return verdict
    if isinstance(core, cst.Name) and depth < 3:
        bindings = ctx.bindings(core.value)
        if bindings and bindings[-1].kind == "assign" and bindings[-1].value is not None:
            return statement_dependence(bindings[-1].value, names, ctx, depth + 1)
    return depends_on(core, names, ctx)


def _template(node: cst.CSTNode) -> Optional[cst.CSTNode]:
    """The template of ``template % values`` or ``template.format(...)``."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return node.left
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        return node.func.value
    return None


def _value_hole(text: str, index: int, node: cst.CSTNode) -> bool:
    """Whether hole ``index`` stands where SQL takes a value (``= {x}``, ``'{x}'``,
    ``IN ({x})``) rather than a name (``FROM {table}``)."""
    marker = f"__hole{index}__"
    position = text.find(marker)
    if position < 0:
        return False
    before = text[:position]
    if before.endswith("'"):
        return True
    if before.rstrip().endswith(('"', "`", ".")):
        return False
    if _VALUE_BEFORE.search(before):
        return True
    row_data = isinstance(node, (cst.Subscript, cst.Attribute)) or (
        isinstance(node, cst.Call) and node.args and isinstance(node.args[0].value, (cst.Subscript, cst.Attribute))
    )
    return bool(_LIST_BEFORE.search(before)) and row_data

"""Schema operations read from SQL text (``.sql`` files, Django ``RunSQL``, Alembic
``op.execute``) with sqlglot: CREATE TABLE (primary keys, UNIQUE column and table
constraints, MySQL inline indexes), CREATE [UNIQUE] INDEX ... USING ... (...) WHERE ...,
ALTER TABLE ADD/DROP/RENAME, DROP INDEX / DROP TABLE."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from backendlint.project.schema_state import column, index
from backendlint.sql.parse import parse_sql, split_statements

if TYPE_CHECKING:  # pragma: no cover
    import sqlglot
    import sqlglot.expressions as exp
    from sqlglot.errors import SqlglotError


def _load_sqlglot() -> None:
    """Import sqlglot on first use (the entry points call this): a project whose files
    hold no SQL never pays for it."""
    global sqlglot, exp, SqlglotError
    import sqlglot
    import sqlglot.expressions as exp
    from sqlglot.errors import SqlglotError

#: Only DDL is parsed; data (INSERT, COPY) and queries are skipped unread.
_DDL = re.compile(
    r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*"
    r"(?:create\s+(?:unique\s+)?index|create\s+(?:(?:global\s+|local\s+)?(?:temp|temporary)\s+|unlogged\s+)?table"
    r"|alter\s+table|drop\s+(?:index|table))\b",
    re.IGNORECASE | re.DOTALL,
)
_INTERESTING = re.compile(r"\b(?:table|index|key|constraint)\b", re.IGNORECASE)


def read_script(text: str, dialect: str, relpath: str, line_offset: int = 0, label: str = "") -> List[Dict[str, Any]]:
    """The schema operations of a SQL script, in order."""
    if not _INTERESTING.search(text):
        return []
    _load_sqlglot()
    ops: List[Dict[str, Any]] = []
    chunks: List[Tuple[str, int, int]]
    if ";" not in text.strip().rstrip(";"):
        chunks = [(text, 1, 1 + text.count("\n"))]
    else:
        chunks = split_statements(text, dialect)
    for chunk, first, _ in chunks:
        if not _DDL.match(chunk):
            continue
        parsed = parse_sql(chunk, dialect)
        if parsed is None:
            continue
        lead = len(chunk) - len(chunk.lstrip())
        line = first + chunk[:lead].count("\n") + line_offset
        source = f"{relpath}:{line}" + (f" {label}" if label else "")
        for statement in parsed.statements:
            ops.extend(statement_ops(statement, source, dialect))
    return ops


def _name(node: Optional[exp.Expression]) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Table):
        return (node.name or "").lower()
    return (getattr(node, "name", "") or "").lower()


def statement_ops(statement: exp.Expression, source: str, dialect: str = "postgres") -> List[Dict[str, Any]]:
    _load_sqlglot()
    if isinstance(statement, exp.Create):
        kind = (statement.args.get("kind") or "").upper()
        if kind == "INDEX":
            found = _create_index(statement, source)
            return [{"op": "index", "index": found, "source": source}] if found else []
        if kind == "TABLE" and isinstance(statement.this, exp.Schema):
            return [_create_table(statement.this, source, dialect)]
        return []
    if isinstance(statement, exp.Alter) and (statement.args.get("kind") or "TABLE").upper() == "TABLE":
        return _alter_table(statement, source)
    if isinstance(statement, exp.Drop):
        kind = (statement.args.get("kind") or "").upper()
        names = [t for t in statement.args.get("tables") or [] if isinstance(t, exp.Table)]
        if kind == "INDEX":
            return [{"op": "drop_index", "name": _name(t), "table": ""} for t in names]
        if kind == "TABLE":
            return [{"op": "drop_table", "table": _name(t)} for t in names]
    return []


def _item(node: exp.Expression) -> Tuple[str, bool, bool, str, str]:
    """(text, is expression, descending, referenced column, opclass) of an index item."""
    descending = False
    opclass = ""
    if isinstance(node, exp.Ordered):
        descending = bool(node.args.get("desc"))
        node = node.this
    if isinstance(node, exp.Opclass):
        opclass = _name(node.expression)
        node = node.this
    if isinstance(node, (exp.Column, exp.Identifier)):
        name = node.name.lower()
        return name, False, descending, name, opclass
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.Expression):
        node = node.this
    if isinstance(node, exp.Anonymous) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Literal):
        # MySQL prefix index ``a(10)``: the column itself
        name = str(node.this).lower()
        return name, False, descending, name, opclass
    refs = sorted({c.name.lower() for c in node.find_all(exp.Column)})
    text = node.sql(dialect="postgres").lower()
    return text, True, descending, refs[0] if len(refs) == 1 else "", opclass


def _create_index(statement: exp.Create, source: str) -> Optional[Dict[str, Any]]:
    target = statement.this
    if not isinstance(target, exp.Index):
        return None
    table = _name(target.args.get("table"))
    params = target.args.get("params")
    if not table or params is None:
        return None
    items = [_item(c) for c in params.args.get("columns") or []]
    if not items:
        return None
    using = params.args.get("using")
    method = (using.name if isinstance(using, exp.Expression) else str(using or "btree")).lower() or "btree"
    unique = bool(statement.args.get("unique"))
    partial = params.args.get("where") is not None
    label = ("CREATE UNIQUE INDEX" if unique else "CREATE INDEX") + (" partial" if partial else "")
    return index(
        table,
        [i[0] for i in items],
        unique=unique,
        partial=partial,
        method=method,
        expressions=[i[1] for i in items],
        descending=[i[2] for i in items],
        references=[i[3] for i in items],
        opclasses=[i[4] for i in items if i[4]],
        name=_name(target.this) if target.this is not None else "",
        source=f"{source} {label}",
    )


def _names(node: Optional[exp.Expression]) -> List[str]:
    if node is None:
        return []
    if isinstance(node, exp.Schema):
        return [_name(e) for e in node.expressions]
    return [_name(e) for e in node.expressions] if hasattr(node, "expressions") else []


def _constraint_index(table: str, node: exp.Expression, name: str, source: str) -> Optional[Dict[str, Any]]:
    if isinstance(node, exp.PrimaryKey):
        columns = [_name(e) for e in node.expressions]
        return index(table, columns, unique=True, name=name or f"{table}_pkey", source=f"{source} PRIMARY KEY") if columns else None
    if isinstance(node, exp.UniqueColumnConstraint):
        columns = _names(node.this)
        return index(table, columns, unique=True, name=name, source=f"{source} UNIQUE") if columns else None
    if isinstance(node, exp.IndexColumnConstraint):
        columns = [_name(e) for e in node.expressions]
        own = _name(node.this) if node.this is not None else ""
        return index(table, columns, name=own or name, source=f"{source} INDEX") if columns else None
    return None


def _column_ops(table: str, definition: exp.ColumnDef, source: str, dialect: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    name = definition.name.lower()
    kind = definition.args.get("kind")
    type_ = kind.sql(dialect="postgres").lower() if isinstance(kind, exp.Expression) else ""
    primary = unique = False
    nullable = True
    indexes: List[Dict[str, Any]] = []
    for constraint in definition.args.get("constraints") or []:
        inner = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        if isinstance(inner, exp.PrimaryKeyColumnConstraint):
            primary, nullable = True, False
            indexes.append(index(table, [name], unique=True, name=f"{table}_pkey", source=f"{source} PRIMARY KEY"))
        elif isinstance(inner, exp.UniqueColumnConstraint):
            unique = True
            indexes.append(index(table, [name], unique=True, source=f"{source} UNIQUE"))
        elif isinstance(inner, exp.NotNullColumnConstraint):
            nullable = bool(inner.args.get("allow_null"))
        elif isinstance(inner, exp.Reference) and dialect == "mysql":
            indexes.append(index(table, [name], source=f"{source} REFERENCES (InnoDB)"))
    if "serial" in type_ and not primary:
        nullable = False
    return column(name, type_, nullable, primary, unique or primary), indexes


def _create_table(schema: exp.Schema, source: str, dialect: str) -> Dict[str, Any]:
    table = _name(schema.this)
    columns: List[Dict[str, Any]] = []
    indexes: List[Dict[str, Any]] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            col, found = _column_ops(table, item, source, dialect)
            columns.append(col)
            indexes.extend(found)
            continue
        name = ""
        parts = [item]
        if isinstance(item, exp.Constraint):
            name = _name(item.this)
            parts = list(item.expressions)
        for part in parts:
            found_index = _constraint_index(table, part, name, source)
            if found_index is not None:
                indexes.append(found_index)
    pk = [i for i in indexes if i["source"].endswith("PRIMARY KEY")]
    for i in pk:
        for col in columns:
            if col["name"] in i["columns"]:
                col["primary_key"], col["nullable"] = True, False
    return {"op": "table", "table": table, "columns": columns, "indexes": indexes, "source": source}


def _alter_table(statement: exp.Alter, source: str) -> List[Dict[str, Any]]:
    table = _name(statement.this)
    ops: List[Dict[str, Any]] = []
    for action in statement.args.get("actions") or []:
        if isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                name = _name(constraint.this) if isinstance(constraint, exp.Constraint) else ""
                parts = constraint.expressions if isinstance(constraint, exp.Constraint) else [constraint]
                for part in parts:
                    found = _constraint_index(table, part, name, source)
                    if found is not None:
                        ops.append({"op": "index", "index": found, "source": source})
        elif isinstance(action, exp.ColumnDef):
            col, found = _column_ops(table, action, source, "postgres")
            ops.append({"op": "column", "table": table, "column": col, "indexes": found})
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for target in action.args.get("tables") or []:
                ops.append({"op": "drop_column", "table": table, "column": _name(target)})
        elif isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            ops.append({"op": "rename_table", "table": table, "new": _name(action.this)})
        elif isinstance(action, exp.RenameColumn):
            ops.append({"op": "rename_column", "table": table, "column": _name(action.this), "new": _name(action.args.get("to"))})
    return ops


def expression_item(text: str) -> Optional[Tuple[str, bool, str]]:
    """(text, is expression, referenced column) of an index item given as SQL text
    (Alembic ``sa.text("lower(email)")``); ``None`` when it does not parse."""
    _load_sqlglot()
    try:
        select = sqlglot.parse_one(f"SELECT {text}", read="postgres")
    except (SqlglotError, ValueError, RecursionError):
        return None
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return None
    found = _item(select.expressions[0])
    return found[0], found[1], found[3]

"""Alembic revision files: ``op.*`` calls in ``upgrade()`` -> changes.

A revision module assigns ``revision`` and ``down_revision`` at module level, defines
``upgrade()`` and imports ``op`` from ``alembic``. Calls inside
``with op.get_context().autocommit_block():`` run outside the migration's transaction;
``with op.batch_alter_table("t") as batch_op:`` binds ``batch_op`` to table ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import libcst as cst
from backendlint_rules._migrations_cst import assignment, named_arguments, string
from backendlint_rules._migrations_model import Change
from backendlint_rules._migrations_sql import SqlState, bare, classify, statements_of

from backendlint.api import RuleContext, dotted_name

#: ``op.<name>`` positional parameters (Alembic 1.x).
OP_SIGNATURES: Dict[str, Tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("old_table_name", "new_table_name"),
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "execute": ("sqltext",),
}
#: ``batch_op.<name>`` positional parameters: the table comes from the ``with``.
BATCH_SIGNATURES: Dict[str, Tuple[str, ...]] = {
    "add_column": ("column",),
    "drop_column": ("column_name",),
    "alter_column": ("column_name",),
    "create_index": ("index_name", "columns"),
    "drop_index": ("index_name",),
    "create_foreign_key": ("constraint_name", "referent_table", "local_cols", "remote_cols"),
    "create_check_constraint": ("constraint_name", "condition"),
    "create_unique_constraint": ("constraint_name", "columns"),
    "create_primary_key": ("constraint_name", "columns"),
    "execute": ("sqltext",),
}
TEXT_CONSTRUCTS = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlalchemy.sql.elements.text"})
#: SQLAlchemy types a column can usually be changed to without a rewrite (varchar/numeric
#: widening); with the old type unknown, a change to one of these is not judged.
MAYBE_WIDENING_TYPES = frozenset({"String", "Text", "Unicode", "UnicodeText", "VARCHAR", "TEXT", "Numeric", "NUMERIC", "DECIMAL", "CITEXT"})
STRING_TYPES = frozenset({"String", "Unicode", "VARCHAR", "NVARCHAR"})
TEXT_TYPES = frozenset({"Text", "UnicodeText", "TEXT"})
NUMERIC_TYPES = frozenset({"Numeric", "NUMERIC", "DECIMAL"})
VOLATILE_FUNCTIONS = frozenset({"gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1", "random", "clock_timestamp", "timeofday", "nextval"})


@dataclass
class Revision:
    """The parts of an Alembic revision module the rules read."""

    upgrade: Optional[cst.FunctionDef] = None
    downgrade: Optional[cst.FunctionDef] = None
    initial: bool = False
    has_revision: bool = False
    has_down_revision: bool = False


def find_revision(module: cst.Module) -> Optional[Revision]:
    found = Revision()
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value in ("upgrade", "downgrade"):
            setattr(found, statement.name.value, statement)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                target, value = assignment(small)
                if target == "revision":
                    found.has_revision = True
                elif target == "down_revision":
                    found.has_down_revision = True
                    found.initial = isinstance(value, cst.Name) and value.value == "None"
    if found.upgrade is None or not (found.has_revision and found.has_down_revision):
        return None
    return found if _imports_op(module) else None


def _imports_op(module: cst.Module) -> bool:
    """``from alembic import op`` (or ``import alembic.op``) at module level."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and dotted_name(small.module or cst.Name("_")) == "alembic":
                if not isinstance(small.names, cst.ImportStar) and any(dotted_name(a.name) == "op" for a in small.names):
                    return True
            if isinstance(small, cst.Import) and any(dotted_name(a.name) == "alembic.op" for a in small.names):
                return True
    return False


def is_empty(function: Optional[cst.FunctionDef]) -> bool:
    """A body of only ``pass``, ``...``, docstrings and comments."""
    if function is None:
        return True
    body = function.body
    lines = body.body if isinstance(body, cst.IndentedBlock) else [body]
    for line in lines:
        smalls = line.body if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else None
        if smalls is None:
            return False
        for small in smalls:
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)):
                continue
            return False
    return True


@dataclass
class _Call:
    node: cst.Call
    name: str
    args: Dict[str, cst.BaseExpression]
    table: str = ""
    autocommit: bool = False


class _Collector(cst.CSTVisitor):
    """The ``op``/``batch_op`` calls of a function body, in source order."""

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.calls: List[_Call] = []
        self.autocommit = 0
        self.batches: Dict[str, str] = {}
        self._opened: List[int] = []

    def visit_With(self, node: cst.With) -> None:
        opened = 0
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                continue
            if call.func.attr.value == "autocommit_block":
                opened += 1
            elif self.ctx.qualname(call.func) == "alembic.op.batch_alter_table" and call.args:
                table = _string(call.args[0].value)
                if item.asname is not None and isinstance(item.asname.name, cst.Name) and table:
                    self.batches[item.asname.name.value] = table
        self.autocommit += opened
        self._opened.append(opened)

    def leave_With(self, original_node: cst.With) -> None:
        self.autocommit -= self._opened.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        qual = self.ctx.qualname(func) or ""
        if qual == f"alembic.op.{method}" and method in OP_SIGNATURES:
            self.calls.append(_Call(node, method, named_arguments(node, OP_SIGNATURES[method]), autocommit=self.autocommit > 0))
            return
        receiver = dotted_name(func.value)
        if receiver in self.batches and method in BATCH_SIGNATURES:
            call = _Call(node, method, named_arguments(node, BATCH_SIGNATURES[method]), self.batches[receiver], self.autocommit > 0)
            self.calls.append(call)


def _string(node: Optional[cst.CSTNode]) -> str:
    return string(node) or ""


def _true(node: Optional[cst.CSTNode]) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _false(node: Optional[cst.CSTNode]) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


@dataclass
class _Column:
    name: str
    not_null: bool = False
    server_default: Optional[cst.BaseExpression] = None
    foreign_key: str = ""
    unique: bool = False
    index: bool = False
    primary_key: bool = False
    generated: str = ""


def _column(ctx: RuleContext, node: Optional[cst.CSTNode]) -> Optional[_Column]:
    """An ``sa.Column(...)`` argument."""
    if not isinstance(node, cst.Call) or (ctx.qualname(node.func) or dotted_name(node.func) or "").rsplit(".", 1)[-1] != "Column":
        return None
    positional = [a.value for a in node.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    column = _Column(_string(positional[0]) if positional else _string(keywords.get("name")))
    column.primary_key = _true(keywords.get("primary_key"))
    column.not_null = _false(keywords.get("nullable")) or (column.primary_key and "nullable" not in keywords)
    column.server_default = keywords.get("server_default")
    column.unique = _true(keywords.get("unique"))
    column.index = _true(keywords.get("index"))
    for value in positional[1:]:
        if not isinstance(value, cst.Call):
            continue
        kind = (ctx.qualname(value.func) or dotted_name(value.func) or "").rsplit(".", 1)[-1]
        if kind == "ForeignKey":
            column.foreign_key = _string(value.args[0].value) if value.args else "?"
        elif kind == "Computed" and not any(a.keyword and a.keyword.value == "persisted" and _false(a.value) for a in value.args):
            column.generated = "sa.Computed"
        elif kind == "Identity":
            column.generated = "sa.Identity"
    return column


def _type_of(ctx: RuleContext, node: Optional[cst.CSTNode]) -> Tuple[str, List[int]]:
    """``sa.String(50)`` -> ("String", [50]); ``postgresql.JSONB()`` -> ("JSONB", [])."""
    if node is None:
        return "", []
    call = node if isinstance(node, cst.Call) else None
    target = call.func if call is not None else node
    name = (ctx.qualname(target) or dotted_name(target) or "").rsplit(".", 1)[-1]
    params: List[int] = []
    if call is not None:
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value in ("length", "precision", "scale"):
                if isinstance(arg.value, cst.Integer):
                    params.append(int(arg.value.evaluated_value))
    return name, params


def _widening(old: Tuple[str, List[int]], new: Tuple[str, List[int]]) -> Optional[bool]:
    """Whether an ``alter_column(type_=...)`` is a safe widening; ``None`` when the old
    type is unknown."""
    (old_name, old_params), (new_name, new_params) = old, new
    if not old_name:
        return None if new_name in MAYBE_WIDENING_TYPES else False
    if old_name == new_name and old_params == new_params:
        return True
    if old_name in STRING_TYPES and (new_name in TEXT_TYPES or (new_name in STRING_TYPES and not new_params)):
        return True
    if old_name in STRING_TYPES and new_name in STRING_TYPES:
        return bool(old_params) and new_params[0] >= old_params[0]
    if old_name in NUMERIC_TYPES and new_name in NUMERIC_TYPES:
        if not new_params:
            return True
        return len(old_params) == 2 and len(new_params) == 2 and new_params[1] == old_params[1] and new_params[0] >= old_params[0]
    return False


def _volatile(ctx: RuleContext, node: Optional[cst.CSTNode], sql_text: Callable[[cst.CSTNode], Optional[str]]) -> str:
    """The volatile function a ``server_default`` calls, or ``""``."""
    if node is None:
        return ""
    if isinstance(node, cst.Call):
        qual = ctx.qualname(node.func) or dotted_name(node.func) or ""
        if qual in TEXT_CONSTRUCTS or qual.rsplit(".", 1)[-1] == "text":
            text = sql_text(node.args[0].value) if node.args else None
            name = (text or "").strip().split("(", 1)[0].strip().lower()
            return name if name in VOLATILE_FUNCTIONS else ""
        last = qual.rsplit(".", 1)[-1]
        if ".func." in f".{qual}" and last.lower() in VOLATILE_FUNCTIONS:
            return last.lower()
    return ""


@dataclass
class AlembicReader:
    ctx: RuleContext
    revision: Revision
    sql_text: Callable[[cst.CSTNode], Optional[str]]
    dialect: str
    changes: List[Change] = field(default_factory=list)
    sql: SqlState = field(default_factory=SqlState)

    def read(self) -> List[Change]:
        if self.revision.upgrade is None:
            return []
        collector = _Collector(self.ctx)
        self.revision.upgrade.body.visit(collector)
        for call in collector.calls:
            handler = getattr(self, f"_{call.name}", None)
            if handler is not None:
                handler(call, call.table or _string(call.args.get("table_name") or call.args.get("source_table")))
        return self.changes

    def _add(self, kind: str, call: _Call, table: str, column: str = "", detail: str = "", node: Optional[cst.CSTNode] = None) -> None:
        label = f"{'batch_op' if call.table else 'op'}.{call.name}"
        self.changes.append(Change(kind, "alembic", label, node=node or call.node, table=table, column=column, detail=detail))

    def _new(self, table: str) -> bool:
        return self.sql.is_new(table)

    def _altered(self, table: str) -> None:
        if table and not self._new(table):
            self.sql.altered.add(bare(table))

    # -- op.* -------------------------------------------------------------------------------
    def _create_table(self, call: _Call, table: str) -> None:
        if table:
            self.sql.tables.add(bare(table))

    def _drop_table(self, call: _Call, table: str) -> None:
        if not self._new(table):
            self._add("drop_table", call, table)
            self._altered(table)

    def _rename_table(self, call: _Call, table: str) -> None:
        old, new = _string(call.args.get("old_table_name")), _string(call.args.get("new_table_name"))
        if self._new(old):
            self.sql.tables.add(bare(new))
            return
        self._add("rename_table", call, old, "", new)
        self._altered(old)

    def _add_column(self, call: _Call, table: str) -> None:
        column = _column(self.ctx, call.args.get("column"))
        if column is None or self._new(table):
            return
        self._altered(table)
        self.sql.new_columns.add((bare(table), column.name.lower()))
        if column.generated:
            self._add("rewrite_column", call, table, column.name, column.generated)
        volatile = _volatile(self.ctx, column.server_default, self.sql_text)
        if volatile:
            self._add("volatile_default", call, table, column.name, f"{volatile}()")
        if column.not_null and column.server_default is None and not column.generated:
            self._add("add_required_column", call, table, column.name)
        if column.foreign_key:
            self._add("add_foreign_key", call, table, column.name, column.foreign_key)
        if column.primary_key:
            self._add("add_primary_key", call, table, column.name)
        elif column.unique:
            self._add("add_unique", call, table, column.name)
        elif column.index:
            self._add("create_index", call, table, column.name)

    def _drop_column(self, call: _Call, table: str) -> None:
        column = _string(call.args.get("column_name"))
        if not self._new(table) and (bare(table), column.lower()) not in self.sql.new_columns:
            self._add("drop_column", call, table, column)
            self._altered(table)

    def _alter_column(self, call: _Call, table: str) -> None:
        if self._new(table):
            return
        column = _string(call.args.get("column_name"))
        args = call.args
        self._altered(table)
        new_name = _string(args.get("new_column_name"))
        if new_name and (bare(table), column.lower()) in self.sql.new_columns:
            self.sql.new_columns.add((bare(table), new_name.lower()))
        elif new_name:
            self._add("rename_column", call, table, column, new_name)
        if "type_" in args:
            old, new = _type_of(self.ctx, args.get("existing_type")), _type_of(self.ctx, args.get("type_"))
            using = "postgresql_using" in args
            safe = _widening(old, new)
            if using or safe is False:
                detail = f"{old[0]} -> {new[0] or '?'}" if old[0] else f"to {new[0] or '?'}"
                self._add("change_type", call, table, column, detail)
        if _false(args.get("nullable")) and not _false(args.get("existing_nullable")):
            self._add("set_not_null", call, table, column)

    def _concurrently(self, call: _Call, table: str) -> bool:
        """``postgresql_concurrently=True``: judged only for running inside a transaction."""
        if not _true(call.args.get("postgresql_concurrently")):
            return False
        if not call.autocommit:
            self._add("concurrent_in_transaction", call, table)
        return True

    def _create_index(self, call: _Call, table: str) -> None:
        if self._concurrently(call, table):
            return
        name = _string(call.args.get("index_name"))
        if name:
            self.sql.indexes.add(name.lower())
        if not self._new(table):
            self._add("create_index", call, table, "", name)
            self._altered(table)

    def _drop_index(self, call: _Call, table: str) -> None:
        if self._concurrently(call, table):
            return
        name = _string(call.args.get("index_name"))
        if name.lower() in self.sql.indexes or self._new(table):
            return
        self._add("drop_index", call, table, "", name)
        self._altered(table)

    def _constraint(self, kind: str, call: _Call, table: str, detail: str) -> None:
        """A constraint added to an existing table."""
        if not self._new(table):
            self._add(kind, call, table, "", detail)
            self._altered(table)

    def _create_foreign_key(self, call: _Call, table: str) -> None:
        if not _true(call.args.get("postgresql_not_valid")):
            self._constraint("add_foreign_key", call, table, _string(call.args.get("referent_table")))

    def _create_check_constraint(self, call: _Call, table: str) -> None:
        if not _true(call.args.get("postgresql_not_valid")):
            self._constraint("add_check", call, table, _string(call.args.get("constraint_name")))

    def _create_unique_constraint(self, call: _Call, table: str) -> None:
        self._constraint("add_unique", call, table, _string(call.args.get("constraint_name")))

    def _create_primary_key(self, call: _Call, table: str) -> None:
        self._constraint("add_primary_key", call, table, _string(call.args.get("constraint_name")))

    def _execute(self, call: _Call, table: str) -> None:
        node = call.args.get("sqltext")
        if isinstance(node, cst.Call) and node.args:
            qual = self.ctx.qualname(node.func) or ""
            if qual in TEXT_CONSTRUCTS:
                node = node.args[0].value
        if node is None:
            return
        text = self.sql_text(node)
        if text is None:
            return
        for statement in statements_of(text, self.dialect):
            for kind, label, name, column, detail in classify(statement.text, statement.expression, self.sql, not call.autocommit):
                self.changes.append(Change(kind, "alembic", label, node=node, table=name, column=column, detail=detail, sql=True))


def irreversible(revision: Revision) -> List[Change]:
    """An upgrade that does something with a downgrade that does nothing."""
    if revision.initial or is_empty(revision.upgrade):
        return []
    if revision.downgrade is None:
        return [Change("missing_downgrade", "alembic", "upgrade()", node=revision.upgrade.name if revision.upgrade else None)]
    if is_empty(revision.downgrade):
        return [Change("empty_downgrade", "alembic", "downgrade()", node=revision.downgrade.name)]
    return []


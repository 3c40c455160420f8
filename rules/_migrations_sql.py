"""Migration SQL -> risky changes, with sqlglot, on PostgreSQL semantics.

One classifier serves ``.sql`` migration files and the SQL of Django ``RunSQL`` and
Alembic ``op.execute``. Node shapes relied on (sqlglot 30, checked):

- ``ALTER TABLE`` is ``exp.Alter(kind="TABLE")`` with ``actions``: ``exp.Drop(kind="COLUMN")``,
  ``exp.RenameColumn``, ``exp.AlterRename``, ``exp.AlterColumn`` (``dtype``/``using`` for a type
  change, ``allow_null=False`` for SET NOT NULL, ``drop=True`` for DROP NOT NULL),
  ``exp.ColumnDef`` (ADD COLUMN) and ``exp.AddConstraint``; ``NOT VALID`` is
  ``args["not_valid"]`` (and always in the statement text). ``ALTER INDEX`` is
  ``exp.Alter(kind="INDEX")``, never a table rename.
- ``CREATE [UNIQUE] INDEX [CONCURRENTLY]`` is ``exp.Create(kind="INDEX")`` with
  ``args["concurrently"]``; ``DROP INDEX [CONCURRENTLY]`` is ``exp.Drop(kind="INDEX")``.
- ``gen_random_uuid()`` parses to ``exp.Uuid``, ``random()`` to ``exp.Rand``.
- ``ALTER SEQUENCE``, ``VALIDATE CONSTRAINT``, ``RENAME CONSTRAINT``, ``ADD CHECK``,
  ``ADD CONSTRAINT … USING INDEX``, ``REINDEX``, ``VACUUM``, ``ALTER TYPE … RENAME VALUE``
  and ``DO`` blocks are ``exp.Command``; ``CLUSTER`` and ``DROP INDEX a, b`` do not parse:
  those are read from the statement text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

import sqlglot.expressions as exp

from backendlint.sql.parse import has_hole, parse_sql, split_statements

#: (kind, label, table, column, detail)
SqlChange = Tuple[str, str, str, str, str]

_COMMENTS = re.compile(r"^\s*(?:--[^\n]*(?:\n|$)\s*|/\*.*?\*/\s*)*", re.DOTALL)
_BEGIN = re.compile(r"^(?:BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)
_END = re.compile(r"^(?:COMMIT|END|ABORT|ROLLBACK)\b(?!\s+(?:TO|PREPARED)\b)", re.IGNORECASE)
_REINDEX = re.compile(r"^REINDEX\b(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
_VACUUM = re.compile(r"^VACUUM\b(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
_CLUSTER = re.compile(r"^CLUSTER\b(?:\s+VERBOSE)?\s*(?P<table>[\w\".]+)?", re.IGNORECASE)
_RENAME_VALUE = re.compile(r"^ALTER\s+TYPE\s+(?P<type>[\w\".]+)\s+RENAME\s+VALUE\b", re.IGNORECASE)
_ALTER_TABLE = re.compile(
    r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>[\w\".]+)\s+(?P<rest>.*)", re.IGNORECASE | re.DOTALL
)
_ADD_CHECK = re.compile(r"^ADD\s+(?:CONSTRAINT\s+(?P<name>[\w\"]+)\s+)?CHECK\s*\((?P<cond>.*)\)", re.IGNORECASE | re.DOTALL)
_VALIDATE = re.compile(r"^VALIDATE\s+CONSTRAINT\s+(?P<name>[\w\"]+)", re.IGNORECASE)
_USING_INDEX = re.compile(r"\bUSING\s+INDEX\b", re.IGNORECASE)
_DETACH_CONCURRENTLY = re.compile(r"^DETACH\s+PARTITION\b.*\bCONCURRENTLY\b", re.IGNORECASE | re.DOTALL)
_CREATE_INDEX = re.compile(
    r"^CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?.*?\bON\s+(?:ONLY\s+)?(?P<table>[\w\".]+)",
    re.IGNORECASE | re.DOTALL,
)
_DROP_INDEX = re.compile(
    r"^DROP\s+INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?P<names>[\w\".,\s]+?)\s*(?:CASCADE|RESTRICT)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_NOT_VALID = re.compile(r"\bNOT\s+VALID\b", re.IGNORECASE)
_IS_NOT_NULL = re.compile(r"^\s*\(?\s*\"?(?P<column>\w+)\"?\s+IS\s+NOT\s+NULL\s*\)?\s*$", re.IGNORECASE)
_VOLATILE = re.compile(
    r"\b(?:gen_random_uuid|uuid_generate_v\w+|uuidv[47]|random|clock_timestamp|timeofday|nextval|gen_random_bytes)\s*\(",
    re.IGNORECASE,
)
_VOLATILE_NODES = tuple(getattr(exp, name) for name in ("Uuid", "Rand") if hasattr(exp, name))
_SERIAL = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL"})
#: Types a column can be changed to without a rewrite from the usual source types; with
#: the old type unknown, a change to one of these is not judged.
_MAYBE_WIDENING = frozenset({"TEXT", "VARCHAR", "NVARCHAR", "NUMERIC", "DECIMAL", "BIGDECIMAL", "CITEXT"})
_CHAR_TYPES = frozenset({"VARCHAR", "NVARCHAR", "TEXT", "CITEXT"})
_NUMERIC_TYPES = frozenset({"NUMERIC", "DECIMAL", "BIGDECIMAL"})


def bare(name: str) -> str:
    """``public."Orders"`` -> ``orders``."""
    return name.strip().rsplit(".", 1)[-1].strip('"`[] ').lower()


def strip_comments(text: str) -> str:
    return _COMMENTS.sub("", text, count=1).strip().rstrip(";").strip()


@dataclass
class SqlState:
    """What the statements so far in one migration did."""

    #: Tables created in this migration (bare names).
    tables: Set[str] = field(default_factory=set)
    #: Indexes created in this migration.
    indexes: Set[str] = field(default_factory=set)
    #: Column types declared in this migration: (table, column) -> DataType.
    columns: Dict[Tuple[str, str], exp.DataType] = field(default_factory=dict)
    #: Columns added to existing tables in this migration (no running code knows them).
    new_columns: Set[Tuple[str, str]] = field(default_factory=set)
    #: (table, column) pairs that have a validated CHECK (column IS NOT NULL).
    not_null_checks: Set[Tuple[str, str]] = field(default_factory=set)
    #: NOT VALID checks of that shape, by constraint name, until validated.
    pending_checks: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    #: Existing tables an earlier statement changed (their lock is held until commit).
    altered: Set[str] = field(default_factory=set)
    #: Inside an explicit BEGIN … COMMIT of the file.
    in_block: bool = False

    def is_new(self, table: str) -> bool:
        return bare(table) in self.tables


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL text, with its line offset inside that text."""

    text: str
    expression: Optional[exp.Expression]
    line_offset: int


def statements_of(text: str, dialect: Optional[str]) -> List[Statement]:
    """Split and parse a SQL text (embedded SQL); unparsable statements keep ``None``."""
    out: List[Statement] = []
    for chunk, first, _last in split_statements(text, dialect):
        if not chunk.strip():
            continue
        parsed = parse_sql(chunk, dialect)
        expression = parsed.statements[0] if parsed is not None and len(parsed.statements) == 1 else None
        out.append(Statement(chunk, expression, first - 1))
    return out


def classify(
    text: str, expression: Optional[exp.Expression], state: SqlState, transactional: bool
) -> List[SqlChange]:
    """The risky changes of one statement; updates ``state``. ``transactional``: the
    statement runs inside a transaction (an explicit BEGIN of the file counts too)."""
    body = strip_comments(text)
    if not body:
        return []
    if _BEGIN.match(body) and not isinstance(expression, (exp.Create, exp.Alter)):
        state.in_block = True
        return []
    if _END.match(body):
        state.in_block = False
        return []
    in_tx = transactional or state.in_block
    if expression is None or isinstance(expression, exp.Command):
        if has_hole(body):
            return []  # a statement only known in part is judged only when sqlglot modelled it
        found = _from_text(body, state, in_tx)
        return found if found is not None else _unparsed(body, state, in_tx)
    if isinstance(expression, exp.Create):
        return _create(expression, body, state, in_tx)
    if isinstance(expression, exp.Drop):
        return _drop(expression, state, in_tx)
    if isinstance(expression, exp.TruncateTable):
        return _truncate(expression, state)
    if isinstance(expression, exp.Alter):
        return _alter(expression, body, state)
    if isinstance(expression, (exp.Update, exp.Delete)):
        table = expression.this
        name = bare(table.sql()) if isinstance(table, exp.Table) else ""
        if in_tx and state.altered and name not in state.tables:
            label = "UPDATE" if isinstance(expression, exp.Update) else "DELETE"
            return [("backfill", label, name, "", ", ".join(sorted(state.altered)))]
        return []
    return []


# -- statements read from their text -------------------------------------------------------


def _from_text(body: str, state: SqlState, in_tx: bool) -> Optional[List[SqlChange]]:
    """Statements sqlglot keeps as ``exp.Command`` (or cannot parse); ``None`` when
    ``body`` is none of them."""
    match = _REINDEX.match(body)
    if match:
        rest = match.group("rest")
        target = rest.split()[-1] if rest.split() else ""
        if re.search(r"\bCONCURRENTLY\b", rest, re.IGNORECASE):
            return [("concurrent_in_transaction", "REINDEX CONCURRENTLY", target, "", "")] if in_tx else []
        if bare(target) in state.tables or bare(target) in state.indexes:
            return []
        return [("reindex", "REINDEX", target, "", "")]
    match = _VACUUM.match(body)
    if match:
        rest = match.group("rest")
        target = rest.split()[-1] if rest.split() else ""
        if in_tx:
            return [("concurrent_in_transaction", "VACUUM", target, "", "")]
        if re.search(r"\bFULL\b", rest, re.IGNORECASE) and bare(target) not in state.tables:
            return [("vacuum_full", "VACUUM FULL", target, "", "")]
        return []
    match = _CLUSTER.match(body)
    if match:
        table = match.group("table") or ""
        return [] if bare(table) in state.tables else [("cluster", "CLUSTER", table, "", "")]
    match = _RENAME_VALUE.match(body)
    if match:
        return [("rename_enum_value", "ALTER TYPE … RENAME VALUE", match.group("type"), "", "")]
    match = _ALTER_TABLE.match(body)
    if match:
        return _alter_text(bare(match.group("table")), match.group("table"), match.group("rest"), body, state, in_tx)
    return None


def _alter_text(
    table: str, written: str, rest: str, body: str, state: SqlState, in_tx: bool
) -> Optional[List[SqlChange]]:
    """``ALTER TABLE`` forms sqlglot keeps as commands; ``None`` for the modelled ones."""
    check = _ADD_CHECK.match(rest)
    if check:
        not_valid = bool(_NOT_VALID.search(rest))
        _note_not_null_check(state, table, check.group("name"), check.group("cond"), not_valid)
        if state.is_new(table) or not_valid:
            return []
        return [("add_check", "ADD CHECK", written, "", "")]
    validate = _VALIDATE.match(rest)
    if validate:
        pending = state.pending_checks.pop(validate.group("name").strip('"').lower(), None)
        if pending is not None:
            state.not_null_checks.add(pending)
        return []
    if _USING_INDEX.search(rest) and re.match(r"^ADD\b", rest, re.IGNORECASE):
        return []  # a constraint built from an existing (concurrently created) index
    if _DETACH_CONCURRENTLY.match(rest):
        return [("concurrent_in_transaction", "DETACH PARTITION … CONCURRENTLY", written, "", "")] if in_tx else []
    if re.match(r"^(?:RENAME\s+CONSTRAINT|OWNER\s+TO|SET\s+SCHEMA)\b", rest, re.IGNORECASE):
        return []
    return None


def _unparsed(body: str, state: SqlState, in_tx: bool) -> List[SqlChange]:
    """Index statements sqlglot could not parse, read from their text."""
    match = _CREATE_INDEX.match(body)
    if match:
        return _index_change(
            "create", match.group("table"), bool(match.group("concurrently")), bool(match.group("unique")), state, in_tx
        )
    match = _DROP_INDEX.match(body)
    if match:
        names = [n for n in (bare(x) for x in match.group("names").split(",")) if n]
        if all(n in state.indexes for n in names):
            return []
        return _index_change("drop", "", bool(match.group("concurrently")), False, state, in_tx, name=", ".join(names))
    return []


# -- modelled statements ---------------------------------------------------------------------


def _create(expression: exp.Create, body: str, state: SqlState, in_tx: bool) -> List[SqlChange]:
    kind = str(expression.args.get("kind") or "").upper()
    target = expression.this
    if kind == "TABLE":
        table = target.this if isinstance(target, exp.Schema) else target
        name = bare(table.sql()) if isinstance(table, exp.Expression) else ""
        if name:
            state.tables.add(name)
            for column in expression.find_all(exp.ColumnDef):
                if isinstance(column.args.get("kind"), exp.DataType):
                    state.columns[(name, column.name.lower())] = column.args["kind"]
        return []
    if kind == "INDEX" and isinstance(target, exp.Index):
        if target.name:
            state.indexes.add(target.name.lower())
        table = target.args.get("table")
        written = table.sql() if isinstance(table, exp.Expression) else ""
        concurrently = bool(expression.args.get("concurrently"))
        return _index_change("create", written, concurrently, bool(expression.args.get("unique")), state, in_tx, name=target.name)
    return []


def _index_change(
    action: str, table: str, concurrently: bool, unique: bool, state: SqlState, in_tx: bool, name: str = ""
) -> List[SqlChange]:
    """``table`` is the indexed table (create) or empty (drop: ``name`` has the indexes)."""
    verb = "CREATE UNIQUE INDEX" if unique else ("CREATE INDEX" if action == "create" else "DROP INDEX")
    if concurrently:
        return [("concurrent_in_transaction", f"{verb} CONCURRENTLY", table or name, "", "")] if in_tx else []
    if action == "create" and state.is_new(table):
        return []
    return [("create_index" if action == "create" else "drop_index", verb, table, "", name)]


def _drop(expression: exp.Drop, state: SqlState, in_tx: bool) -> List[SqlChange]:
    kind = str(expression.args.get("kind") or "").upper()
    names = [t.sql() for t in expression.args.get("tables") or [] if isinstance(t, exp.Expression)]
    if not names and isinstance(expression.this, exp.Expression):
        names = [expression.this.sql()]
    if kind == "TABLE":
        old = [n for n in names if not state.is_new(n)]
        return [("drop_table", "DROP TABLE", ", ".join(old), "", "")] if old else []
    if kind == "INDEX":
        old = [n for n in names if bare(n) not in state.indexes]
        if not old:
            return []
        return _index_change("drop", "", bool(expression.args.get("concurrently")), False, state, in_tx, name=", ".join(old))
    return []


def _truncate(expression: exp.TruncateTable, state: SqlState) -> List[SqlChange]:
    names = [t.sql() for t in expression.expressions if isinstance(t, exp.Expression)]
    old = [n for n in names if not state.is_new(n)]
    if not old:
        return []
    cascade = str(expression.args.get("option") or "").upper() == "CASCADE"
    return [("truncate", "TRUNCATE", ", ".join(old), "", "CASCADE" if cascade else "")]


def _alter(expression: exp.Alter, body: str, state: SqlState) -> List[SqlChange]:
    if str(expression.args.get("kind") or "").upper() != "TABLE" or not isinstance(expression.this, exp.Table):
        return []  # ALTER INDEX / VIEW / SEQUENCE ...: renames of those are not table renames
    written = expression.this.sql()
    table = bare(written)
    new = table in state.tables
    not_valid = bool(expression.args.get("not_valid")) or bool(_NOT_VALID.search(body))
    out: List[SqlChange] = []
    ddl = False
    for action in expression.args.get("actions") or []:
        ddl = True
        if new:
            _track_new(action, table, state)
            continue
        out.extend(_action(action, written, table, state, not_valid))
    if ddl and not new:
        state.altered.add(table)
    return out


def _track_new(action: exp.Expression, table: str, state: SqlState) -> None:
    if isinstance(action, exp.ColumnDef) and isinstance(action.args.get("kind"), exp.DataType):
        state.columns[(table, action.name.lower())] = action.args["kind"]
    elif isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Expression):
        state.tables.add(bare(action.this.sql()))


def _action(action: exp.Expression, written: str, table: str, state: SqlState, not_valid: bool) -> List[SqlChange]:
    if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
        columns = [c.name for c in action.args.get("tables") or [] if isinstance(c, exp.Expression)]
        return [("drop_column", "DROP COLUMN", written, c, "") for c in columns if (table, c.lower()) not in state.new_columns]
    if isinstance(action, exp.RenameColumn):
        old, new = action.this, action.args.get("to")
        old_name, new_name = (old.name if old else ""), (new.name if new else "")
        if (table, old_name.lower()) in state.new_columns:
            state.new_columns.add((table, new_name.lower()))
            return []
        return [("rename_column", "RENAME COLUMN", written, old_name, new_name)]
    if isinstance(action, exp.AlterRename):
        if table.endswith("_seq"):
            return []  # ALTER TABLE … RENAME of a sequence
        target = action.this.sql() if isinstance(action.this, exp.Expression) else ""
        return [("rename_table", "ALTER TABLE … RENAME TO", written, "", target)]
    if isinstance(action, exp.AlterColumn):
        return _alter_column(action, written, table, state)
    if isinstance(action, exp.ColumnDef):
        return _add_column(action, written, table, state)
    if isinstance(action, exp.AddConstraint):
        return _add_constraint(action, written, table, state, not_valid)
    return []


def _alter_column(action: exp.AlterColumn, written: str, table: str, state: SqlState) -> List[SqlChange]:
    column = action.name
    dtype = action.args.get("dtype")
    out: List[SqlChange] = []
    if isinstance(dtype, exp.DataType):
        old = state.columns.get((table, column.lower()))
        if not _safe_type_change(old, dtype, isinstance(action.args.get("using"), exp.Expression)):
            new_text = dtype.sql("postgres").lower()
            detail = f"{old.sql('postgres').lower()} -> {new_text}" if old is not None else f"to {new_text}"
            out.append(("change_type", "ALTER COLUMN … TYPE", written, column, detail))
        state.columns[(table, column.lower())] = dtype
    if action.args.get("allow_null") is False and not action.args.get("drop"):
        if (table, column.lower()) not in state.not_null_checks:
            out.append(("set_not_null", "ALTER COLUMN … SET NOT NULL", written, column, ""))
    return out


def _params(dtype: exp.DataType) -> List[int]:
    out: List[int] = []
    for param in dtype.expressions:
        value = param.this if isinstance(param, exp.DataTypeParam) else param
        try:
            out.append(int(value.sql() if isinstance(value, exp.Expression) else value))
        except (TypeError, ValueError):
            return []
    return out


def _safe_type_change(old: Optional[exp.DataType], new: exp.DataType, using: bool) -> bool:
    """Whether changing a column to ``new`` is known (or, with ``old`` unknown, likely) not
    to rewrite the table: varchar widening, varchar -> text, numeric precision increase."""
    if using:
        return False
    new_type = new.this.name
    if old is None:
        return new_type in _MAYBE_WIDENING
    old_type = old.this.name
    old_params, new_params = _params(old), _params(new)
    if old_type == new_type and old_params == new_params:
        return True
    if old_type in _CHAR_TYPES and new_type in _CHAR_TYPES:
        if new_type == "TEXT" or not new_params:
            return old_type != "CITEXT" or new_type == "CITEXT"
        return old_type in ("VARCHAR", "NVARCHAR") and bool(old_params) and new_params[0] >= old_params[0]
    if old_type in _NUMERIC_TYPES and new_type in _NUMERIC_TYPES:
        if not new_params:
            return True
        if len(old_params) == 2 and len(new_params) == 2:
            return new_params[1] == old_params[1] and new_params[0] >= old_params[0]
    return False


def _add_column(action: exp.ColumnDef, written: str, table: str, state: SqlState) -> List[SqlChange]:
    column = action.name
    kind = action.args.get("kind")
    if isinstance(kind, exp.DataType):
        state.columns[(table, column.lower())] = kind
    state.new_columns.add((table, column.lower()))
    constraints = [c.args.get("kind") for c in action.args.get("constraints") or []]
    not_null = any(isinstance(c, exp.NotNullColumnConstraint) and not c.args.get("allow_null") for c in constraints)
    default = next((c.this for c in constraints if isinstance(c, exp.DefaultColumnConstraint)), None)
    generated = any(isinstance(c, (exp.ComputedColumnConstraint, exp.GeneratedAsIdentityColumnConstraint)) for c in constraints)
    serial = isinstance(kind, exp.DataType) and kind.this.name in _SERIAL
    out: List[SqlChange] = []
    if generated or serial:
        label = "serial column" if serial else "generated column"
        out.append(("rewrite_column", "ADD COLUMN", written, column, label))
    elif isinstance(default, exp.Expression) and _is_volatile(default):
        out.append(("volatile_default", "ADD COLUMN", written, column, _function_case(default.sql("postgres"))))
    if not_null and (default is None or isinstance(default, exp.Null)) and not generated and not serial:
        out.append(("add_required_column", "ADD COLUMN", written, column, ""))
    for constraint in constraints:
        if isinstance(constraint, exp.Reference):
            target = constraint.this.this if isinstance(constraint.this, exp.Schema) else constraint.this
            out.append(("add_foreign_key", "REFERENCES", written, column, target.sql() if isinstance(target, exp.Expression) else ""))
        elif isinstance(constraint, exp.UniqueColumnConstraint):
            out.append(("add_unique", "UNIQUE", written, column, ""))
        elif isinstance(constraint, exp.PrimaryKeyColumnConstraint):
            out.append(("add_primary_key", "PRIMARY KEY", written, column, ""))
    return out


def _function_case(text: str) -> str:
    """``GEN_RANDOM_UUID()`` -> ``gen_random_uuid()`` (as people write it)."""
    return re.sub(r"\b([A-Z_][A-Z0-9_]*)\(", lambda m: m.group(1).lower() + "(", text)


def _is_volatile(default: exp.Expression) -> bool:
    if isinstance(default, _VOLATILE_NODES) or default.find(*_VOLATILE_NODES) is not None:
        return True
    return bool(_VOLATILE.search(default.sql("postgres")))


def _add_constraint(action: exp.AddConstraint, written: str, table: str, state: SqlState, not_valid: bool) -> List[SqlChange]:
    out: List[SqlChange] = []
    for item in action.expressions:
        name = item.name if isinstance(item, exp.Constraint) else None
        parts: Sequence[exp.Expression] = item.expressions if isinstance(item, exp.Constraint) else [item]
        for part in parts:
            if isinstance(part, exp.ForeignKey):
                if not not_valid:
                    reference = part.args.get("reference")
                    target = reference.find(exp.Table) if isinstance(reference, exp.Expression) else None
                    columns = ", ".join(e.name for e in part.expressions)
                    out.append(("add_foreign_key", "ADD FOREIGN KEY", written, columns, target.sql() if target else ""))
            elif isinstance(part, exp.CheckColumnConstraint):
                condition = part.this.sql("postgres") if isinstance(part.this, exp.Expression) else ""
                _note_not_null_check(state, table, name, condition, not_valid)
                if not not_valid:
                    out.append(("add_check", "ADD CHECK", written, "", name or ""))
            elif isinstance(part, exp.UniqueColumnConstraint):
                out.append(("add_unique", "ADD UNIQUE", written, "", name or ""))
            elif isinstance(part, exp.PrimaryKey):
                out.append(("add_primary_key", "ADD PRIMARY KEY", written, "", name or ""))
    return out


def _note_not_null_check(state: SqlState, table: str, name: Optional[str], condition: str, not_valid: bool) -> None:
    match = _IS_NOT_NULL.match(condition or "")
    if not match:
        return
    pair = (table, match.group("column").lower())
    if not_valid and name:
        state.pending_checks[name.strip('"').lower()] = pair
    elif not not_valid:
        state.not_null_checks.add(pair)

"""Does a parsed SQL statement return an unbounded number of rows?

Only the outermost query counts: a ``SELECT`` (or ``UNION``/``INTERSECT``/``EXCEPT``,
or ``WITH ... SELECT``) whose outermost query has no ``LIMIT``, ``FETCH FIRST`` or
``TOP``. It is *bounded* (not reported) when it returns a single row by shape
(aggregates without ``GROUP BY``, no ``FROM``), selects by equality on a primary key or
unique column in its top-level ``AND`` chain, reads system catalogs or bounded table
functions, reads a derived table or CTE that is itself bounded, or when an f-string
hole sits where a ``LIMIT`` could hide (the ``FROM`` source, a ``WHERE`` term, the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

import sqlglot.expressions as exp

from backendlint.sql.parse import is_hole

#: Schemas and tables of database catalogs: small, and read by tooling.
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "mysql", "performance_schema", "sys", "sqlite_temp_schema"})
SYSTEM_TABLES = frozenset(
    {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence", "sqlite_stat1", "dual",
     "all_tables", "user_tables", "all_tab_columns", "user_tab_columns", "sysobjects", "syscolumns"}
)
_SYSTEM_PREFIX = re.compile(r"^(?:pg_|sqlite_|information_schema)", re.IGNORECASE)
#: A window function makes an aggregate per-row again.
_WINDOWED = (exp.Window,)

IsUnique = Callable[[str, Set[str]], bool]


@dataclass(frozen=True)
class Unbounded:
    """Why a statement is unbounded."""

    #: ``SELECT``, ``UNION``, ``INTERSECT``, ``EXCEPT`` or ``WITH ... SELECT``.
    shape: str
    #: The first table read by the outermost query ("" when not a plain table).
    table: str
    #: A short explanation for the message.
    detail: str


def unbounded(statement: exp.Expression, text: str = "", is_unique: Optional[IsUnique] = None) -> Optional[Unbounded]:
    """An :class:`Unbounded` when ``statement`` returns an unbounded number of rows,
    ``None`` when it is bounded, not a read, or cannot be judged.

    ``text`` is the SQL as written (with ``__holeN__`` sentinels): a hole at its end may
    hide a ``LIMIT``. ``is_unique(table, columns)`` tells whether equality on the
    columns selects at most one row (the schema catalogue); ``id`` always does."""
    if _ends_with_hole(text):
        return None
    return _Judge(statement, is_unique or (lambda table, columns: False)).outermost()


def _ends_with_hole(text: str) -> bool:
    return bool(re.search(r"__hole\d+__[\s;)]*$", text))


class _Judge:
    def __init__(self, statement: exp.Expression, is_unique: IsUnique) -> None:
        self.statement = statement
        self.is_unique = is_unique
        self.ctes: Dict[str, exp.Expression] = {}

    def outermost(self) -> Optional[Unbounded]:
        node = self.statement
        with_ = node.args.get("with_") if isinstance(node, (exp.Select, exp.SetOperation, exp.Subquery)) else None
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias:
                    self.ctes[cte.alias.lower()] = cte.this
        found = self.query(node)
        if found is not None and with_ is not None:
            return Unbounded("WITH ... " + found.shape, found.table, found.detail)
        return found

    # -- a query: unbounded or not -------------------------------------------------
    def query(self, node: exp.Expression, depth: int = 0) -> Optional[Unbounded]:
        if depth > 20:
            return None
        while isinstance(node, (exp.Subquery, exp.Paren)):
            if node.args.get("limit") is not None:
                return None
            node = node.this
        if isinstance(node, exp.SetOperation):
            return self.set_operation(node, depth)
        if isinstance(node, exp.Select):
            return self.select(node, depth)
        return None  # INSERT ... SELECT, UPDATE ... FROM, DDL, VALUES, commands

    def set_operation(self, node: exp.SetOperation, depth: int) -> Optional[Unbounded]:
        if node.args.get("limit") is not None:
            return None
        branches = [node.this, node.expression]
        judged = [self.query(b, depth + 1) for b in branches]
        if all(j is None for j in judged):
            return None  # every branch is bounded (or not a read): so is their union
        first = next(j for j in judged if j is not None)
        shape = type(node).__name__.upper()
        return Unbounded(shape, first.table, f"the {shape} has no LIMIT of its own, and a LIMIT inside one branch bounds only that branch")

    def select(self, node: exp.Select, depth: int) -> Optional[Unbounded]:
        if node.args.get("limit") is not None or node.args.get("into") is not None:
            return None
        from_ = node.args.get("from_")
        if from_ is None:
            return None  # SELECT 1, SELECT nextval(...), SELECT EXISTS (...)
        sources = [from_.this, *(j.this for j in node.args.get("joins") or ())]
        if self._single_row_aggregate(node):
            return None
        tables: List[Tuple[str, str]] = []  # (alias or name, table)
        for source in sources:
            verdict = self._source(source, depth, len(sources))
            if verdict == "bounded":
                return None
            if isinstance(verdict, tuple):
                tables.append(verdict)
        where = node.args.get("where")
        for clause in (where, node.args.get("having")):
            if clause is not None and _has_clause_hole(clause):
                return None
        if where is not None and self._unique_equality(where.this, tables):
            return None
        table = tables[0][1] if tables else ""
        if node.args.get("group") is not None:
            detail = "GROUP BY returns one row per group, and there is no LIMIT"
        else:
            detail = "its outermost query has no LIMIT"
        return Unbounded("SELECT", table, detail)

    # -- pieces ---------------------------------------------------------------------
    @staticmethod
    def _single_row_aggregate(node: exp.Select) -> bool:
        if node.args.get("group") is not None:
            return False
        projections = node.expressions
        if not projections:
            return False
        for projection in projections:
            if projection.find(*_WINDOWED) is not None:
                return False
            if projection.find(exp.AggFunc) is None:
                return False
        return True

    def _source(self, source: exp.Expression, depth: int, count: int):
        """``"bounded"`` (the whole query is), ``None`` (no judgement from this source)
        or ``(alias, table)`` for a plain table."""
        if isinstance(source, (exp.Unnest, exp.Values, exp.Lateral)):
            return "bounded"  # table functions: their output is bounded by their input
        if isinstance(source, exp.Subquery):
            inner = source.this
            if isinstance(inner, exp.Table) and is_hole(inner):
                return "bounded"  # FROM ({sql}) t: a LIMIT may be inside the hole
            if count == 1 and self.query(inner, depth + 1) is None:
                return "bounded"  # a bounded derived table bounds the query
            return None
        if isinstance(source, exp.Table):
            if isinstance(source.this, exp.Func) or isinstance(source.this, exp.Anonymous):
                return "bounded"  # generate_series(...), json_each(...), a set-returning function
            if is_hole(source) or any(is_hole(part) for part in source.parts):
                return "bounded"
            name = (source.name or "").lower()
            schema = (source.db or "").lower()
            if schema in SYSTEM_SCHEMAS or name in SYSTEM_TABLES or _SYSTEM_PREFIX.match(name):
                return "bounded"
            if not schema and name in self.ctes:
                if count == 1 and self.query(self.ctes[name], depth + 1) is None:
                    return "bounded"  # a bounded CTE read alone
                return None
            alias = (source.alias_or_name or name).lower()
            return alias, name
        return None

    def _unique_equality(self, condition: exp.Expression, tables: List[Tuple[str, str]]) -> bool:
        """The top-level AND chain has equality (or ``IN (values)``/``= ANY(param)``) on a
        primary key or unique column of a table read by the query."""
        by_alias = dict(tables)
        per_table: Dict[str, Set[str]] = {}
        for term in _and_terms(condition):
            found = _equality_column(term)
            if found is None:
                continue
            column, qualifier = found
            if column == "id":
                return True
            # a unique column of a joined table bounds nothing: only the FROM table's count
            table = by_alias.get(qualifier) if qualifier else (tables[0][1] if len(tables) == 1 else None)
            if tables and table == tables[0][1]:
                per_table.setdefault(table, set()).add(column)
        return any(self.is_unique(table, columns) for table, columns in per_table.items())


def _and_terms(condition: exp.Expression) -> Iterable[exp.Expression]:
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Paren):
            stack.append(node.this)
        elif isinstance(node, exp.And):
            stack.extend((node.this, node.expression))
        else:
            yield node


def _is_value(node: exp.Expression) -> bool:
    """A constant, a bind parameter or a hole: not a column of the query."""
    while isinstance(node, (exp.Cast, exp.Paren, exp.Neg, exp.Lower, exp.Upper)):
        node = node.this
    if isinstance(node, (exp.Literal, exp.Placeholder, exp.Parameter, exp.Boolean)):
        return True
    if isinstance(node, exp.Column):
        return is_hole(node)
    return False


def _equality_column(term: exp.Expression) -> Optional[Tuple[str, str]]:
    """``(column, qualifier)`` when ``term`` is ``col = value``, ``col IN (values)`` or
    ``col = ANY(param)``."""
    column: Optional[exp.Expression] = None
    if isinstance(term, exp.EQ):
        left, right = term.this, term.expression
        if isinstance(right, exp.Any) and _is_value(right.this):
            column = left
        elif isinstance(left, exp.Column) and not is_hole(left) and _is_value(right):
            column = left
        elif isinstance(right, exp.Column) and not is_hole(right) and _is_value(left):
            column = right
    elif isinstance(term, exp.Between):
        # id BETWEEN a AND b: at most b - a + 1 rows, bounded by the input
        bounds = (term.args.get("low"), term.args.get("high"))
        if isinstance(term.this, exp.Column) and term.this.name.lower() == "id" and all(b is not None and _is_value(b) for b in bounds):
            column = term.this
    elif isinstance(term, exp.In) and not term.args.get("query"):
        values = term.expressions
        field = term.args.get("field")
        if (values and all(_is_value(v) for v in values)) or (field is not None and _is_value(field)):
            column = term.this
    if not isinstance(column, exp.Column) or is_hole(column):
        return None
    return column.name.lower(), (column.table or "").lower()


def _has_clause_hole(clause: exp.Expression) -> bool:
    """A WHERE/HAVING whose condition, or one of its boolean terms, is a hole."""
    stack = [clause.this]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Column) and is_hole(node):
            return True
        if isinstance(node, (exp.And, exp.Or)):
            stack.extend((node.this, node.expression))
        elif isinstance(node, (exp.Paren, exp.Not)):
            stack.append(node.this)
    return False

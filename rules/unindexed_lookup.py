"""BL103 unindexed-lookup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Set, Tuple

import libcst as cst
from backendlint_rules import _django_lookups, _sqlalchemy_lookups
from backendlint_rules._index_judge import Problem, describe_index, judge
from backendlint_rules._orm import catalog_of, query_chain
from backendlint_rules._sql_sinks import find_sql_sink

from backendlint.api import Confidence, Rule, Severity, SqlStatement
from backendlint.sql.extract import sql_text

#: Sinks whose argument is a fragment or an identifier, not a statement.
_FRAGMENT_SINKS = frozenset({"literal_column", "identifier", "composition", "mogrify", "extra"})
_MIGRATIONS = re.compile(r"(?:^|/)(?:migrations|versions)/[^/]+\.py$")


def statement_queries(statement: Any, catalog: Any) -> Any:
    """``_sql_lookups.statement_queries``, imported on first use (it needs sqlglot, which
    a run that meets no SQL never loads)."""
    from backendlint_rules._sql_lookups import statement_queries as queries

    return queries(statement, catalog)


def _skipped(ctx: Any, options: Any) -> bool:
    """Test code (unless included) and migrations."""
    file = ctx.file
    return (file.is_test and not options.include_tests) or bool(_MIGRATIONS.search(file.relpath))


def _usable(catalog: Any) -> bool:
    """A catalogue with tables: without one there is nothing to judge against."""
    return catalog is not None and bool(getattr(catalog, "tables", None))


@dataclass(frozen=True)
class Options:
    include_tests: bool = False


class UnindexedLookup(Rule):
    """A query filters, joins or sorts on a column that no index of the project can serve.

    ## What it does
    Flags lookups that make the database read a whole table because no index the project
    declares can serve them:

    - the WHERE, JOIN ON and ORDER BY ... LIMIT columns of SQL sent to a SQL sink
      (`cursor.execute`, `session.execute(text(...))`, `Model.objects.raw`, asyncpg
      `fetch`, `pandas.read_sql`, ...) and of queries in `.sql` files;
    - Django `filter()`/`get()`/`get_or_create()`/`order_by()`/`latest()` lookups on models
      of the project, including lookups through relations (`customer__email=...`) and
      lookups that wrap the column in a function (`__iexact`, `__istartswith`, `__date`,
      `__month`, ...), which need an expression index.

    Indexes come from the project's schema catalogue (run `backendlint schema` to see it):
    Django models and migrations, SQLAlchemy/SQLModel models, Alembic revisions and `.sql`
    files. An index on `(a, b)` serves `b` only when the query also has equality on `a`
    (the leftmost-prefix rule); GIN/GiST/BRIN and partial indexes listing a column count
    as serving it.

    The query is judged as a whole, precision first: it is fine when one of its filters
    is served by an index and the other tables are joined through indexed columns. Only
    then are the remaining columns' indexes irrelevant; otherwise the best unserved
    filter (equality before function-wrapped before range) is reported, or the join
    column that has no index on the "many" side.

    Never flagged: tables that are not in the catalogue (external or unknown), tables
    whose indexes the project does not manage (Django `managed = False` without SQL
    declaring them), columns the catalogue does not know, predicates no btree can serve
    anyway (`<>`, `NOT IN`, `IS NOT NULL`, `LIKE '%x'`, `__contains`, `__icontains`,
    `exclude()`), conditions built from f-string holes, tables created in the same
    `.sql` file, migrations, and test code. Django's `__year` with a value compiles to a
    range on the column, which an index serves.

    Severity: medium for equality and IN (and function-wrapped equality) and for an
    unindexed join column; low for ranges and ORDER BY.

    ## Why is this bad
    Without an index the database reads every row to find the few it needs. That is
    invisible with the hundred rows of a development database and turns into seconds per
    request, lock contention and I/O saturation once the table holds millions of rows.

    ## Example
    ```python
    class Order(models.Model):
        status = models.CharField(max_length=16)

    def open_orders():
        return Order.objects.filter(status="open")
    ```

    ## Use instead
    ```python
    class Order(models.Model):
        status = models.CharField(max_length=16, db_index=True)

    def open_orders():
        return Order.objects.filter(status="open")
    ```

    ## Options
    - `include-tests` (default `false`): also check test code.

    ## References
    - PostgreSQL documentation: [Multicolumn Indexes](https://www.postgresql.org/docs/current/indexes-multicolumn.html)
    - PostgreSQL documentation: [Indexes on Expressions](https://www.postgresql.org/docs/current/indexes-expressional.html)
    - Django documentation: [Database access optimization](https://docs.djangoproject.com/en/stable/topics/db/optimization/#use-standard-db-optimization-techniques)
    - Use The Index, Luke: [The Where Clause](https://use-the-index-luke.com/sql/where-clause)
    """

    code = "BL103"
    name = "unindexed-lookup"
    message = "{what}"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    tags = ("performance", "database")
    languages = ("python", "sql")
    project_facts = ("catalog",)
    #: ORM roots (Django managers, SQLAlchemy/SQLModel imports, ``.query``), the methods of
    #: every SQL sink this rule reads, and the clauses it judges in ``.sql`` files.
    requires_text = (
        "objects", "_manager", "sqlalchemy", "sqlmodel", "query", "execute", "exec_driver_sql", "mogrify",
        "prepare", "cursor", "copy_from_query", "iterate", "scalar", "fetch", "raw", "RawSQL", "extra", "read_sql",
        "text(", "SQL(", "WHERE", "JOIN", "ORDER BY",
    )
    Options = Options

    @classmethod
    def applies_to(cls, ctx: Any) -> bool:
        # The catalogue is asked last: a file that reads no facts keeps its cached
        # findings when a model changes.
        if _skipped(ctx, ctx.options(cls)) or not super().applies_to(ctx):
            return False
        return _usable(catalog_of(ctx))

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._catalog = catalog_of(ctx)
        self._skip = _skipped(ctx, self.options) or not _usable(self._catalog)
        self._seen: Set[int] = set()
        self._reported: Set[Tuple[int, str, str]] = set()
        self._limited: Set[int] = set()
        #: Querysets bound to a local name and not yet extended: judged when the scope ends.
        self._pending: Dict[Tuple[int, str], Tuple[Any, Any]] = {}

    # -- Python -------------------------------------------------------------------------
    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not self._skip and _bounded_slice(node):
            self._limited.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip or id(node) in self._seen:
            return
        sink = find_sql_sink(node, self.ctx)
        if sink is not None:
            self._sink(sink)
            return
        if not isinstance(node.func, cst.Attribute):
            return
        chain = query_chain(node, self.ctx)
        if chain is None or chain.model is None:
            return
        for step in chain.steps:
            self._seen.add(id(step.call))
        scope = id(self.ctx.function.node) if self.ctx.function is not None else 0
        root = _root_name(node)
        if root is not None:
            self._pending.pop((scope, root), None)
        limited = id(node) in self._limited
        target = _assigned_name(self.ctx.statement, node)
        if target is not None:
            self._pending[(scope, target)] = (chain, limited)
            return
        self._orm(chain, limited)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._flush(id(original_node))

    def end_file(self) -> None:
        for scope in {key[0] for key in self._pending}:
            self._flush(scope)

    def _flush(self, scope: int) -> None:
        for key in [k for k in self._pending if k[0] == scope]:
            chain, limited = self._pending.pop(key)
            self._orm(chain, limited)

    def _orm(self, chain: Any, limited: bool) -> None:
        if chain.framework == "django":
            query = _django_lookups.chain_query(chain, self._catalog, limited)
        else:
            query = _sqlalchemy_lookups.chain_query(chain, self.ctx, self._catalog, limited)
        if query is None:
            return
        for problem in judge(query, self._catalog):
            node = problem.node or (chain.steps[-1].call if chain.steps else None)
            if node is None:
                continue
            if chain.framework == "django":
                message = _django_message(problem, chain, self._catalog)
            else:
                message = _sqlalchemy_message(problem, self._catalog)
            self._report(node, message=message, problem=problem, confidence=Confidence.HIGH)

    def _sink(self, sink: Any) -> None:
        if sink.sql is None or sink.kind in _FRAGMENT_SINKS:
            return
        found = sql_text(sink.sql, self.ctx)
        parsed = found.parse(self.ctx.file.dialect) if found is not None else None
        if parsed is None:
            return
        confidence = Confidence.HIGH if sink.resolved else Confidence.MEDIUM
        for statement in parsed.statements:
            for query in statement_queries(statement, self._catalog):
                for problem in judge(query, self._catalog):
                    self._report(sink.call, message=_sql_message(problem), problem=problem, confidence=confidence)

    def _report(self, node: Any, *, message: str, problem: Problem, confidence: Confidence) -> None:
        key = (id(node), problem.table, problem.column)
        if key in self._reported:
            return
        self._reported.add(key)
        self.report(node, message, severity=problem.severity, confidence=confidence)

    # -- .sql files ---------------------------------------------------------------------
    def check_sql_file(self, statements: Sequence[SqlStatement]) -> None:
        if self._skip:
            return
        created: Set[str] = set()
        for statement in statements:
            tree = statement.expression
            if tree is None:
                continue
            if _creates_table(tree):
                created.add(tree.this.this.name.lower())
                continue
            reported: Set[Tuple[str, str]] = set()
            for query in statement_queries(tree, self._catalog):
                if any(_bare(t) in created for t in query.tables.values()):
                    continue  # created in this file: still empty
                for problem in judge(query, self._catalog):
                    if (problem.table, problem.column) in reported:
                        continue
                    reported.add((problem.table, problem.column))
                    self.report(message=_sql_message(problem), span=statement.span, severity=problem.severity)


# -- helpers ------------------------------------------------------------------------------


def _bare(name: str) -> str:
    return name.strip('"`[]').rsplit(".", 1)[-1].strip('"`[]').lower()


def _creates_table(tree: Any) -> bool:
    import sqlglot.expressions as exp

    if not isinstance(tree, exp.Create) or (tree.args.get("kind") or "").upper() != "TABLE":
        return False
    target = tree.this
    return isinstance(target, exp.Schema) and isinstance(target.this, exp.Table) or isinstance(target, exp.Table)


def _bounded_slice(node: cst.Subscript) -> bool:
    """``qs[:10]`` / ``qs[a:b]`` / ``qs[0]``: the query gets a LIMIT."""
    if len(node.slice) != 1:
        return False
    element = node.slice[0].slice
    if isinstance(element, cst.Slice):
        return element.upper is not None
    return isinstance(element, cst.Index)


def _root_name(node: cst.CSTNode) -> Optional[str]:
    current = node
    while isinstance(current, (cst.Call, cst.Attribute, cst.Subscript)):
        current = current.func if isinstance(current, cst.Call) else current.value
    return current.value if isinstance(current, cst.Name) else None


def _assigned_name(statement: Optional[cst.CSTNode], node: cst.CSTNode) -> Optional[str]:
    """``qs = <node>`` (a plain local name): the queryset may be extended later."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if isinstance(small, cst.Assign) and small.value is node and len(small.targets) == 1:
            target = small.targets[0].target
            return target.value if isinstance(target, cst.Name) else None
        if isinstance(small, cst.AnnAssign) and small.value is node and isinstance(small.target, cst.Name):
            return small.target.value
    return None


def _index_hint(problem: Problem) -> str:
    if problem.near_miss is not None:
        index = problem.near_miss
        return f" (the index {describe_index(index)} does not serve it without equality on {index.columns[0]})"
    return ""


def _columns_hint(problem: Problem) -> str:
    if len(problem.columns) > 1:
        return f"; an index on ({', '.join(problem.columns)}) would serve every filter of this query"
    return ""


def _sql_message(problem: Problem) -> str:
    table, column = problem.table, problem.column
    if problem.kind == "join":
        text = problem.join.text if problem.join is not None else column
        return (
            f"JOIN on {table}.{column} ({text}) has no index in the schema catalogue: each joined row "
            f"scans {table}; add an index on {table} ({column})"
        )
    text = problem.predicate.text if problem.predicate is not None else column
    if problem.kind == "wrapped":
        return (
            f"`{text}` wraps {table}.{column} in a function or cast, so no index on the column can serve it; "
            f"add an expression index on that expression, or compare the bare column"
        )
    if problem.kind == "order":
        return (
            f"ORDER BY {table}.{column} with LIMIT has no index to read rows in that order, so the whole table "
            f"is sorted; add an index on {table} ({column})"
        )
    how = "equality" if problem.kind == "eq" else "a range"
    return (
        f"{table}.{column} is filtered by {how} (`{text}`) but no index in the schema catalogue serves it, "
        f"so the query scans {table}{_index_hint(problem)}; add an index on {table} ({column})"
        f"{_columns_hint(problem)}"
    )


def _field_name(catalog: Any, table: str, column: str) -> Tuple[str, str]:
    """(model class name, field name) owning ``table.column``, when a model does."""
    model = catalog.model_for_table(table)
    if model is None:
        return "", column
    for name, mapped in model.columns:
        if mapped == column:
            return model.name, name
    return model.name, column


_WRAPPED_FIX = {
    "iexact": 'an expression index such as models.Index(Upper("{field}"), name=...) (iexact compares UPPER()), '
              "or a case-insensitive collation",
    "istartswith": 'an expression index such as models.Index(Upper("{field}"), name=...)',
    "date": 'a range on the bare column instead ({field}__gte=day, {field}__lt=next_day), or '
            'models.Index(TruncDate("{field}"), name=...)',
}


def _django_message(problem: Problem, chain: Any, catalog: Any) -> str:
    model_name, field = _field_name(catalog, problem.table, problem.column)
    owner = model_name or chain.model.name
    where = f"{owner}.{field}" if model_name else f"{problem.table}.{problem.column}"
    if problem.kind == "join":
        return (
            f"the lookup joins {problem.table} on {problem.column}, which has no index: each joined row scans "
            f"{problem.table}; index {where} (db_index=True)"
        )
    text = problem.predicate.text if problem.predicate is not None else field
    if problem.kind == "wrapped":
        transform = problem.predicate.transform if problem.predicate is not None else ""
        fix = _WRAPPED_FIX.get(transform, "an expression index on it (models.Index(<expression>, name=...))")
        return (
            f"`{text}` wraps {problem.table}.{problem.column} in a function, so no index on the column can serve "
            f"it; add {fix.format(field=field)}"
        )
    if problem.kind == "order":
        return (
            f"{owner} rows are sorted by {field} ({text}) with a LIMIT but no index reads them in that order, so "
            f"the whole table is sorted; add models.Index(fields=[\"{field}\"]) to {owner}.Meta.indexes"
        )
    how = "equality" if problem.kind == "eq" else "a range"
    composite = ""
    if len(problem.columns) > 1:
        fields = [_field_name(catalog, problem.table, c)[1] for c in problem.columns]
        composite = f", or models.Index(fields={fields!r}) to serve every filter of this query"
    return (
        f"`{text}` filters {problem.table}.{problem.column} by {how} but no index in the schema catalogue serves "
        f"it, so the query scans {problem.table}{_index_hint(problem)}; add db_index=True to {where}{composite}"
    )



def _sqlalchemy_message(problem: Problem, catalog: Any) -> str:
    model_name, field = _field_name(catalog, problem.table, problem.column)
    where = f"{model_name}.{field}" if model_name else f"{problem.table}.{problem.column}"
    if problem.kind == "join":
        return (
            f"the join reaches {problem.table} through {problem.column}, which has no index: each joined row scans "
            f"{problem.table}; declare {where} with index=True (a ForeignKey creates no index on PostgreSQL)"
        )
    text = problem.predicate.text if problem.predicate is not None else field
    if problem.kind == "wrapped":
        return (
            f"`{text}` wraps {problem.table}.{problem.column} in a function, so no index on the column can serve it; "
            f"add an expression index (Index(\"...\", func.<fn>({where}))) or compare the bare column"
        )
    if problem.kind == "order":
        return (
            f"`{text}` with a LIMIT has no index to read {problem.table} in that order, so the whole table is "
            f"sorted; declare {where} with index=True"
        )
    how = "equality" if problem.kind == "eq" else "a range"
    composite = ""
    if len(problem.columns) > 1:
        composite = f", or add Index(..., {', '.join(repr(c) for c in problem.columns)}) to __table_args__"
    return (
        f"`{text}` filters {problem.table}.{problem.column} by {how} but no index in the schema catalogue serves "
        f"it, so the query scans {problem.table}{_index_hint(problem)}; declare {where} with index=True{composite}"
    )

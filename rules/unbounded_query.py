"""BL102 unbounded-query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

import libcst as cst
from backendlint_rules._orm import query_chain
from backendlint_rules._sql_sinks import SqlSink, find_sql_sink
from backendlint_rules._unbounded_orm import Query, judge, query_key, row_sources
from backendlint_rules._unbounded_sql import Unbounded, unbounded
from backendlint_rules._web import (
    BATCH_PATH,
    DJANGO_LIST_VIEWS,
    DRF_LIST_VIEWS,
    MATERIALISING_BUILTINS,
    NEUTRAL_BASE_ROOTS,
    PAGINATOR_CALLS,
    PAGINATOR_METHODS,
    FunctionRole,
    function_role,
    is_batch_class,
)

from backendlint.api import Confidence, PendingReport, Rule, Severity, SqlStatement, dotted_name
from backendlint.sql.extract import sql_text

#: Sink kinds whose SQL is a whole statement that returns rows to Python.
_READ_KINDS = frozenset({"execute", "raw", "fetch", "read_sql", "text", "exec_driver_sql", "fetch_all"})
#: Methods that read one row (or value) of a result / cursor.
_ONE = frozenset(
    {"fetchone", "first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "fetchval", "fetchrow",
     "fetch_one", "fetch_val"}
)
_CHUNKED = frozenset({"fetchmany", "partitions", "yield_per", "iterate"})
_ALL = frozenset({"fetchall", "all", "fetch_all"})
_VIEWS = frozenset({"scalars", "mappings", "unique", "columns", "tuples", "t", "bindparams", "execution_options"})
#: Methods that run a statement given as their first argument (``session.execute(text(...))``).
_EXECUTORS = frozenset({"execute", "scalars", "scalar", "exec", "stream", "stream_scalars", "exec_driver_sql", "fetch_all", "fetch_one", "iterate"})
_SINGLE_EXECUTORS = frozenset({"scalar", "fetch_one", "scalar_one", "scalar_one_or_none"})
_STREAM_EXECUTORS = frozenset({"stream", "stream_scalars", "iterate"})
#: Cursor classes that stream rows from the server.
_STREAMING_CURSORS = ("SSCursor", "SSDictCursor", "ServerCursor", "AsyncServerCursor")

_SQL_FIX = "add LIMIT n and page with a keyset (WHERE id > %s ORDER BY id LIMIT n)"


@dataclass(frozen=True)
class Options:
    include_batch: bool = False
    include_tests: bool = False


@dataclass
class _SqlCandidate:
    sink: SqlSink
    verdict: Unbounded
    statement: Optional[cst.CSTNode]
    #: The receiver whose later fetch*() calls read the rows (``cur`` of ``cur.execute``).
    receiver: Optional[str]


@dataclass
class _OrmReport:
    query: Query
    node: cst.CSTNode
    how: str
    statement: Optional[cst.CSTNode]


@dataclass
class _Frame:
    node: cst.FunctionDef
    role: FunctionRole
    sql: List[_SqlCandidate] = field(default_factory=list)
    orm: List[_OrmReport] = field(default_factory=list)
    paginated: Set[int] = field(default_factory=set)


class UnboundedQuery(Rule):
    """A query that returns every matching row, however many there are.

    ## What it does
    Flags queries whose number of rows has no bound, where those rows are loaded:

    - **SQL** sent to a database (DB-API cursors, Django `connection.cursor()` and `raw()`,
      SQLAlchemy `text()`/`exec_driver_sql`, asyncpg, databases, `pandas.read_sql`) and
      statements in `.sql` files: a `SELECT` (also `UNION`/`INTERSECT`/`EXCEPT` and
      `WITH ... SELECT`) whose **outermost** query has no `LIMIT`, `FETCH FIRST` or `TOP`.
      The SQL is read from literals, concatenations, f-strings and `format`/`%` templates
      and parsed with sqlglot in the configured `sql-dialect`.
    - **ORM queries** whose rows reach a response or a caller with no bound: a Django
      QuerySet or SQLAlchemy `select()`/`session.query()`/Flask-SQLAlchemy `Model.query`
      without a slice or `.limit()` that a view or endpoint (Django, DRF, FastAPI, Flask,
      Ninja) returns, puts into `JsonResponse`/`Response`/`render()`/a template context,
      serializes with `many=True`, or loads with `list()`, a comprehension or a `for` loop;
      and an SQLAlchemy `.all()` that any function returns to its caller.
    - **List views without pagination**: Django REST framework `ListAPIView`s and
      viewsets with `pagination_class = None`, or with none set when the settings have no
      `REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]`; Django `ListView`s without `paginate_by`.

    Not flagged: aggregates without `GROUP BY` and `SELECT`s without `FROM`; equality on
    a primary key (`id`, `pk`) or a unique column in the top-level `AND` chain (unique
    columns come from the project's schema catalogue); `INSERT … SELECT`, `CREATE TABLE …
    AS`, `UPDATE … FROM`, `DELETE … USING` and subqueries; system catalogs; table
    functions (`generate_series`, `unnest`, `VALUES`, `json_each`); a `FROM` source, a
    `WHERE` term or the end of the statement that is an f-string hole (a `LIMIT` may be
    inside it); results read one row at a time (`fetchone`, `.first()`, `.scalar()`,
    `.one()`, `fetchrow`, `fetchval`) or in chunks (`fetchmany`, server-side cursors,
    `yield_per`, `.iterator()`, `chunksize=`); SQL that does not parse; sliced querysets,
    `.get()/.first()/.exists()/.count()/.aggregate()`, querysets handed to a `Paginator`
    or `paginate_queryset`, Ninja's `@paginate`; `IN` filters whose values come from the
    caller (`pk__in=ids`, `X.col.in_(ids)`) and `id BETWEEN a AND b`; Django querysets
    outside request handlers (they are lazy: the handler decides); and batch code
    (management commands, migrations, scripts, `tasks` modules, task-queue jobs) and tests
    unless configured.

    ## Why is this bad
    A query without a bound returns as many rows as the table holds. It is fast while the
    table is small, and then one day the endpoint loads a million rows into memory,
    serializes them into one response and times out, or the worker runs out of memory.
    Nothing in the code changed; the data grew.

    ## Example
    ```python
    def open_orders(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, total FROM shop_order WHERE status = %s", ["open"])
            rows = cursor.fetchall()
        return JsonResponse({"orders": rows})


    class OrderViewSet(viewsets.ModelViewSet):
        queryset = Order.objects.all()
        serializer_class = OrderSerializer
        pagination_class = None
    ```

    ## Use instead
    Page through the rows, preferably with a keyset (`WHERE id > last ORDER BY id LIMIT n`):
    ```python
    def open_orders(request):
        after = int(request.GET.get("after", 0))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, total FROM shop_order WHERE status = %s AND id > %s ORDER BY id LIMIT 100",
                ["open", after],
            )
            rows = cursor.fetchall()
        return JsonResponse({"orders": rows})


    class OrderViewSet(viewsets.ModelViewSet):
        queryset = Order.objects.order_by("id")
        serializer_class = OrderSerializer
        pagination_class = CursorPagination
    ```
    In the ORMs: `qs[:n]` or `Paginator(qs, n)` in Django, `.limit(n)` in SQLAlchemy.

    ## Options
    - `include-batch` (default `false`): also check management commands, migrations,
      scripts and task-queue jobs, which often read whole tables on purpose.
    - `include-tests` (default `false`): also check test code.

    ## References
    - [CWE-770: Allocation of Resources Without Limits or Throttling](https://cwe.mitre.org/data/definitions/770.html)
    - Django documentation: [Pagination](https://docs.djangoproject.com/en/stable/topics/pagination/)
    - Django REST framework: [Pagination](https://www.django-rest-framework.org/api-guide/pagination/)
    - SQLAlchemy documentation: [`Select.limit()`](https://docs.sqlalchemy.org/en/20/core/selectable.html#sqlalchemy.sql.expression.Select.limit)
    - Markus Winand, Use The Index, Luke: [Paging through results](https://use-the-index-luke.com/no-offset)
    """

    code = "BL102"
    name = "unbounded-query"
    message = "{what}"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    tags = ("performance", "reliability", "sql", "orm")
    cwe = 770
    languages = ("python", "sql")
    project_facts = ("catalog", "django_settings")
    requires_text = (
        "select", "SELECT", "Select", "objects", "query", "execute", "fetch", "ListAPIView", "ViewSet", "ListView",
        "read_sql", "raw",
    )
    Options = Options

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx)
        relpath = ctx.file.relpath.replace("\\", "/")
        self._skip = (ctx.file.is_test and not self.options.include_tests) or (
            bool(BATCH_PATH.search(relpath)) and not self.options.include_batch
        )
        project = ctx.project
        self._catalog = project.get("catalog") if project is not None else None
        self._settings = project.get("django_settings") if project is not None else None
        self._frames: List[_Frame] = []
        self._batch_classes: List[bool] = []

    # -- .sql files ------------------------------------------------------------------
    def check_sql(self, statement: SqlStatement) -> None:
        if self._skip or statement.expression is None:
            return
        verdict = unbounded(statement.expression, statement.text, self._is_unique)
        if verdict is not None:
            self.report(span=statement.span, message=_sql_message(verdict, python=False))

    def _is_unique(self, table: str, columns: Set[str]) -> bool:
        catalog = self._catalog
        return catalog is not None and bool(catalog.is_unique(table, columns))

    # -- scopes ----------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        batch = is_batch_class(node, self.ctx) or (bool(self._batch_classes) and self._batch_classes[-1])
        self._batch_classes.append(batch)
        if not self._skip and not batch and not self._in_batch():
            self._check_list_view(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._batch_classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scopes = self.ctx.tracker.scopes if self.ctx.tracker else []
        in_class = len(scopes) >= 2 and scopes[-2].kind == "class"
        role = function_role(node, self.ctx, in_class)
        if self._in_batch() or (in_class and self._batch_classes and self._batch_classes[-1]):
            role = FunctionRole(batch=True)
        self._frames.append(_Frame(node, role))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self._frames.pop()
        if frame.sql:
            self._settle_sql(frame)
        reported: Set[int] = set()
        for item in frame.orm:
            if item.query.key in frame.paginated or item.query.key in reported:
                continue
            reported.add(item.query.key)
            self._emit(item.node, _orm_message(item.query, item.how), item.statement)

    def _in_batch(self) -> bool:
        return bool(self._frames) and self._frames[-1].role.batch and not self.options.include_batch

    def _frame(self) -> Optional[_Frame]:
        if self._skip or not self._frames:
            return None
        frame = self._frames[-1]
        if frame.role.batch and not self.options.include_batch:
            return None
        return frame

    # -- events ------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        frame = self._frame()
        if frame is None:
            return
        sink = find_sql_sink(node, self.ctx)
        if sink is not None:
            self._sql_sink(frame, sink)
            return
        self._pagination(frame, node)
        if not frame.role.handler:
            return
        qualified = self.ctx.qualname(node.func) or ""
        if qualified in MATERIALISING_BUILTINS:
            self._reach(frame, node, "is loaded in full")
        elif any(a.keyword is not None and a.keyword.value == "many" for a in node.args):
            self._reach(frame, node, "is serialized (many=True)")
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in ("all", "fetchall"):
            self._reach(frame, node, "is loaded in full", only_loaded=True)

    def visit_Return(self, node: cst.Return) -> None:
        frame = self._frame()
        if frame is None or node.value is None:
            return
        if frame.role.handler:
            if not frame.role.paginated:
                self._reach(frame, node.value, "reaches the response")
        else:
            # outside handlers, only SQLAlchemy's explicit .all() returned to a caller
            # (a Django QuerySet is lazy: the handler that receives it decides)
            self._reach(frame, node.value, "is returned in full", only_loaded=True, framework="sqlalchemy")

    def visit_For(self, node: cst.For) -> None:
        frame = self._frame()
        if frame is not None and frame.role.handler:
            self._reach(frame, node.iter, "is loaded in full", loaded=True)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        frame = self._frame()
        if frame is not None and frame.role.handler:
            self._reach(frame, node.iter, "is loaded in full", loaded=True)

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self._frame()
        if frame is None or not frame.role.handler:
            return
        if any(isinstance(t.target, cst.Subscript) for t in node.targets):
            self._reach(frame, node.value, "reaches the response")  # context["orders"] = qs

    def _reach(
        self,
        frame: _Frame,
        node: cst.CSTNode,
        how: str,
        loaded: bool = False,
        only_loaded: bool = False,
        framework: Optional[str] = None,
    ) -> None:
        for source, materialised in row_sources(node, self.ctx, loaded):
            query = judge(source, self.ctx, materialised, self._catalog)
            if query is None or (only_loaded and not query.materialised):
                continue
            if framework is not None and query.framework != framework:
                continue
            frame.orm.append(_OrmReport(query, node, how, self.ctx.statement))

    def _pagination(self, frame: _Frame, node: cst.Call) -> None:
        """A query handed to a paginator is bounded for the rest of the function."""
        qualified = self.ctx.qualname(node.func) or ""
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
        if qualified not in PAGINATOR_CALLS and method not in PAGINATOR_METHODS:
            return
        for arg in node.args:
            key = query_key(arg.value, self.ctx)
            if key is not None:
                frame.paginated.add(key)

    # -- SQL at sinks --------------------------------------------------------------------
    def _sql_sink(self, frame: _Frame, sink: SqlSink) -> None:
        if sink.kind not in _READ_KINDS or sink.sql is None or sink.rows in ("one", "none"):
            return
        if sink.library == "asyncpg" and sink.kind != "fetch":
            return
        if sink.kind == "read_sql" and any(a.keyword is not None and a.keyword.value == "chunksize" for a in sink.call.args):
            return
        text = sql_text(sink.sql, self.ctx)
        if text is None:
            return
        parsed = text.parse(self.ctx.file.dialect)
        if parsed is None or len(parsed.statements) != 1:
            return
        verdict = unbounded(parsed.statements[0], text.text, self._is_unique)
        if verdict is None:
            return
        receiver = None
        func = sink.call.func
        if isinstance(func, cst.Attribute) and sink.kind in ("execute", "exec_driver_sql"):
            receiver = dotted_name(func.value)
            if self._streaming_cursor(func.value):
                return
        frame.sql.append(_SqlCandidate(sink, verdict, self.ctx.statement, receiver))

    def _streaming_cursor(self, receiver: cst.CSTNode) -> bool:
        """A server-side (named) cursor: ``conn.cursor(name="export")``, ``SSCursor``."""
        value: Optional[cst.CSTNode] = receiver
        if isinstance(receiver, (cst.Name, cst.Attribute)):
            name = dotted_name(receiver)
            binding = self.ctx.binding(name) if name else None
            value = binding.value if binding is not None and binding.kind in ("assign", "with") else None
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute) or value.func.attr.value != "cursor":
            return False
        for arg in value.args:
            if arg.keyword is not None and arg.keyword.value == "name":
                return True
            if arg.keyword is None and isinstance(arg.value, (cst.SimpleString, cst.FormattedString)):
                return True
            written = dotted_name(arg.value) or ""
            if written.rsplit(".", 1)[-1] in _STREAMING_CURSORS:
                return True
        return False

    def _settle_sql(self, frame: _Frame) -> None:
        tree = _Tree(frame.node)
        for candidate in frame.sql:
            sink = candidate.sink
            start: cst.CSTNode = sink.call
            if sink.kind == "text":
                executor = _executor_of(tree, sink.call)
                if executor is None:
                    verdict = "unknown"
                else:
                    verdict = _consumption(tree, executor, None)
            elif sink.rows == "many":
                verdict = _consumption(tree, start, None)
                if verdict in ("unknown", "view"):
                    verdict = "many"
            else:
                verdict = _consumption(tree, start, candidate.receiver)
            if verdict in ("one", "chunked"):
                continue
            self._emit(sink.call, _sql_message(candidate.verdict, python=True), candidate.statement)

    # -- class-based list views ----------------------------------------------------------
    def _check_list_view(self, node: cst.ClassDef) -> None:
        info = _view_info(node, self.ctx, 0)
        if info is None or info.kind is None or info.defines_list or not info.has_queryset or info.bounded:
            return
        if info.kind == "drf":
            if info.pagination == "none":
                why = "pagination_class = None"
            elif info.pagination == "absent" and self._drf_paginates() is False:
                why = "no pagination_class here and no REST_FRAMEWORK['DEFAULT_PAGINATION_CLASS'] in the settings"
            else:
                return
            fix = "set pagination_class (CursorPagination, PageNumberPagination) or a DEFAULT_PAGINATION_CLASS"
            verb = "serialized into one response"
        else:
            if info.pagination == "set":
                return
            why = "paginate_by is not set" if info.pagination == "absent" else "paginate_by = None"
            fix = "set paginate_by"
            verb = "rendered into one page"
        rows = f"{info.model} rows" if info.model else "its queryset"
        message = f"{node.name.value} lists {rows} with no pagination ({why}): every row is {verb}, however many there are; {fix}"
        self.report(node.name, message)

    def _drf_paginates(self) -> Optional[bool]:
        settings = self._settings
        if settings is None or not hasattr(settings, "drf_paginates"):
            return None
        return settings.drf_paginates()

    # -- reporting -----------------------------------------------------------------------
    def _emit(self, node: cst.CSTNode, message: str, statement: Optional[cst.CSTNode]) -> None:
        self.ctx.add_report(PendingReport(self, node, None, message, self.severity, self.confidence, statement))


# -- consumption of SQL results ------------------------------------------------------------


class _Tree:
    """Parents and source order of the nodes of one function."""

    def __init__(self, root: cst.CSTNode) -> None:
        self.parents: Dict[int, cst.CSTNode] = {}
        self.enter: Dict[int, int] = {}
        self.exit: Dict[int, int] = {}
        self.nodes: List[cst.CSTNode] = []
        stack: List[Tuple[cst.CSTNode, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                self.exit[id(node)] = len(self.nodes)
                continue
            self.enter[id(node)] = len(self.nodes)
            self.nodes.append(node)
            stack.append((node, True))
            for child in reversed(node.children):
                self.parents[id(child)] = node
                stack.append((child, False))

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.parents.get(id(node))

    def after(self, node: cst.CSTNode):
        """The nodes that follow ``node`` (and all of it) in source order."""
        return self.nodes[self.exit.get(id(node), len(self.nodes)) :]


def _method_verdict(method: str) -> str:
    if method in _ONE:
        return "one"
    if method in _CHUNKED:
        return "chunked"
    if method in _ALL:
        return "many"
    if method in _VIEWS:
        return "view"
    return "unknown"


def _executor_of(tree: _Tree, text_call: cst.Call) -> Optional[cst.Call]:
    """The call that runs a ``text()`` clause: ``session.execute(text(...))`` directly, or
    through ``.bindparams()``/``.columns()`` and a local name."""
    node: cst.CSTNode = text_call
    while True:
        parent = tree.parent(node)
        if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in ("bindparams", "columns"):
            grand = tree.parent(parent)
            if isinstance(grand, cst.Call):
                node = grand
                continue
        break
    parent = tree.parent(node)
    if isinstance(parent, cst.Arg):
        call = tree.parent(parent)
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in _EXECUTORS:
            return call
        return None
    if isinstance(parent, (cst.Assign, cst.AnnAssign)):
        name = _assigned_name(parent)
        if name is None:
            return None
        for later in tree.after(parent):
            if (
                isinstance(later, cst.Call)
                and isinstance(later.func, cst.Attribute)
                and later.func.attr.value in _EXECUTORS
                and later.args
                and isinstance(later.args[0].value, cst.Name)
                and later.args[0].value.value == name
            ):
                return later
    return None


def _assigned_name(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        return node.targets[0].target.value
    if isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
        return node.target.value
    return None


def _consumption(tree: _Tree, call: cst.Call, receiver: Optional[str], depth: int = 0) -> str:
    """How the rows of ``call`` are read: ``one``, ``chunked``, ``many`` or ``unknown``."""
    if isinstance(call.func, cst.Attribute):
        method = call.func.attr.value
        if method in _SINGLE_EXECUTORS:
            return "one"
        if method in _STREAM_EXECUTORS:
            return "chunked"
    node: cst.CSTNode = call
    while depth < 12:
        depth += 1
        parent = tree.parent(node)
        if isinstance(parent, cst.Await):
            node = parent
            continue
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = tree.parent(parent)
            if isinstance(grand, cst.Call) and grand.func is parent:
                verdict = _method_verdict(parent.attr.value)
                if verdict == "view":
                    node = grand
                    continue
                return verdict
            return "unknown"
        if isinstance(parent, (cst.Assign, cst.AnnAssign)):
            name = _assigned_name(parent)
            return _uses(tree, name, parent, depth) if name else "unknown"
        if isinstance(parent, cst.WithItem):
            asname = parent.asname.name if parent.asname is not None else None
            if isinstance(asname, cst.Name):
                return _uses(tree, asname.value, tree.parent(parent) or parent, depth)
            return "unknown"
        if isinstance(parent, cst.Expr):
            return _uses(tree, receiver, parent, depth) if receiver else "unknown"
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return "many"
        if isinstance(parent, cst.Subscript) and parent.value is node:
            return "one"
        if isinstance(parent, cst.Arg):
            outer = tree.parent(parent)
            name = dotted_name(outer.func) if isinstance(outer, cst.Call) else None
            if name in ("list", "tuple", "sorted", "set"):
                return "many"
            if name == "next":
                return "one"
            return "unknown"
        return "unknown"
    return "unknown"


def _uses(tree: _Tree, name: str, statement: cst.CSTNode, depth: int) -> str:
    """How the rows behind ``name`` are read after ``statement``: the first read decides."""
    for node in tree.after(statement):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and dotted_name(node.func.value) == name:
            method = node.func.attr.value
            if method in ("execute", "executemany", "callproc", "close"):
                return "unknown"  # the cursor is reused before its rows are read
            verdict = _method_verdict(method)
            if verdict == "view":
                return _consumption(tree, node, None, depth + 1)
            if verdict != "unknown":
                return verdict
        elif isinstance(node, (cst.For, cst.CompFor)) and isinstance(node.iter, cst.Name) and node.iter.value == name:
            return "many"
    return "unknown"


# -- class-based views ---------------------------------------------------------------------


@dataclass
class _ViewInfo:
    kind: Optional[str] = None  # "drf" or "django"
    pagination: str = "absent"  # "absent", "none", "set"
    defines_list: bool = False
    has_queryset: bool = False
    bounded: bool = False
    model: str = ""


def _view_info(node: cst.ClassDef, ctx: Any, depth: int) -> Optional[_ViewInfo]:
    """What a class-based view says about listing and pagination; ``None`` when one of its
    bases is unknown (it may paginate)."""
    if depth > 6:
        return None
    info = _ViewInfo()
    own_pagination = None
    for statement in node.body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    own_pagination = _class_attribute(info, small.targets[0].target.value, small.value, ctx) or own_pagination
        elif isinstance(statement, cst.FunctionDef):
            name = statement.name.value
            if name in ("list", "get"):
                info.defines_list = True
            elif name == "get_queryset":
                info.has_queryset = True
                info.bounded = info.bounded or _returns_slice(statement)
            elif name in ("get_paginate_by", "paginate_queryset", "paginator", "get_paginator", "pagination_class"):
                own_pagination = "set"
    for base in node.bases:
        qualified = ctx.qualname(base.value) or ""
        if qualified in DRF_LIST_VIEWS:
            info.kind = info.kind or "drf"
            continue
        if qualified in DJANGO_LIST_VIEWS:
            info.kind = info.kind or "django"
            continue
        if qualified.startswith(NEUTRAL_BASE_ROOTS):
            continue
        written = dotted_name(base.value)
        binding = ctx.binding(written) if written and "." not in written else None
        if binding is None or binding.kind != "def" or not isinstance(binding.value, cst.ClassDef):
            return None
        inherited = _view_info(binding.value, ctx, depth + 1)
        if inherited is None:
            return None
        info.kind = info.kind or inherited.kind
        info.defines_list = info.defines_list or inherited.defines_list
        info.has_queryset = info.has_queryset or inherited.has_queryset
        info.bounded = info.bounded or inherited.bounded
        info.model = info.model or inherited.model
        if own_pagination is None and inherited.pagination != "absent":
            own_pagination = inherited.pagination
    info.pagination = own_pagination or "absent"
    return info


def _class_attribute(info: _ViewInfo, name: str, value: cst.BaseExpression, ctx: Any) -> Optional[str]:
    if name in ("pagination_class", "paginate_by"):
        empty = isinstance(value, cst.Name) and value.value == "None" or isinstance(value, cst.Integer) and value.value == "0"
        return "none" if empty else "set"
    if name == "queryset":
        info.has_queryset = True
        chain = query_chain(value, ctx)
        if chain is not None:
            info.model = info.model or chain.model_name
            info.bounded = info.bounded or bool(chain.subscripts) or any(s.name not in _LISTING for s in chain.steps)
    elif name == "model":
        info.has_queryset = True
        info.model = info.model or (dotted_name(value) or "")
    return None


#: QuerySet methods a class-level ``queryset`` may use and still list rows.
_LISTING = frozenset(
    {"all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate", "only", "defer", "distinct",
     "values", "values_list", "using", "alias", "reverse"}
)


def _returns_slice(function: cst.FunctionDef) -> bool:
    for node in _walk(function.body):
        if isinstance(node, cst.Return) and isinstance(node.value, cst.Subscript):
            return True
    return False


def _walk(root: cst.CSTNode):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


# -- messages ---------------------------------------------------------------------------------


def _sql_message(verdict: Unbounded, python: bool) -> str:
    source = f"{verdict.shape} from {verdict.table}" if verdict.table else verdict.shape
    fix = _SQL_FIX if python else _SQL_FIX.replace("%s", ":last")
    chunks = ", or read the rows in chunks (fetchmany(), a server-side cursor)" if python else ""
    return f"{source} returns every matching row: {verdict.detail}; {fix}{chunks}"


def _orm_message(query: Query, how: str) -> str:
    model = next((part for part in query.model.split(".") if part[:1].isupper()), "model")
    if query.framework == "django":
        fix = "slice it (qs[:n]) or paginate it (Paginator, a DRF pagination class)"
        return f"{query.description} {how} with no bound: it loads every matching {model} row, however many there are; {fix}"
    fix = f"add .limit(n) (keyset: .where({model}.id > last_id).order_by({model}.id).limit(n)) or paginate"
    return f"the {model} query {how} with no .limit(): it loads every matching row, however many there are; {fix}"

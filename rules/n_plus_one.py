"""BL101 n-plus-one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Set, Tuple

import libcst as cst
from backendlint_rules._loop_facts import children, depends_on, memoised, note_unpacking, only_in_slices, source_text
from backendlint_rules._loop_model import LoopInfo, Loops
from backendlint_rules._nplusone_sql import bounded, dml_kind, statement_dependence, statement_kind, unwrap_text
from backendlint_rules._orm import (
    DJANGO_ASYNC,
    DJANGO_EVALUATING,
    DJANGO_INSTANCE,
    DJANGO_LAZY,
    DJANGO_PREFETCH_REQUERY_FINAL,
    DJANGO_RELATED_WRITES,
    EVALUATING_BUILTINS,
    SQLALCHEMY_QUERY_EVALUATING,
    TORTOISE_QUERY,
    TORTOISE_WRITES,
)
from backendlint_rules._row_sources import (
    UNKNOWN,
    Loading,
    RelatedChain,
    Rows,
    _legacy_query,
    _sqlalchemy_loaded,
    _target,
    is_session,
    lookup_model,
    query_chain,
    related_chain,
)
from backendlint_rules._sql_sinks import find_sql_sink

from backendlint.api import Confidence, Rule, Severity, dotted_name
from backendlint.sql.extract import sql_text

Dependence = Callable[[LoopInfo], Optional[bool]]


@dataclass(frozen=True)
class Options:
    include_tests: bool = False
    include_migrations: bool = False
    write_loops: bool = True
    identity_map: bool = True


@dataclass
class Hit:
    """A database round trip found at ``node``; whether it is an N+1 depends on the loops."""

    node: cst.CSTNode
    what: str
    fix: str
    write: bool = False
    confidence: Confidence = Confidence.HIGH
    #: A page of rows (LIMIT / a slice): in a while loop this is batching.
    page: bool = False
    depends: Optional[Dependence] = None
    #: Reported only against this loop (relation access on its rows).
    loop: Optional[LoopInfo] = None
    message: Optional[str] = None
    identity: bool = False
    #: May be reported as the same query repeated on every row of a loop over rows.
    invariant: bool = True
    key: Optional[Tuple[object, ...]] = None
    #: Judged only against these loops (a QuerySet name bound in their bodies).
    only: Optional[Set[int]] = None
    #: The expression whose dependence on the loop counts (default: ``node``).
    dep_node: Optional[cst.CSTNode] = None
    #: A variable holding the model class: a loop it depends on iterates models, not rows.
    model_var: Optional[cst.CSTNode] = None


def _base(method: str) -> str:
    """``acount`` -> ``count``; other names unchanged."""
    if method in DJANGO_ASYNC or method in ("aadd", "aremove", "aclear", "aset", "asave", "adelete",
                                              "arefresh_from_db", "aiterator"):
        return method[1:]
    return method


class NPlusOne(Rule):
    """A database query (or lazy relation load) executed once per iteration of a loop.

    ## What it does
    Flags a call that hits the database, or an attribute that loads a relation, inside a
    `for`/`async for`/`while` loop, a comprehension or `map(lambda ...)`, when it runs once per
    iteration: its arguments depend on the loop variable, or the loop iterates rows of a query.

    - **Django** (sync and `a*` async twins): manager and QuerySet calls that evaluate
      (`get`, `first`, `count`, `exists`, `aggregate`, `create`, `update`...), QuerySets iterated
      or passed to `list()`/`len()` per iteration, foreign-key and one-to-one access on rows
      fetched without `select_related()`, related managers (`author.books.all()`, `.count()`) of
      rows fetched without `prefetch_related()`, prefetched relations that still re-query
      (`.filter()`, `.exclude()`, `.order_by()`, `.last()`, `.first()` when the related model has
      no `Meta.ordering`), fields deferred by `only()`/`defer()`, and `save()`/`delete()`/
      `refresh_from_db()` per row.
    - **SQLAlchemy / SQLModel** (sync and async): `session.execute/scalars/scalar/exec/get/
      refresh/merge`, `session.query(...).first()/all()/...`, relationship access on rows whose
      query has no eager loader option (`selectinload`, `joinedload`, `subqueryload`,
      `immediateload`, `contains_eager`) and whose relationship is declared lazy (default
      `"select"`), `dynamic` relationships, `await obj.awaitable_attrs.rel`, and
      `session.add(...)` followed by `flush()`/`commit()` per row.
    - **DB-API cursors, asyncpg, databases, pandas**: `execute`/`fetch*` whose parameters (or the
      values spliced into the SQL) come from the loop variable.
    - **Tortoise ORM**: `await Model.filter(...).first()` and other awaited model queries, and
      `await obj.fetch_related(...)` per row.

    Eager loading is read from the query the loop iterates, following local re-bindings
    (`qs = qs.select_related(...)`), and relationship strategies from the project's models
    (the schema catalogue). Relation access is only judged on rows of a model the catalogue
    knows, fetched by a query in the same function.

    Not flagged: loops over literal or constant collections, models, fields, settings and
    `range(<literal>)`; batching loops (`batched(...)`, `range(0, n, size)`, `chunk` variables, a
    `while` loop fetching pages with `LIMIT`/slices); executing a list of statements or one
    statement per table; cached lookups (`ContentType.objects.get_for_model`,
    `Site.objects.get_current`); `x.author_id`; plain fields; lazy query building that is never
    evaluated in the loop; calls followed by `return`/`break`/`raise` (they run once); items of an
    iterable of unknown origin (only explicit manager/session calls are judged there); relation
    access in `async def` functions (it raises instead of querying, a different bug); batch APIs
    (`bulk_create`, `bulk_update`, `executemany`).

    Writes per row (`save()`, `create()`, `update()`, `INSERT` per row, `add()`+`flush()`) are
    reported with severity *info*: batching them changes behaviour (a model's own `save()`/`delete()`
    and per-object signals no longer run), so they are advice that does not fail a build at the
    default `fail-on`. Identity-map lookups (`session.get()`, many-to-one relationships, which
    only query for keys not loaded yet) are reported with low severity and low confidence. Test
    code and migrations are skipped unless the options below ask for them.

    ## Why is this bad
    One query per row turns a page of 50 rows into 51 round trips, and a nightly job over
    100,000 rows into 100,001. Each round trip costs network latency and database work; the
    page is fast in development with ten rows and slow in production. It is the most common
    performance bug of ORM code, and invisible in review.

    ## Example
    ```python
    def invoice_lines(request):
        lines = []
        for order in Order.objects.filter(status="paid"):
            lines.append((order.customer.name, order.items.count()))
        return lines
    ```

    ## Use instead
    ```python
    from django.db.models import Count

    def invoice_lines(request):
        orders = (
            Order.objects.filter(status="paid")
            .select_related("customer")
            .annotate(item_count=Count("items"))
        )
        return [(order.customer.name, order.item_count) for order in orders]
    ```
    SQLAlchemy: `select(User).options(selectinload(User.orders))`; several keys at once:
    `select(User).where(User.id.in_(ids))`; DB-API: one query with `WHERE id = ANY(%s)`;
    writes: `bulk_create()`, `bulk_update()`, `executemany()`, `session.execute(insert(X), rows)`.

    ## Options
    - `include-tests` (default `false`): also check test code (tests, fixtures, factories), where
      per-row queries on small data are usually deliberate.
    - `include-migrations` (default `false`): also check Django migrations and Alembic revisions,
      which run once per deployment.
    - `write-loops` (default `true`): report writes per row (`save()`, `create()`, `INSERT`,
      `flush()`), with severity info.
    - `identity-map` (default `true`): report `session.get()`/`merge()` and many-to-one
      relationship loads per row (low confidence: SQLAlchemy skips keys already loaded).

    ## References
    - Django documentation: [Database access optimization](https://docs.djangoproject.com/en/stable/topics/db/optimization/)
    - Django documentation: [select_related](https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-related) and [prefetch_related](https://docs.djangoproject.com/en/stable/ref/models/querysets/#prefetch-related)
    - SQLAlchemy documentation: [Relationship Loading Techniques](https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html)
    - [CWE-1073: Non-SQL-Invokable Control Element with Excessive Number of Data Resource Accesses](https://cwe.mitre.org/data/definitions/1073.html)
    """

    code = "BL101"
    name = "n-plus-one"
    message = "{what}"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    tags = ("performance", "database")
    cwe = 1073
    project_facts = ("catalog",)
    requires_text = (
        "objects", "session", "Session", "execute", "cursor", "fetch", "query", "select", "save(", "scalar",
        "awaitable_attrs", "_set", "prefetch", "get_object", "refresh", "delete(", "django", "sqlalchemy",
        "sqlmodel", "asyncpg", "read_sql", "flush", "commit", "tortoise",
    )
    Options = Options

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx)
        self._skip = (ctx.file.is_test and not self.options.include_tests) or (
            _is_migration(ctx.file.relpath) and not self.options.include_migrations
        )
        self.loops = Loops(ctx)
        self._targets: Set[int] = set()
        self._seen: Set[int] = set()
        self._reported: Set[Tuple[object, ...]] = set()
        self._memo: Dict[int, bool] = {}
        self._tortoise = "tortoise" in ctx.file.source

    # -- visitors ------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._targets.add(id(target.target))
            note_unpacking(self.ctx, target.target, node.value)
            if self.ctx.loops:
                self.loops.note_assign(target.target, node.value, self._memo_here)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets.add(id(node.target))
        if self.ctx.loops:
            self.loops.note_assign(node.target, node.value, self._memo_here)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and self.ctx.loops:
            self.loops.note_assign(node.asname.name, node.item, self._memo_here)

    def _memo_here(self, loop: cst.CSTNode) -> bool:
        return self._memoised_in(loop, self.ctx.statements)

    def visit_Del(self, node: cst.Del) -> None:
        self._targets.add(id(node.target))

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip:
            return
        qualified = self.ctx.qualname(node.func) if isinstance(node.func, cst.Name) else None
        if qualified == "builtins.map":
            self.loops.note_map(node)
        elif _PREFETCH_LATER.search(dotted_name(node.func) or ""):
            self.loops.note_prefetch(node)
        if not self._in_loop():
            return
        infos = self.loops.infos()
        if not infos:
            return
        hit = self._call_hit(node)
        if hit is not None:
            self._judge(hit, infos)
        if qualified in EVALUATING_BUILTINS and node.args:
            self._evaluated(node.args[0].value, infos)

    def visit_For(self, node: cst.For) -> None:
        if not self._skip and self._in_loop():
            infos = self.loops.infos()
            if infos:
                self._evaluated(node.iter, infos)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if not self._skip and self._in_loop():
            infos = self.loops.infos()
            if infos:
                self._evaluated(node.iter, infos, own=node.iter)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if self._skip or not self._in_loop():
            return
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)):
                infos = self.loops.infos()
                if infos:
                    self._evaluated(target.comparator, infos)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._skip or not self._in_loop():
            return
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = node.slice[0].slice.value
            if isinstance(index, (cst.SimpleString, cst.ConcatenatedString)):
                return
            infos = self.loops.infos()
            if infos:
                self._evaluated(node.value, infos)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._skip or id(node) in self._seen or not self._in_loop():
            return
        parts: List[str] = []
        current: cst.CSTNode = node
        while isinstance(current, cst.Attribute):
            self._seen.add(id(current))
            parts.append(current.attr.value)
            current = current.value
        if not isinstance(current, cst.Name) or current.value in ("self", "cls"):
            return
        parts.reverse()
        if id(node) in self._targets:
            parts = parts[:-1]
        if parts:
            infos = self.loops.infos()
            if infos:
                self._relation_access(node, current.value, parts)

    def visit_Await(self, node: cst.Await) -> None:
        if self._skip or not self._tortoise or not self._in_loop():
            return
        call = node.expression
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return
        infos = self.loops.infos()
        if infos:
            hit = self._tortoise_hit(call)
            if hit is not None:
                self._judge(hit, infos)

    def _tortoise_hit(self, call: cst.Call) -> Optional[Hit]:
        """``await Model.filter(...).first()`` / ``await obj.fetch_related("rel")`` (Tortoise)."""
        method = call.func.attr.value  # type: ignore[attr-defined]
        receiver = call.func.value  # type: ignore[attr-defined]
        what = f"`await {source_text(call)}`"
        if method == "fetch_related" and isinstance(receiver, cst.Name):
            return Hit(call, what, "prefetch the relations on the query the loop iterates "
                       "(.prefetch_related(...)) or load them for all rows at once with "
                       "await Model.fetch_for_list(objs, ...)")
        if method in ("save", "delete") and isinstance(receiver, cst.Name) and self.loops.loop_of(receiver.value):
            return Hit(call, what, "write all rows at once with Model.bulk_create() / bulk_update()", write=True)
        current: cst.CSTNode = call
        methods: List[str] = []
        while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            methods.append(current.func.attr.value)
            current = current.func.value
        if not methods or any(m not in TORTOISE_QUERY for m in methods):
            return None
        if not isinstance(current, cst.Name) or not current.value[:1].isupper():
            return None
        bindings = self.ctx.bindings(current.value)
        if self.ctx.qualname(current) is None and not (bindings and bindings[-1].kind == "def"):
            return None  # neither an imported name nor a class of this module
        if "prefetch_related" in methods and "fetch_related" in methods:
            return None
        write = methods[0] in TORTOISE_WRITES
        fix = (_DJANGO_FIXES.get(methods[0], _DJANGO_FIXES["iterate"]) if methods[0] != "get_or_none"
               else _DJANGO_FIXES["get"])
        return Hit(call, what, fix.replace("bulk_create()", "Model.bulk_create()"), write=write)

    def _in_loop(self) -> bool:
        if self.ctx.loops:
            return True
        function = self.ctx.function
        return function is not None and function.kind == "lambda"

    # -- what a call does ----------------------------------------------------------------
    def _call_hit(self, node: cst.Call) -> Optional[Hit]:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        return (
            self._django_query(node, method)
            or self._related_call(node, method)
            or self._legacy_query(node, method)
            or self._session_call(node, method)
            or self._sql_sink(node)
            or self._instance_call(node, method)
        )

    def _django_query(self, node: cst.Call, method: str) -> Optional[Hit]:
        if method not in DJANGO_EVALUATING and method not in DJANGO_ASYNC and method not in ("iterator", "aiterator"):
            return None
        chain = query_chain(node, self.ctx)
        if chain is None or chain.framework != "django" or not chain.steps or chain.steps[-1].call is not node:
            return None
        evaluating = DJANGO_EVALUATING | DJANGO_ASYNC | {"iterator", "aiterator"}
        if any(step.name in evaluating for step in chain.steps[:-1]):
            return None
        base = _base(method)
        if base in ("bulk_create", "bulk_update") or chain.has("select_for_update"):
            return None  # batch APIs; re-reading a row under a lock is deliberate
        write = base in ("create", "get_or_create", "update_or_create", "update", "delete")
        return Hit(
            node,
            f"`{source_text(node)}`",
            _DJANGO_FIXES.get(base, _DJANGO_FIXES["iterate"]),
            write=write,
            confidence=Confidence.HIGH if chain.certain else Confidence.MEDIUM,
            page=_sliced(node),
            model_var=_model_var(chain.model_name),
        )

    def _related_call(self, node: cst.Call, method: str) -> Optional[Hit]:
        chain = related_chain(node, self.ctx, self.loops.named)
        if chain is None or not chain.steps or chain.steps[-1].call is not node:
            return None
        base = _base(method)
        if chain.parent.framework != "django":
            return self._dynamic(chain, node, base)
        if base in DJANGO_RELATED_WRITES:
            if _locked(_root(chain.base), self.ctx):
                return None
            return Hit(
                node,
                f"`{source_text(node)}`",
                f"pass all objects to one call ({source_text(chain.base)}.{base}(*objs)) or bulk_create() the through rows"
                if base in ("add", "remove", "set") else _DJANGO_FIXES.get(base, _DJANGO_FIXES["iterate"]),
                write=True,
            )
        if base not in DJANGO_EVALUATING and base not in ("iterator",):
            return None
        return self._related_read(chain, node, base)

    def _related_read(self, chain: RelatedChain, node: cst.CSTNode, final: str) -> Optional[Hit]:
        """A Django related manager evaluated (``final``: the method, or ``iterate``)."""
        relation = chain.relation.name
        what = f"`{source_text(node)}`"
        target = _display_model(chain.relation.target)
        names = [_base(s.name) for s in chain.steps]
        known = DJANGO_LAZY | DJANGO_EVALUATING | {"iterator"}
        if not chain.covered:
            if any(n not in known for n in names) and final == "iterate":
                return None  # a custom QuerySet method: lazy or not, unknown
            return Hit(
                node, what, "", message=(
                    f"{what} queries {target} once per row of `{{loop}}` (N+1 queries); "
                    f"add prefetch_related(\"{_relation_path(chain.base)}\") to the query"
                ), key=("related", _relation_path(chain.base)),
            )
        if chain.loading.unknown:
            return None
        lazy = names[:-1] if final != "iterate" else names
        reason = ""
        for name in lazy:
            if name == "all":
                continue
            reason = f"{name}() on a prefetched relation runs a new query"
            break
        if not reason and final in DJANGO_PREFETCH_REQUERY_FINAL:
            reason = f"{final}() on a prefetched relation runs a new query"
        if not reason and final == "first" and not _ordered(chain):
            if chain.target is None:
                return None
            reason = f"first() re-queries a prefetched relation whose model ({target}) has no Meta.ordering"
        if not reason:
            return None
        return Hit(
            node, what, "", message=(
                f"{what} re-queries {target} once per row of `{{loop}}` although \"{relation}\" is prefetched: {reason}; "
                f"work on `{source_text(chain.base)}.all()` in Python, or use Prefetch(\"{relation}\", queryset=..., to_attr=...)"
            ), key=("requery", _relation_path(chain.base), final),
        )

    def _dynamic(self, chain: RelatedChain, node: cst.CSTNode, final: str) -> Optional[Hit]:
        """An SQLAlchemy ``lazy="dynamic"`` relationship evaluated."""
        if chain.relation.lazy != "dynamic":
            return None
        if final != "iterate" and final not in SQLALCHEMY_QUERY_EVALUATING:
            return None
        target = _display_model(chain.relation.target)
        what = f"`{source_text(node)}`"
        return Hit(
            node, what, "", message=(
                f"{what} queries {target} once per row of `{{loop}}`: \"{chain.relation.name}\" is a dynamic relationship, "
                f"which runs a query on every use; load the related rows for all parents with one query "
                f"(an IN condition) or declare the relationship lazy=\"selectin\""
            ), key=("dynamic", _relation_path(chain.base)),
        )

    def _legacy_query(self, node: cst.Call, method: str) -> Optional[Hit]:
        if method not in SQLALCHEMY_QUERY_EVALUATING:
            return None
        chain = query_chain(node, self.ctx)
        if chain is None or chain.framework != "sqlalchemy" or not chain.steps or chain.steps[-1].call is not node:
            return None
        if not _legacy_query(node, self.ctx) or any(s.name in SQLALCHEMY_QUERY_EVALUATING for s in chain.steps[:-1]):
            return None
        confidence = Confidence.HIGH if chain.certain else Confidence.MEDIUM
        if method == "get":
            return self._identity(node, chain.model_name)
        return Hit(node, f"`{source_text(node)}`", _SQLA_READ_FIX, confidence=confidence, page=_has_step(node, "limit"),
                   model_var=_model_var(chain.model_name))

    def _session_call(self, node: cst.Call, method: str) -> Optional[Hit]:
        if method not in _SESSION_METHODS:
            return None
        receiver = node.func.value  # type: ignore[attr-defined]
        if not is_session(receiver, self.ctx):
            return None
        what = f"`{source_text(node)}`"
        if method in ("get", "get_one"):
            if len(node.args) < 2 or not _model_like(node.args[0].value):
                return None
            return self._identity(node, dotted_name(node.args[0].value) or "the model")
        if method == "merge":
            return self._identity(node, "", merge=True) if node.args else None
        if method == "refresh":
            return Hit(node, what, "load the objects again with one query (a select with an IN condition and "
                       "populate_existing) instead of refreshing each") if node.args else None
        if method in ("flush", "commit"):
            return self._flush(node, receiver)
        if not node.args:
            return None
        statement = node.args[0].value
        core = unwrap_text(statement, self.ctx)
        text = sql_text(core, self.ctx)
        kind = statement_kind(text)
        if kind == "other":
            return None
        write = kind == "write" or dml_kind(core, self.ctx) != ""
        params = [a.value for a in node.args[1:]]

        def depends(info: LoopInfo) -> Optional[bool]:
            verdict = statement_dependence(statement, info.names, self.ctx)
            if verdict is None:
                return None  # the statement comes from the loop: a list of statements
            return verdict or any(depends_on(p, info.names, self.ctx) for p in params)

        fix = _SQLA_WRITE_FIX if write else _SQLA_READ_FIX
        select = query_chain(core, self.ctx)
        return Hit(node, what, fix, write=write, depends=depends,
                   model_var=_model_var(select.model_name) if select is not None else None,
                   page=bounded(text) or _has_step(core, "limit") or _has_step(core, "slice") or _has_step(core, "fetch"))

    def _identity(self, node: cst.Call, model: str, merge: bool = False) -> Optional[Hit]:
        if not self.options.identity_map:
            return None
        what = f"`{source_text(node)}`"
        if merge:
            fix = ("merge() loads each object by primary key (the identity map skips keys already loaded); "
                   "load them with one IN query, or use an INSERT ... ON CONFLICT statement")
        else:
            short = model.rsplit(".", 1)[-1]
            fix = f"load them with one query: select({short}).where({short}.id.in_(keys))"
        return Hit(node, what, fix, confidence=Confidence.LOW, identity=True)

    def _flush(self, node: cst.Call, receiver: cst.CSTNode) -> Optional[Hit]:
        name = dotted_name(receiver)
        if name is None or not self.options.write_loops:
            return None

        def depends(info: LoopInfo) -> Optional[bool]:
            return _adds_in(info.node, name)

        return Hit(
            node, f"`{source_text(node)}`",
            f"add all objects first and {node.func.attr.value}() once (session.add_all(objs)), or insert them "  # type: ignore[attr-defined]
            "with one session.execute(insert(Model), rows)",
            write=True, depends=depends, invariant=False,
        )

    def _sql_sink(self, node: cst.Call) -> Optional[Hit]:
        sink = find_sql_sink(node, self.ctx)
        if sink is None or sink.kind not in _SINK_KINDS or sink.sql is None:
            return None
        core = unwrap_text(sink.sql, self.ctx)
        text = sql_text(core, self.ctx)
        kind = statement_kind(text)
        if kind == "other":
            return None
        write = kind == "write" or dml_kind(core, self.ctx) != ""
        sql = sink.sql
        params = _sink_params(node, sink.library, sql, sink.params)

        def depends(info: LoopInfo) -> Optional[bool]:
            verdict = statement_dependence(sql, info.names, self.ctx)
            if verdict is None:
                return None  # the statement comes from the loop: a list of statements
            return verdict or any(depends_on(p, info.names, self.ctx) for p in params)

        fix = _DBAPI_WRITE_FIX if write else _DBAPI_READ_FIX
        return Hit(
            node, f"`{source_text(node)}`", fix, write=write, depends=depends, page=bounded(text),
            confidence=Confidence.HIGH if sink.resolved else Confidence.MEDIUM,
        )

    def _instance_call(self, node: cst.Call, method: str) -> Optional[Hit]:
        if method not in DJANGO_INSTANCE:
            return None
        receiver = node.func.value  # type: ignore[attr-defined]
        rows = self._instance(receiver)
        if rows is None or _locked(receiver, self.ctx):
            return None
        base = _base(method)
        model = rows.model_name.rsplit(".", 1)[-1] or "Model"
        fixes = {
            "save": "if the model's save() need not run per object, write them with one bulk_update(objs, [fields]) "
                    "(bulk_create() for new ones) or one queryset update()",
            "delete": f"if the model's delete() need not run per object, delete them with one query: "
                      f"{model}.objects.filter(pk__in=...).delete()",
            "refresh_from_db": "re-read all rows with one query instead of refreshing each",
            "full_clean": "full_clean() runs unique and foreign-key queries for each object; validate in bulk "
                          "(one query for the keys) before bulk_create()",
            "validate_unique": "validate_unique() queries for each object; check the keys with one query",
        }
        return Hit(node, f"`{source_text(node)}`", fixes.get(base, fixes["save"]), write=base in ("save", "delete"),
                   confidence=Confidence.HIGH if rows.model is not None else Confidence.MEDIUM)

    def _instance(self, node: cst.CSTNode) -> Optional[Rows]:
        """A Django model instance: a row of a query, or one built with ``Model(...)``."""
        if isinstance(node, cst.Call):
            return self._constructed(node)
        if not isinstance(node, cst.Name):
            return None
        rows = self.loops.named(node.value)
        if rows is not None:
            return rows if rows.framework == "django" and rows.instances else None
        if self.loops.loop_of(node.value) is not None:
            return None
        bindings = self.ctx.bindings(node.value)
        if bindings and bindings[-1].kind == "assign" and isinstance(bindings[-1].value, cst.Call):
            return self._constructed(bindings[-1].value)
        return None

    def _constructed(self, call: cst.Call) -> Optional[Rows]:
        model, written = lookup_model(self.ctx, call.func)
        if model is None or model.framework != "django":
            return None
        return Rows("django", model, written or model.name, source_text(call), True, Loading())

    # -- lazy queries evaluated by their consumer -----------------------------------------
    def _evaluated(self, expr: cst.CSTNode, infos: List[LoopInfo], own: Optional[cst.CSTNode] = None) -> None:
        while isinstance(expr, cst.Await):
            expr = expr.expression
        only: Optional[Set[int]] = None
        if isinstance(expr, cst.Name):
            # A QuerySet keeps its rows once evaluated: iterating one bound before the loop
            # queries once; only one built again in the loop body queries per iteration.
            bindings = self.ctx.bindings(expr.value)
            if not bindings or bindings[-1].kind not in ("assign", "annotation") or bindings[-1].value is None:
                return
            only = self.loops.bound_in(bindings[-1].value)
            if not only:
                return
            reported = expr
            expr = bindings[-1].value
        else:
            reported = expr
        hit = self._lazy_hit(expr)
        if hit is not None:
            hit.dep_node = expr
            hit.node = reported
            hit.only = only
            if only is not None:
                hit.what = f"`{source_text(reported)}` (`{source_text(expr)}`)"
            self._judge(hit, infos, own)

    def _lazy_hit(self, expr: cst.CSTNode) -> Optional[Hit]:
        hit: Optional[Hit] = None
        chain = query_chain(expr, self.ctx)
        if chain is not None and (chain.steps or chain.framework == "django"):
            evaluating = DJANGO_EVALUATING | DJANGO_ASYNC | {"iterator", "aiterator"}
            if chain.framework == "django" and not any(s.name in evaluating for s in chain.steps) and not chain.has(
                "select_for_update"
            ):
                hit = Hit(expr, f"`{source_text(expr)}`", _DJANGO_FIXES["iterate"],
                          confidence=Confidence.HIGH if chain.certain else Confidence.MEDIUM, page=_sliced(expr),
                          model_var=_model_var(chain.model_name))
            elif chain.framework == "sqlalchemy" and _legacy_query(expr, self.ctx) and not any(
                s.name in SQLALCHEMY_QUERY_EVALUATING for s in chain.steps
            ):
                hit = Hit(expr, f"`{source_text(expr)}`", _SQLA_READ_FIX,
                          confidence=Confidence.HIGH if chain.certain else Confidence.MEDIUM,
                          model_var=_model_var(chain.model_name))
        else:
            related = related_chain(expr, self.ctx, self.loops.named)
            if related is not None:
                if related.parent.framework == "django":
                    if related.steps and all(_base(s.name) not in DJANGO_EVALUATING for s in related.steps):
                        hit = self._related_read(related, expr, "iterate")
                else:
                    hit = self._dynamic(related, expr, "iterate")
        return hit

    # -- relation access -----------------------------------------------------------------
    def _relation_access(self, node: cst.Attribute, root: str, parts: List[str]) -> None:
        rows = self.loops.named(root)
        if rows is None or not rows.instances or rows.model is None:
            return
        loop = self._loop_of_row(root)
        if loop is None:
            return
        function = self.ctx.function
        in_async = function is not None and function.is_async
        current = rows
        for index, part in enumerate(parts):
            model = current.model
            if model is None:
                return
            prefix = ".".join([root, *parts[: index + 1]])
            if part == "awaitable_attrs" and current.framework == "sqlalchemy":
                if index + 1 < len(parts):
                    self._awaitable(node, current, parts[index + 1], f"{prefix}.{parts[index + 1]}", loop)
                return
            relation = model.relation(part)
            if relation is None:
                if current.framework == "django" and index == 0:
                    self._deferred(node, current, part, prefix, loop)
                return
            if in_async:
                return
            strategy, loading = current.loading.child(part)
            target = _target(self.ctx, relation.target)
            short = _display_model(relation.target)
            if current.framework == "django":
                if relation.many:
                    return
                covered = strategy == "eager" or (current.loading.all_fk and relation.kind in ("fk", "o2o"))
                if not covered:
                    following = parts[index + 1] if index + 1 < len(parts) else None
                    self._foreign_key(node, relation, prefix, following, loop, short, parts[: index + 1])
                    return
                if current.loading.all_fk and strategy != "eager":
                    loading = UNKNOWN
            else:
                if relation.lazy in ("dynamic", "write_only"):
                    return
                if not _sqlalchemy_loaded(strategy, relation.lazy):
                    self._lazy_relationship(node, current, relation, prefix, loop, short)
                    return
            current = Rows(current.framework, target, relation.target, prefix, True, loading)

    def _foreign_key(self, node: cst.CSTNode, relation, prefix: str, following: Optional[str],  # type: ignore[no-untyped-def]
                     loop: LoopInfo, target: str, path: List[str]) -> None:
        if following in ("id", "pk") and relation.column and relation.kind == "fk":
            owner = prefix.rsplit(".", 1)[0]
            message = (
                f"`{prefix}.{following}` loads the related {target} with one query per row of `{{loop}}` only to read "
                f"its key; use `{owner}.{relation.column}`, which needs no query"
            )
        elif relation.kind == "generic_fk":
            message = (
                f"`{prefix}` loads the related object with one query per row of `{{loop}}` (N+1 queries); "
                f"add prefetch_related(\"{'__'.join(path)}\") to the query"
            )
        else:
            message = (
                f"`{prefix}` loads the related {target} with one query per row of `{{loop}}` (N+1 queries); "
                f"add select_related(\"{'__'.join(path)}\") to the query"
            )
        self._judge(Hit(node, f"`{prefix}`", "", loop=loop, message=message, key=("fk", prefix)), [loop])

    def _lazy_relationship(self, node: cst.CSTNode, rows: Rows, relation, prefix: str,  # type: ignore[no-untyped-def]
                           loop: LoopInfo, target: str) -> None:
        owner = rows.model_name.rsplit(".", 1)[-1]
        if relation.many:
            message = (
                f"`{prefix}` lazy-loads {target} with one query per row of `{{loop}}` (N+1 queries); "
                f"add .options(selectinload({owner}.{relation.name})) to the query"
            )
            self._judge(Hit(node, f"`{prefix}`", "", loop=loop, message=message, key=("rel", prefix)), [loop])
            return
        if not self.options.identity_map:
            return
        message = (
            f"`{prefix}` lazy-loads {target} once per row of `{{loop}}` (once per distinct {target}: the identity map "
            f"skips keys already loaded); add .options(joinedload({owner}.{relation.name})) to the query"
        )
        self._judge(Hit(node, f"`{prefix}`", "", loop=loop, message=message, key=("rel", prefix),
                        confidence=Confidence.LOW, identity=True), [loop])

    def _awaitable(self, node: cst.CSTNode, rows: Rows, name: str, prefix: str, loop: LoopInfo) -> None:
        model = rows.model
        relation = model.relation(name) if model is not None else None
        if relation is None:
            return
        strategy, _ = rows.loading.child(name)
        if _sqlalchemy_loaded(strategy, relation.lazy):
            return
        owner = rows.model_name.rsplit(".", 1)[-1]
        target = _display_model(relation.target)
        loader = "selectinload" if relation.many else "joinedload"
        message = (
            f"`{prefix}` lazy-loads {target} with one query per row of `{{loop}}` (N+1 queries); "
            f"add .options({loader}({owner}.{name})) to the query"
        )
        self._judge(Hit(node, f"`{prefix}`", "", loop=loop, message=message, key=("rel", prefix)), [loop])

    def _deferred(self, node: cst.CSTNode, rows: Rows, part: str, prefix: str, loop: LoopInfo) -> None:
        loading = rows.loading
        model = rows.model
        if loading.unknown or model is None or (loading.only is None and not loading.deferred):
            return
        columns = {r.column: r.name for r in model.relations if r.column}
        if part not in model.fields and part not in columns:
            return
        if part in ("id", "pk") or _primary_key(self.ctx, model, part):
            return
        field = columns.get(part, part)
        if loading.only is not None and field not in loading.only and part not in loading.only:
            how = "only(...)"
            fix = f"add \"{field}\" to only(...)"
        elif field in loading.deferred or part in loading.deferred:
            how = "defer(...)"
            fix = f"remove \"{field}\" from defer(...)"
        else:
            return
        message = (
            f"`{prefix}` is deferred by {how} and loads with one query per row of `{{loop}}` (N+1 queries); {fix}"
        )
        self._judge(Hit(node, f"`{prefix}`", "", loop=loop, message=message, key=("deferred", prefix)), [loop])

    def _loop_of_row(self, root: str) -> Optional[LoopInfo]:
        loop = self.loops.loop_of(root)
        if loop is not None:
            return loop if loop.kind == "db" else None
        bindings = self.ctx.bindings(root)
        if bindings and isinstance(bindings[-1].value, cst.Attribute):
            inner: cst.CSTNode = bindings[-1].value
            while isinstance(inner, cst.Attribute):
                inner = inner.value
            if isinstance(inner, cst.Name):
                loop = self.loops.loop_of(inner.value)
                return loop if loop is not None and loop.kind == "db" else None
        return None

    # -- judging against the loops --------------------------------------------------------
    def _judge(self, hit: Hit, infos: List[LoopInfo], own: Optional[cst.CSTNode] = None) -> None:
        if hit.write and not self.options.write_loops:
            return
        statement = self.ctx.statement
        statements = self.ctx.statements
        candidates = infos
        if own is not None:
            cut = next((i for i, info in enumerate(infos) if info.iterable is own), len(infos))
            candidates = infos[:cut]
        for info in reversed(candidates):
            if info.kind in ("constant", "batch"):
                continue
            if info.inside_iterable(hit.node) or (hit.only is not None and id(info.node) not in hit.only):
                continue
            if statement is not None and id(statement) in info.once():
                if hit.loop is not None:
                    return
                continue
            if not hit.write and self._memoised_in(info.node, statements):
                return
            if hit.loop is not None:
                if info is not hit.loop and not _same_loop(info, hit.loop):
                    continue
                self._emit(hit, info, "row")
                return
            if hit.model_var is not None and depends_on(hit.model_var, info.names, self.ctx, any_binding=True):
                continue  # the loop iterates models (one query per model class), not rows
            probe = hit.dep_node if hit.dep_node is not None else hit.node
            dependence = hit.depends(info) if hit.depends is not None else depends_on(probe, info.names, self.ctx)
            if dependence is None:
                continue
            if info.kind == "while":
                if dependence and not hit.page:
                    self._emit(hit, info, "while")
                    return
                continue
            if dependence and hit.depends is None and (
                only_in_slices(probe, info.names, self.ctx) or _only_in_lookups(probe, info.names, self.ctx)
            ):
                continue  # ids[i:i + size] / pk__in=group: a batch of keys per iteration
            if dependence:
                self._emit(hit, info, "dependent")
                return
            if info.kind == "db" and hit.invariant and hit.message is None:
                self._emit(hit, info, "invariant")
                return
            if info.kind == "db" and hit.message is not None and hit.depends is not None:
                continue

    def _memoised_in(self, loop: cst.CSTNode, statements: Tuple[cst.CSTNode, ...]) -> bool:
        """The node sits in the body of an ``if`` inside ``loop`` that caches what it fetches."""
        start = next((i for i, s in enumerate(statements) if s is loop), None)
        if start is None:
            return False
        for statement in statements[start + 1 : -1]:
            if not isinstance(statement, cst.If):
                continue
            found = self._memo.get(id(statement))
            if found is None:
                found = self._memo[id(statement)] = memoised(statement)
            if found:
                return True
        return False

    def _emit(self, hit: Hit, info: LoopInfo, how: str) -> None:
        key = (id(info.node), id(hit.node)) if hit.key is None else (id(info.node), *hit.key)
        if key in self._reported:
            return
        self._reported.add(key)
        verb = "writes to the database" if hit.write else "queries the database"
        if hit.message is not None and how in ("row", "dependent"):
            message = hit.message.replace("{loop}", info.text)
        elif hit.identity:
            message = (
                f"{hit.what} queries the database once per distinct key in the loop over `{info.text}` (the identity "
                f"map only skips keys already loaded); {hit.fix}"
            )
        elif how == "while":
            message = (
                f"{hit.what} {verb} on every iteration of `{info.text}`, each time with a key read from the previous "
                "result; load the rows together (one IN query, a recursive CTE, or all rows once and walk them in Python)"
            )
        elif how == "invariant" or hit.message is not None:
            message = (
                f"{hit.what} runs the same query on every row of `{info.text}`; "
                "run it once before the loop and reuse the result"
            )
        else:
            count = "" if hit.write else " (N+1 queries)"
            message = f"{hit.what} {verb} once per iteration of the loop over `{info.text}`{count}; {hit.fix}"
        severity = Severity.INFO if hit.write else Severity.LOW if hit.identity else Severity.MEDIUM
        self.report(hit.node, message, severity=severity, confidence=hit.confidence)


def _locked(receiver: cst.CSTNode, ctx) -> bool:  # type: ignore[no-untyped-def]
    """The instance was fetched under a row lock (``select_for_update().get(...)``): one
    statement per locked row is deliberate."""
    if not isinstance(receiver, cst.Name):
        return False
    bindings = ctx.bindings(receiver.value)
    value = bindings[-1].value if bindings else None
    while isinstance(value, cst.Await):
        value = value.expression
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        if value.func.attr.value == "select_for_update":
            return True
        value = value.func.value
    return False


def _display_model(target: str) -> str:
    """A relation's target for messages (``settings.AUTH_USER_MODEL`` when not resolved)."""
    short = target.rsplit(".", 1)[-1]
    if short.isupper():
        return f"row (settings.{short})"
    return short or "row"


def _model_var(written: str) -> Optional[cst.CSTNode]:
    """``model`` in ``model.objects...``: a variable, not a class name."""
    if written and written.isidentifier() and not written[:1].isupper():
        return cst.Name(written)
    return None


def _root(node: cst.CSTNode) -> cst.CSTNode:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node


def _only_in_lookups(node: cst.CSTNode, names, ctx) -> bool:  # type: ignore[no-untyped-def]
    """The loop variables reach a Django query only through ``<field>__in=`` lookups: each
    iteration handles a batch of keys (a group, a chunk), not one row."""
    calls: List[cst.Call] = []
    current = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        calls.append(current)
        current = current.func.value
    used = False
    for call in calls:
        for arg in call.args:
            if not depends_on(arg.value, names, ctx):
                continue
            if arg.keyword is None or not arg.keyword.value.endswith("__in"):
                return False
            used = True
    return used and not depends_on(current, names, ctx)


def _is_migration(relpath: str) -> bool:
    parts = relpath.replace("\\", "/").split("/")
    return "migrations" in parts[:-1] or ("versions" in parts[:-1] and any("alembic" in p for p in parts))


def _same_loop(a: LoopInfo, b: LoopInfo) -> bool:
    return a.node is b.node and a.names == b.names


#: Functions that load relations onto rows already fetched (Django, Tortoise).
_PREFETCH_LATER = re.compile(r"(?:^|\.)(?:prefetch_related_objects|aprefetch_related_objects|fetch_for_list)$")
#: SQL sinks that run a statement (batch APIs such as executemany are not per-row queries).
_SINK_KINDS = frozenset({"execute", "fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val", "iterate",
                         "read_sql", "exec_driver_sql"})
#: What to do instead of a Django query per row, by method.
_DJANGO_FIXES = {
    "count": "count all groups in one query: annotate(n=Count(...)) on the outer query, or "
             "values(<key>).annotate(n=Count(\"pk\"))",
    "exists": "fetch the matching keys once (values_list(<key>, flat=True) with an __in lookup) and test membership "
              "in Python, or annotate(has_x=Exists(...))",
    "contains": "fetch the keys once and test membership in Python",
    "aggregate": "aggregate all groups in one query: values(<key>).annotate(...)",
    "get": "fetch all of them with one query (filter(<key>__in=...) or in_bulk()) before the loop and look them up "
           "in a dict",
    "iterate": "fetch the rows for all keys with one __in query before the loop and group them in Python, or use "
               "prefetch_related()",
    "create": "collect the objects and save them with one bulk_create()",
    "get_or_create": "look the rows up with one __in query and create the missing ones with bulk_create() "
                     "(ignore_conflicts=/update_conflicts= for upserts)",
    "update": "update all rows in one query (filter(<key>__in=...).update(...)) or with bulk_update()",
    "delete": "delete all rows in one query: filter(<key>__in=...).delete()",
}
for _name in ("first", "last", "latest", "earliest", "in_bulk"):
    _DJANGO_FIXES[_name] = _DJANGO_FIXES["get"]
_DJANGO_FIXES["update_or_create"] = _DJANGO_FIXES["get_or_create"]
_SESSION_METHODS = frozenset({"execute", "scalars", "scalar", "exec", "stream", "stream_scalars", "get", "get_one",
                              "refresh", "merge", "flush", "commit"})
_SQLA_READ_FIX = ("load the rows for all keys with one query (an IN condition: .where(Model.key.in_(keys))) before "
                  "the loop, or eager-load the relationship (selectinload())")
_SQLA_WRITE_FIX = "send all rows in one call: session.execute(insert(Model) / update(Model), [{...}, ...])"
_DBAPI_READ_FIX = "fetch the rows for all keys with one query (WHERE key = ANY(<array parameter>) or IN (...)) before the loop"
_DBAPI_WRITE_FIX = "send all rows at once with executemany() or one multi-row statement"


def _relation_path(base: cst.Attribute) -> str:
    parts: List[str] = []
    current: cst.CSTNode = base
    while isinstance(current, cst.Attribute):
        parts.append(current.attr.value)
        current = current.value
    return "__".join(reversed(parts))


def _ordered(chain: RelatedChain) -> bool:
    if chain.loading.ordered:
        return True
    target = chain.target
    return bool(target is not None and target.ordering)


def _sliced(node: cst.CSTNode) -> bool:
    current = node
    while True:
        if isinstance(current, cst.Subscript):
            if any(isinstance(e.slice, cst.Slice) for e in current.slice):
                return True
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Attribute):
            current = current.value
        else:
            return False


def _has_step(node: cst.CSTNode, name: str) -> bool:
    current = node
    while isinstance(current, (cst.Call, cst.Attribute, cst.Subscript, cst.Await)):
        if isinstance(current, cst.Call):
            if isinstance(current.func, cst.Attribute) and current.func.attr.value == name:
                return True
            current = current.func
        elif isinstance(current, cst.Attribute):
            current = current.value
        elif isinstance(current, cst.Subscript):
            current = current.value
        else:
            current = current.expression
    return False


def _model_like(node: cst.CSTNode) -> bool:
    name = dotted_name(node)
    return name is not None and name.rsplit(".", 1)[-1][:1].isupper()


def _primary_key(ctx, model, name: str) -> bool:  # type: ignore[no-untyped-def]
    catalog = ctx.project.get("catalog") if ctx.project is not None else None
    table = catalog.table(model.table) if catalog is not None and model.table else None
    column = table.column(name) if table is not None else None
    return bool(column is not None and column.primary_key)


def _sink_params(node: cst.Call, library: str, sql: cst.CSTNode, params: Optional[cst.CSTNode]) -> List[cst.CSTNode]:
    if library in ("asyncpg", "databases"):
        return [a.value for a in node.args if a.value is not sql and (a.keyword is None or a.keyword.value not in
                                                                       ("timeout", "record_class", "column"))]
    return [params] if params is not None else []


def _adds_in(loop: cst.CSTNode, receiver: str) -> bool:
    """The loop body calls ``<receiver>.add(...)``/``add_all``/``merge`` (so a flush writes per row)."""
    body = getattr(loop, "body", None)
    if body is None:
        return False
    stack: List[cst.CSTNode] = [body]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            if current.func.attr.value in ("add", "add_all", "merge") and dotted_name(current.func.value) == receiver:
                return True
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(children(current))
    return False

"""Where rows come from, for the n-plus-one rule: which iterables yield database rows
(Django QuerySets, SQLAlchemy results, DB-API cursors, asyncpg), of which model, and
which relations of those rows were loaded eagerly (``select_related``,
``prefetch_related``/``Prefetch(to_attr=...)``, ``only``/``defer``, SQLAlchemy loader
options). A query whose chain holds a step this module does not know (a custom
QuerySet method, ``options(*opts)``) has an unknown loading: everything counts as
loaded, so nothing is flagged on its rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import libcst as cst
from backendlint_rules._loop_facts import source_text, unwrap_builtin
from backendlint_rules._orm import (
    DJANGO_ASYNC,
    DJANGO_EVALUATING,
    DJANGO_LAZY,
    DJANGO_SINGLE,
    SQLALCHEMY_EAGER_OPTIONS,
    QueryChain,
    Step,
    catalog_of,
    project_model,
)
from backendlint_rules._orm import lookup_model as _lookup_model
from backendlint_rules._orm import query_chain as _query_chain
from backendlint_rules._sql_sinks import find_sql_sink

from backendlint.api import RuleContext, dotted_name

#: SQLAlchemy loader options -> what they do to a relationship on the path they name.
SQLALCHEMY_LOADERS = {
    **{name: "eager" for name in SQLALCHEMY_EAGER_OPTIONS if name != "defaultload"},
    "defaultload": "default",
    "lazyload": "lazy",
    "raiseload": "none",
    "noload": "none",
    "selectin_polymorphic": "default",
}
#: SQLAlchemy loader options about columns: they change no relationship.
SQLALCHEMY_COLUMN_OPTIONS = frozenset({"load_only", "defer", "undefer", "undefer_group", "with_expression",
                                       "with_loader_criteria"})
#: Session methods whose result is a set of rows -> whether the rows are scalars.
SESSION_ROWS = {"scalars": True, "stream_scalars": True, "exec": True, "execute": False, "stream": False}
#: Result methods that pass rows through -> whether they make them scalars.
RESULT_METHODS = {"all": None, "unique": None, "fetchall": None, "scalars": True, "mappings": False, "tuples": False,
                  "partitions": False}
DJANGO_SINGLE_FETCH = frozenset({"get", "first", "last", "latest", "earliest", "aget", "afirst", "alast", "alatest",
                                 "aearliest", "create", "acreate"})
_SESSION_NAMES = frozenset({"session", "db_session", "dbsession", "sess", "async_session", "db", "orm_session",
                            "session_", "_session", "_db"})
_NOT_SESSIONS = ("requests", "aiohttp", "httpx", "boto", "botocore", "django", "asyncpg", "sqlite3", "psycopg",
                 "psycopg2", "pymysql", "aiosqlite", "databases", "redis", "pymongo", "motor")
_CURSOR_NAMES = frozenset({"cursor", "cur", "curs", "_cursor", "_cur"})


@dataclass
class Loading:
    """What a query loads beyond its own rows."""

    #: relation -> (strategy: eager/lazy/none/default, loading of the related rows)
    children: Dict[str, Tuple[str, Loading]] = field(default_factory=dict)
    #: The loading is not known (custom QuerySet method, opaque options): assume loaded.
    unknown: bool = False
    #: Django ``select_related()`` without arguments: every foreign key.
    all_fk: bool = False
    #: SQLAlchemy ``"*"`` strategy.
    wildcard: str = ""
    #: Django ``Prefetch(..., to_attr=x)``: x -> (relation, loading of the prefetched rows)
    to_attr: Dict[str, Tuple[str, Loading]] = field(default_factory=dict)
    only: Optional[Tuple[str, ...]] = None
    deferred: Tuple[str, ...] = ()
    #: The query orders its rows (a Prefetch queryset with order_by()).
    ordered: bool = False

    def child(self, relation: str) -> Tuple[str, Loading]:
        """(strategy, loading) of ``relation``: ``default`` when the query says nothing."""
        if self.unknown:
            return "eager", UNKNOWN
        found = self.children.get(relation)
        if found is not None:
            return found
        if self.wildcard:
            return self.wildcard, UNKNOWN if self.wildcard == "eager" else Loading()
        return "default", Loading()


UNKNOWN = Loading(unknown=True)


@dataclass
class Rows:
    """Rows (or one row) that came from the database."""

    framework: str  # django, sqlalchemy, dbapi
    model: Any  # the catalogue Model, or None
    model_name: str
    text: str  # the expression they came from, shortened
    instances: bool  # ORM model instances (not dicts, tuples, Row objects)
    loading: Loading = field(default_factory=Loading)


RowsOfName = Callable[[str], Optional["Rows"]]


def query_chain(node: cst.CSTNode, ctx: RuleContext) -> Optional[QueryChain]:
    """:func:`_orm.query_chain`, keeping a model only when it is the project's (see
    :func:`_orm.project_model`)."""
    chain = _query_chain(node, ctx)
    if chain is None or chain.model is None:
        return chain
    model = project_model(ctx, chain.model, chain.model_name)
    return chain if model is chain.model else dataclasses.replace(chain, model=model, certain=False)


def lookup_model(ctx: RuleContext, node: cst.CSTNode) -> Tuple[Any, Optional[str]]:
    model, written = _lookup_model(ctx, node)
    return project_model(ctx, model, written), written


def _strip_await(node: cst.CSTNode) -> cst.CSTNode:
    while isinstance(node, cst.Await):
        node = node.expression
    return node


def _string(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def rows_of(node: cst.CSTNode, ctx: RuleContext, named: RowsOfName, depth: int = 0) -> Optional[Rows]:
    """The database rows iterating ``node`` yields, or ``None`` when it is not known to."""
    if depth > 6:
        return None
    node = unwrap_builtin(_strip_await(node), ctx)
    node = _strip_await(node)
    found = django_rows(node, ctx) or sqlalchemy_rows(node, ctx) or dbapi_rows(node, ctx)
    if found is not None:
        return found
    related = related_rows(node, ctx, named)
    if related is not None:
        return related
    if isinstance(node, cst.Name):
        bindings = ctx.bindings(node.value)
        if bindings and bindings[-1].kind in ("assign", "annotation", "with") and bindings[-1].value is not None:
            return rows_of(bindings[-1].value, ctx, named, depth + 1)
    return None


# -- Django ------------------------------------------------------------------------------


def django_rows(node: cst.CSTNode, ctx: RuleContext) -> Optional[Rows]:
    chain = query_chain(node, ctx)
    if chain is None or chain.framework != "django":
        return None
    if any(step.name in DJANGO_SINGLE or step.name in ("in_bulk", "ain_bulk") for step in chain.steps):
        return None
    loading, instances = django_loading(chain.steps, ctx)
    return Rows("django", chain.model, chain.model_name, source_text(node), instances, loading)


def django_single(node: cst.CSTNode, ctx: RuleContext) -> Optional[Rows]:
    """One instance fetched by ``X.objects....get()/first()/create()`` or ``get_object_or_404``."""
    node = _strip_await(node)
    if isinstance(node, cst.Call) and (ctx.qualname(node.func) or "").endswith(("get_object_or_404", "aget_object_or_404")):
        if not node.args:
            return None
        target = node.args[0].value
        chain = query_chain(target, ctx)
        if chain is not None and chain.framework == "django":
            loading, _ = django_loading(chain.steps, ctx)
            return Rows("django", chain.model, chain.model_name, source_text(node), True, loading)
        model, written = lookup_model(ctx, target)
        if model is not None and model.framework == "django":
            return Rows("django", model, written or model.name, source_text(node), True, Loading())
        return None
    chain = query_chain(node, ctx)
    if chain is None or chain.framework != "django" or not chain.steps:
        return None
    if chain.steps[-1].name not in DJANGO_SINGLE_FETCH or any(s.name in DJANGO_SINGLE_FETCH for s in chain.steps[:-1]):
        return None
    loading, instances = django_loading(chain.steps[:-1], ctx)
    return Rows("django", chain.model, chain.model_name, source_text(node), instances, loading)


def django_loading(steps: Tuple[Step, ...], ctx: RuleContext) -> Tuple[Loading, bool]:
    """(loading, rows are instances) of a Django QuerySet chain."""
    loading = Loading()
    instances = True
    known = DJANGO_LAZY | DJANGO_EVALUATING | DJANGO_ASYNC | {"iterator", "aiterator", "select_for_update"}
    for step in steps:
        name = step.name
        if name not in known:
            return UNKNOWN, instances
        args = step.call.args
        if name == "select_related":
            if not args:
                loading.all_fk = True
            for arg in args:
                text = _string(arg.value)
                if text is None:
                    if isinstance(arg.value, cst.Name) and arg.value.value == "None":
                        loading.children.clear()
                        loading.all_fk = False
                        continue
                    return UNKNOWN, instances
                _add_path(loading, text.split("__"))
        elif name == "prefetch_related":
            for arg in args:
                if not _prefetch(loading, arg.value, ctx):
                    return UNKNOWN, instances
        elif name in ("only", "defer"):
            fields: List[str] = []
            for arg in args:
                text = _string(arg.value)
                if text is None:
                    if name == "defer" and isinstance(arg.value, cst.Name) and arg.value.value == "None":
                        loading.deferred = ()
                        continue
                    return UNKNOWN, instances
                fields.append(text.split("__", 1)[0])
            if name == "only":
                loading.only = tuple(fields)
            else:
                loading.deferred = loading.deferred + tuple(fields)
        elif name in ("values", "values_list", "dates", "datetimes", "raw"):
            instances = False
        elif name == "order_by":
            loading.ordered = bool(args)
    return loading, instances


def _add_path(loading: Loading, parts: List[str], strategy: str = "eager") -> Loading:
    current = loading
    for part in parts:
        found = current.children.get(part)
        if found is None:
            found = (strategy, Loading())
            current.children[part] = found
        current = found[1]
    return current


def _prefetch(loading: Loading, value: cst.CSTNode, ctx: RuleContext) -> bool:
    text = _string(value)
    if text is not None:
        _add_path(loading, text.split("__"))
        return True
    if isinstance(value, cst.Name) and value.value == "None":
        loading.children.clear()
        loading.to_attr.clear()
        return True
    if not isinstance(value, cst.Call):
        return False
    qualified = ctx.qualname(value.func) or dotted_name(value.func) or ""
    if qualified.rsplit(".", 1)[-1] != "Prefetch" or not value.args:
        return False
    lookup = _string(value.args[0].value)
    if lookup is None:
        return False
    inner: Optional[Loading] = Loading()
    to_attr: Optional[str] = None
    for arg in value.args[1:]:
        keyword = arg.keyword.value if arg.keyword else None
        if keyword == "to_attr":
            to_attr = _string(arg.value)
            if to_attr is None:
                return False
        elif keyword == "queryset" or (keyword is None and arg is value.args[1]):
            chain = query_chain(arg.value, ctx)
            inner = django_loading(chain.steps, ctx)[0] if chain is not None and chain.framework == "django" else None
    parts = lookup.split("__")
    if to_attr is not None:
        parent = _add_path(loading, parts[:-1]) if len(parts) > 1 else loading
        parent.to_attr[to_attr] = (parts[-1], inner if inner is not None else UNKNOWN)
        return True
    leaf = _add_path(loading, parts)
    if inner is None:
        leaf.unknown = True
    else:
        _merge(leaf, inner)
    return True


def _merge(into: Loading, other: Loading) -> None:
    into.unknown = into.unknown or other.unknown
    into.all_fk = into.all_fk or other.all_fk
    for name, (strategy, sub) in other.children.items():
        mine = into.children.get(name)
        if mine is None:
            into.children[name] = (strategy, sub)
        else:
            _merge(mine[1], sub)
    into.to_attr.update(other.to_attr)
    if other.only is not None:
        into.only = other.only
    into.deferred = into.deferred + other.deferred
    into.ordered = into.ordered or other.ordered


def related_rows(node: cst.CSTNode, ctx: RuleContext, named: RowsOfName) -> Optional[Rows]:
    """Rows of a Django related manager (``author.books.all()``), a ``to_attr`` list
    (``author.recent_books``) or an SQLAlchemy collection (``user.orders``)."""
    chain = related_chain(node, ctx, named)
    if chain is not None:
        target = chain.target
        loading = Loading()
        if chain.covered or chain.parent.framework != "django":
            # SQLAlchemy applies defaultload(A.b).selectinload(B.c) to the lazy load of A.b too
            loading = chain.loading
        if chain.steps:
            own, instances = django_loading(tuple(chain.steps), ctx) if chain.parent.framework == "django" else (Loading(), True)
            if not instances:
                return None
            if own.unknown or own.children or own.to_attr or own.all_fk or own.only or own.deferred:
                loading = own if not chain.covered else UNKNOWN
        return Rows(chain.parent.framework, target, chain.relation.target, source_text(node), True, loading)
    if isinstance(node, cst.Attribute):
        parent = instance_of(node.value, ctx, named)
        if parent is None or not parent.instances:
            return None
        found = parent.loading.to_attr.get(node.attr.value)
        if found is not None and parent.model is not None:
            relation = parent.model.relation(found[0])
            target = _target(ctx, relation.target) if relation is not None else None
            return Rows(parent.framework, target, relation.target if relation else "", source_text(node), True, found[1])
    return None


@dataclass
class RelatedChain:
    """``<instance>.<relation>.<steps...>`` for a to-many relation of a known model."""

    parent: Rows
    relation: Any  # catalogue Relation
    target: Any  # catalogue Model of the related rows, or None
    steps: List[Step]
    #: The relation is loaded by the parent's query (prefetch / eager strategy).
    covered: bool
    strategy: str
    loading: Loading
    base: cst.Attribute  # the ``<instance>.<relation>`` node


def related_chain(node: cst.CSTNode, ctx: RuleContext, named: RowsOfName) -> Optional[RelatedChain]:
    node = _strip_await(node)
    steps: List[Step] = []
    current = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        steps.append(Step(current.func.attr.value, current))
        current = current.func.value
    if not isinstance(current, cst.Attribute):
        return None
    parent = instance_of(current.value, ctx, named)
    if parent is None or parent.model is None or not parent.instances:
        return None
    relation = parent.model.relation(current.attr.value)
    if relation is None or not relation.many:
        return None
    steps.reverse()
    strategy, loading = parent.loading.child(relation.name)
    if parent.framework == "django":
        covered = strategy == "eager"
    else:
        covered = _sqlalchemy_loaded(strategy, relation.lazy)
    return RelatedChain(parent, relation, _target(ctx, relation.target), steps, covered, strategy, loading, current)


def _sqlalchemy_loaded(strategy: str, lazy: str) -> bool:
    """Whether accessing a relationship with this option strategy / declared lazy queries not."""
    if strategy in ("eager", "none"):
        return True
    if strategy == "lazy":
        return False
    return lazy not in ("select", "dynamic", "write_only", "True", "true", "")


def _target(ctx: RuleContext, name: str) -> Any:
    catalog = catalog_of(ctx)
    return catalog.model(name) if catalog is not None and name else None


def instance_of(node: cst.CSTNode, ctx: RuleContext, named: RowsOfName, depth: int = 0) -> Optional[Rows]:
    """The row an expression stands for: a loop variable over rows, a name bound to one
    fetched row, or a to-one relation of either (``book.author``)."""
    if depth > 4:
        return None
    if isinstance(node, cst.Name):
        return named(node.value)
    if isinstance(node, cst.Attribute):
        parent = instance_of(node.value, ctx, named, depth + 1)
        if parent is None or parent.model is None or not parent.instances:
            return None
        relation = parent.model.relation(node.attr.value)
        if relation is None or relation.many:
            return None
        strategy, loading = parent.loading.child(relation.name)
        if parent.loading.all_fk and relation.kind in ("fk", "o2o"):
            loading = UNKNOWN
        target = _target(ctx, relation.target)
        return Rows(parent.framework, target, relation.target, source_text(node), True, loading)
    return None


# -- SQLAlchemy --------------------------------------------------------------------------


def is_session(node: cst.CSTNode, ctx: RuleContext) -> bool:
    """An SQLAlchemy/SQLModel Session, AsyncSession or Connection (by type or by name)."""
    if isinstance(node, cst.Await) or (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        and node.func.attr.value not in ("Session", "AsyncSession", "session", "get_session", "connect", "begin")
    ):
        return False  # session.execute(...): a result, not a session
    path = ctx.resolve(node)
    if path is not None and not path.startswith(("self.", "cls.")):
        if path.startswith(("sqlalchemy", "sqlmodel", "flask_sqlalchemy")):
            return True
        # resolved to something else: a project's session factory (SessionLocal()) still counts
        last = path.rstrip("()[]").rsplit(".", 1)[-1].lower()
        return "session" in last and not path.startswith(_NOT_SESSIONS)
    name = dotted_name(node)
    if name is None:
        return False
    last = name.rsplit(".", 1)[-1]
    return last in _SESSION_NAMES or last.endswith("_session") or last == "dbsession"


def sqlalchemy_rows(node: cst.CSTNode, ctx: RuleContext, depth: int = 0) -> Optional[Rows]:
    node = _strip_await(node)
    chain = query_chain(node, ctx)
    if chain is not None and chain.framework == "sqlalchemy" and _legacy_query(node, ctx):
        steps = chain.steps
        if any(s.name in ("first", "one", "one_or_none", "scalar", "count", "get") for s in steps):
            return None
        loading = sqlalchemy_loading(steps, ctx)
        instances = chain.model is not None
        return Rows("sqlalchemy", chain.model, chain.model_name, source_text(node), instances, loading)
    scalars: Optional[bool] = None
    current = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute) and current.func.attr.value in RESULT_METHODS:
        if current.func.attr.value in SESSION_ROWS and is_session(current.func.value, ctx):
            break  # session.scalars(...) itself
        made = RESULT_METHODS[current.func.attr.value]
        if scalars is None and made is not None:
            scalars = made
        current = _strip_await(current.func.value)
    if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        method = current.func.attr.value
        if method in SESSION_ROWS and current.args and is_session(current.func.value, ctx):
            statement = current.args[0].value
            select = query_chain(statement, ctx)
            if select is None or select.framework != "sqlalchemy" or _legacy_query(statement, ctx):
                return None
            as_scalars = SESSION_ROWS[method] if scalars is None else scalars
            instances = bool(as_scalars) and select.model is not None and _single_entity(statement, ctx)
            loading = sqlalchemy_loading(select.steps, ctx)
            return Rows("sqlalchemy", select.model, select.model_name, source_text(node), instances, loading)
    if isinstance(current, cst.Name) and current is not node and depth < 4:
        bindings = ctx.bindings(current.value)
        if bindings and bindings[-1].kind == "assign" and bindings[-1].value is not None:
            inner = sqlalchemy_rows(bindings[-1].value, ctx, depth + 1)
            if inner is not None and scalars is not None:
                inner.instances = inner.instances or (scalars and inner.model is not None)
                if scalars is False:
                    inner.instances = False
            return inner
    return None


def _legacy_query(node: cst.CSTNode, ctx: RuleContext, depth: int = 0) -> bool:
    """Whether a SQLAlchemy chain is rooted at ``session.query(X)`` / ``X.query`` rather
    than at ``select(X)`` (following local names)."""
    current = _strip_await(node)
    while True:
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            if current.func.attr.value == "query" and not isinstance(current.func.value, cst.Call):
                return True
            current = current.func.value
        elif isinstance(current, cst.Subscript):
            current = current.value
        else:
            break
    if isinstance(current, cst.Attribute) and current.attr.value == "query":
        return True
    if isinstance(current, cst.Name) and depth < 4:
        bindings = ctx.bindings(current.value)
        if bindings and bindings[-1].kind in ("assign", "annotation") and bindings[-1].value is not None:
            return _legacy_query(bindings[-1].value, ctx, depth + 1)
    return False


def _single_entity(statement: cst.CSTNode, ctx: RuleContext) -> bool:
    current = _strip_assigned(statement, ctx)
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        current = current.func.value
    if isinstance(current, cst.Call):
        return len(current.args) == 1
    return True


def _strip_assigned(node: cst.CSTNode, ctx: RuleContext) -> cst.CSTNode:
    for _ in range(4):
        root = node
        while isinstance(root, cst.Call) and isinstance(root.func, cst.Attribute):
            root = root.func.value
        if isinstance(root, cst.Name):
            bindings = ctx.bindings(root.value)
            if bindings and bindings[-1].kind == "assign" and bindings[-1].value is not None:
                node = bindings[-1].value
                continue
        break
    return node


def sqlalchemy_loading(steps: Tuple[Step, ...], ctx: RuleContext) -> Loading:
    loading = Loading()
    for step in steps:
        if step.name != "options":
            continue
        for arg in step.call.args:
            if arg.star or not _loader(loading, arg.value, ctx):
                return UNKNOWN
    return loading


def _loader(loading: Loading, node: cst.CSTNode, ctx: RuleContext) -> bool:
    """Read one loader option (``selectinload(User.orders).joinedload(Order.items)``)."""
    links: List[Tuple[str, List[cst.Arg]]] = []
    current = node
    while isinstance(current, cst.Call):
        func = current.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            links.append((func.attr.value, list(current.args)))
            current = func.value
            continue
        name = (ctx.qualname(func) or dotted_name(func) or "").rsplit(".", 1)[-1]
        if name == "Load" and isinstance(func, (cst.Name, cst.Attribute)):
            break  # Load(User).selectinload(...): the links hold the path
        links.append((name, list(current.args)))
        break
    if not links:
        return False
    links.reverse()
    if all(name in SQLALCHEMY_COLUMN_OPTIONS for name, _ in links):
        return True
    target = loading
    for name, args in links:
        strategy = SQLALCHEMY_LOADERS.get(name)
        if strategy is None:
            return name in SQLALCHEMY_COLUMN_OPTIONS
        if not args:
            return False
        if len(args) > 1 and name != "contains_eager":
            for arg in args[:-1]:  # 1.x style path: joinedload(User.orders, Order.items)
                attr = _relation_name(arg.value)
                if attr is None:
                    return False
                target = _add_path(target, [attr], "default")
        attr = _relation_name(args[-1].value if name != "contains_eager" else args[0].value)
        if attr is None:
            return False
        if attr == "*":
            target.wildcard = strategy
            return True
        existing = target.children.get(attr)
        sub = existing[1] if existing else Loading()
        if existing is None or strategy != "default":
            target.children[attr] = (strategy, sub)
        target = sub
    return True


def _relation_name(node: cst.CSTNode) -> Optional[str]:
    text = _string(node)
    if text is not None:
        return text.rsplit(".", 1)[-1] if text != "*" else "*"
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("of_type", "and_"):
        return _relation_name(node.func.value)
    return None


# -- DB-API and async drivers ------------------------------------------------------------


def dbapi_rows(node: cst.CSTNode, ctx: RuleContext) -> Optional[Rows]:
    node = _strip_await(node)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        method = node.func.attr.value
        if method in ("fetchall", "fetchmany") and is_cursor(node.func.value, ctx):
            return Rows("dbapi", None, "", source_text(node), False)
        sink = find_sql_sink(node, ctx)
        if sink is not None and sink.rows in ("many", "cursor") and sink.library in ("dbapi", "asyncpg", "databases", "django"):
            return Rows("dbapi", None, "", source_text(node), False)
    if isinstance(node, (cst.Name, cst.Attribute)) and is_cursor(node, ctx):
        return Rows("dbapi", None, "", source_text(node), False)
    return None


def is_cursor(node: cst.CSTNode, ctx: RuleContext) -> bool:
    path = ctx.resolve(node) or ""
    if path.endswith("cursor()"):
        return True
    if isinstance(node, cst.Call):
        return isinstance(node.func, cst.Attribute) and node.func.attr.value == "cursor"
    name = dotted_name(node)
    return name is not None and name.rsplit(".", 1)[-1] in _CURSOR_NAMES


SQLALCHEMY_SINGLE_RESULTS = frozenset({"first", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "scalar"})


def sqlalchemy_single(node: cst.CSTNode, ctx: RuleContext) -> Optional[Rows]:
    """One instance: ``session.get(User, id)``, ``session.scalars(select(User)...).first()``,
    ``session.scalar(select(User)...)``, ``session.query(User)....one()``."""
    node = _strip_await(node)
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
        return None
    method = node.func.attr.value
    receiver = node.func.value
    if method in ("get", "get_one") and len(node.args) >= 2 and is_session(receiver, ctx):
        model, written = lookup_model(ctx, node.args[0].value)
        if model is not None:
            return Rows("sqlalchemy", model, written or model.name, source_text(node), True, _get_options(node, ctx))
        return None
    if method == "scalar" and node.args and is_session(receiver, ctx):
        select = query_chain(node.args[0].value, ctx)
        if select is not None and select.framework == "sqlalchemy" and select.model is not None:
            return Rows("sqlalchemy", select.model, select.model_name, source_text(node), True,
                        sqlalchemy_loading(select.steps, ctx))
        return None
    if method in SQLALCHEMY_SINGLE_RESULTS:
        chain = query_chain(node, ctx)
        if chain is not None and chain.framework == "sqlalchemy" and _legacy_query(node, ctx) and chain.model is not None:
            if method in ("first", "one", "one_or_none") and not any(s.name in SQLALCHEMY_SINGLE_RESULTS for s in chain.steps[:-1]):
                return Rows("sqlalchemy", chain.model, chain.model_name, source_text(node), True,
                            sqlalchemy_loading(chain.steps, ctx))
            return None
        inner = sqlalchemy_rows(_strip_await(receiver), ctx)
        if inner is not None and inner.instances:
            return inner
    return None


def _get_options(call: cst.Call, ctx: RuleContext) -> Loading:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "options":
            value = arg.value
            loading = Loading()
            if isinstance(value, (cst.List, cst.Tuple)):
                for element in value.elements:
                    if isinstance(element, cst.StarredElement) or not _loader(loading, element.value, ctx):
                        return UNKNOWN
                return loading
            return UNKNOWN
    return Loading()

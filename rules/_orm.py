"""ORM knowledge shared by the data-access rules: which Django QuerySet and SQLAlchemy
calls build a query lazily, which run it, which load relations eagerly — and a reader
that recognises a query chain in an expression (``Order.objects.filter(...).order_by(...)``,
``qs = qs.filter(...)``, ``select(User).where(...)``, ``session.query(User)``).

Models are looked up in the project's schema catalogue (``ctx.project.get("catalog")``)
by qualified name (through imports) or class name; a chain on ``X.objects`` is a Django
query even when the model is not in the catalogue (``model`` is then ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from backendlint.api import RuleContext, dotted_name

# -- Django ----------------------------------------------------------------------------

#: QuerySet/Manager methods that return a new, still-lazy QuerySet.
DJANGO_LAZY = frozenset(
    {
        "all", "filter", "exclude", "annotate", "alias", "order_by", "reverse", "distinct", "values",
        "values_list", "dates", "datetimes", "none", "union", "intersection", "difference",
        "select_related", "prefetch_related", "extra", "defer", "only", "using", "select_for_update",
        "raw",
    }
)
#: Methods that run a query (sync), and their async twins.
DJANGO_EVALUATING = frozenset(
    {
        "get", "first", "last", "latest", "earliest", "count", "exists", "contains", "aggregate",
        "in_bulk", "iterator", "explain", "create", "get_or_create", "update_or_create", "bulk_create",
        "bulk_update", "update", "delete",
    }
)
DJANGO_ASYNC = frozenset("a" + name for name in DJANGO_EVALUATING)
#: Methods whose result is a single row or value, not a list.
DJANGO_SINGLE = frozenset(
    {"get", "first", "last", "latest", "earliest", "count", "exists", "contains", "aggregate", "explain"}
    | {"aget", "afirst", "alast", "alatest", "aearliest", "acount", "aexists", "acontains", "aaggregate"}
)
#: Model instance methods that hit the database.
DJANGO_INSTANCE = frozenset(
    {"save", "delete", "refresh_from_db", "full_clean", "validate_unique", "asave", "adelete", "arefresh_from_db"}
)
#: Related-manager methods that hit the database.
DJANGO_RELATED = frozenset(
    {"all", "count", "exists", "first", "last", "filter", "exclude", "get", "add", "remove", "clear", "set", "create",
     "aadd", "aremove", "aclear", "aset", "acreate", "acount", "aexists", "afirst", "alast", "aget"}
)
#: With prefetch_related() these are answered from the cache ...
DJANGO_PREFETCH_CACHED = frozenset({"all", "count", "exists"})
#: ... and these still query (first() only when the related model has no Meta.ordering).
DJANGO_PREFETCH_REQUERY = frozenset(
    {"filter", "exclude", "order_by", "values", "values_list", "get", "last", "latest", "earliest", "annotate"}
)
#: Managers whose lookups are cached in memory.
DJANGO_CACHED_LOOKUPS = frozenset(
    {
        "django.contrib.contenttypes.models.ContentType.objects.get_for_model",
        "django.contrib.contenttypes.models.ContentType.objects.get_for_models",
        "django.contrib.contenttypes.models.ContentType.objects.get_for_id",
        "django.contrib.sites.models.Site.objects.get_current",
    }
)
DJANGO_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})

# -- SQLAlchemy / SQLModel -------------------------------------------------------------

SQLALCHEMY_SELECT = frozenset(
    {"sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.future.select", "sqlalchemy.sql.expression.select",
     "sqlmodel.select"}
)
#: Session/AsyncSession methods that run a query.
SQLALCHEMY_SESSION_EVALUATING = frozenset(
    {"execute", "scalars", "scalar", "get", "get_one", "refresh", "flush", "merge", "stream", "stream_scalars", "exec"}
)
#: Query (legacy ``session.query``) methods that run it.
SQLALCHEMY_QUERY_EVALUATING = frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "get"})
SQLALCHEMY_QUERY_SINGLE = frozenset({"first", "one", "one_or_none", "scalar", "count", "get"})
#: select()/Query methods that bound the number of rows.
SQLALCHEMY_BOUNDS = frozenset({"limit", "slice", "fetch", "paginate", "first", "one", "one_or_none", "scalar"})
#: Loader options that load a relationship eagerly.
SQLALCHEMY_EAGER_OPTIONS = frozenset(
    {"joinedload", "selectinload", "subqueryload", "immediateload", "contains_eager", "defaultload"}
)
#: relationship(lazy=...) strategies that do not issue a query per parent on access.
SQLALCHEMY_EAGER_LAZY = frozenset({"joined", "selectin", "subquery", "immediate"})
SQLALCHEMY_NO_QUERY_LAZY = frozenset({"raise", "raise_on_sql", "noload"})
SQLALCHEMY_ALWAYS_QUERY_LAZY = frozenset({"dynamic", "write_only"})


@dataclass(frozen=True)
class Step:
    """One method call of a query chain."""

    name: str
    call: cst.Call


@dataclass(frozen=True)
class QueryChain:
    """A query expression: its framework, model (when known) and method calls in order."""

    framework: str  # "django" or "sqlalchemy"
    #: The catalogue's Model, or None when the model is not catalogued.
    model: Any
    #: The model as written (``Order``, ``shop.models.Order``).
    model_name: str
    steps: Tuple[Step, ...]
    #: The expressions the chain was assembled from, when reached through local names.
    origins: Tuple[cst.CSTNode, ...] = ()
    #: The model is catalogued (or the root is an unmistakable select()); otherwise the
    #: chain was recognised by its shape (``Order.objects``) alone.
    certain: bool = False
    #: Subscripts taken of the chain (``qs[:20]``, ``qs[0]``), outermost last, including
    #: those in the local bindings it was assembled from.
    subscripts: Tuple[cst.Subscript, ...] = ()

    @property
    def methods(self) -> Tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def has(self, *names: str) -> bool:
        return any(step.name in names for step in self.steps)

    def calls(self, name: str) -> List[cst.Call]:
        return [step.call for step in self.steps if step.name == name]


def catalog_of(ctx: RuleContext) -> Any:
    project = ctx.project
    return project.get("catalog") if project is not None else None


def lookup_model(ctx: RuleContext, node: cst.CSTNode) -> Tuple[Any, Optional[str]]:
    """(catalogue model or None, name as written) for an expression naming a model class."""
    written = dotted_name(node)
    if written is None:
        return None, None
    catalog = catalog_of(ctx)
    if catalog is None:
        return None, written
    qualified = ctx.qualname(node)
    for candidate in (qualified, written):
        if candidate:
            found = catalog.model(candidate)
            if found is not None:
                return found, written
    return None, written


def query_chain(node: cst.CSTNode, ctx: RuleContext) -> Optional[QueryChain]:
    """The query chain ``node`` evaluates to, following local names, or ``None``."""
    return _chain(node, ctx, 0, {})


def _chain(node: cst.CSTNode, ctx: RuleContext, depth: int, limits: Dict[str, int]) -> Optional[QueryChain]:
    if depth > 12:
        return None
    if isinstance(node, cst.Await):
        node = node.expression
    steps: List[Step] = []
    subscripts: List[cst.Subscript] = []
    current: cst.CSTNode = node
    while True:
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            steps.append(Step(current.func.attr.value, current))
            current = current.func.value
            continue
        if isinstance(current, cst.Subscript):
            subscripts.append(current)
            current = current.value
            continue
        break
    steps.reverse()
    subscripts.reverse()
    found = _chain_root(current, steps, ctx, depth, limits)
    if found is not None and subscripts:
        found = replace(found, subscripts=found.subscripts + tuple(subscripts))
    return found


def _chain_root(
    current: cst.CSTNode, steps: List[Step], ctx: RuleContext, depth: int, limits: Dict[str, int]
) -> Optional[QueryChain]:
    # Django: <Model>.objects...
    if isinstance(current, cst.Attribute) and current.attr.value in DJANGO_MANAGERS:
        model, written = lookup_model(ctx, current.value)
        if written is not None and (model is not None or _model_like(written, ctx, current.value)):
            return QueryChain("django", model, written, tuple(steps), certain=model is not None)
        return None
    # SQLAlchemy: select(Model)... / session.query(Model)... / Model.query (Flask-SQLAlchemy)
    found = _sqlalchemy_root(current, steps, ctx)
    if found is not None:
        return found
    # A local name bound to a chain: qs = Order.objects.filter(...); qs = qs.filter(...)
    if isinstance(current, cst.Name) and not (steps and steps[0].name == "query"):
        bindings = ctx.bindings(current.value)
        if current.value in limits:
            bindings = bindings[: limits[current.value]]
        if not bindings:
            return None
        binding = bindings[-1]
        if binding.kind not in ("assign", "annotation") or binding.value is None:
            return None
        inner = {**limits, current.value: len(bindings) - 1}
        base = _chain(binding.value, ctx, depth + 1, inner)
        if base is None:
            return None
        return QueryChain(
            base.framework,
            base.model,
            base.model_name,
            base.steps + tuple(steps),
            (*base.origins, binding.value),
            base.certain,
            base.subscripts,
        )
    return None


def _sqlalchemy_root(current: cst.CSTNode, steps: List[Step], ctx: RuleContext) -> Optional[QueryChain]:
    if isinstance(current, cst.Call) and ctx.qualname(current.func) in SQLALCHEMY_SELECT:
        target = current.args[0].value if current.args else None
        model, written = lookup_model(ctx, target) if target is not None else (None, None)
        return QueryChain("sqlalchemy", model, written or "", tuple(steps), certain=True)
    if steps and steps[0].name == "query" and _session_like(current, ctx):
        query = steps[0].call
        target = query.args[0].value if query.args else None
        model, written = lookup_model(ctx, target) if target is not None else (None, None)
        if written is None:
            return None
        return QueryChain("sqlalchemy", model, written, tuple(steps[1:]), certain=model is not None)
    if isinstance(current, cst.Attribute) and current.attr.value == "query":
        model, written = lookup_model(ctx, current.value)
        if model is not None and model.framework in ("sqlalchemy", "sqlmodel"):
            return QueryChain("sqlalchemy", model, written or "", tuple(steps), certain=True)
    return None


#: Roots of libraries whose ``.objects`` is not a Django manager (boto3's ``bucket.objects``).
_NOT_DJANGO = ("boto3", "botocore", "aioboto3", "mongoengine", "google")
_SESSION_NAME = frozenset({"session", "db_session", "dbsession", "sess", "s", "db", "orm", "uow"})


def _model_like(written: str, ctx: RuleContext, node: cst.CSTNode) -> bool:
    """An uncatalogued ``X.objects``: X looks like a model class, not another library's object."""
    last = written.rsplit(".", 1)[-1]
    if written in ("self.model", "cls.model", "self.queryset.model") or last == "model":
        return True
    if not last[:1].isupper():
        return False
    qualified = ctx.qualname(node) or ctx.resolve(node) or ""
    return not qualified.startswith(_NOT_DJANGO)


def _session_like(node: cst.CSTNode, ctx: RuleContext) -> bool:
    path = ctx.resolve(node) or ""
    if path.startswith(("sqlalchemy", "sqlmodel", "flask_sqlalchemy")):
        return True
    name = dotted_name(node)
    return name is not None and name.rsplit(".", 1)[-1] in _SESSION_NAME


# -- SQLAlchemy executions and their results -------------------------------------------

#: Session/Connection methods that run a statement given as their first argument.
SQLALCHEMY_EXECUTORS = frozenset(
    {"execute", "scalars", "scalar", "exec", "stream", "stream_scalars", "scalar_one", "scalar_one_or_none", "paginate"}
)
#: Methods on a Result that return another view of the same rows.
SQLALCHEMY_RESULT_VIEWS = frozenset({"scalars", "mappings", "unique", "columns", "tuples", "t", "execution_options"})
#: ... that return every row at once.
SQLALCHEMY_RESULT_ALL = frozenset({"all", "fetchall"})
#: ... that return at most one row (or value).
SQLALCHEMY_RESULT_SINGLE = frozenset(
    {"first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "fetchone"}
)
#: ... that return the rows in chunks.
SQLALCHEMY_RESULT_CHUNKED = frozenset({"partitions", "fetchmany", "yield_per"})


@dataclass(frozen=True)
class Execution:
    """A statement run through an SQLAlchemy session or connection, and what is asked of
    its result: ``(await session.execute(select(User))).scalars().all()``."""

    #: The executing call (``session.execute(stmt)``).
    call: cst.Call
    #: Its method: execute, scalars, scalar, exec, stream, stream_scalars, paginate...
    method: str
    #: The statement argument.
    statement: cst.BaseExpression
    #: The statement as a query chain (``select(User).where(...)``), when recognised.
    chain: Optional[QueryChain]
    #: Methods called on the result, in order (``scalars``, ``all``).
    result: Tuple[Step, ...] = ()
    #: The expressions the execution was reached through (``result = session.execute(...)``).
    origins: Tuple[cst.CSTNode, ...] = ()

    @property
    def result_methods(self) -> Tuple[str, ...]:
        return tuple(step.name for step in self.result)


def sqlalchemy_execution(node: cst.CSTNode, ctx: RuleContext) -> Optional[Execution]:
    """The SQLAlchemy execution ``node`` evaluates to (following local names), or ``None``.

    The executing call must take a statement that is a recognised ``select()`` chain, or
    be a method of a session-like receiver (``session``, ``db.session``, an annotated
    ``Session``/``AsyncSession``)."""
    return _execution(node, ctx, 0)


def _execution(node: cst.CSTNode, ctx: RuleContext, depth: int, limits: Optional[Dict[str, int]] = None) -> Optional[Execution]:
    if depth > 8:
        return None
    limits = limits or {}
    steps: List[Step] = []
    current: cst.CSTNode = node
    while True:
        if isinstance(current, cst.Await):
            current = current.expression
            continue
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            method = current.func.attr.value
            if method in SQLALCHEMY_EXECUTORS and current.args and current.args[0].keyword is None:
                statement = current.args[0].value
                chain = query_chain(statement, ctx)
                if chain is not None and chain.framework != "sqlalchemy":
                    return None
                if chain is None and not _session_like(current.func.value, ctx):
                    return None
                steps.reverse()
                return Execution(current, method, statement, chain, tuple(steps))
            steps.append(Step(method, current))
            current = current.func.value
            continue
        break
    if not isinstance(current, cst.Name):
        return None
    bindings = ctx.bindings(current.value)
    if current.value in limits:
        bindings = bindings[: limits[current.value]]
    if not bindings:
        return None
    binding = bindings[-1]
    if binding.kind not in ("assign", "annotation", "with") or binding.value is None:
        return None
    base = _execution(binding.value, ctx, depth + 1, {**limits, current.value: len(bindings) - 1})
    if base is None:
        return None
    steps.reverse()
    return replace(base, result=base.result + tuple(steps), origins=(*base.origins, binding.value))


# -- Evaluation of QuerySets and related managers (n-plus-one) -------------------------

#: Builtins that evaluate a QuerySet (or any lazy query) passed as their first argument.
EVALUATING_BUILTINS = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.len", "builtins.sorted",
     "builtins.bool", "builtins.sum", "builtins.any", "builtins.all", "builtins.min", "builtins.max",
     "builtins.dict", "builtins.enumerate", "builtins.next", "builtins.iter"}
)
#: Related-manager methods that write (also as ``a*`` async twins).
DJANGO_RELATED_WRITES = frozenset(
    {"add", "remove", "clear", "set", "create", "get_or_create", "update_or_create", "update", "delete"}
)
#: Final calls on a prefetched relation that bypass the prefetch cache: besides
#: DJANGO_PREFETCH_REQUERY, iterator() never reads the result cache and aggregate()/
#: in_bulk()/explain() always run SQL. (count(), exists(), contains() and, with an
#: ordering, first() read the cache.)
DJANGO_PREFETCH_REQUERY_FINAL = DJANGO_PREFETCH_REQUERY | frozenset({"aggregate", "iterator", "in_bulk", "explain"})


def project_model(ctx: RuleContext, model: Any, written: Optional[str]) -> Any:
    """``model`` as :func:`lookup_model` found it, unless it was matched by class name alone
    while ``written`` is imported from another top-level package: a library's model that
    shares a class name with one of the project's (``flask_appbuilder``'s ``PermissionView``
    and a copy declared for a migration) is not the project's model."""
    if model is None or not written:
        return model
    try:
        node = cst.parse_expression(written)
    except (cst.ParserSyntaxError, ValueError):
        return model
    qualified = ctx.qualname(node)
    if not qualified or qualified == model.qualname:
        return model
    catalog = catalog_of(ctx)
    if catalog is not None and catalog.models.get(qualified) is not None:
        return model
    if qualified.split(".", 1)[0] != model.qualname.split(".", 1)[0]:
        return None
    return model


# -- Tortoise ORM --------------------------------------------------------------------------

#: QuerySet methods of a Tortoise model (``await Model.filter(...).first()`` runs a query).
TORTOISE_QUERY = frozenset(
    {"all", "filter", "exclude", "first", "get", "get_or_none", "count", "exists", "values", "values_list",
     "order_by", "limit", "offset", "annotate", "only", "distinct", "group_by", "prefetch_related",
     "select_related", "using_db", "get_or_create", "update_or_create", "create", "update", "delete", "latest",
     "earliest", "in_bulk"}
)
TORTOISE_WRITES = frozenset({"create", "get_or_create", "update_or_create", "update", "delete", "save"})

"""Unbounded ORM queries: which Django QuerySets and SQLAlchemy statements can return an
unbounded number of rows, and which expressions carry their rows somewhere.

:func:`row_sources` unwraps an expression that reaches a response or a caller
(``JsonResponse({"orders": list(qs)})``, ``Serializer(qs, many=True).data``,
``render(request, ..., {"orders": qs})``, ``[o.to_dict() for o in qs]``) into the query
expressions inside it; :func:`judge` tells whether one of them is unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional, Set, Tuple

import libcst as cst
from backendlint_rules._orm import (
    DJANGO_LAZY,
    SQLALCHEMY_BOUNDS,
    SQLALCHEMY_RESULT_ALL,
    SQLALCHEMY_RESULT_CHUNKED,
    SQLALCHEMY_RESULT_SINGLE,
    Execution,
    QueryChain,
    lookup_model,
    query_chain,
    sqlalchemy_execution,
)
from backendlint_rules._web import MATERIALISING_BUILTINS, RESPONSE_CALLS

from backendlint.api import RuleContext, dotted_name

#: Lazy QuerySet methods that do not return the rows of the model as a list.
_DJANGO_NOT_ROWS = frozenset({"raw", "none", "dates", "datetimes", "extra", "select_for_update"})
#: Lookups that select by equality.
_EQUALITY_LOOKUPS = frozenset({"", "exact", "in"})
#: Query/select methods after which the statement no longer lists rows of the model
#: (a bound, a single row, a subquery, a write) or streams them.
_SQLALCHEMY_NOT_LIST = SQLALCHEMY_BOUNDS | frozenset(
    {
        "get", "get_or_404", "first_or_404", "one_or_404", "count", "exists", "subquery", "scalar_subquery",
        "cte", "alias", "as_scalar", "label", "lateral", "delete", "update", "yield_per", "scalar_one",
        "scalar_one_or_none", "values", "returning", "insert", "union", "union_all", "intersect", "except_",
        "from_statement", "params", "compile",
    }
)
_SQLALCHEMY_FILTERS = frozenset({"where", "filter"})
_SQLALCHEMY_EXECUTORS_SINGLE = frozenset({"scalar", "scalar_one", "scalar_one_or_none", "get", "paginate", "stream", "stream_scalars"})


@dataclass(frozen=True)
class Query:
    """An unbounded query found in an expression."""

    #: The expression the query was read from.
    node: cst.CSTNode
    #: Identifies the query across the function (its origin expression), for
    #: de-duplication and for queries handed to a paginator.
    key: int
    framework: str  # "django" or "sqlalchemy"
    #: ``Order.objects.filter(…)`` / ``select(Order).where(…)``.
    description: str
    #: The model as written.
    model: str
    #: The rows are loaded in full (``.all()``, ``list()``), not returned lazily.
    materialised: bool


def query_key(node: cst.CSTNode, ctx: RuleContext) -> Optional[int]:
    """The key of the query ``node`` evaluates to (whether bounded or not)."""
    execution = sqlalchemy_execution(node, ctx)
    if execution is not None:
        return _execution_key(execution)
    chain = query_chain(node, ctx)
    if chain is not None:
        return id(chain.origins[0]) if chain.origins else id(node)
    return None


def _execution_key(execution: Execution) -> int:
    chain = execution.chain
    if chain is not None and chain.origins:
        return id(chain.origins[0])
    return id(execution.statement)


# -- unwrapping -------------------------------------------------------------------------


def row_sources(node: cst.CSTNode, ctx: RuleContext, materialised: bool = False) -> Iterator[Tuple[cst.CSTNode, bool]]:
    """The query expressions whose rows ``node`` carries, with whether they are loaded in
    full on the way (``list(qs)``, a comprehension, ``many=True``)."""
    yield from _sources(node, ctx, materialised, 0, set())


def _sources(node: cst.CSTNode, ctx: RuleContext, loaded: bool, depth: int, seen: Set[int]) -> Iterator[Tuple[cst.CSTNode, bool]]:
    if depth > 8 or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, cst.Await):
        yield from _sources(node.expression, ctx, loaded, depth + 1, seen)
    elif isinstance(node, cst.Name):
        if query_key(node, ctx) is not None:
            yield node, loaded
            return
        binding = ctx.binding(node.value)
        if binding is not None and binding.kind in ("assign", "annotation") and binding.value is not None:
            yield from _sources(binding.value, ctx, loaded, depth + 1, seen)
    elif isinstance(node, cst.Call):
        qualified = ctx.qualname(node.func) or ""
        many = any(a.keyword is not None and a.keyword.value == "many" and _is_true(a.value) for a in node.args)
        if qualified in MATERIALISING_BUILTINS:
            if node.args:
                yield from _sources(node.args[0].value, ctx, True, depth + 1, seen)
        elif many:
            instance = _serializer_instance(node)
            if instance is not None:
                yield from _sources(instance, ctx, True, depth + 1, seen)
        elif qualified in RESPONSE_CALLS:
            for arg in node.args:
                yield from _sources(arg.value, ctx, loaded, depth + 1, seen)
        else:
            yield node, loaded
    elif isinstance(node, cst.Attribute):
        if node.attr.value == "data":  # serializer.data
            yield from _sources(node.value, ctx, loaded, depth + 1, seen)
    elif isinstance(node, cst.Dict):
        for element in node.elements:
            value = element.value if isinstance(element, cst.DictElement) else element.value  # type: ignore[union-attr]
            yield from _sources(value, ctx, loaded, depth + 1, seen)
    elif isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        for element in node.elements:
            yield from _sources(element.value, ctx, loaded or isinstance(element, cst.StarredElement), depth + 1, seen)
    elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        yield from _sources(node.for_in.iter, ctx, True, depth + 1, seen)
    elif isinstance(node, cst.IfExp):
        yield from _sources(node.body, ctx, loaded, depth + 1, seen)
        yield from _sources(node.orelse, ctx, loaded, depth + 1, seen)
    elif isinstance(node, cst.Subscript):
        yield node, loaded


def _is_true(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _serializer_instance(call: cst.Call) -> Optional[cst.CSTNode]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "instance":
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[0].value if positional else None


# -- judging -----------------------------------------------------------------------------


def judge(node: cst.CSTNode, ctx: RuleContext, loaded: bool, catalog: Any) -> Optional[Query]:
    """A :class:`Query` when ``node`` is an unbounded ORM query, else ``None``."""
    execution = sqlalchemy_execution(node, ctx)
    if execution is not None:
        return _judge_execution(node, execution, ctx, loaded, catalog)
    chain = query_chain(node, ctx)
    if chain is None:
        return None
    key = id(chain.origins[0]) if chain.origins else id(node)
    if chain.framework == "django":
        if not _django_unbounded(chain, ctx, catalog):
            return None
        return Query(node, key, "django", _describe_django(chain), chain.model_name, loaded)
    if not _sqlalchemy_unbounded(chain, ctx, catalog):
        return None
    legacy_loaded = chain.has("all")
    return Query(node, key, "sqlalchemy", _describe_sqlalchemy(chain), chain.model_name, loaded or legacy_loaded)


def _judge_execution(node: cst.CSTNode, execution: Execution, ctx: RuleContext, loaded: bool, catalog: Any) -> Optional[Query]:
    if execution.method in _SQLALCHEMY_EXECUTORS_SINGLE:
        return None
    methods = execution.result_methods
    if any(m in SQLALCHEMY_RESULT_SINGLE or m in SQLALCHEMY_RESULT_CHUNKED for m in methods):
        return None
    chain = execution.chain
    if chain is None or not _sqlalchemy_unbounded(chain, ctx, catalog):
        return None
    full = loaded or any(m in SQLALCHEMY_RESULT_ALL for m in methods)
    return Query(node, _execution_key(execution), "sqlalchemy", _describe_sqlalchemy(chain), chain.model_name, full)


def _bounded_by_subscript(chain: QueryChain) -> bool:
    for subscript in chain.subscripts:
        for element in subscript.slice:
            inner = element.slice
            if isinstance(inner, cst.Index):
                return True  # qs[0]
            if isinstance(inner, cst.Slice) and inner.upper is not None:
                return True  # qs[:20], qs[offset:offset + n]
    return False


def _django_unbounded(chain: QueryChain, ctx: RuleContext, catalog: Any) -> bool:
    if not chain.steps:
        return False  # a bare manager is not a query
    for step in chain.steps:
        if step.name not in DJANGO_LAZY or step.name in _DJANGO_NOT_ROWS:
            return False  # evaluated to something else, or a method we do not know
    if _bounded_by_subscript(chain):
        return False
    equal: Set[str] = set()
    for step in chain.steps:
        if step.name != "filter":
            continue
        for arg in step.call.args:
            if arg.star == "**":
                return False  # filter(**criteria): cannot tell
            if arg.keyword is None:
                continue
            field, _, lookup = arg.keyword.value.partition("__")
            if lookup not in _EQUALITY_LOOKUPS:
                continue
            if lookup == "in":
                if _input_bounded(arg.value, ctx):
                    return False  # field__in=ids: as many rows as the caller asked for
                continue
            if field in ("pk", "id"):
                return False
            equal.add(field)
    return not (equal and _unique(catalog, chain.model, equal))


def _unique(catalog: Any, model: Any, fields: Set[str]) -> bool:
    if catalog is None or model is None:
        return False
    columns = set(fields) | {f"{f}_id" for f in fields}
    return bool(catalog.is_unique(model.table, columns))


def _sqlalchemy_unbounded(chain: QueryChain, ctx: RuleContext, catalog: Any) -> bool:
    if not any(part[:1].isupper() for part in chain.model_name.split(".")):
        return False  # select(func.count()), select(text(...)): not rows of a model
    for step in chain.steps:
        if step.name in _SQLALCHEMY_NOT_LIST:
            return False
        if step.name == "execution_options" and any(
            a.keyword is not None and a.keyword.value in ("yield_per", "stream_results", "max_row_buffer") for a in step.call.args
        ):
            return False
    if _bounded_by_subscript(chain):
        return False
    for step in chain.steps:
        if step.name == "filter_by":
            for arg in step.call.args:
                if arg.star == "**":
                    return False
                if arg.keyword is not None and arg.keyword.value in ("id", "pk"):
                    return False
                if arg.keyword is not None and _unique(catalog, chain.model, {arg.keyword.value}):
                    return False
        elif step.name in _SQLALCHEMY_FILTERS:
            owner = next((part for part in chain.model_name.split(".") if part[:1].isupper()), "")
            for arg in step.call.args:
                if _sqlalchemy_unique_term(arg.value, ctx, catalog, owner):
                    return False
    return True


def _sqlalchemy_unique_term(node: cst.CSTNode, ctx: RuleContext, catalog: Any, owner: str, depth: int = 0) -> bool:
    """``Order.id == x``, ``Order.id.in_(ids)``, ``and_(...)`` holding one, on a unique column
    of ``owner`` (the selected model: a unique column of a joined model bounds nothing)."""
    if depth > 6:
        return False
    if isinstance(node, cst.Call):
        name = (dotted_name(node.func) or "").rsplit(".", 1)[-1]
        if name == "and_":
            return any(_sqlalchemy_unique_term(a.value, ctx, catalog, owner, depth + 1) for a in node.args)
        if name == "in_" and isinstance(node.func, cst.Attribute) and node.args:
            return _input_bounded(node.args[0].value, ctx)
        return False
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        target = node.comparisons[0]
        if not isinstance(target.operator, cst.Equal):
            return False
        left, right = node.left, target.comparator
        if _model_attribute(right) and not _model_attribute(left):
            left, right = right, left
        if _model_attribute(right):
            return False  # a join condition: Order.customer_id == Customer.id
        return _unique_column(left, ctx, catalog, owner)
    return False


def _input_bounded(node: cst.CSTNode, ctx: RuleContext) -> bool:
    """The values of an ``IN`` filter come from the caller (``ids``, ``[c.id for c in charts]``),
    so the rows are as many as it asked for; a literal list of constants
    (``status__in=["open", "paid"]``) or another query (a subquery) bounds nothing."""
    if query_chain(node, ctx) is not None:
        return False
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return not all(isinstance(e.value, (cst.SimpleString, cst.Integer, cst.ConcatenatedString)) for e in node.elements)
    if isinstance(node, cst.Name):
        binding = ctx.binding(node.value)
        if binding is not None and binding.kind in ("assign", "annotation") and binding.value is not None:
            if query_chain(binding.value, ctx) is not None:
                return False
            if isinstance(binding.value, (cst.List, cst.Tuple, cst.Set)):
                return _input_bounded(binding.value, ctx)
        return True
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value in ("subquery", "scalar_subquery", "values_list", "values"):
            return False
    return True


def _model_attribute(node: cst.CSTNode) -> bool:
    """``Customer.id``: an attribute of a capitalised name (a mapped class)."""
    name = dotted_name(node)
    return name is not None and "." in name and name.split(".", 1)[0][:1].isupper()


def _unique_column(node: cst.CSTNode, ctx: RuleContext, catalog: Any, owner: str) -> bool:
    if not isinstance(node, cst.Attribute):
        return False
    written = dotted_name(node.value) or ""
    if owner and written.rsplit(".", 1)[-1] != owner:
        return False
    column = node.attr.value
    if column in ("id", "pk"):
        return True
    model, _ = lookup_model(ctx, node.value)
    return _unique(catalog, model, {column})


# -- descriptions ---------------------------------------------------------------------------


def _describe_django(chain: QueryChain) -> str:
    steps = "".join(f".{s.name}(…)" if s.call.args else f".{s.name}()" for s in chain.steps[:3])
    more = "…" if len(chain.steps) > 3 else ""
    return f"{chain.model_name}.objects{steps}{more}"


def _describe_sqlalchemy(chain: QueryChain) -> str:
    return f"select({chain.model_name})" if chain.model_name else "select()"

"""Django query chains -> the tables, predicates and joins they make, for the
index judge: ``Order.objects.filter(customer__email__iexact=e, status="new")``
filters ``shop_order.status`` by equality and ``accounts_user.email`` through a join
on ``customer_id``, wrapped in ``UPPER()``.

Lookup knowledge (checked against Django 5.2): ``__year`` with a direct value
compiles to ``BETWEEN`` on the column (an index serves it); ``__iexact`` /
``__istartswith`` wrap the column in ``UPPER(...)``; ``__date``/``__month``/... extract
from it; ``__contains``/``__icontains``/``__endswith``/``__regex`` are leading-wildcard
or regex matches that no btree serves (never reported).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import libcst as cst
from backendlint_rules._index_judge import Join, Predicate, Query
from backendlint_rules._orm import DJANGO_ASYNC, DJANGO_EVALUATING, DJANGO_LAZY

from backendlint.api import dotted_name

EQUALITY = frozenset({"exact", "in", "isnull"})
RANGE = frozenset({"gt", "gte", "lt", "lte", "range", "startswith"})
#: Transforms that keep the column usable by its index when compared to a value.
YEAR = frozenset({"year", "iso_year"})
#: Transforms and lookups that wrap the column in a function.
WRAPPING = frozenset({"iexact", "istartswith", "date", "month", "day", "week", "week_day", "iso_week_day", "quarter",
                      "time", "hour", "minute", "second"})
#: Matches no btree index can serve; never reported.
NON_SARGABLE = frozenset({"contains", "icontains", "endswith", "iendswith", "regex", "iregex", "search", "ne"})

FILTERING = frozenset({"filter", "get", "aget", "get_or_create", "aget_or_create", "update_or_create",
                       "aupdate_or_create", "exclude"})
#: Keyword arguments of get_or_create/update_or_create that are not lookups.
NOT_LOOKUPS = frozenset({"defaults", "create_defaults"})
LIMITING = frozenset({"first", "last", "afirst", "alast", "latest", "earliest", "alatest", "aearliest"})
#: Chains the judge cannot describe.
UNSUPPORTED = frozenset({"union", "intersection", "difference", "extra", "raw", "none"})
#: QuerySet methods that add no filter the judge cannot see.
KNOWN = frozenset(
    DJANGO_LAZY | DJANGO_EVALUATING | DJANGO_ASYNC | FILTERING | LIMITING
    | {"all", "iterator", "aiterator", "count", "acount", "exists", "aexists", "values", "values_list"}
)


class _Builder:
    def __init__(self, catalog: Any, model: Any) -> None:
        self.catalog = catalog
        self.query = Query()
        self.base = "t0"
        self.query.tables[self.base] = model.table
        self.models: Dict[str, Any] = {self.base: model}

    def alias_for(self, path: str, model: Any, join: Tuple[str, str, str]) -> str:
        """The table instance reached through ``path`` (joined once per path)."""
        if path not in self.models:
            self.query.tables[path] = model.table
            self.models[path] = model
            source, source_column, target_column = join
            self.query.joins.append(Join(source, source_column, path, target_column, path))
        return path

    def resolve(self, parts: List[str], node: Any) -> Optional[Tuple[str, str, List[str]]]:
        """(alias, column, remaining lookup parts) of a lookup path, or None when unknown."""
        alias, model = self.base, self.models[self.base]
        path = ""
        index = 0
        while index < len(parts):
            part = parts[index]
            rest = parts[index + 1:]
            relation = model.relation_by_query_name(part)
            if relation is not None and relation.kind in ("fk", "o2o") and relation.column:
                target = self.catalog.related_model(model, relation)
                if not rest or rest[0] in EQUALITY | RANGE | NON_SARGABLE or (target is not None and rest[0] in ("pk", "id", target.pk)):
                    by_key = bool(rest) and (rest[0] in ("pk", "id") or (target is not None and rest[0] == target.pk))
                    return alias, relation.column, rest[1:] if by_key else rest
                if target is None:
                    return None
                path = f"{path}__{part}" if path else part
                alias = self.alias_for(path, target, (alias, relation.column, target.column_of(target.pk or "id") or "id"))
                model = target
                index += 1
                continue
            if relation is not None and relation.kind in ("reverse_fk", "reverse_o2o", "m2m", "reverse_m2m"):
                target = self.catalog.related_model(model, relation)
                if target is None or not rest:
                    return None
                path = f"{path}__{part}" if path else part
                pk = model.column_of(model.pk or "id") or "id"
                target_pk = target.column_of(target.pk or "id") or "id"
                if relation.kind in ("reverse_fk", "reverse_o2o") and relation.remote_column:
                    alias = self.alias_for(path, target, (alias, pk, relation.remote_column))
                else:  # many-to-many: through a table whose foreign keys Django indexes
                    alias = self.alias_for(path, target, (alias, pk, target_pk))
                model = target
                index += 1
                continue
            if relation is not None:
                return None
            found = self.catalog.resolve_field(model, part)
            if found is None:
                table = self.catalog.table(model.table)
                if model.complete or table is None or table.column(part) is None:
                    return None
                # a field of a base class outside the project (AbstractUser.email) that a
                # migration or SQL file lists as a column
                return alias, part.lower(), rest
            owner_model, column = found
            if owner_model is not model:
                parent_path = f"{path}__<{owner_model.name}>"
                child_pk = model.column_of(model.pk or "id") or "id"
                parent_pk = owner_model.column_of(owner_model.pk or "id") or "id"
                alias = self.alias_for(parent_path, owner_model, (alias, child_pk, parent_pk))
            return alias, column, rest
        return None


def lookup_predicate(
    builder: _Builder, key: str, value: Optional[cst.CSTNode], node: Any, text: str = ""
) -> Optional[Predicate]:
    """One ``filter()`` keyword -> a predicate; ``None`` when it cannot use an index
    anyway; raises ``LookupError`` when it cannot be read (the table is then opaque)."""
    if value is not None and _column_reference(value):
        return None  # compares two columns: an index on one does not help
    parts = key.split("__")
    found = builder.resolve(parts, node)
    if found is None:
        raise LookupError(key)
    alias, column, rest = found
    key = text or key
    if not rest:
        return Predicate(alias, column, "eq", key, node, True)
    head, tail = rest[0], rest[1:]
    if head in NON_SARGABLE:
        return None
    if head == "isnull":
        return Predicate(alias, column, "eq", key, node, True) if _is_true(value) else None
    if head in EQUALITY and not tail:
        return Predicate(alias, column, "eq", key, node, True)
    if head in RANGE and not tail:
        return Predicate(alias, column, "range", key, node, False)
    if head in YEAR and (not tail or tail == ["exact"] or tail[0] in ("gt", "gte", "lt", "lte")) and len(tail) <= 1:
        return Predicate(alias, column, "range", key, node, False)
    if head in WRAPPING or head in YEAR:
        if tail and (tail[0] in NON_SARGABLE or len(tail) > 1 or tail[0] not in EQUALITY | RANGE):
            if tail and tail[0] in NON_SARGABLE:
                return None
            raise LookupError(key)
        equality = head in ("iexact",) or not tail or tail[0] in EQUALITY
        return Predicate(alias, column, "wrapped", key, node, equality, transform=head)
    raise LookupError(key)  # a transform the judge does not know (JSON keys, custom lookups)


def _is_true(value: Optional[cst.CSTNode]) -> bool:
    return isinstance(value, cst.Name) and value.value == "True"


def _column_reference(value: cst.CSTNode) -> bool:
    if isinstance(value, cst.Call):
        name = dotted_name(value.func) or ""
        return name.rsplit(".", 1)[-1] in ("F", "OuterRef", "ExpressionWrapper", "Func")
    return False


def _q_lookups(node: cst.CSTNode) -> Optional[List[Tuple[str, cst.CSTNode]]]:
    """Keyword lookups of ``Q(a=1)`` / ``Q(a=1) & Q(b=2)``; ``None`` for anything else (OR, ~Q)."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitAnd):
        left, right = _q_lookups(node.left), _q_lookups(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "Q":
        out = []
        for arg in node.args:
            if arg.keyword is None or arg.star:
                return None
            out.append((arg.keyword.value, arg.value))
        return out
    return None


def chain_query(chain: Any, catalog: Any, limited: bool) -> Optional[Query]:
    """The query a Django chain runs (``None`` when it cannot be described)."""
    model = chain.model
    if model is None or catalog is None or any(step.name in UNSUPPORTED for step in chain.steps):
        return None
    builder = _Builder(catalog, model)
    query = builder.query
    ordered = False
    for step in chain.steps:
        name = step.name
        call = step.call
        if name not in KNOWN:
            query.opaque.add(builder.base)  # a custom QuerySet/manager method may filter on anything
        elif name in FILTERING:
            if name == "exclude":
                continue  # NOT (...) cannot use an index to find rows
            for arg in call.args:
                if arg.star:
                    query.opaque.add(builder.base)
                    continue
                if arg.keyword is None:
                    found = _q_lookups(arg.value)
                    if found is None:
                        query.opaque.add(builder.base)
                        continue
                    pairs = found
                elif arg.keyword.value in NOT_LOOKUPS:
                    continue
                else:
                    pairs = [(arg.keyword.value, arg.value)]
                for key, value in pairs:
                    try:
                        predicate = lookup_predicate(builder, key, value, arg, f"{name}({key}=...)")
                    except LookupError:
                        query.opaque.add(builder.base)
                        continue
                    if predicate is not None:
                        query.predicates.append(predicate)
            if name in ("get", "aget"):
                limited = True
        elif name == "order_by":
            ordered = True
            query.predicates = [p for p in query.predicates if p.kind != "order"]
            for arg in call.args:
                field = _order_field(arg.value)
                if field is None:
                    break
                found = builder.resolve([field], arg) if "__" not in field else None
                if found is None or found[2]:
                    break
                written = arg.value.evaluated_value if isinstance(arg.value, cst.SimpleString) else field
                query.predicates.append(Predicate(found[0], found[1], "order", f"order_by({written!r})", arg))
                break
        elif name in LIMITING:
            limited = True
            if name in ("latest", "earliest", "alatest", "aearliest") and call.args:
                field = _order_field(call.args[0].value)
                found = builder.resolve([field], call) if field and "__" not in field else None
                if found is not None and not found[2]:
                    ordered = True
                    query.predicates = [p for p in query.predicates if p.kind != "order"]
                    query.predicates.append(Predicate(found[0], found[1], "order", f"{name}({field!r})", call.args[0]))
            elif name in ("first", "last", "afirst", "alast") and not ordered and not model.ordering:
                ordered = True  # ordered by the primary key
    if limited and not ordered and model.ordering:
        node = chain.steps[-1].call if chain.steps else None
        field = model.ordering[0].lstrip("-")
        found = builder.resolve([field], node) if "__" not in field and field != "?" else None
        if found is not None and not found[2]:
            query.predicates.append(Predicate(found[0], found[1], "order", f"Meta.ordering {model.ordering[0]!r}", node))
    query.limited = limited
    return query


def _order_field(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        text = node.evaluated_value
        if isinstance(text, str) and text != "?":
            return text.lstrip("-")
        return None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("desc", "asc"):
        inner = node.func.value
        if isinstance(inner, cst.Call) and (dotted_name(inner.func) or "").endswith("F") and inner.args:
            value = inner.args[0].value
            if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                return value.evaluated_value
    return None

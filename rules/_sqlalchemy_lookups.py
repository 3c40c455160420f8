"""SQLAlchemy / SQLModel query chains -> tables, predicates and joins for the index
judge: ``select(Invoice).where(Invoice.status == s).order_by(Invoice.due_at).limit(10)``,
``session.query(User).filter(User.email == e)``, ``.filter_by(email=e)``.

Read: ``==``, ``in_()``, ``is_(None)`` (equality); ``<``/``>``/``between()``/``like("x%")``/
``startswith("x")`` (range); ``func.lower(Model.col) == ...`` (function-wrapped);
``Model.a == Other.b`` in ``where()`` or ``join(Other, onclause)`` (joins); ``join(Model.rel)``
through a catalogued relationship. ``or_()``, ``!=``, ``not_()``, ``contains()``/``ilike()``
are left alone; a column the reader cannot attribute makes the query opaque.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import libcst as cst
from backendlint_rules._index_judge import Join, Predicate, Query
from backendlint_rules._orm import lookup_model

from backendlint.api import RuleContext, dotted_name

FILTERS = frozenset({"where", "filter"})
LIMITING = frozenset({"limit", "first", "one", "one_or_none", "scalar", "fetch", "slice", "get"})
UNSUPPORTED = frozenset({"union", "union_all", "except_", "intersect", "from_statement", "with_only_columns",
                         "select_from", "outerjoin", "join_from", "having", "group_by", "distinct", "params"})
_RANGE_OPS = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)


class _Reader:
    def __init__(self, ctx: RuleContext, catalog: Any, model: Any) -> None:
        self.ctx, self.catalog = ctx, catalog
        self.query = Query()
        self.base = model.qualname
        self.query.tables[self.base] = model.table
        self.models: Dict[str, Any] = {self.base: model}

    def opaque(self) -> None:
        self.query.opaque.update(self.query.tables)

    def column(self, node: cst.CSTNode) -> Optional[Tuple[str, str]]:
        """(alias, column) of ``Model.attr`` for a catalogued model, else None."""
        if not isinstance(node, cst.Attribute):
            return None
        model, _ = lookup_model(self.ctx, node.value)
        if model is None or model.framework not in ("sqlalchemy", "sqlmodel"):
            return None
        column = model.column_of(node.attr.value)
        if column is None:
            raise LookupError(node.attr.value)
        alias = model.qualname
        if alias not in self.query.tables:
            self.query.tables[alias] = model.table
            self.models[alias] = model
        return alias, column

    def subject(self, node: cst.CSTNode) -> Optional[Tuple[str, str, bool]]:
        found = self.column(node)
        if found is not None:
            return found[0], found[1], False
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "").startswith(("func.", "sa.func.", "sqlalchemy.func.")):
            inner = [self.column(a.value) for a in node.args if isinstance(a.value, cst.Attribute)]
            inner = [i for i in inner if i is not None]
            if len(inner) == 1:
                return inner[0][0], inner[0][1], True
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "cast" and node.args:
            found = self.column(node.args[0].value)
            if found is not None:
                return found[0], found[1], True
        return None

    def is_value(self, node: cst.CSTNode) -> bool:
        """An expression with no catalogued model column (a parameter, literal, bindparam...)."""
        for child in _walk(node):
            if isinstance(child, cst.Attribute):
                model, _ = lookup_model(self.ctx, child.value)
                if model is not None:
                    return False
        return True

    def add(self, subject: Tuple[str, str, bool], kind: str, node: cst.CSTNode, equality: bool) -> None:
        alias, column, wrapped = subject
        text = _source(node)
        self.query.predicates.append(Predicate(alias, column, "wrapped" if wrapped else kind, text, node, equality))

    def condition(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Call):
            callee = (dotted_name(node.func) or "").rsplit(".", 1)[-1]
            if callee == "and_":
                for arg in node.args:
                    self.condition(arg.value)
                return
            if isinstance(node.func, cst.Attribute):
                method = node.func.attr.value
                subject = self.subject(node.func.value)
                if subject is None:
                    self._unknown(node.func.value)
                    return
                values = [a.value for a in node.args]
                if not all(self.is_value(v) for v in values):
                    return
                if method in ("in_", "is_"):
                    if method == "is_" and not (values and isinstance(values[0], cst.Name) and values[0].value == "None"):
                        return
                    self.add(subject, "eq", node, True)
                elif method == "between":
                    self.add(subject, "range", node, False)
                elif method in ("like", "startswith") and values and _literal_prefix(values[0], method):
                    self.add(subject, "range", node, False)
                return
            return
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            target = node.comparisons[0]
            operator = target.operator
            left, right = node.left, target.comparator
            a, b = self.subject(left), self.subject(right)
            if isinstance(operator, cst.Equal):
                if a and b and a[0] != b[0] and not a[2] and not b[2]:
                    self.query.joins.append(Join(a[0], a[1], b[0], b[1], _source(node), node))
                    return
                for subject, other in ((a, right), (b, left)):
                    if subject and self.is_value(other):
                        self.add(subject, "eq", node, True)
                        return
                if a is None and b is None:
                    self._unknown(left)
                return
            if isinstance(operator, _RANGE_OPS):
                for subject, other in ((a, right), (b, left)):
                    if subject and self.is_value(other):
                        self.add(subject, "range", node, False)
                        return
            return

    def _unknown(self, node: cst.CSTNode) -> None:
        """A condition on something that is not a catalogued column: the query may use an
        index the reader cannot see (an aliased entity, a hybrid property)."""
        if not self.is_value(node) or isinstance(node, (cst.Name, cst.Attribute)):
            self.opaque()

    def join(self, call: cst.Call) -> None:
        args = [a.value for a in call.args if a.keyword is None]
        if len(args) == 1 and isinstance(args[0], cst.Attribute):
            self._relationship_join(args[0])
            return
        if len(args) == 2:
            model, _ = lookup_model(self.ctx, args[0])
            if model is None:
                self.opaque()
                return
            if model.qualname not in self.query.tables:
                self.query.tables[model.qualname] = model.table
                self.models[model.qualname] = model
            before = len(self.query.joins)
            try:
                self.condition(args[1])
            except LookupError:
                self.opaque()
            if len(self.query.joins) == before:
                self.opaque()
            return
        self.opaque()

    def _relationship_join(self, node: cst.Attribute) -> None:
        owner, _ = lookup_model(self.ctx, node.value)
        relation = owner.relation(node.attr.value) if owner is not None else None
        target = self.catalog.related_model(owner, relation) if relation is not None else None
        if owner is None or target is None or relation.through or owner.qualname not in self.query.tables:
            self.opaque()
            return
        self.query.tables.setdefault(target.qualname, target.table)
        self.models[target.qualname] = target
        owner_pk = owner.column_of(owner.pk) if owner.pk else None
        target_pk = target.column_of(target.pk) if target.pk else None
        if relation.column and target_pk:  # many-to-one: local foreign key -> target primary key
            self.query.joins.append(Join(owner.qualname, relation.column, target.qualname, target_pk, _source(node), node))
        elif relation.remote_column and owner_pk:  # one-to-many: target's foreign key
            self.query.joins.append(Join(owner.qualname, owner_pk, target.qualname, relation.remote_column, _source(node), node))
        else:
            self.opaque()


def chain_query(chain: Any, ctx: RuleContext, catalog: Any, limited: bool) -> Optional[Query]:
    model = chain.model
    if model is None or catalog is None or model.framework not in ("sqlalchemy", "sqlmodel"):
        return None
    if any(step.name in UNSUPPORTED for step in chain.steps):
        return None
    reader = _Reader(ctx, catalog, model)
    query = reader.query
    joined = False
    for step in chain.steps:
        name, call = step.name, step.call
        try:
            if name in FILTERS:
                for arg in call.args:
                    if arg.keyword is not None or arg.star:
                        reader.opaque()
                        continue
                    reader.condition(arg.value)
            elif name == "filter_by":
                for arg in call.args:
                    if arg.keyword is None or joined:
                        reader.opaque()
                        continue
                    column = model.column_of(arg.keyword.value)
                    if column is None:
                        reader.opaque()
                    elif reader.is_value(arg.value):
                        query.predicates.append(Predicate(reader.base, column, "eq", f"filter_by({arg.keyword.value}=...)", arg, True))
            elif name == "join":
                joined = True
                reader.join(call)
            elif name == "order_by":
                query.predicates = [p for p in query.predicates if p.kind != "order"]
                if call.args:
                    first = call.args[0].value
                    if isinstance(first, cst.Call) and isinstance(first.func, cst.Attribute) and first.func.attr.value in ("desc", "asc"):
                        first = first.func.value
                    found = reader.column(first)
                    if found is not None:
                        query.predicates.append(Predicate(found[0], found[1], "order", _source(call.args[0].value), call.args[0]))
            elif name in LIMITING:
                limited = True
            elif name == "options":
                continue
        except LookupError:
            reader.opaque()
    query.limited = limited
    return query


def _literal_prefix(node: cst.CSTNode, method: str) -> bool:
    if not isinstance(node, cst.SimpleString):
        return False
    value = node.evaluated_value
    if not isinstance(value, str) or not value:
        return False
    return method == "startswith" or value[0] not in "%_"


def _walk(node: cst.CSTNode) -> List[cst.CSTNode]:
    out: List[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.children)
    return out


def _source(node: cst.CSTNode) -> str:
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= 80 else text[:77] + "..."

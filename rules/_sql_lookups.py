"""Parsed SQL -> the tables, predicates and joins each query block makes, for the
index judge. One :class:`Query` per SELECT scope (CTEs and subqueries included),
and one for the WHERE of an UPDATE or DELETE.

Only the top-level AND-chain of WHERE and JOIN ON is read: ``col = value``, ``IN``,
``IS NULL`` (equality), ``<``/``>``/``BETWEEN``/``LIKE 'prefix%'`` (range), a column
wrapped in a function or cast (``lower(email) = ...``, ``created_at::date = ...``),
and ``a.x = b.y`` joins. ``OR``, ``<>``, ``NOT IN``, ``IS NOT NULL``, leading-wildcard
``LIKE`` and operators a btree never serves are left alone. A predicate on a column
the reader cannot attribute (an f-string hole in place of a condition, an ambiguous
unqualified name) makes the block's tables opaque: they are then never reported.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

import sqlglot.expressions as exp
from backendlint_rules._index_judge import Join, Predicate, Query
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from backendlint.sql.parse import is_hole

_COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE)


def statement_queries(statement: exp.Expression, catalog: Any) -> List[Query]:
    """Every query block of ``statement`` that reads rows through a WHERE, JOIN or ORDER BY."""
    if isinstance(statement, (exp.Update, exp.Delete)):
        found = _write_query(statement, catalog)
        return [found] if found is not None else []
    root: Optional[exp.Expression] = statement
    if isinstance(statement, exp.Create):
        kind = (statement.args.get("kind") or "").upper()
        root = statement.expression if kind == "VIEW" else None
    elif isinstance(statement, exp.Insert):
        root = statement.expression if isinstance(statement.expression, (exp.Select, exp.SetOperation)) else None
    elif not isinstance(statement, (exp.Select, exp.SetOperation, exp.Subquery)):
        root = None
    if root is None:
        return []
    try:
        scopes = traverse_scope(root)
    except (SqlglotError, RecursionError, ValueError, KeyError, TypeError, AttributeError):
        return []
    out = []
    for scope in scopes:
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        tables: Dict[str, str] = {}
        derived = False
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table) and source.name and not is_hole(source):
                tables[alias] = ".".join(p for p in (source.db, source.name) if p)
            else:
                derived = True
        if not tables:
            continue
        reader = _Reader(tables, derived, catalog, set(scope.sources))
        query = reader.read_select(select)
        if query is not None:
            out.append(query)
    return out


def _write_query(statement: exp.Expression, catalog: Any) -> Optional[Query]:
    target = statement.this
    if not isinstance(target, exp.Table) or statement.args.get("from") or statement.args.get("using"):
        return None
    where = statement.args.get("where")
    if where is None or is_hole(target):
        return None
    alias = target.alias_or_name
    reader = _Reader({alias: ".".join(p for p in (target.db, target.name) if p)}, False, catalog, {alias})
    reader.conjuncts(where.this, None)
    return reader.query


class _Reader:
    def __init__(self, tables: Dict[str, str], derived: bool, catalog: Any, sources: set) -> None:
        self.query = Query(tables=dict(tables))
        self.derived = derived
        self.catalog = catalog
        self.sources = sources

    def opaque(self) -> None:
        self.query.opaque.update(self.query.tables)

    # -- columns -------------------------------------------------------------------------
    def owner(self, column: exp.Column) -> Optional[str]:
        """The alias of this block's table the column belongs to; ``""`` for a column of
        another block (a value here); ``None`` when it cannot be told."""
        if is_hole(column):
            return None
        qualifier = column.table
        if qualifier:
            if qualifier in self.query.tables:
                return qualifier
            return None if qualifier in self.sources else ""
        if len(self.query.tables) == 1 and not self.derived:
            return next(iter(self.query.tables))
        if self.derived:
            return None
        candidates = []
        for alias, name in self.query.tables.items():
            table = self.catalog.table(name) if self.catalog is not None else None
            if table is not None and table.column(column.name) is not None:
                candidates.append(alias)
        return candidates[0] if len(candidates) == 1 else None

    def local_columns(self, node: exp.Expression) -> Optional[List[Tuple[str, exp.Column]]]:
        """This block's columns in ``node`` (None when one cannot be attributed);
        subqueries are other blocks."""
        out = []
        for column in node.find_all(exp.Column):
            if is_hole(column) or _inside_subquery(column, node):
                continue  # a hole in a value position is a value
            owner = self.owner(column)
            if owner is None:
                return None
            if owner:
                out.append((owner, column))
        return out

    def subject(self, node: exp.Expression) -> Optional[Tuple[str, str, bool]]:
        """(alias, column, wrapped) when ``node`` is one column of this block, bare or inside
        a function/cast of it alone; None otherwise."""
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.Column):
            owner = self.owner(node)
            return (owner, node.name.lower(), False) if owner else None
        if isinstance(node, (exp.Func, exp.Cast)) and not isinstance(node, (exp.Binary, exp.Predicate)):
            found = self.local_columns(node)
            if found and len(found) == 1:
                owner, column = found[0]
                return owner, column.name.lower(), True
        return None

    def is_value(self, node: exp.Expression) -> bool:
        """No column of this block (literals, placeholders, holes, outer columns, subqueries)."""
        if isinstance(node, (exp.Subquery, exp.Select)):
            return True
        found = self.local_columns(node)
        return found is not None and not found

    # -- predicates ------------------------------------------------------------------------
    def conjuncts(self, node: exp.Expression, join: Optional[exp.Join]) -> None:
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.And):
            self.conjuncts(node.left, join)
            self.conjuncts(node.right, join)
            return
        if (isinstance(node, (exp.Column, exp.Identifier)) and is_hole(node)) or _holds_hole_condition(node):
            self.opaque()  # WHERE {condition}: anything may be in there
            return
        if node.args.get("negate"):
            return  # IS NOT NULL, NOT LIKE, NOT ILIKE: no index finds the rows
        text = _text(node)
        if isinstance(node, (exp.EQ, exp.NullSafeEQ)):
            left, right = node.left, node.right
            a, b = self.subject(left), self.subject(right)
            if a and b and a[0] != b[0] and not a[2] and not b[2]:
                self.query.joins.append(Join(a[0], a[1], b[0], b[1], text))
                return
            for subject, other in ((a, right), (b, left)):
                if subject and self.is_value(other):
                    self.add(subject, "wrapped" if subject[2] else "eq", text, True)
                    return
            return
        if isinstance(node, exp.In):
            subject = self.subject(node.this)
            if subject and all(self.is_value(e) for e in node.expressions):
                self.add(subject, "wrapped" if subject[2] else "eq", text, True)
            return
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null) and not node.args.get("negate"):
            subject = self.subject(node.this)
            if subject:
                self.add(subject, "wrapped" if subject[2] else "eq", text, True)
            return
        if isinstance(node, _COMPARISONS):
            for subject, other in ((self.subject(node.left), node.right), (self.subject(node.right), node.left)):
                if subject and self.is_value(other):
                    self.add(subject, "wrapped" if subject[2] else "range", text, False)
                    return
            return
        if isinstance(node, exp.Between):
            subject = self.subject(node.this)
            if subject and self.is_value(node.args["low"]) and self.is_value(node.args["high"]):
                self.add(subject, "wrapped" if subject[2] else "range", text, False)
            return
        if isinstance(node, exp.Like):
            subject = self.subject(node.this)
            pattern = node.expression
            if subject and not subject[2] and isinstance(pattern, exp.Literal) and pattern.is_string:
                value = pattern.this
                if value and value[0] not in "%_":
                    self.add(subject, "range", text, False)
            return

    def add(self, subject: Tuple[str, str, bool], kind: str, text: str, equality: bool) -> None:
        alias, column, _ = subject
        self.query.predicates.append(Predicate(alias, column, kind, text, None, equality))

    def read_select(self, select: exp.Select) -> Optional[Query]:
        where = select.args.get("where")
        if where is not None:
            self.conjuncts(where.this, None)
        for join in select.args.get("joins") or []:
            on = join.args.get("on")
            if on is not None:
                self.conjuncts(on, join)
            for using in join.args.get("using") or []:
                self.using(join, using)
        limit = select.args.get("limit")
        self.query.limited = limit is not None and not _holds_hole(limit)
        order = select.args.get("order")
        if order is not None and self.query.limited:
            for ordered in order.expressions:
                target = ordered.this if isinstance(ordered, exp.Ordered) else ordered
                subject = self.subject(target) if isinstance(target, exp.Column) else None
                if subject is None:
                    break
                self.add(subject, "order", _text(ordered), False)
                break
        return self.query

    def using(self, join: exp.Join, column: exp.Expression) -> None:
        joined = join.this
        if not isinstance(joined, exp.Table):
            return
        right = joined.alias_or_name
        name = column.name.lower()
        others = [a for a in self.query.tables if a != right and self._has(a, name)]
        if right in self.query.tables and len(others) == 1:
            self.query.joins.append(Join(others[0], name, right, name, f"USING ({name})"))

    def _has(self, alias: str, column: str) -> bool:
        table = self.catalog.table(self.query.tables[alias]) if self.catalog is not None else None
        return table is not None and table.column(column) is not None


def _text(node: exp.Expression) -> str:
    """The SQL of a predicate for messages, placeholders as the driver writes them."""
    return re.sub(r"@(\d+)\b", r"$\1", node.sql())


def _inside_subquery(column: exp.Column, root: exp.Expression) -> bool:
    parent = column.parent
    while parent is not None and parent is not root:
        if isinstance(parent, (exp.Subquery, exp.Select)):
            return True
        parent = parent.parent
    return False


def _holds_hole(node: exp.Expression) -> bool:
    return any(is_hole(n) for n in node.find_all(exp.Column, exp.Identifier))


def _holds_hole_condition(node: exp.Expression) -> bool:
    """A hole standing for (part of) a condition rather than a value: ``{a} = 1``, ``x AND {b}``."""
    if isinstance(node, (exp.EQ, exp.NEQ, exp.In, exp.Is, exp.Like, exp.ILike, *_COMPARISONS, exp.Between)):
        subject = node.this if not isinstance(node, exp.Binary) else node.left
        return isinstance(subject, (exp.Column, exp.Identifier)) and is_hole(subject)
    return False

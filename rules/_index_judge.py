"""Whether a query's table accesses can use an index, judged against the project's
schema catalogue (``ctx.project.get("catalog")``) by the leftmost-prefix rule.

A query is described as table instances (alias -> table), predicates on their columns
(equality, range, function-wrapped, ORDER BY) and join edges. It is judged as a whole,
precision first:

- a table instance with a WHERE predicate that some index serves is an *anchor*;
- a table reached from an anchor through a join whose column on the joined side is
  served by an index is fine (its other predicates are checked on few rows);
- a query with filters but no anchor at all is reported at its best filter (equality
  before function-wrapped before range);
- a table that the joins only reach through an unindexed column is reported at that
  join column (the "many" side of the join);
- ORDER BY ... LIMIT on a single table without filters is reported when no index
  serves the first ORDER BY column.

Tables that are not in the catalogue, not managed by the project, or whose predicates
use columns the catalogue does not list are never judged (and count as served).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from backendlint.api import Severity

#: Predicate kinds, best candidates first.
KIND_ORDER = {"eq": 0, "wrapped": 1, "range": 2, "order": 3}

_SYSTEM_PREFIXES = ("pg_", "information_schema", "sqlite_", "mysql.", "sys.")


@dataclass
class Predicate:
    alias: str
    column: str
    #: eq, range, wrapped, order
    kind: str
    #: How the source writes it (``status = %s``, ``email__iexact``).
    text: str
    node: Any = None
    #: A wrapped predicate compares with equality (``lower(email) = ...``, ``__iexact``).
    equality: bool = False
    #: The Django transform or lookup that wraps the column (``iexact``, ``date``).
    transform: str = ""


@dataclass
class Join:
    left: str
    left_column: str
    right: str
    right_column: str
    text: str
    node: Any = None


@dataclass
class Query:
    #: alias -> table name as written (schema prefixes allowed)
    tables: Dict[str, str] = field(default_factory=dict)
    predicates: List[Predicate] = field(default_factory=list)
    joins: List[Join] = field(default_factory=list)
    limited: bool = False
    #: Aliases with a predicate that could not be read (a hole, an OR, an unknown column):
    #: treated as served.
    opaque: Set[str] = field(default_factory=set)


@dataclass
class Problem:
    table: str
    column: str
    #: eq, range, wrapped, order, join
    kind: str
    severity: Severity
    predicate: Optional[Predicate] = None
    join: Optional[Join] = None
    #: An index that lists the column but cannot serve it here (leftmost-prefix).
    near_miss: Any = None
    #: Every filtered column of the table, for the message.
    columns: Tuple[str, ...] = ()

    @property
    def node(self) -> Any:
        if self.predicate is not None:
            return self.predicate.node
        return self.join.node if self.join is not None else None


def judgeable(catalog: Any, table: str) -> bool:
    """The catalogue knows the table and its indexes are the project's to manage."""
    lowered = table.lower().strip('"`[]')
    if lowered.startswith(_SYSTEM_PREFIXES):
        return False
    found = catalog.table(table)
    return found is not None and bool(getattr(found, "managed", True))


def judge(query: Query, catalog: Any) -> List[Problem]:
    if catalog is None:
        return []
    judged: Dict[str, Any] = {}
    opaque = set(query.opaque)
    for alias, name in query.tables.items():
        if alias in opaque or not judgeable(catalog, name):
            continue
        table = catalog.table(name)
        columns = [p.column for p in query.predicates if p.alias == alias]
        columns += [j.left_column for j in query.joins if j.left == alias]
        columns += [j.right_column for j in query.joins if j.right == alias]
        if any(table.column(c) is None for c in columns):
            opaque.add(alias)  # a column the catalogue does not know: its indexes may be unknown too
            continue
        judged[alias] = table
    equal: Dict[str, Set[str]] = {alias: set() for alias in query.tables}
    for p in query.predicates:
        if p.kind == "eq":
            equal.setdefault(p.alias, set()).add(p.column)
    for j in query.joins:
        equal.setdefault(j.left, set()).add(j.left_column)
        equal.setdefault(j.right, set()).add(j.right_column)

    def serves(alias: str, column: str, wrapped: bool = False) -> Any:
        table = judged.get(alias)
        if table is None:
            return True
        return catalog.serving_index(table.name, column, equal.get(alias, set()), wrapped=wrapped)

    filters = [p for p in query.predicates if p.kind != "order"]
    filtered = {p.alias for p in filters} | (opaque & set(query.tables))
    if filtered:
        anchors = set()
        for alias in filtered:
            if alias not in judged:
                anchors.add(alias)
            elif any(serves(alias, p.column, p.kind == "wrapped") for p in filters if p.alias == alias):
                anchors.add(alias)
        if not anchors:
            return [_best(filters, judged, catalog, equal)]
        return _unreached_joins(query, judged, anchors, serves)
    if query.limited and len(query.tables) == 1:
        orders = [p for p in query.predicates if p.kind == "order"]
        if orders and orders[0].alias in judged and not serves(orders[0].alias, orders[0].column):
            first = orders[0]
            table = judged[first.alias]
            return [Problem(table.name, first.column, "order", Severity.LOW, first, near_miss=_near_miss(catalog, table.name, first.column))]
    return []


def _best(filters: List[Predicate], judged: Dict[str, Any], catalog: Any, equal: Dict[str, Set[str]]) -> Problem:
    candidates = sorted((p for p in filters if p.alias in judged), key=lambda p: KIND_ORDER[p.kind])
    best = candidates[0]
    table = judged[best.alias]
    if best.kind == "eq" or (best.kind == "wrapped" and best.equality):
        severity = Severity.MEDIUM
    else:
        severity = Severity.LOW
    columns = tuple(dict.fromkeys(p.column for p in candidates if p.alias == best.alias and p.kind in ("eq", "range")))
    near = None if best.kind == "wrapped" else _near_miss(catalog, table.name, best.column)
    return Problem(table.name, best.column, best.kind, severity, best, near_miss=near, columns=columns)


def _unreached_joins(query: Query, judged: Dict[str, Any], anchors: Set[str], serves: Any) -> List[Problem]:
    reached = set(anchors)
    changed = True
    while changed:
        changed = False
        for j in query.joins:
            for source, target, column in ((j.left, j.right, j.right_column), (j.right, j.left, j.left_column)):
                if source in reached and target not in reached and serves(target, column):
                    reached.add(target)
                    changed = True
    problems = []
    seen: Set[Tuple[str, str]] = set()
    for j in query.joins:
        for source, target, column in ((j.left, j.right, j.right_column), (j.right, j.left, j.left_column)):
            if source in reached and target not in reached and target in judged and (target, column) not in seen:
                seen.add((target, column))
                problems.append(Problem(judged[target].name, column, "join", Severity.MEDIUM, join=j))
    return problems


def _near_miss(catalog: Any, table: str, column: str) -> Any:
    """An index listing ``column`` behind columns the query does not constrain."""
    for index in catalog.indexes(table):
        if column in index.columns and index.columns[0] != column:
            return index
    return None


def describe_index(index: Any) -> str:
    name = f"{index.name} " if getattr(index, "name", "") else ""
    return f"{name}({', '.join(index.columns)})"

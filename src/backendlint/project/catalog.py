"""The schema catalogue: tables, columns, keys, indexes and ORM models of the project.

Gathered by the project pass (:mod:`backendlint.project.facts`) from Django models
and migrations, SQLAlchemy/SQLModel models, Alembic revisions and ``.sql`` files.
Rules read it through ``ctx.project.get("catalog")``; ``backendlint schema`` prints it.

Names: tables and columns are kept as the database knows them, lower-cased; models
by qualified name (``shop.models.Order``) and looked up by class name too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from backendlint.project.facts import register


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ""
    nullable: bool = True
    primary_key: bool = False
    unique: bool = False


@dataclass(frozen=True)
class Index:
    """An index (or a key/constraint backed by one) on ``table``."""

    table: str
    #: Column names in index order; an expression item as its SQL text (``lower(email)``).
    columns: Tuple[str, ...]
    unique: bool = False
    partial: bool = False
    #: btree, hash, gin, gist, brin, ...
    method: str = "btree"
    #: Which items of ``columns`` are expressions rather than plain columns.
    expressions: Tuple[bool, ...] = ()
    #: Where it was declared: ``shop/models.py:14 Meta.indexes``.
    source: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: Tuple[Column, ...] = ()
    indexes: Tuple[Index, ...] = ()
    sources: Tuple[str, ...] = ()

    def column(self, name: str) -> Optional[Column]:
        name = name.lower()
        for column in self.columns:
            if column.name == name:
                return column
        return None


@dataclass(frozen=True)
class Relation:
    """A model attribute that reaches rows of another model."""

    name: str
    #: Django: fk, o2o, m2m, reverse_fk, reverse_o2o, reverse_m2m, generic_fk;
    #: SQLAlchemy/SQLModel: relationship.
    kind: str
    #: The target model's class name as the source names it (resolved to a known model when possible).
    target: str
    #: The local column for fk/o2o (``author_id``).
    column: str = ""
    #: True when the attribute yields many rows (a related manager, a collection).
    many: bool = False
    #: SQLAlchemy loading strategy (select, joined, selectin, subquery, immediate, raise,
    #: raise_on_sql, noload, dynamic, write_only); Django relations are always "select".
    lazy: str = "select"


@dataclass(frozen=True)
class Model:
    name: str
    qualname: str
    #: django, sqlalchemy, sqlmodel, tortoise
    framework: str
    table: str
    #: Concrete (non-relation) field or column attribute names.
    fields: Tuple[str, ...] = ()
    relations: Tuple[Relation, ...] = ()
    #: Django ``Meta.ordering`` (``-created`` for descending).
    ordering: Tuple[str, ...] = ()
    abstract: bool = False
    path: str = ""
    line: int = 0

    def relation(self, name: str) -> Optional[Relation]:
        for relation in self.relations:
            if relation.name == name:
                return relation
        return None


@dataclass
class Catalog:
    """Every table and model the project declares; read-only for rules."""

    tables: Dict[str, Table] = field(default_factory=dict)
    models: Dict[str, Model] = field(default_factory=dict)

    # -- lookups -------------------------------------------------------------------
    def table(self, name: str) -> Optional[Table]:
        return self.tables.get(_bare(name))

    def model(self, name: str) -> Optional[Model]:
        """A model by qualified name, or by class name when exactly one model has it."""
        found = self.models.get(name)
        if found is not None:
            return found
        short = name.rsplit(".", 1)[-1]
        matches = [m for m in self.models.values() if m.name == short and not m.abstract]
        return matches[0] if len(matches) == 1 else None

    def model_for_table(self, table: str) -> Optional[Model]:
        bare = _bare(table)
        matches = [m for m in self.models.values() if m.table == bare and not m.abstract]
        return matches[0] if len(matches) == 1 else None

    # -- index questions ------------------------------------------------------------
    def indexes(self, table: str) -> Tuple[Index, ...]:
        found = self.table(table)
        return found.indexes if found else ()

    def is_unique(self, table: str, equal_columns: Iterable[str]) -> bool:
        """Whether equality on ``equal_columns`` selects at most one row: some unique,
        non-partial index has all its (plain) columns among them."""
        given = {c.lower() for c in equal_columns}
        for index in self.indexes(table):
            if index.unique and not index.partial and index.columns and not any(index.expressions):
                if set(index.columns) <= given:
                    return True
        return False

    def serving_index(self, table: str, column: str, equal_columns: Iterable[str] = ()) -> Optional[Index]:
        """An index that can serve a predicate (or ORDER BY) on ``column`` given equality
        on ``equal_columns``, by the leftmost-prefix rule: ``column`` is at position k and
        every column before it is constrained by equality. Non-btree indexes listing the
        column count as serving it (precision first)."""
        column = column.lower()
        given = {c.lower() for c in equal_columns}
        for index in self.indexes(table):
            if column not in index.columns:
                continue
            if index.method != "btree":
                return index
            position = index.columns.index(column)
            if all(earlier in given for earlier in index.columns[:position]):
                return index
        return None

    def describe(self) -> List[str]:
        """A readable listing (what ``backendlint schema`` prints)."""
        lines: List[str] = []
        for name in sorted(self.tables):
            table = self.tables[name]
            lines.append(f"table {name}")
            for column in table.columns:
                flags = [f for f, on in (("pk", column.primary_key), ("unique", column.unique), ("null", column.nullable)) if on]
                lines.append(f"  column {column.name} {column.type}".rstrip() + (f" [{', '.join(flags)}]" if flags else ""))
            for index in table.indexes:
                flags = [f for f, on in (("unique", index.unique), ("partial", index.partial)) if on]
                if index.method != "btree":
                    flags.append(index.method)
                extra = f" [{', '.join(flags)}]" if flags else ""
                lines.append(f"  index ({', '.join(index.columns)}){extra}  <- {index.source}")
        for qualname in sorted(self.models):
            model = self.models[qualname]
            lines.append(f"model {qualname} ({model.framework}) -> {model.table}")
            for relation in model.relations:
                lines.append(f"  {relation.kind} {relation.name} -> {relation.target} (lazy={relation.lazy})")
        return lines


def _bare(name: str) -> str:
    """``public.Orders`` / ``"orders"`` -> ``orders``."""
    return name.strip('"`[]').rsplit(".", 1)[-1].strip('"`[]').lower()


class CatalogGatherer:
    """Reads models, migrations and ``.sql`` files into a :class:`Catalog`."""

    name = "catalog"

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        return False

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        return None

    def combine(self, per_file: Mapping[str, Any]) -> Catalog:
        return Catalog()


def merge_tables(tables: Sequence[Table]) -> Table:
    """One table from several declarations of it (model + migrations + SQL)."""
    columns: Dict[str, Column] = {}
    indexes: Dict[Tuple[Tuple[str, ...], bool, bool, str], Index] = {}
    sources: List[str] = []
    for table in tables:
        for column in table.columns:
            columns.setdefault(column.name, column)
        for index in table.indexes:
            indexes.setdefault((index.columns, index.unique, index.partial, index.method), index)
        sources.extend(s for s in table.sources if s not in sources)
    return Table(tables[0].name, tuple(columns.values()), tuple(indexes.values()), tuple(sources))


register(CatalogGatherer())

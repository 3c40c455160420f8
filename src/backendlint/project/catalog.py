"""The schema catalogue: tables, columns, keys, indexes and ORM models of the project.

Gathered by the project pass (:mod:`backendlint.project.facts`) from Django models
and migrations, SQLAlchemy/SQLModel models, Alembic revisions and ``.sql`` files.
Rules read it through ``ctx.project.get("catalog")``; ``backendlint schema`` prints it.

Names: tables and columns are kept as the database knows them, lower-cased; models
by qualified name (``shop.models.Order``) and looked up by class name too.
"""

from __future__ import annotations

import dataclasses
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
    #: The index or constraint name when the source gives one.
    name: str = ""
    #: Which items are descending (``-created`` in Django, ``DESC`` in SQL).
    descending: Tuple[bool, ...] = ()
    #: Per item, the plain column it refers to: the column itself, or the one column
    #: an expression item uses (``lower(email)`` -> ``email``); ``""`` when unknown.
    references: Tuple[str, ...] = ()
    #: Operator classes (``gin_trgm_ops``, ``varchar_pattern_ops``), when given.
    opclasses: Tuple[str, ...] = ()

    def reference(self, position: int) -> str:
        if position < len(self.references):
            return self.references[position]
        if position < len(self.expressions) and self.expressions[position]:
            return ""
        return self.columns[position] if position < len(self.columns) else ""

    def is_expression(self, position: int) -> bool:
        return position < len(self.expressions) and self.expressions[position]


@dataclass(frozen=True)
class Table:
    name: str
    columns: Tuple[Column, ...] = ()
    indexes: Tuple[Index, ...] = ()
    sources: Tuple[str, ...] = ()
    #: Every column is known (False when a model derives from a class outside the
    #: project, e.g. ``AbstractUser``, and no migration or SQL lists its columns).
    complete: bool = True
    #: False when the project does not manage the table's indexes (Django
    #: ``Meta.managed = False`` with no migration or SQL declaring it).
    managed: bool = True

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
    #: The name ORM lookups use (Django ``filter(<query_name>__x=...)``: the field name,
    #: or for reverse relations ``related_query_name`` / ``related_name`` / the model name).
    query_name: str = ""
    #: Many-to-many: the through (join) table.
    through: str = ""
    #: The column on the target's table the relation joins on: the target's primary key
    #: for fk/o2o, the foreign key column of the other model for reverse relations.
    remote_column: str = ""
    #: SQLAlchemy ``back_populates`` / ``backref`` partner attribute on the target.
    back_populates: str = ""


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
    #: Attribute/field name -> column of this model's own table, for concrete fields
    #: and fk/o2o fields (``("author", "author_id")``), primary key first.
    columns: Tuple[Tuple[str, str], ...] = ()
    #: The primary key attribute (``id`` when implicit).
    pk: str = ""
    #: Mapped parent models (qualified names), nearest first: Django multi-table
    #: inheritance, SQLAlchemy joined- or single-table inheritance.
    parents: Tuple[str, ...] = ()
    #: Every field is known (no base class outside the project).
    complete: bool = True
    #: Django proxy model (shares its parent's table).
    proxy: bool = False
    #: Django app label.
    app_label: str = ""

    def relation(self, name: str) -> Optional[Relation]:
        for relation in self.relations:
            if relation.name == name:
                return relation
        return None

    def relation_by_query_name(self, name: str) -> Optional[Relation]:
        """The relation Django lookups call ``name`` (``filter(author__name=...)``)."""
        for relation in self.relations:
            if (relation.query_name or relation.name) == name:
                return relation
        return None

    def column_of(self, attribute: str) -> Optional[str]:
        """The column of ``attribute`` in this model's own table (``author`` -> ``author_id``;
        ``author_id`` and ``pk`` are understood too), or ``None``."""
        if attribute == "pk":
            attribute = self.pk or "id"
        for name, column in self.columns:
            if name == attribute or column == attribute:
                return column
        return None


@dataclass
class Catalog:
    """Every table and model the project declares; read-only for rules."""

    tables: Dict[str, Table] = field(default_factory=dict)
    models: Dict[str, Model] = field(default_factory=dict)
    #: Why the catalogue is empty or partial (an internal error while combining), if it is.
    problems: Tuple[str, ...] = ()
    _by_name: Optional[Dict[str, List[Model]]] = field(default=None, repr=False, compare=False)

    # -- lookups -------------------------------------------------------------------
    def table(self, name: str) -> Optional[Table]:
        return self.tables.get(_bare(name))

    def _names(self) -> Dict[str, List[Model]]:
        if self._by_name is None:
            found: Dict[str, List[Model]] = {}
            for model in self.models.values():
                found.setdefault(model.name, []).append(model)
            self._by_name = found
        return self._by_name

    def model(self, name: str) -> Optional[Model]:
        """A model by qualified name, by Django label (``shop.Order``, case-insensitive),
        or by class name when exactly one (non-abstract) model has it."""
        found = self.models.get(name)
        if found is not None:
            return found
        short = name.rsplit(".", 1)[-1]
        named = self._names().get(short, [])
        candidates = [m for m in named if not m.abstract] or named
        if "." in name:
            prefix = name.rsplit(".", 1)[0]
            suffixed = [m for m in candidates if m.qualname.endswith("." + name)]
            if len(suffixed) == 1:
                return suffixed[0]
            labelled = [m for m in candidates if m.app_label and m.app_label.lower() == prefix.lower()]
            if len(labelled) == 1:
                return labelled[0]
            if "." in prefix:
                return None
        if not candidates and "." in name and name.count(".") == 1:
            app, model_name = name.lower().split(".")
            labelled = [m for m in self.models.values() if m.app_label.lower() == app and m.name.lower() == model_name]
            return labelled[0] if len(labelled) == 1 else None
        return candidates[0] if len(candidates) == 1 else None

    def model_for_table(self, table: str) -> Optional[Model]:
        """The model stored in ``table`` (proxy models and abstract bases are skipped)."""
        bare = _bare(table)
        matches = [m for m in self.models.values() if m.table == bare and not m.abstract and not m.proxy]
        if len(matches) > 1:  # single-table inheritance: the base class owns the table
            names = {m.qualname for m in matches}
            matches = [m for m in matches if not names.intersection(m.parents)]
        return matches[0] if len(matches) == 1 else None

    def related_model(self, model: Model, relation: Relation) -> Optional[Model]:
        """The model at the other end of ``relation`` of ``model``."""
        return self.models.get(relation.target) or self.model(relation.target)

    def resolve_field(self, model: Model, name: str) -> Optional[Tuple[Model, str]]:
        """(model owning the column, column) of field ``name`` of ``model``, following
        Django multi-table parents; ``None`` when the field is unknown."""
        column = model.column_of(name)
        if column is not None:
            return model, column
        for parent_name in model.parents:
            parent = self.models.get(parent_name)
            if parent is not None:
                found = self.resolve_field(parent, name)
                if found is not None:
                    return found
        return None

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

    def serving_index(
        self, table: str, column: str, equal_columns: Iterable[str] = (), wrapped: bool = False
    ) -> Optional[Index]:
        """An index that can serve a predicate (or ORDER BY) on ``column`` given equality
        on ``equal_columns``, by the leftmost-prefix rule: ``column`` is at position k and
        every column before it is constrained by equality. Non-btree indexes (GIN, GiST,
        BRIN, hash, ...) listing the column count as serving it wherever it sits
        (precision first); partial indexes count as serving their columns.

        ``wrapped``: the predicate applies a function or cast to the column
        (``lower(email) = ...``, ``created::date``); then only an expression index over
        the column (or a non-btree index listing it, e.g. a trigram index) serves it."""
        column = column.lower()
        given = {c.lower() for c in equal_columns}
        for index in self.indexes(table):
            for position, item in enumerate(index.columns):
                expression = index.is_expression(position)
                reference = index.reference(position)
                if wrapped:
                    matches = (expression and reference == column) or (index.method != "btree" and reference == column)
                else:
                    matches = not expression and item == column
                if not matches:
                    continue
                if index.method != "btree":
                    return index
                if all(earlier in given for earlier in index.columns[:position]):
                    return index
        return None

    # -- output ---------------------------------------------------------------------
    def describe(self) -> List[str]:
        """A readable listing (what ``backendlint schema`` prints)."""
        lines: List[str] = [f"problem: {problem}" for problem in self.problems]
        for name in sorted(self.tables):
            table = self.tables[name]
            notes = [n for n, on in (("incomplete", not table.complete), ("unmanaged", not table.managed)) if on]
            lines.append(f"table {name}" + (f" [{', '.join(notes)}]" if notes else ""))
            for column in table.columns:
                flags = [f for f, on in (("pk", column.primary_key), ("unique", column.unique), ("null", column.nullable)) if on]
                lines.append(f"  column {column.name} {column.type}".rstrip() + (f" [{', '.join(flags)}]" if flags else ""))
            for index in table.indexes:
                lines.append(f"  index {describe_index(index)}  <- {index.source}")
        for qualname in sorted(self.models):
            model = self.models[qualname]
            notes = [n for n, on in (("abstract", model.abstract), ("proxy", model.proxy), ("incomplete", not model.complete)) if on]
            lines.append(f"model {qualname} ({model.framework}) -> {model.table}" + (f" [{', '.join(notes)}]" if notes else ""))
            if model.pk:
                lines.append(f"  pk {model.pk}")
            if model.ordering:
                lines.append(f"  ordering {', '.join(model.ordering)}")
            for relation in model.relations:
                details = [f"lazy={relation.lazy}", "many" if relation.many else "one"]
                if relation.column:
                    details.append(f"column={relation.column}")
                if relation.through:
                    details.append(f"through={relation.through}")
                lines.append(f"  {relation.kind} {relation.name} -> {relation.target} ({', '.join(details)})")
        return lines

    def to_json(self) -> Dict[str, Any]:
        """Plain data for ``backendlint schema --format json``."""
        return {
            "tables": [_plain(self.tables[name]) for name in sorted(self.tables)],
            "models": [_plain(self.models[name]) for name in sorted(self.models)],
        }


def describe_index(index: Index) -> str:
    """``(status, created_at DESC) [unique, partial, gin]``."""
    items = []
    for position, column in enumerate(index.columns):
        descending = position < len(index.descending) and index.descending[position]
        items.append(column + (" DESC" if descending else ""))
    flags = [f for f, on in (("unique", index.unique), ("partial", index.partial)) if on]
    if index.method != "btree":
        flags.append(index.method)
    if any(index.expressions):
        flags.append("expression")
    text = f"({', '.join(items)})"
    if index.name:
        text = f"{index.name} {text}"
    return text + (f" [{', '.join(flags)}]" if flags else "")


def _plain(value: Any) -> Any:
    data = dataclasses.asdict(value)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _bare(name: str) -> str:
    """``public.Orders`` / ``"orders"`` -> ``orders``."""
    return name.strip('"`[]').rsplit(".", 1)[-1].strip('"`[]').lower()


def merge_tables(tables: Sequence[Table]) -> Table:
    """One table from several declarations of it (model + migrations + SQL)."""
    columns: Dict[str, Column] = {}
    indexes: Dict[Tuple[Any, ...], Index] = {}
    sources: Dict[str, None] = {}  # ordered, without repeats
    complete = managed = False
    for table in tables:
        complete = complete or table.complete
        managed = managed or table.managed
        for column in table.columns:
            columns.setdefault(column.name, column)
        for index in table.indexes:
            key = (index.columns, index.unique, index.partial, index.method, index.expressions)
            indexes.setdefault(key, index)
        sources.update(dict.fromkeys(table.sources))
    return Table(
        tables[0].name,
        tuple(columns.values()),
        tuple(indexes.values()),
        tuple(sources),
        complete=complete,
        managed=managed,
    )


class CatalogGatherer:
    """Reads models, migrations and ``.sql`` files into a :class:`Catalog`.

    ``wants`` is a few substring tests (the pass asks it about every file of the
    project); ``read`` parses a wanted file once with stdlib ``ast`` (sqlglot for SQL)
    into JSON-able facts; ``combine`` resolves what crosses files (base classes, relation
    targets, reverse relations, migration and revision order) into the catalogue."""

    name = "catalog"

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        from backendlint.project.gather import wants

        return wants(relpath, kind, text)

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        from backendlint.project.gather import read

        return read(relpath, kind, text, dialect)

    def combine(self, per_file: Mapping[str, Any]) -> Catalog:
        from backendlint.project.gather import combine

        try:
            return combine(per_file)
        except Exception as exc:  # never break a run: rules then judge nothing against the catalogue
            return Catalog(problems=(f"internal error while building the catalogue: {type(exc).__name__}: {exc}",))


register(CatalogGatherer())

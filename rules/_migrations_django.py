"""Django migrations: operations read from LibCST, fields and what they do on PostgreSQL.

Values are encoded the way the project pass's migration history encodes them
(constants, lists, ``{"name": q}``, ``{"call": q, "args", "kwargs"}``, ``{"dict": {...}}``,
``{"expr": "?"}``), so that a field of the file being linted compares with the state the
history recorded for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

import libcst as cst
from backendlint_rules._migrations_cst import assignment, named_arguments, string
from backendlint_rules._migrations_model import Change
from backendlint_rules._migrations_sql import SqlState, bare, classify, statements_of

from backendlint.api import (
    DJANGO_MIGRATION_BASES,
    DJANGO_NESTED_OPERATIONS,
    DJANGO_OPERATION_SIGNATURES,
    DjangoModelState,
    RuleContext,
    dotted_name,
)

IGNORE_MARKERS = frozenset({"django_migration_linter.IgnoreMigration", "django_migration_linter.operations.IgnoreMigration"})
OPERATION_MODULES = ("django.db.migrations.", "django.contrib.postgres.operations.")
#: Django's operation signatures and the arguments holding operations, from the API: the
#: tables the project pass's migration history names arguments by.
SIGNATURES = DJANGO_OPERATION_SIGNATURES
NESTED = DJANGO_NESTED_OPERATIONS

# -- field knowledge (Django 5.2 on PostgreSQL) --------------------------------------------

#: Field class -> column type, for the classes whose type does not depend on arguments.
COLUMN_TYPES: Dict[str, str] = {
    "AutoField": "integer", "BigAutoField": "bigint", "SmallAutoField": "smallint",
    "IntegerField": "integer", "BigIntegerField": "bigint", "SmallIntegerField": "smallint",
    "PositiveIntegerField": "integer", "PositiveBigIntegerField": "bigint", "PositiveSmallIntegerField": "smallint",
    "TextField": "text", "BooleanField": "boolean", "NullBooleanField": "boolean",
    "DateField": "date", "DateTimeField": "timestamptz", "TimeField": "time", "DurationField": "interval",
    "FloatField": "double precision", "UUIDField": "uuid", "BinaryField": "bytea", "JSONField": "jsonb",
    "GenericIPAddressField": "inet", "IPAddressField": "inet", "HStoreField": "hstore",
    "CICharField": "citext", "CIEmailField": "citext", "CITextField": "citext",
}
#: varchar(max_length) fields and their default max_length (None: required or unbounded).
VARCHAR_FIELDS: Dict[str, Optional[int]] = {
    "CharField": None, "EmailField": 254, "SlugField": 50, "URLField": 200,
    "FileField": 100, "ImageField": 100, "FilePathField": 100,
}
#: Fields whose ``empty_strings_allowed`` makes ``blank=True`` an effective default of ''.
BLANK_DEFAULT_FIELDS = frozenset({*VARCHAR_FIELDS, "TextField", "BinaryField", "CICharField", "CIEmailField", "CITextField"})
#: Fields that add a CHECK (col >= 0) constraint.
POSITIVE_FIELDS = frozenset({"PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField"})
DEFAULT_INDEXED = frozenset({"SlugField"})
FOREIGN_KEYS = frozenset({"ForeignKey", "OneToOneField"})
#: ``db_default`` expressions the database evaluates per row with a volatile function.
VOLATILE_DB_DEFAULTS = frozenset({"RandomUUID", "Random", "UUID4", "UUID7"})
VOLATILE_SQL_FUNCTIONS = frozenset({"gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1", "random", "clock_timestamp", "timeofday"})


@dataclass(frozen=True)
class FieldFacts:
    """What a field means for its column."""

    cls: str
    column_type: Optional[Tuple[Any, ...]]
    null: bool
    unique: bool
    primary_key: bool
    index: bool
    db_column: Optional[str]
    fk: bool
    target: str
    db_constraint: bool
    has_default: bool
    default: Any
    db_default: Any
    has_db_default: bool
    empty_default: bool
    auto_now: bool
    m2m: bool
    generated: bool
    stored: bool
    positive: bool

    def column(self, name: str) -> str:
        return self.db_column or (f"{name}_id" if self.fk else name)


def short_class(desc: Any) -> str:
    if isinstance(desc, dict) and isinstance(desc.get("call"), str):
        return desc["call"].rsplit(".", 1)[-1]
    return ""


def field_facts(desc: Any) -> Optional[FieldFacts]:
    """The facts of an encoded field (``{"call": "django.db.models.CharField", ...}``)."""
    cls = short_class(desc)
    if not cls:
        return None
    kwargs: Dict[str, Any] = desc.get("kwargs", {})
    args: List[Any] = desc.get("args", [])
    fk = cls in FOREIGN_KEYS
    m2m = cls == "ManyToManyField"
    target = kwargs.get("to", args[0] if (fk or m2m) and args else None)
    primary_key = kwargs.get("primary_key") is True
    unique = kwargs.get("unique") is True or primary_key or cls == "OneToOneField"
    index = kwargs.get("db_index", fk or cls in DEFAULT_INDEXED) is True
    db_column = kwargs.get("db_column")
    return FieldFacts(
        cls=cls,
        column_type=_column_type(cls, kwargs, args, target),
        null=kwargs.get("null") is True,
        unique=unique,
        primary_key=primary_key,
        index=index and not unique,
        db_column=db_column if isinstance(db_column, str) else None,
        fk=fk,
        target=_target(target),
        db_constraint=kwargs.get("db_constraint", True) is not False,
        has_default="default" in kwargs,
        default=kwargs.get("default"),
        db_default=kwargs.get("db_default"),
        has_db_default="db_default" in kwargs,
        empty_default=kwargs.get("blank") is True and cls in BLANK_DEFAULT_FIELDS,
        auto_now=kwargs.get("auto_now") is True or kwargs.get("auto_now_add") is True,
        m2m=m2m,
        generated=cls == "GeneratedField",
        stored=cls == "GeneratedField" and kwargs.get("db_persist") is True,
        positive=cls in POSITIVE_FIELDS,
    )


def _target(value: Any) -> str:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"]
    return ""


def _column_type(cls: str, kwargs: Dict[str, Any], args: List[Any], target: Any) -> Optional[Tuple[Any, ...]]:
    if cls in VARCHAR_FIELDS:
        length = kwargs.get("max_length", VARCHAR_FIELDS[cls])
        return ("varchar", length) if length is None or isinstance(length, int) else None
    if cls == "DecimalField":
        digits, places = kwargs.get("max_digits"), kwargs.get("decimal_places")
        return ("numeric", digits, places) if isinstance(digits, int) and isinstance(places, int) else None
    if cls in FOREIGN_KEYS:
        return ("fk", _target(target)) if _target(target) else None
    if cls == "ArrayField":
        base = kwargs.get("base_field", args[0] if args else None)
        inner = field_facts(base)
        return ("array", inner.column_type, kwargs.get("size")) if inner and inner.column_type else None
    if cls in COLUMN_TYPES:
        return (COLUMN_TYPES[cls],)
    return None


def describe_type(column_type: Optional[Tuple[Any, ...]]) -> str:
    if not column_type:
        return "?"
    if column_type[0] == "varchar":
        return f"varchar({column_type[1]})" if column_type[1] is not None else "varchar"
    if column_type[0] == "numeric":
        return f"numeric({column_type[1]}, {column_type[2]})"
    if column_type[0] == "array":
        return f"{describe_type(column_type[1])}[]"
    if column_type[0] == "fk":
        return f"foreign key to {column_type[1]}"
    return str(column_type[0])


def type_change_is_safe(old: Tuple[Any, ...], new: Tuple[Any, ...]) -> bool:
    """No rewrite: same type, varchar widening, varchar -> text, numeric precision increase
    at the same scale."""
    if old == new:
        return True
    if old[0] == "varchar" and new[0] == "varchar":
        return new[1] is None or (old[1] is not None and new[1] >= old[1])
    if old[0] == "varchar" and new == ("text",):
        return True
    if old == ("text",) and new == ("varchar", None):
        return True
    if old[0] == "numeric" and new[0] == "numeric":
        return new[2] == old[2] and new[1] >= old[1]
    return False


def _is_volatile_db_default(value: Any) -> bool:
    if not isinstance(value, dict) or "call" not in value:
        return False
    if short_class(value) in VOLATILE_DB_DEFAULTS:
        return True
    function = value.get("kwargs", {}).get("function")
    return isinstance(function, str) and function.lower() in VOLATILE_SQL_FUNCTIONS


# -- reading values from LibCST ---------------------------------------------------------------


class Values:
    """Encodes LibCST expressions like the project pass encodes ``ast`` ones."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx

    def qualify(self, node: cst.CSTNode) -> Optional[str]:
        return self.ctx.qualname(node) or dotted_name(node)

    def value(self, node: cst.CSTNode) -> Any:
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            text = string(node)
            return text if text is not None else {"expr": "?"}
        if isinstance(node, cst.Integer):
            return int(node.evaluated_value)
        if isinstance(node, cst.Float):
            return float(node.evaluated_value)
        if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.value]
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            if isinstance(node.expression, (cst.Integer, cst.Float)):
                return -self.value(node.expression)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return [self.value(e.value) if isinstance(e, cst.Element) else {"expr": "?"} for e in node.elements]
        if isinstance(node, cst.Dict):
            out: Dict[str, Any] = {}
            for element in node.elements:
                if not isinstance(element, cst.DictElement):
                    return {"expr": "?"}
                key = self.value(element.key)
                if not isinstance(key, str):
                    return {"expr": "?"}
                out[key] = self.value(element.value)
            return {"dict": out}
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = self.qualify(node)
            return {"name": name} if name else {"expr": "?"}
        if isinstance(node, cst.Call):
            return self.call(node)
        return {"expr": "?"}

    def call(self, node: cst.Call) -> Dict[str, Any]:
        out: Dict[str, Any] = {"call": self.qualify(node.func) or "", "args": [], "kwargs": {}}
        for arg in node.args:
            if arg.star:
                out["star"] = True
            elif arg.keyword is None:
                out["args"].append(self.value(arg.value))
            else:
                out["kwargs"][arg.keyword.value] = self.value(arg.value)
        return out


@dataclass
class Operation:
    """A Django operation call, its arguments by parameter name."""

    name: str
    node: cst.Call
    args: Dict[str, cst.BaseExpression]

    def kw(self, values: Values, name: str, default: Any = None) -> Any:
        node = self.args.get(name)
        return values.value(node) if node is not None else default


def read_operation(values: Values, node: cst.CSTNode) -> Optional[Operation]:
    if not isinstance(node, cst.Call):
        return None
    qual = values.ctx.qualname(node.func) or ""
    name = qual.rsplit(".", 1)[-1]
    if not qual.startswith(OPERATION_MODULES) and qual not in IGNORE_MARKERS:
        return None
    return Operation(name, node, named_arguments(node, SIGNATURES.get(name, ())))


def elements(node: Optional[cst.CSTNode]) -> List[cst.BaseExpression]:
    """The items of a list/tuple literal (starred ones too, so positions match the source)."""
    if isinstance(node, (cst.List, cst.Tuple)):
        return [e.value for e in node.elements]
    return []


# -- the migration's changes -------------------------------------------------------------------


@dataclass
class MigrationClass:
    """The ``class Migration`` of a module: flags and operation nodes."""

    node: cst.ClassDef
    atomic: bool = True
    initial: bool = False
    operations: List[cst.BaseExpression] = field(default_factory=list)


#: ORM and DB-API calls that change rows.
WRITE_METHODS = frozenset({
    "save", "update", "bulk_update", "bulk_create", "delete", "create", "get_or_create", "update_or_create",
    "execute", "executemany", "loaddata",
})


class _Writes(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.writes = False
        self.called: Set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in WRITE_METHODS:
            self.writes = True
        elif isinstance(node.func, cst.Name):
            self.called.add(node.func.value)
            if node.func.value == "call_command":
                self.writes = True


def writes_rows(functions: Dict[str, cst.FunctionDef], name: str) -> bool:
    """Whether module-level function ``name`` (or one it calls, a few levels deep) changes rows."""
    pending, seen = [name], set()
    while pending and len(seen) < 8:
        current = pending.pop()
        if current in seen or current not in functions:
            continue
        seen.add(current)
        visitor = _Writes()
        functions[current].body.visit(visitor)
        if visitor.writes:
            return True
        pending.extend(visitor.called)
    return False


def module_functions(module: cst.Module) -> Dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}


def find_migration(values: Values, module: cst.Module) -> Optional[MigrationClass]:
    for statement in module.body:
        if not isinstance(statement, cst.ClassDef) or statement.name.value != "Migration":
            continue
        if not any(values.ctx.qualname(base.value) in DJANGO_MIGRATION_BASES for base in statement.bases):
            continue
        found = MigrationClass(statement)
        body = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else []
        for line in body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                target, value = assignment(small)
                if target in ("atomic", "initial") and isinstance(value, cst.Name) and value.value in ("True", "False"):
                    setattr(found, target, value.value == "True")
                elif target == "operations" and value is not None:
                    found.operations = elements(value)
        return found
    return None


#: Operations that take a lock on an existing table until the migration commits.
_DDL = frozenset({
    "AddField", "RemoveField", "RenameField", "AddIndex", "RemoveIndex", "AddConstraint", "AddConstraintNotValid",
    "RemoveConstraint", "AlterUniqueTogether", "AlterIndexTogether", "RenameModel", "AlterModelTable", "DeleteModel",
    "RenameIndex", "AlterOrderWithRespectTo",
})


class DjangoReader:
    """Turns one migration's operations into changes."""

    def __init__(
        self,
        values: Values,
        migration: MigrationClass,
        label: str,
        history: Any,
        relpath: str,
        sql_text: Callable[[cst.CSTNode], Optional[str]],
        dialect: str,
        functions: Optional[Dict[str, cst.FunctionDef]] = None,
    ) -> None:
        self.values = values
        self.migration = migration
        self.label = label
        self.history = history
        self.relpath = relpath
        self.sql_text = sql_text
        self.dialect = dialect
        self.functions = functions or {}
        self.changes: List[Change] = []
        self.new_models: Set[str] = set()
        #: (model, field) pairs added earlier in this migration.
        self.new_fields: Set[Tuple[str, str]] = set()
        self.sql = SqlState()
        self.ignored = False

    # -- entry ---------------------------------------------------------------------------
    def read(self) -> List[Change]:
        for node in self.migration.operations:
            operation = read_operation(self.values, node)
            if operation is not None and operation.name == "IgnoreMigration":
                self.ignored = True
        if self.ignored:
            return []
        for index, node in enumerate(self.migration.operations):
            operation = read_operation(self.values, node)
            if operation is not None:
                self._operation(operation, str(index))
        return self.changes

    def _add(self, kind: str, operation: Operation, table: str = "", column: str = "", detail: str = "", label: str = "") -> None:
        self.changes.append(
            Change(kind, "django", label or operation.name, node=operation.node, table=table, column=column, detail=detail)
        )

    def _model_before(self, path: str) -> Optional[DjangoModelState]:
        if self.history is None:
            return None
        return self.history.model_before(self.relpath, path)

    def _string(self, operation: Operation, name: str) -> str:
        value = operation.kw(self.values, name)
        return value if isinstance(value, str) else ""

    def _table_of(self, model: str, state: Optional[Mapping[str, Any]]) -> str:
        options = state.get("options", {}) if state else {}
        table = options.get("db_table")
        return table if isinstance(table, str) else f"{self.label}_{model.lower()}"

    # -- operations ------------------------------------------------------------------------
    def _operation(self, operation: Operation, path: str) -> None:
        name = operation.name
        if name == "SeparateDatabaseAndState":
            for index, node in enumerate(elements(operation.args.get("database_operations"))):
                inner = read_operation(self.values, node)
                if inner is not None:
                    self._operation(inner, f"{path}/database_operations/{index}")
            return
        if name == "RunSQL":
            self._run_sql(operation)
            return
        if name == "RunPython":
            self._run_python(operation)
            return
        model = self._string(operation, "model_name") or self._string(operation, "name") or self._string(operation, "old_name")
        if name == "CreateModel":
            self._create_model(operation, model)
            return
        state = self._model_before(path)
        if model.lower() in self.new_models or bare(self._table_of(model, state)) in self.sql.tables:
            if name == "RenameModel":
                self.new_models.add(self._string(operation, "new_name").lower())
            return
        if state is not None and _unmanaged(state):
            return  # no SQL for unmanaged and proxy models
        before = len(self.changes)
        handler = getattr(self, f"_{_snake(name)}", None)
        if handler is not None:
            handler(operation, model, state)
        if name in _DDL or len(self.changes) > before:
            self.sql.altered.add(self._table_of(model, state))

    def _create_model(self, operation: Operation, model: str) -> None:
        self.new_models.add(model.lower())
        options = operation.kw(self.values, "options")
        options = options.get("dict", {}) if isinstance(options, dict) else {}
        self.sql.tables.add(bare(self._table_of(model, {"options": options})))

    def _add_field(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        name = self._string(operation, "name")
        self.new_fields.add((model.lower(), name))
        facts = field_facts(operation.kw(self.values, "field"))
        if facts is None or facts.m2m:
            return
        where = f"{model}.{name}"
        if facts.stored:
            self._add("rewrite_column", operation, model, name, "GeneratedField(db_persist=True)")
        if facts.has_db_default and _is_volatile_db_default(facts.db_default):
            self._add("volatile_default", operation, model, name, short_class(facts.db_default) + "()")
        defaulted = (facts.has_default and facts.default is not None) or facts.has_db_default
        required = not (facts.null or defaulted or facts.empty_default or facts.auto_now or facts.generated)
        if required:
            self._add("add_required_column", operation, model, name, where)
        if facts.unique and not facts.null and facts.has_default and facts.default is not None:
            callable_default = isinstance(facts.default, dict) and "name" in facts.default
            self._add("unique_with_default", operation, model, name, "callable" if callable_default else "constant")
        if facts.fk and facts.db_constraint:
            self._add("add_foreign_key", operation, model, facts.column(name), facts.target)
        if facts.primary_key:
            self._add("add_primary_key", operation, model, name)
        elif facts.unique:
            self._add("add_unique", operation, model, name)
        elif facts.index:
            self._add("create_index", operation, model, name)

    def _alter_field(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        name = self._string(operation, "name")
        old_desc = (state or {}).get("fields", {}).get(name)
        old, new = field_facts(old_desc), field_facts(operation.kw(self.values, "field"))
        if old is None or new is None or old.m2m or new.m2m:
            return  # no known earlier state: not judged
        if old.column(name) != new.column(name):
            self._add("rename_column", operation, model, old.column(name), new.column(name), label="AlterField (db_column)")
        if old.column_type and new.column_type and "fk" not in (old.column_type[0], new.column_type[0]):
            if not type_change_is_safe(old.column_type, new.column_type):
                detail = f"{describe_type(old.column_type)} -> {describe_type(new.column_type)}"
                self._add("change_type", operation, model, name, detail)
        if old.null and not new.null and not new.primary_key and not _has_not_null_check(state, new.column(name)):
            self._add("set_not_null", operation, model, name, "default" if new.has_default else "")
        if new.primary_key and not old.primary_key:
            self._add("add_primary_key", operation, model, name)
        elif new.unique and not old.unique:
            self._add("add_unique", operation, model, name)
        if new.index and not old.index and not old.unique:
            self._add("create_index", operation, model, name)
        elif old.index and not new.index and not new.unique:
            self._add("drop_index", operation, model, name, label="AlterField (db_index=False)")
        if new.fk and new.db_constraint and (not old.fk or not old.db_constraint or old.target != new.target):
            self._add("add_foreign_key", operation, model, new.column(name), new.target)
        if new.positive and not old.positive:
            self._add("add_check", operation, model, name, f"CHECK ({new.column(name)} >= 0)")

    def _remove_field(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        name = self._string(operation, "name")
        if (model.lower(), name) in self.new_fields:
            return
        old = field_facts((state or {}).get("fields", {}).get(name))
        if old is not None and old.m2m:
            self._add("drop_table", operation, model, name, "the many-to-many join table", label="RemoveField")
            return
        self._add("drop_column", operation, model, old.column(name) if old else name)

    def _rename_field(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        old_name, new_name = self._string(operation, "old_name"), self._string(operation, "new_name")
        if (model.lower(), old_name) in self.new_fields:
            self.new_fields.add((model.lower(), new_name))
            return
        old = field_facts((state or {}).get("fields", {}).get(old_name))
        if old is not None and (old.db_column or old.m2m):
            return  # db_column keeps the column name
        self._add("rename_column", operation, model, old.column(old_name) if old else old_name, new_name)

    def _delete_model(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        self._add("drop_table", operation, self._table_of(model, state))

    def _rename_model(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        if state is not None and isinstance(state.get("options", {}).get("db_table"), str):
            return  # an explicit db_table keeps the table name
        new_name = self._string(operation, "new_name")
        self._add("rename_table", operation, self._table_of(model, state), "", self._table_of(new_name, None))

    def _alter_model_table(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        table = operation.kw(self.values, "table")
        new = table if isinstance(table, str) else f"{self.label}_{model.lower()}"
        old = self._table_of(model, state) if state is not None else ""
        if old == new:
            return
        self._add("rename_table", operation, old or model, "", new)

    def _alter_unique_together(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        added = self._together(operation, state, "unique_together")
        if added:
            self._add("add_unique", operation, model, ", ".join(added[0]))

    def _alter_index_together(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        added = self._together(operation, state, "index_together")
        if added:
            self._add("create_index", operation, model, ", ".join(added[0]))

    def _together(self, operation: Operation, state: Optional[DjangoModelState], key: str) -> List[Tuple[str, ...]]:
        if state is None:
            return []
        old = _sets(state.get("options", {}).get(key))
        new = _sets(operation.kw(self.values, key))
        return sorted(new - old)

    def _add_index(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        index = operation.kw(self.values, "index")
        name = index.get("kwargs", {}).get("name") if isinstance(index, dict) else None
        self._add("create_index", operation, model, _index_fields(index), name if isinstance(name, str) else "")

    def _remove_index(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        self._add("drop_index", operation, model, "", self._string(operation, "name"))

    def _add_index_concurrently(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        if self.migration.atomic:
            self._add("concurrent_in_transaction", operation, model)

    _remove_index_concurrently = _add_index_concurrently

    def _add_constraint(self, operation: Operation, model: str, state: Optional[DjangoModelState]) -> None:
        constraint = operation.kw(self.values, "constraint")
        kind = short_class(constraint)
        name = constraint.get("kwargs", {}).get("name", "") if isinstance(constraint, dict) else ""
        if kind == "UniqueConstraint":
            self._add("add_unique", operation, model, "", name if isinstance(name, str) else "")
        elif kind == "CheckConstraint":
            self._add("add_check", operation, model, "", name if isinstance(name, str) else "")

    def _run_sql(self, operation: Operation) -> None:
        sql = operation.args.get("sql")
        for item in elements(sql) or ([sql] if sql is not None else []):
            if isinstance(item, cst.Tuple) and item.elements:
                item = item.elements[0].value  # (sql, params)
            text = self.sql_text(item)
            if text is None:
                continue
            for statement in statements_of(text, self.dialect):
                for kind, label, table, column, detail in classify(statement.text, statement.expression, self.sql, self.migration.atomic):
                    self.changes.append(Change(kind, "django", label, node=item, table=table, column=column, detail=detail, sql=True))
        if not self.migration.initial and not _reversible(self.values, operation, "reverse_sql"):
            self._add("run_sql", operation)

    def _run_python(self, operation: Operation) -> None:
        code = operation.args.get("code")
        backfill = isinstance(code, cst.Name) and writes_rows(self.functions, code.value)
        if self.migration.atomic and self.sql.altered and backfill:
            self._add("backfill", operation, detail=", ".join(sorted(self.sql.altered)))
        if not self.migration.initial and not _reversible(self.values, operation, "reverse_code"):
            self._add("run_python", operation)


def _reversible(values: Values, operation: Operation, name: str) -> bool:
    if operation.kw(values, "elidable") is True:
        return True
    reverse = operation.args.get(name)
    return reverse is not None and not (isinstance(reverse, cst.Name) and reverse.value == "None")


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def _unmanaged(state: DjangoModelState) -> bool:
    options = state.get("options", {})
    return options.get("managed") is False or options.get("proxy") is True


def _sets(value: Any) -> Set[Tuple[str, ...]]:
    if not isinstance(value, list):
        return set()
    if value and all(isinstance(v, str) for v in value):
        return {tuple(value)}  # unique_together = ("a", "b")
    return {tuple(v) for v in value if isinstance(v, list) and all(isinstance(x, str) for x in v)}


def _index_fields(index: Any) -> str:
    fields = index.get("kwargs", {}).get("fields") if isinstance(index, dict) else None
    return ", ".join(f for f in fields if isinstance(f, str)) if isinstance(fields, list) else ""


def _has_not_null_check(state: Optional[DjangoModelState], column: str) -> bool:
    """A validated CheckConstraint(condition=Q(column__isnull=False)) on the model."""
    for entry in ((state or {}).get("constraints") or {}).values():
        if not entry.get("validated"):
            continue
        constraint = entry.get("constraint") or {}
        kwargs = constraint.get("kwargs", {}) if isinstance(constraint, dict) else {}
        condition = kwargs.get("condition", kwargs.get("check"))
        if isinstance(condition, dict) and condition.get("kwargs") == {f"{column}__isnull": False}:
            return True
    return False


def app_label(relpath: str) -> str:
    parts = relpath.replace("\\", "/").split("/")
    return parts[-3] if len(parts) >= 3 else ""


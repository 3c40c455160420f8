"""The base of the migration rules: find out whether a file is a migration, read its
changes once per file (shared by the three rules), and report the kinds of one family.

Scope: Django migration modules (``class Migration`` derived, through the imports, from
``django.db.migrations.Migration``), Alembic revision modules (``revision`` and
``down_revision`` assigned, ``def upgrade()``, ``from alembic import op``) and ``.sql``
migration files (see :func:`sql_migration_kind`). Nothing else is judged.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, FrozenSet, List, Optional, Sequence

import libcst as cst
from backendlint_rules._migrations_alembic import AlembicReader, find_revision, irreversible
from backendlint_rules._migrations_django import DjangoReader, Values, app_label, find_migration, module_functions
from backendlint_rules._migrations_model import Change, MigrationFile
from backendlint_rules._migrations_sql import SqlState, classify

from backendlint.api import Rule, RuleContext, SqlStatement
from backendlint.sql.extract import SqlText, sql_text

#: Cheap pre-filter: Django (class Migration), Alembic (import), SQL DDL (any case in .sql).
REQUIRES_TEXT = ("Migration", "alembic", "ALTER", "DROP", "CREATE", "TRUNCATE", "REINDEX", "VACUUM", "CLUSTER")

_SQL_DIRS = frozenset({"migrations", "migration", "migrate", "versions", "changesets", "schema_migrations", "db_migrations", "sql_migrations"})
_SQL_NAME = re.compile(
    r"^(?:V\d+(?:[._]\d+)*__.+|R__.+|\d+[_-].+|\d{8,}.*)\.sql$",  # Flyway, golang-migrate/dbmate/goose, timestamps
    re.IGNORECASE,
)
_DOWN_NAME = re.compile(r"(?:\.down\.sql$|^U\d+(?:[._]\d+)*__)", re.IGNORECASE)
#: goose, dbmate and sql-migrate markers; those tools run each migration in a transaction
#: unless told otherwise (``_NO_TRANSACTION``).
_UP_MARKER = re.compile(r"^\s*--\s*(?:\+goose\s+up|migrate:up|\+migrate\s+up)\b", re.IGNORECASE | re.MULTILINE)
_DOWN_MARKER = re.compile(r"^\s*--\s*(?:\+goose\s+down|migrate:down|\+migrate\s+down)\b", re.IGNORECASE | re.MULTILINE)
_NO_TRANSACTION = re.compile(
    r"^\s*--\s*(?:\+goose\s+no\s+transaction|migrate:up\s+transaction:false|\+migrate\s+up\s+notransaction)\b",
    re.IGNORECASE | re.MULTILINE,
)


def sql_migration_kind(relpath: str, source: str) -> Optional[str]:
    """``"up"`` for a ``.sql`` file that is a migration, ``"down"`` for a down/undo
    migration, ``None`` for other SQL (queries, schema dumps, seeds)."""
    parts = relpath.replace("\\", "/").split("/")
    name = parts[-1]
    marked = bool(_UP_MARKER.search(source))
    if not (marked or _SQL_NAME.match(name) or any(p.lower() in _SQL_DIRS for p in parts[:-1])):
        return None
    return "down" if _DOWN_NAME.search(name) else "up"


class _FileAnalysis:
    """One file's migration reading, shared by the migration rules linting it."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.active = False
        self.seen: set = set()
        self.texts: Dict[int, Optional[SqlText]] = {}
        self.result: Optional[MigrationFile] = None

    # -- python files --------------------------------------------------------------------
    def start(self, module: cst.Module) -> None:
        if self.seen:
            return
        self.seen.add(id(module))
        self.active = any(
            (isinstance(s, cst.ClassDef) and s.name.value == "Migration")
            or (isinstance(s, cst.FunctionDef) and s.name.value == "upgrade")
            for s in module.body
        )

    def note_call(self, node: cst.Call) -> None:
        """Read SQL arguments while the bindings they may name are in scope."""
        if not self.active or id(node) in self.seen:
            return
        self.seen.add(id(node))
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name not in ("RunSQL", "execute", "text"):
            return
        first = next((a.value for a in node.args if a.keyword is None and not a.star), None)
        keyword = next((a.value for a in node.args if a.keyword is not None and a.keyword.value in ("sql", "sqltext")), None)
        target = keyword or first
        if target is None:
            return
        items = [e.value for e in target.elements] if isinstance(target, (cst.List, cst.Tuple)) and name == "RunSQL" else [target]
        for item in items:
            if isinstance(item, cst.Tuple) and item.elements:
                item = item.elements[0].value
            if not isinstance(item, cst.Call):
                self.texts[id(item)] = sql_text(item, self.ctx)

    def text_of(self, node: cst.CSTNode) -> Optional[str]:
        found = self.texts[id(node)] if id(node) in self.texts else sql_text(node, None)
        if found is None:
            return None
        return found.text

    def finish(self, module: cst.Module) -> MigrationFile:
        if self.result is None:
            self.result = self._read(module) if self.active else MigrationFile()
        return self.result

    def _read(self, module: cst.Module) -> MigrationFile:
        values = Values(self.ctx)
        file = self.ctx.file
        migration = find_migration(values, module)
        if migration is not None:
            history = self.ctx.project.get("migrations") if self.ctx.project is not None else None
            reader = DjangoReader(
                values, migration, app_label(file.relpath), history, file.relpath, self.text_of, file.dialect,
                module_functions(module),
            )
            changes = reader.read()
            return MigrationFile("django", migration.initial, reader.ignored, changes)
        revision = find_revision(module)
        if revision is not None:
            changes = AlembicReader(self.ctx, revision, self.text_of, file.dialect).read()
            changes.extend(irreversible(revision))
            return MigrationFile("alembic", revision.initial, False, changes)
        return MigrationFile()

    # -- sql files ---------------------------------------------------------------------------
    def sql_file(self, statements: Sequence[SqlStatement]) -> MigrationFile:
        if self.result is None:
            self.result = self._read_sql(statements)
        return self.result

    def _read_sql(self, statements: Sequence[SqlStatement]) -> MigrationFile:
        file = self.ctx.file
        kind = sql_migration_kind(file.relpath, file.source)
        if kind != "up":
            return MigrationFile()
        down = _DOWN_MARKER.search(file.source)
        down_line = file.source.count("\n", 0, down.start()) + 1 if down else None
        transactional = bool(_UP_MARKER.search(file.source)) and not _NO_TRANSACTION.search(file.source)
        state = SqlState()
        changes: List[Change] = []
        for statement in statements:
            if down_line is not None and statement.span.line > down_line:
                break
            for kind_, label, table, column, detail in classify(statement.text, statement.expression, state, transactional):
                changes.append(Change(kind_, "sql", label, span=statement.span, table=table, column=column, detail=detail, sql=True))
        return MigrationFile("sql", False, False, changes)


_SHARED: weakref.WeakKeyDictionary[RuleContext, _FileAnalysis] = weakref.WeakKeyDictionary()


def analysis(ctx: RuleContext) -> _FileAnalysis:
    found = _SHARED.get(ctx)
    if found is None:
        found = _SHARED[ctx] = _FileAnalysis(ctx)
    return found


@dataclass(frozen=True)
class MigrationOptions:
    """The options of every migration rule."""

    include_tests: bool = False


class MigrationRule(Rule):
    """Reports the changes of ``kinds`` found in migration files; the message of a change
    of kind ``k`` is what the rule's method ``_k(change)`` returns."""

    kinds: ClassVar[FrozenSet[str]] = frozenset()
    languages = ("python", "sql")
    requires_text = REQUIRES_TEXT
    project_facts = ("migrations",)
    message = "{what}; {fix}"
    Options = MigrationOptions

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._analysis = analysis(ctx)

    # -- hooks ----------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self._analysis.start(node)

    def visit_Call(self, node: cst.Call) -> None:
        if self._analysis.active:
            self._analysis.note_call(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._analysis.active:
            self._report_all(self._analysis.finish(original_node))

    def check_sql_file(self, statements: Sequence[SqlStatement]) -> None:
        self._report_all(self._analysis.sql_file(statements))

    # -- reporting ---------------------------------------------------------------------------
    def applies(self, migration: MigrationFile) -> bool:
        """Whether this rule judges the file at all (options, dialect, test code)."""
        if migration.framework is None or migration.initial or migration.ignored:
            return False
        include_tests = getattr(self.options, "include_tests", False)
        return include_tests or not self.ctx.file.is_test

    def _report_all(self, migration: MigrationFile) -> None:
        if not self.applies(migration):
            return
        for change in migration.changes:
            if change.kind not in self.kinds:
                continue
            message = self.describe(change)
            if message is None:
                continue
            severity = self.severity_of(change)
            if change.node is not None:
                self.report(change.node, message, severity=severity)
            elif change.span is not None:
                self.report(message=message, span=change.span, severity=severity)

    def describe(self, change: Change) -> Optional[str]:
        handler = getattr(self, f"_{change.kind}", None)
        return handler(change) if handler is not None else None

    def severity_of(self, change: Change) -> Any:
        return None


_HOLE = re.compile(r"__hole\d+__")


def subject(change: Change) -> str:
    """``orders.user_id`` / ``orders``, as the change names it."""
    table, column = _HOLE.sub("…", change.table), _HOLE.sub("…", change.column)
    if table and ", " in column:
        return f"`{table}` ({column})"
    if table and column:
        return f"`{table}.{column}`"
    if table:
        return f"`{table}`"
    if column:
        return f"`{column}`"
    return "the table"


def pick(change: Change, recipes: Dict[str, str]) -> str:
    """The recipe for the change: keyed ``django``/``alembic``/``sql``; SQL given to
    ``RunSQL``/``op.execute`` takes ``django_sql``/``alembic_sql``, else ``sql``."""
    keys = [f"{change.framework}_sql", "sql", change.framework] if change.sql else [change.framework, "sql"]
    return next((recipes[k] for k in keys if k in recipes), "")




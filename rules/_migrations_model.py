"""What the migration rules judge: a file's risky changes, framework-neutral.

The readers (:mod:`._migrations_django`, :mod:`._migrations_alembic`,
:mod:`._migrations_sql`) turn Django operations, Alembic ``op.*`` calls and SQL
statements into :class:`Change` records; the exemptions (a table created earlier in
the same migration, ``SeparateDatabaseAndState.state_operations``, concurrent index
builds outside a transaction, ...) are applied while reading, so every change is a
candidate finding. Each rule reports the kinds of its family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import libcst as cst

from backendlint.api import Span

#: BL501: data loss or a change that breaks code still running against the old schema.
DESTRUCTIVE = frozenset({
    "drop_column", "drop_table", "rename_column", "rename_table", "change_type", "set_not_null",
    "add_required_column", "unique_with_default", "truncate", "rename_enum_value",
})
#: BL502: a lock that blocks reads or writes for as long as the table is scanned or rewritten.
LOCKING = frozenset({
    "create_index", "drop_index", "concurrent_in_transaction", "add_foreign_key", "add_check",
    "add_unique", "add_primary_key", "volatile_default", "rewrite_column", "reindex", "vacuum_full",
    "cluster", "backfill",
})
#: BL503: a migration that cannot be unapplied.
IRREVERSIBLE = frozenset({"run_python", "run_sql", "empty_downgrade", "missing_downgrade"})


@dataclass
class Change:
    """One risky change a migration makes."""

    kind: str
    #: "django", "alembic" or "sql" (a ``.sql`` file); selects the recipe in messages.
    framework: str
    #: What the user wrote: ``RemoveField``, ``op.drop_column``, ``DROP INDEX``.
    label: str
    #: Where to report: a node of a Python file, or a span of a ``.sql`` file.
    node: Optional[cst.CSTNode] = None
    span: Optional[Span] = None
    #: The table (SQL, Alembic) or model (Django) and column, as written.
    table: str = ""
    column: str = ""
    #: Kind-specific: the new name, the referenced table, ``int -> bigint``, the default...
    detail: str = ""
    #: The change came from SQL text (``RunSQL``/``op.execute`` or a ``.sql`` file).
    sql: bool = False


@dataclass
class MigrationFile:
    """A migration file and its changes; ``framework`` is ``None`` when it is not one."""

    framework: Optional[str] = None
    initial: bool = False
    ignored: bool = False
    changes: List[Change] = field(default_factory=list)

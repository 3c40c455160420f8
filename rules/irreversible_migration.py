"""BL503 irreversible-migration."""

from __future__ import annotations

from backendlint_rules._migrations import MigrationRule
from backendlint_rules._migrations_model import IRREVERSIBLE, Change

from backendlint.api import Confidence, Severity


class IrreversibleMigration(MigrationRule):
    """A migration that cannot be unapplied, by omission rather than by choice.

    ## What it does
    Flags Django `RunPython(code)` without `reverse_code` and `RunSQL(sql)` without
    `reverse_sql` (`reverse_code=None` counts as missing), and Alembic revisions whose
    `downgrade()` is missing, empty or only `pass` while `upgrade()` does something.

    Not flagged: `reverse_code=migrations.RunPython.noop` and
    `reverse_sql=migrations.RunSQL.noop`, which state that there is nothing to undo;
    `elidable=True` operations; initial migrations (`initial = True`, `down_revision = None`);
    operations inside `SeparateDatabaseAndState.state_operations`; a `downgrade()` that raises
    (an explicit refusal); merge revisions with an empty `upgrade()`.

    ## Why is this bad
    A rollback is the first move when a release goes wrong. Django refuses to migrate back past
    an operation without a reverse (`IrreversibleError`), so the rollback stops half-way; an
    empty Alembic `downgrade()` is worse: it reports success and leaves the new schema in place
    under the old code.

    ## Example
    ```python
    operations = [
        migrations.RunPython(fill_order_numbers),
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm"),
    ]
    ```

    ## Use instead
    ```python
    operations = [
        migrations.RunPython(fill_order_numbers, reverse_code=migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            reverse_sql="DROP EXTENSION IF EXISTS pg_trgm",
        ),
    ]
    ```
    In Alembic, write the inverse operations in `downgrade()`, or
    `raise NotImplementedError("…")` when the change truly cannot be undone.

    ## Options
    - `include-tests` (default `false`): also check migrations under test paths.

    ## References
    - Django documentation: [RunPython](https://docs.djangoproject.com/en/5.2/ref/migration-operations/#runpython), [RunSQL](https://docs.djangoproject.com/en/5.2/ref/migration-operations/#runsql)
    - django-migration-linter: [RUNPYTHON_REVERSIBLE / RUNSQL_REVERSIBLE](https://github.com/3YOURMIND/django-migration-linter/blob/main/docs/incompatibilities.md)
    - Alembic documentation: [Running a downgrade](https://alembic.sqlalchemy.org/en/latest/tutorial.html#downgrading)
    """

    code = "BL503"
    name = "irreversible-migration"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    tags = ("migrations", "reliability")
    kinds = IRREVERSIBLE

    # -- messages ---------------------------------------------------------------------------
    def _run_python(self, change: Change) -> str:
        return (
            "RunPython has no reverse_code, so migrating back past it raises IrreversibleError; pass "
            "reverse_code= (a function that undoes it, or migrations.RunPython.noop when nothing needs undoing)"
        )

    def _run_sql(self, change: Change) -> str:
        return (
            "RunSQL has no reverse_sql, so migrating back past it raises IrreversibleError; pass reverse_sql= "
            "(the SQL that undoes it, or migrations.RunSQL.noop when nothing needs undoing)"
        )

    def _empty_downgrade(self, change: Change) -> str:
        return (
            "downgrade() does nothing while upgrade() changes the database: `alembic downgrade` reports success and "
            "leaves the new schema in place; write the inverse operations, or raise NotImplementedError to refuse "
            "explicitly"
        )

    def _missing_downgrade(self, change: Change) -> str:
        return (
            "this revision has no downgrade(), so it cannot be unapplied; add one with the inverse operations, or one "
            "that raises NotImplementedError to refuse explicitly"
        )

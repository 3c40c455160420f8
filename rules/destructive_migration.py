"""BL501 destructive-migration."""

from __future__ import annotations

from typing import Optional

from backendlint_rules._migrations import MigrationRule, pick, subject
from backendlint_rules._migrations_model import DESTRUCTIVE, Change

from backendlint.api import Confidence, Severity

_EXPAND_CONTRACT_COLUMN = "expand–contract: add the new column, write to both, backfill in batches, move reads to it, then drop the old one"


class DestructiveMigration(MigrationRule):
    """A migration that loses data or breaks the code still running against the old schema.

    ## What it does
    Reads Django migrations, Alembic revisions and `.sql` migrations (including the SQL given
    to `RunSQL(...)` and `op.execute(...)`) without a database or framework set-up, and
    flags changes that cannot be rolled out while the previous release is still serving:

    - dropping a column or a table (`RemoveField`, `DeleteModel`, `op.drop_column`,
      `op.drop_table`, `DROP COLUMN`, `DROP TABLE`) and `TRUNCATE`;
    - renaming a column or a table (`RenameField`, `RenameModel`, `AlterModelTable`, a
      `db_column` change, `op.alter_column(new_column_name=...)`, `op.rename_table`,
      `RENAME COLUMN`, `RENAME TO`) and renaming an enum value;
    - changing a column's type, except the changes PostgreSQL makes without a rewrite
      (varchar widening, varchar to text, numeric precision increase at the same scale);
    - setting NOT NULL on an existing column (unless a validated `CHECK (col IS NOT NULL)`
      already exists);
    - adding a NOT NULL column without a default, and adding a unique field with a default
      (every existing row gets the same value).

    A Django `AlterField` is judged against the field's previous state, found by replaying the
    app's migration history; when that state is unknown, nothing is reported. Not flagged:
    operations on a table created earlier in the same migration, initial migrations,
    `SeparateDatabaseAndState.state_operations`, unmanaged and proxy models, fields whose
    `db_column` keeps the column name, `ALTER INDEX`/`ALTER SEQUENCE` renames and renames of
    `…_seq` sequences, `AlterField`s that emit no SQL (`help_text`, `choices`, `validators`,
    a Python `default`...), and `AddField`s that are NOT NULL but safe (`default=`,
    `db_default=`, `blank=True` on a string field, `auto_now`). `.sql` files count as
    migrations inside `migrations/`, `migrate/` or `versions/` directories, with Flyway,
    golang-migrate, goose or dbmate names or markers; down migrations are skipped.

    ## Why is this bad
    Deploys are not atomic: the new schema is live while the old code still runs, and a
    rollback brings the old code back onto the new schema. Dropped or renamed columns make
    that code fail on every request; dropped data cannot be brought back by reverting the
    migration; a NOT NULL column without a default makes the migration itself fail on a
    non-empty table. Type changes and SET NOT NULL also scan or rewrite the whole table while
    holding a lock that blocks reads and writes.

    ## Example
    ```python
    class Migration(migrations.Migration):
        dependencies = [("shop", "0007_order_note")]
        operations = [
            migrations.RemoveField(model_name="order", name="legacy_code"),
            migrations.RenameField(model_name="order", old_name="total", new_name="amount"),
        ]
    ```

    ## Use instead
    Expand, migrate, contract: add the new structure, deploy code that writes both and reads
    the new one, backfill, then remove the old structure in a later release.
    ```python
    # release 1: the model no longer has the field, the column stays
    migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveField(model_name="order", name="legacy_code")],
    )
    # release 2: drop the column once no running code knows it
    migrations.RunSQL(
        "ALTER TABLE shop_order DROP COLUMN legacy_code",
        reverse_sql="ALTER TABLE shop_order ADD COLUMN legacy_code varchar(20) NULL",
    )
    ```
    For a rename, keep the old column under the new field name with
    `models.DecimalField(..., db_column="total")`.

    ## Options
    - `include-tests` (default `false`): also check migrations under test paths.

    ## References
    - squawk: [ban-drop-column](https://squawkhq.com/docs/ban-drop-column), [renaming-column](https://squawkhq.com/docs/renaming-column), [changing-column-type](https://squawkhq.com/docs/changing-column-type), [adding-required-field](https://squawkhq.com/docs/adding-required-field)
    - strong_migrations: [Checks](https://github.com/ankane/strong_migrations#checks)
    - PostgreSQL documentation: [ALTER TABLE](https://www.postgresql.org/docs/current/sql-altertable.html)
    - Django documentation: [SeparateDatabaseAndState](https://docs.djangoproject.com/en/5.2/ref/migration-operations/#separatedatabaseandstate)
    """

    code = "BL501"
    name = "destructive-migration"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    tags = ("migrations", "reliability")
    kinds = DESTRUCTIVE

    def severity_of(self, change: Change) -> Optional[Severity]:
        return Severity.MEDIUM if change.kind in ("change_type", "set_not_null", "rename_enum_value") else None

    # -- messages ---------------------------------------------------------------------------
    def _drop_column(self, change: Change) -> str:
        fix = pick(change, {
            "django": "expand–contract: first remove the field from the model only "
            "(SeparateDatabaseAndState(state_operations=[RemoveField(...)])) and deploy, then drop the column in a later release",
            "sql": "expand–contract: first deploy code that no longer reads or writes the column (make it nullable if it is "
            "NOT NULL), then drop it in a later migration",
        })
        return f"{change.label} drops column {subject(change)}: code still running reads or writes it and fails, and its data is gone; {fix}"

    def _drop_table(self, change: Change) -> str:
        what = f"{change.label} drops {change.detail} of {subject(change)}" if change.detail.startswith("the ") else f"{change.label} drops table {subject(change)}"
        fix = pick(change, {
            "django": "expand–contract: first remove the model from the state only "
            "(SeparateDatabaseAndState(state_operations=[...])) and deploy, keep a backup, then drop the table in a later release",
            "sql": "expand–contract: first deploy code that no longer uses the table, keep a backup, then drop it in a later migration",
        })
        return f"{what}: code still running fails on it and its rows are gone; {fix}"

    def _rename_column(self, change: Change) -> str:
        fix = pick(change, {
            "django": f"keep the column under the new name with db_column='{change.column}', or {_EXPAND_CONTRACT_COLUMN}",
            "sql": _EXPAND_CONTRACT_COLUMN,
        })
        return (
            f"{change.label} renames column {subject(change)} to `{change.detail}`: code still running uses the old "
            f"name and fails until it is replaced; {fix}"
        )

    def _rename_table(self, change: Change) -> str:
        fix = pick(change, {
            "django": "keep the table name with Meta.db_table, or expand–contract: create the new table, write to both, "
            "backfill, move reads, then drop the old one",
            "sql": "expand–contract: create the new table (or leave a view under the old name), move code over, then drop "
            "the old one",
        })
        target = f" to `{change.detail}`" if change.detail else ""
        return f"{change.label} renames table {subject(change)}{target}: code still running uses the old name and fails; {fix}"

    def _change_type(self, change: Change) -> str:
        detail = f" ({change.detail})" if change.detail else ""
        return (
            f"{change.label} changes the type of {subject(change)}{detail}: the table and its indexes are rewritten while "
            "reads and writes wait (PostgreSQL: ACCESS EXCLUSIVE lock), and code expecting the old type may break; "
            "expand–contract: add a column of the new type, write to both, backfill in batches, switch reads, then drop "
            "the old column"
        )

    def _set_not_null(self, change: Change) -> str:
        fix = pick(change, {
            "django": "first add AddConstraintNotValid(model_name=..., constraint=CheckConstraint(condition=Q(<field>__isnull=False), "
            "name=...)) and ValidateConstraint in separate migrations, then this change no longer scans (PostgreSQL 12+)",
            "alembic": "first op.create_check_constraint(..., '<col> IS NOT NULL', postgresql_not_valid=True), validate it in "
            "a later migration, then set NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
            "sql": "first ADD CONSTRAINT … CHECK (<col> IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT in a later migration, "
            "then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
        })
        if change.detail == "default":
            risk = "Django first updates every NULL row to the default, then the whole table is scanned"
        else:
            risk = "the whole table is scanned and the migration fails if any row is NULL"
        return (
            f"{change.label} sets NOT NULL on existing column {subject(change)}: {risk} while reads and writes wait "
            f"(PostgreSQL: ACCESS EXCLUSIVE lock); {fix}"
        )

    def _add_required_column(self, change: Change) -> str:
        fix = pick(change, {
            "django": "give it a default= (applied once to existing rows) or db_default=, or add it with null=True, backfill, "
            "then make it required",
            "alembic": "give it a server_default= (default= is Python-side only), or add it nullable, backfill, then set "
            "nullable=False",
            "sql": "give it a DEFAULT, or add it nullable, backfill, then SET NOT NULL",
        })
        return (
            f"{change.label} adds NOT NULL column {subject(change)} without a default: the migration fails on a table that "
            f"has rows, and code still running cannot insert; {fix}"
        )

    def _unique_with_default(self, change: Change) -> str:
        once = "Django calls the callable once, so " if change.detail == "callable" else ""
        return (
            f"{change.label} adds unique field {subject(change)} with a default: {once}every existing row gets the same "
            "value and the unique constraint fails; add it with null=True and without unique, fill each row in a "
            "RunPython, then AlterField it to unique=True"
        )

    def _truncate(self, change: Change) -> str:
        cascade = ", and with CASCADE also every row of the tables that reference it" if change.detail == "CASCADE" else ""
        return (
            f"TRUNCATE deletes every row of {subject(change)}{cascade}; delete only the rows you mean (a WHERE clause, in "
            "batches) in a reviewed data migration, or drop the table in a contract step"
        )

    def _rename_enum_value(self, change: Change) -> str:
        return (
            f"{change.label} renames a label of enum type {subject(change)}: code still running writes the old label and "
            "fails; add the new value, move rows and code to it, and retire the old one later"
        )

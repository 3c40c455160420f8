"""BL502 locking-migration."""

from __future__ import annotations

from typing import Dict, Optional

from backendlint_rules._migrations import MigrationRule, pick, subject
from backendlint_rules._migrations_model import LOCKING, Change, MigrationFile

from backendlint.api import Confidence, Severity

_FIELD_OPS = ("AddField", "AlterField")
_AUTOCOMMIT = "with op.get_context().autocommit_block():"
_NOT_VALID_SQL = "add it with NOT VALID, then VALIDATE CONSTRAINT in a separate migration"


def _concurrently(statement: str, alembic_call: str, django: str) -> Dict[str, str]:
    """The recipes for building or dropping an index with CONCURRENTLY (``CREATE INDEX``,
    ``op.create_index``) per framework."""
    return {
        "django": django,
        "alembic": f"op.{alembic_call}(..., postgresql_concurrently=True) inside {_AUTOCOMMIT}",
        "alembic_sql": f"{statement} CONCURRENTLY inside {_AUTOCOMMIT}",
        "django_sql": f"{statement} CONCURRENTLY in a migration with atomic = False",
        "sql": f"{statement} CONCURRENTLY, outside a transaction block",
    }


class LockingMigration(MigrationRule):
    """A PostgreSQL migration step that blocks reads or writes while it scans, builds or rewrites.

    ## What it does
    Reads Django migrations, Alembic revisions and `.sql` migrations (including the SQL given
    to `RunSQL(...)` and `op.execute(...)`) and flags, on PostgreSQL:

    - index creation or removal without `CONCURRENTLY`: Django `AddIndex`/`RemoveIndex`,
      `AddField`/`AlterField` that index a column (`db_index=True`, a `ForeignKey`, a
      `SlugField`, `index_together`), Alembic `op.create_index`/`op.drop_index` without
      `postgresql_concurrently=True`, `CREATE INDEX`/`DROP INDEX`;
    - a concurrent operation inside a transaction, which fails: `AddIndexConcurrently` /
      `RemoveIndexConcurrently` or `RunSQL("… CONCURRENTLY …")` in a migration without
      `atomic = False`, Alembic `postgresql_concurrently=True` or `op.execute` outside
      `with op.get_context().autocommit_block():`, `CONCURRENTLY` between `BEGIN` and `COMMIT`
      (or in a goose/dbmate migration that runs in a transaction), `VACUUM` in a transaction;
    - foreign keys and CHECK constraints added without `NOT VALID` (Django `AddField` of a
      `ForeignKey`, `AddConstraint(CheckConstraint)`, a change to a `Positive*Field`;
      Alembic without `postgresql_not_valid=True`);
    - unique constraints and primary keys not built from a concurrently created index
      (`unique=True`, `UniqueConstraint`, `unique_together`, `op.create_unique_constraint`,
      `ADD CONSTRAINT … UNIQUE` without `USING INDEX`);
    - columns added with a volatile default (`gen_random_uuid()`, `random()`,
      `clock_timestamp()`, `db_default=RandomUUID()`), stored generated, identity and serial
      columns, which rewrite the table;
    - `REINDEX` without `CONCURRENTLY`, `VACUUM FULL` and `CLUSTER`;
    - a data backfill (`RunPython`, `UPDATE`, `DELETE`) in the same transaction as, and after,
      a schema change of an existing table.

    Not flagged: tables created earlier in the same migration, initial migrations,
    `SeparateDatabaseAndState.state_operations`, concurrent operations with `atomic = False`
    or inside `autocommit_block()`, `NOT VALID` constraints and their `VALIDATE CONSTRAINT`,
    `ADD CONSTRAINT … USING INDEX`, constant and stable defaults (`now()`), and `AlterField`s
    whose earlier state is unknown. The rule is off when the project's `sql-dialect` is not
    `postgres`.

    ## Why is this bad
    A plain `CREATE INDEX` blocks every write to the table until the index is built; adding
    a validated constraint, a volatile default or a rewritten column holds an `ACCESS
    EXCLUSIVE` lock for a full scan or rewrite. On a large, busy table that is minutes of
    failed requests, and queries queue behind the waiting lock even before it is granted.
    A `CONCURRENTLY` statement inside a transaction is worse: the migration fails.

    ## Example
    ```python
    class Migration(migrations.Migration):
        dependencies = [("shop", "0011_order_status")]
        operations = [
            migrations.AddIndex(model_name="order", index=models.Index(fields=["status"], name="order_status_idx")),
        ]
    ```

    ## Use instead
    ```python
    from django.contrib.postgres.operations import AddIndexConcurrently

    class Migration(migrations.Migration):
        atomic = False
        dependencies = [("shop", "0011_order_status")]
        operations = [
            AddIndexConcurrently(model_name="order", index=models.Index(fields=["status"], name="order_status_idx")),
        ]
    ```
    Add constraints `NOT VALID` and validate them in a later migration
    (`AddConstraintNotValid` + `ValidateConstraint`; Alembic `postgresql_not_valid=True`), and
    build unique constraints with `CREATE UNIQUE INDEX CONCURRENTLY` followed by
    `ADD CONSTRAINT … UNIQUE USING INDEX`.

    ## Options
    - `include-tests` (default `false`): also check migrations under test paths.

    ## References
    - squawk: [require-concurrent-index-creation](https://squawkhq.com/docs/require-concurrent-index-creation), [adding-foreign-key-constraint](https://squawkhq.com/docs/adding-foreign-key-constraint), [constraint-missing-not-valid](https://squawkhq.com/docs/constraint-missing-not-valid), [disallowed-unique-constraint](https://squawkhq.com/docs/disallowed-unique-constraint)
    - strong_migrations: [Checks](https://github.com/ankane/strong_migrations#checks)
    - PostgreSQL documentation: [Explicit locking](https://www.postgresql.org/docs/current/explicit-locking.html), [CREATE INDEX CONCURRENTLY](https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY)
    - Django documentation: [PostgreSQL-specific operations](https://docs.djangoproject.com/en/5.2/ref/contrib/postgres/operations/)
    """

    code = "BL502"
    name = "locking-migration"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    tags = ("migrations", "performance", "postgresql")
    kinds = LOCKING

    def applies(self, migration: MigrationFile) -> bool:
        return super().applies(migration) and self.ctx.file.dialect == "postgres"

    def severity_of(self, change: Change) -> Optional[Severity]:
        return Severity.HIGH if change.kind == "concurrent_in_transaction" else None

    # -- messages ---------------------------------------------------------------------------
    def _create_index(self, change: Change) -> str:
        django = (
            "add the field with db_index=False, then build the index with AddIndexConcurrently in a migration with atomic = False"
            if change.label in _FIELD_OPS
            else "use AddIndexConcurrently (django.contrib.postgres.operations) in a migration with atomic = False"
        )
        fix = pick(change, _concurrently("CREATE INDEX", "create_index", django))
        index = f"index `{change.detail}`" if change.detail else "an index"
        return (
            f"{change.label} builds {index} on {subject(change)} without CONCURRENTLY: writes to the table wait for the "
            f"whole build; {fix}"
        )

    def _drop_index(self, change: Change) -> str:
        django = "use RemoveIndexConcurrently (django.contrib.postgres.operations) in a migration with atomic = False"
        fix = pick(change, _concurrently("DROP INDEX", "drop_index", django))
        index = f"index `{change.detail}`" if change.detail else "the index"
        of = f" of {subject(change)}" if change.table else ""
        return (
            f"{change.label} drops {index}{of} without CONCURRENTLY: it takes an ACCESS EXCLUSIVE lock, and every query "
            f"on the table queues behind it; {fix}"
        )

    def _concurrent_in_transaction(self, change: Change) -> str:
        fix = pick(change, {
            "django": "set atomic = False on the Migration and keep the concurrent operations alone in it",
            "django_sql": "set atomic = False on the Migration and keep the concurrent statements alone in it",
            "alembic": f"run it inside {_AUTOCOMMIT}",
            "alembic_sql": f"run it inside {_AUTOCOMMIT}",
            "sql": "run it outside BEGIN … COMMIT (goose: -- +goose NO TRANSACTION; dbmate: -- migrate:up transaction:false)",
        })
        return f"{change.label} cannot run inside a transaction block, and this migration runs in one, so it fails; {fix}"

    def _add_foreign_key(self, change: Change) -> str:
        target = f" referencing `{change.detail}`" if change.detail else ""
        fix = pick(change, {
            "django": "add the field with db_constraint=False, then add the constraint NOT VALID and VALIDATE CONSTRAINT in "
            "a later migration (SeparateDatabaseAndState with RunSQL)",
            "alembic": "add it with op.create_foreign_key(..., postgresql_not_valid=True), then VALIDATE CONSTRAINT in a "
            "later migration",
            "sql": _NOT_VALID_SQL,
        })
        return (
            f"{change.label} adds a foreign key on {subject(change)}{target} and validates every row while both tables are "
            f"locked against writes; {fix}"
        )

    def _add_check(self, change: Change) -> str:
        fix = pick(change, {
            "django": "use AddConstraintNotValid, then ValidateConstraint in a later migration "
            "(django.contrib.postgres.operations)",
            "alembic": "use op.create_check_constraint(..., postgresql_not_valid=True), then VALIDATE CONSTRAINT in a later "
            "migration",
            "sql": _NOT_VALID_SQL,
        })
        if change.detail.startswith("CHECK"):
            what = change.detail
        else:
            what = f"CHECK constraint `{change.detail}`" if change.detail else "a CHECK constraint"
        return f"{change.label} adds {what} to {subject(change)} and scans every row under an ACCESS EXCLUSIVE lock; {fix}"

    def _add_unique(self, change: Change) -> str:
        fix = pick(change, {
            "django": "in a migration with atomic = False, use SeparateDatabaseAndState: RunSQL CREATE UNIQUE INDEX "
            "CONCURRENTLY and ADD CONSTRAINT … UNIQUE USING INDEX as database operations, this operation as the state "
            "operation",
            "alembic": "create a unique index with postgresql_concurrently=True inside autocommit_block(), then "
            "ADD CONSTRAINT … UNIQUE USING INDEX",
            "sql": "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX",
        })
        return (
            f"{change.label} adds a unique constraint on {subject(change)}: its index is built while writes to the table "
            f"wait; {fix}"
        )

    def _add_primary_key(self, change: Change) -> str:
        fix = pick(change, {
            "sql": "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX",
        })
        return (
            f"{change.label} adds a primary key to {subject(change)}: its index is built under an ACCESS EXCLUSIVE lock; {fix}"
        )

    def _volatile_default(self, change: Change) -> str:
        return (
            f"{change.label} adds {subject(change)} with the volatile default {change.detail}: PostgreSQL rewrites the "
            "whole table under an ACCESS EXCLUSIVE lock to fill it; add the column without that default, set the default "
            "for new rows, then backfill existing rows in batches"
        )

    def _rewrite_column(self, change: Change) -> str:
        kind = change.detail or change.label
        return (
            f"{change.label} adds {subject(change)} as a {kind}: PostgreSQL rewrites the whole table under an ACCESS "
            "EXCLUSIVE lock to fill it; add a plain nullable column, backfill it in batches and keep it current from code "
            "or a trigger (for an identity or serial column, attach the sequence default after the backfill)"
        )

    def _reindex(self, change: Change) -> str:
        return (
            f"REINDEX without CONCURRENTLY blocks writes to {subject(change)} (and reads that use the index) for the "
            "whole rebuild; use REINDEX … CONCURRENTLY (PostgreSQL 12+) outside a transaction"
        )

    def _vacuum_full(self, change: Change) -> str:
        return (
            f"VACUUM FULL rewrites {subject(change)} under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends; "
            "use plain VACUUM, or pg_repack / pg_squeeze to reclaim space online"
        )

    def _cluster(self, change: Change) -> str:
        return (
            f"CLUSTER rewrites {subject(change)} under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends; "
            "use pg_repack to reorder the table online"
        )

    def _backfill(self, change: Change) -> str:
        fix = pick(change, {
            "django": "move the data migration into its own migration with atomic = False, and update in batches",
            "alembic": "run the backfill in its own revision (or inside autocommit_block()), in batches",
            "sql": "commit the schema change first, then backfill in batches",
        })
        tables = f" of `{change.detail}`" if change.detail else ""
        return (
            f"{change.label} changes rows in the same transaction as the earlier schema change{tables}: the lock that "
            f"change took is held until the backfill commits, so the table stays blocked throughout; {fix}"
        )

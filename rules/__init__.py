"""The built-in backendlint rule pack.

Registered through the ``backendlint.rules`` entry-point group like any third-party
pack; its rules import only :mod:`backendlint.api` (plus libcst, sqlglot and the
standard library).
"""

from backendlint_rules.destructive_migration import DestructiveMigration
from backendlint_rules.hardcoded_secret import HardcodedSecret
from backendlint_rules.irreversible_migration import IrreversibleMigration
from backendlint_rules.locking_migration import LockingMigration
from backendlint_rules.missing_timeout import MissingTimeout
from backendlint_rules.n_plus_one import NPlusOne
from backendlint_rules.silent_except import SilentExcept
from backendlint_rules.sql_injection import SqlInjection
from backendlint_rules.unbounded_query import UnboundedQuery
from backendlint_rules.unindexed_lookup import UnindexedLookup
from backendlint_rules.weak_password_hash import WeakPasswordHash

RULES = [
    SilentExcept,
    MissingTimeout,
    HardcodedSecret,
    WeakPasswordHash,
    NPlusOne,
    UnboundedQuery,
    UnindexedLookup,
    DestructiveMigration,
    LockingMigration,
    IrreversibleMigration,
    SqlInjection,
]

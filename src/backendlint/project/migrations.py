"""Migration history: the ordered migrations of each Django app and Alembic tree,
so that a migration can be judged against the state the earlier ones left.

Gathered by the project pass; rules read it through ``ctx.project.get("migrations")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from backendlint.project.facts import register


@dataclass
class MigrationHistory:
    """Per migrations directory, its migrations in dependency order."""


class MigrationsGatherer:
    name = "migrations"

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        return False

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        return None

    def combine(self, per_file: Mapping[str, Any]) -> MigrationHistory:
        return MigrationHistory()


register(MigrationsGatherer())

"""Project-wide facts gathered in one cheap pass before linting (the schema
catalogue, migration history), handed to rules read-only through ``ctx.project``."""

from backendlint.project.facts import EMPTY, Gatherer, ProjectFacts, gather_project, known_facts

__all__ = ["EMPTY", "Gatherer", "ProjectFacts", "gather_project", "known_facts"]

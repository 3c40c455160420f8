"""Project-wide facts gathered in one cheap pass before linting (e.g. the schema
catalogue), handed to rules read-only through ``ctx.project``."""

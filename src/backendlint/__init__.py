"""backendlint: a static-analysis linter for Python backends."""

__version__ = "0.1.0"

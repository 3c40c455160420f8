"""The linting engine: one parse and one traversal per file, shared by every rule."""

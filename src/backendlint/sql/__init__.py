"""SQL understanding shared by every SQL-aware rule: extraction from Python
string expressions (:mod:`backendlint.sql.extract`) and memoised parsing with
sqlglot (:mod:`backendlint.sql.parse`)."""

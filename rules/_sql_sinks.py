"""Calls that send SQL text to a database: the sinks of the SQL-aware rules.

One table, shared by sql-injection, unbounded-query, unindexed-lookup and n-plus-one:
DB-API cursors and connections (psycopg 2/3, sqlite3, MySQL drivers, pyodbc, oracledb),
Django (``connection.cursor()``, ``Manager.raw``, ``RawSQL``, ``QuerySet.extra``),
SQLAlchemy (``text``, ``literal_column``, ``exec_driver_sql``, 1.x ``execute(str)``),
asyncpg, databases, aiosqlite/aiopg/aiomysql, pandas ``read_sql`` and psycopg's ``sql.SQL``.

Receivers are resolved through imports and local bindings (``ctx.resolve``). When a
receiver cannot be resolved (a cursor passed in as a parameter), a call is still a
sink if the receiver is *named* like a database handle (``cursor``, ``cur``, ``conn``,
``db``...) and the method is a DB-API one; such sinks have ``resolved = False`` and
rules report them with lower confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple

import libcst as cst

from backendlint.api import RuleContext, dotted_name

DBAPI_MODULES = (
    "sqlite3",
    "psycopg2",
    "psycopg",
    "pymysql",
    "MySQLdb",
    "mysql.connector",
    "mariadb",
    "pyodbc",
    "oracledb",
    "cx_Oracle",
    "pg8000",
    "aiosqlite",
    "aiopg",
    "aiomysql",
    "asyncmy",
    "duckdb",
    "snowflake.connector",
    "clickhouse_driver",
)

#: DB-API methods whose first argument is SQL text -> what the call returns.
DBAPI_METHODS = {
    "execute": "cursor",
    "executemany": "none",
    "executescript": "none",
    "mogrify": "none",
}

ASYNCPG_METHODS = {
    "fetch": "many",
    "fetchrow": "one",
    "fetchval": "one",
    "execute": "none",
    "executemany": "none",
    "prepare": "cursor",
    "cursor": "cursor",
    "copy_from_query": "none",
}

DATABASES_METHODS = {
    "execute": "none",
    "execute_many": "none",
    "fetch_all": "many",
    "fetch_one": "one",
    "fetch_val": "one",
    "iterate": "many",
}

SQLALCHEMY_FUNCTIONS = {
    "sqlalchemy.text": "text",
    "sqlalchemy.sql.text": "text",
    "sqlalchemy.sql.expression.text": "text",
    "sqlmodel.text": "text",
    "sqlalchemy.literal_column": "literal_column",
    "sqlalchemy.sql.literal_column": "literal_column",
    "sqlalchemy.sql.expression.literal_column": "literal_column",
    "sqlalchemy.column": "identifier",
    "sqlalchemy.sql.column": "identifier",
    "sqlalchemy.sql.expression.column": "identifier",
    "sqlalchemy.table": "identifier",
    "sqlalchemy.sql.table": "identifier",
    "sqlalchemy.sql.expression.table": "identifier",
}

SQLALCHEMY_ROOTS = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
#: SQLAlchemy methods that take SQL text directly (1.x style) or always (exec_driver_sql).
SQLALCHEMY_METHODS = {"execute": "unknown", "exec_driver_sql": "unknown", "scalar": "one", "scalars": "many"}

DJANGO_RAWSQL = ("django.db.models.expressions.RawSQL", "django.db.models.RawSQL")
DJANGO_CONNECTIONS = ("django.db.connection", "django.db.connections[]")

PANDAS_FUNCTIONS = ("pandas.read_sql", "pandas.read_sql_query", "pandas.io.sql.read_sql", "pandas.io.sql.read_sql_query")
COMPOSITION = ("psycopg.sql.SQL", "psycopg2.sql.SQL")

SQL_KEYWORDS = ("sql", "query", "operation", "statement", "stmt", "command")
PARAM_KEYWORDS = ("params", "parameters", "args", "vars", "values", "seq_of_parameters", "multiparams")

#: Receivers named like a database handle, for calls whose receiver cannot be resolved.
_DB_HANDLE = re.compile(
    r"^(?:cursor|cur|curs|crs|c|cx|conn|connection|con|cnx|db|database|dbconn|tx|txn|transaction|"
    r"session|db_session|dbsession|engine|pool|pg|sqlite|mysql|postgres)$"
    r"|(?:_cursor|_cur|_conn|_connection|_db|_session|_engine|_pool)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SqlSink:
    """A call that sends SQL text to a database."""

    call: cst.Call
    #: dbapi, django, sqlalchemy, asyncpg, databases, pandas, psycopg
    library: str
    #: execute, executemany, executescript, mogrify, raw, rawsql, extra, text, literal_column,
    #: identifier, exec_driver_sql, fetch, read_sql, composition
    kind: str
    #: The SQL argument (``None`` for ``extra()``, whose SQL is in ``pieces``).
    sql: Optional[cst.BaseExpression]
    #: The bound-parameters argument, when given.
    params: Optional[cst.BaseExpression]
    #: What the call returns: many (rows), one (a row or value), cursor (rows via fetch*),
    #: none, unknown (depends on what the caller does with it).
    rows: str
    #: Whether the receiver was resolved through imports/bindings (else judged by its name).
    resolved: bool = True
    #: SQL fragments of Django ``extra(where=[...], select={...}, tables=[...], order_by=[...])``.
    pieces: Tuple[cst.BaseExpression, ...] = ()


def find_sql_sink(call: cst.Call, ctx: RuleContext) -> Optional[SqlSink]:
    """The sink ``call`` is, or ``None``."""
    func = call.func
    path = ctx.resolve(func)
    method = func.attr.value if isinstance(func, cst.Attribute) else None
    if path is not None:
        found = _by_path(call, path, method)
        if found is not None:
            return found
    if method is None:
        return None
    if method == "raw" and _django_queryset(func.value):  # type: ignore[union-attr]
        return _sink(call, "django", "raw", "many")
    if method == "extra" and _django_queryset(func.value):  # type: ignore[union-attr]
        return _extra(call)
    if path is not None and not _looks_like_handle_path(path):
        return None
    if method in DBAPI_METHODS and _named_like_handle(func.value):  # type: ignore[union-attr]
        return _sink(call, "dbapi", method, DBAPI_METHODS[method], resolved=False)
    if method in ("fetch", "fetchrow", "fetchval") and _named_like_handle(func.value):  # type: ignore[union-attr]
        return _sink(call, "asyncpg", method, ASYNCPG_METHODS[method], resolved=False)
    return None


def _by_path(call: cst.Call, path: str, method: Optional[str]) -> Optional[SqlSink]:
    if path in SQLALCHEMY_FUNCTIONS:
        return _sink(call, "sqlalchemy", SQLALCHEMY_FUNCTIONS[path], "unknown")
    if path in DJANGO_RAWSQL:
        return _sink(call, "django", "rawsql", "unknown")
    if path in PANDAS_FUNCTIONS:
        return _sink(call, "pandas", "read_sql", "many")
    if path in COMPOSITION:
        return _sink(call, "psycopg", "composition", "none")
    if method is None or "()" not in path and not path.startswith(DJANGO_CONNECTIONS):
        return None
    root = _root(path)
    if path.startswith(DJANGO_CONNECTIONS):
        return _sink(call, "django", method, DBAPI_METHODS[method]) if method in DBAPI_METHODS else None
    if root == "asyncpg":
        return _sink(call, "asyncpg", method, ASYNCPG_METHODS[method]) if method in ASYNCPG_METHODS else None
    if root == "databases":
        return _sink(call, "databases", method, DATABASES_METHODS[method]) if method in DATABASES_METHODS else None
    if root in SQLALCHEMY_ROOTS:
        if method == "exec_driver_sql":
            return _sink(call, "sqlalchemy", "exec_driver_sql", "unknown")
        if method in SQLALCHEMY_METHODS:
            return _sink(call, "sqlalchemy", "execute", SQLALCHEMY_METHODS[method])
        if method in DBAPI_METHODS and "raw_connection()" in path:
            return _sink(call, "dbapi", method, DBAPI_METHODS[method])
        return None
    if root in DBAPI_MODULES:
        if method in DBAPI_METHODS:
            return _sink(call, "dbapi", method, DBAPI_METHODS[method])
        if root in ("aiosqlite", "aiopg", "aiomysql") and method in ("fetchall",):
            return None
    return None


def _root(path: str) -> str:
    for module in (*DBAPI_MODULES, "asyncpg", "databases", *SQLALCHEMY_ROOTS):
        if path == module or path.startswith(module + "."):
            return module
    return path.split(".", 1)[0]


def _arguments(call: cst.Call) -> Tuple[Optional[cst.BaseExpression], Optional[cst.BaseExpression]]:
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    sql = positional[0] if positional else next((keywords[k] for k in SQL_KEYWORDS if k in keywords), None)
    params = positional[1] if len(positional) > 1 else next((keywords[k] for k in PARAM_KEYWORDS if k in keywords), None)
    return sql, params


def _sink(call: cst.Call, library: str, kind: str, rows: str, resolved: bool = True) -> Optional[SqlSink]:
    sql, params = _arguments(call)
    if sql is None:
        return None
    return SqlSink(call, library, kind, sql, params, rows, resolved)


def _extra(call: cst.Call) -> Optional[SqlSink]:
    pieces = []
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value not in ("where", "select", "tables", "order_by"):
            continue
        value = arg.value
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            pieces.extend(e.value for e in value.elements if isinstance(e, cst.Element))
        elif isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement):
                    pieces.extend((element.key, element.value))
        else:
            pieces.append(value)
    if not pieces:
        return None
    params = next((a.value for a in call.args if a.keyword is not None and a.keyword.value in ("params", "select_params")), None)
    return SqlSink(call, "django", "extra", None, params, "unknown", True, tuple(pieces))


def _django_queryset(node: cst.CSTNode) -> bool:
    """``Model.objects``, ``Model.objects.filter(...)``, ``self.model._default_manager``..."""
    while True:
        if isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Attribute):
            if node.attr.value in ("objects", "_default_manager", "_base_manager"):
                return True
            node = node.value
        else:
            return False


def _named_like_handle(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "cursor":
        return True  # something.cursor().execute(...)
    name = dotted_name(node)
    return name is not None and bool(_DB_HANDLE.search(name.rsplit(".", 1)[-1]))


def _looks_like_handle_path(path: str) -> bool:
    """A resolved path outside the known libraries that still ends in a cursor or handle
    (``myapp.db.get_connection().cursor()``)."""
    receiver = path.rsplit(".", 1)[0] if "." in path else path
    last = receiver.rsplit(".", 1)[-1].rstrip("()[]")
    return receiver.endswith("cursor()") or bool(_DB_HANDLE.search(last))

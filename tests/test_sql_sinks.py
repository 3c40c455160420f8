"""The shared table of SQL sinks: which calls send SQL text to a database."""

from __future__ import annotations

from typing import List

import libcst as cst
from backendlint_rules._sql_sinks import find_sql_sink

from backendlint.sql.extract import sql_text
from tests.test_engine import _rule, _run

SEEN: List[tuple] = []


def _record(self, node: cst.Call) -> None:
    sink = find_sql_sink(node, self.ctx)
    if sink is None:
        return
    text = sql_text(sink.sql, self.ctx) if sink.sql is not None else None
    SEEN.append((sink.library, sink.kind, sink.rows, sink.resolved, text.text if text else None, len(sink.pieces)))


Recorder = _rule("XS001", {"visit_Call": _record})

SOURCE = '''
import sqlite3
import asyncpg
import pandas as pd
import psycopg2
from django.db import connection, connections
from django.db.models.expressions import RawSQL
from psycopg import sql
from sqlalchemy import create_engine, text as sa_text
from sqlalchemy.orm import Session

from shop.models import Order


def dbapi(order_id):
    conn = sqlite3.connect("app.db")
    conn.execute("DELETE FROM t")
    cur = psycopg2.connect("dbname=x").cursor()
    cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
    with connection.cursor() as c:
        c.executemany("INSERT INTO t VALUES (%s)", [(1,), (2,)])
    connections["replica"].cursor().execute(sql="SELECT 1")


def django_orm(where):
    Order.objects.raw("SELECT * FROM shop_order")
    Order.objects.filter(a=1).extra(where=[where], select={"x": "1"})
    RawSQL("SELECT max(id) FROM t", ())


def alchemy(engine_url, q):
    engine = create_engine(engine_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 2")
    with Session(engine) as session:
        session.execute(sa_text("SELECT 3"))
        session.execute(q)


async def pg():
    pool = await asyncpg.create_pool("postgres://")
    async with pool.acquire() as conn:
        await conn.fetch("SELECT 4")
        await conn.fetchrow("SELECT 5")
    pd.read_sql("SELECT 6", pool)
    sql.SQL("SELECT {}")


def unresolved(cursor, repo, executor):
    cursor.execute("SELECT 7")
    repo.execute("SELECT 8")
    executor.submit("SELECT 9")
    cursor.callproc("proc")
'''


def test_sinks_are_found_through_imports_bindings_and_handle_names(tmp_path):
    SEEN.clear()
    result = _run(tmp_path, SOURCE, Recorder)
    assert not result.findings, result.findings
    assert SEEN == [
        ("dbapi", "execute", "cursor", True, "DELETE FROM t", 0),
        ("dbapi", "execute", "cursor", True, "SELECT * FROM orders WHERE id = %s", 0),
        ("django", "executemany", "none", True, "INSERT INTO t VALUES (%s)", 0),
        ("django", "execute", "cursor", True, "SELECT 1", 0),
        ("django", "raw", "many", True, "SELECT * FROM shop_order", 0),
        ("django", "extra", "unknown", True, None, 3),
        ("django", "rawsql", "unknown", True, "SELECT max(id) FROM t", 0),
        ("sqlalchemy", "exec_driver_sql", "unknown", True, "SELECT 2", 0),
        ("sqlalchemy", "execute", "unknown", True, None, 0),
        ("sqlalchemy", "text", "unknown", True, "SELECT 3", 0),
        ("sqlalchemy", "execute", "unknown", True, None, 0),
        ("asyncpg", "fetch", "many", True, "SELECT 4", 0),
        ("asyncpg", "fetchrow", "one", True, "SELECT 5", 0),
        ("pandas", "read_sql", "many", True, "SELECT 6", 0),
        ("psycopg", "composition", "none", True, "SELECT {}", 0),
        ("dbapi", "execute", "cursor", False, "SELECT 7", 0),
    ]

"""The unbounded-query classifier for parsed SQL (outermost query only)."""

from __future__ import annotations

import pytest
from backendlint_rules._unbounded_sql import unbounded

from backendlint.sql.parse import parse_sql


def judge(text, dialect="postgres", unique=None):
    parsed = parse_sql(text, dialect)
    assert parsed is not None, text
    is_unique = (lambda table, columns: (table, frozenset(columns)) in unique) if unique else None
    return unbounded(parsed.statements[0], text, is_unique)


@pytest.mark.parametrize(
    "text, shape",
    [
        ("SELECT * FROM orders WHERE status = %s", "SELECT"),
        ("SELECT status, count(*) FROM orders GROUP BY status", "SELECT"),
        ("SELECT * FROM orders WHERE id = %s OR status = %s", "SELECT"),
        ("WITH recent AS (SELECT * FROM orders WHERE created > now() - interval '1 day') SELECT * FROM recent", "WITH ... SELECT"),
        ("SELECT id FROM a UNION SELECT id FROM b", "UNION"),
        ("SELECT id FROM a LIMIT 5 UNION ALL SELECT id FROM b", "UNION"),
        ("SELECT id FROM a INTERSECT SELECT id FROM b", "INTERSECT"),
        ("SELECT id FROM a EXCEPT SELECT id FROM b", "EXCEPT"),
        ("SELECT o.* FROM orders o JOIN items i ON i.order_id = o.id WHERE i.sku = %s", "SELECT"),
        ("SELECT * FROM orders o, customers c WHERE o.id = c.order_id", "SELECT"),
        ("SELECT count(*) OVER (), id FROM orders", "SELECT"),
        ("SELECT * FROM orders WHERE id IN (SELECT order_id FROM items)", "SELECT"),
        ("SELECT * FROM orders WHERE customer_id = $1", "SELECT"),
        ("SELECT * FROM orders ORDER BY __hole1__ DESC", "SELECT"),
        ("SELECT __hole1__ FROM orders WHERE status = 'paid'", "SELECT"),
        ("TABLE orders", "SELECT"),
        ("SELECT * FROM orders WHERE email = %s", "SELECT"),
        ("SELECT * FROM orders WHERE total BETWEEN ? AND ?", "SELECT"),
    ],
)
def test_flagged(text, shape):
    found = judge(text)
    assert found is not None and found.shape == shape, found


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM orders WHERE status = %s LIMIT 50",
        "SELECT * FROM orders FETCH FIRST 10 ROWS ONLY",
        "SELECT * FROM orders LIMIT %s OFFSET %s",
        "SELECT * FROM orders LIMIT __hole1__",
        "SELECT count(*) FROM orders WHERE status = %s",
        "SELECT max(total), min(total) FROM orders",
        "SELECT 1",
        "SELECT nextval('orders_id_seq')",
        "SELECT EXISTS (SELECT 1 FROM orders WHERE status = %s)",
        "SELECT pg_advisory_xact_lock(%s)",
        "SELECT * FROM orders WHERE id = %s",
        "SELECT * FROM orders o WHERE o.id = %(id)s AND o.status = 'paid'",
        "SELECT * FROM orders WHERE id = ANY(%s)",
        "SELECT * FROM orders WHERE id IN %s",
        "SELECT * FROM orders WHERE id IN (?, ?, ?)",
        "SELECT * FROM orders WHERE %s = id",
        "SELECT url FROM bookmarks WHERE id BETWEEN ? AND ?",
        "INSERT INTO archive SELECT * FROM orders",
        "CREATE TABLE old_orders AS SELECT * FROM orders",
        "UPDATE orders SET total = i.total FROM invoices i WHERE i.order_id = orders.id",
        "DELETE FROM orders USING customers c WHERE c.id = orders.customer_id",
        "SELECT * INTO TEMP snapshot FROM orders",
        "WITH recent AS (SELECT * FROM orders LIMIT 5) SELECT * FROM recent",
        "WITH r AS (SELECT * FROM orders) SELECT * FROM r LIMIT 10",
        "(SELECT id FROM a UNION SELECT id FROM b) LIMIT 5",
        "SELECT id FROM a UNION SELECT id FROM b LIMIT 5",
        "SELECT count(*) FROM a UNION ALL SELECT count(*) FROM b",
        "SELECT * FROM (SELECT * FROM orders ORDER BY id LIMIT 10) t",
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        "SELECT relname FROM pg_catalog.pg_class",
        "SELECT * FROM pg_stat_activity",
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        "SELECT * FROM generate_series(1, 10) g",
        "SELECT * FROM unnest(%s) AS u(id) JOIN orders o ON o.id = u.id",
        "SELECT * FROM (VALUES (1), (2)) v(a)",
        "SELECT key, value FROM json_each(?)",
        "SELECT * FROM jsonb_array_elements(%s) e",
        "SELECT * FROM __hole1__ WHERE status = %s",
        "SELECT * FROM (__hole1__) t",
        "SELECT * FROM orders WHERE __hole1__",
        "SELECT * FROM orders WHERE status = %s AND __hole1__",
        "SELECT * FROM orders WHERE status = %s ORDER BY __hole1__",
        "SELECT * FROM orders ORDER BY __hole1__ __hole2__",
        "VALUES (1), (2)",
    ],
)
def test_not_flagged(text):
    assert judge(text) is None


def test_tsql_top():
    assert judge("SELECT TOP 10 * FROM orders", "tsql") is None
    assert judge("SELECT * FROM orders", "tsql") is not None


def test_unique_columns_from_the_catalogue():
    unique = {("customers", frozenset({"email"})), ("order_lines", frozenset({"order_id", "line_no"}))}
    assert judge("SELECT * FROM customers WHERE email = %s", unique=unique) is None
    assert judge("SELECT * FROM customers c WHERE c.email = lower(%s)", unique=unique) is None
    assert judge("SELECT * FROM customers WHERE email = %s OR name = %s", unique=unique) is not None
    assert judge("SELECT * FROM order_lines WHERE order_id = %s AND line_no = %s", unique=unique) is None
    assert judge("SELECT * FROM order_lines WHERE order_id = %s", unique=unique) is not None
    assert judge("SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.email = %s", unique=unique) is not None
    assert judge("SELECT o.* FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = %s", unique=unique) is not None
    assert judge("SELECT c.* FROM customers c JOIN orders o ON c.id = o.customer_id WHERE c.email = %s", unique=unique) is None


def test_details():
    assert "GROUP BY" in judge("SELECT status, count(*) FROM orders GROUP BY status").detail
    assert judge("SELECT * FROM public.orders o").table == "orders"
    assert "UNION has no LIMIT" in judge("SELECT id FROM a UNION SELECT id FROM b").detail

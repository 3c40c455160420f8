"""Parsing SQL text: placeholder styles, holes, the configured dialect and its fallbacks,
memoisation, and "what does not parse is not SQL"."""

from __future__ import annotations

import pytest
import sqlglot.expressions as exp

from backendlint.sql.parse import is_hole, normalise, parse_sql, split_statements

QUERY = "SELECT * FROM orders WHERE status = {}"


@pytest.mark.parametrize("placeholder", ["%s", "%(status)s", ":status", "?", "$1", ":1"])
@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite", "tsql", None])
def test_every_dbapi_placeholder_style_parses_in_every_dialect(placeholder, dialect):
    parsed = parse_sql(QUERY.format(placeholder), dialect)
    assert parsed is not None
    (statement,) = parsed.statements
    assert isinstance(statement, exp.Select)
    value = statement.args["where"].this.expression
    assert isinstance(value, (exp.Placeholder, exp.Parameter)), (placeholder, dialect, repr(value))


def test_normalise():
    assert normalise("a = %s AND b = %(name)s AND c = %d") == "a = ? AND b = :name AND c = ?"
    assert normalise("a = $1 AND b = $12 AND c = :3") == "a = ? AND b = ? AND c = ?"
    assert normalise("x::int, '10:30', $$body$$, $tag$ $x1") == "x::int, '10:30', $$body$$, $tag$ $x1"
    assert normalise("name LIKE '%%' || %s") == "name LIKE '%' || ?"
    assert normalise("ORDER BY __hole1__ __hole2__") == "ORDER BY __hole1__"
    assert normalise("data = %s::jsonb AND tags ? %s") == "data = (?)::jsonb AND tags ? ?"


@pytest.mark.parametrize("placeholder", ["%s", "%(d)s", "?", "$1", ":d"])
def test_placeholders_with_postgres_casts_parse(placeholder):
    parsed = parse_sql(f"SELECT * FROM t WHERE d > {placeholder}::date - 1 AND x = {placeholder}::jsonb")
    assert parsed is not None and parsed.dialect == "postgres"


def test_holes_are_identifiers_valid_as_table_column_and_value():
    parsed = parse_sql("SELECT __hole1__ FROM __hole2__ WHERE id IN (__hole3__) ORDER BY __hole4__ __hole5__ LIMIT __hole6__")
    assert parsed is not None and parsed.dialect == "postgres"
    statement = parsed.statements[0]
    assert is_hole(statement.args["from_"].this)
    assert is_hole(statement.args["limit"].expression)
    assert not is_hole(exp.column("status"))


def test_configured_dialect_first_then_fallbacks():
    assert parse_sql("SELECT * FROM t WHERE tags @> %s", "postgres").dialect == "postgres"
    assert parse_sql("SELECT * FROM t WHERE tags @> %s", "mysql").dialect == "postgres"  # fallback
    assert parse_sql("SELECT VERSION(), DATABASE()", "postgres").dialect == "mysql"
    top = parse_sql("SELECT TOP 10 * FROM orders", "tsql")
    assert top is not None and top.dialect == "tsql" and isinstance(top.statements[0].args["limit"], exp.Limit)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM p, a WHERE p.prefix <<= a.prefix",  # fails in every dialect
        "Select a valid asset from the list",
        "",
        "   ",
    ],
)
def test_what_does_not_parse_is_not_sql(text):
    assert parse_sql(text) is None


def test_parses_are_memoised():
    parse_sql.cache_clear()
    first = parse_sql("SELECT id FROM memo_orders WHERE id = %s")
    second = parse_sql("SELECT id FROM memo_orders WHERE id = %s")
    assert first is second
    info = parse_sql.cache_info()
    assert info.hits == 1 and info.misses == 1


def test_split_statements_keeps_lines_and_dollar_bodies():
    script = "SELECT 1;\n\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- c\nSELECT\n  2;\n"
    pieces = split_statements(script)
    assert [(first, last) for _, first, last in pieces] == [(1, 1), (3, 3), (5, 6)]
    assert pieces[1][0].startswith("CREATE FUNCTION") and pieces[1][0].endswith("LANGUAGE sql")

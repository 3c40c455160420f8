"""BL303 sql-injection: messages, severities, options and hole roles."""

from __future__ import annotations

import textwrap

import pytest
import sqlglot
from backendlint_rules._sql_roles import hole_roles

from tests.helpers.lint import lint


def _findings(tmp_path, source: str, config: str = ""):
    (tmp_path / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    if config:
        (tmp_path / "backendlint.toml").write_text(config, encoding="utf-8")
    result = lint(tmp_path, ["BL303"])
    assert not [f for f in result.findings if f.code in ("BL001", "BL003")], result.findings
    return [f for f in result.findings if f.code == "BL303"]


def test_message_names_hole_sink_and_fix(tmp_path):
    [finding] = _findings(
        tmp_path,
        """
        import sqlite3

        def find(path, name):
            conn = sqlite3.connect(path)
            return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()
        """,
    )
    assert finding.message == (
        "`name` is interpolated into the SQL passed to `conn.execute()` with an f-string; "
        "pass values as bound parameters: `?` placeholders and a parameters tuple"
    )
    assert (finding.severity.label, finding.confidence.label) == ("high", "high")


def test_identifiers_and_order_by_get_their_own_fixes(tmp_path):
    [finding] = _findings(
        tmp_path,
        """
        import psycopg2

        def page(dsn, table, sort, owner):
            cur = psycopg2.connect(dsn, connect_timeout=3).cursor()
            cur.execute(f"SELECT * FROM {table} WHERE owner = '{owner}' ORDER BY {sort}")
        """,
    )
    assert "`table`, `owner`, `sort` are interpolated" in finding.message
    assert "pass values as bound parameters: `%s` placeholders" in finding.message
    assert "sql.SQL(...).format(sql.Identifier(name))" in finding.message
    assert "allow-list such as `ORDER_BY[key]`" in finding.message


def test_a_receiver_judged_by_its_name_lowers_confidence(tmp_path):
    [finding] = _findings(
        tmp_path,
        """
        def load(cursor, email):
            cursor.execute("SELECT * FROM users WHERE email = '%s'" % email)
        """,
    )
    assert finding.confidence.label == "medium"
    assert "%-formatting" in finding.message


@pytest.mark.parametrize(
    "hole",
    ["int(raw)", "len(items)", "limit", "ratio * 100", "flag"],
)
def test_numeric_holes_are_low_severity_and_say_so(tmp_path, hole):
    [finding] = _findings(
        tmp_path,
        f"""
        import sqlite3

        def rows(raw, items, limit: int, ratio: float, flag: bool):
            conn = sqlite3.connect("app.db")
            return conn.execute(f"SELECT * FROM t WHERE a > {{{hole}}} LIMIT 5").fetchall()
        """,
    )
    assert finding.severity.label == "low"
    assert "can only be a number, so the risk is low" in finding.message


def test_numeric_and_risky_holes_together_stay_high(tmp_path):
    [finding] = _findings(
        tmp_path,
        """
        import sqlite3

        def rows(name, limit: int):
            conn = sqlite3.connect("app.db")
            return conn.execute("SELECT * FROM t WHERE name = '%s' LIMIT %d" % (name, limit)).fetchall()
        """,
    )
    assert finding.severity.label == "high"
    assert finding.message.startswith("`name` is interpolated")


@pytest.mark.parametrize(
    "statement, expected",
    [
        ("f\"SET TIME ZONE '{value}'\"", "set_config('TimeZone', %s, false)"),
        ('f"SET LOCAL search_path TO {value}"', "set_config('search_path', %s, true)"),
        ('f"LISTEN {value}"', "LISTEN takes no bind parameters"),
        ('f"CREATE ROLE {value} LOGIN"', "role names cannot be bound parameters"),
        ('f"DROP DATABASE IF EXISTS {value}"', "database names cannot be bound parameters"),
    ],
)
def test_utility_statements_get_a_specific_fix(tmp_path, statement, expected):
    [finding] = _findings(
        tmp_path,
        f"""
        import psycopg

        def run(conninfo, value):
            with psycopg.connect(conninfo) as conn:
                conn.execute({statement})
        """,
    )
    assert expected in finding.message


def test_prose_at_a_name_judged_sink_is_not_sql(tmp_path):
    assert not _findings(
        tmp_path,
        """
        def report(conn, name):
            conn.execute(f"Create a new user named {name}")
            conn.execute(f"Set the owner to {name}")
            conn.execute(f"Listen to {name} carefully")
        """,
    )


@pytest.mark.parametrize(
    "comment, flagged",
    [("# nosec", False), ("# nosec B608", False), ("# nosec: BL303", False), ("# nosec B105", True), ("", True)],
)
def test_nosec_on_the_sink_or_where_the_sql_was_built(tmp_path, comment, flagged):
    source = f"""
    import sqlite3

    def find(name):
        conn = sqlite3.connect("app.db")
        conn.execute(f"SELECT * FROM t WHERE name = '{{name}}'")  {comment}
        query = "SELECT * FROM t WHERE name = '" + name + "'"  {comment}
        conn.execute(query)
    """
    assert len(_findings(tmp_path, source)) == (2 if flagged else 0)


def test_nosec_can_be_ignored(tmp_path):
    source = """
    import sqlite3

    def find(name):
        sqlite3.connect("app.db").execute(f"SELECT * FROM t WHERE name = '{name}'")  # nosec
    """
    assert len(_findings(tmp_path, source, "[rules.BL303]\nhonour-nosec = false\n")) == 1


def test_sanitizers_option(tmp_path):
    source = """
    import sqlite3
    from myapp.db import safe_identifier

    def rows(table):
        return sqlite3.connect("app.db").execute(f"SELECT * FROM {safe_identifier(table)}").fetchall()
    """
    assert len(_findings(tmp_path, source)) == 1
    assert not _findings(tmp_path, source, '[rules.BL303]\nsanitizers = ["myapp.db.safe_identifier"]\n')


def test_allow_list_guards_apply_after_the_check_only(tmp_path):
    findings = _findings(
        tmp_path,
        """
        import sqlite3

        ALLOWED = ("name", "price")

        def rows(column):
            conn = sqlite3.connect("app.db")
            if column not in ALLOWED:
                conn.execute(f"INSERT INTO rejected (name) VALUES ('{column}')")
                raise ValueError(column)
            return conn.execute(f"SELECT {column} FROM products").fetchall()

        def other(column):
            return sqlite3.connect("app.db").execute(f"SELECT {column} FROM products").fetchall()
        """,
    )
    assert [f.span.line for f in findings] == [9, 14]


def test_pathological_rebinding_does_not_explode(tmp_path):
    branches = "\n".join(f"    if flags & {1 << i}:\n        where = where + ' AND c{i} = ' + v{i % 3}" for i in range(40))
    source = (
        "import sqlite3\n\n"
        "def build(flags, v0, v1, v2):\n"
        "    where = '1 = 1'\n"
        f"{branches}\n"
        "    return sqlite3.connect('app.db').execute(f'SELECT * FROM t WHERE {where}')\n"
    )
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    result = lint(tmp_path, ["BL303"])
    assert [f.code for f in result.findings] == ["BL303"]


def test_templates_and_separators_held_in_names(tmp_path):
    findings = _findings(
        tmp_path,
        """
        import sqlite3

        TEMPLATE = "SELECT * FROM t WHERE {}"

        def rows(name, parts):
            conn = sqlite3.connect("app.db")
            sep = " AND "
            where = sep.join(parts)
            clause = TEMPLATE.format(where)
            conn.execute(clause)
            safe = sep.join(["a = ?", "b = ?"])
            conn.execute(TEMPLATE.format(safe), (1, 2))
            conn.execute("SELECT * FROM t WHERE {}".format("name = '{}'".format(name)))
        """,
    )
    assert [f.span.line for f in findings] == [11, 14]
    assert findings[0].message.startswith("`where` (from `parts`) is interpolated")


def test_generated_placeholders_and_compiled_sql(tmp_path):
    assert not _findings(
        tmp_path,
        """
        import sqlite3
        from django.db import connection

        def rows(ids, queryset):
            conn = sqlite3.connect("app.db")
            marks = ("?," * len(ids))[:-1]
            conn.execute(f"SELECT * FROM t WHERE id IN ({marks})", ids)
            conn.execute("SELECT * FROM t WHERE id IN (%s)" % ",".join("?" for _ in ids), ids)
            inner = queryset.query.sql_with_params()[0]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({inner}) AS q", queryset.query.sql_with_params()[1])
        """,
    )


def test_configuration_and_mapped_iterables(tmp_path):
    findings = _findings(
        tmp_path,
        """
        import os
        import sqlite3
        from typing import List

        def rows(ids: List[int], names, columns):
            conn = sqlite3.connect("app.db")
            conn.execute(f"SELECT * FROM {os.environ['SCHEMA']}.t WHERE a = {os.getenv('DEFAULT_A', '1')}")
            conn.execute(f"SELECT * FROM t WHERE id IN ({', '.join(map(str, ids))})")
            conn.execute(f"SELECT * FROM t WHERE id IN ({', '.join(map(int, names))})")
            conn.execute(f"SELECT * FROM t WHERE name IN ({', '.join(map(repr, names))})")
        """,
    )
    assert [(f.span.line, f.severity.label) for f in findings] == [(9, "low"), (10, "low"), (11, "high")]


def test_loops_over_literal_rows_are_judged_column_by_column(tmp_path):
    findings = _findings(
        tmp_path,
        """
        import sqlite3

        CASES = (("orders", 30), ("sessions", 1))

        def purge(conn, extra):
            for table, days in CASES:
                conn.execute(f"DELETE FROM {table} WHERE age > {days}")
            for table, days in (("logs", 7), (extra, 2)):
                conn.execute(f"DELETE FROM {table} WHERE age > {days}")
        """,
    )
    assert [(f.span.line, f.severity.label) for f in findings] == [(8, "low"), (10, "high")]


def test_hole_roles():
    statements = sqlglot.parse(
        "SELECT __hole1__ FROM __hole2__ WHERE id = __hole3__ AND __hole4__ AND name = '__hole5__' "
        "ORDER BY __hole6__ LIMIT __hole7__",
        read="postgres",
    )
    assert hole_roles(statements) == {
        1: "identifier",
        2: "identifier",
        3: "value",
        4: "clause",
        5: "value",
        6: "order",
        7: "value",
    }
    assert hole_roles((), "BEGIN __hole1__; SELECT '__hole2__'") == {1: "identifier", 2: "value"}

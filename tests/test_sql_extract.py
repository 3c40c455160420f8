"""SQL text of Python expressions: literals, concatenation, f-strings, format, %, join,
and names followed through local bindings and module constants."""

from __future__ import annotations

from typing import List

import libcst as cst
import pytest

from backendlint.sql.extract import sql_text, starts_like_sql
from tests.test_engine import _rule, _run

SEEN: List[tuple] = []


def _record(self, node: cst.Call) -> None:
    if isinstance(node.func, cst.Name) and node.func.value == "run":
        found = sql_text(node.args[0].value, self.ctx)
        SEEN.append(None if found is None else (found.text, len(found.holes), sorted(found.kinds)))


Recorder = _rule("XT001", {"visit_Call": _record})


def _read(tmp_path, source: str):
    SEEN.clear()
    result = _run(tmp_path, source, Recorder)
    assert not result.findings, result.findings
    return list(SEEN)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ('"SELECT a FROM t"', ("SELECT a FROM t", 0, ["literal"])),
        ('"SELECT a " "FROM t"', ("SELECT a FROM t", 0, ["literal"])),
        ('"SELECT a " + "FROM t"', ("SELECT a FROM t", 0, ["concat", "literal"])),
        ('f"SELECT * FROM t WHERE name = \'{name}\'"', ("SELECT * FROM t WHERE name = '__hole1__'", 1, ["fstring"])),
        ('f"SELECT {1} FROM t"', ("SELECT 1 FROM t", 0, ["fstring"])),
        ('rf"SELECT \'\\d\' {{x}} FROM {t}"', ("SELECT '\\d' {x} FROM __hole1__", 1, ["fstring"])),
        ('"SELECT * FROM t WHERE id = %s" % uid', ("SELECT * FROM t WHERE id = __hole1__", 1, ["literal", "percent"])),
        ('"SELECT %(c)s FROM t LIMIT %d" % {"c": col}', ("SELECT __hole1__ FROM t LIMIT __hole2__", 2, ["literal", "percent"])),
        ('"SELECT %s, 100%% FROM t" % (5,)', ("SELECT 5, 100% FROM t", 0, ["literal", "percent"])),
        ('"SELECT {} FROM {t}".format(col, t="orders")', ("SELECT __hole1__ FROM orders", 1, ["format", "literal"])),
        ('"SELECT {0}, {0} FROM t".format(c)', ("SELECT __hole1__, __hole2__ FROM t", 2, ["format", "literal"])),
        ('"UPDATE t SET a = \'" + v + "\'"', ("UPDATE t SET a = '__hole1__'", 1, ["concat", "literal"])),
        ('"SELECT * FROM t WHERE " + " AND ".join(conds)', ("SELECT * FROM t WHERE __hole1__", 1, ["concat", "join", "literal"])),
        ('", ".join(["a", "b", c])', ("a, b, __hole1__", 1, ["join", "literal"])),
        ('"SET TRANSACTION " + ("READ WRITE" if w else "READ ONLY")', ("SET TRANSACTION READ WRITE", 0, ["concat", "literal"])),
        ("name", None),
        ("compute()", None),
        ("a + b", None),
        ('b"SELECT 1"', ("SELECT 1", 0, ["literal"])),
    ],
)
def test_expressions(tmp_path, expression, expected):
    assert _read(tmp_path, f"run({expression})\n") == [expected]


def test_names_follow_local_bindings_augassign_and_module_constants(tmp_path):
    source = '''
TABLE = "orders"
LIMIT = 50

def view(status, order):
    q = f"SELECT * FROM {TABLE} WHERE status = %s"
    q += " ORDER BY " + order
    q += f" LIMIT {LIMIT}"
    run(q)
    sql = "SELECT 1"
    sql = "SELECT 2"
    run(sql)
    run(status)
'''
    assert _read(tmp_path, source) == [
        ("SELECT * FROM orders WHERE status = %s ORDER BY __hole1__ LIMIT 50", 1, ["augassign", "concat", "fstring", "literal"]),
        ("SELECT 2", 0, ["literal"]),
        None,
    ]


def test_percent_operands_follow_a_local_literal_or_fill_every_placeholder(tmp_path):
    source = '''
def create(params, name, suffix):
    run("CREATE DATABASE %(dbname)s %(suffix)s" % params)
    values = {"dbname": "test_app", "suffix": suffix}
    run("CREATE DATABASE %(dbname)s %(suffix)s" % values)
    pair = (name, 5)
    run("SELECT %s FROM t LIMIT %d" % pair)
'''
    assert _read(tmp_path, source) == [
        ("CREATE DATABASE __hole1__ __hole2__", 2, ["literal", "percent"]),
        ("CREATE DATABASE test_app __hole1__", 1, ["literal", "percent"]),
        ("SELECT __hole1__ FROM t LIMIT 5", 1, ["literal", "percent"]),
    ]


def test_a_rebinding_that_reads_the_name_sees_the_earlier_value(tmp_path):
    source = '''
def search(name, status):
    q = "SELECT * FROM t WHERE 1=1"
    q = q + f" AND name = '{name}'"
    q = q + " AND status = %s"
    run(q)
'''
    assert _read(tmp_path, source) == [
        ("SELECT * FROM t WHERE 1=1 AND name = '__hole1__' AND status = %s", 1, ["concat", "fstring", "literal"]),
    ]


def test_self_referencing_bindings_terminate(tmp_path):
    assert _read(tmp_path, "q = q\nrun(q)\nx = y\ny = x\nrun(x)\n") == [None, None]


def test_prose_is_not_sql():
    prose = [
        'f"Select a valid asset from {choices}"',
        '"Select a valid asset from the list"',
        'f"Update the set of {things}"',
        '"Page {page}".format(page=3)',
        '"Error: Delete from cache: %s" % key',
    ]
    for expression in prose:
        found = sql_text(cst.parse_expression(expression))
        assert found is not None and found.parse() is None, expression


def test_parse_and_prose():
    assert starts_like_sql("  -- comment\n  (SELECT 1)")
    assert not starts_like_sql("Error: Delete from cache failed")
    assert not starts_like_sql("Page {page}")


def test_psycopg_compositions_read_as_their_sql(tmp_path):
    source = '''
from psycopg import sql
from psycopg2 import sql as sql2

def report(table, column, status):
    run(sql.SQL("SELECT * FROM {} WHERE status = %s").format(sql.Identifier(table)))
    run(sql.SQL("SELECT {} FROM {}").format(sql.Identifier("public", "orders"), sql.Literal(5)))
    run(sql2.SQL(" AND ").join([sql2.SQL("a = {}").format(sql2.Placeholder()), sql2.SQL("b = 1")]))
    run(sql.SQL("SELECT * FROM t WHERE id = {}").format(sql.Placeholder("id")))
    run(sql.SQL(status))
'''
    seen = _read(tmp_path, source)
    assert seen == [
        ("SELECT * FROM __hole1__ WHERE status = %s", 1, ["composition", "format", "literal"]),
        ('SELECT "public"."orders" FROM 5', 0, ["composition", "format", "literal"]),
        ("a = %s AND b = 1", 0, ["composition", "format", "join", "literal"]),
        ("SELECT * FROM t WHERE id = %(id)s", 0, ["composition", "format", "literal"]),
        None,
    ]


def test_composition_holes_are_marked(tmp_path):
    HOLES.clear()
    _run(tmp_path, 'from psycopg import sql\nrun(sql.SQL("SELECT * FROM {}").format(sql.Identifier(t)))\nrun(f"SELECT {t}")\n', HoleRecorder)
    assert HOLES == [("composition", "", False), ("fstring", "", False)]


def test_class_constants_read_through_self(tmp_path):
    source = '''
class OrderRepository:
    TABLE = "orders"
    LIST = "SELECT * FROM orders WHERE status = %s"

    def open_orders(self, cur):
        run(self.LIST)
        run(f"SELECT count(*) FROM {self.TABLE}")
        run(self.missing)
'''
    assert _read(tmp_path, source) == [
        ("SELECT * FROM orders WHERE status = %s", 0, ["literal"]),
        ("SELECT count(*) FROM orders", 0, ["fstring"]),
        None,
    ]

def test_string_template_substitute(tmp_path):
    source = '''
from string import Template
import string

TPL = "x"

def purge(table, days):
    run(Template("DELETE FROM $table WHERE age > ${days}").substitute(table=table, days=30))
    tpl = string.Template("SELECT $$1, $col FROM t")
    run(tpl.substitute({"col": "name"}))
    run(tpl.safe_substitute(col=days))
    run(Template("SELECT $bad").substitute(**{"bad": 1}))
'''
    assert _read(tmp_path, source) == [
        ("DELETE FROM __hole1__ WHERE age > 30", 1, ["literal", "template"]),
        ("SELECT $1, name FROM t", 0, ["literal", "template"]),
        ("SELECT $1, __hole1__ FROM t", 1, ["literal", "template"]),
        ("SELECT __hole1__", 1, ["literal", "template"]),
    ]


def test_a_template_that_is_not_string_template_is_not_read(tmp_path):
    source = '''
from jinja2 import Template

run(Template("SELECT $x").substitute(x=1))
'''
    assert _read(tmp_path, source) == [None]


HOLES: List[tuple] = []


def _record_holes(self, node: cst.Call) -> None:
    if isinstance(node.func, cst.Name) and node.func.value == "run":
        found = sql_text(node.args[0].value, self.ctx)
        HOLES.extend((h.via, h.spec, h.numeric_spec) for h in found.holes)


HoleRecorder = _rule("XT002", {"visit_Call": _record_holes})


def test_holes_keep_their_format_spec(tmp_path):
    HOLES.clear()
    source = '''
run("SELECT * FROM t LIMIT %d" % n)
run("SELECT * FROM t WHERE a = %(a)s LIMIT %(n)d" % {"a": a, "n": n})
run(f"SELECT {col} FROM t LIMIT {n:d} -- {ratio:.2f} {name!r}")
run("SELECT {} LIMIT {:03d}".format(col, n))
run(f"SELECT * FROM t WHERE day = '{day:%Y-%m-%d}' AND total > {total:>12,.2f}")
'''
    result = _run(tmp_path, source, _rule("XT002", {"visit_Call": _record_holes}))
    assert not result.findings
    assert HOLES == [
        ("percent", "%d", True),
        ("percent", "%(a)s", False),
        ("percent", "%(n)d", True),
        ("fstring", "", False),
        ("fstring", "d", True),
        ("fstring", ".2f", True),
        ("fstring", "", False),
        ("format", "", False),
        ("format", "03d", True),
        ("fstring", "%Y-%m-%d", False),
        ("fstring", ">12,.2f", True),
    ]

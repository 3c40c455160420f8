"""BL303 sql-injection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst
import sqlglot.expressions as exp
from backendlint_rules._sql_holes import (
    ENUM_BASES,
    NUMERIC,
    UNSAFE,
    Facts,
    HoleJudge,
    Verdict,
    hole_code,
    membership_names,
    terminates,
)
from backendlint_rules._sql_roles import CLAUSE, IDENTIFIER, ORDER, VALUE, hole_roles
from backendlint_rules._sql_sinks import (
    ASYNCPG_METHODS,
    COMPOSITION,
    DATABASES_METHODS,
    DBAPI_METHODS,
    DBAPI_MODULES,
    DJANGO_RAWSQL,
    PANDAS_FUNCTIONS,
    SQLALCHEMY_FUNCTIONS,
    SQLALCHEMY_METHODS,
    SqlSink,
    find_sql_sink,
)

from backendlint.api import Confidence, Rule, Severity, dotted_name
from backendlint.sql.extract import Hole, SqlText, sql_text
from backendlint.sql.parse import ParsedSql, parse_sql

_NOSEC = re.compile(r"#[^\n]*?\bnosec\b([^#\n]*)", re.IGNORECASE)
_NOSEC_CODES = re.compile(r"\bBL?\d{3}\b", re.IGNORECASE)
_OUR_NOSEC = {"B608", "B610", "B611", "BL303"}

#: Statements sqlglot keeps as an opaque Command that are still SQL worth judging.
_COMMAND = re.compile(
    r"""^\s*(?:
      SET\s+(?:(?:LOCAL|SESSION)\s+)?(?:TIME\s+ZONE|ROLE|SESSION\s+AUTHORIZATION|NAMES|TRANSACTION|CONSTRAINTS|[a-z_][\w.]*\s*(?:=|\bTO\b))
    | (?:CREATE|ALTER|DROP)\s+(?:ROLE|USER|DATABASE|SCHEMA|EXTENSION|GROUP|TABLESPACE|SEQUENCE|TYPE|DOMAIN|FUNCTION
        |PROCEDURE|TRIGGER|VIEW|MATERIALIZED\s+VIEW|INDEX|UNIQUE\s+INDEX|TABLE|SERVER|POLICY|PUBLICATION|SUBSCRIPTION|OR\s+REPLACE)\b
    | EXPLAIN\s+(?:ANALYZE|VERBOSE|\(|SELECT|WITH|INSERT|UPDATE|DELETE|__hole\d+__)
    | VACUUM\b | REINDEX\s+(?:TABLE|INDEX|DATABASE|SCHEMA|SYSTEM)\b | CLUSTER\b
    | REFRESH\s+MATERIALIZED\s+VIEW\b | LOCK\s+TABLE\b | CALL\s+[\w."]+\s*\(
    | COPY\s+(?:\(|[\w."]+\s*(?:\(|FROM\b|TO\b)) | COMMENT\s+ON\b | TRUNCATE\b | GRANT\b | REVOKE\b
    | DISCARD\s+(?:ALL|PLANS|SEQUENCES|TEMP|TEMPORARY)\b | RESET\s+(?:ALL\b|[\w.]+\s*;?\s*$)
    | DEALLOCATE\b | PREPARE\s+\w+\s*(?:AS\b|\() | EXECUTE\s+\w+\s*(?:\(|;|$) | EXEC\s+[\w.]+
    | SAVEPOINT\s+\w+ | RELEASE\s+(?:SAVEPOINT\s+)?\w+\s*;?\s*$ | BEGIN\s*(?:;|$|TRANSACTION\b|WORK\b|ISOLATION\b)
    | START\s+TRANSACTION\b | DO\s+\$ | ANALYZE\b | ATTACH\s+(?:DATABASE\s+)?' | DETACH\s+(?:DATABASE\s+)?\w
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_LISTEN = re.compile(r"^\s*(LISTEN|UNLISTEN|NOTIFY)\s+[\w\"]+\s*(?:,\s*'[^']*'\s*)?;?\s*$", re.IGNORECASE)
_UTILITY_COMMAND = re.compile(
    r"^\s*(?:(SET)\b(?:\s+(LOCAL)\b)?|(?:CREATE|ALTER|DROP)\s+(DATABASE|ROLE|USER)\b)", re.IGNORECASE
)

_STATEMENTS = (
    exp.Query, exp.DML, exp.DDL, exp.Set, exp.Pragma, exp.Grant, exp.Revoke, exp.TruncateTable,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Use, exp.Describe, exp.Show, exp.Analyze,
    exp.Drop, exp.Alter, exp.Comment, exp.Execute, exp.Refresh, exp.Copy, exp.Merge, exp.Attach, exp.Detach,
)
#: Sinks whose SQL may be a fragment of a statement (a condition, a column, an ORDER BY term).
_FRAGMENT_SINKS = {"text", "literal_column", "rawsql", "extra", "composition"}
_WRAPS = (
    ("SELECT * FROM __frame__ WHERE ", ""),
    ("SELECT * FROM __frame__ ORDER BY ", ""),
    ("SELECT ", " FROM __frame__"),
    ("SELECT * FROM ", ""),
)
_VIA = {
    "fstring": "an f-string",
    "format": "str.format()",
    "percent": "%-formatting",
    "concat": "concatenation",
    "join": "join()",
    "template": "Template.substitute()",
}
#: Every attribute name a sink call can end in (a cheap test before resolving the call).
_SINK_ATTRIBUTES = frozenset(
    [*DBAPI_METHODS, *ASYNCPG_METHODS, *DATABASES_METHODS, *SQLALCHEMY_METHODS, "raw", "extra", "exec_driver_sql"]
    + [name.rsplit(".", 1)[-1] for name in (*SQLALCHEMY_FUNCTIONS, *DJANGO_RAWSQL, *PANDAS_FUNCTIONS, *COMPOSITION)]
)
_QMARK = ("sqlite3", "aiosqlite", "pyodbc", "duckdb")
_NAMED = ("oracledb", "cx_Oracle")
_SETTINGS = {"TIME ZONE": "TimeZone", "ROLE": "role", "NAMES": "client_encoding", "SESSION AUTHORIZATION": "session_authorization"}


@dataclass(frozen=True)
class Options:
    honour_nosec: bool = True
    sanitizers: Tuple[str, ...] = ()


@dataclass
class _Finding:
    holes: List[Tuple[Hole, Verdict, str]]
    text: SqlText
    utility: Optional[Tuple[str, str, bool]]


class SqlInjection(Rule):
    """SQL text built from values by string formatting, sent to the database.

    ## What it does
    Flags a call that sends SQL to a database — a **sink** — when the SQL was built with an
    f-string, `%`, `str.format()`, `+`/`+=`, `join()` or `string.Template.substitute()` from
    a part that is not a constant. Sinks: DB-API `execute`/`executemany`/`mogrify` and sqlite3
    `executescript` (psycopg 2/3, sqlite3, pymysql, MySQLdb, pyodbc, oracledb...), Django
    `connection.cursor()`, `Manager.raw()`, `RawSQL()` and `QuerySet.extra()`, SQLAlchemy
    `text()`, `literal_column()`, `exec_driver_sql()` and 1.x `execute(str)`, asyncpg
    `fetch`/`fetchrow`/`fetchval`/`execute`/`executemany`/`prepare`/`cursor`, `databases`,
    aiosqlite/aiopg/aiomysql, pandas `read_sql`/`read_sql_query`, and psycopg's
    `sql.SQL(<built string>)`. Names are resolved through imports and local bindings
    (`q = f"..."; q += "..."; cur.execute(q)`); a cursor whose origin cannot be seen is
    recognised by its name (`cursor`, `cur`, `conn`...) and reported with medium confidence.

    The assembled text, with every unknown part replaced by a placeholder, must parse as SQL
    with sqlglot (fragments passed to `text()`, `RawSQL()` or `extra()` as a condition,
    column or ORDER BY term): prose that merely contains "select ... from" is never flagged,
    nor are log and exception messages, which are not sinks.

    Not flagged — each hole is judged, following local assignments (every assignment that
    may reach the sink), `list.append()` accumulation, comprehensions and loops:
    - constants: literals, module and class constants (`UPPER_CASE` names, also imported
      ones and `settings.X`), deployment configuration (`os.environ[...]`, `os.getenv()`),
      conditionals between literals, enum members (`self.value` in an `Enum`,
      `TextChoices`), Django model metadata (`Model._meta.db_table`), SQL and constants of
      the Django database backend (`connection.ops.for_update_sql()`,
      `connection.features.bare_select_suffix`) and `__tablename__`;
    - formatting that builds the bound parameters, not the SQL
      (`cur.execute(q, ("%" + term + "%",))`) and generated placeholders
      (`", ".join(["%s"] * len(ids))`, `"$" + str(i)` over `range()`);
    - `psycopg.sql` composition (`sql.SQL("... {}").format(sql.Identifier(x))`),
      `connection.ops.quote_name(x)` / schema-editor `quote_name` / `quote_ident`;
    - ORM-compiled SQL (`sql, params = qs.query.sql_with_params()`, `compiler.as_sql()`);
    - values checked against an allow-list: `if col not in ALLOWED: raise`, `assert col in
      ALLOWED`, `if col in ALLOWED:` around the call, `ORDER_BY[key]` / `.get(key, default)`
      lookups in a constant mapping, `re.fullmatch(...)` / `.isidentifier()` checks and
      `Literal[...]` parameters;
    - `text(...)` that does not resolve to SQLAlchemy (an HTML builder's `text(f"Page {n}")`).

    Holes that can only be numbers — `int(...)`, `len(...)`, float and bool values, `%d` or
    `{n:d}` formatting, parameters annotated `int` — are reported with **low** severity,
    and the message says so. Utility statements that cannot take bind parameters (`SET`,
    `SET LOCAL`, `CREATE/ALTER/DROP DATABASE/ROLE/USER`, `LISTEN`, `NOTIFY`) get a message
    with the way to pass the value safely.

    ## Why is this bad
    A value formatted into SQL text becomes SQL: a name such as `x' OR '1'='1` or
    `1; DROP TABLE users` changes what the statement does, and quoting by hand breaks on the
    first quote or backslash. Bound parameters are sent apart from the SQL text and can never
    change its meaning; identifiers, which cannot be parameters, must be quoted by the driver
    or chosen from a fixed list.

    ## Example
    ```python
    def find_customers(cursor, name, sort):
        cursor.execute(f"SELECT id, email FROM customers WHERE name = '{name}' ORDER BY {sort}")
        return cursor.fetchall()
    ```

    ## Use instead
    ```python
    SORTS = {"name": "name", "newest": "created_at DESC"}

    def find_customers(cursor, name, sort):
        cursor.execute(
            f"SELECT id, email FROM customers WHERE name = %s ORDER BY {SORTS.get(sort, 'id')}",
            (name,),
        )
        return cursor.fetchall()
    ```
    For identifiers with psycopg: `sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))`;
    with Django: `connection.ops.quote_name(table)`; for a time zone:
    `SELECT set_config('TimeZone', %s, true)`.

    ## Options
    - `honour-nosec` (default `true`): a `# nosec` comment (bare, or naming `B608`, `B610`,
      `B611` or `BL303`) on the sink's statement or on the assignment that built the SQL
      suppresses the finding, as projects that used bandit already carry them.
    - `sanitizers` (default `[]`): qualified names, dotted names or method names of the
      project's own functions that make a value safe to interpolate (for example
      `"myapp.db.quote_identifier"`).

    ## References
    - [CWE-89: SQL Injection](https://cwe.mitre.org/data/definitions/89.html)
    - [OWASP SQL Injection Prevention Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html)
    - psycopg documentation: [sql — SQL string composition](https://www.psycopg.org/psycopg3/docs/api/sql.html)
    - Django documentation: [Performing raw SQL queries](https://docs.djangoproject.com/en/stable/topics/db/sql/)
    - SQLAlchemy documentation: [Using Textual SQL](https://docs.sqlalchemy.org/en/20/tutorial/dbapi_transactions.html)
    """

    code = "BL303"
    name = "sql-injection"
    message = "{holes} is interpolated into the SQL passed to {sink} with {via}; {fix}"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    tags = ("security", "sql")
    cwe = 89
    requires_text = (
        "execute", "mogrify", "raw(", "RawSQL", "extra(", "sqlalchemy", "sqlmodel", "fetch", "asyncpg",
        "read_sql", "SQL(", "databases", "iterate",
    )
    Options = Options

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx)
        self.facts = Facts()
        self._module: Optional[cst.Module] = None
        self._positive_bodies: Dict[int, frozenset] = {}
        self._check_nosec = self.options.honour_nosec and "nosec" in ctx.file.source.lower()
        self._nosec_values: Set[int] = set()
        self._sanitizers = frozenset(self.options.sanitizers)

    # -- facts gathered on the way -------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        self._module = node

    def _scope(self) -> cst.CSTNode:
        function = self.ctx.function
        if function is not None:
            return function.node
        return self._module if self._module is not None else cst.Module([])

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for base in node.bases:
            name = self.ctx.qualname(base.value)
            dotted = dotted_name(base.value)
            if name in ENUM_BASES or (dotted is not None and dotted in self.facts.enum_classes):
                self.facts.enum_classes.add(node.name.value)
                return

    def visit_Assign(self, node: cst.Assign) -> None:
        scope = id(self._scope())
        for target in node.targets:
            if isinstance(target.target, (cst.Tuple, cst.List)):
                for index, element in enumerate(target.target.elements):
                    if isinstance(element.value, cst.Name):
                        self.facts.unpacked.setdefault((scope, element.value.value), []).append((node.value, index))

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, (cst.Tuple, cst.List)):
            scope = id(self._scope())
            for element in node.target.elements:
                if isinstance(element.value, cst.Name):
                    self.facts.loops.setdefault((scope, element.value.value), []).append(node)

    def visit_If(self, node: cst.If) -> None:
        positive = membership_names(None, node.test, positive=True, ctx=self.ctx)
        if positive:
            self._positive_bodies[id(node.body)] = frozenset(positive)

    def leave_If(self, node: cst.If) -> None:
        # `if col not in ALLOWED: raise` makes `col` safe for the code after the `if`.
        negative = membership_names(None, node.test, positive=False, ctx=self.ctx)
        if negative:
            scope = id(self._scope())
            for name in terminates(node.body, negative):
                self.facts.guarded.add((scope, name))

    def visit_Assert(self, node: cst.Assert) -> None:
        scope = id(self._scope())
        for name in membership_names(None, node.test, positive=True, ctx=self.ctx):
            self.facts.guarded.add((scope, name))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._enter_body(node)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._leave_body(node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._enter_body(node)
        self._note_nosec(node)

    def leave_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._leave_body(node)

    def _enter_body(self, node: cst.CSTNode) -> None:
        names = self._positive_bodies.get(id(node))
        if names:
            self.facts.positive.append(names)

    def _leave_body(self, node: cst.CSTNode) -> None:
        if self._positive_bodies.pop(id(node), None) and self.facts.positive:
            self.facts.positive.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._note_nosec(node)

    def _note_nosec(self, node: cst.CSTNode) -> None:
        if not self._check_nosec:
            return
        code = cst.Module([]).code_for_node(node.with_changes(leading_lines=()) if isinstance(node, cst.SimpleStatementLine) else node)
        if not _nosec_applies(code):
            return
        for small in getattr(node, "body", ()):
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                self._nosec_values.add(id(small.value))
            elif isinstance(small, cst.AugAssign):
                self._nosec_values.add(id(small))

    # -- sinks -----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value in ("append", "extend", "insert"):
            args = [a.value for a in node.args if a.keyword is None and not a.star]
            arg = args[1] if func.attr.value == "insert" and len(args) > 1 else (args[0] if args else None)
            if arg is not None:
                key = (id(self._scope()), func.value.value)
                self.facts.appends.setdefault(key, []).append((func.attr.value, arg))
            return
        if isinstance(func, cst.Attribute) and func.attr.value not in _SINK_ATTRIBUTES:
            return
        sink = find_sql_sink(node, self.ctx)
        if sink is None or sink.kind == "identifier":
            return
        pieces: Sequence[cst.BaseExpression] = [sink.sql] if sink.sql is not None else sink.pieces
        judge = HoleJudge(self.ctx, self.facts, self._scope(), self._sanitizers)
        findings: List[_Finding] = []
        for piece in pieces:
            found = self._judge_piece(piece, sink, judge)
            if found is not None:
                findings.append(found)
        if not findings or self._suppressed(findings):
            return
        self._report(sink, findings)

    def _judge_piece(self, piece: cst.BaseExpression, sink: SqlSink, judge: HoleJudge) -> Optional[_Finding]:
        text = sql_text(piece, self.ctx)
        if text is None or not text.dynamic:
            return None
        if "composition" in text.kinds and sink.kind != "composition":
            return None  # a psycopg composition is judged where its sql.SQL(...) is called
        shape = self._as_sql(text, sink)
        if shape is None:
            return None
        parsed, utility = shape
        roles = hole_roles(parsed.statements if parsed is not None else (), text.text)
        judged = []
        for number, hole in enumerate(text.holes, start=1):
            if hole.via == "composition":
                continue  # sql.Identifier / sql.Literal / sql.Placeholder: quoted by psycopg
            verdict = judge.hole(hole)
            if verdict.level >= NUMERIC:
                judged.append((hole, verdict, roles.get(number, VALUE)))
        if not judged or judge.exhausted:
            return None
        return _Finding(judged, text, utility)

    def _as_sql(self, text: SqlText, sink: SqlSink) -> Optional[Tuple[Optional[ParsedSql], Optional[Tuple[str, str, bool]]]]:
        """``(parsed, utility)`` when ``text`` is SQL (``utility`` for statements that take
        no bind parameters: ``(kind, setting, local)``), else ``None``."""
        listen = _LISTEN.match(text.text)
        if listen:
            return None, (listen.group(1).upper(), "", False)
        dialect = self.ctx.file.dialect
        parsed = text.parse(dialect)
        if parsed is not None and all(_is_statement(s) for s in parsed.statements):
            return parsed, _utility(parsed.statements)
        if sink.kind in _FRAGMENT_SINKS:
            for before, after in _WRAPS:
                wrapped = parse_sql(before + text.text + after, dialect)
                if wrapped is not None and len(wrapped.statements) == 1 and isinstance(wrapped.statements[0], exp.Select):
                    return wrapped, None
        return None

    def _suppressed(self, findings: Sequence[_Finding]) -> bool:
        if not self._check_nosec:
            return False
        if _nosec_applies(self._statement_code()):
            return True
        return any(id(origin) in self._nosec_values for f in findings for origin in f.text.origins)

    def _statement_code(self) -> str:
        statement = self.ctx.statement
        if isinstance(statement, cst.SimpleStatementLine):
            return cst.Module([]).code_for_node(statement.with_changes(leading_lines=()))
        body = getattr(statement, "body", None)
        header = getattr(body, "header", None)
        comment = getattr(header, "comment", None)
        return comment.value if comment is not None else ""

    # -- the message -----------------------------------------------------------------------
    def _report(self, sink: SqlSink, findings: Sequence[_Finding]) -> None:
        holes = [item for f in findings for item in f.holes]
        risky = [item for item in holes if item[1].level == UNSAFE]
        shown = risky or holes
        described = list(dict.fromkeys(_described(h, v) for h, v, _ in shown))
        names = _names(described)
        verb = "is" if len(described) == 1 else "are"
        vias = sorted({_VIA.get(h.via, h.via) for h, _, _ in shown})
        where = _sink_name(sink)
        style = self._placeholders(sink, findings[0].text.text)
        utility = next((f.utility for f in findings if f.utility is not None), None)
        if utility is not None:
            fix = _utility_fix(utility, style)
        elif any(_printed_query(h.node) for h, _, _ in shown):
            fix = (
                "a printed QuerySet.query is not escaped: use `sql, params = queryset.query.sql_with_params()` "
                "and pass `params` to the call"
            )
        elif not risky:
            fix = f"pass values as bound parameters: {style[1]}"
        else:
            fix = _fix(sink, {role for _, _, role in shown}, style, self._root(sink))
        message = f"{names} {verb} interpolated into the SQL passed to `{where}` with {' and '.join(vias)}; "
        severity = Severity.HIGH
        if risky:
            message += fix
        else:
            severity = Severity.LOW
            it = "it" if len(described) == 1 else "they"
            message += f"{it} can only be a number, so the risk is low, but {fix}"
        confidence = Confidence.HIGH if sink.resolved else Confidence.MEDIUM
        self.report(sink.call, message, severity=severity, confidence=confidence)

    def _root(self, sink: SqlSink) -> Optional[str]:
        path = self.ctx.resolve(sink.call.func) or ""
        for module in DBAPI_MODULES:
            if path == module or path.startswith(module + "."):
                return module
        return None

    def _placeholders(self, sink: SqlSink, text: str) -> Tuple[str, str]:
        """``(token, advice)`` for bound parameters in this sink's placeholder style."""
        if sink.library == "asyncpg":
            return "$1", "`$1`, `$2` placeholders and the values as arguments"
        if sink.library == "databases":
            return ":name", "`:name` placeholders and a `values={...}` dict"
        if sink.library == "sqlalchemy":
            if sink.kind == "exec_driver_sql":
                return "%s", "the driver's placeholders (`%s` or `?`) and a parameters tuple"
            if sink.kind == "execute":
                return ":name", "text() with `:name` placeholders and a parameters dict"
            return ":name", "`:name` placeholders and `.bindparams()` or a parameters dict"
        if sink.library == "django":
            return "%s", "`%s` placeholders and `params=[...]`"
        if sink.library == "pandas":
            return "%s", "the driver's placeholders and `params=`"
        if sink.library == "psycopg":
            return "%s", "a `%s` placeholder or sql.Literal() in sql.SQL(...).format()"
        root = self._root(sink)
        if sink.kind == "executescript":
            return "?", "run each statement with execute() and `?` placeholders (executescript() takes no parameters)"
        if root in _QMARK or (root is None and "?" in text):
            return "?", "`?` placeholders and a parameters tuple"
        if root in _NAMED:
            return ":name", "`:name` placeholders and a parameters dict"
        if root is not None or "%s" in text or "%(" in text:
            return "%s", "`%s` placeholders and a parameters tuple"
        return "%s", "the driver's placeholders (`%s` or `?`) and a parameters tuple"


# -- helpers ---------------------------------------------------------------------------------


def _is_statement(statement: exp.Expression) -> bool:
    if isinstance(statement, exp.Command):
        return bool(_COMMAND.match(statement.sql()))
    return isinstance(statement, _STATEMENTS)


def _utility(statements: Sequence[exp.Expression]) -> Optional[Tuple[str, str, bool]]:
    """``(kind, setting, local)`` for a statement that cannot take bind parameters."""
    for statement in statements:
        if isinstance(statement, exp.Set):
            items = statement.expressions
            target = items[0].this if items and isinstance(items[0], exp.SetItem) else None
            setting = target.this.name if isinstance(target, exp.EQ) and isinstance(target.this, exp.Column) else "setting"
            local = "LOCAL" in statement.sql().upper().split("=")[0]
            return "SET", setting, local
        if isinstance(statement, (exp.Create, exp.Drop)) and str(statement.args.get("kind") or "").upper() in ("DATABASE", "ROLE", "USER"):
            return str(statement.args.get("kind")).upper(), "", False
        if isinstance(statement, exp.Command):
            match = _UTILITY_COMMAND.match(statement.sql())
            if match and match.group(1):
                rest = statement.sql()[match.end():].strip().upper()
                setting = next((v for k, v in _SETTINGS.items() if rest.startswith(k)), rest.split(" ", 1)[0].lower() or "setting")
                return "SET", setting, bool(match.group(2))
            if match and match.group(3):
                return match.group(3).upper(), "", False
    return None


def _utility_fix(utility: Tuple[str, str, bool], style: Tuple[str, str]) -> str:
    kind, setting, local = utility
    token = style[0]
    if kind == "SET":
        return (
            f"SET cannot take bind parameters: use `SELECT set_config('{setting}', {token}, "
            f"{'true' if local else 'false'})` with the value bound, or sql.SQL('SET ...').format(sql.Literal(value))"
        )
    if kind in ("LISTEN", "UNLISTEN", "NOTIFY"):
        return (
            f"{kind} takes no bind parameters: quote the channel with sql.Identifier(), or send with "
            f"`SELECT pg_notify({token}, {_second(token)})`"
        )
    return (
        f"{kind.lower()} names cannot be bound parameters: validate the name and quote it with sql.Identifier() "
        "(or connection.ops.quote_name()); pass a password with sql.Literal()"
    )


def _fix(sink: SqlSink, roles: Set[str], style: Tuple[str, str], root: Optional[str]) -> str:
    parts = []
    if VALUE in roles:
        parts.append(f"pass values as bound parameters: {style[1]}")
    if IDENTIFIER in roles:
        if sink.library == "psycopg" or (root or "").startswith("psycopg"):
            parts.append("compose identifiers with sql.SQL(...).format(sql.Identifier(name))")
        elif sink.library == "django":
            parts.append("quote identifiers with connection.ops.quote_name() after checking them against an allow-list")
        else:
            parts.append("check identifiers against an allow-list of known names (they cannot be bound parameters)")
    if ORDER in roles:
        parts.append("map the requested sort through an allow-list such as `ORDER_BY[key]`")
    if CLAUSE in roles:
        parts.append(f"build conditions from constant SQL and pass values as bound parameters: {style[1]}")
    return "; ".join(parts) if parts else f"pass values as bound parameters: {style[1]}"


def _described(hole: Hole, verdict: Verdict) -> str:
    """The hole's code, and where its value comes from when that is elsewhere."""
    code = hole_code(hole.node)
    quoted = re.search(r"`([^`]+)`", verdict.why)
    origin = quoted.group(1) if quoted else ""
    if verdict.level == UNSAFE and origin and origin != code:
        return f"`{code}` (from `{origin}`)"
    return f"`{code}`"


def _printed_query(node: Optional[cst.CSTNode]) -> bool:
    """``qs.query`` / ``str(qs.query)``: Django's printable, unescaped rendering of a query."""
    if isinstance(node, cst.Call) and dotted_name(node.func) == "str" and len(node.args) == 1:
        node = node.args[0].value
    return isinstance(node, cst.Attribute) and node.attr.value == "query"


def _names(described: Sequence[str]) -> str:
    shown = ", ".join(described[:3])
    return shown + (f" and {len(described) - 3} more" if len(described) > 3 else "")


def _sink_name(sink: SqlSink) -> str:
    name = _display(sink.call.func)
    if len(name) > 48:
        name = "…" + name[-47:]
    return f"{name}()"


def _display(node: cst.CSTNode) -> str:
    """``Order.objects.filter(...).extra`` for a call chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_display(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_display(node.func)}(...)"
    if isinstance(node, cst.Subscript):
        return f"{_display(node.value)}[...]"
    if isinstance(node, cst.Await):
        return _display(node.expression)
    return "(...)"


def _second(token: str) -> str:
    return {"$1": "$2", ":name": ":payload"}.get(token, token)


def _nosec_applies(code: str) -> bool:
    for match in _NOSEC.finditer(code):
        codes = {c.upper() for c in _NOSEC_CODES.findall(match.group(1))}
        if not codes or codes & _OUR_NOSEC:
            return True
    return False

"""BL101 n-plus-one: options, and reasoning over a hand-made schema catalogue (shapes the
fixture project's models cannot all express)."""

from __future__ import annotations

import dataclasses
import tempfile
import textwrap
from pathlib import Path
from typing import List, Tuple

import pytest
from backendlint_rules.n_plus_one import NPlusOne

from backendlint.discovery import SourceFile
from backendlint.engine.lint import Job, lint_file
from backendlint.project.catalog import Catalog, Model, Relation
from backendlint.project.facts import ProjectFacts
from backendlint.types import Severity
from tests.helpers.lint import FIXTURES, found, lint, settings_for


def _catalog() -> Catalog:
    catalog = Catalog()
    models = [
        Model("Author", "lib.models.Author", "django", "author", fields=("id", "name"),
              relations=(Relation("books", "reverse_fk", "lib.models.Book", many=True),
                         Relation("agent", "fk", "lib.models.Agent", column="agent_id"))),
        Model("Agent", "lib.models.Agent", "django", "agent", fields=("id", "name"),
              relations=(Relation("agency", "fk", "lib.models.Agency", column="agency_id"),)),
        Model("Agency", "lib.models.Agency", "django", "agency", fields=("id", "name")),
        Model("Book", "lib.models.Book", "django", "book", fields=("id", "title"),
              relations=(Relation("author", "fk", "lib.models.Author", column="author_id"),)),
        Model("Comment", "lib.models.Comment", "django", "comment", fields=("id", "object_id"),
              relations=(Relation("target", "generic_fk", ""),)),
        Model("User", "app.models.User", "sqlalchemy", "users", fields=("id",),
              relations=(Relation("orders", "relationship", "app.models.Order", many=True),
                         Relation("roles", "relationship", "app.models.Role", many=True, lazy="selectin"))),
        Model("Order", "app.models.Order", "sqlalchemy", "orders", fields=("id", "user_id"),
              relations=(Relation("items", "relationship", "app.models.Item", many=True),)),
        Model("Item", "app.models.Item", "sqlalchemy", "items", fields=("id",)),
        Model("Role", "app.models.Role", "sqlalchemy", "roles", fields=("id",)),
    ]
    for model in models:
        catalog.models[model.qualname] = model
    return catalog


def _lint(tmp_path: Path, source: str) -> List[Tuple[int, str]]:
    path = tmp_path / "m.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=("BL101", "BL001", "BL003"))
    job = Job(settings=settings, rules=(NPlusOne,), project=ProjectFacts((("catalog", _catalog()),)))
    result = lint_file(SourceFile(path, "m.py", "python"), job)
    return sorted((f.span.line, f.message) for f in result.findings)


def _lines(findings: List[Tuple[int, str]]) -> List[int]:
    return [line for line, _ in findings]


def test_generic_foreign_key_needs_prefetch(tmp_path):
    findings = _lint(tmp_path, """
        from lib.models import Comment
        def feed():
            for c in Comment.objects.all():
                print(c.target)
            for c in Comment.objects.prefetch_related("target"):
                print(c.target)
    """)
    assert _lines(findings) == [5]
    assert 'prefetch_related("target")' in findings[0][1]


def test_select_related_paths(tmp_path):
    findings = _lint(tmp_path, """
        from lib.models import Author, Book
        def covers():
            for b in Book.objects.select_related("author"):
                print(b.author.name, b.author.agent.name)
            for b in Book.objects.select_related("author__agent"):
                print(b.author.agent.name, b.author.agent.agency.name)
            for b in Book.objects.select_related():
                print(b.author.agent.agency.name)
            for b in Book.objects.select_related("author").select_related(None):
                print(b.author.name)
    """)
    assert _lines(findings) == [5, 7, 11]
    assert 'select_related("author__agent")' in findings[0][1]
    assert 'select_related("author__agent__agency")' in findings[1][1]


def test_prefetch_queryset_ordering_and_nested_rows(tmp_path):
    findings = _lint(tmp_path, """
        from django.db.models import Prefetch
        from lib.models import Author, Book
        def first_books():
            ordered = Author.objects.prefetch_related(Prefetch("books", queryset=Book.objects.order_by("title")))
            for a in ordered:
                print(a.books.first())
            nested = Author.objects.prefetch_related(
                Prefetch("books", queryset=Book.objects.select_related("author"), to_attr="book_list"))
            for a in nested:
                for b in a.book_list:
                    print(b.author.name)
            for a in Author.objects.prefetch_related("books"):
                for b in a.books.all():
                    print(b.author.name)
    """)
    assert _lines(findings) == [15]


def test_unknown_queryset_methods_make_loading_unknown(tmp_path):
    findings = _lint(tmp_path, """
        from lib.models import Book
        def custom():
            for b in Book.objects.with_authors():
                print(b.author.name)
            for b in Book.objects.filter(title="x").select_related(*FIELDS):
                print(b.author.name)
    """)
    assert findings == []


def test_sqlalchemy_loader_options(tmp_path):
    findings = _lint(tmp_path, """
        from sqlalchemy import select
        from sqlalchemy.orm import Session, contains_eager, defaultload, lazyload, selectinload
        from app.models import Order, User
        def load(session: Session, opts):
            for u in session.scalars(select(User).options(defaultload(User.orders).selectinload(Order.items))):
                for o in u.orders:
                    print(o.items)
            for u in session.scalars(select(User).join(User.orders).options(contains_eager(User.orders))):
                print(u.orders)
            for u in session.scalars(select(User).options(lazyload(User.roles))):
                print(u.roles)
            for u in session.scalars(select(User)):
                print(u.roles)
            for u in session.scalars(select(User).options(*opts)):
                print(u.orders)
    """)
    assert _lines(findings) == [7, 12]


def test_sqlalchemy_single_object_relationship(tmp_path):
    findings = _lint(tmp_path, """
        from sqlalchemy.orm import Session
        from app.models import User
        def items(session: Session, user_id):
            user = session.get(User, user_id)
            for order in user.orders:
                print(order.items)
    """)
    assert _lines(findings) == [7]  # the loop's own iterable is evaluated once


def test_rebinding_the_loop_variable(tmp_path):
    findings = _lint(tmp_path, """
        from lib.models import Book
        def refresh():
            for b in Book.objects.only("id"):
                b = Book.objects.select_related("author").get(pk=b.pk)
                print(b.title, b.author.name)
    """)
    assert _lines(findings) == [5]


def test_statements_api_lists_enclosing_statements(tmp_path):
    from backendlint.api import Rule

    seen = []

    class Probe(Rule):
        """## What it does\nx\n## Why is this bad\nx\n## Example\nx\n## Use instead\nx\n## Options\nx\n## References\nx"""

        code = "XS001"
        name = "probe"
        message = "m"

        def visit_Call(self, node) -> None:
            seen.append([type(s).__name__ for s in self.ctx.statements])

    path = tmp_path / "p.py"
    path.write_text("def f():\n    for x in y:\n        if x:\n            g(x)\n", encoding="utf-8")
    settings = dataclasses.replace(settings_for(tmp_path, ["BL"]), enabled=("XS001",))
    lint_file(SourceFile(path, "p.py", "python"), Job(settings=settings, rules=(Probe,)))
    assert seen == [["FunctionDef", "For", "If", "SimpleStatementLine"]]


# -- options, on the fixture project -------------------------------------------------------

ROOT = FIXTURES / "BL101"


def _run(tmp_path_factory=None, **rule_options):
    if not rule_options:
        return lint(ROOT, ["BL101"])
    directory = Path(tempfile.mkdtemp())
    config = directory / "backendlint.toml"
    lines = ["[rules.BL101]"] + [f"{k.replace('_', '-')} = {str(v).lower()}" for k, v in rule_options.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lint(ROOT, ["BL101"], config=config)


def _codes(**rule_options) -> set:
    return {key for key in found(_run(**rule_options)) if key[2] == "BL101"}


@pytest.fixture(scope="module")
def default_findings():
    return _codes()


def test_tests_and_migrations_are_skipped_by_default(default_findings):
    assert not any(path.startswith(("tests/", "shop/migrations/")) for path, _, _ in default_findings)


def test_include_tests_and_migrations(default_findings):
    extra = _codes(include_tests=True, include_migrations=True) - default_findings
    assert {path for path, _, _ in extra} == {"tests/report_checks.py", "shop/migrations/0002_backfill_totals.py"}


def test_write_loops_are_info_and_can_be_switched_off(default_findings):
    result = _run()
    writes = {(f.path, f.span.line) for f in result.findings if "writes to the database" in f.message}
    assert writes and all(f.severity == Severity.INFO for f in result.findings if "writes to" in f.message)
    without = _codes(write_loops=False)
    assert {(p, line) for p, line, _ in default_findings - without} == writes


def test_identity_map_option(default_findings):
    without = _codes(identity_map=False)
    removed = sorted(default_findings - without)
    assert removed == [
        ("billing/async_repo.py", 41, "BL101"),
        ("billing/repositories.py", 61, "BL101"),
        ("billing/repositories.py", 78, "BL101"),
    ]

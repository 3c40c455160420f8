"""BL102 behaviour that needs a project of its own: settings facts and options."""

from __future__ import annotations

from tests.helpers.lint import found, lint

VIEWSET = '''
from rest_framework import viewsets
from shop.models import Order


class OrderViewSet(viewsets.ModelViewSet):
    queryset = Order.objects.all()
'''

COMMAND = '''
from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    def handle(self, *args, **options):
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM shop_order")
            return cursor.fetchall()
'''


def _project(tmp_path, settings: str):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "settings.py").write_text(settings, encoding="utf-8")
    (tmp_path / "shop" / "api.py").write_text(VIEWSET, encoding="utf-8")
    return tmp_path


def test_drf_default_pagination_in_settings_paginates_every_viewset(tmp_path):
    root = _project(
        tmp_path,
        "INSTALLED_APPS = []\nREST_FRAMEWORK = {'DEFAULT_PAGINATION_CLASS': 'rest_framework.pagination.CursorPagination'}\n",
    )
    assert not found(lint(root, ["BL102"]))


def test_no_default_pagination_in_settings(tmp_path):
    root = _project(tmp_path, "INSTALLED_APPS = []\nREST_FRAMEWORK = {'PAGE_SIZE': 20}\n")
    assert found(lint(root, ["BL102"])) == {("shop/api.py", 6, "BL102")}


def test_settings_that_cannot_be_read_judge_nothing(tmp_path):
    root = _project(tmp_path, "from .base import *\nREST_FRAMEWORK = build_rest_framework()\n")
    assert not found(lint(root, ["BL102"]))


def test_batch_code_and_tests_only_when_included(tmp_path):
    commands = tmp_path / "shop" / "management" / "commands"
    commands.mkdir(parents=True)
    (commands / "export.py").write_text(COMMAND, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_export.py").write_text(COMMAND, encoding="utf-8")
    assert not found(lint(tmp_path, ["BL102"]))
    config = tmp_path / "backendlint.toml"
    config.write_text("[rules.BL102]\ninclude-batch = true\n", encoding="utf-8")
    assert found(lint(tmp_path, ["BL102"])) == {("shop/management/commands/export.py", 9, "BL102")}
    config.write_text("[rules.BL102]\ninclude-batch = true\ninclude-tests = true\n", encoding="utf-8")
    assert found(lint(tmp_path, ["BL102"])) == {
        ("shop/management/commands/export.py", 9, "BL102"),
        ("tests/test_export.py", 9, "BL102"),
    }


def test_messages_say_why_and_how_to_fix(tmp_path):
    (tmp_path / "views.py").write_text(
        "from django.db import connection\n"
        "def report(request):\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('SELECT a FROM x UNION SELECT a FROM y')\n"
        "        return c.fetchall()\n",
        encoding="utf-8",
    )
    (finding,) = lint(tmp_path, ["BL102"]).findings
    assert "UNION has no LIMIT of its own" in finding.message
    assert "LIMIT n" in finding.message and "keyset" in finding.message

"""Django settings facts: is a DRF default pagination class in effect?"""

from __future__ import annotations

import pytest

from backendlint.project import facts
from backendlint.project.django_settings import DjangoSettingsGatherer, read_settings
from tests.helpers.lint import settings_for


@pytest.mark.parametrize(
    "source, expected",
    [
        ("X = 1\n", None),
        ("INSTALLED_APPS = ['a']\n", {"settings": True, "drf": "absent"}),
        (
            "INSTALLED_APPS = []\nREST_FRAMEWORK = {'DEFAULT_PAGINATION_CLASS': 'rest_framework.pagination.PageNumberPagination'}\n",
            {"settings": True, "drf": "set"},
        ),
        ("REST_FRAMEWORK = {'PAGE_SIZE': 20}\n", {"settings": False, "drf": "missing"}),
        ("REST_FRAMEWORK = {'DEFAULT_PAGINATION_CLASS': None}\n", {"settings": False, "drf": "none"}),
        ("REST_FRAMEWORK = dict(DEFAULT_PAGINATION_CLASS=PAGINATOR)\n", {"settings": False, "drf": "set"}),
        ("REST_FRAMEWORK = {**BASE}\n", {"settings": False, "drf": "unknown"}),
        ("REST_FRAMEWORK = {'PAGE_SIZE': 1}\nREST_FRAMEWORK.update(extra)\n", {"settings": False, "drf": "unknown"}),
        ("REST_FRAMEWORK = {}\nREST_FRAMEWORK['DEFAULT_PAGINATION_CLASS'] = 'x.P'\n", {"settings": False, "drf": "set"}),
        ("REST_FRAMEWORK = build_settings()\n", {"settings": False, "drf": "unknown"}),
        ("def broken(:\n", None),
    ],
)
def test_read_settings(source, expected):
    assert read_settings(source) == expected


def _combine(per_file):
    return DjangoSettingsGatherer().combine(per_file)


def test_combine():
    assert _combine({}).drf_paginates() is None
    assert _combine({"app/settings.py": {"settings": True, "drf": "absent"}}).drf_paginates() is False
    assert _combine({"app/settings/base.py": {"settings": True, "drf": "missing"},
                     "app/settings/prod.py": {"settings": False, "drf": "set"}}).drf_paginates() is True
    assert _combine({"app/settings.py": {"settings": True, "drf": "unknown"}}).drf_paginates() is None
    # test settings alone do not describe the project
    assert _combine({"tests/settings.py": {"settings": True, "drf": "absent"}}).drf_paginates() is None


def test_gathered_through_the_project_pass(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "settings.py").write_text(
        "INSTALLED_APPS = ['rest_framework']\nREST_FRAMEWORK = {'PAGE_SIZE': 50}\n", encoding="utf-8"
    )
    (tmp_path / "shop" / "views.py").write_text("def index(request):\n    pass\n", encoding="utf-8")
    found = facts.gather_project(settings_for(tmp_path, ["BL"]), ["django_settings"]).get("django_settings")
    assert found.drf_paginates() is False
    assert found.sources == ("shop/settings.py",)

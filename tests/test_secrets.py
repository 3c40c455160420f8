"""Helpers of BL301 and the promise that no report format shows a secret."""

from __future__ import annotations

import math

import pytest
from backendlint_rules._secrets import (
    hex_entropy,
    is_secret_name,
    looks_like_secret,
    mask,
    provider_match,
    shannon_entropy,
)
from click.testing import CliRunner

from backendlint.cli import main
from tests.helpers.lint import lint

SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
PASSWORD = "Pg9rT2qLwX4v"


def test_entropy_values():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert shannon_entropy("8f364cf49a23") > 3.0  # why hex needs length >= 32
    assert hex_entropy("1234567890") == pytest.approx(shannon_entropy("1234567890") - 1.2 / math.log2(10))


def test_mask_never_returns_the_value():
    for value in (SECRET, PASSWORD, "abcdefgh", "short"):
        masked = mask(value)
        assert value not in masked
        assert len(masked.rstrip("…")) <= 4


@pytest.mark.parametrize(
    "value,target,expected",
    [
        (PASSWORD, "password", True),
        ("invalid_password", "INVALID_PASSWORD", False),
        ("registration/set_password.html", "template", False),
        ("django.contrib.auth.tokens.PasswordResetTokenGenerator", "token", False),
        ("refreshToken", "cookie", False),
        ("changeme123", "password", False),
        ("Your password is too short", "password", False),
        ("abcdefghijklmnop", "token", False),
        ("9f0d4c2e-6b1a-4f7e-8c3d-2a5b7e9f1c0d", "token", False),
        ("short", "password", False),
        ("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", "token", False),
        ("k8Fq2LmX9vRt4WzN", "token", True),
    ],
)
def test_looks_like_secret(value, target, expected):
    assert looks_like_secret(value, target) is expected


@pytest.mark.parametrize(
    "name,expected",
    [
        ("password", True),
        ("DB_PASSWORD", True),
        ("apiKey", True),
        ("SECRET_KEY", True),
        ("PASSWORD_FIELD", False),
        ("TOKEN_URL", False),
        ("client_id", False),
        ("revision", False),
        ("tokenizer", False),
        ("PASSWORD_CHARS", False),
    ],
)
def test_secret_names(name, expected):
    assert is_secret_name(name) is expected


def test_provider_patterns_skip_documentation_keys():
    assert provider_match("AKIAIOSFODNN7EXAMPLE") is None
    assert provider_match(SECRET) == ("Stripe key", SECRET)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_no_output_format_contains_the_secret(tmp_path, fmt, monkeypatch):
    (tmp_path / "settings.py").write_text(
        f'STRIPE_API_KEY = "{SECRET}"\nDATABASE_PASSWORD = "{PASSWORD}"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--select", "BL301", "--format", fmt, "--no-color", "."])
    assert "BL301" in result.output
    assert SECRET not in result.output
    assert PASSWORD not in result.output
    assert SECRET[:12] not in result.output


def test_test_code_reports_only_known_formats_unless_included(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conf.py").write_text(
        f'API_TOKEN = "{SECRET}"\n'
        'DB_PASSWORD = "Pg9!rT2qLw"\n'
        'URL = "postgresql://scott:Pg9rT2qLw@db.example.com/test"\n',
        encoding="utf-8",
    )
    (tmp_path / "backendlint.toml").write_text("[rules.BL301]\ninclude-tests = false\n", encoding="utf-8")
    low = lint(tmp_path, ["BL301"])
    assert [(f.span.line, f.severity.label) for f in low.findings] == [(1, "low")]
    (tmp_path / "backendlint.toml").write_text("[rules.BL301]\ninclude-tests = true\n", encoding="utf-8")
    high = lint(tmp_path, ["BL301"])
    assert [(f.span.line, f.severity.label) for f in high.findings] == [(1, "high"), (2, "high"), (3, "high")]


def test_nosec_is_an_option(tmp_path):
    (tmp_path / "app.py").write_text(f'API_TOKEN = "{SECRET}"  # nosec\n', encoding="utf-8")
    (tmp_path / "backendlint.toml").write_text("[rules.BL301]\nhonour-nosec = true\n", encoding="utf-8")
    assert not lint(tmp_path, ["BL301"]).findings
    (tmp_path / "backendlint.toml").write_text("[rules.BL301]\nhonour-nosec = false\n", encoding="utf-8")
    assert len(lint(tmp_path, ["BL301"]).findings) == 1

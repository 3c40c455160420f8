"""Documentation and options of the security rules."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backendlint.cli import main
from tests.helpers.lint import lint

SECTIONS = ("## What it does", "## Why is this bad", "## Example", "## Use instead", "## Options", "## References")


@pytest.mark.parametrize("code", ["BL201", "BL301", "BL302"])
def test_rule_command_prints_every_section(code):
    result = CliRunner().invoke(main, ["rule", code])
    assert result.exit_code == 0, result.output
    for section in SECTIONS:
        assert section in result.output


def test_missing_timeout_skips_tests_unless_included(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "client_check.py").write_text(
        "import requests\n\ndef fetch(url):\n    return requests.get(url)\n", encoding="utf-8"
    )
    (tmp_path / "backendlint.toml").write_text("[rules.BL201]\ninclude-tests = false\n", encoding="utf-8")
    assert not lint(tmp_path, ["BL201"]).findings
    (tmp_path / "backendlint.toml").write_text("[rules.BL201]\ninclude-tests = true\n", encoding="utf-8")
    messages = [f.message for f in lint(tmp_path, ["BL201"]).findings]
    assert messages == ["requests.get() has no timeout and can wait forever; pass timeout=(3.05, 27)"]


def test_socket_default_timeout_must_be_at_module_level(tmp_path):
    source = (
        "import socket\nimport smtplib\n\n"
        "def configure():\n    socket.setdefaulttimeout(10)\n\n"
        "def send(host):\n    return smtplib.SMTP(host)\n"
    )
    (tmp_path / "mailer.py").write_text(source, encoding="utf-8")
    (tmp_path / "backendlint.toml").write_text("[rules.BL201]\n", encoding="utf-8")
    assert len(lint(tmp_path, ["BL201"]).findings) == 1

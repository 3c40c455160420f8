"""Rule documentation is generated from the docstrings and cannot drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backendlint.cli import generated_pages
from backendlint.docs import REQUIRED_SECTIONS, render_markdown, sections
from backendlint.registry import default_registry

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "rules"


def test_generated_rule_pages_are_current():
    stale = []
    for name, text in generated_pages(default_registry()).items():
        page = PAGES / name
        if not page.is_file() or page.read_text(encoding="utf-8") != text:
            stale.append(name)
    assert not stale, f"stale rule pages {stale}: run `backendlint docs docs/rules`"


def test_every_rule_documents_every_section():
    for meta in default_registry().metas():
        found = sections(meta.doc)
        for section in REQUIRED_SECTIONS:
            assert found.get(section), f"{meta.code} lacks {section}"


def test_rule_command_prints_the_page():
    meta = default_registry().meta("BL401")
    proc = subprocess.run([sys.executable, "-m", "backendlint", "rule", "BL401"], capture_output=True, text=True, timeout=60)
    assert proc.stdout == render_markdown(meta)


def test_user_guide_documents_every_config_key_and_cli_option():
    import click

    from backendlint.cli import main
    from backendlint.config import _KEYS

    guide = ROOT / "docs"
    configuration = (guide / "configuration.md").read_text(encoding="utf-8")
    for key in _KEYS:
        assert f"| `{key}` |" in configuration, f"docs/configuration.md lacks the key {key!r}"
    cli = (guide / "cli.md").read_text(encoding="utf-8")
    for name in ("check", "baseline"):
        command = main.commands[name]
        for param in command.params:
            if isinstance(param, click.Option):
                for flag in param.opts:
                    if flag.startswith("--") and flag != "--help":
                        assert f"`{flag}" in cli or f", {flag}" in cli, f"docs/cli.md lacks {name} {flag}"
    index = (guide / "README.md").read_text(encoding="utf-8")
    for page in sorted(guide.glob("*.md")):
        if page.name != "README.md":
            assert f"({page.name})" in index, f"docs/README.md does not link {page.name}"

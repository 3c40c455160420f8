"""The project pass: gatherers read the files they want once, cached by content hash."""

from __future__ import annotations

from typing import Any, Mapping

import pytest

from backendlint.project import facts
from tests.helpers.lint import settings_for


class CountingGatherer:
    """Collects the names of functions defined in files that mention ``track``."""

    name = "test-counting"

    def __init__(self) -> None:
        self.reads = 0

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        return kind == "python" and "track" in text

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        self.reads += 1
        if "explode" in text:
            raise ValueError("unreadable facts")
        return sorted(line.split()[1].split("(")[0] for line in text.splitlines() if line.startswith("def "))

    def combine(self, per_file: Mapping[str, Any]) -> Any:
        return {path: names for path, names in sorted(per_file.items())}


@pytest.fixture
def gatherer(monkeypatch):
    found = CountingGatherer()
    monkeypatch.setitem(facts._GATHERERS, found.name, found)
    return found


def test_facts_are_gathered_from_the_whole_root_and_cached(tmp_path, gatherer):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("# track\ndef one():\n    pass\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def other():\n    pass\n", encoding="utf-8")
    (tmp_path / "bad.py").write_text("# track explode\n", encoding="utf-8")
    settings = settings_for(tmp_path, ["BL"])
    cache = tmp_path / ".backendlint_cache"

    first = facts.gather_project(settings, [gatherer.name], cache, "code")
    assert first.get(gatherer.name) == {"app/a.py": ["one"]}
    assert first.get("no-such-facts") is None
    assert gatherer.reads == 2

    second = facts.gather_project(settings, [gatherer.name], cache, "code")
    assert second.get(gatherer.name) == first.get(gatherer.name)
    assert gatherer.reads == 2, "unchanged files are not read again"
    assert second.digest() == first.digest()

    (tmp_path / "app" / "a.py").write_text("# track\ndef one():\n    pass\ndef two():\n    pass\n", encoding="utf-8")
    third = facts.gather_project(settings, [gatherer.name], cache, "code")
    assert third.get(gatherer.name) == {"app/a.py": ["one", "two"]}
    assert gatherer.reads == 3
    assert third.digest() != first.digest()

    other_code = facts.gather_project(settings, [gatherer.name], cache, "other-code")
    assert gatherer.reads == 5, "a new engine version re-reads every file"
    assert other_code.digest() != third.digest()


def test_no_requested_facts_means_no_pass(tmp_path, gatherer):
    (tmp_path / "a.py").write_text("# track\ndef one():\n    pass\n", encoding="utf-8")
    assert facts.gather_project(settings_for(tmp_path, ["BL"]), [], None) is facts.EMPTY
    assert gatherer.reads == 0

"""Worker processes and the findings cache change nothing but speed."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
from pathlib import Path

from backendlint.cli import lint_paths
from backendlint.engine import cache as cache_module
from backendlint.registry import Registry, default_registry
from backendlint.reporters import ReportOptions, reporters
from tests.helpers.lint import FIXTURES, settings_for

SWALLOW = "def f{n}():\n    try:\n        g()\n    except Exception:\n        pass\n"


def _tree(tmp_path: Path, files: int = 40) -> Path:
    root = tmp_path / "proj"
    for index in range(files):
        path = root / f"pkg{index % 4}" / f"m{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SWALLOW.format(n=index) * (1 + index % 3), encoding="utf-8")
    (root / "pkg0" / "broken.py").write_text("def x(:\n", encoding="utf-8")
    return root


def _json(result) -> str:
    return reporters()["json"](result, ReportOptions())


def _run(root: Path, registry: Registry = None, **kwargs):
    registry = registry or default_registry()
    settings = settings_for(root, ["BL"])
    return lint_paths([root], settings, registry, **kwargs)


def test_jobs_and_cache_give_identical_output(tmp_path):
    root = _tree(tmp_path)
    baseline = _json(_run(root, jobs=1))
    assert json.loads(baseline)["summary"]["findings"] == 80
    assert _json(_run(root, jobs=2)) == baseline
    cache_dir = tmp_path / "cache"
    assert _json(_run(root, jobs=2, cache_dir=cache_dir)) == baseline  # cold
    assert _json(_run(root, jobs=2, cache_dir=cache_dir)) == baseline  # warm
    assert _json(_run(root, jobs=1, cache_dir=cache_dir)) == baseline


def test_parallel_run_over_the_fixtures_matches_sequential(tmp_path):
    sequential = _json(_run(FIXTURES, jobs=1))
    assert _json(_run(FIXTURES, jobs=2)) == sequential


def test_warm_run_reuses_results(tmp_path, monkeypatch):
    root = _tree(tmp_path, files=30)
    cache_dir = tmp_path / "cache"
    _run(root, cache_dir=cache_dir)
    calls = []
    import backendlint.engine.runner as runner

    original = runner.lint_file
    monkeypatch.setattr(runner, "lint_file", lambda src, job: calls.append(src.relpath) or original(src, job))
    _run(root, cache_dir=cache_dir)
    assert calls == []
    (root / "pkg1" / "m1.py").write_text(SWALLOW.format(n=1) + SWALLOW.format(n=99), encoding="utf-8")
    result = _run(root, cache_dir=cache_dir)
    assert calls == ["pkg1/m1.py"]
    assert sum(1 for f in result.findings if f.path == "pkg1/m1.py") == 2


def test_config_change_invalidates(tmp_path):
    root = _tree(tmp_path, files=5)
    cache_dir = tmp_path / "cache"
    assert len(_run(root, cache_dir=cache_dir).findings) == 10
    (root / "backendlint.toml").write_text('ignore = ["BL401"]\n', encoding="utf-8")
    assert [f.code for f in _run(root, cache_dir=cache_dir).findings] == ["BL001"]


RULE_SOURCE = '''
import libcst as cst
from backendlint.api import Rule


class Shout(Rule):
    """Flags calls.

    ## What it does
    x
    ## Why is this bad
    x
    ## Example
    x
    ## Use instead
    x
    ## Options
    x
    ## References
    x
    """

    code = "XT300"
    name = "shout"
    message = "{word}"

    def visit_Call(self, node: cst.Call) -> None:
        self.report(node, word="WORD")
'''


def _load_pack(directory: Path, word: str):
    directory.mkdir(exist_ok=True)
    path = directory / "shout_pack.py"
    path.write_text(textwrap.dedent(RULE_SOURCE).replace("WORD", word), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("shout_pack", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["shout_pack"] = module
    spec.loader.exec_module(module)
    return Registry([(module.Shout, "test")])


def test_editing_a_rule_invalidates(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("g()\n", encoding="utf-8")
    cache_dir = tmp_path / "cache"
    pack = tmp_path / "pack"
    registry = _load_pack(pack, "first")
    settings = settings_for(root, ["BL"])
    from dataclasses import replace

    settings = replace(settings, enabled=("XT300",))
    first = lint_paths([root], settings, registry, cache_dir=cache_dir)
    assert [f.message for f in first.findings] == ["first"]
    registry = _load_pack(pack, "second")
    second = lint_paths([root], settings, registry, cache_dir=cache_dir)
    assert [f.message for f in second.findings] == ["second"]


def test_corrupt_and_unwritable_cache_are_harmless(tmp_path):
    root = _tree(tmp_path, files=3)
    cache_dir = tmp_path / "cache"
    expected = _json(_run(root, cache_dir=cache_dir))
    for bucket in (cache_dir / f"v{cache_module.FORMAT}").glob("*.json"):
        bucket.write_text("{not json", encoding="utf-8")
    assert _json(_run(root, cache_dir=cache_dir)) == expected
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x", encoding="utf-8")
    assert _json(_run(root, cache_dir=blocker / "cache")) == expected


def test_cache_dir_ignores_itself_and_prunes(tmp_path, monkeypatch):
    root = _tree(tmp_path, files=2)
    cache_dir = tmp_path / "cache"
    monkeypatch.setattr(cache_module, "MAX_BUCKETS", 2)
    for word in ("a", "b", "c", "d"):
        (root / "backendlint.toml").write_text(f'test-paths = ["{word}/"]\n', encoding="utf-8")
        _run(root, cache_dir=cache_dir)
    assert (cache_dir / ".gitignore").read_text(encoding="utf-8").strip().endswith("*")
    assert len(list((cache_dir / f"v{cache_module.FORMAT}").glob("*.json"))) <= 2


MODELS = '''from django.db import models


class Order(models.Model):
    code = models.CharField(max_length=10{extra})
'''
VIEWS = '''from shop.models import Order


def by_code(code):
    return Order.objects.filter(code=code)
'''


def _shop(tmp_path: Path, indexed: bool = False) -> Path:
    root = tmp_path / "proj"
    (root / "shop").mkdir(parents=True, exist_ok=True)
    (root / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (root / "shop" / "models.py").write_text(MODELS.format(extra=", db_index=True" if indexed else ""), encoding="utf-8")
    (root / "shop" / "views.py").write_text(VIEWS, encoding="utf-8")
    (root / "shop" / "jobs.py").write_text(SWALLOW.format(n=1), encoding="utf-8")
    return root


def _linted(monkeypatch) -> list:
    import backendlint.engine.runner as runner

    calls: list = []
    original = runner.lint_file
    monkeypatch.setattr(runner, "lint_file", lambda src, job: calls.append(src.relpath) or original(src, job))
    return calls


def test_project_facts_change_relints_the_files_that_read_them(tmp_path, monkeypatch):
    root = _shop(tmp_path)
    cache_dir = tmp_path / "cache"
    first = _run(root, cache_dir=cache_dir)
    assert sorted((f.path, f.code) for f in first.findings) == [("shop/jobs.py", "BL401"), ("shop/views.py", "BL103")]
    calls = _linted(monkeypatch)
    _shop(tmp_path, indexed=True)  # models.py changes: views.py reads the catalogue, jobs.py does not
    second = _run(root, cache_dir=cache_dir)
    assert sorted((f.path, f.code) for f in second.findings) == [("shop/jobs.py", "BL401")]
    assert sorted(calls) == ["shop/models.py", "shop/views.py"]
    calls.clear()
    assert _json(_run(root, cache_dir=cache_dir)) == _json(second)
    assert calls == []
    assert _json(_run(root, jobs=2)) == _json(second)  # the same without the cache


def test_cached_findings_equal_fresh_ones_for_every_rule(tmp_path):
    cache_dir = tmp_path / "cache"
    fresh = _json(_run(FIXTURES, jobs=1))
    assert _json(_run(FIXTURES, jobs=2, cache_dir=cache_dir)) == fresh  # cold
    assert _json(_run(FIXTURES, jobs=1, cache_dir=cache_dir)) == fresh  # warm, every file from the cache


def test_rule_options_change_invalidates(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("try:\n    g()\nexcept ValueError:\n    pass\n", encoding="utf-8")
    cache_dir = tmp_path / "cache"
    assert _run(root, cache_dir=cache_dir).findings == ()
    (root / "backendlint.toml").write_text("[rules.BL401]\ncheck-typed-exception = true\n", encoding="utf-8")
    assert [f.code for f in _run(root, cache_dir=cache_dir).findings] == ["BL401"]


def test_project_caches_of_old_code_are_pruned(tmp_path):
    from backendlint.project import gather_project

    root = _shop(tmp_path)
    cache_dir = tmp_path / "cache"
    settings = settings_for(root, ["BL"])
    for version in range(7):
        gather_project(settings, ["catalog"], cache_dir, f"{version:016d}")
    kept = sorted(p.name for p in (cache_dir / "project").glob("catalog-*.json"))
    assert len(kept) == 4
    gather_project(settings, ["catalog"], cache_dir, f"{6:016d}")  # the newest is among those kept
    assert sorted(p.name for p in (cache_dir / "project").glob("catalog-*.json")) == kept


def test_unchanged_files_are_not_even_read_by_the_project_pass(tmp_path, monkeypatch):
    import backendlint.project.facts as facts_module
    from backendlint.project import gather_project

    root = _shop(tmp_path)
    old = 1_600_000_000
    for path in root.rglob("*.py"):
        os.utime(path, (old, old))  # older than the racy window
    cache_dir = tmp_path / "cache"
    settings = settings_for(root, ["BL"])
    first = gather_project(settings, ["catalog"], cache_dir, "k" * 16)
    reads: list = []
    original = facts_module.read_bytes
    monkeypatch.setattr(facts_module, "read_bytes", lambda path: reads.append(path.name) or original(path))
    second = gather_project(settings, ["catalog"], cache_dir, "k" * 16)
    assert reads == [] and second == first
    models = root / "shop" / "models.py"
    models.write_text(MODELS.format(extra=", db_index=True"), encoding="utf-8")
    os.utime(models, (old + 5, old + 5))
    third = gather_project(settings, ["catalog"], cache_dir, "k" * 16)
    assert reads == ["models.py"]
    assert third.digest() != first.digest() and third.get("catalog") != first.get("catalog")

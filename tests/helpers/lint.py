"""Test helpers: lint a tree programmatically and read fixture annotations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Optional, Sequence, Set, Tuple

from backendlint.cli import lint_paths
from backendlint.config import Settings, load
from backendlint.registry import default_registry
from backendlint.types import RunResult

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_ANNOTATION = re.compile(r"(?:#|--)\s*(expect|ok)\s*:\s*(BL[0-9]{3}(?:\s*,\s*BL[0-9]{3})*)")

Key = Tuple[str, int, str]


def settings_for(root: Path, select: Sequence[str], config: Optional[Path] = None, **overrides) -> Settings:
    """Settings rooted at ``root`` with ``select``, reading ``config`` when given."""
    if config is None and (root / "backendlint.toml").is_file():
        config = root / "backendlint.toml"
    return load(default_registry(), config_file=config, root=root, overrides={"select": list(select), **overrides})


def lint(root: Path, select: Sequence[str], paths: Optional[Iterable[Path]] = None, **overrides) -> RunResult:
    settings = settings_for(root, select, **overrides)
    return lint_paths(list(paths) if paths else [root], settings, default_registry())


def found(result: RunResult) -> Set[Key]:
    return {(f.path, f.span.line, f.code) for f in result.findings}


def annotations(root: Path, code_prefix: str = "BL") -> Tuple[Set[Key], Set[Key]]:
    """``(expected, traps)`` from ``# expect: BLxxx`` / ``# ok: BLxxx`` comments under ``root``."""
    expected: Set[Key] = set()
    traps: Set[Key] = set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".sql") or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            for kind, codes in _ANNOTATION.findall(line):
                for code in re.split(r"\s*,\s*", codes):
                    if code.startswith(code_prefix):
                        (expected if kind == "expect" else traps).add((rel, number, code))
    return expected, traps

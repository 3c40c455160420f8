"""Precision and recall of backendlint against ruff and bandit on the security fixtures.

Ground truth is the fixtures' own annotations: a line carrying ``# expect: BLxxx`` must be
flagged, every other line must not. A peer finding is mapped to a backendlint rule through
the table below; on an expect line of that rule it is a true positive, on any other line a
false positive; expect lines no finding hit are false negatives.

Usage: ``python bench/peer_precision.py`` (installs ruff and bandit into bench/.work/venv
when they are not already on PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
FIXTURES = ROOT / "tests" / "fixtures"
CODES = ("BL201", "BL301", "BL302", "BL303")

RUFF_MAP = {"S113": "BL201", "S105": "BL301", "S106": "BL301", "S107": "BL301", "S324": "BL302", "S608": "BL303"}
BANDIT_MAP = {
    "B113": "BL201",
    "B105": "BL301",
    "B106": "BL301",
    "B107": "BL301",
    "B324": "BL302",
    "B303": "BL302",
    "B608": "BL303",
}

sys.path.insert(0, str(ROOT))

Key = Tuple[str, int]


def _tool(name: str) -> Optional[str]:
    """The tool's executable: on PATH, next to this interpreter, or in bench/.work/venv."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    local = WORK / "venv" / "bin" / name
    return str(local) if local.exists() else None


def ensure_tools() -> Dict[str, str]:
    tools = {name: _tool(name) for name in ("ruff", "bandit")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        target = WORK / "venv"
        if not target.exists():
            print(f"creating {target.relative_to(ROOT)} for {', '.join(missing)}", file=sys.stderr)
            venv.create(target, with_pip=True)
        pip = target / "bin" / "pip"
        subprocess.run([str(pip), "install", "--quiet", *missing], check=True)
        for name in missing:
            tools[name] = str(target / "bin" / name)
    return {name: path for name, path in tools.items() if path}


def _relative(path: str, base: Path) -> str:
    return Path(path).resolve().relative_to(base.resolve()).as_posix()


def run_ruff(exe: str, directory: Path, code: str) -> Set[Key]:
    selects = ",".join(rule for rule, ours in RUFF_MAP.items() if ours == code)
    proc = subprocess.run(
        [exe, "check", "--isolated", "--no-cache", "--exit-zero", "--select", selects,
         "--output-format", "json", str(directory)],
        capture_output=True, text=True, check=False,
    )
    out: Set[Key] = set()
    for item in json.loads(proc.stdout or "[]"):
        if RUFF_MAP.get(item.get("code")) == code:
            out.add((_relative(item["filename"], directory), item["location"]["row"]))
    return out


def run_bandit(exe: str, directory: Path, code: str) -> Set[Key]:
    tests = ",".join(rule for rule, ours in BANDIT_MAP.items() if ours == code)
    proc = subprocess.run(
        [exe, "-r", "-q", "-f", "json", "-t", tests, str(directory)],
        capture_output=True, text=True, check=False,
    )
    try:
        data = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        return set()
    out: Set[Key] = set()
    for item in data.get("results", []):
        if BANDIT_MAP.get(item.get("test_id")) == code:
            out.add((_relative(item["filename"], directory), item["line_number"]))
    return out


def run_backendlint(directory: Path, code: str) -> Set[Key]:
    from tests.helpers.lint import found, lint

    return {(path, line) for path, line, rule in found(lint(directory, [code])) if rule == code}


def score(found: Set[Key], expected: Set[Key]) -> Tuple[int, int, int, float, float, float]:
    tp = len(found & expected)
    fp = len(found - expected)
    fn = len(expected - found)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return tp, fp, fn, precision, recall, f1


def main() -> int:
    from tests.helpers.lint import annotations

    tools = ensure_tools()
    header = f"{'rule':<6} {'tool':<12} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7} {'F1':>6}"
    print(header)
    print("-" * len(header))
    worse: List[str] = []
    for code in CODES:
        directory = FIXTURES / code
        if not directory.is_dir():
            continue
        expected_keys, _ = annotations(directory, code)
        expected = {(path, line) for path, line, _ in expected_keys}
        results = {"backendlint": run_backendlint(directory, code)}
        if "ruff" in tools:
            results["ruff"] = run_ruff(tools["ruff"], directory, code)
        if "bandit" in tools:
            results["bandit"] = run_bandit(tools["bandit"], directory, code)
        ours_f1 = 0.0
        for tool, found_keys in results.items():
            tp, fp, fn, precision, recall, f1 = score(found_keys, expected)
            if tool == "backendlint":
                ours_f1 = f1
            elif f1 >= ours_f1:
                worse.append(f"{code}: {tool} F1 {f1:.2f} >= backendlint {ours_f1:.2f}")
            print(f"{code:<6} {tool:<12} {tp:>4} {fp:>4} {fn:>4} {precision:>9.2f} {recall:>7.2f} {f1:>6.2f}")
        print()
    for line in worse:
        print("WARNING", line)
    return 1 if worse else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())

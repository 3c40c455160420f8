"""Precision and recall of backendlint against ruff and bandit on the security fixtures.

Ground truth is the fixtures' own annotations: a line carrying ``# expect: BLxxx`` must be
flagged, every other line must not. A peer finding is mapped to a backendlint rule through
the table below; on an expect line of that rule it is a true positive, on any other line a
false positive; expect lines no finding hit are false negatives. Because tools report one
problem on different lines (backendlint at the SQL sink, the peers where the string is
built), a report inside the expected call or on an assignment that builds its arguments
counts for that expected finding (see :func:`equivalents`).

Usage: ``python bench/peer_precision.py`` (installs ruff and bandit into bench/.work/venv
when they are not already on PATH).
"""

from __future__ import annotations

import ast
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

RUFF_MAP = {
    "S113": "BL201",
    "S105": "BL301",
    "S106": "BL301",
    "S107": "BL301",
    "S324": "BL302",
    "S608": "BL303",
    "S610": "BL303",
    "S611": "BL303",
}
BANDIT_MAP = {
    "B113": "BL201",
    "B105": "BL301",
    "B106": "BL301",
    "B107": "BL301",
    "B324": "BL302",
    "B303": "BL302",
    "B608": "BL303",
    "B610": "BL303",
    "B611": "BL303",
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


def equivalents(directory: Path, expected: Set[Key]) -> Dict[Key, Set[Key]]:
    """The lines on which a report counts as the finding of each expected line.

    Tools report the same problem on different lines: backendlint at the sink call, the
    peers at the string. A report counts for an expected finding when it lies within the
    flagged call (a call spans several lines) or on an earlier assignment, in the same
    function, of a name the call's arguments use (``q = f"..."; cur.execute(q)``),
    followed through three levels of names."""
    trees: Dict[str, Optional[ast.Module]] = {}
    out: Dict[Key, Set[Key]] = {}
    for path, line in expected:
        if path not in trees:
            try:
                trees[path] = ast.parse((directory / path).read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError):
                trees[path] = None
        tree = trees[path]
        lines = {line}
        if tree is not None:
            lines |= _related_lines(tree, line)
        out[(path, line)] = {(path, n) for n in lines}
    return out


def _related_lines(tree: ast.Module, line: int) -> Set[int]:
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno == line]
    if not calls:
        return set()
    call = max(calls, key=lambda n: (n.end_lineno or n.lineno) - n.lineno)
    lines = set(range(call.lineno, (call.end_lineno or call.lineno) + 1))
    scope: ast.AST = tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or line):
            if scope is tree or node.lineno > getattr(scope, "lineno", 0):
                scope = node
    arguments = [*call.args, *(k.value for k in call.keywords)]
    names = {n.id for arg in arguments for n in ast.walk(arg) if isinstance(n, ast.Name)}
    seen: Set[str] = set()
    for _ in range(3):
        fresh = names - seen
        if not fresh:
            break
        seen |= fresh
        for node in ast.walk(scope):
            if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or node.lineno >= line:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if bound & fresh and node.value is not None:
                lines |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                names |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    return lines


def score(found: Set[Key], expected: Dict[Key, Set[Key]]) -> Tuple[int, int, int, float, float, float]:
    covered = set().union(*expected.values()) if expected else set()
    tp = sum(1 for lines in expected.values() if found & lines)
    fp = len(found - covered)
    fn = len(expected) - tp
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
        expected = equivalents(directory, {(path, line) for path, line, _ in expected_keys})
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

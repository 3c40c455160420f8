"""backendlint on large real code bases: does it finish, cleanly, on real code?

Downloads the sdists of large real projects from the package registry (``pip
download --no-binary :all: --no-deps``), unpacks them under ``bench/.work/scale/``
and adds the running interpreter's own standard library (linted in place with
``--no-cache``, so nothing is written there). For each corpus it runs
``backendlint check . --exit-zero --format json`` once and prints: files checked
and skipped, findings by rule, the engine's diagnostics (BL001 parse errors, BL003
internal errors, with the first few messages), wall time, and the tracebacks seen
on stderr. The bar is zero tracebacks and zero BL003; the exit status is 1 when a
corpus misses it. Usage::

    python bench/scale.py [--corpora django,sqlalchemy,ansible-core,celery,stdlib] [--jobs 2] [--debug]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from corpora import fetch, own_config

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
DEFAULT_CORPORA = ("django", "sqlalchemy", "ansible-core", "celery", "stdlib")
SHOW = 4


def corpus_root(name: str) -> Path:
    if name == "stdlib":
        return Path(sysconfig.get_paths()["stdlib"])
    return fetch(name)


@dataclass
class Outcome:
    name: str
    version: str
    wall: float
    exit_code: int
    cpu: float = 0.0
    files: int = 0
    skipped: int = 0
    by_rule: Dict[str, int] = field(default_factory=dict)
    parse_errors: List[str] = field(default_factory=list)
    internal_errors: List[str] = field(default_factory=list)
    tracebacks: int = 0
    stderr_lines: int = 0
    stderr_tail: str = ""

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and not self.tracebacks and not self.internal_errors


def lint(name: str, root: Path, jobs: int, debug: bool) -> Outcome:
    report = WORK / "scale-reports" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    cmd = [
        sys.executable, "-m", "backendlint", "check", ".", "--exit-zero", "--format", "json",
        "--no-cache", "--jobs", str(jobs), "--output", str(report),
    ]
    if name != "stdlib":
        cmd += ["--config", str(own_config(root))]
    if debug:
        cmd.append("--debug")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    version = root.name if name != "stdlib" else f"python {sys.version.split()[0]}"
    outcome = Outcome(name, version, wall, proc.returncode, cpu=cpu, tracebacks=proc.stderr.count("Traceback"))
    outcome.stderr_tail = proc.stderr[-2000:]
    outcome.stderr_lines = len(proc.stderr.splitlines())
    if not report.is_file():
        return outcome
    data = json.loads(report.read_text(encoding="utf-8"))
    summary = data["summary"]
    outcome.files = summary["files_checked"]
    outcome.skipped = len(summary["files_skipped"])
    outcome.by_rule = summary["by_rule"]
    for finding in data["findings"]:
        where = f"{finding['path']}:{finding['line']}: {finding['message'].splitlines()[0]}"
        if finding["code"] == "BL001":
            outcome.parse_errors.append(where)
        elif finding["code"] == "BL003":
            outcome.internal_errors.append(where)
    return outcome


def show(outcome: Outcome) -> None:
    print(f"== {outcome.name} ({outcome.version})")
    print(
        f"   files checked {outcome.files}, skipped {outcome.skipped}, wall {outcome.wall:.1f} s "
        f"(CPU {outcome.cpu:.1f} s, all processes), exit {outcome.exit_code}"
    )
    rules = ", ".join(f"{code} {count}" for code, count in sorted(outcome.by_rule.items())) or "none"
    print(f"   findings by rule: {rules}")
    for label, items in (("BL001 parse errors", outcome.parse_errors), ("BL003 internal errors", outcome.internal_errors)):
        print(f"   {label}: {len(items)}")
        for item in items[:SHOW]:
            print(f"      {item[:160]}")
    print(f"   tracebacks: {outcome.tracebacks} (stderr: {outcome.stderr_lines} lines)")
    if outcome.exit_code != 0:
        print("   stderr: " + outcome.stderr_tail.replace("\n", "\n           "))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(DEFAULT_CORPORA))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--debug", action="store_true", help="pass --debug (tracebacks of rule errors in messages)")
    args = parser.parse_args(argv)
    outcomes = []
    for name in [n.strip() for n in args.corpora.split(",") if n.strip()]:
        outcome = lint(name, corpus_root(name), args.jobs, args.debug)
        show(outcome)
        outcomes.append(outcome)
    totals: Counter = Counter()
    for outcome in outcomes:
        totals.update(files=outcome.files, tracebacks=outcome.tracebacks, internal=len(outcome.internal_errors))
    print(
        f"== total: {totals['files']} files, {totals['tracebacks']} tracebacks, "
        f"{totals['internal']} BL003, {sum(o.wall for o in outcomes):.1f} s"
    )
    return 0 if all(o.clean for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

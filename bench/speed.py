"""Speed and memory of backendlint against its peers, measured side by side.

Fetches real code bases as sdists from the package registry, installs the peers
(ruff, bandit, Fixit) into a venv of its own under ``bench/.work/``, then prints for
each corpus the wall / CPU / peak-memory medians of:

- backendlint cold (``--jobs 2``, empty cache), warm (nothing changed), ``--jobs 1``,
  a pre-commit run on 5 files just edited (the cache of an earlier run holds the rest
  of the project) and the same 5 files with no cache at all (a first run);
- ruff, bandit and Fixit on the same tree (Fixit on a deterministic subset when the
  whole tree would take too long; its figures are then scaled by bytes and marked),

with each figure's ratio to backendlint's cold run. CPU time includes the worker
processes; peak memory is the largest resident set of any one process of the run
(the main process or one worker: ``wait4`` reports the maximum over the process and
its reaped children), i.e. the per-worker peak. Nothing here asserts: it reports. Usage::

    python bench/speed.py [--runs 3] [--corpora django,sqlalchemy] [--fixit-files 150]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from corpora import fetch, own_config

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
PEERS = ("ruff", "bandit", "fixit")


@dataclass
class Figure:
    wall: float
    cpu: float
    peak_mib: float


def sh(cmd: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kwargs)


def peers_venv() -> Path:
    """A venv holding ruff, bandit and Fixit; its bin directory."""
    env = WORK / "peers-venv"
    bindir = env / ("Scripts" if os.name == "nt" else "bin")
    if not (bindir / "fixit").exists():
        venv.create(env, with_pip=True)
        sh([str(bindir / "python"), "-m", "pip", "install", "-q", *PEERS])
    return bindir


def measure(cmd: Sequence[str], cwd: Path, runs: int, before=None) -> Figure:
    """Medians over ``runs`` runs of one whole process (wall, user+sys, peak RSS)."""
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        peaks.append(usage.ru_maxrss / 1024)
    return Figure(statistics.median(walls), statistics.median(cpus), statistics.median(peaks))


def python_files(root: Path) -> List[Path]:
    skip = {".git", "node_modules", "__pycache__", ".backendlint_cache"}
    return sorted(p for p in root.rglob("*.py") if not skip & set(p.parts))


def bench_corpus(name: str, runs: int, fixit_files: int, bindir: Path) -> None:
    root = fetch(name)
    files = python_files(root)
    total = sum(p.stat().st_size for p in files)
    config = ["--config", str(own_config(root))]
    backendlint = [sys.executable, "-m", "backendlint", "check", ".", *config, "--exit-zero", "--format", "json", "-o", os.devnull]
    cache = WORK / "cache" / name

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    figures: Dict[str, Figure] = {}
    notes: Dict[str, str] = {}
    figures["backendlint cold --jobs 2"] = measure([*backendlint, "--jobs", "2", "--cache-dir", str(cache)], root, runs, clear)
    subprocess.run([*backendlint, "--jobs", "2", "--cache-dir", str(cache)], cwd=root, capture_output=True)
    report = WORK / "speed-reports" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*backendlint[:-2], "-o", str(report), "--no-cache"], cwd=root, capture_output=True)
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    if summary["files_checked"] < len(files) // 2:
        raise SystemExit(f"{name}: backendlint checked only {summary['files_checked']} of {len(files)} files")
    figures["backendlint warm"] = measure([*backendlint, "--jobs", "2", "--cache-dir", str(cache)], root, runs)
    figures["backendlint --jobs 1"] = measure([*backendlint, "--jobs", "1", "--no-cache"], root, runs)
    five = [str(p.relative_to(root)) for p in files[:: max(1, len(files) // 5)][:5]]
    precommit = [sys.executable, "-m", "backendlint", "check", *five, *config, "--exit-zero"]
    originals = {rel: (root / rel).read_bytes() for rel in five}
    edits = iter(range(1, 1 + runs))

    def edit() -> None:  # what a commit does: change the files (the cache holds the rest)
        number = next(edits)
        for rel, data in originals.items():
            (root / rel).write_bytes(data + f"\n# edit {number}\n".encode())

    try:
        figures["backendlint pre-commit, 5 edited files"] = measure([*precommit, "--cache-dir", str(cache)], root, runs, edit)
    finally:
        for rel, data in originals.items():
            (root / rel).write_bytes(data)
    figures["backendlint 5 files, no cache at all"] = measure([*precommit, "--no-cache"], root, runs)
    figures["ruff (S, BLE, E722)"] = measure(
        [str(bindir / "ruff"), "check", ".", "--isolated", "--no-cache", "--exit-zero", "--select", "S,BLE,E722", "-q"], root, runs
    )
    figures["bandit"] = measure([str(bindir / "bandit"), "-r", ".", "-q", "-f", "json", "-o", os.devnull], root, runs)
    subset = files[:: max(1, len(files) // fixit_files)][:fixit_files] if fixit_files < len(files) else files
    subset_bytes = sum(p.stat().st_size for p in subset)
    fixit = measure([str(bindir / "fixit"), "lint", *[str(p.relative_to(root)) for p in subset]], root, 1)
    scale = total / max(subset_bytes, 1)
    figures["Fixit"] = Figure(fixit.wall * scale, fixit.cpu * scale, fixit.peak_mib)
    if scale > 1.01:
        notes["Fixit"] = f"measured once on {len(subset)} files ({subset_bytes / 1e6:.1f} MB), scaled x{scale:.1f} by bytes"

    cold = figures["backendlint cold --jobs 2"]
    print(f"\n## {root.name}: {len(files)} Python files, {total / 1e6:.1f} MB ({runs} runs, medians)\n")
    print(f"backendlint checked {summary['files_checked']} files, {summary['findings']} findings {summary['by_rule']}\n")
    print(f"| {'command':<40} | {'wall s':>8} | {'cpu s':>8} | {'peak MiB':>8} | {'wall / cold':>11} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 13}|")
    for label, fig in figures.items():
        ratio = fig.wall / cold.wall if cold.wall else float("nan")
        print(f"| {label:<40} | {fig.wall:>8.2f} | {fig.cpu:>8.2f} | {fig.peak_mib:>8.0f} | {ratio:>11.2f} |")
    for label, note in notes.items():
        print(f"\n{label}: {note}")
    bandit = figures["bandit"]
    print(
        f"\nbackendlint cold vs bandit: {cold.wall / bandit.wall:.2f}x bandit's wall time; "
        f"Fixit / backendlint cold: {figures['Fixit'].wall / cold.wall:.1f}x; "
        f"warm / cold: {figures['backendlint warm'].wall / cold.wall:.1%}"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpora", default="django,sqlalchemy")
    parser.add_argument("--fixit-files", type=int, default=150)
    args = parser.parse_args(argv)
    bindir = peers_venv()
    for name in args.corpora.split(","):
        bench_corpus(name.strip(), args.runs, args.fixit_files, bindir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

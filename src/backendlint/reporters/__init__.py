"""Output formats. The only place that knows how findings are shown.

Each reporter is a function ``(result, options) -> str``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

from backendlint.types import RunResult


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False
    width: int = 100
    show_source: bool = True


Reporter = Callable[[RunResult, ReportOptions], str]


def reporters() -> Dict[str, Reporter]:
    from backendlint.reporters import github, json_report, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "sarif": sarif.render,
        "github": github.render,
    }


FORMATS = ("text", "json", "sarif", "github")

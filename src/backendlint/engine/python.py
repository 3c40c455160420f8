"""Linting one Python file: one parse, one traversal shared by every rule.

The traversal is driven by :class:`_Dispatcher`, which calls the context tracker
before the rules visit a node and after they leave it, and isolates each rule:
a rule that raises is switched off for the rest of the file and reported as
BL003, while the other rules go on.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from backendlint.api import FileInfo, PendingReport, Rule, RuleContext
from backendlint.engine.context import ContextTracker
from backendlint.engine.names import ImportMap
from backendlint.types import Span

Callback = Tuple[int, Callable[[cst.CSTNode], Any]]


class RuleFailure:
    """A rule that raised: which one, where, and the traceback for ``--debug``."""

    def __init__(self, rule: Rule, hook: str, node: Optional[cst.CSTNode], exc: BaseException) -> None:
        self.rule = rule
        self.hook = hook
        self.node = node
        self.error = f"{type(exc).__name__}: {exc}"
        self.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class _Dispatcher(cst.CSTVisitor):
    def __init__(self, tracker: ContextTracker, rules: Sequence[Rule], failures: List[RuleFailure]) -> None:
        self.tracker = tracker
        self.rules = rules
        self.failures = failures
        self.disabled: set = set()
        self.visits: Dict[str, List[Callback]] = {}
        self.leaves: Dict[str, List[Callback]] = {}
        for index, rule in enumerate(rules):
            for name in _hook_names(type(rule)):
                table = self.visits if name.startswith("visit_") else self.leaves
                table.setdefault(name.split("_", 1)[1], []).append((index, getattr(rule, name)))

    def _call(self, callbacks: List[Callback], node: cst.CSTNode, hook: str) -> None:
        for index, callback in callbacks:
            if index in self.disabled:
                continue
            try:
                callback(node)
            except RecursionError:
                raise
            except Exception as exc:
                self.disabled.add(index)
                self.failures.append(RuleFailure(self.rules[index], hook, node, exc))

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.tracker.enter(node)
        callbacks = self.visits.get(type(node).__name__)
        if callbacks:
            self._call(callbacks, node, f"visit_{type(node).__name__}")
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        callbacks = self.leaves.get(type(original_node).__name__)
        if callbacks:
            self._call(callbacks, original_node, f"leave_{type(original_node).__name__}")
        self.tracker.leave(original_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


_HOOKS: Dict[type, Tuple[str, ...]] = {}


def _hook_names(cls: Type[Rule]) -> Tuple[str, ...]:
    found = _HOOKS.get(cls)
    if found is None:
        found = tuple(n for n in dir(cls) if (n.startswith("visit_") or n.startswith("leave_")))
        _HOOKS[cls] = found
    return found


def package_of(relpath: str) -> Tuple[str, ...]:
    """The dotted package of a file, for resolving relative imports (best effort)."""
    parts = relpath.replace("\\", "/").split("/")
    if parts and parts[0] == "src":
        parts = parts[1:]
    return tuple(p for p in parts[:-1] if p.isidentifier())


class ParsedFile:
    """The outcome of the traversal: raw reports, failures and the positions to place them."""

    def __init__(self, module: cst.Module, wrapper: MetadataWrapper) -> None:
        self.module = module
        self.wrapper = wrapper
        self.reports: List[PendingReport] = []
        self.failures: List[RuleFailure] = []

    def span_of(self, node: cst.CSTNode) -> Optional[Span]:
        positions = self.wrapper.resolve(PositionProvider)
        found = positions.get(node)
        if found is None:
            return None
        return Span(found.start.line, found.start.column + 1, found.end.line, found.end.column + 1)


def run_rules(
    module: cst.Module,
    file: FileInfo,
    rule_classes: Sequence[Type[Rule]],
    options: Dict[str, Any],
    project: Any,
) -> ParsedFile:
    """One traversal of ``module`` with every rule; rule errors are contained."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    parsed = ParsedFile(module, wrapper)
    tracker = ContextTracker(ImportMap(package_of(file.relpath)))
    ctx = RuleContext(file, tracker, options, project, parsed.reports)
    providers = {p for cls in rule_classes for p in cls.METADATA_DEPENDENCIES}
    if providers:
        wrapper.resolve_many(providers)
        ctx.metadata = wrapper
    rules: List[Rule] = []
    for cls in rule_classes:
        try:
            rules.append(cls(ctx))
        except Exception as exc:
            parsed.failures.append(RuleFailure(RuleRef(cls), "__init__", None, exc))  # type: ignore[arg-type]
    dispatcher = _Dispatcher(tracker, rules, parsed.failures)
    module.visit(dispatcher)
    for index, rule in enumerate(rules):
        if index in dispatcher.disabled:
            continue
        try:
            rule.end_file()
        except Exception as exc:
            parsed.failures.append(RuleFailure(rule, "end_file", None, exc))
    return parsed


class RuleRef:
    """Stands for a rule class whose instance could not be made."""

    def __init__(self, cls: Type[Rule]) -> None:
        self.code = cls.code
        self.name = cls.name


def failure_message(failure: RuleFailure) -> str:
    return (
        f"rule {failure.rule.code} ({failure.rule.name}) failed in {failure.hook}: "
        f"{failure.error}; its other findings stand (run with --debug for the traceback)"
    )


def recursion_limit_guard() -> int:
    """Raise the recursion limit for deep trees; the engine catches RecursionError anyway."""
    current = sys.getrecursionlimit()
    if current < 10000:
        sys.setrecursionlimit(10000)
    return current


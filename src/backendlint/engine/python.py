"""Linting one Python file: one parse, one traversal shared by every rule.

The traversal is driven by :class:`_Dispatcher`, which walks the tree read-only
in source order (formatting trivia — whitespace, comments, brackets, commas — is
not visited), calls the context tracker before the rules visit a node and after
they leave it, and isolates each rule: a rule that raises is switched off for the
rest of the file and reported as BL003, while the other rules go on.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, TypeVar

import libcst as cst
from libcst.metadata import MetadataWrapper

from backendlint.api import FileInfo, PendingReport, Rule, RuleContext
from backendlint.engine.context import ContextTracker
from backendlint.engine.names import ImportMap
from backendlint.engine.positions import Range, positions
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


def _node_classes() -> Dict[type, str]:
    found: Dict[type, str] = {}
    stack = [cst.CSTNode]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if not getattr(sub, "__abstractmethods__", None) and dataclasses.is_dataclass(sub):
                found[sub] = sub.__name__
    return found


#: Concrete node classes -> name; formatting trivia (whitespace, comments, brackets,
#: commas...) is not visited: no rule judges it and it is most of the tree.
NODE_CLASSES = _node_classes()
TRIVIA = frozenset(
    cls
    for cls in NODE_CLASSES
    if cls.__module__.endswith("whitespace")
    or cls.__name__
    in {
        "Comma", "Dot", "Semicolon", "AssignEqual", "Colon", "LeftParen", "RightParen",
        "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace", "RightCurlyBrace",
    }
)
_VISITED = {cls: name for cls, name in NODE_CLASSES.items() if cls not in TRIVIA}
_SOURCE_ORDER = {
    cst.FunctionDef: ("decorators", "asynchronous", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
}
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _child_fields(cls: type) -> Tuple[str, ...]:
    """Fields of ``cls`` that can hold visited nodes, in source order."""
    found = _CHILD_FIELDS.get(cls)
    if found is None:
        names = [f.name for f in dataclasses.fields(cls)]
        order = _SOURCE_ORDER.get(cls)
        if order is not None:
            names = [n for n in order if n in names] + [n for n in names if n not in order]
        trivia_names = {c.__name__ for c in TRIVIA}
        kept = []
        for name in names:
            annotation = str(next(f.type for f in dataclasses.fields(cls) if f.name == name))
            mentioned = set(re.findall(r"libcst\._nodes\.\w+\.(\w+)", annotation))
            if mentioned - trivia_names:
                kept.append(name)
        found = tuple(kept)
        _CHILD_FIELDS[cls] = found
    return found


class _Dispatcher:
    """Walks the tree read-only (no node is rebuilt), calling the tracker and the rules."""

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
            except Exception as exc:  # RecursionError included: the walk's depth is bounded by the pre-check
                self.disabled.add(index)
                self.failures.append(RuleFailure(self.rules[index], hook, node, exc))

    def walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        name = _VISITED[kind]
        self.tracker.enter(node)
        callbacks = self.visits.get(name)
        if callbacks:
            self._call(callbacks, node, f"visit_{name}")
        visited = _VISITED
        for field_name in _CHILD_FIELDS.get(kind) or _child_fields(kind):
            value = getattr(node, field_name)
            value_type = type(value)
            if value_type in visited:
                self.walk(value)
            elif value_type is tuple or value_type is list:
                for item in value:
                    if type(item) in visited:
                        self.walk(item)
        callbacks = self.leaves.get(name)
        if callbacks:
            self._call(callbacks, node, f"leave_{name}")
        self.tracker.leave(node)


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
        self._ranges: Optional[Dict[cst.CSTNode, Range]] = None

    def span_of(self, node: cst.CSTNode) -> Optional[Span]:
        """Where ``node`` is. The first call places every node a report or a failure
        names, in one partial code generation (most files have no finding and pay
        nothing)."""
        if self._ranges is None:
            wanted = [r.node for r in self.reports if r.node is not None]
            wanted += [r.statement for r in self.reports if r.statement is not None]
            wanted += [f.node for f in self.failures if f.node is not None]
            # a rule's garbage (a node that is no node) fails its own report only, below
            self._ranges = positions(self.module, [n for n in wanted if isinstance(n, cst.CSTNode)])
        found = self._ranges.get(node)
        if found is None:
            found = positions(self.module, [node]).get(node)
            if found is None:
                return None
        (line, column), (end_line, end_column) = found
        return Span(line, column + 1, end_line, end_column + 1)


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
    broken = _resolve_metadata(wrapper, rule_classes)
    if any(cls.METADATA_DEPENDENCIES for cls in rule_classes):
        ctx.metadata = wrapper
    rules: List[Rule] = []
    for cls in rule_classes:
        if cls in broken:
            parsed.failures.append(broken[cls])
            continue
        try:
            rules.append(cls(ctx))
        except Exception as exc:
            parsed.failures.append(RuleFailure(RuleRef(cls), "__init__", None, exc))  # type: ignore[arg-type]
    dispatcher = _Dispatcher(tracker, rules, parsed.failures)
    dispatcher.walk(module)
    for index, rule in enumerate(rules):
        if index in dispatcher.disabled:
            continue
        try:
            rule.end_file()
        except Exception as exc:
            parsed.failures.append(RuleFailure(rule, "end_file", None, exc))
    return parsed


def _resolve_metadata(wrapper: MetadataWrapper, rule_classes: Sequence[Type[Rule]]) -> Dict[type, RuleFailure]:
    """Compute the metadata the rules asked for; a provider that fails on this file
    fails (only) the rules that depend on it."""
    broken: Dict[type, RuleFailure] = {}
    failed: Dict[Any, BaseException] = {}
    for cls in rule_classes:
        for provider in cls.METADATA_DEPENDENCIES:
            if provider not in failed:
                try:
                    wrapper.resolve(provider)
                except Exception as exc:
                    failed[provider] = exc
            if provider in failed and cls not in broken:
                hook = f"metadata {getattr(provider, '__name__', provider)}"
                broken[cls] = RuleFailure(RuleRef(cls), hook, None, failed[provider])  # type: ignore[arg-type]
    return broken


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


#: Deep trees (a 5,000-level expression, a 20,000-term sum) need deep recursion in the
#: parser and the walk. It runs on a thread with a large stack, so that the raised
#: recursion limit ends in a RecursionError (reported as BL001), never a crash.
STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 30000

T = TypeVar("T")


def with_deep_stack(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` on a thread with a large stack and a high recursion limit."""
    outcome: Dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    previous_stack = threading.stack_size()
    previous_limit = sys.getrecursionlimit()
    try:
        threading.stack_size(STACK_BYTES)
        sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
        worker = threading.Thread(target=target, name="backendlint-lint")
        worker.start()
    except (RuntimeError, MemoryError, ValueError):
        # No thread with a large stack here (address-space limits): the default stack and
        # recursion limit still end deep trees in a RecursionError, only sooner.
        sys.setrecursionlimit(previous_limit)
        return function(*args)
    finally:
        threading.stack_size(previous_stack)
    worker.join()
    sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


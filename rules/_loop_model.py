"""The loops enclosing a node, as the n-plus-one rule reasons about them: per loop
(per clause of a comprehension, per ``map(lambda ...)``) its variables, whether its
length depends on data, the database rows it iterates and which row each variable
holds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Set

import libcst as cst
from backendlint_rules._loop_facts import (
    batch_named,
    children,
    classify_iterable,
    database_state,
    names_of,
    once_statements,
    polls,
    source_text,
)
from backendlint_rules._row_sources import (
    UNKNOWN,
    Rows,
    django_single,
    instance_of,
    lookup_model,
    rows_of,
    sqlalchemy_single,
)

from backendlint.api import LoopFrame, RuleContext


@dataclass
class LoopInfo:
    """One loop (or one ``for`` clause of a comprehension)."""

    node: cst.CSTNode
    #: db (iterates rows), constant (fixed by code), batch, while, unknown
    kind: str
    names: FrozenSet[str]
    text: str
    rows: Dict[str, Rows] = field(default_factory=dict)
    source: Optional[Rows] = None
    is_async: bool = False
    #: The expression iterated (``None`` for while loops).
    iterable: Optional[cst.CSTNode] = None
    _once: Optional[FrozenSet[int]] = None
    _inside: Optional[FrozenSet[int]] = None
    #: Ids of the values the body assigns to the loop variables (``o = Order.objects.get(pk=o.pk)``).
    rebound: Set[int] = field(default_factory=set)

    def once(self) -> FrozenSet[int]:
        if self._once is None:
            self._once = once_statements(self.node)
        return self._once

    def inside_iterable(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` is part of this clause's own iterable (evaluated before it)."""
        if self.iterable is None or isinstance(self.node, (cst.For, cst.While)):
            return False
        if self._inside is None:
            self._inside = frozenset(id(n) for n in _subtree(self.iterable))
        return id(node) in self._inside


class Loops:
    """Computes and caches :class:`LoopInfo` for the loops around the current node."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._cache: Dict[int, List[LoopInfo]] = {}
        self._lambdas: Dict[int, List[LoopInfo]] = {}
        self._pending_lambdas: Dict[int, cst.Call] = {}
        self.current: List[LoopInfo] = []
        self._resolving: Set[str] = set()
        self._rebound: Dict[int, Set[int]] = {}
        self._bound_in: Dict[int, Set[int]] = {}
        self._memo_values: Set[int] = set()
        self._prefetched: Set[str] = set()

    def note_assign(self, target: cst.CSTNode, value: Optional[cst.CSTNode], memo: Callable[[cst.CSTNode], bool]) -> None:
        """An assignment inside loops: remember which loops' bodies bind the value (and
        whether a cache guards it), and when it re-binds a loop variable."""
        if value is None:
            return
        assigned = names_of(target)
        if not assigned:
            return
        for frame in self.ctx.loops:
            if memo(frame.node):
                self._memo_values.add(id(value))
            self._bound_in.setdefault(id(value), set()).add(id(frame.node))
            if frame.kind == "while":
                continue
            if any(name in assigned for t in frame.targets for name in names_of(t)):
                self._rebound.setdefault(id(frame.node), set()).add(id(value))

    def bound_in(self, value: cst.CSTNode) -> Optional[Set[int]]:
        """Ids of the loops whose body assigned ``value`` (``None``: a cache assigned it)."""
        if id(value) in self._memo_values:
            return None
        return self._bound_in.get(id(value), set())

    # -- the enclosing loops -------------------------------------------------------------
    def infos(self) -> List[LoopInfo]:
        """Enclosing loops of the current node, outermost first."""
        result: List[LoopInfo] = []
        function = self.ctx.function
        if function is not None and function.kind == "lambda":
            call = self._pending_lambdas.get(id(function.node))
            if call is not None:
                found = self._lambdas.get(id(function.node))
                if found is None:
                    self.current = result
                    found = self._map_lambda(function.node, call)  # type: ignore[arg-type]
                    self._lambdas[id(function.node)] = found
                result.extend(found)
        for frame in self.ctx.loops:
            found = self._cache.get(id(frame.node))
            if found is None:
                self.current = result
                found = self._compute(frame, result)
                self._cache[id(frame.node)] = found
            result.extend(found)
        self.current = result
        return result

    def note_prefetch(self, call: cst.Call) -> None:
        """``prefetch_related_objects(objs, ...)`` / ``fetch_for_list(objs, ...)``: the rows of
        ``objs`` have relations loaded that their query does not show."""
        if call.args and isinstance(call.args[0].value, cst.Name):
            self._prefetched.add(call.args[0].value.value)

    def _prefetched_later(self, iterable: cst.CSTNode) -> bool:
        node = iterable
        while isinstance(node, cst.Call) and node.args and self.ctx.qualname(node.func) in (
            "builtins.enumerate", "builtins.sorted", "builtins.reversed", "builtins.list"
        ):
            node = node.args[0].value
        return isinstance(node, cst.Name) and node.value in self._prefetched

    def note_map(self, call: cst.Call) -> None:
        """``map(lambda x: ..., iterable)``: the lambda body runs once per item."""
        if len(call.args) >= 2 and isinstance(call.args[0].value, cst.Lambda):
            self._pending_lambdas[id(call.args[0].value)] = call

    def _map_lambda(self, node: cst.Lambda, call: cst.Call) -> List[LoopInfo]:
        params = [p.name.value for p in node.params.params]
        infos: List[LoopInfo] = []
        for index, arg in enumerate(call.args[1:]):
            names = [params[index]] if index < len(params) else []
            infos.append(self._for_clause(node, cst.Name(names[0]) if names else cst.Name("_"), arg.value, infos))
        return infos

    def _compute(self, frame: LoopFrame, outer: List[LoopInfo]) -> List[LoopInfo]:
        if frame.kind == "while":
            test = getattr(frame.node, "test", None)
            text = f"while {source_text(test)}" if test is not None else "while"
            if polls(frame.node, self.ctx):
                return [LoopInfo(frame.node, "constant", frozenset(), text)]
            return [LoopInfo(frame.node, "while", database_state(frame.node), text)]
        infos: List[LoopInfo] = []
        for target, iterable in zip(frame.targets, frame.iterables):
            self.current = outer + infos
            info = self._for_clause(frame.node, target, iterable, outer + infos)
            info.is_async = frame.kind == "async for"
            info.rebound = self._rebound.setdefault(id(frame.node), set())
            infos.append(info)
        return infos

    def _for_clause(self, node: cst.CSTNode, target: cst.CSTNode, iterable: cst.CSTNode,
                    outer: List[LoopInfo]) -> LoopInfo:
        names = names_of(target)
        shown = iterable
        while isinstance(shown, cst.Call) and shown.args and self.ctx.qualname(shown.func) in (
            "builtins.enumerate", "builtins.sorted", "builtins.reversed", "builtins.list", "builtins.tuple"
        ):
            shown = shown.args[0].value
        text = source_text(shown)
        rows = rows_of(iterable, self.ctx, self.named)
        if rows is not None and self._prefetched_later(iterable):
            rows = dataclasses.replace(rows, loading=UNKNOWN)
        if rows is not None:
            info = LoopInfo(node, "db", frozenset(names), text, source=rows, iterable=iterable)
            row_target = target
            if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2 and _is_enumerate(iterable, self.ctx):
                row_target = target.elements[1].value
            if isinstance(row_target, cst.Name):
                info.rows[row_target.value] = rows
            return info
        kind = classify_iterable(iterable, self.ctx)
        if kind == "unknown" and batch_named(names):
            kind = "batch"
        return LoopInfo(node, kind, frozenset(names), text, iterable=iterable)

    # -- what a name holds ----------------------------------------------------------------
    def named(self, name: str) -> Optional[Rows]:
        """The row(s) ``name`` holds: a loop variable over rows, an alias of a row's
        to-one relation, or one fetched object (its loading known)."""
        for info in reversed(self.current):
            if name in info.names and info.kind != "while":
                bindings = self.ctx.bindings(name)
                if bindings and id(bindings[-1].value) in info.rebound:
                    break  # re-assigned in the body: no longer the row of the loop
                return info.rows.get(name)
        if name in self._resolving:
            return None
        bindings = self.ctx.bindings(name)
        if not bindings:
            return None
        binding = bindings[-1]
        if binding.kind == "param" and binding.annotation is not None:
            return _annotated(binding.annotation, self.ctx)
        if binding.kind not in ("assign", "annotation") or binding.value is None:
            return None
        self._resolving.add(name)
        try:
            value = binding.value
            single = django_single(value, self.ctx) or sqlalchemy_single(value, self.ctx)
            if single is not None:
                return single
            if isinstance(value, cst.Attribute):
                return instance_of(value, self.ctx, self.named)
            return None
        finally:
            self._resolving.discard(name)

    def loop_of(self, name: str) -> Optional[LoopInfo]:
        """The innermost enclosing loop that binds ``name`` (and has not re-bound it)."""
        for info in reversed(self.current):
            if name in info.names and info.kind != "while":
                bindings = self.ctx.bindings(name)
                if bindings and id(bindings[-1].value) in info.rebound:
                    return None
                return info
        return None


def _annotated(annotation: cst.CSTNode, ctx: RuleContext) -> Optional[Rows]:
    """A parameter annotated with a catalogued model: its model is known, not what the
    caller loaded with it."""
    if isinstance(annotation, cst.SimpleString):
        try:
            annotation = cst.parse_expression(str(annotation.evaluated_value))
        except (cst.ParserSyntaxError, ValueError, TypeError):
            return None
    model, written = lookup_model(ctx, annotation)
    if model is None:
        return None
    framework = "django" if model.framework == "django" else "sqlalchemy"
    return Rows(framework, model, written or model.name, written or model.name, True, UNKNOWN)


def _is_enumerate(node: cst.CSTNode, ctx: RuleContext) -> bool:
    return isinstance(node, cst.Call) and ctx.qualname(node.func) == "builtins.enumerate"


def _subtree(node: cst.CSTNode) -> List[cst.CSTNode]:
    found: List[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children(current))
    return found

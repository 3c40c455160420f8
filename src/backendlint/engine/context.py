"""The context tracker: one set of stacks, kept during the single traversal,
that every rule can query instead of keeping its own.

It knows which loops, functions, classes, except handlers and migration bodies
enclose the node being visited, what the file imports, and simple local bindings
(``s = requests.Session()``, ``with httpx.Client() as c``, ``def f(s: Session)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

import libcst as cst

from backendlint.engine.names import ImportMap, dotted_name


@dataclass
class LoopFrame:
    """A loop whose body is being visited; ``targets`` are its loop variables."""

    node: cst.CSTNode
    kind: str  # "for", "async for", "while", "comprehension"
    targets: Tuple[cst.CSTNode, ...]
    iterables: Tuple[cst.CSTNode, ...]


@dataclass
class Binding:
    """A simple local binding: ``name = value`` / ``with value as name`` / ``name: annotation``."""

    name: str
    value: Optional[cst.CSTNode]
    kind: str  # "assign", "with", "param", "annotation", "for"
    annotation: Optional[cst.CSTNode] = None


@dataclass
class ScopeFrame:
    """A function, lambda, class or the module: owns bindings and its loops."""

    node: cst.CSTNode
    kind: str  # "module", "function", "lambda", "class"
    name: str
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)
    loops: List[LoopFrame] = field(default_factory=list)

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, cst.FunctionDef) and self.node.asynchronous is not None


def _concrete_subclasses(base: type) -> FrozenSet[type]:
    found = set()
    stack = [base]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if not getattr(sub, "__abstractmethods__", None):
                found.add(sub)
    return frozenset(found)


_STATEMENT_TYPES: FrozenSet[type] = frozenset({cst.SimpleStatementLine}) | _concrete_subclasses(cst.BaseCompoundStatement)


class ContextTracker:
    """Maintains the stacks. The engine calls :meth:`enter` before the rules
    visit a node and :meth:`leave` after they left it."""

    def __init__(self, imports: ImportMap) -> None:
        self.imports = imports
        self.scopes: List[ScopeFrame] = []
        self.excepts: List[cst.ExceptHandler] = []
        self.statements: List[cst.CSTNode] = []
        self.migration: List[str] = []
        self._loop_parts: Dict[int, LoopFrame] = {}
        self._entered: Dict[int, LoopFrame] = {}

    # -- queries -----------------------------------------------------------------
    @property
    def loops(self) -> Tuple[LoopFrame, ...]:
        """Loops enclosing the current node inside the innermost function."""
        return tuple(self.scopes[-1].loops) if self.scopes else ()

    @property
    def function(self) -> Optional[ScopeFrame]:
        for frame in reversed(self.scopes):
            if frame.kind in ("function", "lambda"):
                return frame
        return None

    @property
    def functions(self) -> Tuple[ScopeFrame, ...]:
        return tuple(f for f in self.scopes if f.kind == "function")

    @property
    def class_(self) -> Optional[ScopeFrame]:
        for frame in reversed(self.scopes):
            if frame.kind == "class":
                return frame
        return None

    @property
    def statement(self) -> Optional[cst.CSTNode]:
        return self.statements[-1] if self.statements else None

    def bindings(self, name: str) -> Tuple[Binding, ...]:
        """Bindings of ``name`` in the innermost scope that has any, oldest first.

        ``self.attr`` names are looked up in the enclosing class."""
        if name.startswith("self.") or name.startswith("cls."):
            cls = self.class_
            found = cls.bindings.get(name) if cls else None
            return tuple(found or ())
        for frame in reversed(self.scopes):
            if frame.kind == "class":
                continue
            found = frame.bindings.get(name)
            if found:
                return tuple(found)
        return ()

    def binding(self, name: str) -> Optional[Binding]:
        found = self.bindings(name)
        return found[-1] if found else None

    # -- traversal hooks ---------------------------------------------------------
    def enter(self, node: cst.CSTNode) -> None:
        key = id(node)
        frame = self._loop_parts.get(key)
        if frame is not None and self.scopes:
            self.scopes[-1].loops.append(frame)
            self._entered[key] = frame
        kind = type(node)
        if kind in _STATEMENT_TYPES:
            self.statements.append(node)
        handler = _ENTER.get(kind)
        if handler is not None:
            handler(self, node)

    def leave(self, node: cst.CSTNode) -> None:
        if self._entered:
            frame = self._entered.pop(id(node), None)
            if frame is not None and self.scopes and self.scopes[-1].loops:
                self.scopes[-1].loops.pop()
        kind = type(node)
        if kind in _STATEMENT_TYPES:
            self.statements.pop()
        handler = _LEAVE.get(kind)
        if handler is not None:
            handler(self, node)

    # -- per-node-type hooks (dispatched on the exact type: isinstance on LibCST's
    # abstract base classes costs more than the rest of the traversal) ------------
    def _enter_module(self, node: cst.Module) -> None:
        self.scopes.append(ScopeFrame(node, "module", "<module>"))

    def _enter_function(self, node: cst.FunctionDef) -> None:
        frame = ScopeFrame(node, "function", node.name.value)
        self.scopes.append(frame)
        self._bind_params(frame, node.params)

    def _enter_lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(ScopeFrame(node, "lambda", "<lambda>"))

    def _enter_class(self, node: cst.ClassDef) -> None:
        self.scopes.append(ScopeFrame(node, "class", node.name.value))

    def _enter_except(self, node: cst.CSTNode) -> None:
        self.excepts.append(node)  # type: ignore[arg-type]

    def _enter_import(self, node: cst.CSTNode) -> None:
        self.imports.add(node)  # type: ignore[arg-type]

    def _leave_scope(self, node: cst.CSTNode) -> None:
        self.scopes.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)) and self.scopes:
            self.scopes[-1].bindings.setdefault(node.name.value, []).append(Binding(node.name.value, node, "def"))

    def _leave_except(self, node: cst.CSTNode) -> None:
        self.excepts.pop()

    def _leave_assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value, "assign")

    def _leave_annassign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value, "annotation", node.annotation.annotation)

    def _leave_augassign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, node, "augassign")

    def _leave_withitem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, node.item, "with")

    def _leave_for(self, node: cst.For) -> None:
        self._bind(node.target, node, "for")

    # -- helpers -----------------------------------------------------------------
    def _register_loop(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.For):
            kind = "async for" if node.asynchronous is not None else "for"
            frame = LoopFrame(node, kind, (node.target,), (node.iter,))
            self._loop_parts[id(node.body)] = frame
        else:
            assert isinstance(node, cst.While)
            frame = LoopFrame(node, "while", (), ())
            self._loop_parts[id(node.test)] = frame
            self._loop_parts[id(node.body)] = frame

    def _register_comprehension(self, node: cst.CSTNode) -> None:
        first = node.for_in  # type: ignore[attr-defined]
        targets, iterables = [], []
        comp: Optional[cst.CompFor] = first
        while comp is not None:
            targets.append(comp.target)
            iterables.append(comp.iter)
            comp = comp.inner_for_in
        frame = LoopFrame(node, "comprehension", tuple(targets), tuple(iterables))
        parts: List[cst.CSTNode] = []
        if isinstance(node, cst.DictComp):
            parts += [node.key, node.value]
        else:
            parts.append(node.elt)  # type: ignore[attr-defined]
        parts += list(first.ifs)
        if first.inner_for_in is not None:
            parts.append(first.inner_for_in)
        for part in parts:
            self._loop_parts[id(part)] = frame

    def _bind_params(self, frame: ScopeFrame, params: cst.Parameters) -> None:
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            annotation = param.annotation.annotation if param.annotation else None
            frame.bindings.setdefault(param.name.value, []).append(
                Binding(param.name.value, param.default, "param", annotation)
            )

    def _bind(
        self,
        target: cst.CSTNode,
        value: Optional[cst.CSTNode],
        kind: str,
        annotation: Optional[cst.CSTNode] = None,
    ) -> None:
        if not self.scopes:
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, None, kind)
            return
        name = dotted_name(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        if name is None:
            return
        scope = self.scopes[-1]
        if "." in name:
            if not (name.startswith("self.") and name.count(".") == 1):
                return
            cls = self.class_
            if cls is None:
                return
            scope = cls
        elif scope.kind == "module" and kind == "assign":
            self._alias_or_shadow(name, value)
        scope.bindings.setdefault(name, []).append(Binding(name, value, kind, annotation))

    def _alias_or_shadow(self, name: str, value: Optional[cst.CSTNode]) -> None:
        """``fetch = requests.get`` aliases an import; any other value shadows it."""
        dotted = dotted_name(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
        resolved = self.imports.resolve(dotted) if dotted else None
        if resolved and not resolved.startswith("builtins."):
            self.imports.aliases[name] = resolved
        else:
            self.imports.forget(name)


_ENTER: Dict[type, Callable[[ContextTracker, Any], None]] = {
    cst.Module: ContextTracker._enter_module,
    cst.FunctionDef: ContextTracker._enter_function,
    cst.Lambda: ContextTracker._enter_lambda,
    cst.ClassDef: ContextTracker._enter_class,
    cst.ExceptHandler: ContextTracker._enter_except,
    cst.ExceptStarHandler: ContextTracker._enter_except,
    cst.For: ContextTracker._register_loop,
    cst.While: ContextTracker._register_loop,
    cst.ListComp: ContextTracker._register_comprehension,
    cst.SetComp: ContextTracker._register_comprehension,
    cst.GeneratorExp: ContextTracker._register_comprehension,
    cst.DictComp: ContextTracker._register_comprehension,
    cst.Import: ContextTracker._enter_import,
    cst.ImportFrom: ContextTracker._enter_import,
}

_LEAVE: Dict[type, Callable[[ContextTracker, Any], None]] = {
    cst.Module: ContextTracker._leave_scope,
    cst.FunctionDef: ContextTracker._leave_scope,
    cst.Lambda: ContextTracker._leave_scope,
    cst.ClassDef: ContextTracker._leave_scope,
    cst.ExceptHandler: ContextTracker._leave_except,
    cst.ExceptStarHandler: ContextTracker._leave_except,
    cst.Assign: ContextTracker._leave_assign,
    cst.AnnAssign: ContextTracker._leave_annassign,
    cst.AugAssign: ContextTracker._leave_augassign,
    cst.WithItem: ContextTracker._leave_withitem,
    cst.For: ContextTracker._leave_for,
}

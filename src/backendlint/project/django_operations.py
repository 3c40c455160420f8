"""Django migration modules read with stdlib :mod:`ast`: the ``Migration`` class (its
flags, dependencies and operations) and each operation's arguments, named by Django's
signatures (:data:`backendlint.api.DJANGO_OPERATION_SIGNATURES`, which the migration
rules share). Names resolve through the module's imports (:class:`~.pyast.Imports`).

One reader for both gatherers that read migrations: the migration history
(:mod:`.migrations`) keeps each operation with its arguments encoded as JSON-able
values (:meth:`MigrationReader.encode`); the schema catalogue (:mod:`.django_migrations`)
reads fields, indexes and options from the bound ``ast`` nodes with
:mod:`.django_fields`, as it reads them from models. A value is encoded as

- constants as themselves (``"x"``, ``3``, ``True``, ``None``), lists and tuples as lists;
- ``{"name": "django.db.models.CASCADE"}`` for a name (qualified through the imports; a
  builtin that is not imported as ``builtins.<name>``);
- ``{"call": "django.db.models.CharField", "args": [...], "kwargs": {...}}`` for a call
  (with ``"star": True`` when it unpacks ``*args`` or ``**kwargs``);
- ``{"dict": {...}}`` for a dict with string keys, ``{"expr": "?"}`` for anything else;

and the operations listed in ``database_operations`` / ``state_operations`` as operations.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from backendlint.api import DJANGO_MIGRATION_BASES, DJANGO_NESTED_OPERATIONS, DJANGO_OPERATION_SIGNATURES
from backendlint.project.pyast import Imports, assignment, dotted

_BUILTINS = frozenset(dir(builtins))
#: A module can define a migration only when a line starts with ``class Migration`` (a
#: cheap test before parsing: big test modules mention migrations without defining one).
MIGRATION_CLASS = re.compile(r"(?:^|\r)\f*class[\s\\]+Migration\b", re.MULTILINE)


@dataclass
class Operation:
    """An operation call (``migrations.AddField(...)``) and its arguments by name."""

    #: The operation class (``AddField``): the last part of ``qual``.
    name: str
    #: The callee qualified through the imports (``django.db.migrations.AddField``).
    qual: str
    node: ast.Call
    #: Positional arguments named by the signature (a ``*args`` one skipped), then keywords.
    args: Dict[str, ast.AST]


@dataclass
class MigrationClass:
    """A module's ``class Migration``: what its body assigns."""

    node: ast.ClassDef
    initial: bool = False
    atomic: bool = True
    #: ``[app label, migration name]`` pairs of ``dependencies`` / ``replaces``.
    dependencies: List[List[str]] = field(default_factory=list)
    replaces: List[List[str]] = field(default_factory=list)
    #: The elements of the ``operations`` list (``None`` for one that is not a call);
    #: ``None`` when the class assigns no list or tuple to ``operations``.
    operations: Optional[List[Optional[Operation]]] = None


class MigrationReader:
    """Reads one migration module through its imports."""

    def __init__(self, imports: Imports) -> None:
        self.imports = imports

    def qualify(self, node: ast.AST) -> Optional[str]:
        """The qualified name of a Name/Attribute chain (see :meth:`Imports.resolve`),
        ``builtins.<name>`` for a builtin the module does not import."""
        name = dotted(node)
        if name is None:
            return None
        if name in _BUILTINS and name not in self.imports.aliases:
            return f"builtins.{name}"
        return self.imports.expand(name)

    # -- the Migration class ---------------------------------------------------------------
    def migration(self, tree: ast.Module, require_base: bool = True) -> Optional[MigrationClass]:
        """The first module-level ``class Migration`` (deriving, with ``require_base``,
        from Django's ``Migration`` through the imports); ``None`` when there is none.
        The last assignment of each name in its body wins."""
        for node in tree.body:
            if not isinstance(node, ast.ClassDef) or node.name != "Migration":
                continue
            if require_base and not any(self.qualify(base) in DJANGO_MIGRATION_BASES for base in node.bases):
                continue
            found = MigrationClass(node)
            for statement in node.body:
                target, value = assignment(statement)
                if target is None or value is None:
                    continue
                if target in ("initial", "atomic") and isinstance(value, ast.Constant) and isinstance(value.value, bool):
                    setattr(found, target, value.value)
                elif target in ("dependencies", "replaces"):
                    setattr(found, target, _constant_pairs(value))
                elif target == "operations" and isinstance(value, (ast.List, ast.Tuple)):
                    found.operations = self.operations(value)
            return found
        return None

    def operations(self, node: ast.AST) -> List[Optional[Operation]]:
        """The operations of a list or tuple literal (``None`` for an element that is not
        a call, so that positions match the source)."""
        return [self.operation(e) for e in node.elts] if isinstance(node, (ast.List, ast.Tuple)) else []

    def operation(self, node: ast.AST) -> Optional[Operation]:
        if not isinstance(node, ast.Call):
            return None
        qual = self.qualify(node.func) or ""
        name = qual.rsplit(".", 1)[-1]
        names = DJANGO_OPERATION_SIGNATURES.get(name, ())
        args: Dict[str, ast.AST] = {}
        for index, arg in enumerate(node.args):
            if not isinstance(arg, ast.Starred) and index < len(names):
                args[names[index]] = arg
        for keyword in node.keywords:
            if keyword.arg is not None:
                args[keyword.arg] = keyword.value
        return Operation(name, qual, node, args)

    # -- the encoding ------------------------------------------------------------------------
    def encode(self, operation: Operation) -> Dict[str, Any]:
        """``{"op", "qual", "line", "end", "kwargs"}``: the operation with its arguments
        encoded (the operations nested in it as operations)."""
        kwargs: Dict[str, Any] = {}
        for name, node in operation.args.items():
            if name in DJANGO_NESTED_OPERATIONS and isinstance(node, (ast.List, ast.Tuple)):
                kwargs[name] = [self.encode(op) if op is not None else None for op in self.operations(node)]
            else:
                kwargs[name] = self.value(node)
        call = operation.node
        return {"op": operation.name, "qual": operation.qual, "line": call.func.lineno, "end": call.end_lineno or call.lineno, "kwargs": kwargs}

    def value(self, node: ast.AST) -> Any:
        """The JSON-able encoding of an expression (see the module docstring)."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, int, float, bool)) or node.value is None:
                return node.value
            return {"expr": "?"}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            if isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
                return -node.operand.value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            if all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
                return {"dict": {k.value: self.value(v) for k, v in zip(node.keys, node.values)}}  # type: ignore[union-attr]
            return {"expr": "?"}
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = self.qualify(node)
            return {"name": name} if name else {"expr": "?"}
        if isinstance(node, ast.Call):
            return self.call(node)
        return {"expr": "?"}

    def call(self, node: ast.Call) -> Dict[str, Any]:
        out: Dict[str, Any] = {"call": self.qualify(node.func) or "", "args": [], "kwargs": {}}
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                out["star"] = True
            else:
                out["args"].append(self.value(arg))
        for keyword in node.keywords:
            if keyword.arg is None:
                out["star"] = True
            else:
                out["kwargs"][keyword.arg] = self.value(keyword.value)
        return out


def _constant_pairs(node: ast.AST) -> List[List[str]]:
    out: List[List[str]] = []
    if isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            if (
                isinstance(element, (ast.Tuple, ast.List))
                and len(element.elts) == 2
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in element.elts)
            ):
                out.append([element.elts[0].value, element.elts[1].value])  # type: ignore[attr-defined]
    return out

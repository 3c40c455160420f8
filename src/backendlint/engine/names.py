"""Cheap name resolution: dotted names and an import-alias map.

Full LibCST scope analysis costs more than the parse itself. Almost every rule
only needs to know what ``r.get`` means when the file says ``import requests as
r``; this module answers that from the file's import statements alone.
"""

from __future__ import annotations

import builtins
from typing import Dict, Optional, Sequence, Union

import libcst as cst

_BUILTINS = frozenset(dir(builtins))


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else ``None``."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _module_of(node: Union[cst.Attribute, cst.Name, None]) -> str:
    return dotted_name(node) if node is not None else ""  # type: ignore[return-value]


class ImportMap:
    """Maps local names bound by import statements to qualified names."""

    def __init__(self, package: Sequence[str] = ()) -> None:
        self._aliases: Dict[str, str] = {}
        self._package = tuple(package)

    @property
    def aliases(self) -> Dict[str, str]:
        return self._aliases

    def add(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        """Record the names an import statement binds."""
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _module_of(alias.name)  # type: ignore[arg-type]
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._aliases[alias.asname.name.value] = full
                else:
                    head = full.split(".", 1)[0]
                    self._aliases[head] = head
            return
        module = _module_of(node.module)  # type: ignore[arg-type]
        if node.relative:
            depth = len(node.relative)
            base = self._package[: len(self._package) - (depth - 1)] if depth > 1 else self._package
            module = ".".join([*base, module] if module else list(base)) or module
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _module_of(alias.name)  # type: ignore[arg-type]
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._aliases[local] = f"{module}.{name}" if module else name

    def forget(self, name: str) -> None:
        """A local assignment shadows an imported name."""
        self._aliases.pop(name, None)

    def resolve(self, dotted: str) -> Optional[str]:
        """The qualified name of ``dotted``, or ``None`` when its head is not imported."""
        head, _, rest = dotted.partition(".")
        target = self._aliases.get(head)
        if target is None:
            if head in _BUILTINS and not rest:
                return f"builtins.{head}"
            return None
        return f"{target}.{rest}" if rest else target


_PLAIN_PREFIXES = frozenset({"", "u", "U", "r", "R", "b", "B", "br", "Br", "bR", "BR", "rb", "rB", "Rb", "RB"})


def string_value(node: Optional[cst.CSTNode], allow_bytes: bool = True) -> Optional[str]:
    """The value of a string literal or an implicit concatenation of literals (bytes
    decoded as latin-1, or ``None`` unless ``allow_bytes``), or ``None`` for anything
    else (f-strings included).

    Literals without escapes are read directly; the rest go through LibCST's
    ``evaluated_value`` (``ast.literal_eval``), which costs a compile per string."""
    if isinstance(node, cst.SimpleString):
        prefix = node.prefix
        if not allow_bytes and "b" in prefix.lower():
            return None
        if prefix in _PLAIN_PREFIXES and ("\\" not in node.value or "r" in prefix.lower()):
            return node.raw_value
        return _evaluated(node)
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left, allow_bytes), string_value(node.right, allow_bytes)
        return left + right if left is not None and right is not None else None
    return None


def _evaluated(node: cst.SimpleString) -> Optional[str]:
    try:
        value = node.evaluated_value
    except (ValueError, SyntaxError, UnicodeError, MemoryError, TypeError):
        return None
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None

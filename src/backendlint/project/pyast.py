"""Small helpers for reading Python files with the stdlib ``ast`` module (fast;
the project pass never builds LibCST trees): import aliases, dotted names and
literal values."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

#: A value :func:`literal` could not read.
UNKNOWN = object()


def module_name(relpath: str) -> str:
    """``src/shop/models/__init__.py`` -> ``shop.models`` (a leading ``src/`` dropped)."""
    path = relpath[:-3] if relpath.endswith(".py") else relpath
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    if len(parts) > 1 and parts[0] in ("src", "lib"):
        parts.pop(0)
    return ".".join(parts)


def package_of(relpath: str) -> Tuple[str, ...]:
    """The package a module belongs to, for relative imports."""
    name = module_name(relpath)
    parts = tuple(name.split(".")) if name else ()
    return parts if relpath.endswith("__init__.py") else parts[:-1]


class Imports:
    """Local names bound by a module's imports -> qualified names."""

    def __init__(self, tree: ast.Module, relpath: str) -> None:
        self.aliases: Dict[str, str] = {}
        package = package_of(relpath)
        for node in _import_statements(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".", 1)[0]
                        self.aliases[head] = head
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                    module = ".".join([*base, module] if module else list(base))
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name

    def resolve(self, node: ast.AST) -> Optional[str]:
        """The qualified name of a Name/Attribute chain; a local (non-imported) head
        is kept as is (``Base`` -> ``Base``), so callers can look it up in the module."""
        name = dotted(node)
        return None if name is None else self.expand(name)

    def expand(self, name: str) -> str:
        """A dotted name with its imported head replaced (``models.F`` -> ``django.db.models.F``)."""
        head, _, rest = name.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return name
        return f"{target}.{rest}" if rest else target

    def imported(self, name: str) -> bool:
        return name.split(".", 1)[0] in self.aliases


@dataclass
class ClassRecord:
    """A class as a module's per-file facts recorded it (``{"name", "qualname", ...}``), and
    the file it came from; the ORM readers resolve these across files."""

    record: Dict[str, Any]
    relpath: str

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def qualname(self) -> str:
        return self.record["qualname"]


def _import_statements(body: List[ast.stmt]) -> List[ast.stmt]:
    """Module-level imports, also under ``if TYPE_CHECKING:`` / ``try:`` (not in functions)."""
    out: List[ast.stmt] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        elif isinstance(node, ast.If):
            out += _import_statements(node.body) + _import_statements(node.orelse)
        elif isinstance(node, ast.Try):
            out += _import_statements(node.body) + _import_statements(node.orelse)
            for handler in node.handlers:
                out += _import_statements(handler.body)
    return out


def top_level_classes(body: List[ast.stmt]) -> List[ast.ClassDef]:
    """Module-level classes, also those under a module-level ``if``/``try`` (swappable
    models: ``if not is_model_registered("shop", "Order"): class Order(AbstractOrder): ...``)."""
    out: List[ast.ClassDef] = []
    for node in body:
        if isinstance(node, ast.ClassDef):
            out.append(node)
        elif isinstance(node, ast.If):
            out += top_level_classes(node.body) + top_level_classes(node.orelse)
        elif isinstance(node, ast.Try):
            out += top_level_classes(node.body) + top_level_classes(node.orelse)
    return out


def assignment(stmt: ast.stmt) -> Tuple[Optional[str], Optional[ast.AST]]:
    """``(name, value)`` of ``name = value`` or ``name: T = value`` (value ``None`` when the
    name is only annotated); ``(None, None)`` for any other statement."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def dotted(node: ast.AST) -> Optional[str]:
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def last_name(node: ast.AST) -> str:
    """``models.CharField`` -> ``CharField``; ``""`` for anything else."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def literal(node: Optional[ast.AST], constants: Optional[Dict[str, Any]] = None) -> Any:
    """The value of a literal expression (str, number, bool, None, tuple/list/set/dict
    of those, implicit string concatenation), or :data:`UNKNOWN`. Names bound to
    module-level constants are read through ``constants``."""
    if node is None:
        return UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = [literal(e, constants) for e in node.elts]
        if any(i is UNKNOWN for i in items):
            return UNKNOWN
        return list(items)
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values):
            k, v = literal(key, constants), literal(value, constants)
            if k is UNKNOWN or v is UNKNOWN or isinstance(k, (list, dict)):
                return UNKNOWN
            out[k] = v
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = literal(node.left, constants), literal(node.right, constants)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return UNKNOWN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = literal(node.operand, constants)
        return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else UNKNOWN
    if isinstance(node, ast.Name) and constants is not None and node.id in constants:
        return constants[node.id]
    return UNKNOWN


def kwargs(call: ast.Call) -> Dict[str, ast.AST]:
    return {k.arg: k.value for k in call.keywords if k.arg is not None}


def has_star_kwargs(call: ast.Call) -> bool:
    return any(k.arg is None for k in call.keywords)


def module_constants(tree: ast.Module) -> Dict[str, Any]:
    """Module-level ``NAME = <literal>`` bindings (the last one wins)."""
    out: Dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = literal(node.value, out)
            if value is not UNKNOWN:
                out[node.targets[0].id] = value
            else:
                out.pop(node.targets[0].id, None)
    return out


def source_text(node: ast.AST) -> str:
    """Compact source text of an expression (for descriptions only)."""
    try:
        return ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):  # pragma: no cover - unparse reads any tree
        return "?"


def parse(text: str) -> Optional[ast.Module]:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


#: Files smaller than this are parsed whole; larger ones first reduced by :func:`reduce_source`.
REDUCE_ABOVE = 8192

_TOP_LEVEL = re.compile(r"^(?=[^\s#)\]}])", re.MULTILINE)
_KEEP_STATEMENT = re.compile(
    r"^(?:import\s|from\s|[A-Z][A-Z0-9_]*\s*=|(?:down_)?revision\s*[=:]|def\s+upgrade\b|\w+\s*(?::[^=\n]*)?=\s*[\w.]*(?:Table|declarative_base|SQLAlchemy|registry)\(|"
    r"Index\(|[\w.]+\s*=\s*Index\()"
)
_CLASS = re.compile(r"^class\s+\w+\s*[(:]")
#: Classes kept whatever their body: models without fields, migrations.
_CLASS_KEEP = re.compile(r"^class\s+\w+\s*\([^)]*(?:Model|Migration|Base)\b")
_MEMBER = re.compile(
    r"^([ \t]+)(?:class\s+Meta\b|__(?:tablename|table_args|table|abstract)__\s*[=:]|"
    r"\w+\s*(?::[^=\n]*)?=\s*[\w.]*(?:Field|ForeignKey|Key|Column|column|relationship|Relationship)\s*\()",
    re.MULTILINE,
)


def reduce_source(text: str) -> str:
    """``text`` with only what the catalogue reads kept (module-level imports, constants,
    ``Table``/``Index``/base factories, and classes that declare fields, ``Meta`` or
    ``__tablename__``); every other line blanked so line numbers stay right. A big test
    module with two inline models parses in a fraction of the time."""
    starts = [m.start() for m in _TOP_LEVEL.finditer(text)]
    if not starts:
        return text
    pieces: List[str] = []
    if starts[0] > 0:
        pieces.append("\n" * text.count("\n", 0, starts[0]))
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        chunk = text[start:end]
        if _keep(chunk):
            pieces.append(chunk)
        else:
            pieces.append("\n" * chunk.count("\n"))
    return "".join(pieces)


_NESTED_CLASS = re.compile(r"^[ \t]+class\s+\w+\s*\([^)]*(?:Model|Base)\b", re.MULTILINE)


def _keep(chunk: str) -> bool:
    if _KEEP_STATEMENT.match(chunk):
        return True
    if chunk.startswith(("if ", "try:")):
        return bool(_NESTED_CLASS.search(chunk))
    if not _CLASS.match(chunk):
        return False
    if _CLASS_KEEP.match(chunk):
        return True
    body = chunk.split("\n", 1)[1] if "\n" in chunk else ""
    indent = re.match(r"(?:[ \t]*\n)*([ \t]+)\S", body)
    if indent is None:
        return False
    level = indent.group(1)
    return any(m.group(1) == level for m in _MEMBER.finditer(body))


def parse_module(text: str) -> Optional[ast.Module]:
    """Parse a module for the catalogue: big files reduced first, the whole file when
    the reduced text does not parse (a multi-line string at column 0, say)."""
    if len(text) > REDUCE_ABOVE:
        reduced = reduce_source(text)
        tree = parse(reduced)
        if tree is not None:
            return tree
    return parse(text)

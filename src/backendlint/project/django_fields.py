"""Django field, index and constraint declarations read from ``ast`` nodes, shared
by the model reader and the migration reader. Everything returned is JSON-able."""

from __future__ import annotations

import ast
from typing import Any, Dict, List, Optional

from backendlint.project.pyast import UNKNOWN, Imports, assignment, dotted, has_star_kwargs, kwargs, last_name, literal

#: Libraries whose ``...Field`` classes are not model fields.
_NOT_MODEL_FIELDS = (
    "django.forms",
    "rest_framework",
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "marshmallow",
    "graphene",
    "attr",
    "attrs",
    "dataclasses",
    "wtforms",
    "strawberry",
    "ninja",
)

INDEX_METHODS = {
    "Index": "btree",
    "BTreeIndex": "btree",
    "HashIndex": "hash",
    "GinIndex": "gin",
    "GistIndex": "gist",
    "BrinIndex": "brin",
    "BloomIndex": "bloom",
    "SpGistIndex": "spgist",
}

#: Django expression classes -> the SQL function they produce (for describing indexes).
_FUNCTIONS = {
    "Lower": "lower",
    "Upper": "upper",
    "TruncDate": "date",
    "Cast": "cast",
    "Coalesce": "coalesce",
    "Length": "length",
    "Trim": "trim",
    "ExtractYear": "extract_year",
    "ExtractMonth": "extract_month",
    "ExtractDay": "extract_day",
}


def field_kind(qualname: str) -> Optional[str]:
    """fk, o2o, m2m, generic_fk, generic_rel, field; ``None`` when not a model field."""
    if any(qualname == lib or qualname.startswith(lib + ".") for lib in _NOT_MODEL_FIELDS):
        return None
    name = qualname.rsplit(".", 1)[-1]
    if name == "GenericForeignKey":
        return "generic_fk"
    if name == "GenericRelation":
        return "generic_rel"
    if name.endswith("ForeignKey") or name == "ParentalKey":
        return "fk"
    if name.endswith("OneToOneField"):
        return "o2o"
    if name.endswith("ManyToManyField"):
        return "m2m"
    if name.endswith("Field") and name not in ("Field", "FieldFile"):
        return "field"
    if name == "Field" and qualname.startswith("django.db.models"):
        return "field"
    return None


def relation_target(node: Optional[ast.AST], imports: Imports) -> str:
    """``"Author"`` / ``"shop.Author"`` / ``"self"`` / ``Author`` -> the text to resolve later."""
    if node is None:
        return ""
    value = literal(node)
    if isinstance(value, str):
        return value
    name = imports.resolve(node)
    if name:
        return name
    return ""


def read_field(name: str, call: ast.Call, imports: Imports, constants: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """One field declaration (``models.ForeignKey(Author, on_delete=..., related_name="books")``)."""
    qualname = imports.resolve(call.func)
    if not qualname:
        return None
    kind = field_kind(qualname)
    if kind is None:
        return None
    kw = kwargs(call)

    def flag(key: str) -> Optional[bool]:
        value = literal(kw.get(key), constants)
        return bool(value) if value is not UNKNOWN and value is not None else None

    def text(key: str) -> str:
        value = literal(kw.get(key), constants)
        return value if isinstance(value, str) else ""

    field: Dict[str, Any] = {
        "name": name,
        "kind": kind,
        "type": qualname.rsplit(".", 1)[-1],
        "line": call.lineno,
        "pk": bool(flag("primary_key")),
        "unique": bool(flag("unique")),
        "db_index": flag("db_index"),
        "null": bool(flag("null")),
        "db_column": text("db_column"),
        "opaque": has_star_kwargs(call),
    }
    if kind in ("fk", "o2o", "m2m"):
        target = kw.get("to") or (call.args[0] if call.args else None)
        field["target"] = relation_target(target, imports)
        field["related_name"] = text("related_name")
        field["related_query_name"] = text("related_query_name")
        field["parent_link"] = bool(flag("parent_link"))
    if kind == "m2m":
        field["through"] = relation_target(kw.get("through"), imports)
        field["db_table"] = text("db_table")
    if kind == "generic_rel":
        field["target"] = relation_target(kw.get("to") or (call.args[0] if call.args else None), imports)
    return field


def expression(node: ast.AST, imports: Imports) -> Dict[str, Any]:
    """An index/constraint expression: a plain column (``F("x")``, ``F("x").desc()``)
    or a function of columns (``Lower("email")``) as SQL-ish text."""
    descending = False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("desc", "asc"):
        descending = node.func.attr == "desc"
        node = node.func.value
    if isinstance(node, ast.Call):
        callee = last_name(node.func)
        if callee == "F" and node.args:
            value = literal(node.args[0])
            if isinstance(value, str):
                return {"column": value, "expression": False, "desc": descending}
        if callee == "OrderBy" and node.args:
            inner = expression(node.args[0], imports)
            inner["desc"] = literal(kwargs(node).get("descending")) is True
            return inner
        refs = sorted(_referenced_fields(node))
        function = _FUNCTIONS.get(callee, callee.lower() or "expr")
        args = ", ".join(refs)
        return {"column": f"{function}({args})", "expression": True, "desc": descending, "refs": refs}
    value = literal(node)
    if isinstance(value, str):
        return {"column": value, "expression": False, "desc": False}
    return {"column": "expr", "expression": True, "desc": descending, "refs": []}


def _referenced_fields(node: ast.AST) -> List[str]:
    """Field names an expression refers to: string arguments and ``F("x")``."""
    found: List[str] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            for arg in child.args:
                value = literal(arg)
                if isinstance(value, str) and value.replace("__", "").replace("_", "").isalnum():
                    if last_name(child.func) not in ("Value",) and value not in found:
                        found.append(value)
    return found


def read_index(call: ast.Call, imports: Imports, constants: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """``Index(...)``, ``GinIndex(...)``, ``UniqueConstraint(...)``, ``ExclusionConstraint(...)``."""
    callee = last_name(call.func)
    kw = kwargs(call)
    unique = False
    method = INDEX_METHODS.get(callee)
    if callee == "UniqueConstraint":
        unique, method = True, "btree"
    elif callee == "ExclusionConstraint":
        method = str(literal(kw.get("index_type"), constants) or "gist").lower()
    if method is None:
        return None
    items: List[Dict[str, Any]] = []
    fields = literal(kw.get("fields"), constants)
    if isinstance(fields, list) and all(isinstance(f, str) for f in fields):
        for name in fields:
            items.append({"column": name.lstrip("-"), "expression": False, "desc": name.startswith("-")})
    elif callee == "ExclusionConstraint" and isinstance(kw.get("expressions"), (ast.List, ast.Tuple)):
        for element in kw["expressions"].elts:  # type: ignore[attr-defined]
            if isinstance(element, ast.Tuple) and element.elts:
                items.append(expression(element.elts[0], imports))
    else:
        items.extend(expression(arg, imports) for arg in call.args)
    if not items:
        return None
    opclasses = literal(kw.get("opclasses"), constants)
    name = literal(kw.get("name"), constants)
    return {
        "kind": callee,
        "items": items,
        "unique": unique,
        "partial": "condition" in kw,
        "method": method,
        "name": name if isinstance(name, str) else "",
        "opclasses": opclasses if isinstance(opclasses, list) else [],
        "line": call.lineno,
    }


def read_meta_value(key: str, node: ast.AST, imports: Imports, constants: Dict[str, Any]) -> Any:
    """One ``class Meta`` / ``CreateModel(options=...)`` entry, JSON-able, or UNKNOWN."""
    if key in ("indexes", "constraints"):
        if not isinstance(node, (ast.List, ast.Tuple)):
            return UNKNOWN
        out = []
        for element in node.elts:
            if isinstance(element, ast.Call):
                index = read_index(element, imports, constants)
                if index is not None:
                    out.append(index)
        return out
    if key == "ordering":
        if isinstance(node, (ast.List, ast.Tuple)):
            out = []
            for element in node.elts:
                value = literal(element, constants)
                if isinstance(value, str):
                    out.append(value)
                else:
                    item = expression(element, imports)
                    out.append(("-" if item.get("desc") else "") + item["column"])
            return out
        value = literal(node, constants)
        return [value] if isinstance(value, str) else UNKNOWN
    if key in ("unique_together", "index_together"):
        value = literal(node, constants)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [value]
        if isinstance(value, list) and all(isinstance(v, list) for v in value):
            return value
        return UNKNOWN
    value = literal(node, constants)
    if key in ("db_table", "app_label"):
        return value if isinstance(value, str) and value else UNKNOWN
    if key in ("abstract", "proxy", "managed"):
        return value if isinstance(value, bool) else UNKNOWN
    return value


META_KEYS = (
    "db_table",
    "app_label",
    "abstract",
    "proxy",
    "managed",
    "ordering",
    "indexes",
    "constraints",
    "unique_together",
    "index_together",
)


def read_meta(cls: ast.ClassDef, imports: Imports, constants: Dict[str, Any]) -> Dict[str, Any]:
    meta: Dict[str, Any] = {}
    for node in cls.body:
        key, value = assignment(node)
        if key in META_KEYS and value is not None:
            read = read_meta_value(key, value, imports, constants)
            if read is not UNKNOWN:
                meta[key] = read
    meta["bases"] = [d for d in (dotted(b) for b in cls.bases) if d]
    return meta

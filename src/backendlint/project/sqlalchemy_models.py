"""SQLAlchemy / SQLModel / Flask-SQLAlchemy models: declarative classes, ``Table(...)``
objects and module-level ``Index(...)`` read with stdlib ``ast``, then resolved
across files (mixins, single- and joined-table inheritance, relationship targets,
``backref``/``back_populates``, collection or scalar, loading strategy)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from backendlint.project.pyast import UNKNOWN, ClassRecord, Imports, dotted, kwargs, last_name, literal, source_text

_COLLECTIONS = frozenset({"list", "List", "set", "Set", "frozenset", "FrozenSet", "Sequence", "Collection", "MutableSequence", "MutableSet", "Iterable", "dict", "Dict"})
_DECLARATIVE_ROOTS = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
        "sqlmodel.SQLModel",
    }
)
_BASE_FACTORIES = ("declarative_base", "generate_base", "as_declarative")
_NOT_SQLALCHEMY = ("django", "rest_framework", "pydantic", "marshmallow", "dataclasses")


def _is_sqlalchemy_call(call: ast.Call, imports: Imports, names: Tuple[str, ...]) -> bool:
    name = last_name(call.func)
    if name not in names:
        return False
    qualname = imports.resolve(call.func) or name
    return not qualname.startswith(_NOT_SQLALCHEMY)


def _annotation_info(node: Optional[ast.AST]) -> Dict[str, Any]:
    """``Mapped[List["Address"]]`` -> collection, target ``Address``; ``WriteOnlyMapped`` ->
    lazy write_only; ``Optional["Team"]`` / ``"Team" | None`` -> scalar ``Team``."""
    info: Dict[str, Any] = {"mapped": False, "collection": None, "target": "", "lazy": "", "optional": False}
    while node is not None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return info
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            info["optional"] = True
            node = node.right if isinstance(node.left, ast.Constant) and node.left.value is None else node.left
            continue
        if isinstance(node, ast.Subscript):
            head = last_name(node.value)
            inner = node.slice
            if isinstance(inner, ast.Index):  # pragma: no cover - Python 3.8 trees
                inner = inner.value  # type: ignore[attr-defined]
            if head in ("Mapped", "WriteOnlyMapped", "DynamicMapped"):
                info["mapped"] = True
                if head == "WriteOnlyMapped":
                    info["lazy"], info["collection"] = "write_only", True
                elif head == "DynamicMapped":
                    info["lazy"], info["collection"] = "dynamic", True
                node = inner
                continue
            if head in ("Optional", "ClassVar", "Annotated"):
                info["optional"] = info["optional"] or head == "Optional"
                if head == "ClassVar":
                    info["classvar"] = True
                    return info
                node = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                continue
            if head in _COLLECTIONS:
                if info["collection"] is None:
                    info["collection"] = True
                node = inner.elts[-1] if isinstance(inner, ast.Tuple) and inner.elts else inner
                continue
            return info
        name = dotted(node)
        if name:
            info["target"] = name
            if info["collection"] is None:
                info["collection"] = False
        return info
    return info


def _type_text(node: ast.AST) -> str:
    return last_name(node.func) if isinstance(node, ast.Call) else last_name(node)


def read_column(attr: str, call: ast.Call, imports: Imports, constants: Dict[str, Any], sqlmodel: bool = False) -> Dict[str, Any]:
    """``Column("name", Integer, ForeignKey("users.id"), index=True)`` / ``mapped_column(...)``
    / SQLModel ``Field(primary_key=True, foreign_key="team.id")``."""
    kw = kwargs(call)
    name = attr
    type_name = ""
    foreign = ""
    for arg in call.args:
        value = literal(arg, constants)
        if isinstance(value, str) and name == attr and arg is call.args[0]:
            name = value
        elif isinstance(arg, ast.Call) and last_name(arg.func) == "ForeignKey" and arg.args:
            target = literal(arg.args[0], constants)
            foreign = target if isinstance(target, str) else (source_text(arg.args[0]) or "")
        elif not type_name and isinstance(arg, (ast.Name, ast.Attribute, ast.Call)):
            type_name = _type_text(arg)
    if sqlmodel:
        sa_column = kw.get("sa_column")
        if isinstance(sa_column, ast.Call):
            return read_column(attr, sa_column, imports, constants)
        target = literal(kw.get("foreign_key"), constants)
        foreign = target if isinstance(target, str) else ""
    explicit = literal(kw.get("name"), constants)
    if isinstance(explicit, str):
        name = explicit

    def flag(key: str) -> bool:
        return literal(kw.get(key), constants) is True

    nullable = literal(kw.get("nullable"), constants)
    return {
        "attr": attr,
        "name": name.lower(),
        "type": type_name,
        "pk": flag("primary_key"),
        "unique": flag("unique"),
        "index": flag("index"),
        "nullable": nullable if isinstance(nullable, bool) else not flag("primary_key"),
        "fk": foreign.lower() if isinstance(foreign, str) else "",
        "line": call.lineno,
    }


def read_relationship(attr: str, call: ast.Call, annotation: Dict[str, Any], imports: Imports, constants: Dict[str, Any]) -> Dict[str, Any]:
    kw = kwargs(call)
    target = ""
    if call.args:
        first = call.args[0]
        if isinstance(first, ast.Lambda):
            first = first.body
        value = literal(first, constants)
        target = value if isinstance(value, str) else (imports.resolve(first) or "")
    target = target or annotation.get("target", "")
    extra = literal(kw.get("sa_relationship_kwargs"), constants)
    options: Dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    for key in ("lazy", "uselist", "secondary", "back_populates", "backref", "viewonly"):
        if key in kw:
            value = literal(kw[key], constants)
            if value is UNKNOWN and key == "secondary":
                value = dotted(kw[key]) or ""
            if value is UNKNOWN and key == "backref" and isinstance(kw[key], ast.Call):
                inner = kw[key]
                value = {"name": literal(inner.args[0], constants) if inner.args else "", "lazy": literal(kwargs(inner).get("lazy"), constants)}
            if value is not UNKNOWN:
                options[key] = value
    lazy = options.get("lazy", UNKNOWN)
    if lazy is True:
        lazy = "select"
    elif lazy is False:
        lazy = "joined"
    elif lazy is None:
        lazy = "noload"
    elif not isinstance(lazy, str):
        lazy = annotation.get("lazy") or "select"
    backref = options.get("backref")
    if isinstance(backref, str):
        backref = {"name": backref, "lazy": "select"}
    if isinstance(backref, dict) and not isinstance(backref.get("lazy"), str):
        backref["lazy"] = "select"
    uselist = options.get("uselist")
    secondary = options.get("secondary")
    return {
        "attr": attr,
        "target": target.strip("\"'"),
        "lazy": lazy,
        "uselist": uselist if isinstance(uselist, bool) else None,
        "collection": annotation.get("collection"),
        "secondary": secondary.lower() if isinstance(secondary, str) else "",
        "back_populates": options.get("back_populates") if isinstance(options.get("back_populates"), str) else "",
        "backref": backref if isinstance(backref, dict) and isinstance(backref.get("name"), str) else None,
        "line": call.lineno,
    }


def read_index_args(call: ast.Call, constants: Dict[str, Any], attr_columns: Dict[str, str]) -> Optional[Dict[str, Any]]:
    """``Index("ix", "a", User.b, func.lower(email), unique=True, postgresql_where=...)``,
    ``UniqueConstraint(...)``, ``PrimaryKeyConstraint(...)``."""
    kind = last_name(call.func)
    kw = kwargs(call)
    args = list(call.args)
    name = ""
    if kind == "Index" and args:
        first = literal(args[0], constants)
        name = first if isinstance(first, str) else ""
        args = args[1:]
    elif isinstance(literal(kw.get("name"), constants), str):
        name = literal(kw["name"], constants)
    items = [_item(a, constants, attr_columns) for a in args]
    if kind in ("UniqueConstraint", "PrimaryKeyConstraint") and not items:
        columns = literal(kw.get("columns"), constants)
        if isinstance(columns, list):
            items = [{"column": str(c).lower(), "expression": False} for c in columns]
    if not items:
        return None
    using = literal(kw.get("postgresql_using"), constants)
    ops = literal(kw.get("postgresql_ops"), constants)
    return {
        "kind": kind,
        "name": name,
        "items": items,
        "unique": kind in ("UniqueConstraint", "PrimaryKeyConstraint") or literal(kw.get("unique"), constants) is True,
        "partial": any(k.endswith("_where") for k in kw),
        "method": using.lower() if isinstance(using, str) else "btree",
        "opclasses": sorted(str(v) for v in ops.values()) if isinstance(ops, dict) else [],
        "line": call.lineno,
    }


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _item(node: ast.AST, constants: Dict[str, Any], attr_columns: Dict[str, str]) -> Dict[str, Any]:
    """A column of an index: a string, ``attr``, ``User.attr``, ``t.c.col``, or an expression."""
    descending = False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("desc", "asc") and not node.args:
        descending = node.func.attr == "desc"
        node = node.func.value
    value = literal(node, constants)
    if isinstance(value, str):
        return {"column": value.lower(), "expression": False, "desc": descending}
    if isinstance(node, ast.Name):
        return {"column": attr_columns.get(node.id, node.id).lower(), "expression": False, "desc": descending}
    if isinstance(node, ast.Attribute):
        owner = dotted(node.value) or ""
        if owner.endswith(".c") or owner.endswith(".columns"):
            return {"column": node.attr.lower(), "table_var": owner.rsplit(".", 1)[0], "expression": False, "desc": descending}
        return {"column": node.attr, "class": owner, "expression": False, "desc": descending}
    if isinstance(node, ast.Call) and last_name(node.func) == "text" and node.args:
        text = literal(node.args[0], constants)
        if isinstance(text, str):
            return {"column": text.lower(), "expression": True, "refs": _identifiers(text), "desc": descending}
    refs: List[Dict[str, str]] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id not in ("func", "sa", "sqlalchemy"):
            refs.append({"class": child.value.id, "column": child.attr})
        elif isinstance(child, ast.Name) and child.id in attr_columns:
            refs.append({"column": attr_columns[child.id]})
    function = last_name(node.func) if isinstance(node, ast.Call) else "expr"
    names = [r["column"].lower() for r in refs]
    return {"column": f"{function.lower()}({', '.join(names)})", "expression": True, "refs": names, "ref_classes": refs, "desc": descending}


def _identifiers(text: str) -> List[str]:
    words = [w.lower() for w in _IDENT.findall(text)]
    return [w for w in words if w not in _SQL_WORDS][:1] if words else []


_SQL_WORDS = frozenset({"lower", "upper", "date", "coalesce", "cast", "as", "text", "varchar", "desc", "asc", "nulls", "first", "last", "trim", "length", "collate"})


def read_table_call(call: ast.Call, imports: Imports, constants: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """``Table("users", metadata, Column(...), Index(...), UniqueConstraint(...))``."""
    if not call.args:
        return None
    name = literal(call.args[0], constants)
    if not isinstance(name, str):
        return None
    columns, table_args = [], []
    for arg in call.args[1:]:
        if isinstance(arg, ast.Call):
            callee = last_name(arg.func)
            if callee == "Column":
                columns.append(read_column("", arg, imports, constants))
            elif callee in ("Index", "UniqueConstraint", "PrimaryKeyConstraint"):
                found = read_index_args(arg, constants, {})
                if found:
                    table_args.append(found)
    return {"name": name.lower(), "columns": columns, "table_args": table_args, "line": call.lineno}


def read_module(tree: ast.Module, imports: Imports, module: str, constants: Dict[str, Any]) -> Dict[str, Any]:
    classes: List[Dict[str, Any]] = []
    tables: List[Dict[str, Any]] = []
    indexes: List[Dict[str, Any]] = []
    roots: List[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            record = _read_class(node, imports, module, constants)
            if record is not None:
                classes.append(record)
            continue
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
        target = ""
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = dotted(node.targets[0]) or ""
        elif isinstance(node, ast.AnnAssign):
            target = dotted(node.target) or ""
        if not isinstance(value, ast.Call):
            continue
        callee = last_name(value.func)
        if callee == "Table":
            table = read_table_call(value, imports, constants)
            if table is not None:
                table["var"] = f"{module}.{target}" if target else ""
                tables.append(table)
        elif callee == "Index":
            found = read_index_args(value, constants, {})
            if found is not None:
                indexes.append(found)
        elif callee in _BASE_FACTORIES and target:
            roots.append(f"{module}.{target}")
        elif callee == "SQLAlchemy" and target:
            roots.append(f"{module}.{target}.Model")
    return {"classes": classes, "tables": tables, "indexes": indexes, "roots": roots}


def _read_class(node: ast.ClassDef, imports: Imports, module: str, constants: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    bases = [imports.resolve(b) or "" for b in node.bases]
    is_table_kw = any(k.arg == "table" and literal(k.value) is True for k in node.keywords)
    sqlmodel = any(b.startswith("sqlmodel") for b in bases) or is_table_kw
    record: Dict[str, Any] = {
        "name": node.name,
        "qualname": f"{module}.{node.name}" if module else node.name,
        "line": node.lineno,
        "bases": bases,
        "tablename": None,
        "abstract": False,
        "table_kw": is_table_kw,
        "columns": [],
        "relations": [],
        "table_args": [],
        "table": None,
        "declared_tablename": False,
    }
    attr_columns: Dict[str, str] = {}
    pending_args: Optional[ast.AST] = None
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            attr, value, annotation = stmt.targets[0].id, stmt.value, None
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            attr, value, annotation = stmt.target.id, stmt.value, stmt.annotation
        elif isinstance(stmt, ast.FunctionDef) and stmt.name == "__tablename__":
            record["declared_tablename"] = True
            continue
        else:
            continue
        if attr == "__tablename__":
            name = literal(value, constants)
            record["tablename"] = name.lower() if isinstance(name, str) else None
            record["declared_tablename"] = not isinstance(name, str)
            continue
        if attr == "__abstract__":
            record["abstract"] = literal(value, constants) is True
            continue
        if attr == "__table_args__":
            pending_args = value
            continue
        if attr == "__table__" and isinstance(value, ast.Call):
            record["table"] = read_table_call(value, imports, constants)
            continue
        info = _annotation_info(annotation)
        if info.get("classvar") or attr.startswith("__"):
            continue
        if isinstance(value, ast.Call):
            if _is_sqlalchemy_call(value, imports, ("Column", "mapped_column")):
                column = read_column(attr, value, imports, constants)
                if info["mapped"] and "nullable" not in kwargs(value) and not column["pk"]:
                    column["nullable"] = info["optional"]
                column["type"] = column["type"] or info["target"]
                record["columns"].append(column)
                attr_columns[attr] = column["name"]
            elif sqlmodel and _is_sqlalchemy_call(value, imports, ("Field",)):
                column = read_column(attr, value, imports, constants, sqlmodel=True)
                record["columns"].append(column)
                attr_columns[attr] = column["name"]
            elif _is_sqlalchemy_call(value, imports, ("relationship", "Relationship", "relation")):
                record["relations"].append(read_relationship(attr, value, info, imports, constants))
            continue
        if annotation is not None and (info["mapped"] or sqlmodel) and not info.get("collection"):
            if value is None or isinstance(value, ast.Constant):
                record["columns"].append(
                    {"attr": attr, "name": attr.lower(), "type": info["target"], "pk": False, "unique": False, "index": False,
                     "nullable": info["optional"] or not info["mapped"], "fk": "", "line": stmt.lineno, "annotated": True}
                )
                attr_columns[attr] = attr.lower()
    if pending_args is not None:
        elements = pending_args.elts if isinstance(pending_args, (ast.Tuple, ast.List)) else []
        for element in elements:
            if isinstance(element, ast.Call) and last_name(element.func) in ("Index", "UniqueConstraint", "PrimaryKeyConstraint"):
                found = read_index_args(element, constants, attr_columns)
                if found is not None:
                    record["table_args"].append(found)
    if not (record["columns"] or record["relations"] or record["tablename"] or record["table"] or record["abstract"] or record["table_kw"]):
        if not any(b in _DECLARATIVE_ROOTS for b in bases):
            return None
    return record


# -- cross-file resolution ------------------------------------------------------------------


@dataclass
class SaClass(ClassRecord):
    parents: List[SaClass] = field(default_factory=list)
    external_base: bool = False
    mapped: bool = False
    table: str = ""
    columns: List[Dict[str, Any]] = field(default_factory=list)
    relations: List[Dict[str, Any]] = field(default_factory=list)
    table_args: List[Dict[str, Any]] = field(default_factory=list)
    framework: str = "sqlalchemy"


def snake_case(name: str) -> str:
    """Flask-SQLAlchemy's default table name: ``UserRole`` -> ``user_role``."""
    text = re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name)
    return text.lower().lstrip("_")


def _find(ref: str, by_qualname: Dict[str, SaClass], by_name: Dict[str, List[SaClass]], near: SaClass) -> Optional[SaClass]:
    if not ref:
        return None
    if ref in by_qualname:
        return by_qualname[ref]
    local = f"{near.qualname.rsplit('.', 1)[0]}.{ref}"
    if local in by_qualname:
        return by_qualname[local]
    suffix = [c for q, c in by_qualname.items() if q.endswith("." + ref)]
    if len(suffix) == 1:
        return suffix[0]
    named = by_name.get(ref.rsplit(".", 1)[-1], [])
    return named[0] if len(named) == 1 else None


def resolve(classes: Sequence[SaClass], roots: Sequence[str]) -> List[SaClass]:
    """Decide which classes are mapped, their tables and inherited columns; mapped classes in order."""
    by_qualname = {c.qualname: c for c in classes}
    by_name: Dict[str, List[SaClass]] = {}
    for c in classes:
        by_name.setdefault(c.name, []).append(c)
    root_set = set(roots) | _DECLARATIVE_ROOTS
    root_names = {r.rsplit(".", 1)[-1] for r in roots}
    for cls in classes:
        for base in cls.record["bases"]:
            found = _find(base, by_qualname, by_name, cls) if base not in root_set else None
            if found is not None and found is not cls:
                cls.parents.append(found)
            elif base not in root_set and not base.endswith(".Model") and base.rsplit(".", 1)[-1] not in root_names:
                cls.external_base = True
    declarative = {c.qualname for c in classes if any(b in root_set or b.rsplit(".", 1)[-1] in root_names for b in c.record["bases"])}
    flask = {c.qualname for c in classes if any(b.endswith(".Model") and not b.startswith("django") for b in c.record["bases"])}
    done: Dict[str, bool] = {}

    def rooted(cls: SaClass, seen: Tuple[str, ...] = ()) -> bool:
        if cls.qualname in done:
            return done[cls.qualname]
        if cls.qualname in seen:
            return False
        result = cls.qualname in declarative or cls.qualname in flask or any(rooted(p, (*seen, cls.qualname)) for p in cls.parents)
        done[cls.qualname] = result
        return result

    mapped: List[SaClass] = []
    for cls in classes:
        record = cls.record
        is_sqlmodel = any(b.startswith("sqlmodel") for b in record["bases"]) or record["table_kw"]
        if is_sqlmodel:
            cls.framework = "sqlmodel"
        own_table = record["tablename"] or (record["table"] or {}).get("name")
        if record["abstract"] or record["declared_tablename"]:
            continue
        if is_sqlmodel and not record["table_kw"]:
            continue
        table = own_table
        if not table and is_sqlmodel:
            table = cls.name.lower()
        if not table:
            parent_tables = [p for p in cls.parents if _table_of(p)]
            if parent_tables:
                table = _table_of(parent_tables[0])  # single-table inheritance
            elif rooted(cls) and (cls.qualname in flask or _inherits(cls, flask)) and _has_pk(cls):
                table = snake_case(cls.name)
        if not table:
            continue
        if not (rooted(cls) or own_table or is_sqlmodel):
            continue
        cls.mapped, cls.table = True, table
        _collect(cls, cls, set())
        mapped.append(cls)
    return mapped


def _inherits(cls: SaClass, names: set) -> bool:
    return any(p.qualname in names or _inherits(p, names) for p in cls.parents)


def _has_pk(cls: SaClass) -> bool:
    return any(c["pk"] for c in cls.record["columns"]) or any(_has_pk(p) for p in cls.parents)


def _table_of(cls: SaClass) -> str:
    record = cls.record
    return record["tablename"] or (record["table"] or {}).get("name") or next((_table_of(p) for p in cls.parents if _table_of(p)), "")


def _collect(target: SaClass, cls: SaClass, seen: set) -> None:
    """Columns/relations/table args of ``cls`` and its mixins and abstract bases
    (not of mapped parents with their own table: those stay in the parent's table)."""
    if cls.qualname in seen:
        return
    seen.add(cls.qualname)
    for parent in reversed(cls.parents):
        parent_table = _table_of(parent)
        if parent_table and parent_table != target.table:
            continue
        _collect(target, parent, seen)
    for column in (cls.record["table"] or {}).get("columns", []) + cls.record["columns"]:
        target.columns = [c for c in target.columns if c["attr"] != column["attr"] or not column["attr"]]
        target.columns.append(column)
    for relation in cls.record["relations"]:
        target.relations = [r for r in target.relations if r["attr"] != relation["attr"]]
        target.relations.append(relation)
    target.table_args.extend(cls.record["table_args"])
    target.table_args.extend((cls.record["table"] or {}).get("table_args", []))


# -- tables and models ----------------------------------------------------------------------


def _index_from(table: str, declared: Dict[str, Any], column_for: Any, source: str) -> Any:
    from backendlint.project.catalog import Index

    columns, expressions, descending, references = [], [], [], []
    for item in declared["items"]:
        if item["expression"]:
            columns.append(item["column"])
            refs = item.get("refs") or []
            references.append(refs[0] if len(refs) == 1 else "")
        else:
            mapped = column_for(item)
            if not mapped:
                return None
            columns.append(mapped)
            references.append(mapped)
        expressions.append(bool(item["expression"]))
        descending.append(bool(item.get("desc")))
    label = declared["kind"] + (" partial" if declared["partial"] else "")
    return Index(
        table, tuple(columns), unique=declared["unique"], partial=declared["partial"], method=declared["method"],
        expressions=tuple(expressions), source=f"{source} {label}", name=declared.get("name", ""),
        descending=tuple(descending), references=tuple(references), opclasses=tuple(declared.get("opclasses") or ()),
    )


def table_from_columns(name: str, columns: Sequence[Dict[str, Any]], table_args: Sequence[Dict[str, Any]], relpath: str, line: int, column_for: Any = None) -> Any:
    """A :class:`Table` from column records (``read_column``) and table-level indexes."""
    from backendlint.project.catalog import Column, Index, Table

    seen: Dict[str, Dict[str, Any]] = {}
    for column in columns:
        seen[column["name"]] = column
    for declared in table_args:
        if declared["kind"] == "PrimaryKeyConstraint":
            for item in declared["items"]:
                if item["column"] in seen:
                    seen[item["column"]] = dict(seen[item["column"]], pk=True, nullable=False)
    out_columns = [Column(c["name"], c["type"], c["nullable"], c["pk"], c["unique"]) for c in seen.values()]
    indexes: List[Any] = []
    pk = [c["name"] for c in seen.values() if c["pk"]]
    declared_pk = any(d["kind"] == "PrimaryKeyConstraint" for d in table_args)
    if pk and not declared_pk:
        indexes.append(Index(name, tuple(pk), unique=True, source=f"{relpath}:{line} primary key", name=f"{name}_pkey"))
    for c in seen.values():
        where = f"{relpath}:{c['line']}"
        if c["unique"] and not (c["pk"] and len(pk) == 1):
            indexes.append(Index(name, (c["name"],), unique=True, source=f"{where} {c['attr'] or c['name']} unique=True"))
        elif c["index"]:
            indexes.append(Index(name, (c["name"],), source=f"{where} {c['attr'] or c['name']} index=True"))
    by_attr = {c["attr"]: c["name"] for c in seen.values() if c["attr"]}

    def default_column(item: Dict[str, Any]) -> str:
        return by_attr.get(item["column"], item["column"].lower())

    for declared in table_args:
        index = _index_from(name, declared, column_for or default_column, f"{relpath}:{declared['line']}")
        if index is not None:
            indexes.append(index)
    return Table(name, tuple(out_columns), tuple(indexes), (f"{relpath}:{line}",))


def build(mapped: Sequence[SaClass], all_classes: Sequence[SaClass], tables: Sequence[Tuple[str, Dict[str, Any]]], module_indexes: Sequence[Tuple[str, Dict[str, Any]]]) -> Tuple[List[Any], List[Any]]:
    """(tables, models) of the mapped classes, ``Table(...)`` objects and module-level indexes."""
    from backendlint.project.catalog import Model, Relation

    out_tables: List[Any] = []
    by_qualname = {c.qualname: c for c in mapped}
    by_name: Dict[str, List[SaClass]] = {}
    for c in mapped:
        by_name.setdefault(c.name, []).append(c)
    table_vars = {t.get("var"): t["name"] for _, t in tables if t.get("var")}
    for relpath, table in tables:
        out_tables.append(table_from_columns(table["name"], table["columns"], table["table_args"], relpath, table["line"]))
    relations: Dict[str, List[Any]] = {c.qualname: [] for c in mapped}
    for cls in mapped:
        out_tables.append(table_from_columns(cls.table, cls.columns, cls.table_args, cls.relpath, cls.record["line"]))
        for rel in cls.relations:
            target = _find(rel["target"], by_qualname, by_name, cls)
            local = _fk_to(cls, target.table) if target else ""
            remote = _fk_to(target, cls.table) if target else ""
            if rel["uselist"] is not None:
                many = rel["uselist"]
            elif rel["collection"] is not None:
                many = bool(rel["collection"])
            elif rel["secondary"]:
                many = True
            else:
                many = not local
            secondary = table_vars.get(_qualify(rel["secondary"], cls), rel["secondary"])
            secondary = _suffix_lookup(table_vars, rel["secondary"]) or secondary
            relations[cls.qualname].append(
                Relation(
                    rel["attr"], "relationship", target.qualname if target else rel["target"], column=local, many=many,
                    lazy=rel["lazy"], query_name=rel["attr"], through=secondary,
                    remote_column=remote if many else _pk_column(target) if target else "",
                    back_populates=rel["back_populates"] or (rel["backref"] or {}).get("name", ""),
                )
            )
            backref = rel["backref"]
            if backref and target is not None:
                relations[target.qualname].append(
                    Relation(
                        backref["name"], "relationship", cls.qualname, column=remote, many=not remote if not secondary else True,
                        lazy=backref["lazy"], query_name=backref["name"], through=secondary, back_populates=rel["attr"],
                    )
                )
    for relpath, declared in module_indexes:
        owner = None
        for item in declared["items"] + [r for i in declared["items"] for r in i.get("ref_classes", [])]:
            if item.get("class"):
                owner_cls = _find(item["class"], by_qualname, by_name, mapped[0]) if mapped else None
                if owner_cls is not None:
                    owner = ("class", owner_cls)
                    break
            if item.get("table_var"):
                var = _suffix_lookup(table_vars, item["table_var"])
                if var:
                    owner = ("table", var)
                    break
        if owner is None:
            continue
        if owner[0] == "class":
            cls = owner[1]
            attrs = {c["attr"]: c["name"] for c in cls.columns}
            name = cls.table
            index = _index_from(name, declared, lambda item, attrs=attrs: attrs.get(item["column"], item["column"].lower()), f"{relpath}:{declared['line']}")
        else:
            name = owner[1]
            index = _index_from(name, declared, lambda item: item["column"].lower(), f"{relpath}:{declared['line']}")
        if index is not None:
            from backendlint.project.catalog import Table

            out_tables.append(Table(name, (), (index,), (f"{relpath}:{declared['line']}",)))
    models = []
    for cls in mapped:
        columns = tuple((c["attr"], c["name"]) for c in cls.columns if c["attr"])
        pk = next((c["attr"] for c in cls.columns if c["pk"] and c["attr"]), "")
        models.append(
            Model(
                name=cls.name, qualname=cls.qualname, framework=cls.framework, table=cls.table,
                fields=tuple(a for a, _ in columns), relations=tuple(relations[cls.qualname]),
                path=cls.relpath, line=cls.record["line"], columns=columns, pk=pk,
                parents=tuple(p.qualname for p in cls.parents if p.mapped),
                complete=not cls.external_base and not any(p.external_base for p in cls.parents),
            )
        )
    return out_tables, models


def _qualify(ref: str, cls: SaClass) -> str:
    return f"{cls.qualname.rsplit('.', 1)[0]}.{ref}" if ref and "." not in ref else ref


def _suffix_lookup(table_vars: Dict[str, str], ref: str) -> str:
    if not ref:
        return ""
    if ref in table_vars:
        return table_vars[ref]
    matches = [name for var, name in table_vars.items() if var.endswith("." + ref)]
    return matches[0] if len(set(matches)) == 1 else ""


def _fk_to(cls: Optional[SaClass], table: str) -> str:
    """The column of ``cls`` holding a foreign key into ``table``."""
    if cls is None:
        return ""
    for column in cls.columns:
        if column["fk"] and column["fk"].rsplit(".", 1)[0].rsplit(".", 1)[-1] == table:
            return column["name"]
    return ""


def _pk_column(cls: SaClass) -> str:
    return next((c["name"] for c in cls.columns if c["pk"]), "id")

"""Django migrations as schema: the operations of each migration file (read by
:mod:`.django_operations`, the reader the migration history shares; fields, indexes and
options read from their arguments with :mod:`.django_fields`, ``RunSQL`` DDL with
sqlglot), and their replay per app, in migration order, into the model state they
leave; that state becomes tables the same way models do."""

from __future__ import annotations

import ast
from typing import Any, Dict, List, Optional, Sequence, Tuple

from backendlint.project import django_models, sql_schema
from backendlint.project.django_fields import read_field, read_index, read_meta_value
from backendlint.project.django_operations import MigrationReader, Operation
from backendlint.project.pyast import UNKNOWN, Imports, literal

#: The operations whose effect on the schema is replayed (their arguments are named by
#: Django's signatures, :data:`backendlint.api.DJANGO_OPERATION_SIGNATURES`).
_REPLAYED = frozenset({
    "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable", "AddField", "AlterField", "RemoveField",
    "RenameField", "AddIndex", "AddIndexConcurrently", "RemoveIndex", "RemoveIndexConcurrently", "RenameIndex",
    "AddConstraint", "AddConstraintNotValid", "RemoveConstraint", "AlterUniqueTogether", "AlterIndexTogether", "RunSQL",
})


def _text(node: Optional[ast.AST], constants: Dict[str, Any]) -> str:
    value = literal(node, constants)
    return value if isinstance(value, str) else ""


def app_of(relpath: str) -> str:
    parts = relpath.split("/")
    return parts[-3] if len(parts) >= 3 and parts[-2] == "migrations" else ""


def read_migration(tree: ast.Module, imports: Imports, relpath: str, constants: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """``{"app", "name", "ops"}`` of a migration module's ``Migration.operations``."""
    migration = MigrationReader(imports).migration(tree, require_base=False)
    if migration is None or migration.operations is None:
        return None
    ops = []
    for operation in migration.operations:
        if operation is not None:
            found = _operation(operation, imports, relpath, constants)
            if found is not None:
                ops.append(found)
    name = relpath.rsplit("/", 1)[-1][:-3]
    return {"app": app_of(relpath), "name": name, "ops": ops}


def _operation(operation: Operation, imports: Imports, relpath: str, constants: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    kind, call, args = operation.name, operation.node, operation.args
    if kind not in _REPLAYED:
        return None
    out: Dict[str, Any] = {"op": kind, "line": call.lineno}
    for key in ("name", "model_name", "old_name", "new_name", "table"):
        if key in args:
            out[key] = _text(args[key], constants)
    if kind == "CreateModel":
        fields = []
        node = args.get("fields")
        for element in node.elts if isinstance(node, (ast.List, ast.Tuple)) else []:
            if isinstance(element, ast.Tuple) and len(element.elts) == 2 and isinstance(element.elts[1], ast.Call):
                field_name = _text(element.elts[0], constants)
                found = read_field(field_name, element.elts[1], imports, constants) if field_name else None
                if found is not None:
                    fields.append(found)
        out["fields"] = fields
        options: Dict[str, Any] = {}
        node = args.get("options")
        if isinstance(node, ast.Dict):
            for key_node, value in zip(node.keys, node.values):
                key = literal(key_node)
                if isinstance(key, str):
                    read = read_meta_value(key, value, imports, constants)
                    if read is not UNKNOWN:
                        options[key] = read
        out["options"] = options
    elif kind in ("AddField", "AlterField"):
        field = args.get("field")
        found = read_field(out.get("name", ""), field, imports, constants) if isinstance(field, ast.Call) else None
        if found is None:
            return None
        out["field"] = found
    elif kind in ("AddIndex", "AddIndexConcurrently", "AddConstraint", "AddConstraintNotValid"):
        node = args.get("index") or args.get("constraint")
        found = read_index(node, imports, constants) if isinstance(node, ast.Call) else None
        if found is None:
            return None
        out["index"] = found
    elif kind in ("AlterUniqueTogether", "AlterIndexTogether"):
        key = "unique_together" if kind == "AlterUniqueTogether" else "index_together"
        value = read_meta_value(key, args[key], imports, constants) if key in args else UNKNOWN
        out["value"] = value if value is not UNKNOWN else []
    elif kind == "RunSQL":
        out["ops"] = _run_sql(args.get("sql"), constants, relpath, call.lineno)
        if not out["ops"]:
            return None
    return out


def _run_sql(node: Optional[ast.AST], constants: Dict[str, Any], relpath: str, line: int) -> List[Dict[str, Any]]:
    value = literal(node, constants)
    texts: List[str] = []
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, list) and item and isinstance(item[0], str):
                texts.append(item[0])
    ops: List[Dict[str, Any]] = []
    for text in texts:
        ops.extend(sql_schema.read_script(text, "postgres", relpath, line - 1, "RunSQL"))
    return ops


# -- replay -----------------------------------------------------------------------------------


def replay(
    migrations: Sequence[Tuple[str, Dict[str, Any]]], known: Optional[Dict[Tuple[str, str], List[Dict[str, Any]]]] = None
) -> List[Any]:
    """Tables left by every app's migrations, applied in file-name order per app.

    ``known`` maps ``(app label, model name lower-cased)`` to the fields models.py
    declares, for operations on models whose ``CreateModel`` is not among the
    migrations (squashed or reset histories)."""
    known = known or {}
    from backendlint.project.schema_state import SchemaState

    by_app: Dict[str, List[Tuple[str, Dict[str, Any]]]] = {}
    for relpath, migration in migrations:
        by_app.setdefault(migration.get("app") or "", []).append((relpath, migration))
    tables: List[Any] = []
    sql_state = SchemaState()
    for app, items in sorted(by_app.items()):
        if not app:
            continue
        state: Dict[str, Dict[str, Any]] = {}
        for relpath, migration in sorted(items, key=lambda item: item[1].get("name", "")):
            for op in migration.get("ops", ()):
                if op["op"] == "RunSQL":
                    for sql_op in op["ops"]:
                        sql_state.apply(sql_op)
                else:
                    _apply(state, op, relpath, app, known)
        tables.extend(_tables(app, state))
    return tables + sql_state.tables()


def _apply(
    state: Dict[str, Dict[str, Any]], op: Dict[str, Any], relpath: str, app: str = "",
    known: Optional[Dict[Tuple[str, str], List[Dict[str, Any]]]] = None,
) -> None:
    kind = op["op"]
    model_key = (op.get("model_name") or op.get("name") or "").lower()
    if kind == "CreateModel":
        state[model_key] = {
            "name": op.get("name", ""),
            "fields": {f["name"]: f for f in op.get("fields", ())},
            "options": dict(op.get("options") or {}),
            "source": f"{relpath}:{op['line']}",
            "relpath": relpath,
            "line": op["line"],
        }
        return
    if kind == "RenameModel":
        old = state.pop((op.get("old_name") or "").lower(), None)
        if old is not None:
            old["name"] = op.get("new_name", "")
            state[old["name"].lower()] = old
        return
    model = state.get(model_key)
    if model is None and known and (app, model_key) in known and kind not in ("DeleteModel", "RemoveField"):
        fields = known[(app, model_key)]
        model = state[model_key] = {
            "name": model_key,
            "fields": {f["name"]: f for f in fields},
            "options": {},
            "source": f"{relpath}:{op['line']}",
            "relpath": relpath,
            "line": op["line"],
        }
    if model is None:
        return
    fields, options = model["fields"], model["options"]
    if kind == "DeleteModel":
        state.pop(model_key, None)
    elif kind == "AlterModelTable":
        options["db_table"] = op.get("table") or None
    elif kind in ("AddField", "AlterField"):
        fields[op["field"]["name"]] = dict(op["field"], line=op["line"], relpath=relpath)
    elif kind == "RemoveField":
        fields.pop(op.get("name", ""), None)
    elif kind == "RenameField":
        old, new = op.get("old_name", ""), op.get("new_name", "")
        if old in fields:
            fields[new] = dict(fields.pop(old), name=new)
            for key in ("unique_together", "index_together"):
                options[key] = [[new if n == old else n for n in group] for group in options.get(key) or ()]
            for key in ("indexes", "constraints"):
                for declared in options.get(key) or ():
                    for item in declared["items"]:
                        if not item["expression"] and item["column"] == old:
                            item["column"] = new
    elif kind in ("AddIndex", "AddIndexConcurrently"):
        options.setdefault("indexes", []).append(dict(op["index"], path=relpath))
    elif kind in ("AddConstraint", "AddConstraintNotValid"):
        options.setdefault("constraints", []).append(dict(op["index"], path=relpath))
    elif kind in ("RemoveIndex", "RemoveIndexConcurrently", "RemoveConstraint"):
        key = "constraints" if kind == "RemoveConstraint" else "indexes"
        options[key] = [i for i in options.get(key) or () if i.get("name") != op.get("name")]
    elif kind == "RenameIndex":
        for declared in options.get("indexes") or ():
            if declared.get("name") == op.get("old_name"):
                declared["name"] = op.get("new_name", "")
    elif kind == "AlterUniqueTogether":
        options["unique_together"] = op.get("value") or []
    elif kind == "AlterIndexTogether":
        options["index_together"] = op.get("value") or []


def _tables(app: str, state: Dict[str, Dict[str, Any]]) -> List[Any]:
    """The app's final model state -> tables (with automatic M2M through tables)."""
    from backendlint.project.catalog import Column, Index, Table

    out: List[Any] = []
    tables_by_model = {key: (m["options"].get("db_table") or f"{app}_{key}") for key, m in state.items()}
    for key, model in state.items():
        options = model["options"]
        if options.get("proxy") or options.get("abstract"):
            continue
        record = {"name": model["name"], "qualname": f"{app}.migrations.{model['name']}", "line": model["line"], "bases": [], "fields": [], "meta": options}
        cls = django_models.DjangoClass(record, model["relpath"], app)
        fields = [dict(f, line=f.get("line", model["line"])) for f in model["fields"].values()]
        table = tables_by_model[key]
        resolved = django_models.ResolvedModel(cls, app, table, False, False, fields, options, [], True)
        pk = next((f for f in fields if f["pk"]), None)
        if pk is not None:
            resolved.pk, resolved.pk_column = pk["name"], django_models.column_of(pk)
        built = django_models._table(resolved, model["source"], Column, Index, Table)
        out.append(built)
        for f in fields:
            if f["kind"] == "m2m" and not f.get("through"):
                target = (f.get("target") or "").rsplit(".", 1)[-1].lower()
                if target == "self":
                    target = key
                if not target or target.startswith("settings") or target == "auth_user_model":
                    target = "user"
                name = f.get("db_table") or f"{table}_{f['name']}".lower()
                out.append(django_models.through_table(key, target, name, f"{model['relpath']}:{f['line']} {f['name']} many-to-many", model["source"]))
    return out

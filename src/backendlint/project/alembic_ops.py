"""Alembic revisions: the schema operations of ``upgrade()`` (never ``downgrade()``),
including ``batch_alter_table`` blocks and ``op.execute`` DDL, and their replay in
revision order (``down_revision`` chains)."""

from __future__ import annotations

import ast
from typing import Any, Dict, List, Optional, Sequence, Tuple

from backendlint.project import sql_schema
from backendlint.project.pyast import Imports, dotted, kwargs, last_name, literal
from backendlint.project.schema_state import column as column_op
from backendlint.project.schema_state import index as index_op
from backendlint.project.sqlalchemy_models import read_column, read_index_args


def read_revision(tree: ast.Module, imports: Imports, relpath: str, constants: Dict[str, Any], dialect: str) -> Optional[Dict[str, Any]]:
    upgrade = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)
    if upgrade is None:
        return None
    op_names = {local for local, target in imports.aliases.items() if target == "alembic.op"} or {"op"}
    reader = _Reader(relpath, constants, dialect, imports)
    reader.block(upgrade.body, {name: "" for name in op_names})
    revision = constants.get("revision")
    down = constants.get("down_revision")
    return {
        "revision": revision if isinstance(revision, str) else "",
        "down": [d for d in (down if isinstance(down, list) else [down]) if isinstance(d, str)],
        "ops": reader.ops,
    }


class _Reader:
    def __init__(self, relpath: str, constants: Dict[str, Any], dialect: str, imports: Imports) -> None:
        self.relpath, self.constants, self.dialect, self.imports = relpath, constants, dialect, imports
        self.ops: List[Dict[str, Any]] = []

    def block(self, body: Sequence[ast.stmt], receivers: Dict[str, str]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.With):
                inner = dict(receivers)
                for item in stmt.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and last_name(call.func) == "batch_alter_table"
                        and isinstance(item.optional_vars, ast.Name)
                        and call.args
                    ):
                        table = self.text(call.args[0])
                        if table:
                            inner[item.optional_vars.id] = table.lower()
                self.block(stmt.body, inner)
            elif isinstance(stmt, (ast.If, ast.For, ast.Try)):
                self.block(stmt.body, receivers)
            else:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                        owner = dotted(node.func.value)
                        if owner in receivers:
                            self.call(node, node.func.attr, receivers[owner])

    def text(self, node: Optional[ast.AST]) -> str:
        if isinstance(node, ast.Call) and last_name(node.func) in ("f", "text") and node.args:
            node = node.args[0]
        value = literal(node, self.constants)
        return value if isinstance(value, str) else ""

    def where(self, node: ast.AST) -> str:
        return f"{self.relpath}:{node.lineno}"  # type: ignore[attr-defined]

    def call(self, call: ast.Call, method: str, batch_table: str) -> None:
        args = list(call.args)
        kw = kwargs(call)
        source = self.where(call)
        if not batch_table and method in ("create_index", "create_unique_constraint", "create_primary_key", "add_column",
                                          "drop_column", "alter_column", "drop_constraint"):
            table_position = 1 if method in ("create_index", "create_unique_constraint", "create_primary_key", "drop_constraint") else 0
            table = self.text(kw.get("table_name") or (args[table_position] if len(args) > table_position else None)).lower()
            if table_position == 0 and args:
                args = args[1:]
            elif len(args) > table_position:
                args = args[:table_position] + args[table_position + 1:]
        else:
            table = batch_table
        if method == "create_table" and args:
            self.create_table(call, source)
        elif method in ("create_index", "create_unique_constraint", "create_primary_key") and table:
            name = self.text(args[0]) if args else self.text(kw.get("index_name") or kw.get("constraint_name"))
            columns_node = args[1] if len(args) > 1 else kw.get("columns")
            items = self.columns(columns_node)
            if not items:
                return
            unique = method != "create_index" or literal(kw.get("unique"), self.constants) is True
            using = literal(kw.get("postgresql_using"), self.constants)
            label = {"create_index": "op.create_index", "create_unique_constraint": "op.create_unique_constraint",
                     "create_primary_key": "op.create_primary_key"}[method]
            partial = any(k.endswith("_where") for k in kw)
            self.ops.append({"op": "index", "source": source, "index": index_op(
                table, [i[0] for i in items], unique=unique, partial=partial,
                method=using.lower() if isinstance(using, str) else "btree",
                expressions=[i[1] for i in items], references=[i[2] for i in items],
                name=name, source=f"{source} {label}" + (" partial" if partial else ""),
            )})
        elif method in ("drop_index", "drop_constraint"):
            name = self.text(args[0]) if args else self.text(kw.get("index_name") or kw.get("constraint_name"))
            self.ops.append({"op": "drop_index", "name": name, "table": table})
        elif method == "drop_table" and args:
            self.ops.append({"op": "drop_table", "table": self.text(args[0]).lower()})
        elif method == "rename_table" and len(args) >= 2:
            self.ops.append({"op": "rename_table", "table": self.text(args[0]).lower(), "new": self.text(args[1]).lower()})
        elif method == "add_column" and table and args and isinstance(args[0], ast.Call):
            col = read_column("", args[0], self.imports, self.constants)
            indexes = []
            if col["unique"] or col["index"]:
                label = "unique=True" if col["unique"] else "index=True"
                indexes.append(index_op(table, [col["name"]], unique=col["unique"], source=f"{source} {label}"))
            self.ops.append({"op": "column", "table": table, "column": column_op(col["name"], col["type"], col["nullable"], col["pk"], col["unique"]), "indexes": indexes})
        elif method == "drop_column" and table and args:
            self.ops.append({"op": "drop_column", "table": table, "column": self.text(args[0])})
        elif method == "alter_column" and table and args and "new_column_name" in kw:
            self.ops.append({"op": "rename_column", "table": table, "column": self.text(args[0]), "new": self.text(kw["new_column_name"])})
        elif method == "execute" and args:
            sql = self.text(args[0])
            if sql:
                self.ops.extend(sql_schema.read_script(sql, self.dialect, self.relpath, call.lineno - 1, "op.execute"))

    def columns(self, node: Optional[ast.AST]) -> List[Tuple[str, bool, str]]:
        """(text, is expression, referenced column) of ``["a", sa.text("lower(b)")]``."""
        if not isinstance(node, (ast.List, ast.Tuple)):
            return []
        out = []
        for element in node.elts:
            value = literal(element, self.constants)
            if isinstance(value, str):
                out.append((value.lower(), False, value.lower()))
                continue
            text = self.text(element) if isinstance(element, ast.Call) else ""
            if not text:
                return []
            found = sql_schema.expression_item(text)
            if found is None:
                return []
            out.append(found)
        return out

    def create_table(self, call: ast.Call, source: str) -> None:
        table = self.text(call.args[0]).lower()
        if not table:
            return
        columns, table_args = [], []
        for arg in call.args[1:]:
            if not isinstance(arg, ast.Call):
                continue
            callee = last_name(arg.func)
            if callee == "Column":
                columns.append(read_column("", arg, self.imports, self.constants))
            elif callee in ("Index", "UniqueConstraint", "PrimaryKeyConstraint"):
                found = read_index_args(arg, self.constants, {})
                if found is not None:
                    table_args.append(found)
        from backendlint.project.sqlalchemy_models import table_from_columns

        built = table_from_columns(table, columns, table_args, self.relpath, call.lineno)
        self.ops.append({
            "op": "table", "table": table, "source": source,
            "columns": [column_op(c.name, c.type, c.nullable, c.primary_key, c.unique) for c in built.columns],
            "indexes": [_index_dict(i) for i in built.indexes],
        })


def _index_dict(found: Any) -> Dict[str, Any]:
    return index_op(
        found.table, found.columns, unique=found.unique, partial=found.partial, method=found.method,
        expressions=found.expressions, source=found.source, name=found.name, descending=found.descending,
        references=found.references, opclasses=found.opclasses,
    )


def replay(revisions: Sequence[Tuple[str, Dict[str, Any]]]) -> List[Any]:
    """Tables left by the revisions, applied parents first."""
    from backendlint.project.schema_state import SchemaState

    by_id = {r["revision"]: (p, r) for p, r in revisions if r.get("revision")}
    ordered: List[Tuple[str, Dict[str, Any]]] = []
    seen: set = set()
    for path, revision in sorted(revisions):
        # depth-first, parents before children, without recursion (chains can be long)
        stack: List[Tuple[str, Dict[str, Any], bool]] = [(path, revision, False)]
        while stack:
            current_path, current, expanded = stack.pop()
            key = current.get("revision") or current_path
            if expanded:
                ordered.append((current_path, current))
                continue
            if key in seen:
                continue
            seen.add(key)
            stack.append((current_path, current, True))
            for parent in reversed(current.get("down", ())):
                if parent in by_id and parent not in seen:
                    stack.append((*by_id[parent], False))
    state = SchemaState()
    for _, revision in ordered:
        for op in revision.get("ops", ()):
            state.apply(op)
    return state.tables()

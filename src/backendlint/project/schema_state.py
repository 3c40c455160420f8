"""Replaying schema operations (from ``.sql`` files, Alembic revisions and Django
migrations) into the tables they leave behind.

An operation is a small JSON-able dict (what the per-file facts hold)::

    {"op": "table", "table": "orders", "columns": [column...], "indexes": [index...], "source": "..."}
    {"op": "column", "table": "orders", "column": {...}, "indexes": [index...]}
    {"op": "index", "index": {...}}
    {"op": "drop_index", "name": "ix_orders_status", "table": ""}
    {"op": "drop_table", "table": "orders"}
    {"op": "drop_column", "table": "orders", "column": "note"}
    {"op": "rename_table", "table": "orders", "new": "purchases"}
    {"op": "rename_column", "table": "orders", "column": "note", "new": "memo"}

A column is ``{"name", "type", "nullable", "primary_key", "unique"}``; an index has the
fields of :class:`~backendlint.project.catalog.Index` (lists for tuples).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from backendlint.project.catalog import Column, Index, Table

_INDEX_FIELDS = ("columns", "unique", "partial", "method", "expressions", "source", "name", "descending", "references", "opclasses")


def column(name: str, type_: str = "", nullable: bool = True, primary_key: bool = False, unique: bool = False) -> Dict[str, Any]:
    return {"name": name.lower(), "type": type_, "nullable": nullable, "primary_key": primary_key, "unique": unique}


def index(
    table: str,
    columns: Sequence[str],
    *,
    unique: bool = False,
    partial: bool = False,
    method: str = "btree",
    expressions: Sequence[bool] = (),
    source: str = "",
    name: str = "",
    descending: Sequence[bool] = (),
    references: Sequence[str] = (),
    opclasses: Sequence[str] = (),
) -> Dict[str, Any]:
    return {
        "table": table.lower(),
        "columns": [c.lower() if not (i < len(expressions) and expressions[i]) else c for i, c in enumerate(columns)],
        "unique": unique,
        "partial": partial,
        "method": method,
        "expressions": list(expressions),
        "source": source,
        "name": name,
        "descending": list(descending),
        "references": list(references),
        "opclasses": list(opclasses),
    }


def to_index(data: Dict[str, Any]) -> Index:
    values = {k: data.get(k) for k in _INDEX_FIELDS if k in data}
    for key in ("columns", "expressions", "descending", "references", "opclasses"):
        values[key] = tuple(values.get(key) or ())
    return Index(data["table"], **values)


class SchemaState:
    """Tables built up by operations applied in order."""

    def __init__(self) -> None:
        self._tables: Dict[str, Dict[str, Any]] = {}

    def _table(self, name: str, create: bool = True) -> Optional[Dict[str, Any]]:
        name = name.lower()
        found = self._tables.get(name)
        if found is None and create:
            # an index or column on a table created elsewhere: its columns are not all known
            found = self._tables[name] = {"columns": {}, "indexes": [], "sources": [], "complete": False}
        return found

    def apply(self, op: Dict[str, Any]) -> None:
        kind = op.get("op")
        handler = getattr(self, f"_op_{kind}", None)
        if handler is not None:
            handler(op)

    def _op_table(self, op: Dict[str, Any]) -> None:
        name = op["table"].lower()
        table = {"columns": {}, "indexes": [], "sources": [op.get("source", "")], "complete": op.get("complete", True)}
        if op.get("managed") is False:
            table["managed"] = False
        for col in op.get("columns", ()):
            table["columns"][col["name"]] = col
        table["indexes"] = [dict(i, table=name) for i in op.get("indexes", ())]
        self._tables[name] = table

    def _op_column(self, op: Dict[str, Any]) -> None:
        table = self._table(op["table"])
        assert table is not None
        table["columns"][op["column"]["name"]] = op["column"]
        table["indexes"].extend(dict(i, table=op["table"].lower()) for i in op.get("indexes", ()))

    def _op_index(self, op: Dict[str, Any]) -> None:
        data = op["index"]
        table = self._table(data["table"])
        assert table is not None
        if data.get("name"):
            table["indexes"] = [i for i in table["indexes"] if i.get("name") != data["name"]]
        table["indexes"].append(data)
        if op.get("source") and op["source"] not in table["sources"]:
            table["sources"].append(op["source"])

    def _op_drop_index(self, op: Dict[str, Any]) -> None:
        name = op.get("name") or ""
        if not name:
            return
        tables = [self._tables.get(op["table"].lower())] if op.get("table") else list(self._tables.values())
        for table in tables:
            if table is not None:
                table["indexes"] = [i for i in table["indexes"] if i.get("name") != name]

    def _op_drop_table(self, op: Dict[str, Any]) -> None:
        self._tables.pop(op["table"].lower(), None)

    def _op_drop_column(self, op: Dict[str, Any]) -> None:
        table = self._tables.get(op["table"].lower())
        if table is None:
            return
        name = op["column"].lower()
        table["columns"].pop(name, None)
        table["indexes"] = [i for i in table["indexes"] if name not in i["columns"] and name not in i.get("references", ())]

    def _op_rename_table(self, op: Dict[str, Any]) -> None:
        table = self._tables.pop(op["table"].lower(), None)
        if table is not None:
            new = op["new"].lower()
            table["indexes"] = [dict(i, table=new) for i in table["indexes"]]
            self._tables[new] = table

    def _op_rename_column(self, op: Dict[str, Any]) -> None:
        table = self._tables.get(op["table"].lower())
        if table is None:
            return
        old, new = op["column"].lower(), op["new"].lower()
        if old in table["columns"]:
            table["columns"][new] = dict(table["columns"].pop(old), name=new)
        for i in table["indexes"]:
            i["columns"] = [new if c == old else c for c in i["columns"]]
            i["references"] = [new if c == old else c for c in i.get("references", ())]

    def _op_drop_field_indexes(self, op: Dict[str, Any]) -> None:
        """Indexes a Django field declared itself (``db_index``/``unique``/FK), before ``AlterField``."""
        table = self._tables.get(op["table"].lower())
        if table is not None:
            name = op["column"].lower()
            table["indexes"] = [i for i in table["indexes"] if not (i.get("field") and i["columns"] == [name])]

    def tables(self) -> List[Table]:
        out = []
        for name, data in self._tables.items():
            columns = tuple(
                Column(c["name"], c.get("type", ""), c.get("nullable", True), c.get("primary_key", False), c.get("unique", False))
                for c in data["columns"].values()
            )
            indexes = tuple(to_index(i) for i in data["indexes"])
            sources = tuple(s for s in data["sources"] if s)
            out.append(Table(name, columns, indexes, sources, complete=data["complete"], managed=data.get("managed", True)))
        return out

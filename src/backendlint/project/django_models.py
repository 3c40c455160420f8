"""Django models: per-file reading of model classes (stdlib ``ast``), and the
cross-file resolution that turns them into tables and :class:`Model` objects
(abstract bases, multi-table inheritance, proxies, FK targets, reverse relations,
implicit primary keys, automatic indexes and many-to-many through tables)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from backendlint.project.django_fields import read_field, read_meta
from backendlint.project.pyast import ClassRecord, Imports, assignment, top_level_classes

DJANGO_MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})


def read_models(tree: ast.Module, imports: Imports, module: str, constants: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The classes of a module that may be Django models (decided in :func:`resolve`)."""
    out: List[Dict[str, Any]] = []
    for node in top_level_classes(tree.body):
        if not node.bases:
            continue
        bases = [imports.resolve(b) or "" for b in node.bases]
        if all(b in ("", "object", "builtins.object") for b in bases):
            continue
        fields: List[Dict[str, Any]] = []
        meta: Optional[Dict[str, Any]] = None
        for stmt in node.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                meta = read_meta(stmt, imports, constants)
                continue
            target, value = assignment(stmt)
            if target and isinstance(value, ast.Call):
                found = read_field(target, value, imports, constants)
                if found is not None:
                    fields.append(found)
        if not fields and meta is None and not any(b in DJANGO_MODEL_BASES or _model_like_base(b) for b in bases):
            continue
        out.append(
            {
                "name": node.name,
                "qualname": f"{module}.{node.name}" if module else node.name,
                "line": node.lineno,
                "bases": bases,
                "fields": fields,
                "meta": meta,
            }
        )
    return out


def _model_like_base(base: str) -> bool:
    """A base that may be a model of the project (``AbstractVoucher``, ``TimeStampedModel``):
    a class with no fields of its own deriving from it is kept for resolution."""
    last = base.rsplit(".", 1)[-1]
    return "Model" in last or last.startswith("Abstract")


# -- cross-file resolution ----------------------------------------------------------------


@dataclass
class DjangoClass(ClassRecord):
    """A class record plus what resolution learns about it."""

    app_label: str
    parents: List[DjangoClass] = field(default_factory=list)
    #: Some base is neither Django's Model nor a class of the project.
    external_base: bool = False
    is_model: bool = False

    @property
    def meta(self) -> Dict[str, Any]:
        return self.record.get("meta") or {}


@dataclass
class ResolvedModel:
    """A concrete or abstract Django model after inheritance."""

    cls: DjangoClass
    app_label: str
    table: str
    abstract: bool
    proxy: bool
    #: Fields in declaration order, inherited abstract fields first.
    fields: List[Dict[str, Any]]
    meta: Dict[str, Any]
    #: Concrete (multi-table) parents, nearest first.
    concrete_parents: List[ResolvedModel]
    complete: bool
    pk: str = "id"
    pk_column: str = "id"


class ClassIndex:
    """Finds the class a base/target reference means, across the project's files."""

    def __init__(self, classes: Sequence[DjangoClass]) -> None:
        self.by_qualname = {c.qualname: c for c in classes}
        self.by_name: Dict[str, List[DjangoClass]] = {}
        self.by_suffix: Dict[str, List[DjangoClass]] = {}
        for c in classes:
            self.by_name.setdefault(c.name, []).append(c)
            parts = c.qualname.split(".")
            for start in range(1, len(parts) - 1):
                self.by_suffix.setdefault(".".join(parts[start:]), []).append(c)

    def find(self, ref: str, near: Optional[DjangoClass] = None) -> Optional[DjangoClass]:
        if not ref:
            return None
        if ref in self.by_qualname:
            return self.by_qualname[ref]
        if near is not None and "." not in ref:
            local = f"{near.qualname.rsplit('.', 1)[0]}.{ref}"
            if local in self.by_qualname:
                return self.by_qualname[local]
        suffix = self.by_suffix.get(ref, [])
        if len(suffix) == 1:
            return suffix[0]
        named = self.by_name.get(ref.rsplit(".", 1)[-1], [])
        if len(named) == 1 and not ref.startswith("django."):
            return named[0]
        return None


def app_label_for(relpath: str, app_dirs: Sequence[str]) -> str:
    """The app a module belongs to: the deepest known app directory containing it
    (a directory with migrations, ``models.py`` or ``apps.py``), else the directory of
    ``models.py`` / the parent of a ``models/`` package."""
    known = app_dirs if isinstance(app_dirs, (set, frozenset)) else set(app_dirs)
    directory = relpath.rsplit("/", 1)[0] if "/" in relpath else ""
    while directory:
        if directory in known:
            return directory.rsplit("/", 1)[-1]
        directory = directory.rsplit("/", 1)[0] if "/" in directory else ""
    parts = relpath.split("/")
    if len(parts) >= 3 and parts[-2] == "models":
        return parts[-3]
    return parts[-2] if len(parts) >= 2 else ""


def resolve(classes: Sequence[DjangoClass]) -> Dict[str, ResolvedModel]:
    """Decide which classes are Django models and resolve inheritance."""
    index = ClassIndex(classes)
    for cls in classes:
        for key in ("indexes", "constraints"):
            for declared in cls.meta.get(key) or ():
                declared.setdefault("path", cls.relpath)
        for base in cls.record["bases"]:
            if base in DJANGO_MODEL_BASES:
                continue
            found = index.find(base, cls)
            if found is not None and found is not cls:
                cls.parents.append(found)
            elif base not in ("", "object", "builtins.object"):
                cls.external_base = True
    # A class is a model when it derives from Model through project classes, or it
    # declares fields and derives from an external class (AbstractUser, TimeStampedModel).
    changed = True
    for cls in classes:
        cls.is_model = any(b in DJANGO_MODEL_BASES for b in cls.record["bases"])
    while changed:
        changed = False
        for cls in classes:
            if not cls.is_model and any(p.is_model for p in cls.parents):
                cls.is_model = changed = True
    for cls in classes:
        if not cls.is_model and cls.external_base and cls.record["fields"] and _looks_like_model(cls):
            cls.is_model = True
    resolved: Dict[str, ResolvedModel] = {}
    for cls in classes:
        if cls.is_model:
            _resolve_one(cls, resolved, set())
    return resolved


def _looks_like_model(cls: DjangoClass) -> bool:
    """Fields of Django's own classes (the reader only keeps those, plus project field classes)."""
    return any(f["kind"] != "field" or f["type"] in _DJANGO_FIELD_TYPES for f in cls.record["fields"])


_DJANGO_FIELD_TYPES = frozenset(
    """AutoField BigAutoField SmallAutoField BigIntegerField BinaryField BooleanField CharField
    DateField DateTimeField DecimalField DurationField EmailField FileField FilePathField
    FloatField GenericIPAddressField IPAddressField ImageField IntegerField JSONField
    NullBooleanField PositiveBigIntegerField PositiveIntegerField PositiveSmallIntegerField
    SlugField SmallIntegerField TextField TimeField URLField UUIDField ArrayField HStoreField
    CICharField CIEmailField CITextField DateTimeRangeField DateRangeField IntegerRangeField
    BigIntegerRangeField DecimalRangeField GeneratedField""".split()
)


def _resolve_one(cls: DjangoClass, done: Dict[str, ResolvedModel], visiting: set) -> Optional[ResolvedModel]:
    if cls.qualname in done:
        return done[cls.qualname]
    if cls.qualname in visiting:
        return None
    visiting.add(cls.qualname)
    parents = [p for p in (_resolve_one(p, done, visiting) for p in cls.parents if p.is_model) if p is not None]
    own_meta = cls.record.get("meta")
    abstract = bool(own_meta and own_meta.get("abstract"))
    meta: Dict[str, Any] = {}
    if own_meta is None:
        for parent in parents:
            if parent.abstract:
                meta = {k: v for k, v in parent.meta.items() if k not in ("abstract", "db_table")}
                break
        else:
            for parent in parents:
                for key in ("ordering",):
                    if key in parent.meta:
                        meta[key] = parent.meta[key]
                break
    else:
        meta_bases = own_meta.get("bases") or []
        for parent in parents:
            if any(b.split(".")[0] == parent.cls.name for b in meta_bases):
                meta.update({k: v for k, v in parent.meta.items() if k not in ("abstract", "db_table")})
        if not meta_bases:
            for parent in parents:
                if not parent.abstract and "ordering" in parent.meta and "ordering" not in own_meta:
                    meta["ordering"] = parent.meta["ordering"]
                    break
        meta.update({k: v for k, v in own_meta.items() if k != "bases"})
    proxy = bool(meta.get("proxy"))
    app_label = str(meta.get("app_label") or cls.app_label)
    fields: List[Dict[str, Any]] = []
    concrete_parents: List[ResolvedModel] = []
    # Abstract models keep ``%(class)s`` placeholders; concrete models fill them in.
    for parent in parents:
        if parent.abstract:
            for inherited in parent.fields:
                if not any(f["name"] == inherited["name"] for f in fields):
                    fields.append(inherited if abstract else _for_child(inherited, cls, app_label))
        else:
            concrete_parents.append(parent)
    for own in cls.record["fields"]:
        fields = [f for f in fields if f["name"] != own["name"]]
        fields.append(own if abstract else _for_child(own, cls, app_label))
    table = str(meta.get("db_table") or f"{app_label}_{cls.name.lower()}")
    complete = not cls.external_base and all(p.complete for p in parents)
    if proxy and concrete_parents:
        table = concrete_parents[0].table
    model = ResolvedModel(cls, app_label, table, abstract, proxy, fields, meta, concrete_parents, complete)
    pk_field = next((f for f in fields if f["pk"]), None)
    if pk_field is not None:
        model.pk, model.pk_column = pk_field["name"], column_of(pk_field)
    elif concrete_parents and not proxy:
        link = next((f for f in fields if f["kind"] == "o2o" and f.get("parent_link")), None)
        parent = concrete_parents[0]
        model.pk = link["name"] if link else f"{parent.cls.name.lower()}_ptr"
        model.pk_column = column_of(link) if link else f"{model.pk}_id"
    elif proxy and concrete_parents:
        model.pk, model.pk_column = concrete_parents[0].pk, concrete_parents[0].pk_column
    done[cls.qualname] = model
    return model


def _for_child(field_record: Dict[str, Any], cls: DjangoClass, app_label: str) -> Dict[str, Any]:
    """Fields inherited from an abstract base: ``%(class)s`` / ``%(app_label)s`` filled in."""
    out = dict(field_record)
    for key in ("related_name", "related_query_name"):
        value = out.get(key)
        if value and "%(" in value:
            out[key] = fill_placeholders(value, cls.name, app_label)
    return out


def fill_placeholders(text: str, class_name: str, app_label: str) -> str:
    return text.replace("%(class)s", class_name.lower()).replace("%(app_label)s", app_label.lower())


def column_of(field_record: Dict[str, Any]) -> str:
    if field_record.get("db_column"):
        return field_record["db_column"].lower()
    if field_record["kind"] in ("fk", "o2o"):
        return f"{field_record['name']}_id".lower()
    return field_record["name"].lower()


def is_concrete(field_record: Dict[str, Any]) -> bool:
    """Fields that are columns of the model's table."""
    return field_record["kind"] in ("field", "fk", "o2o")


# -- tables and models ----------------------------------------------------------------------


@dataclass
class Built:
    """Tables and models made from the resolved Django models (catalogue dataclasses)."""

    tables: List[Any] = field(default_factory=list)
    models: List[Any] = field(default_factory=list)


class TargetIndex:
    """Resolved models by ``(app_label, model name)`` and by name, for relation targets."""

    def __init__(self, models: Dict[str, ResolvedModel], classes: ClassIndex, user_model: str) -> None:
        self.models, self.classes, self.user_model = models, classes, user_model or "auth.User"
        self.by_label: Dict[Tuple[str, str], List[ResolvedModel]] = {}
        for model in models.values():
            self.by_label.setdefault((model.app_label.lower(), model.cls.name.lower()), []).append(model)

    def find(self, ref: str, near: ResolvedModel) -> Optional[ResolvedModel]:
        """The model a relation's ``to`` means: ``"self"``, ``"app.Model"``, ``"Model"``, a
        class reference, ``settings.AUTH_USER_MODEL``."""
        if not ref:
            return None
        if ref == "self":
            return near
        if ref.endswith("settings.AUTH_USER_MODEL") or ref == "AUTH_USER_MODEL":
            ref = self.user_model
        if ref.count(".") == 1:
            app, name = ref.lower().split(".")
            matches = self.by_label.get((app, name), [])
            if len(matches) == 1:
                return matches[0]
        if "." not in ref:
            same_app = [m for m in self.by_label.get((near.app_label.lower(), ref.lower()), []) if m.cls.name == ref]
            if len(same_app) == 1:
                return same_app[0]
        found = self.classes.find(ref, near.cls)
        if found is not None and found.qualname in self.models:
            return self.models[found.qualname]
        return None


def build(models: Dict[str, ResolvedModel], index: ClassIndex, user_model: str = "") -> Built:
    from backendlint.project.catalog import Column, Index, Model, Relation, Table

    out = Built()
    targets = TargetIndex(models, index, user_model)
    relations: Dict[str, List[Any]] = {q: [] for q in models}
    through_tables: List[Any] = []
    for model in models.values():
        cls = model.cls
        where = f"{cls.relpath}:{cls.record['line']}"
        for f in model.fields:
            if f["kind"] not in ("fk", "o2o", "m2m", "generic_rel"):
                continue
            target = targets.find(f.get("target", ""), model)
            target_name = target.cls.qualname if target else f.get("target", "")
            if f["kind"] == "generic_rel":
                relations[cls.qualname].append(Relation(f["name"], "generic_rel", target_name, many=True, query_name=f["name"]))
                continue
            through = ""
            if f["kind"] == "m2m":
                through_model = targets.find(f.get("through", ""), model) if f.get("through") else None
                if through_model is not None:
                    through = through_model.table
                elif not model.abstract and target is not None:
                    through = f.get("db_table") or f"{model.table}_{f['name']}".lower()
                    line = f"{cls.relpath}:{f['line']} {f['name']} many-to-many"
                    through_tables.append(through_table(cls.name.lower(), target.cls.name.lower(), through, line, where))
            column = column_of(f) if f["kind"] != "m2m" else ""
            relations[cls.qualname].append(
                Relation(
                    f["name"], f["kind"], target_name, column=column, many=f["kind"] == "m2m",
                    query_name=f["name"], through=through,
                    remote_column=(target.pk_column if target else "id") if f["kind"] != "m2m" else "",
                )
            )
            if target is None or model.abstract or target.abstract:
                continue
            related = f.get("related_name") or ""
            if related.endswith("+"):
                continue
            lower = cls.name.lower()
            if f["kind"] == "o2o":
                name, kind, many = related or lower, "reverse_o2o", False
            else:
                name, kind, many = related or f"{lower}_set", "reverse_fk" if f["kind"] == "fk" else "reverse_m2m", True
            query_name = f.get("related_query_name") or related or lower
            relations[target.cls.qualname].append(
                Relation(name, kind, cls.qualname, many=many, query_name=query_name, through=through, remote_column=column)
            )
        for parent in model.concrete_parents[:1]:
            if model.proxy or any(f["kind"] == "o2o" and f.get("parent_link") for f in model.fields):
                continue
            ptr = model.pk
            relations[cls.qualname].append(Relation(ptr, "o2o", parent.cls.qualname, column=model.pk_column, query_name=ptr, remote_column=parent.pk_column))
            relations[parent.cls.qualname].append(Relation(cls.name.lower(), "reverse_o2o", cls.qualname, query_name=cls.name.lower(), remote_column=model.pk_column))
    for model in models.values():
        cls = model.cls
        where = f"{cls.relpath}:{cls.record['line']}"
        own_columns = [(f["name"], column_of(f)) for f in model.fields if is_concrete(f)]
        if model.concrete_parents and not model.proxy and not any(f["pk"] for f in model.fields):
            if not any(name == model.pk for name, _ in own_columns):
                own_columns.insert(0, (model.pk, model.pk_column))
        elif not model.proxy and not any(f["pk"] for f in model.fields):
            own_columns.insert(0, ("id", "id"))
        names = [f["name"] for f in model.fields if f["kind"] == "field"]
        for parent in model.concrete_parents:
            names += [n for n in _all_field_names(parent) if n not in names]
        out.models.append(
            Model(
                name=cls.name,
                qualname=cls.qualname,
                framework="django",
                table=model.table,
                fields=tuple(names if "id" in names or model.pk != "id" else ["id", *names]),
                relations=tuple(relations[cls.qualname]),
                ordering=tuple(str(o) for o in model.meta.get("ordering") or ()),
                abstract=model.abstract,
                path=cls.relpath,
                line=cls.record["line"],
                columns=tuple(own_columns),
                pk=model.pk,
                parents=tuple(p.cls.qualname for p in model.concrete_parents),
                complete=model.complete,
                proxy=model.proxy,
                app_label=model.app_label,
            )
        )
        if model.abstract or model.proxy:
            continue
        out.tables.append(_table(model, where, Column, Index, Table))
    out.tables.extend(through_tables)
    return out


def _all_field_names(model: ResolvedModel) -> List[str]:
    names = [f["name"] for f in model.fields if f["kind"] == "field"]
    for parent in model.concrete_parents:
        names += [n for n in _all_field_names(parent) if n not in names]
    return names


def _table(model: ResolvedModel, where: str, Column: Any, Index: Any, Table: Any) -> Any:
    columns: List[Any] = []
    indexes: List[Any] = []
    by_name = {f["name"]: f for f in model.fields}

    def col(name: str) -> str:
        found = by_name.get(name)
        if found is not None and is_concrete(found):
            return column_of(found)
        return name.lower()

    has_pk = any(f["pk"] for f in model.fields)
    if not has_pk:
        columns.append(Column(model.pk_column, "BigAutoField" if not model.concrete_parents else "OneToOneField", False, True, True))
        indexes.append(Index(model.table, (model.pk_column,), unique=True, source=f"{where} primary key", name=f"{model.table}_pkey"))
    for f in model.fields:
        if not is_concrete(f):
            continue
        name = column_of(f)
        unique = f["pk"] or f["unique"] or f["kind"] == "o2o"
        columns.append(Column(name, f["type"], f["null"], f["pk"], unique))
        line = f"{f.get('relpath', model.cls.relpath)}:{f['line']}"
        if f["pk"]:
            indexes.append(Index(model.table, (name,), unique=True, source=f"{line} primary key", name=f"{model.table}_pkey"))
        elif unique:
            indexes.append(Index(model.table, (name,), unique=True, source=f"{line} {f['name']} unique"))
        elif f["db_index"] or (f["db_index"] is None and (f["kind"] in ("fk", "o2o") or f["type"] == "SlugField")):
            reason = "db_index" if f["db_index"] else ("ForeignKey" if f["kind"] == "fk" else "SlugField")
            indexes.append(Index(model.table, (name,), source=f"{line} {f['name']} {reason}"))
    meta = model.meta
    for key, unique in (("unique_together", True), ("index_together", False)):
        for group in meta.get(key) or ():
            indexes.append(Index(model.table, tuple(col(n) for n in group), unique=unique, source=f"{where} Meta.{key}"))
    for key in ("indexes", "constraints"):
        for declared in meta.get(key) or ():
            named = dict(declared, name=fill_placeholders(declared.get("name", ""), model.cls.name, model.app_label))
            indexes.append(declared_index(model.table, named, col, f"{declared.get('path', model.cls.relpath)}:{declared['line']} Meta.{key}", Index))
    managed = meta.get("managed") is not False
    return Table(model.table, tuple(columns), tuple(indexes), (where,), complete=model.complete, managed=managed)


def declared_index(table: str, declared: Dict[str, Any], col: Any, source: str, Index: Any) -> Any:
    """A ``Meta.indexes`` / ``constraints`` / ``AddIndex`` record -> :class:`Index`."""
    columns, expressions, descending, references = [], [], [], []
    for item in declared["items"]:
        if item["expression"]:
            text = item["column"]
            refs = [col(r) for r in item.get("refs", [])]
            for ref, mapped in zip(item.get("refs", []), refs):
                if ref != mapped:
                    text = text.replace(ref, mapped)
            columns.append(text)
            references.append(refs[0] if len(refs) == 1 else "")
        else:
            columns.append(col(item["column"]))
            references.append(columns[-1])
        expressions.append(bool(item["expression"]))
        descending.append(bool(item.get("desc")))
    method = declared["method"]
    label = declared["kind"] + (" partial" if declared["partial"] else "")
    return Index(
        table,
        tuple(columns),
        unique=declared["unique"],
        partial=declared["partial"],
        method=method,
        expressions=tuple(expressions),
        source=f"{source}:{label}",
        name=declared.get("name", ""),
        descending=tuple(descending),
        references=tuple(references),
        opclasses=tuple(str(o) for o in declared.get("opclasses") or ()),
    )


def through_table(source: str, other: str, name: str, line: str, where: str) -> Any:
    """The automatic many-to-many table: ``id``, ``<source>_id``, ``<other>_id``, unique pair."""
    from backendlint.project.catalog import Column, Index, Table

    if source == other:
        source, other = f"from_{source}", f"to_{other}"
    a, b = f"{source}_id", f"{other}_id"
    columns = (Column("id", "BigAutoField", False, True, True), Column(a, "ForeignKey", False), Column(b, "ForeignKey", False))
    indexes = (
        Index(name, ("id",), unique=True, source=f"{line} primary key", name=f"{name}_pkey"),
        Index(name, (a, b), unique=True, source=f"{line} unique"),
        Index(name, (a,), source=f"{line} ForeignKey"),
        Index(name, (b,), source=f"{line} ForeignKey"),
    )
    return Table(name, columns, indexes, (where,))

"""The catalogue gatherer's work: which files to read, per-file facts, and the
combination of every file's facts into one :class:`~backendlint.project.catalog.Catalog`."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Set, Tuple

from backendlint.project import django_models, sqlalchemy_models
from backendlint.project.catalog import Catalog, Model, Table, merge_tables
from backendlint.project.pyast import Imports, module_constants, module_name, parse_module

#: A Python file is read when it contains one of these (or is an app's ``apps.py``).
PY_MARKERS = ("models", "sqlalchemy", "sqlmodel", "alembic", "Column(", "mapped_column", "AUTH_USER_MODEL", "Table(")
_SA_LIBS = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")


def wants(relpath: str, kind: str, text: str) -> bool:
    if kind == "sql":
        return True
    if kind != "python" or relpath.endswith(".pyi"):
        return False
    return relpath.endswith("apps.py") or any(marker in text for marker in PY_MARKERS)


def _app_marker(relpath: str) -> str:
    """The app directory a file proves exists (models.py, models/, apps.py, migrations/)."""
    parts = relpath.split("/")
    if len(parts) < 2:
        return ""
    if parts[-1] in ("models.py", "apps.py"):
        return "/".join(parts[:-1])
    if len(parts) >= 3 and parts[-2] in ("models", "migrations"):
        return "/".join(parts[:-2])
    return ""


def read(relpath: str, kind: str, text: str, dialect: str) -> Any:
    if kind == "sql":
        return _read_sql(relpath, text, dialect)
    tree = parse_module(text)
    if tree is None:
        return None
    imports = Imports(tree, relpath)
    module = module_name(relpath)
    constants = module_constants(tree)
    facts: Dict[str, Any] = {}
    libraries = set(imports.aliases.values())
    uses_django = any(lib.startswith("django") for lib in libraries)
    if uses_django and _is_django_migration(relpath, text):
        migration = _read_django_migration(tree, imports, relpath, constants)
        if migration:
            facts["django_migration"] = migration
    elif _is_alembic(relpath, text, libraries):
        revision = _read_alembic(tree, imports, relpath, constants, dialect)
        if revision:
            facts["alembic"] = revision
    else:
        if uses_django or relpath.endswith("models.py") or "/models/" in relpath:
            models = django_models.read_models(tree, imports, module, constants)
            if models:
                facts["django"] = models
        if any(lib.startswith(_SA_LIBS) for lib in libraries) or ".Column(" in text or "mapped_column(" in text:
            found = sqlalchemy_models.read_module(tree, imports, module, constants)
            if any(found.values()):
                facts["sqlalchemy"] = found
    user_model = constants.get("AUTH_USER_MODEL")
    if isinstance(user_model, str):
        facts["auth_user_model"] = user_model
    if _app_marker(relpath):
        facts["app"] = True
    return facts or None


def _is_django_migration(relpath: str, text: str) -> bool:
    return "/migrations/" in f"/{relpath}" and "Migration" in text


def _is_alembic(relpath: str, text: str, libraries: Set[str]) -> bool:
    return any(lib.startswith("alembic") for lib in libraries) and ("def upgrade" in text)


def _read_sql(relpath: str, text: str, dialect: str) -> Any:
    from backendlint.project import sql_schema

    ops = sql_schema.read_script(text, dialect, relpath)
    return {"sql": ops} if ops else None


def _read_django_migration(tree: Any, imports: Imports, relpath: str, constants: Dict[str, Any]) -> Any:
    from backendlint.project import django_migrations

    return django_migrations.read_migration(tree, imports, relpath, constants)


def _read_alembic(tree: Any, imports: Imports, relpath: str, constants: Dict[str, Any], dialect: str) -> Any:
    from backendlint.project import alembic_ops

    return alembic_ops.read_revision(tree, imports, relpath, constants, dialect)


def combine(per_file: Mapping[str, Any]) -> Catalog:
    files = sorted((path, facts) for path, facts in per_file.items() if isinstance(facts, dict))
    tables: List[Table] = []
    models: List[Model] = []
    app_dirs = {_app_marker(path) for path, facts in files if facts.get("app")} - {""}
    user_model = next((f["auth_user_model"] for _, f in files if f.get("auth_user_model")), "")

    classes = [
        django_models.DjangoClass(record, path, django_models.app_label_for(path, app_dirs))
        for path, facts in files
        for record in facts.get("django", ())
    ]
    known: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    if classes:
        resolved = django_models.resolve(classes)
        known = {(m.app_label, m.cls.name.lower()): m.fields for m in resolved.values() if not m.abstract}
        built = django_models.build(resolved, django_models.ClassIndex(classes), user_model)
        tables += built.tables
        models += built.models

    sa_classes = [
        sqlalchemy_models.SaClass(record, path) for path, facts in files for record in facts.get("sqlalchemy", {}).get("classes", ())
    ]
    roots = [r for _, facts in files for r in facts.get("sqlalchemy", {}).get("roots", ())]
    sa_tables: List[Tuple[str, Dict[str, Any]]] = [(p, t) for p, f in files for t in f.get("sqlalchemy", {}).get("tables", ())]
    sa_indexes = [(p, i) for p, f in files for i in f.get("sqlalchemy", {}).get("indexes", ())]
    if sa_classes or sa_tables:
        mapped = sqlalchemy_models.resolve(sa_classes, roots)
        found_tables, found_models = sqlalchemy_models.build(mapped, sa_classes, sa_tables, sa_indexes)
        tables += found_tables
        models += found_models

    tables += _replayed(files, known)

    grouped: Dict[str, List[Table]] = {}
    for table in tables:
        grouped.setdefault(table.name, []).append(table)
    catalog = Catalog()
    for name in sorted(grouped):
        catalog.tables[name] = merge_tables(grouped[name])
    for model in models:
        catalog.models.setdefault(model.qualname, model)
    return catalog


def _replayed(files: List[Tuple[str, Dict[str, Any]]], known: Dict[Tuple[str, str], List[Dict[str, Any]]]) -> List[Table]:
    """Tables left by replaying Django migrations (per app), Alembic revisions (in
    revision order) and ``.sql`` files (in path order)."""
    out: List[Table] = []
    if any(f.get("django_migration") for _, f in files):
        from backendlint.project import django_migrations

        out += django_migrations.replay([(p, f["django_migration"]) for p, f in files if f.get("django_migration")], known)
    if any(f.get("alembic") for _, f in files):
        from backendlint.project import alembic_ops

        out += alembic_ops.replay([(p, f["alembic"]) for p, f in files if f.get("alembic")])
    if any(f.get("sql") for _, f in files):
        from backendlint.project.schema_state import SchemaState

        state = SchemaState()
        for _, facts in files:
            for op in facts.get("sql", ()):
                state.apply(op)
        out += state.tables()
    return out

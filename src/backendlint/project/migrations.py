"""Migration history: the migrations of each Django app in dependency order, replayed
so that an operation can be judged against the state the earlier ones left.

Gathered by the project pass; rules read it through ``ctx.project.get("migrations")``.

Each Django migration file is read by :mod:`.django_operations` into JSON-able facts:
its ``dependencies``, ``replaces``, ``initial`` and ``atomic`` flags and operations. An
operation is ``{"op": "AlterField", "qual": ..., "line": 12, "end": 15, "kwargs": {...}}``
with positional arguments named and values encoded as that module describes (``None``
for a list element that is not a call, so that positions match the source).

:meth:`MigrationsGatherer.combine` replays each app's chain (``CreateModel``,
``AddField``, ``AlterField``, ``RemoveField``, ``RenameField``, ``RenameModel``,
``DeleteModel``, ``AlterModelTable``, ``AlterModelOptions``, ``AlterUniqueTogether``,
constraints, ``SeparateDatabaseAndState`` and ``RunSQL`` state operations) and records,
for every operation, the state of the model it names just before it ran. A model whose
history is not fully known (a dependency that is not in the project) has no state.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set

from backendlint.api import DJANGO_NESTED_OPERATIONS, DJANGO_OPERATION_SIGNATURES, DjangoModelState
from backendlint.project.django_operations import MIGRATION_CLASS, MigrationReader
from backendlint.project.facts import register
from backendlint.project.pyast import Imports

#: Positional parameter names of the operations whose arguments are read, and the
#: keyword arguments that hold a list of operations (shared with the rules through the API).
SIGNATURES = DJANGO_OPERATION_SIGNATURES
NESTED = DJANGO_NESTED_OPERATIONS
#: The options AlterModelOptions replaces (Django's ``AlterModelOptions.ALTER_OPTION_KEYS``).
ALTER_OPTION_KEYS = (
    "base_manager_name", "default_manager_name", "default_related_name", "get_latest_by", "managed",
    "ordering", "permissions", "default_permissions", "select_on_save", "verbose_name", "verbose_name_plural",
)


# -- reading one file ---------------------------------------------------------------------


def read_django_migration(text: str, relpath: str) -> Optional[Dict[str, Any]]:
    """The facts of a Django migration module, or ``None`` when it is not one."""
    if not MIGRATION_CLASS.search(text):
        return None
    tree = ast.parse(text)
    reader = MigrationReader(Imports(tree, relpath))
    migration = reader.migration(tree)
    if migration is None:
        return None
    path = PurePosixPath(relpath)
    return {
        "dir": str(path.parent),
        "label": path.parent.parent.name,
        "name": path.stem,
        "initial": migration.initial,
        "atomic": migration.atomic,
        "dependencies": migration.dependencies,
        "replaces": migration.replaces,
        "operations": [reader.encode(op) if op is not None else None for op in migration.operations or ()],
    }


# -- replaying the history ------------------------------------------------------------------

#: A model's state (:class:`backendlint.api.DjangoModelState`): {"name", "fields": {name: field},
#: "options": {...}, "constraints": {name: {...}}}.
ModelState = DjangoModelState
State = Dict[str, ModelState]


def _plain(value: Any) -> Any:
    """``{"dict": {...}}`` -> its dict; anything else unchanged."""
    if isinstance(value, dict) and set(value) == {"dict"}:
        return value["dict"]
    return value


def _lower(value: Any) -> Optional[str]:
    return value.lower() if isinstance(value, str) else None


def _constraint_name(value: Any) -> Optional[str]:
    if isinstance(value, dict) and "call" in value:
        name = value.get("kwargs", {}).get("name")
        return name if isinstance(name, str) else None
    return None


def apply_operation(state: State, op: Mapping[str, Any]) -> None:
    """Apply one operation's effect on the migration *state* (never on the database)."""
    kind = op.get("op")
    kwargs = op.get("kwargs", {})
    if kind in ("SeparateDatabaseAndState", "RunSQL"):
        inner = kwargs.get("state_operations")
        for item in inner if isinstance(inner, list) else []:
            if isinstance(item, dict):
                apply_operation(state, item)
        return
    if kind == "CreateModel":
        key = _lower(kwargs.get("name"))
        fields = kwargs.get("fields")
        if key is None or not isinstance(fields, list):
            return
        found: Dict[str, Any] = {}
        for pair in fields:
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
                found[pair[0]] = pair[1]
        options = _plain(kwargs.get("options"))
        state[key] = {
            "name": kwargs["name"],
            "fields": found,
            "options": dict(options) if isinstance(options, dict) else {},
            "constraints": {},
        }
        return
    if kind == "DeleteModel":
        key = _lower(kwargs.get("name"))
        if key is not None:
            state.pop(key, None)
        return
    if kind == "RenameModel":
        old, new = _lower(kwargs.get("old_name")), _lower(kwargs.get("new_name"))
        if old is not None and new is not None and old in state:
            model = dict(state.pop(old))
            model["name"] = kwargs["new_name"]
            state[new] = model
        return
    key = _lower(kwargs.get("model_name") if "model_name" in kwargs else kwargs.get("name"))
    if key is None or key not in state:
        return
    model = dict(state[key])
    if kind in ("AddField", "AlterField"):
        name = kwargs.get("name")
        if isinstance(name, str) and "field" in kwargs:
            model["fields"] = {**model["fields"], name: kwargs["field"]}
    elif kind == "RemoveField":
        model["fields"] = {k: v for k, v in model["fields"].items() if k != kwargs.get("name")}
    elif kind == "RenameField":
        old, new = kwargs.get("old_name"), kwargs.get("new_name")
        if isinstance(old, str) and isinstance(new, str):
            model["fields"] = {(new if k == old else k): v for k, v in model["fields"].items()}
    elif kind == "AlterModelTable":
        model["options"] = {**model["options"], "db_table": kwargs.get("table")}
    elif kind == "AlterModelOptions":
        given = _plain(kwargs.get("options"))
        given = given if isinstance(given, dict) else {}
        options = {k: v for k, v in model["options"].items() if k not in ALTER_OPTION_KEYS}
        options.update(given)
        model["options"] = options
    elif kind == "AlterUniqueTogether":
        model["options"] = {**model["options"], "unique_together": kwargs.get("unique_together")}
    elif kind == "AlterIndexTogether":
        model["options"] = {**model["options"], "index_together": kwargs.get("index_together")}
    elif kind in ("AddConstraint", "AddConstraintNotValid"):
        name = _constraint_name(kwargs.get("constraint"))
        if name is not None:
            entry = {"constraint": kwargs.get("constraint"), "validated": kind == "AddConstraint"}
            model["constraints"] = {**model["constraints"], name: entry}
    elif kind == "ValidateConstraint":
        name = kwargs.get("name")
        if isinstance(name, str) and name in model["constraints"]:
            model["constraints"] = {**model["constraints"], name: {**model["constraints"][name], "validated": True}}
    elif kind == "RemoveConstraint":
        model["constraints"] = {k: v for k, v in model["constraints"].items() if k != kwargs.get("name")}
    else:
        return
    state[key] = model


def _operation_model(op: Mapping[str, Any]) -> Optional[str]:
    kwargs = op.get("kwargs", {})
    for key in ("model_name", "name", "old_name"):
        value = kwargs.get(key)
        if isinstance(value, str) and (key != "name" or "model_name" not in kwargs):
            return value.lower()
    return None


def _record(before: Dict[str, Optional[ModelState]], state: State, op: Mapping[str, Any], path: str) -> None:
    """The state of the model each (nested) operation names, before the top-level one ran.

    ``path`` locates the operation: ``"3"`` is the fourth element of ``operations``,
    ``"3/database_operations/0"`` the first operation nested in it."""
    key = _operation_model(op)
    before[path] = state.get(key) if key is not None else None
    for nested in NESTED:
        inner = op.get("kwargs", {}).get(nested)
        if isinstance(inner, list):
            for index, item in enumerate(inner):
                if item is not None:
                    _record(before, state, item, f"{path}/{nested}/{index}")


@dataclass
class MigrationHistory:
    """Per Django migration file: its facts, and the state each operation found."""

    #: relpath -> {"dir", "label", "name", "initial", "atomic", "dependencies", "replaces"}
    migrations: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    #: relpath -> operation path -> state of the model it names before it ran (None: unknown)
    before: Dict[str, Dict[str, Optional[ModelState]]] = field(default_factory=dict)

    def migration(self, relpath: str) -> Optional[Dict[str, Any]]:
        return self.migrations.get(relpath)

    def model_before(self, relpath: str, path: str) -> Optional[ModelState]:
        """The state of the model that operation ``path`` of ``relpath`` names (see
        :func:`_record`), just before the operation ran; ``None`` when that model's
        history is not known."""
        return self.before.get(relpath, {}).get(path)


def _topological(names: Iterable[str], parents: Mapping[str, List[str]]) -> List[str]:
    """Parents before children; ties (and cycles) broken by name."""
    order: List[str] = []
    done: Set[str] = set()
    active: Set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in active:
            return
        active.add(name)
        for parent in sorted(parents.get(name, ())):
            visit(parent)
        active.discard(name)
        done.add(name)
        order.append(name)

    for name in sorted(names):
        visit(name)
    return order


def _ancestors(name: str, parents: Mapping[str, List[str]]) -> Set[str]:
    seen: Set[str] = set()
    stack = list(parents.get(name, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(parents.get(current, ()))
    return seen


def _replay_app(files: Mapping[str, Dict[str, Any]], history: MigrationHistory) -> None:
    """Replay one migrations directory (``files``: relpath -> facts)."""
    by_name = {facts["name"]: relpath for relpath, facts in files.items()}
    label = next(iter(files.values()))["label"]
    replaced: Dict[str, str] = {}
    for facts in files.values():
        for app, name in facts.get("replaces", []):
            if app == label and name not in by_name:
                replaced[name] = facts["name"]
    parents: Dict[str, List[str]] = {}
    missing: Set[str] = set()
    for facts in files.values():
        own: List[str] = []
        for app, name in facts.get("dependencies", []):
            if app != label or name in ("__first__", "__latest__"):
                continue  # another app (an app's own label is its directory's name)
            name = replaced.get(name, name)
            if name in by_name:
                own.append(name)
            else:
                missing.add(facts["name"])  # an earlier migration of this app is not in the project
        parents[facts["name"]] = own
    after: Dict[str, State] = {}
    for name in _topological(by_name, parents):
        relpath = by_name[name]
        facts = files[relpath]
        own = parents.get(name, [])
        if name in missing:
            state: State = {}
        elif len(own) == 1 and own[0] in after:
            state = dict(after[own[0]])
        elif not own:
            state = {}
        else:  # a merge: replay every ancestor in order
            state = {}
            ancestors = _ancestors(name, parents)
            for earlier in _topological(ancestors, parents):
                for op in files[by_name[earlier]].get("operations", []):
                    if op is not None:
                        apply_operation(state, op)
        before: Dict[str, Optional[ModelState]] = {}
        for index, op in enumerate(facts.get("operations", [])):
            if op is not None:
                _record(before, state, op, str(index))
                apply_operation(state, op)
        after[name] = state
        history.before[relpath] = before


class MigrationsGatherer:
    """Reads Django migration modules and replays each app's history."""

    name = "migrations"

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        return kind == "python" and "Migration" in text and "operations" in text

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        return read_django_migration(text, relpath)

    def combine(self, per_file: Mapping[str, Any]) -> MigrationHistory:
        history = MigrationHistory()
        apps: Dict[str, Dict[str, Dict[str, Any]]] = {}
        for relpath, facts in sorted(per_file.items()):
            if not isinstance(facts, dict) or facts.get("operations") is None:
                continue
            history.migrations[relpath] = {k: v for k, v in facts.items() if k != "operations"}
            apps.setdefault(facts["dir"], {})[relpath] = facts
        for files in apps.values():
            _replay_app(files, history)
        return history


register(MigrationsGatherer())

"""Project-wide Django settings that change what a rule may conclude about a view.

Read from the project's settings modules (any module that assigns ``INSTALLED_APPS``,
``ROOT_URLCONF``, ``MIDDLEWARE`` or ``REST_FRAMEWORK`` at module level) with the stdlib
``ast``. Today it answers one question: is a Django REST framework default pagination
class (``REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]``) in effect?

Rules read it through ``ctx.project.get("django_settings")``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from backendlint.project.facts import register

_SETTINGS_NAMES = frozenset({"INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "DATABASES"})
_PAGINATION = "DEFAULT_PAGINATION_CLASS"

# Per-file verdicts on REST_FRAMEWORK's pagination default:
ABSENT = "absent"  # the module does not mention REST_FRAMEWORK
SET = "set"  # DEFAULT_PAGINATION_CLASS is set to a class
NONE = "none"  # explicitly None
MISSING = "missing"  # a literal REST_FRAMEWORK without the key
UNKNOWN = "unknown"  # built dynamically: cannot tell


@dataclass(frozen=True)
class DjangoSettings:
    """What the project's settings modules say."""

    #: ``set``, ``unset`` or ``unknown`` (no settings module found, or built dynamically).
    drf_pagination: str = "unknown"
    #: The settings modules read (relative paths).
    sources: Tuple[str, ...] = ()

    def drf_paginates(self) -> Optional[bool]:
        """True/False when the settings say whether DRF paginates list views by default,
        ``None`` when they do not tell."""
        if self.drf_pagination == "set":
            return True
        if self.drf_pagination == "unset":
            return False
        return None


def read_settings(text: str) -> Optional[Dict[str, Any]]:
    """The facts of one module, or ``None`` when it is not a settings module."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    is_settings = False
    verdict = ABSENT
    for statement in tree.body:
        for name, value in _assignments(statement):
            if name in _SETTINGS_NAMES:
                is_settings = True
            elif name == "REST_FRAMEWORK":
                verdict = _combine_file(verdict, _rest_framework(value))
            elif name == f"REST_FRAMEWORK[{_PAGINATION}]":
                verdict = NONE if _is_none(value) else SET
            elif name == "REST_FRAMEWORK[?]":
                verdict = _combine_file(verdict, UNKNOWN)
        if _mutates_rest_framework(statement):
            verdict = _combine_file(verdict, UNKNOWN)
    if not is_settings and verdict == ABSENT:
        return None
    return {"settings": is_settings, "drf": verdict}


def _assignments(statement: ast.stmt):
    """``(name, value)`` for module-level assignments; subscripts as ``NAME[KEY]``."""
    if isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets, value = [statement.target], statement.value
    elif isinstance(statement, ast.AugAssign):
        targets, value = [statement.target], None
    else:
        return
    for target in targets:
        if isinstance(target, ast.Name):
            yield target.id, value if not isinstance(statement, ast.AugAssign) else None
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            key = target.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield f"{target.value.id}[{key.value}]", value
            else:
                yield f"{target.value.id}[?]", value


def _rest_framework(value: Optional[ast.expr]) -> str:
    if isinstance(value, ast.Dict):
        found = MISSING
        for key, item in zip(value.keys, value.values):
            if key is None:  # **spread
                found = UNKNOWN if found == MISSING else found
            elif isinstance(key, ast.Constant) and key.value == _PAGINATION:
                return NONE if _is_none(item) else SET
        return found
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" and not value.args:
        for keyword in value.keywords:
            if keyword.arg is None:
                return UNKNOWN
            if keyword.arg == _PAGINATION:
                return NONE if _is_none(keyword.value) else SET
        return MISSING
    return UNKNOWN


def _is_none(value: Optional[ast.expr]) -> bool:
    return isinstance(value, ast.Constant) and value.value is None


def _mutates_rest_framework(statement: ast.stmt) -> bool:
    """``REST_FRAMEWORK.update(...)`` / ``.setdefault(...)`` and the like."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    func = statement.value.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "REST_FRAMEWORK"


def _combine_file(current: str, new: str) -> str:
    """Later statements win, except that an unknown mutation keeps a known ``set``."""
    if new == UNKNOWN and current == SET:
        return SET
    return new


def _is_test_path(relpath: str) -> bool:
    parts = relpath.replace("\\", "/").lower().split("/")
    return any(part in ("tests", "test", "testing") or part.startswith("test_") or "_test" in part for part in parts)


class DjangoSettingsGatherer:
    """Reads settings modules into :class:`DjangoSettings`."""

    name = "django_settings"

    def wants(self, relpath: str, kind: str, text: str) -> bool:
        return kind == "python" and ("INSTALLED_APPS" in text or "REST_FRAMEWORK" in text)

    def read(self, relpath: str, kind: str, text: str, dialect: str) -> Any:
        return read_settings(text)

    def combine(self, per_file: Mapping[str, Any]) -> DjangoSettings:
        verdicts = []
        sources = []
        for relpath in sorted(per_file):
            facts = per_file[relpath]
            if not isinstance(facts, dict) or _is_test_path(relpath):
                continue
            sources.append(relpath)
            verdicts.append((bool(facts.get("settings")), facts.get("drf", ABSENT)))
        if not verdicts:
            return DjangoSettings("unknown", ())
        drf = [v for _, v in verdicts]
        if SET in drf:
            pagination = "set"
        elif UNKNOWN in drf:
            pagination = "unknown"
        elif any(is_settings for is_settings, _ in verdicts) or any(v in (NONE, MISSING) for v in drf):
            pagination = "unset"
        else:
            pagination = "unknown"
        return DjangoSettings(pagination, tuple(sources))


register(DjangoSettingsGatherer())

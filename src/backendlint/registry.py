"""Finds rules through the ``backendlint.rules`` entry-point group.

The built-in pack registers itself there exactly like a third-party pack. An entry
point may name a module (its ``RULES`` sequence, or every :class:`Rule` subclass it
defines), a sequence of rule classes, or one rule class.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Type

from backendlint.docs import missing_sections
from backendlint.engine.codes import ENGINE_CODES
from backendlint.types import RuleMeta

if TYPE_CHECKING:  # pragma: no cover
    from backendlint.api import Rule

ENTRY_POINT_GROUP = "backendlint.rules"
_CODE = re.compile(r"^[A-Z]{1,4}[0-9]{3,4}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@functools.lru_cache(maxsize=1)
def _node_types() -> FrozenSet[str]:
    import libcst as cst

    return frozenset(name for name, obj in vars(cst).items() if inspect.isclass(obj) and issubclass(obj, cst.CSTNode))


class RegistryError(Exception):
    """A rule pack is broken: duplicate code, bad name, unknown visitor method..."""


@dataclass(frozen=True)
class RegisteredRule:
    cls: Type[Rule]
    meta: RuleMeta


def _entry_points() -> List[object]:
    if sys.version_info >= (3, 10):
        from importlib.metadata import entry_points

        return list(entry_points(group=ENTRY_POINT_GROUP))
    from importlib.metadata import entry_points  # pragma: no cover

    return list(entry_points().get(ENTRY_POINT_GROUP, []))  # pragma: no cover


def _classes_from(obj: object) -> List[Type[Rule]]:
    from backendlint.api import Rule

    if inspect.isclass(obj) and issubclass(obj, Rule):
        return [obj]
    if isinstance(obj, ModuleType):
        listed = getattr(obj, "RULES", None)
        if listed is not None:
            return list(listed)
        return [
            value
            for value in vars(obj).values()
            if inspect.isclass(value) and issubclass(value, Rule) and value is not Rule and value.code
        ]
    if isinstance(obj, (list, tuple)):
        return [c for c in obj if inspect.isclass(c) and issubclass(c, Rule)]
    raise RegistryError(f"entry point object {obj!r} is not a rule, a list of rules or a module")


def validate_rule(cls: Type[Rule]) -> None:
    """Raise :class:`RegistryError` when a rule class breaks the API contract."""
    where = f"{cls.__module__}.{cls.__qualname__}"
    if not _CODE.match(cls.code or ""):
        raise RegistryError(f"{where}: invalid rule code {cls.code!r}")
    if cls.code.startswith("BL0"):
        raise RegistryError(f"{where}: codes BL0xx are reserved for the engine")
    if not _NAME.match(cls.name or ""):
        raise RegistryError(f"{where}: invalid rule name {cls.name!r} (kebab-case expected)")
    if not cls.message:
        raise RegistryError(f"{where}: a rule needs a message")
    missing = missing_sections(cls.__doc__ or "")
    if missing:
        raise RegistryError(f"{where}: docstring lacks section(s): {', '.join(missing)}")
    from backendlint.project import known_facts

    unknown = [name for name in cls.project_facts if name not in known_facts()]
    if unknown:
        raise RegistryError(f"{where}: unknown project facts {unknown} (known: {', '.join(known_facts())})")
    for attr in dir(cls):
        for prefix in ("visit_", "leave_"):
            if attr.startswith(prefix) and attr[len(prefix) :] not in _node_types():
                raise RegistryError(f"{where}.{attr}: no LibCST node type {attr[len(prefix):]!r}")


class Registry:
    """All known rules, by code; engine diagnostics included as metadata only."""

    def __init__(self, rules: Iterable[Tuple[Type[Rule], str]] = ()) -> None:
        self._rules: Dict[str, RegisteredRule] = {}
        self._names: Dict[str, str] = {}
        for cls, origin in rules:
            self.add(cls, origin)

    @classmethod
    def from_entry_points(cls) -> Registry:
        registry = cls()
        for ep in sorted(_entry_points(), key=lambda e: getattr(e, "name", "")):
            try:
                loaded = ep.load()  # type: ignore[attr-defined]
            except Exception as exc:  # a broken third-party pack must not be a traceback
                raise RegistryError(
                    f"could not load rule pack {ep.name!r} ({ep.value}): {type(exc).__name__}: {exc}"  # type: ignore[attr-defined]
                ) from exc
            for rule in _classes_from(loaded):
                registry.add(rule, getattr(ep, "name", "plugin"))
        return registry

    def add(self, rule: Type[Rule], origin: str = "backendlint") -> None:
        validate_rule(rule)
        if rule.code in self._rules:
            other = self._rules[rule.code].cls
            raise RegistryError(
                f"duplicate rule code {rule.code}: {other.__module__}.{other.__qualname__} "
                f"and {rule.__module__}.{rule.__qualname__}"
            )
        for key in (rule.name, *rule.aliases):
            if key in self._names:
                raise RegistryError(f"duplicate rule name or alias {key!r} ({rule.code} and {self._names[key]})")
            self._names[key] = rule.code
        self._rules[rule.code] = RegisteredRule(rule, rule.meta(origin))

    # -- queries -----------------------------------------------------------------
    @property
    def codes(self) -> List[str]:
        return sorted(self._rules)

    def rules(self) -> List[RegisteredRule]:
        return [self._rules[c] for c in self.codes]

    def metas(self, include_engine: bool = True) -> List[RuleMeta]:
        metas = [r.meta for r in self.rules()]
        return (list(ENGINE_CODES) + metas) if include_engine else metas

    def meta(self, code_or_name: str) -> Optional[RuleMeta]:
        key = code_or_name.strip()
        for meta in ENGINE_CODES:
            if key.upper() == meta.code or key == meta.name:
                return meta
        code = self._names.get(key, key.upper())
        found = self._rules.get(code)
        return found.meta if found else None

    def all_codes(self) -> List[str]:
        return [m.code for m in ENGINE_CODES] + self.codes

    def is_valid_selector(self, selector: str) -> bool:
        """A code, a code prefix (``BL4``), a rule name or an alias."""
        if selector in ("ALL",) or selector in self._names:
            return True
        upper = selector.upper()
        return any(code.startswith(upper) for code in self.all_codes())

    def canonical(self, selector: str) -> str:
        """Rule names and aliases map to codes; codes and prefixes are upper-cased."""
        if selector == "ALL":
            return ""
        return self._names.get(selector, selector.upper())


def selector_matches(selector: str, code: str) -> bool:
    """Whether a canonical selector (code or prefix) covers ``code``."""
    return code.startswith(selector)


_REGISTRY: Optional[Registry] = None


def default_registry() -> Registry:
    """The registry of installed rule packs, loaded once per process."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry.from_entry_points()
    return _REGISTRY


def rule_classes(codes: Sequence[str]) -> List[Type[Rule]]:
    registry = default_registry()
    return [r.cls for r in registry.rules() if r.meta.code in codes]

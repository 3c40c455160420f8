"""``[tool.backendlint]`` in ``pyproject.toml`` (or ``--config FILE``) -> frozen :class:`Settings`.

Every key is validated: an unknown key, an unknown rule code or a value of the
wrong type raises :class:`ConfigError` with a message that names the key.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from backendlint.types import Severity

if TYPE_CHECKING:  # pragma: no cover
    from backendlint.registry import Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDE: Tuple[str, ...] = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "venv",
    "__pycache__",
    "__pypackages__",
    "_build",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".backendlint_cache",
)

DEFAULT_TEST_PATHS: Tuple[str, ...] = (
    "tests/",
    "test/",
    "testing/",
    "fixtures/",
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "conftest.py",
    "*settings*test*.py",
    "*test*settings*.py",
    "configuration_testing.py",
    "factories.py",
)

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024

SQL_DIALECTS = ("postgres", "mysql", "sqlite", "tsql", "oracle", "snowflake", "bigquery", "duckdb", "redshift")


class ConfigError(Exception):
    """The configuration is invalid; the message names the key."""


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run."""

    root: Path = field(default_factory=Path.cwd)
    config_path: Optional[Path] = None
    select: Tuple[str, ...] = ("BL",)
    ignore: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    fail_on: Severity = Severity.LOW
    sql_dialect: str = "postgres"
    test_paths: Tuple[str, ...] = DEFAULT_TEST_PATHS
    respect_gitignore: bool = True
    report_unused_ignores: bool = False
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    rule_options: Tuple[Tuple[str, Any], ...] = ()
    enabled: Tuple[str, ...] = ()
    # Applied after linting, so not part of the findings cache key (repr).
    baseline: Optional[Path] = field(default=None, repr=False)

    def options_map(self) -> Dict[str, Any]:
        return dict(self.rule_options)

    def is_enabled(self, code: str) -> bool:
        return code in self.enabled


# key -> (attribute, kind)
_KEYS: Dict[str, Tuple[str, str]] = {
    "select": ("select", "codes"),
    "extend-select": ("extend_select", "codes"),
    "ignore": ("ignore", "codes"),
    "extend-ignore": ("extend_ignore", "codes"),
    "exclude": ("exclude", "strings"),
    "extend-exclude": ("extend_exclude", "strings"),
    "per-file-ignores": ("per_file_ignores", "per-file"),
    "fail-on": ("fail_on", "severity"),
    "sql-dialect": ("sql_dialect", "dialect"),
    "test-paths": ("test_paths", "strings"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "report-unused-ignores": ("report_unused_ignores", "bool"),
    "max-file-size": ("max_file_size", "size"),
    "baseline": ("baseline", "path"),
    "rules": ("rules", "rules"),
}


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` with a ``[tool.backendlint]`` table, walking up."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: invalid TOML: {exc}") from None
            if isinstance(data.get("tool"), dict) and "backendlint" in data["tool"]:
                return path
    return None


def read_table(path: Path) -> Dict[str, Any]:
    """The backendlint table of a config file (pyproject.toml or a plain TOML file)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml" or "tool" in data:
        table = data.get("tool", {}).get("backendlint", {})
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'tool.backendlint' must be a table")
    return table


def _prefix(path: Optional[Path]) -> str:
    return f"{path}: " if path else ""


def _strings(value: Any, key: str, where: str) -> Tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}'{key}' must be a list of strings")
    return tuple(value)


def _codes(value: Any, key: str, where: str, registry: Registry) -> Tuple[str, ...]:
    items = _strings(value, key, where)
    for item in items:
        if not registry.is_valid_selector(item):
            raise ConfigError(f"{where}'{key}': unknown rule code or prefix {item!r}")
    return tuple(registry.canonical(i) for i in items)


def _rule_options(value: Any, where: str, registry: Registry) -> Tuple[Tuple[str, Any], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}'rules' must be a table of rule tables")
    found: List[Tuple[str, Any]] = []
    classes = {r.meta.code: r.cls for r in registry.rules()}
    for selector, table in value.items():
        code = registry.canonical(selector)
        cls = classes.get(code)
        key = f"rules.{selector}"
        if cls is None:
            raise ConfigError(f"{where}'{key}': unknown rule {selector!r}")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}'{key}' must be a table")
        fields = cls.option_fields()
        kwargs = {}
        for raw_name, raw_value in table.items():
            name = raw_name.replace("-", "_")
            if name not in fields:
                known = ", ".join(sorted(f.replace("_", "-") for f in fields)) or "none"
                raise ConfigError(f"{where}unknown key '{key}.{raw_name}' (options of {code}: {known})")
            kwargs[name] = _coerce(raw_value, fields[name], f"{key}.{raw_name}", where)
        found.append((code, cls.Options(**kwargs)))
    return tuple(found)


def _coerce(value: Any, fld: dataclasses.Field[Any], key: str, where: str) -> Any:
    default = fld.default if fld.default is not dataclasses.MISSING else (
        fld.default_factory() if fld.default_factory is not dataclasses.MISSING else None  # type: ignore[misc]
    )
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}'{key}' must be true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}'{key}' must be an integer")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}'{key}' must be a string")
        return value
    if isinstance(default, (tuple, list, frozenset)):
        return _strings(value, key, where)
    return value


def load(
    registry: Registry,
    *,
    config_file: Optional[Path] = None,
    start: Optional[Path] = None,
    overrides: Optional[Mapping[str, Any]] = None,
    root: Optional[Path] = None,
) -> Settings:
    """Read and validate the configuration and apply command-line ``overrides``.

    ``overrides`` keys: select, extend_select, ignore, fail_on, report_unused_ignores,
    max_file_size, baseline (a path relative to the working directory).
    ``root`` (default: the config file's directory, else the working directory) is what
    reported paths are relative to."""
    path = config_file
    if path is None:
        path = find_pyproject(start or Path.cwd())
    table: Dict[str, Any] = read_table(path) if path else {}
    root = (root or (path.parent if path else Path.cwd())).resolve()
    where = _prefix(path)
    values: Dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(f"{where}unknown key 'tool.backendlint.{key}'")
        attr, kind = _KEYS[key]
        if kind == "codes":
            values[attr] = _codes(value, key, where, registry)
        elif kind == "strings":
            values[attr] = _strings(value, key, where)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}'{key}' must be true or false")
            values[attr] = value
        elif kind == "severity":
            try:
                values[attr] = Severity.parse(value) if isinstance(value, str) else Severity.parse("?")
            except ValueError as exc:
                raise ConfigError(f"{where}'{key}': {exc}") from None
        elif kind == "dialect":
            if not isinstance(value, str) or value not in SQL_DIALECTS:
                raise ConfigError(f"{where}'{key}' must be one of: {', '.join(SQL_DIALECTS)}")
            values[attr] = value
        elif kind == "path":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}'{key}' must be a file path (a string)")
            values[attr] = root / value
        elif kind == "size":
            try:
                values[attr] = parse_size(value)
            except ValueError as exc:
                raise ConfigError(f"{where}'{key}': {exc}") from None
        elif kind == "per-file":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}'{key}' must be a table of glob = [codes]")
            values[attr] = tuple(
                (glob, _codes(codes, f"{key}.{glob}", where, registry)) for glob, codes in value.items()
            )
        elif kind == "rules":
            values[attr] = _rule_options(value, where, registry)
    overrides = dict(overrides or {})
    for key in ("select", "extend_select", "ignore"):
        if overrides.get(key):
            raw = overrides[key]
            flag = "--" + key.replace("_", "-")
            for item in raw:
                if not registry.is_valid_selector(item):
                    raise ConfigError(f"{flag}: unknown rule code or prefix {item!r}")
            canon = tuple(registry.canonical(i) for i in raw)
            if key == "ignore":
                values["ignore"] = tuple(values.get("ignore", ())) + canon
            else:
                values[key] = canon
    if overrides.get("fail_on"):
        values["fail_on"] = Severity.parse(overrides["fail_on"])
    if overrides.get("max_file_size") is not None:
        try:
            values["max_file_size"] = parse_size(overrides["max_file_size"])
        except ValueError as exc:
            raise ConfigError(f"--max-file-size: {exc}") from None
    if overrides.get("report_unused_ignores"):
        values["report_unused_ignores"] = True
    if overrides.get("baseline") is not None:
        values["baseline"] = Path(overrides["baseline"]).absolute()
    select = tuple(values.get("select", ("BL",))) + tuple(values.get("extend_select", ()))
    ignore = tuple(values.get("ignore", ())) + tuple(values.get("extend_ignore", ()))
    enabled = _enabled(registry.all_codes(), select, ignore, values.get("report_unused_ignores", False))
    return Settings(
        root=root,
        config_path=path,
        select=select,
        ignore=ignore,
        exclude=values.get("exclude", DEFAULT_EXCLUDE),
        extend_exclude=values.get("extend_exclude", ()),
        per_file_ignores=values.get("per_file_ignores", ()),
        fail_on=values.get("fail_on", Severity.LOW),
        sql_dialect=values.get("sql_dialect", "postgres"),
        test_paths=values.get("test_paths", DEFAULT_TEST_PATHS),
        respect_gitignore=values.get("respect_gitignore", True),
        report_unused_ignores=values.get("report_unused_ignores", False),
        max_file_size=values.get("max_file_size", DEFAULT_MAX_FILE_SIZE),
        rule_options=values.get("rules", ()),
        enabled=enabled,
        baseline=values.get("baseline"),
    )


_UNITS = {"": 1, "B": 1, "KB": 1024, "K": 1024, "MB": 1024**2, "M": 1024**2, "GB": 1024**3, "G": 1024**3}


def parse_size(value: Any) -> int:
    """Bytes from an integer or a string such as ``"5MB"``; 0 means no limit."""
    if isinstance(value, bool):
        raise ValueError("must be a number of bytes or a size such as \"5MB\"")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("must not be negative")
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", value.upper())
        if match:
            return int(float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError("must be a number of bytes or a size such as \"5MB\"")


def _best(selectors: Iterable[str], code: str) -> int:
    return max((len(s) for s in selectors if code.startswith(s)), default=-1)


def _enabled(codes: Sequence[str], select: Sequence[str], ignore: Sequence[str], unused: bool) -> Tuple[str, ...]:
    """The more specific of a matching select and ignore wins (``ignore = ["BL"]`` with ``select = ["BL4"]`` keeps BL4xx)."""
    out = []
    for code in codes:
        chosen, dropped = _best(select, code), _best(ignore, code)
        if code == "BL002":
            chosen = max(chosen, 5) if unused else (chosen if chosen >= 5 else -1)
        if chosen >= 0 and chosen > dropped:
            out.append(code)
    return tuple(out)

"""The public plugin API: the only backendlint module a rule pack imports.

A rule is a class derived from :class:`Rule`. The engine creates one instance per
file and calls its ``visit_<Node>`` / ``leave_<Node>`` methods (LibCST node class
names) during one shared traversal, after the context tracker has updated the
loop/function/except/migration stacks. SQL rules also implement
:meth:`Rule.check_sql` for statements read from ``.sql`` files.

Example::

    class NoPrint(Rule):
        \"\"\"What it does ... (docstring sections become the rule's documentation)\"\"\"

        code = "XY001"
        name = "no-print"
        message = "print() in library code"

        def visit_Call(self, node: cst.Call) -> None:
            if self.ctx.qualname(node.func) == "builtins.print":
                self.report(node)
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypedDict,
)

import libcst as cst

from backendlint.engine.context import Binding, ContextTracker, LoopFrame, ScopeFrame
from backendlint.engine.names import dotted_name, string_value
from backendlint.engine.source import physical_lines
from backendlint.types import Confidence, RuleMeta, Severity, Span

if TYPE_CHECKING:  # pragma: no cover
    import sqlglot.expressions as exp

__all__ = [
    "Binding",
    "Confidence",
    "DJANGO_MIGRATION_BASES",
    "DJANGO_NESTED_OPERATIONS",
    "DJANGO_OPERATION_SIGNATURES",
    "DjangoModelState",
    "FileInfo",
    "LoopFrame",
    "NoOptions",
    "Rule",
    "RuleContext",
    "ScopeFrame",
    "Severity",
    "Span",
    "SqlStatement",
    "dotted_name",
    "string_value",
]


@dataclass(frozen=True)
class NoOptions:
    """Options of a rule that has none."""


@dataclass(frozen=True)
class FileInfo:
    """Facts about the file being linted."""

    path: Path
    relpath: str
    kind: str  # "python" or "sql"
    source: str
    is_test: bool
    dialect: str = "postgres"

    @property
    def lines(self) -> List[str]:
        return physical_lines(self.source)

    @functools.cached_property
    def lowered(self) -> str:
        """``source.lower()``, computed once per file for every pre-filter that wants it."""
        return self.source.lower()


@dataclass(frozen=True)
class SqlStatement:
    """One SQL statement of a ``.sql`` file, parsed with sqlglot when it could be."""

    text: str
    expression: Optional[exp.Expression]
    span: Span
    dialect: Optional[str]


@dataclass
class PendingReport:
    """A report made during traversal; positions are resolved once, afterwards."""

    rule: Rule
    node: Optional[cst.CSTNode]
    span: Optional[Span]
    message: str
    severity: Severity
    confidence: Confidence
    statement: Optional[cst.CSTNode]


class RuleContext:
    """What a rule may ask about the file and the current position in the tree."""

    def __init__(
        self,
        file: FileInfo,
        tracker: Optional[ContextTracker],
        options: Mapping[str, Any],
        project: Any,
        reports: List[PendingReport],
    ) -> None:
        self.file = file
        self.tracker = tracker
        self.project = project
        self._options = options
        self._reports = reports
        self.metadata: Any = None  # a libcst MetadataWrapper when rules asked for metadata

    # -- position in the tree ----------------------------------------------------
    @property
    def loops(self) -> Tuple[LoopFrame, ...]:
        """Loops (innermost last) whose body encloses the current node, within the current function."""
        return self.tracker.loops if self.tracker else ()

    @property
    def function(self) -> Optional[ScopeFrame]:
        return self.tracker.function if self.tracker else None

    @property
    def functions(self) -> Tuple[ScopeFrame, ...]:
        return self.tracker.functions if self.tracker else ()

    @property
    def class_(self) -> Optional[ScopeFrame]:
        return self.tracker.class_ if self.tracker else None

    @property
    def excepts(self) -> Tuple[cst.ExceptHandler, ...]:
        return tuple(self.tracker.excepts) if self.tracker else ()

    @property
    def statement(self) -> Optional[cst.CSTNode]:
        return self.tracker.statement if self.tracker else None

    @property
    def statements(self) -> Tuple[cst.CSTNode, ...]:
        """Statements enclosing the current node (simple lines and compound statements),
        outermost first; the last one is :attr:`statement`."""
        return tuple(self.tracker.statements) if self.tracker else ()

    # -- names ------------------------------------------------------------------
    def qualname(self, node: cst.CSTNode) -> Optional[str]:
        """The imported qualified name of a Name/Attribute (``r.get`` -> ``requests.get``
        after ``import requests as r``), ``builtins.X`` for builtins, else ``None``."""
        dotted = dotted_name(node)
        if dotted is None or self.tracker is None:
            return None
        head = dotted.split(".", 1)[0]
        if self.tracker.binding(head) is not None and head not in self.tracker.imports.aliases:
            return None
        return self.tracker.imports.resolve(dotted)

    def binding(self, name: str) -> Optional[Binding]:
        return self.tracker.binding(name) if self.tracker else None

    def bindings(self, name: str) -> Tuple[Binding, ...]:
        return self.tracker.bindings(name) if self.tracker else ()

    def resolve(self, node: cst.CSTNode) -> Optional[str]:
        """A value path for an expression, following imports and simple local bindings.

        ``requests.get`` -> ``requests.get``; after ``s = requests.Session()``, ``s.get``
        -> ``requests.Session().get``; after ``def f(c: httpx.Client)``, ``c.get`` ->
        ``httpx.Client().get``; ``connections["x"].cursor`` -> ``django.db.connections[].cursor``.
        ``None`` when any part is unknown."""
        return self._resolve(node, 0, {})

    def _resolve(self, node: cst.CSTNode, depth: int, limits: Dict[str, int]) -> Optional[str]:
        if depth > 12 or self.tracker is None:
            return None
        if isinstance(node, cst.Await):
            return self._resolve(node.expression, depth + 1, limits)
        if isinstance(node, cst.Call):
            inner = self._resolve(node.func, depth + 1, limits)
            return f"{inner}()" if inner else None
        if isinstance(node, cst.Subscript):
            inner = self._resolve(node.value, depth + 1, limits)
            return f"{inner}[]" if inner else None
        if isinstance(node, cst.Attribute):
            if isinstance(node.value, (cst.Call, cst.Await, cst.Subscript)):
                inner = self._resolve(node.value, depth + 1, limits)
                return f"{inner}.{node.attr.value}" if inner else None
        dotted = dotted_name(node)
        if dotted is None:
            return None
        parts = dotted.split(".")
        candidates = [(".".join(parts[:2]), 2)] if parts[0] in ("self", "cls") and len(parts) > 1 else []
        candidates.append((parts[0], 1))
        for name, used in candidates:
            found = self.tracker.bindings(name)
            if name in limits:
                found = found[: limits[name]]
            if not found:
                continue
            binding = found[-1]
            rest = parts[used:]
            base = self._resolve_binding(binding, len(found) - 1, depth, limits)
            if base is None:
                return None
            return ".".join([base, *rest])
        return self.tracker.imports.resolve(dotted)

    def _resolve_binding(
        self, binding: Binding, index: int, depth: int, limits: Dict[str, int]
    ) -> Optional[str]:
        inner_limits = {**limits, binding.name: index}
        if binding.kind in ("param", "annotation") and binding.annotation is not None:
            target = _unwrap_optional(binding.annotation)
            base = self._resolve(target, depth + 1, inner_limits) if target is not None else None
            return f"{base}()" if base else None
        if binding.kind in ("assign", "with", "annotation") and binding.value is not None:
            return self._resolve(binding.value, depth + 1, inner_limits)
        return None

    # -- options and reporting ---------------------------------------------------
    def options(self, rule: Rule) -> Any:
        return self._options.get(rule.code, rule.Options())

    def add_report(self, report: PendingReport) -> None:
        self._reports.append(report)


def _unwrap_optional(annotation: cst.CSTNode) -> Optional[cst.CSTNode]:
    """``Optional[X]`` / ``X | None`` / ``"X"`` -> ``X`` (as a node), when simple."""
    if isinstance(annotation, cst.Subscript) and dotted_name(annotation.value) in ("Optional", "typing.Optional"):
        elements = annotation.slice
        if len(elements) == 1 and isinstance(elements[0].slice, cst.Index):
            return elements[0].slice.value
        return None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        if isinstance(annotation.right, cst.Name) and annotation.right.value == "None":
            return annotation.left
        return None
    if isinstance(annotation, cst.SimpleString):
        try:
            return cst.parse_expression(annotation.evaluated_value)  # type: ignore[arg-type]
        except (cst.ParserSyntaxError, ValueError, TypeError):
            return None
    return annotation


class Rule:
    """Base class of every rule, built-in or third-party.

    Subclasses set the class attributes below and define ``visit_<Node>`` /
    ``leave_<Node>`` methods and/or :meth:`check_sql`. The class docstring has the
    sections ``What it does``, ``Why is this bad``, ``Example``, ``Use instead``,
    ``Options`` and ``References``; it is the rule's documentation everywhere.
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    message: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    confidence: ClassVar[Confidence] = Confidence.HIGH
    tags: ClassVar[Tuple[str, ...]] = ()
    cwe: ClassVar[Optional[int]] = None
    aliases: ClassVar[Tuple[str, ...]] = ()
    #: "python" and/or "sql": which files the rule looks at.
    languages: ClassVar[Tuple[str, ...]] = ("python",)
    #: Cheap pre-filter used by the default :meth:`applies_to`: the rule looks at a file
    #: only when its text contains at least one of these substrings (any case in ``.sql``
    #: files; empty: every file).
    requires_text: ClassVar[Tuple[str, ...]] = ()
    #: Never show the source line of a finding in any report (the line holds a secret).
    redact_source: ClassVar[bool] = False
    #: Project-wide facts the rule reads through ``ctx.project.get(name)`` (``"catalog"``,
    #: ``"migrations"``); the project pass runs only when a selected rule asks for some.
    project_facts: ClassVar[Tuple[str, ...]] = ()
    #: LibCST metadata providers the rule reads through :meth:`get_metadata`.
    METADATA_DEPENDENCIES: ClassVar[Tuple[Any, ...]] = ()
    #: A frozen dataclass of options, filled from ``[tool.backendlint.rules.CODE]``.
    Options: ClassVar[Type[Any]] = NoOptions

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.options = ctx.options(self)

    # -- pre-filter --------------------------------------------------------------
    @classmethod
    def applies_to(cls, ctx: RuleContext) -> bool:
        """Whether the rule could report anything in ``ctx.file``; called before the file
        is parsed. A file for which no selected rule applies is never parsed at all.

        ``ctx.file`` has the path, ``is_test`` and the raw text (``source``, and
        ``lowered`` for case-blind tests); ``ctx.options(cls)`` gives the rule's options
        and ``ctx.project`` the project facts. There is no tree and no position yet.

        Override it to add what the rule knows cheaply (path patterns, test files it
        skips, facts it needs). It must be *sound*: never ``False`` for a file the rule
        could report in. Keep it cheap: substring tests (``in``) cost a fraction of a
        regular expression over the whole text. The default tests :attr:`requires_text`."""
        return cls.text_contains(ctx.file, cls.requires_text)

    @staticmethod
    def text_contains(file: FileInfo, needles: Sequence[str]) -> bool:
        """``True`` when ``needles`` is empty or the file's text contains one of them
        (in any case for ``.sql`` files)."""
        if not needles:
            return True
        if file.kind == "sql":
            text = file.lowered
            return any(needle.lower() in text for needle in needles)
        text = file.source
        return any(needle in text for needle in needles)

    # -- hooks -------------------------------------------------------------------
    def check_sql(self, statement: SqlStatement) -> None:
        """Called for each statement of a ``.sql`` file (rules with ``"sql"`` in languages)."""

    def check_sql_file(self, statements: Sequence[SqlStatement]) -> None:
        """Called once per ``.sql`` file; by default calls :meth:`check_sql` per statement."""
        for statement in statements:
            self.check_sql(statement)

    def end_file(self) -> None:
        """Called after the traversal of a Python file, for whole-file conclusions."""

    # -- helpers -----------------------------------------------------------------
    def get_metadata(self, provider: Any, node: cst.CSTNode, default: Any = None) -> Any:
        wrapper = self.ctx.metadata
        if wrapper is None:
            return default
        return wrapper.resolve(provider).get(node, default)

    def report(
        self,
        node: Optional[cst.CSTNode] = None,
        message: Optional[str] = None,
        *,
        span: Optional[Span] = None,
        severity: Optional[Severity] = None,
        confidence: Optional[Confidence] = None,
        **fields: Any,
    ) -> None:
        """Report a finding at ``node`` (Python) or ``span`` (SQL files).

        ``message`` defaults to the class ``message`` formatted with ``fields``."""
        if node is None and span is None:
            raise ValueError("report() needs a node or a span")
        text = message if message is not None else self.message.format(**fields)
        self.ctx.add_report(
            PendingReport(
                rule=self,
                node=node,
                span=span,
                message=text,
                severity=severity if severity is not None else self.severity,
                confidence=confidence if confidence is not None else self.confidence,
                statement=self.ctx.statement if node is not None else None,
            )
        )

    @classmethod
    def meta(cls, origin: str = "backendlint") -> RuleMeta:
        from backendlint.docs import summary_of

        return RuleMeta(
            code=cls.code,
            name=cls.name,
            summary=summary_of(cls.__doc__ or ""),
            severity=cls.severity,
            confidence=cls.confidence,
            tags=tuple(cls.tags),
            cwe=cls.cwe,
            aliases=tuple(cls.aliases),
            languages=tuple(cls.languages),
            doc=_dedent_doc(cls.__doc__ or ""),
            origin=origin,
        )

    @classmethod
    def option_fields(cls) -> Dict[str, dataclasses.Field]:  # type: ignore[type-arg]
        if not dataclasses.is_dataclass(cls.Options):
            return {}
        return {f.name: f for f in dataclasses.fields(cls.Options)}


def _dedent_doc(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc) if doc else ""


# -- Django migrations: shared by the project pass's migration history and the rules ----------

#: Django's migration operations -> their positional parameters (Django 5.2), so that the
#: project pass (stdlib ``ast``) and a rule (LibCST) name the arguments of
#: ``AddField("order", "qty", models.IntegerField())`` alike.
DJANGO_OPERATION_SIGNATURES: Mapping[str, Tuple[str, ...]] = {
    "CreateModel": ("name", "fields", "options", "bases", "managers"),
    "DeleteModel": ("name",),
    "RenameModel": ("old_name", "new_name"),
    "AlterModelTable": ("name", "table"),
    "AlterModelTableComment": ("name", "table_comment"),
    "AlterModelOptions": ("name", "options"),
    "AlterModelManagers": ("name", "managers"),
    "AlterUniqueTogether": ("name", "unique_together"),
    "AlterIndexTogether": ("name", "index_together"),
    "AlterOrderWithRespectTo": ("name", "order_with_respect_to"),
    "AddField": ("model_name", "name", "field", "preserve_default"),
    "AlterField": ("model_name", "name", "field", "preserve_default"),
    "RemoveField": ("model_name", "name"),
    "RenameField": ("model_name", "old_name", "new_name"),
    "AddIndex": ("model_name", "index"),
    "AddIndexConcurrently": ("model_name", "index"),
    "RemoveIndex": ("model_name", "name"),
    "RemoveIndexConcurrently": ("model_name", "name"),
    "RenameIndex": ("model_name", "new_name", "old_name", "old_fields"),
    "AddConstraint": ("model_name", "constraint"),
    "AddConstraintNotValid": ("model_name", "constraint"),
    "RemoveConstraint": ("model_name", "name"),
    "ValidateConstraint": ("model_name", "name"),
    "RunSQL": ("sql", "reverse_sql", "state_operations", "hints", "elidable"),
    "RunPython": ("code", "reverse_code", "atomic", "hints", "elidable"),
    "SeparateDatabaseAndState": ("database_operations", "state_operations"),
}
#: The arguments that hold a list of operations (``SeparateDatabaseAndState``, ``RunSQL``).
DJANGO_NESTED_OPERATIONS: Tuple[str, ...] = ("database_operations", "state_operations")
#: What a migration module's ``class Migration`` derives from, qualified.
DJANGO_MIGRATION_BASES: FrozenSet[str] = frozenset(
    {"django.db.migrations.Migration", "django.db.migrations.migration.Migration"}
)


class DjangoModelState(TypedDict):
    """A Django model as the app's earlier migrations left it (the migration *state*, never
    the database): what ``ctx.project.get("migrations").model_before(relpath, path)``
    returns. Arguments are encoded as the history encodes them: constants as themselves,
    lists as lists, ``{"name": q}``, ``{"call": q, "args": [...], "kwargs": {...}}``,
    ``{"dict": {...}}``, ``{"expr": "?"}`` for anything else."""

    #: The model's name as last written (``CreateModel``/``RenameModel``).
    name: str
    #: Field name -> its encoded field call, in declaration order.
    fields: Dict[str, Any]
    #: ``CreateModel(options=...)`` as changed by ``AlterModelOptions``, ``AlterModelTable``
    #: (``db_table``), ``AlterUniqueTogether`` and ``AlterIndexTogether``.
    options: Dict[str, Any]
    #: Constraint name -> ``{"constraint": encoded call, "validated": bool}``.
    constraints: Dict[str, Any]

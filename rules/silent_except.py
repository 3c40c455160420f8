"""BL401 silent-except."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import libcst as cst

from backendlint.api import Confidence, Rule, Severity, dotted_name

BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
CLEANUP_FUNCTIONS = frozenset({"__del__", "__exit__", "__aexit__", "close", "aclose", "shutdown", "cleanup", "teardown"})
Handler = Union[cst.ExceptHandler, cst.ExceptStarHandler]
_BARE_EXCEPT = re.compile(r"except[ \t\\\r\n]*:")


@dataclass(frozen=True)
class Options:
    check_typed_exception: bool = False
    check_suppress: bool = False
    include_cleanup: bool = False


class SilentExcept(Rule):
    """An `except` clause that swallows every error without a trace.

    ## What it does
    Flags a bare `except:` or an `except Exception` / `except BaseException` (also inside a
    tuple) whose body only swallows the error: `pass`, `...`, `continue` or `break`. A second,
    lower-severity tier flags a body that is only `return` or `return <constant>` (`None`,
    `False`, `""`, `[]`, `{}`, `0`), which turns any error into a sentinel value.

    A handler is not silent when its body raises, logs, reports, uses the bound exception or
    does anything else; those are never flagged. Typed handlers (`except KeyError: pass`) and
    `contextlib.suppress(...)` are explicit choices and are not flagged unless the options
    below ask for it. Cleanup methods (`__del__`, `__exit__`, `close`, `shutdown`) are left
    alone by default, since they must not raise.

    ## Why is this bad
    A broad handler that swallows the error hides database outages, timeouts, typos and
    programming errors alike: the request "succeeds" with wrong data, the job reports nothing,
    and the first sign of trouble is a customer. Nothing is logged, so nobody can find out why.

    ## Example
    ```python
    def sync_invoice(invoice):
        try:
            billing.push(invoice)
        except Exception:
            pass
    ```

    ## Use instead
    Catch the exception you expect, or log it with its traceback and carry on deliberately:
    ```python
    def sync_invoice(invoice):
        try:
            billing.push(invoice)
        except billing.RetryableError:
            logger.exception("billing push failed for invoice %s", invoice.id)
    ```

    ## Options
    - `check-typed-exception` (default `false`): also flag a typed handler whose body is only
      `pass`/`...`/`continue`/`break` (low severity).
    - `check-suppress` (default `false`): also flag `contextlib.suppress(Exception)` and
      `suppress(BaseException)`.
    - `include-cleanup` (default `false`): also flag handlers inside `__del__`, `__exit__`,
      `close`, `shutdown`, `cleanup` and `teardown`.

    ## References
    - [CWE-390: Detection of Error Condition Without Action](https://cwe.mitre.org/data/definitions/390.html)
    - Python documentation: [Handling exceptions](https://docs.python.org/3/tutorial/errors.html#handling-exceptions)
    """

    code = "BL401"
    name = "silent-except"
    message = "{clause} swallows every error without a trace; {fix}"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    tags = ("error-handling", "reliability")
    cwe = 390
    requires_text = ("except", "suppress")
    Options = Options

    @classmethod
    def applies_to(cls, ctx) -> bool:  # type: ignore[no-untyped-def]
        """A handler it judges is bare or names Exception/BaseException (unless typed
        handlers are checked too); ``suppress`` only with ``check-suppress``."""
        text, options = ctx.file.source, ctx.options(cls)
        if options.check_suppress and "suppress" in text:
            return True
        if "except" not in text:
            return False
        return options.check_typed_exception or "Exception" in text or bool(_BARE_EXCEPT.search(text))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._check(node, star=False)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._check(node, star=True)

    def visit_With(self, node: cst.With) -> None:
        if not self.options.check_suppress:
            return
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call) or self.ctx.qualname(call.func) != "contextlib.suppress":
                continue
            if any(self._is_broad(arg.value) for arg in call.args):
                self.report(
                    call,
                    "contextlib.suppress(Exception) swallows every error without a trace; "
                    "suppress the specific exception you expect, or log it",
                    severity=Severity.LOW,
                )

    # -- helpers -------------------------------------------------------------------
    def _check(self, node: Handler, star: bool) -> None:
        if self._in_cleanup():
            return
        broad = node.type is None or self._is_broad(node.type)
        if not broad and not self.options.check_typed_exception:
            return
        kind = _body_kind(node.body)
        if kind is None:
            return
        keyword = "except*" if star else "except"
        clause = f"`{keyword}:`" if node.type is None else f"`{keyword} {_source(node.type)}:`"
        if not broad:
            if kind == "return":
                return
            self.report(
                node,
                clause=clause,
                fix="log it or handle it, or use contextlib.suppress() to make the intent explicit",
                severity=Severity.LOW,
            )
            return
        if kind == "return":
            self.report(
                node,
                f"{clause} turns every error into a return value with no trace; log the exception "
                "(logger.exception(...)) or catch the specific exception you expect",
                severity=Severity.LOW,
            )
            return
        self.report(
            node,
            clause=clause,
            fix="catch the specific exception you expect, or log it with logger.exception(...) or re-raise",
        )

    def _is_broad(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Tuple):
            return any(self._is_broad(el.value) for el in node.elements)
        return self.ctx.qualname(node) in BROAD

    def _in_cleanup(self) -> bool:
        if self.options.include_cleanup:
            return False
        function = self.ctx.function
        return function is not None and function.name in CLEANUP_FUNCTIONS


def _source(node: cst.CSTNode) -> str:
    return dotted_name(node) or cst.Module([]).code_for_node(node)


def _body_kind(body: cst.BaseSuite) -> Optional[str]:
    """``"swallow"`` for pass/.../continue/break only, ``"return"`` for a constant return."""
    statements: Sequence[cst.BaseSmallStatement]
    if isinstance(body, cst.SimpleStatementSuite):
        statements = body.body
    else:
        statements = []
        for line in body.body:  # type: ignore[attr-defined]
            if not isinstance(line, cst.SimpleStatementLine):
                return None
            statements = [*statements, *line.body]
    if not statements:
        return None
    if all(_is_swallow(s) for s in statements):
        return "swallow"
    if len(statements) == 1 and isinstance(statements[0], cst.Return):
        value = statements[0].value
        if value is None or _is_constant(value):
            return "return"
    return None


def _is_swallow(statement: cst.BaseSmallStatement) -> bool:
    if isinstance(statement, (cst.Pass, cst.Continue, cst.Break)):
        return True
    return isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis)


def _is_constant(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString)):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, (cst.Integer, cst.Float))
    if isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        return len(node.elements) == 0
    if isinstance(node, cst.Call) and not node.args:
        return dotted_name(node.func) in ("list", "dict", "set", "tuple", "str")
    return False

"""BL301 hardcoded-secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Set, Union

import libcst as cst
from backendlint_rules._secrets import (
    CONFIG_READERS,
    DEV_WORDS,
    ENUM_BASES,
    ENV_SCHEMAS,
    FIXTURE_PATH,
    LOCAL_HOSTS,
    SETTINGS_BASES,
    basic_auth,
    is_placeholder,
    is_secret_name,
    looks_like_secret,
    mask,
    might_hold_secret,
    provider_match,
)

from backendlint.api import Confidence, Rule, Severity, dotted_name, string_value

_NOSEC = re.compile(r"#.*\bnosec\b")
StringNode = Union[cst.SimpleString, cst.ConcatenatedString]
_FIX = "read it from the environment (os.environ[...]) or a secret manager, and rotate it"


@dataclass(frozen=True)
class Options:
    include_tests: bool = False
    honour_nosec: bool = True
    artifactory: bool = False


class HardcodedSecret(Rule):
    """A password, token or key written into the source code.

    ## What it does
    Flags string literals that hold a credential:

    - **Provider patterns** in any string literal (high confidence): AWS key ids and
      keyword-gated secret keys, GitHub, GitLab, Slack tokens and webhooks, Stripe live keys,
      private keys, JWTs, OpenAI, SendGrid, Twilio, Mailchimp, PyPI, npm, Discord, Telegram,
      Square and Azure storage keys (Artifactory tokens are opt-in), and URLs/DSNs with a
      password (`postgres://user:pw@host`).
    - **Secret-named values**: a literal assigned to a name, attribute or subscript, passed as
      a keyword argument, used as a parameter default, a dict key's value or compared with `==`,
      where the name says password/token/secret/api key... **and** the value looks like a
      secret: at least 8 characters, not a placeholder (`changeme`, `<token>`, `${X}`, `xxx`),
      not code (snake_case, camelCase, dotted paths, template or file paths, URLs without
      credentials, sentences), not a UUID or a sequential string, and either high entropy or
      at least two character classes.

    Names that describe a secret rather than hold it are left alone: `*_FIELD`, `*_URL`,
    `*_NAME`, `*_HEADER`, `*_TYPE`, `*_PATH`... and ID-like names (`client_id`, Alembic
    `revision`). Enum members and AWS documentation keys are never flagged.

    The finding never shows the secret: the message holds at most a short prefix, and no
    report format includes the source line.

    In test and fixture code (unless `include-tests`) only credentials in a provider's own
    format (`ghp_…`, `sk_live_…`, `AKIA…`, private keys) are reported, at **low** severity:
    passwords in test database URLs and factories are throw-away by design.

    Severity: high by default; **low** for pydantic `BaseSettings` / django-environ defaults ("dev default; ensure it is
    overridden in prod") and for `os.getenv("X", "default")` fallbacks; **info** for local
    development DSNs whose password is the user name or a common dev word
    (`postgres://shop:shop@localhost`).

    ## Why is this bad
    A secret in source code is in every clone, fork, backup, CI log and container image, and
    stays in the git history after it is deleted. Anyone who can read the code can use it, and
    rotating it means a code change and a deploy.

    ## Example
    ```python
    STRIPE_API_KEY = "sk_live_..."
    DATABASES = {"default": {"PASSWORD": "Pg9!rT2qLw"}}
    ```

    ## Use instead
    ```python
    import os

    STRIPE_API_KEY = os.environ["STRIPE_API_KEY"]
    DATABASES = {"default": {"PASSWORD": os.environ["DB_PASSWORD"]}}
    ```

    ## Options
    - `include-tests` (default `false`): report every kind of secret in test and fixture
      code, at full severity.
    - `honour-nosec` (default `true`): a `# nosec` comment on the statement suppresses the
      finding, as it does for bandit.
    - `artifactory` (default `false`): also look for Artifactory tokens (noisy patterns).

    ## References
    - [CWE-798: Use of Hard-coded Credentials](https://cwe.mitre.org/data/definitions/798.html)
    - OWASP: [Secrets Management Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html)
    - [detect-secrets](https://github.com/Yelp/detect-secrets) plugins and filters
    """

    code = "BL301"
    name = "hardcoded-secret"
    message = "{what}; {fix}"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    tags = ("security", "secrets")
    cwe = 798
    redact_source = True
    Options = Options

    @classmethod
    def applies_to(cls, ctx) -> bool:  # type: ignore[no-untyped-def]
        """Only where the text could spell a secret-ish name or a provider pattern
        (``might_hold_secret``: substring tests, sound for escapes and concatenation)."""
        return might_hold_secret(ctx.file.source, ctx.options(cls).artifactory)

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx)
        self._tests = ctx.file.is_test or bool(FIXTURE_PATH.search(ctx.file.relpath))
        self._seen: Set[int] = set()

    # -- named contexts ----------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._named(_target_name(target.target), node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._named(_target_name(node.target), node.value)

    def visit_Param(self, node: cst.Param) -> None:
        if node.default is not None:
            self._named(node.name.value, node.default)

    def visit_Call(self, node: cst.Call) -> None:
        path = self.ctx.resolve(node.func)
        reader = path in CONFIG_READERS
        for index, arg in enumerate(node.args):
            if arg.keyword is not None:
                if path in ENV_SCHEMAS and isinstance(arg.value, cst.Tuple) and len(arg.value.elements) == 2:
                    # environ.Env(SECRET_KEY=(str, "dev-value")): a default overridden by the environment
                    self._dev_default(arg.keyword.value, arg.value.elements[1].value)
                elif reader and arg.keyword.value == "default":
                    self._config_default(node, arg.value)
                else:
                    self._named(arg.keyword.value, arg.value)
            elif reader and index == 1:
                self._config_default(node, arg.value)

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = _string(element.key)
                if key is not None:
                    self._named(key, element.value)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, (cst.Equal, cst.NotEqual)):
                if _string(target.comparator) is not None:
                    self._named(_target_name(left), target.comparator)
                elif _string(left) is not None:
                    self._named(_target_name(target.comparator), left)
            left = target.comparator

    # -- any string literal ----------------------------------------------------------
    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        self._literal(node)
        for part in (node.left, node.right):
            self._seen.add(id(part))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._literal(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        text = "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
        found = provider_match(text, self.options.artifactory)
        if found is not None:
            self._emit(node, f"hardcoded {found[0]} ({mask(found[1])}) in source", Severity.HIGH, known_format=True)

    # -- helpers -------------------------------------------------------------------
    def _literal(self, node: StringNode) -> None:
        if id(node) in self._seen or self._is_docstring(node):
            return
        self._seen.add(id(node))
        value = _string(node)
        if value is not None:
            self._patterns(node, value)

    def _patterns(self, node: cst.CSTNode, value: str) -> bool:
        found = provider_match(value, self.options.artifactory)
        if found is not None:
            self._emit(node, f"hardcoded {found[0]} ({mask(found[1])}) in source", Severity.HIGH, known_format=True)
            return True
        auth = basic_auth(value)
        if auth is None:
            return False
        scheme, user, password, host = auth
        if is_placeholder(password) or password.startswith(("$", "{", "%", "<")) or password == "*" * len(password):
            return True
        if host in LOCAL_HOSTS and (password == user or password.lower() in DEV_WORDS):
            self._emit(
                node,
                f"credentials in a local development {scheme} URL ({scheme}://{user}:…@{host}); "
                "fine for a dev default, but read the production URL from the environment",
                Severity.INFO,
                confidence=Confidence.MEDIUM,
                fix="",
            )
            return True
        self._emit(node, f"hardcoded password in a {scheme} URL for host {host or '?'} ({mask(password)})", Severity.HIGH)
        return True

    def _named(self, name: Optional[str], value_node: cst.BaseExpression) -> None:
        value = _string(value_node)
        if value is None or not name:
            return
        if id(value_node) in self._seen:
            return
        self._seen.add(id(value_node))
        if isinstance(value_node, cst.ConcatenatedString):
            self._seen.update((id(value_node.left), id(value_node.right)))
        if self._patterns(value_node, value):
            return
        if not is_secret_name(name) or self._in_class(ENUM_BASES):
            return
        if not looks_like_secret(value, name.rsplit(".", 1)[-1]):
            return
        if self._in_class(SETTINGS_BASES):
            self._emit(
                value_node,
                f"dev default for `{name}` ({mask(value)}); ensure it is overridden in prod",
                Severity.LOW,
                confidence=Confidence.MEDIUM,
                fix="",
            )
            return
        self._emit(value_node, f"hardcoded secret in `{name}` ({mask(value)})", Severity.HIGH, confidence=Confidence.MEDIUM)

    def _config_default(self, call: cst.Call, value_node: cst.BaseExpression) -> None:
        key = _string(call.args[0].value) if call.args else None
        if key is not None:
            self._dev_default(key, value_node)

    def _dev_default(self, key: str, value_node: cst.BaseExpression) -> None:
        value = _string(value_node)
        if value is None:
            return
        self._seen.add(id(value_node))
        if self._patterns(value_node, value):
            return
        if is_secret_name(key) and looks_like_secret(value, key):
            self._emit(
                value_node,
                f"dev default for `{key}` ({mask(value)}); ensure it is overridden in prod",
                Severity.LOW,
                confidence=Confidence.MEDIUM,
                fix="",
            )

    def _emit(
        self,
        node: cst.CSTNode,
        what: str,
        severity: Severity,
        confidence: Confidence = Confidence.HIGH,
        fix: str = _FIX,
        known_format: bool = False,
    ) -> None:
        if self.options.honour_nosec and self._nosec():
            return
        if self._tests and not self.options.include_tests:
            # Test code is full of credentials by design (URLs to throw-away databases,
            # factory passwords): only a credential in a real provider's format, which
            # works wherever it is, is reported there, and at low severity.
            if not known_format:
                return
            severity = min(severity, Severity.LOW)
        message = f"{what}; {fix}" if fix else what
        self.report(node, message, severity=severity, confidence=confidence)

    def _nosec(self) -> bool:
        statement = self.ctx.statement
        if isinstance(statement, cst.SimpleStatementLine):
            code = cst.Module([]).code_for_node(statement.with_changes(leading_lines=()))
            return bool(_NOSEC.search(code))
        body = getattr(statement, "body", None)
        header = getattr(body, "header", None)
        comment = getattr(header, "comment", None)
        return comment is not None and bool(_NOSEC.search(comment.value))

    def _in_class(self, bases: frozenset) -> bool:
        cls = self.ctx.class_
        function = self.ctx.function
        if cls is None or not isinstance(cls.node, cst.ClassDef):
            return False
        if function is not None and function.kind == "function":
            return False
        return any(self.ctx.qualname(arg.value) in bases for arg in cls.node.bases)

    def _is_docstring(self, node: cst.CSTNode) -> bool:
        statement = self.ctx.statement
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return False
        expr = statement.body[0]
        return isinstance(expr, cst.Expr) and expr.value is node


def _string(node: Optional[cst.CSTNode]) -> Optional[str]:
    return string_value(node)


def _target_name(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.Subscript):
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            return _string(node.slice[0].slice.value)
        return None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        return _string(node.args[0].value) if node.args else None  # headers.get("X-Token")
    dotted = dotted_name(node)
    return dotted.rsplit(".", 1)[-1] if dotted else None

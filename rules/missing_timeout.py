"""BL201 missing-timeout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Set, Tuple

import libcst as cst
from backendlint_rules._http_clients import (
    AIOHTTP_SESSIONS,
    AIOHTTP_TIMEOUTS,
    CLIENTS,
    GRPC_FIX,
    HTTPX_TIMEOUTS,
    MOCK_MODULES,
    SOCKET_DEFAULT_FAMILIES,
    Client,
)

from backendlint.api import Confidence, Rule, Severity, dotted_name, string_value

_GRPC_CALL = re.compile(r"(?:^|\.)\w+_pb2_grpc\.\w+Stub\(\)\.(\w+)(?:\.(future|with_call))?$")
_SET_DEFAULT = re.compile(r"^(?:socket\.)?setdefaulttimeout\(\s*(?!None\s*\))\S", re.MULTILINE)
_SEVERITIES = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}


@dataclass(frozen=True)
class Options:
    extra_functions: Tuple[str, ...] = ()
    include_tests: bool = False


class MissingTimeout(Rule):
    """A network call that can wait forever because it has no timeout.

    ## What it does
    Flags calls to network clients that have **no timeout by default** when the call passes
    none: `requests` functions and `requests.Session` methods (including `.request()` and
    `.send()`), `urllib.request.urlopen`, `http.client.HTTPConnection`/`HTTPSConnection`,
    `smtplib`, `ftplib`, `poplib`, `imaplib`, `socket.create_connection`, `psycopg2.connect`
    without `connect_timeout` (neither as keyword nor in a literal DSN), gRPC stub calls (stubs
    bound from `*_pb2_grpc.*Stub(channel)`), and `urllib3` (low severity).

    For clients with a **bounded default** it flags only an explicit value that disables the
    limit: `timeout=None` / `httpx.Timeout(None)` for httpx calls and clients,
    `aiohttp.ClientSession(timeout=aiohttp.ClientTimeout())` and per-request `timeout=None`,
    `socket_timeout=None` for redis-py (≥ 8 has a 5 s default), `connect_timeout=0` for
    psycopg 3, `timeout=None` for asyncpg, `connectTimeoutMS=None/0` for pymongo and
    `connect_timeout=None`/`read_timeout=None` in `botocore.config.Config`.

    Names are resolved through imports (`from requests import get as fetch`) and receivers
    through local bindings (`s = requests.Session()`, `with httpx.Client() as c`, parameters
    annotated `requests.Session`, `self.session = requests.Session()`). A timeout given by a
    variable, attribute, call or `**kwargs` counts as set. Note that `session.timeout = 5`
    does **not** count: `requests` ignores that attribute.

    Not flagged: test code and modules that import `responses`/`respx`; stdlib clients in a
    module that calls `socket.setdefaulttimeout(x)` at import time; sessions that had an
    adapter mounted (`s.mount(...)`), which may inject a default; unknown wrappers.

    ## Why is this bad
    A request without a timeout waits as long as the peer keeps the socket open. One slow
    upstream then pins a worker thread or connection for good; under load every worker ends
    up waiting and the whole service stops answering.

    ## Example
    ```python
    import requests

    def fetch_rates():
        session = requests.Session()
        return session.get("https://rates.example.com/latest").json()
    ```

    ## Use instead
    ```python
    import requests

    def fetch_rates():
        session = requests.Session()
        return session.get("https://rates.example.com/latest", timeout=(3.05, 27)).json()
    ```

    ## Options
    - `extra-functions` (default `[]`): further qualified names (for example a project's own
      wrappers, `"myapp.http.fetch"`) that must be given a `timeout=` keyword. For speed the
      rule only reads modules that mention one of the known client libraries, so a wrapper
      call is checked in such modules.
    - `include-tests` (default `false`): also check test code (modules importing `responses`,
      `respx` and other HTTP mocks stay skipped).

    ## References
    - [CWE-400: Uncontrolled Resource Consumption](https://cwe.mitre.org/data/definitions/400.html)
    - requests documentation: [Timeouts](https://requests.readthedocs.io/en/latest/user/advanced/#timeouts)
    - httpx documentation: [Timeouts](https://www.python-httpx.org/advanced/timeouts/)
    - gRPC blog: [Deadlines](https://grpc.io/blog/deadlines/)
    """

    code = "BL201"
    name = "missing-timeout"
    message = "{call} has no timeout and can wait forever; {fix}"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    tags = ("reliability", "network")
    cwe = 400
    requires_text = (
        "requests",
        "httpx",
        "aiohttp",
        "urllib",
        "http.client",
        "smtplib",
        "ftplib",
        "poplib",
        "imaplib",
        "socket",
        "psycopg",
        "_pb2_grpc",
        "redis",
        "asyncpg",
        "pymongo",
        "motor",
        "botocore",
    )
    Options = Options

    @classmethod
    def applies_to(cls, ctx) -> bool:  # type: ignore[no-untyped-def]
        """Not in test code (unless included); only where a client library or an extra
        function is named (in the text, or in the path for relative imports)."""
        file, options = ctx.file, ctx.options(cls)
        if file.is_test and not options.include_tests:
            return False
        needles = (*cls.requires_text, *(name.rsplit(".", 1)[-1] for name in options.extra_functions))
        return any(needle in file.source or needle in file.relpath for needle in needles)

    def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx)
        self._skip = ctx.file.is_test and not self.options.include_tests
        self._socket_default = bool(_SET_DEFAULT.search(ctx.file.source))
        self._extra: Set[str] = set(self.options.extra_functions)
        self._mounted: Set[Tuple[int, str]] = set()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if (dotted_name(alias.name) or "").split(".")[0] in MOCK_MODULES:
                self._skip = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and (dotted_name(node.module) or "").split(".")[0] in MOCK_MODULES:
            self._skip = True

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip:
            return
        path = self.ctx.resolve(node.func)
        if path is None:
            return
        if path.endswith(".mount") and isinstance(node.func, cst.Attribute):
            receiver = dotted_name(node.func.value)
            if receiver:
                self._mounted.add(self._mount_key(receiver))
            return
        client = CLIENTS.get(path)
        if client is not None:
            if client.family == "requests" and self._is_mounted(node):
                return
            self._check_client(node, path, client)
            return
        if path in AIOHTTP_SESSIONS:
            self._check_aiohttp_session(node, path)
            return
        grpc = _GRPC_CALL.search(path)
        if grpc is not None:
            self._check_grpc(node, grpc.group(1), grpc.group(2))
            return
        if path in self._extra:
            value, present = _keyword(node, ("timeout",))
            if not present and not _has_star_kwargs(node):
                self._flag(node, path, "pass timeout=<seconds>")

    # -- checks --------------------------------------------------------------------
    def _check_client(self, node: cst.Call, path: str, client: Client) -> None:
        value, present = _keyword(node, client.keywords)
        if not present and client.position is not None:
            positional = [a for a in node.args if a.keyword is None]
            if any(a.star == "*" for a in positional):
                return
            if len(positional) > client.position:
                value, present = positional[client.position].value, True
        if present:
            assert value is not None
            if self._disables(value, client):
                self.report(
                    node,
                    f"{_display(path)} is given a timeout that disables the limit and can wait forever; {client.fix}",
                    severity=_SEVERITIES[client.severity],
                )
            return
        if client.policy != "forever" or _has_star_kwargs(node):
            return
        if client.family in SOCKET_DEFAULT_FAMILIES and self._socket_default:
            return
        if client.family == "psycopg2" and not self._psycopg2_missing(node):
            return
        self._flag(node, path, client.fix, _SEVERITIES[client.severity])

    def _check_aiohttp_session(self, node: cst.Call, path: str) -> None:
        value, present = _keyword(node, ("timeout",))
        if not present or not isinstance(value, cst.Call):
            return
        if self.ctx.qualname(value.func) in AIOHTTP_TIMEOUTS and _all_none(value):
            self.report(
                node,
                f"{_display(path)} is given aiohttp.ClientTimeout() with no limits and can wait forever; "
                "pass timeout=aiohttp.ClientTimeout(total=30) or leave the 5-minute default",
            )

    def _check_grpc(self, node: cst.Call, method: str, variant: Optional[str]) -> None:
        value, present = _keyword(node, ("timeout",))
        if _has_star_kwargs(node):
            return
        call = f"gRPC stub call {method}{'.' + variant if variant else ''}()"
        if not present:
            self.report(node, f"{call} has no deadline and can wait forever; {GRPC_FIX}")
        elif _is_literal(value, "None"):
            self.report(node, f"{call} is given timeout=None and can wait forever; {GRPC_FIX}")

    # -- helpers -------------------------------------------------------------------
    def _flag(self, node: cst.Call, path: str, fix: str, severity: Optional[Severity] = None) -> None:
        self.report(node, call=_display(path), fix=fix, severity=severity)

    def _disables(self, value: cst.BaseExpression, client: Client) -> bool:
        for literal in client.disabling:
            if _is_literal(value, literal):
                return True
        if client.family in ("requests", "stdlib", "urllib3"):
            if isinstance(value, cst.Tuple) and value.elements:
                return any(_is_literal(e.value, "None") for e in value.elements)
        if client.family == "httpx" and isinstance(value, cst.Call):
            return self.ctx.qualname(value.func) in HTTPX_TIMEOUTS and _httpx_timeout_none(value)
        return False

    def _psycopg2_missing(self, node: cst.Call) -> bool:
        """No ``connect_timeout`` keyword: missing unless a DSN could carry it."""
        dsn, present = _keyword(node, ("dsn",))
        if not present:
            positional = [a for a in node.args if a.keyword is None]
            if positional:
                dsn, present = positional[0].value, True
        if not present:
            return True
        text = _literal_text(dsn)
        if text is None:
            return False  # a DSN from settings may carry connect_timeout
        return "connect_timeout" not in text

    def _mount_key(self, receiver: str) -> Tuple[int, str]:
        if receiver.startswith(("self.", "cls.")):
            return (0, receiver)
        function = self.ctx.function
        return (id(function.node) if function else 0, receiver)

    def _is_mounted(self, node: cst.Call) -> bool:
        if not isinstance(node.func, cst.Attribute):
            return False
        receiver = dotted_name(node.func.value)
        return receiver is not None and self._mount_key(receiver) in self._mounted


def _display(path: str) -> str:
    return f"{path}()"


def _keyword(node: cst.Call, names: Tuple[str, ...]) -> Tuple[Optional[cst.BaseExpression], bool]:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value in names:
            return arg.value, True
    return None, False


def _has_star_kwargs(node: cst.Call) -> bool:
    return any(arg.star == "**" for arg in node.args)


def _is_literal(value: Optional[cst.BaseExpression], literal: str) -> bool:
    if value is None:
        return False
    if literal == "None":
        return isinstance(value, cst.Name) and value.value == "None"
    if isinstance(value, (cst.Integer, cst.Float)):
        try:
            return float(value.value.replace("_", "")) == float(literal)
        except ValueError:
            return False
    return False


def _all_none(call: cst.Call) -> bool:
    """``ClientTimeout()`` / ``ClientTimeout(total=None)``: every given field None."""
    return all(arg.star == "" and _is_literal(arg.value, "None") for arg in call.args)


def _httpx_timeout_none(call: cst.Call) -> bool:
    """``httpx.Timeout(None)`` / ``Timeout(timeout=None)`` with no other limits."""
    if not call.args:
        return False
    for arg in call.args:
        if arg.star or not _is_literal(arg.value, "None"):
            return False
    return True


def _literal_text(node: Optional[cst.BaseExpression]) -> Optional[str]:
    return string_value(node, allow_bytes=False)


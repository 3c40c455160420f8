"""Network clients and their timeout defaults (RULES.md §2 table).

``FOREVER`` clients wait forever when the timeout is missing: a missing or explicit
``None`` timeout is flagged. ``BOUNDED`` clients have a finite default: only an
explicit value that disables the limit is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Tuple

REQUESTS_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
HTTPX_VERBS = (*REQUESTS_VERBS, "stream")
AIOHTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request", "ws_connect")


@dataclass(frozen=True)
class Client:
    """How one callable takes its timeout."""

    family: str
    #: ``"forever"``: missing or None is flagged; ``"bounded"``: only a disabling value.
    policy: str
    #: Keyword names that carry a timeout (any one of them counts as set).
    keywords: Tuple[str, ...] = ("timeout",)
    #: Zero-based positional index of the timeout, when it may be passed positionally.
    position: Optional[int] = None
    #: Literal values that disable the limit (``"None"``, ``"0"``).
    disabling: FrozenSet[str] = frozenset({"None"})
    #: Severity name for a missing timeout ("MEDIUM" or "LOW").
    severity: str = "MEDIUM"
    fix: str = "pass timeout=10"


_REQUESTS = Client("requests", "forever", fix="pass timeout=(3.05, 27)")
_HTTPX = Client("httpx", "bounded", fix="drop timeout=None to keep httpx's 5 s default, or pass timeout=httpx.Timeout(10.0)")
_AIOHTTP_CALL = Client("aiohttp", "bounded", fix="pass timeout=aiohttp.ClientTimeout(total=30)")
_URLLIB3 = Client("urllib3", "forever", severity="LOW", fix="pass timeout=urllib3.Timeout(connect=3.0, read=27.0)")


def _stdlib(position: Optional[int]) -> Client:
    return Client("stdlib", "forever", position=position, fix="pass timeout=10 (seconds)")


CLIENTS: Dict[str, Client] = {}
for _verb in REQUESTS_VERBS:
    CLIENTS[f"requests.{_verb}"] = _REQUESTS
    CLIENTS[f"requests.api.{_verb}"] = _REQUESTS
for _verb in (*REQUESTS_VERBS, "send"):
    for _session in ("requests.Session()", "requests.session()", "requests.sessions.Session()"):
        CLIENTS[f"{_session}.{_verb}"] = _REQUESTS
for _verb in HTTPX_VERBS:
    CLIENTS[f"httpx.{_verb}"] = _HTTPX
    for _client in ("httpx.Client()", "httpx.AsyncClient()"):
        CLIENTS[f"{_client}.{_verb}"] = _HTTPX
        CLIENTS[f"{_client}.send"] = _HTTPX
CLIENTS["httpx.Client"] = _HTTPX
CLIENTS["httpx.AsyncClient"] = _HTTPX
for _verb in AIOHTTP_VERBS:
    CLIENTS[f"aiohttp.ClientSession().{_verb}"] = _AIOHTTP_CALL
    CLIENTS["aiohttp.request"] = _AIOHTTP_CALL
CLIENTS.update(
    {
        "urllib.request.urlopen": _stdlib(2),
        "http.client.HTTPConnection": _stdlib(2),
        "http.client.HTTPSConnection": _stdlib(2),
        "smtplib.SMTP": _stdlib(3),
        "smtplib.SMTP_SSL": _stdlib(None),
        "smtplib.LMTP": _stdlib(4),
        "ftplib.FTP": _stdlib(4),
        "ftplib.FTP_TLS": _stdlib(None),
        "poplib.POP3": _stdlib(2),
        "poplib.POP3_SSL": _stdlib(None),
        "imaplib.IMAP4": _stdlib(2),
        "imaplib.IMAP4_SSL": _stdlib(None),
        "socket.create_connection": _stdlib(1),
        "urllib3.request": _URLLIB3,
        "urllib3.PoolManager": _URLLIB3,
        "urllib3.HTTPConnectionPool": _URLLIB3,
        "urllib3.HTTPSConnectionPool": _URLLIB3,
        "urllib3.connection_from_url": _URLLIB3,
        "psycopg2.connect": Client(
            "psycopg2",
            "forever",
            keywords=("connect_timeout",),
            disabling=frozenset({"0", "None"}),
            fix="pass connect_timeout=10 (or put connect_timeout=10 in the DSN)",
        ),
    }
)

_REDIS = Client(
    "redis",
    "bounded",
    keywords=("socket_timeout", "socket_connect_timeout"),
    fix="drop the None to keep redis-py's 5 s default, or pass socket_timeout=5",
)
for _name in (
    "redis.Redis",
    "redis.StrictRedis",
    "redis.from_url",
    "redis.Redis.from_url",
    "redis.client.Redis",
    "redis.asyncio.Redis",
    "redis.asyncio.from_url",
    "redis.asyncio.Redis.from_url",
    "redis.ConnectionPool",
    "redis.asyncio.ConnectionPool",
):
    CLIENTS[_name] = _REDIS
_PSYCOPG3 = Client(
    "psycopg",
    "bounded",
    keywords=("connect_timeout",),
    disabling=frozenset({"0"}),
    fix="drop connect_timeout=0 to keep psycopg's 130 s default, or pass connect_timeout=10",
)
for _name in ("psycopg.connect", "psycopg.Connection.connect", "psycopg.AsyncConnection.connect"):
    CLIENTS[_name] = _PSYCOPG3
_ASYNCPG = Client("asyncpg", "bounded", fix="drop timeout=None to keep asyncpg's 60 s connect default, or pass timeout=10")
CLIENTS["asyncpg.connect"] = _ASYNCPG
CLIENTS["asyncpg.create_pool"] = _ASYNCPG
_PYMONGO = Client(
    "pymongo",
    "bounded",
    keywords=("connectTimeoutMS", "timeoutMS"),
    disabling=frozenset({"None", "0"}),
    fix="drop it to keep pymongo's 20 s connect default, or pass connectTimeoutMS=5000",
)
for _name in ("pymongo.MongoClient", "motor.motor_asyncio.AsyncIOMotorClient", "pymongo.AsyncMongoClient"):
    CLIENTS[_name] = _PYMONGO
CLIENTS["botocore.config.Config"] = Client(
    "botocore",
    "bounded",
    keywords=("connect_timeout", "read_timeout"),
    disabling=frozenset({"None", "0"}),
    fix="drop it to keep botocore's 60 s default, or pass connect_timeout=5, read_timeout=30",
)

#: aiohttp session constructor: ``ClientTimeout()`` with no fields disables every limit.
AIOHTTP_SESSIONS = frozenset({"aiohttp.ClientSession", "aiohttp.client.ClientSession"})
AIOHTTP_TIMEOUTS = frozenset({"aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout", "aiohttp.timeout.ClientTimeout"})
#: ``httpx.Timeout(None)`` disables every limit.
HTTPX_TIMEOUTS = frozenset({"httpx.Timeout", "httpx._config.Timeout"})

#: Families whose missing timeout is fixed process-wide by ``socket.setdefaulttimeout``.
SOCKET_DEFAULT_FAMILIES = frozenset({"stdlib"})
#: gRPC: a call on a stub bound from ``*_pb2_grpc.*Stub(channel)``.
GRPC_FIX = "pass timeout=<seconds> (a deadline)"
#: Mocking libraries: a module that imports them is test code.
MOCK_MODULES = frozenset({"responses", "respx", "requests_mock", "aioresponses", "pytest_httpx"})
#: Session methods that mount an adapter (which may inject a default timeout).
MOUNT_METHODS = frozenset({"mount"})

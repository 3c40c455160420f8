"""Secret patterns, secret-ish names and the filters that tell code from secrets (RULES.md §5)."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import List, Optional, Pattern, Tuple

#: (provider, regex) — high-confidence provider patterns (detect-secrets plugins).
PROVIDERS: List[Tuple[str, Pattern[str]]] = [
    ("AWS access key id", re.compile(r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("GitHub token", re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}")),
    ("GitLab token", re.compile(
        r"(?:(?:glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}|GR1348941[A-Za-z0-9_\-]{20,50}"
        r"|glcbt-(?:[0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50}|glimt-[A-Za-z0-9_\-]{25}|glptt-[A-Za-z0-9_\-]{40}"
        r"|glagent-[A-Za-z0-9_\-]{50,1024}|gloas-[A-Za-z0-9_\-]{64})(?!\w)"
    )),
    ("Slack webhook", re.compile(r"https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+")),
    ("Slack token", re.compile(r"xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+", re.IGNORECASE)),
    ("Stripe key", re.compile(r"(?:r|s)k_live_[0-9a-zA-Z]{24}")),
    ("private key", re.compile(
        r"-{5}BEGIN (?:DSA |EC |OPENSSH |RSA |ENCRYPTED )?PRIVATE KEY|-{5}BEGIN PGP PRIVATE KEY BLOCK"
        r"|-{5}BEGIN SSH2 ENCRYPTED PRIVATE KEY|PuTTY-User-Key-File-2:\s"
    )),
    ("OpenAI key", re.compile(r"sk-[A-Za-z0-9\-_]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}")),
    ("SendGrid key", re.compile(r"SG\.[a-zA-Z0-9_\-]{22}\.[a-zA-Z0-9_\-]{43}")),
    ("Twilio key", re.compile(r"(?<![A-Za-z0-9])(?:AC|SK)[a-z0-9]{32}(?![A-Za-z0-9])")),
    ("Mailchimp key", re.compile(r"(?<![A-Za-z0-9])[0-9a-z]{32}-us[0-9]{1,2}(?![0-9])")),
    ("PyPI token", re.compile(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9\-_]{70,}")),
    ("npm token", re.compile(r"//.+/:_authToken=\s*(?:npm_.+|[A-Fa-f0-9\-]{36})")),
    ("Discord token", re.compile(r"(?<![\w-])[MNO][a-zA-Z\d_\-]{23,25}\.[a-zA-Z\d_\-]{6}\.[a-zA-Z\d_\-]{27}(?![\w-])")),
    ("Telegram bot token", re.compile(r"^\d{8,10}:[0-9A-Za-z_\-]{35}$")),
    ("Square secret", re.compile(r"sq0csp-[0-9A-Za-z\\\-_]{43}")),
    ("Azure storage key", re.compile(r"AccountKey=[a-zA-Z0-9+/=]{88}")),
]
ARTIFACTORY: List[Tuple[str, Pattern[str]]] = [
    ("Artifactory token", re.compile(r"(?:\s|=|:|\"|^)AKC[a-zA-Z0-9]{10,}")),
    ("Artifactory password", re.compile(r"(?:\s|=|:|\"|^)AP[\dABCDEF][a-zA-Z0-9]{8,}")),
]
JWT = re.compile(r"eyJ[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.?[A-Za-z0-9\-_.+/=]*")
AWS_SECRET = re.compile(r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"]([0-9a-zA-Z/+]{40})['\"]", re.IGNORECASE)
BASIC_AUTH = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*)://(?P<user>[^:/?#\[\]@!$&'()*+,;=\s]*):(?P<password>[^:/?#\[\]@!$&'()*+,;=\s]+)@(?P<host>[^:/?#\s]*)")

#: AWS documentation example keys.
AWS_EXAMPLES = frozenset({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})

#: Names that hold secrets (ruff/bandit words plus detect-secrets' KeywordDetector list).
SECRET_NAME = re.compile(
    r"(?:^|_)(?:pas+wo?r?d|pass(?:phrase)?|pwd|passwd|token|secrete?|api_?key|auth_?key|service_?key|account_?key"
    r"|db_?key|database_?key|priv_?key|private_?key|client_?key|db_?pass|database_?pass|key_?pass|access_?key"
    r"|signing_?key|encryption_?key|credentials?|contrase[nñ]a)(?:$|_)"
)
#: Target suffixes that name a secret's metadata, not the secret.
EXCLUDED_SUFFIXES = (
    "_field", "_fields", "_template", "_subject", "_prefix", "_suffix", "_url", "_uri", "_endpoint", "_name",
    "_header", "_param", "_type", "_path", "_file", "_cookie", "_length", "_len", "_ttl", "_expiry", "_expires",
    "_timeout", "_age", "_lifetime", "_algorithm", "_alg", "_env", "_var", "_regex", "_pattern", "_message",
    "_msg", "_error", "_label", "_help", "_format", "_scope", "_scopes", "_location", "_key_name", "_attr",
    "_class", "_backend", "_policy", "_mode", "_salt", "_min_length", "_max_length", "_id", "_ids", "_hint",
    "_chars", "_charset", "_characters", "_alphabet", "_symbols", "_digits", "_letters",
)
ID_NAME = re.compile(r"(?:^(?:id|myid|userid)|_id)s?$|^(?:kid|revision|down_revision|branch_labels|depends_on)$")

PLACEHOLDERS = (
    "changeme", "change_me", "change-me", "example", "sample", "dummy", "fake", "test", "placeholder", "your_",
    "your-", "xxx", "***", "redacted", "enter_", "_here", "todo", "none", "null", "password", "secret",
    "insert", "replace", "foobar", "notset", "not-set", "default", "mock",
)
_TEMPLATED = re.compile(r"<[^>]*>|\{[^}]*\}|\$\{|%\([^)]*\)s|%s|\{\{")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:[_\-:][a-z0-9]+)*$")
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_CAMEL = re.compile(r"^[a-zA-Z][a-z]+(?:[A-Z][a-z0-9]+)+$")
_DOTTED = re.compile(r"^[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)+$")
_FILE_PATH = re.compile(r"^(?:[./~]|[A-Za-z]:\\)|\.(?:html?|txt|j2|jinja2?|json|ya?ml|py|pem|key|crt|cfg|ini|env|toml)$")
_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_SEQUENCES = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "01234567890123456789",
    "QWERTYUIOPASDFGHJKLZXCVBNM",
)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "db", "postgres", "postgresql", "redis", "mysql",
                         "mongo", "mongodb", "rabbitmq", "cache", "database", "host.docker.internal", "::1"})
DEV_WORDS = frozenset({"dev", "devpass", "postgres", "root", "admin", "guest", "pass", "password", "secret", "local",
                       "docker", "app", "test", "user", "example", "changeme", "mysql", "redis", "123456"})
#: Base classes whose field defaults are overridden from the environment.
SETTINGS_BASES = frozenset({
    "pydantic.BaseSettings", "pydantic_settings.BaseSettings", "pydantic.v1.BaseSettings",
    "environ.Env", "environs.Env",
})
ENUM_BASES = frozenset({
    "enum.Enum", "enum.StrEnum", "enum.IntEnum", "enum.Flag", "django.db.models.TextChoices",
    "django.db.models.IntegerChoices", "django.db.models.Choices",
})
#: Calls that read configuration: a literal default there is a dev default.
CONFIG_READERS = frozenset({"os.getenv", "os.environ.get", "decouple.config", "environ.Env()", "environs.Env()",
                            "environ.Env().str", "environs.Env().str"})
#: ``environ.Env(NAME=(type, default))`` schemas.
ENV_SCHEMAS = frozenset({"environ.Env", "environ.environ.Env"})
#: Paths (beyond the configured test paths) that hold fixtures and examples.
FIXTURE_PATH = re.compile(r"(?:^|/)(?:fixtures?/|factories\.py$|[^/]*testing[^/]*\.py$|conftest\.py$|examples?/)")

_BASE64 = re.compile(r"^[A-Za-z0-9+/\-_=]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def shannon_entropy(value: str) -> float:
    """Shannon entropy (bits per character) over the whole string."""
    if not value:
        return 0.0
    counts: dict = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def hex_entropy(value: str) -> float:
    """Entropy of a hex string with detect-secrets' all-digits penalty."""
    entropy = shannon_entropy(value)
    if value.isdigit() and len(value) > 1:
        entropy -= 1.2 / math.log2(len(value))
    return entropy


def is_high_entropy(value: str) -> bool:
    """detect-secrets' limits: hex >= 3.0 (length >= 32), base64 >= 4.5 (length >= 20)."""
    if _HEX.match(value):
        return len(value) >= 32 and hex_entropy(value) >= 3.0
    if _BASE64.match(value):
        return len(value) >= 20 and shannon_entropy(value) >= 4.5
    return False


def character_classes(value: str) -> int:
    classes = 0
    classes += any(c.islower() for c in value)
    classes += any(c.isupper() for c in value)
    classes += any(c.isdigit() for c in value)
    classes += any(not c.isalnum() for c in value)
    return classes


def mask(value: str) -> str:
    """At most a short prefix of the secret, never the secret."""
    if len(value) >= 16:
        return value[:4] + "…"
    if len(value) >= 8:
        return value[:2] + "…"
    return "…"


def is_placeholder(value: str) -> bool:
    low = value.lower()
    if any(word in low for word in PLACEHOLDERS):
        return True
    if set(low) <= set("*x.-_ "):
        return True
    return bool(_TEMPLATED.search(value)) or value.startswith("$")


def is_sequential(value: str) -> bool:
    """``abcdef...``, ``0123...`` and character-set alphabets (mostly ascending runs)."""
    upper = value.upper()
    if any(upper in seq for seq in _SEQUENCES):
        return True
    if len(value) < 16:
        return False
    ascending = sum(1 for a, b in zip(value, value[1:]) if 0 < ord(b) - ord(a) <= 2)
    return ascending >= 0.8 * (len(value) - 1)


def looks_like_code(value: str) -> bool:
    """Identifiers, event names, dotted paths, file paths, URLs and sentences."""
    if any(c.isspace() for c in value):
        return True
    if _SNAKE.match(value) or _UPPER_SNAKE.match(value) or _CAMEL.match(value):
        return True
    if _DOTTED.match(value) or _FILE_PATH.search(value):
        return True
    if _URL.match(value):
        return True
    return not any(c.isalnum() for c in value)


def looks_like_secret(value: str, target: str = "") -> bool:
    """The name-gated value check: long enough, not code, not a placeholder, varied."""
    if len(value) < 8 or value in AWS_EXAMPLES:
        return False
    if target and value.lower() in (target.lower(), target.lower().replace("_", "-")):
        return False
    if is_placeholder(value) or looks_like_code(value) or is_sequential(value) or _UUID.match(value):
        return False
    return shannon_entropy(value) >= 3.0 or character_classes(value) >= 2


def normalise_name(name: str) -> str:
    """``apiKey`` / ``API-KEY`` -> ``api_key``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^a-z0-9ñ]+", "_", name.lower()).strip("_")


def is_secret_name(name: str) -> bool:
    norm = normalise_name(name)
    if not norm or not SECRET_NAME.search(norm):
        return False
    if norm.endswith(EXCLUDED_SUFFIXES) or ID_NAME.search(norm):
        return False
    return True


def jwt_match(value: str) -> Optional[str]:
    """A JWT whose header decodes to JSON with an ``alg``."""
    for match in JWT.finditer(value):
        header = match.group(0).split(".", 1)[0]
        try:
            decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
            if "alg" in json.loads(decoded):
                return match.group(0)
        except (ValueError, TypeError):
            continue
    return None


def provider_match(value: str, artifactory: bool = False) -> Optional[Tuple[str, str]]:
    """``(provider, matched text)`` for a provider pattern in ``value``."""
    if len(value) < 20:  # every provider pattern is longer
        return None
    if value in AWS_EXAMPLES or any(example in value for example in AWS_EXAMPLES):
        return None
    for provider, pattern in [*PROVIDERS, *(ARTIFACTORY if artifactory else [])]:
        found = pattern.search(value)
        if found and not is_placeholder_token(found.group(0)):
            return provider, found.group(0)
    found_jwt = jwt_match(value)
    if found_jwt:
        return "JWT", found_jwt
    aws = AWS_SECRET.search(value)
    if aws:
        return "AWS secret key", aws.group(1)
    return None


def is_placeholder_token(text: str) -> bool:
    low = text.lower()
    return "xxxx" in low or "example" in low or "0000000000" in low


def basic_auth(value: str) -> Optional[Tuple[str, str, str, str]]:
    """``(scheme, user, password, host)`` of a URL with credentials."""
    if "@" not in value or "://" not in value:
        return None
    found = BASIC_AUTH.search(value)
    if not found:
        return None
    return found.group("scheme"), found.group("user"), found.group("password"), found.group("host").lower()

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


# -- the pre-filter: could this file's text hold anything the rule reports? --------------
#
# A superset test on the raw text, sound for what the rule reads: string literal values
# (escapes decoded, implicitly concatenated literals joined, f-string text joined around
# its fields) and the names they are given to. Escapes that can spell a letter make the
# text unreadable here, so such a file is always parsed; concatenation glue and line
# continuations are deleted before the tests (deleting quotes and blanks can only join
# text, never split a match), and provider patterns are also looked for with f-string
# fields deleted.

#: Words a secret-ish name contains, lowercased (SECRET_NAME's ``pass`` variants aside).
_NAME_WORDS = ("pwd", "token", "secret", "credential", "contrase")
#: What comes before ``key`` in SECRET_NAME's qualified keys (``api_key``, ``apiKey``...).
_KEY_QUALIFIERS = (
    "api", "auth", "service", "account", "db", "database", "priv", "private", "client", "access", "signing",
    "encryption",
)
_SEPARATORS_AT_END = re.compile(r"[^a-z0-9ñ\n]*\Z")
#: Fixed text of the provider patterns, lowercased (a pattern matches only where it does).
_ANCHORS = (
    "a3t", "abia", "acca", "akia", "asia", "gr1348941", "hooks.slack.com", "xox", "k_live_", "private key",
    "putty-user-key-file-2:", "t3blbkfj", "sg.", "pypi-ageichlwas5vcmc", ":_authtoken=", "sq0csp-", "accountkey=",
    "eyj", "aws", "-us",
)
_ANCHOR_PATTERNS = (re.compile(r"gh[pousr]_"), re.compile(r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-"))
#: Provider patterns without fixed text (Discord, Telegram, Twilio), loosened to what
#: the raw text must contain: the literal-led parts of each.
_SHAPES = (
    re.compile(r"\.[\w-]{6}\.[\w-]{27}"),
    re.compile(r":[\w-]{35}"),
    re.compile(r"AC[a-z0-9]{32}"),
    re.compile(r"SK[a-z0-9]{32}"),
)
#: Escapes that can produce a letter, digit or punctuation of a secret or a name.
_LETTER_ESCAPE = re.compile(r"\\(?:[0-7]|x|u|U|N\{)")
#: Text between two implicitly concatenated literals (``"a" "b"``, across lines), and line
#: continuations: deleting it removes quotes, blanks and string prefixes only.
_GLUE = re.compile(r"[\"'][ \t\r\n\\]+[rRbBuUfF]{0,2}[\"']|\\\r?\n")
#: The same with comments between the literals (deleting it may delete other text: it is
#: tested besides, not instead).
_GLUE_COMMENT = re.compile(r"[\"'][ \t]*#[^\r\n]*\r?\n(?:[ \t\r\n\\]|#[^\r\n]*)*[rRbBuUfF]{0,2}[\"']")
#: An f-string field (``{name}``, ``{x:>{width}}`` after two passes), and the ends of
#: f-string prefixes.
_FIELD = re.compile(r"\{[^{}\r\n]*\}")
_FSTRING_PREFIXES = ('f"', "f'", 'F"', "F'", 'fr"', "fr'", 'fR"', "fR'", 'Fr"', "Fr'", 'FR"', "FR'")
#: ``pass`` the statement: only ``pass`` not followed by more of a name.
_PASS = re.compile(r"pass[ \t]*(?=[\r\n#;]|$)")


def might_hold_secret(text: str, artifactory: bool = False) -> bool:
    """Whether BL301 could report anything in a file of ``text`` (see above)."""
    if artifactory or _LETTER_ESCAPE.search(text):
        return True
    if _could_report(text):
        return True
    glued = _GLUE.sub("", text)
    if glued != text and _could_report(glued):
        return True
    if "#" in glued and _GLUE_COMMENT.search(glued) and _could_report(_GLUE_COMMENT.sub("", glued)):
        return True
    if any(prefix in glued for prefix in _FSTRING_PREFIXES):
        joined = _FIELD.sub("", _FIELD.sub("", glued))
        return joined != glued and _provider_text(joined, joined.lower())
    return False


def _could_report(text: str) -> bool:
    low = text.lower()
    if any(word in low for word in _NAME_WORDS):
        return True
    if "key" in low and _qualified_key(low):
        return True
    if "pas" in low and low.count("pas") > _pass_statements(low):
        return True
    if "://" in low and "@" in low:
        return True
    return _provider_text(text, low)


def _qualified_key(low: str) -> bool:
    """``api_key``, ``apikey``, ``api - key``...: a qualifier, separators, ``key``."""
    index = low.find("key")
    while index != -1:
        window = low[max(0, index - 64) : index]
        name = window[: _SEPARATORS_AT_END.search(window).start()]  # type: ignore[union-attr]
        if name.endswith(_KEY_QUALIFIERS) or (not name and index >= 64):
            return True
        index = low.find("key", index + 3)
    return False


def _provider_text(text: str, low: str) -> bool:
    if any(anchor in low for anchor in _ANCHORS):
        return True
    return any(p.search(low) for p in _ANCHOR_PATTERNS) or any(p.search(text) for p in _SHAPES)


def _pass_statements(low: str) -> int:
    """How many ``pass`` statements (``pass`` alone after an indent, ``:`` or ``;``)."""
    count = 0
    for found in _PASS.finditer(low):
        index = found.start() - 1
        while index >= 0 and low[index] in " \t":
            index -= 1
        if index < 0 or low[index] in "\r\n:;":
            count += 1
    return count

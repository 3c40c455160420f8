"""Password-hashing knowledge (RULES.md §6)."""

from __future__ import annotations

import re

#: Fast hashlib constructors (a password needs a slow KDF, not these).
FAST_HASHES = frozenset(
    {
        "hashlib.md4", "hashlib.md5", "hashlib.sha1", "hashlib.sha224", "hashlib.sha256", "hashlib.sha384",
        "hashlib.sha512", "hashlib.sha512_224", "hashlib.sha512_256", "hashlib.sha3_224", "hashlib.sha3_256",
        "hashlib.sha3_384", "hashlib.sha3_512", "hashlib.blake2b", "hashlib.blake2s", "hashlib.new",
    }
)
HMAC_CALLS = frozenset({"hmac.new", "hmac.digest", "hmac.HMAC"})
PBKDF2 = "hashlib.pbkdf2_hmac"
#: OWASP Password Storage Cheat Sheet minimum PBKDF2 iterations per digest.
PBKDF2_MIN_ITERATIONS = {"sha1": 1_300_000, "sha256": 600_000, "sha512": 210_000}
PBKDF2_DEFAULT_MIN = 600_000
BCRYPT_GENSALT = frozenset({"bcrypt.gensalt"})
BCRYPT_MIN_ROUNDS = 10
CRYPT_CALLS = frozenset({"crypt.crypt", "crypt.mksalt"})
WEAK_CRYPT_METHODS = frozenset({"crypt.METHOD_CRYPT", "crypt.METHOD_MD5", "crypt.METHOD_BLOWFISH"})

#: passlib schemes that are fast or broken.
WEAK_PASSLIB = frozenset(
    {
        "md5_crypt", "apr_md5_crypt", "des_crypt", "bsdi_crypt", "bigcrypt", "crypt16", "hex_md4", "hex_md5",
        "hex_sha1", "hex_sha256", "hex_sha512", "ldap_md5", "ldap_sha1", "ldap_salted_md5", "ldap_salted_sha1",
        "ldap_salted_sha256", "ldap_salted_sha512", "ldap_plaintext", "ldap_hex_md5", "ldap_hex_sha1",
        "mysql323", "mysql41", "lmhash", "nthash", "oracle10", "postgres_md5", "plaintext", "unix_disabled",
        "msdcc", "msdcc2", "htdigest", "roundup_plaintext",
    }
)
PASSLIB_HASH_METHODS = frozenset({"hash", "encrypt", "using"})
CRYPT_CONTEXT = frozenset({"passlib.context.CryptContext", "passlib.apps.CryptContext"})

#: Django hashers: weak as the first (default) entry; removed in Django 5.0/5.1.
DJANGO_WEAK_FIRST = frozenset({"django.contrib.auth.hashers.MD5PasswordHasher"})
DJANGO_REMOVED = frozenset(
    {
        "django.contrib.auth.hashers.SHA1PasswordHasher",
        "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
        "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
        "django.contrib.auth.hashers.CryptPasswordHasher",
    }
)
#: Base classes of legacy/migration hashers that wrap a digest inside a KDF.
HASHER_BASES = re.compile(
    r"(?:^django\.contrib\.auth\.hashers\.\w*PasswordHasher$|^passlib\.utils\.handlers\.\w+$|^passlib\.ifc\.PasswordHash$)"
)

#: A name that holds a password (not a token or secret).
PASSWORD_NAME = re.compile(r"(?:^|_)(?:pass(?:word|wd|phrase)?|pwd|pw)(?:$|_)")
#: Names that say the value is not a password even when a password word appears.
NOT_PASSWORD = re.compile(r"(?:^|_)(?:token|tokens|secret|nonce|salt|key|cache|etag|checksum|reset|otp|code|link|url|hint|length|policy|field)(?:$|_)")
PASSWORD_FUNCTION = re.compile(r"password|^hash_pw$|^(?:set|check|verify|hash|make)_pw$")
PASSWORD_TARGET = re.compile(
    r"(?:^|_)(?:password|passwd|pwd|pw)(?:_(?:hash|hashed|digest))?$|^(?:hashed|hash|encrypted)_(?:password|passwd|pwd|pw)$"
)
#: Data that is clearly not a low-entropy human password.
TOKEN_DATA = re.compile(r"token|secret|nonce|urandom|random|uuid|api_?key|content|body|payload|file|chunk|email|etag|cache|url|path")

RECOMMENDATION = (
    "use argon2id (argon2-cffi PasswordHasher, or Django's make_password), scrypt, bcrypt, "
    "or PBKDF2-HMAC-SHA256 with >= 600,000 iterations"
)

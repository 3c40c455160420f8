"""BL302 weak-password-hash."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

import libcst as cst
from backendlint_rules._hashing import (
    BCRYPT_GENSALT,
    BCRYPT_MIN_ROUNDS,
    CRYPT_CALLS,
    CRYPT_CONTEXT,
    DJANGO_REMOVED,
    DJANGO_WEAK_FIRST,
    FAST_HASHES,
    HASHER_BASES,
    HMAC_CALLS,
    NOT_PASSWORD,
    PASSLIB_HASH_METHODS,
    PASSWORD_FUNCTION,
    PASSWORD_NAME,
    PASSWORD_TARGET,
    PBKDF2,
    PBKDF2_DEFAULT_MIN,
    PBKDF2_MIN_ITERATIONS,
    RECOMMENDATION,
    TOKEN_DATA,
    WEAK_CRYPT_METHODS,
    WEAK_PASSLIB,
)

from backendlint.api import Confidence, Rule, Severity, dotted_name, string_value


@dataclass(frozen=True)
class Options:
    pbkdf2_min_iterations: int = PBKDF2_DEFAULT_MIN


class WeakPasswordHash(Rule):
    """A password hashed with a fast or broken algorithm.

    ## What it does
    Flags password storage that an attacker with the database can brute-force:

    - a fast hash (`hashlib.md5/sha1/sha256/sha512/sha3_*/blake2*`, `hashlib.new(name)`,
      `.update()` on such a hash) or an HMAC applied to a **password**;
    - Django `PASSWORD_HASHERS` whose first (default) entry is `MD5PasswordHasher`, or which
      lists a hasher Django removed (`SHA1`, `UnsaltedSHA1`, `UnsaltedMD5`, `Crypt`);
    - passlib weak schemes (`passlib.hash.md5_crypt.hash(...)`, `des_crypt`, `ldap_*`,
      `mysql41`, `nthash`...) and `CryptContext(schemes=[...])` with a weak default scheme;
    - `crypt.crypt` / `crypt.mksalt` with `METHOD_CRYPT`, `METHOD_MD5` or `METHOD_BLOWFISH`;
    - `hashlib.pbkdf2_hmac` with a literal iteration count below the OWASP minimum
      (600,000 for SHA-256, 1,300,000 for SHA-1, 210,000 for SHA-512);
    - `bcrypt.gensalt(rounds)` with fewer than 10 rounds.

    A value is a password when it (or the receiver of its `.encode()`) is a name, attribute,
    subscript key or `.get()` key like `password`, `passwd`, `pwd`, `pw`, `passphrase`
    (including `request.POST["password"]` and `form.cleaned_data["password"]`, also through
    one local variable); when the enclosing function is named like `*password*`/`hash_pw`;
    or when the result is assigned to `password`, `password_hash`, `pw_hash`...
    Tokens and secrets are **not** passwords: hashing a high-entropy token with SHA-256 is fine.

    Not flagged: `usedforsecurity=False`; cache keys, ETags, checksums and webhook HMACs;
    legacy hashers inside a subclass of a Django `BasePasswordHasher` or a passlib handler;
    `PASSWORD_HASHERS` in test settings; strong passlib schemes; verifying legacy hashes.

    ## Why is this bad
    Fast hashes compute billions of guesses per second on a GPU, so a leaked table of MD5 or
    SHA-256 password hashes is cracked within hours, salt or not. Password storage needs a
    deliberately slow, memory-hard function.

    ## Example
    ```python
    import hashlib

    def set_password(user, password):
        user.password_hash = hashlib.sha256(password.encode()).hexdigest()
    ```

    ## Use instead
    ```python
    from argon2 import PasswordHasher

    def set_password(user, password):
        user.password_hash = PasswordHasher().hash(password)
    ```
    In Django, use `user.set_password()` / `make_password()` with `Argon2PasswordHasher`
    first in `PASSWORD_HASHERS`.

    ## Options
    - `pbkdf2-min-iterations` (default `600000`): the minimum literal iteration count accepted
      for `hashlib.pbkdf2_hmac` with SHA-256 (SHA-1 and SHA-512 use the OWASP figures).

    ## References
    - [CWE-916: Use of Password Hash With Insufficient Computational Effort](https://cwe.mitre.org/data/definitions/916.html)
    - OWASP: [Password Storage Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html)
    - Django documentation: [Password management](https://docs.djangoproject.com/en/stable/topics/auth/passwords/)
    """

    code = "BL302"
    name = "weak-password-hash"
    message = "{what}; {fix}"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    tags = ("security", "cryptography", "passwords")
    cwe = 916
    requires_text = ("hashlib", "hmac", "PASSWORD_HASHERS", "passlib", "crypt", "bcrypt")
    Options = Options

    # -- calls ---------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        path = self.ctx.resolve(node.func)
        if path is None:
            return
        if path in FAST_HASHES or (path.startswith("hashlib.") and path.endswith("().update")):
            self._fast_hash(node, path)
        elif path in HMAC_CALLS:
            self._hmac(node, path)
        elif path == PBKDF2:
            self._pbkdf2(node)
        elif path in BCRYPT_GENSALT:
            self._gensalt(node)
        elif path in CRYPT_CALLS:
            self._crypt(node, path)
        elif path in CRYPT_CONTEXT:
            self._crypt_context(node)
        elif path.startswith("passlib.hash."):
            parts = path.split(".")
            if len(parts) == 4 and parts[2] in WEAK_PASSLIB and parts[3] in PASSLIB_HASH_METHODS:
                self._report(node, f"passlib {parts[2]} is a weak password scheme")

    def _fast_hash(self, node: cst.Call, path: str) -> None:
        if _keyword(node, "usedforsecurity") is not None or self._in_legacy_hasher():
            return
        if path.endswith("().update"):
            data = _arg(node, 0, "data")
            name = path[: -len("().update")]
        elif path == "hashlib.new":
            data = _arg(node, 1, "data") or _keyword(node, "string")
            name = "hashlib.new"
        else:
            data = _arg(node, 0, "data") or _keyword(node, "string")
            name = path
        if data is None or not self._password_context(data):
            return
        self._report(node, f"{name}() on a password is a fast hash, cheap to brute-force")

    def _hmac(self, node: cst.Call, path: str) -> None:
        if self._in_legacy_hasher():
            return
        key = _arg(node, 0, "key")
        msg = _arg(node, 1, "msg")
        if any(v is not None and self._is_password(v) for v in (key, msg)):
            self._report(node, f"{path}() on a password is not a password hash (HMAC is fast)")

    def _pbkdf2(self, node: cst.Call) -> None:
        digest = _literal_str(_arg(node, 0, "hash_name"))
        iterations = _literal_int(_arg(node, 3, "iterations"))
        if iterations is None:
            return
        minimum = PBKDF2_MIN_ITERATIONS.get((digest or "").lower().replace("-", ""), self.options.pbkdf2_min_iterations)
        if digest and digest.lower() == "sha256":
            minimum = self.options.pbkdf2_min_iterations
        if iterations < minimum:
            self._report(
                node,
                f"hashlib.pbkdf2_hmac() with {iterations:,} iterations is too fast (OWASP: >= {minimum:,} for {digest or 'this digest'})",
                fix=f"raise the iteration count to >= {minimum:,}, or use argon2id or scrypt",
            )

    def _gensalt(self, node: cst.Call) -> None:
        rounds = _literal_int(_arg(node, 0, "rounds"))
        if rounds is not None and rounds < BCRYPT_MIN_ROUNDS:
            self._report(
                node,
                f"bcrypt.gensalt(rounds={rounds}) is too cheap",
                fix=f"use at least {BCRYPT_MIN_ROUNDS} rounds (12 is the library default)",
            )

    def _crypt(self, node: cst.Call, path: str) -> None:
        for arg in node.args:
            method = self.ctx.qualname(arg.value)
            if method in WEAK_CRYPT_METHODS:
                self._report(node, f"{path}() with {method} is a weak password scheme (crypt is removed in Python 3.13)")
                return

    def _crypt_context(self, node: cst.Call) -> None:
        schemes = _keyword(node, "schemes")
        if not isinstance(schemes, (cst.List, cst.Tuple)) or not schemes.elements:
            return
        default = _literal_str(_keyword(node, "default")) or _literal_str(schemes.elements[0].value)
        if default in WEAK_PASSLIB:
            self._report(node, f"CryptContext's default scheme {default} is a weak password scheme")

    # -- Django settings -----------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.file.is_test or self.ctx.function is not None:
            return
        if not any(_last(t.target) == "PASSWORD_HASHERS" for t in node.targets):
            return
        if not isinstance(node.value, (cst.List, cst.Tuple)):
            return
        for index, element in enumerate(node.value.elements):
            value = _literal_str(element.value)
            if value is None:
                continue
            if value in DJANGO_REMOVED:
                self._report(
                    element.value,
                    f"PASSWORD_HASHERS lists {value.rsplit('.', 1)[-1]}, a weak hasher Django removed",
                    fix="drop it (rehash legacy users through a wrapping hasher) and put Argon2PasswordHasher first",
                )
            elif index == 0 and value in DJANGO_WEAK_FIRST:
                self._report(
                    element.value,
                    "PASSWORD_HASHERS makes MD5PasswordHasher the default password hasher",
                    fix="put django.contrib.auth.hashers.Argon2PasswordHasher (or PBKDF2PasswordHasher) first",
                )

    # -- helpers -------------------------------------------------------------------
    def _report(self, node: cst.CSTNode, what: str, fix: str = RECOMMENDATION) -> None:
        severity = Severity.LOW if self.ctx.file.is_test else None
        self.report(node, what=what, fix=fix, severity=severity)

    def _password_context(self, data: cst.BaseExpression) -> bool:
        if self._is_password(data):
            return True
        if _mentions(data, TOKEN_DATA) or any(
            _mentions(b.value, TOKEN_DATA)
            for name in _names_in(data)
            for b in self.ctx.bindings(name)[-1:]
            if b.kind == "assign" and b.value is not None
        ):
            return False
        function = self.ctx.function
        if function is not None and PASSWORD_FUNCTION.search(function.name.lower()):
            return True
        return self._assigned_to_password()

    def _is_password(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        if depth > 4:
            return False
        if isinstance(node, (cst.Name, cst.Attribute)):
            dotted = dotted_name(node)
            if dotted is None:
                return False
            if _password_name(dotted.rsplit(".", 1)[-1]):
                return True
            if isinstance(node, cst.Name) and depth < 2:
                binding = self.ctx.binding(node.value)
                if binding is not None and binding.kind == "assign" and binding.value is not None:
                    return self._is_password(binding.value, depth + 1)  # type: ignore[arg-type]
            return False
        if isinstance(node, cst.Subscript):
            if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                key = _literal_str(node.slice[0].slice.value)
                if key is not None:
                    return _password_name(key)
            return False
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if method in ("encode", "strip", "lower", "digest", "hexdigest") and not node.args[1:]:
                    return self._is_password(func.value, depth + 1)
                if method in ("get", "getlist") and node.args:
                    key = _literal_str(node.args[0].value)
                    return key is not None and _password_name(key)
            if dotted_name(func) in ("bytes", "str") and node.args:
                return self._is_password(node.args[0].value, depth + 1)
            return False
        if isinstance(node, cst.BinaryOperation):
            return self._is_password(node.left, depth + 1) or self._is_password(node.right, depth + 1)
        if isinstance(node, cst.FormattedString):
            return any(
                isinstance(p, cst.FormattedStringExpression) and self._is_password(p.expression, depth + 1)
                for p in node.parts
            )
        return False

    def _assigned_to_password(self) -> bool:
        statement = self.ctx.statement
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            targets: Sequence[cst.BaseExpression] = ()
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign):
                targets = [small.target]
            for target in targets:
                name = _last(target)
                if name and PASSWORD_TARGET.search(_normal(name)):
                    return True
        return False

    def _in_legacy_hasher(self) -> bool:
        cls = self.ctx.class_
        if cls is None or not isinstance(cls.node, cst.ClassDef):
            return False
        for base in cls.node.bases:
            qual = self.ctx.qualname(base.value) or ""
            if HASHER_BASES.search(qual):
                return True
        return False


def _normal(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _password_name(name: str) -> bool:
    norm = _normal(name)
    return bool(PASSWORD_NAME.search(norm)) and not NOT_PASSWORD.search(norm)


def _mentions(node: cst.CSTNode, pattern: re.Pattern[str]) -> bool:
    for part in _names_in(node):
        if pattern.search(part.lower()):
            return True
    return False


def _names_in(node: cst.CSTNode) -> list:
    found: list = []

    class _Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n.value)

        def visit_SimpleString(self, n: cst.SimpleString) -> None:
            found.append(n.value)

    node.visit(_Collect())
    return found


def _keyword(node: cst.Call, name: str) -> Optional[cst.BaseExpression]:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _arg(node: cst.Call, index: int, name: str) -> Optional[cst.BaseExpression]:
    found = _keyword(node, name)
    if found is not None:
        return found
    positional = [a for a in node.args if a.keyword is None and not a.star]
    return positional[index].value if len(positional) > index else None


def _literal_str(node: Optional[cst.CSTNode]) -> Optional[str]:
    return string_value(node, allow_bytes=False)


def _literal_int(node: Optional[cst.CSTNode]) -> Optional[int]:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power):
        base, exp = _literal_int(node.left), _literal_int(node.right)
        if base is not None and exp is not None and exp < 64:
            return int(base**exp)
    return None


def _last(node: cst.CSTNode) -> Optional[str]:
    dotted = dotted_name(node)
    return dotted.rsplit(".", 1)[-1] if dotted else None

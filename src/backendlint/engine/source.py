"""Reading source files: bytes -> text, with the encoding rules Python uses."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


class SourceError(Exception):
    """The file cannot be read or decoded; the message says why."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise SourceError("is a directory, not a file") from None
    except PermissionError:
        raise SourceError("cannot read file: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None


def decode_python(data: bytes) -> SourceText:
    """Decode like the interpreter: BOM, then a coding cookie, then UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "invalid or missing" in str(exc.msg):
            raise SourceError("not valid UTF-8 and no valid coding declaration", exc.lineno or 1) from None
        raise SourceError(f"invalid encoding declaration: {exc.msg}", exc.lineno or 1) from None
    return _decode(data, encoding)


def decode_sql(data: bytes) -> SourceText:
    return _decode(data, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")


def _decode(data: bytes, encoding: str) -> SourceText:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"cannot decode as {encoding}: invalid byte {data[exc.start:exc.start + 1]!r} "
            f"at offset {exc.start}",
            line,
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None
    except UnicodeError as exc:  # a codec that refuses to decode at all (e.g. "undefined")
        raise SourceError(f"cannot decode as {encoding}: {exc}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceText(text, encoding)


def looks_binary(data: bytes) -> Optional[str]:
    """A reason when the bytes are plainly not source text."""
    if b"\x00" in data[:8192]:
        return "contains NUL bytes (binary file?)"
    return None

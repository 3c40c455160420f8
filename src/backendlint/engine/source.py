"""Reading source files: bytes -> text, with the encoding rules Python uses."""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional


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


#: Opening a named pipe must not wait for a writer.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; :class:`SourceError` for anything that is not a readable
    regular file (a named pipe or a device is never read: it could block or never end)."""
    try:
        handle = os.open(path, _OPEN_FLAGS)
    except IsADirectoryError:
        raise SourceError("is a directory, not a file") from None
    except PermissionError:
        raise SourceError("cannot read file: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    with open(handle, "rb", closefd=True) as stream:
        try:
            mode = os.fstat(stream.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise SourceError("is a directory, not a file")
            if not stat.S_ISREG(mode):
                raise SourceError("not a regular file (a named pipe, socket or device); not read")
            return stream.read()
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
    except UnicodeError as exc:  # a codec that refuses to decode at all ("undefined")
        raise SourceError(f"cannot decode as {encoding}: {exc}") from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceText(text, encoding)


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def looks_binary(data: bytes) -> Optional[str]:
    """A reason when the bytes are plainly not source text (Python refuses NUL bytes
    anywhere in a source file)."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return f"encoded as {name}; source files must be UTF-8 or an ASCII-compatible encoding"
    if b"\x00" in data:
        return "contains NUL bytes (binary file?)"
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def physical_lines(text: str) -> List[str]:
    """The lines of ``text`` as Python and LibCST number them: ``\\n``, ``\\r\\n`` and a lone
    ``\\r`` end a line; form feeds and Unicode separators (which :meth:`str.splitlines`
    also breaks on) do not."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_starts(text: str) -> List[int]:
    """Offsets of the start of each physical line, 1-based (index 0 is unused)."""
    return [0, 0, *(m.end() for m in _LINE_BREAK.finditer(text))]

"""Reading a spec file without trusting it: bounded bytes, regular files only, bounded nesting.

A model spec is a small TOML file. Before any parser sees it, its text is bounded in three ways,
each refused with one line (a ``SpecError``) in time linear in the bytes read:

- **what is read**: a regular file only (a FIFO, a device such as ``/dev/zero``, a directory or a
  socket is refused from its ``stat``, before it is opened), opened without blocking, and at most
  ``MAX_SPEC_BYTES`` + 1 bytes are ever read, whatever the file claims to be;
- **nesting**: arrays and inline tables nest at most ``MAX_NESTING`` deep (a deeper document
  would exhaust the parser's recursion);
- **key depth**: a key or table header has at most ``MAX_KEY_PARTS`` dotted parts (a header of
  10⁵ parts makes the standard parser quadratic).

The scan skips strings (basic, literal, multi-line) and comments, so brackets and dots inside
them are text, not structure.

>>> scan_structure('a = [[1, 2], {b = "[[[..."}]  # brackets in strings are text')
>>> scan_structure("x = " + "[" * 40 + "]" * 40)
Traceback (most recent call last):
...
theory._specfile.StructureError: arrays and tables nest more than 32 deep
>>> scan_structure("[" + ".".join("a" * 100) + "]")
Traceback (most recent call last):
...
theory._specfile.StructureError: a key has more than 32 dotted parts
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["MAX_KEY_PARTS", "MAX_NESTING", "MAX_SPEC_BYTES", "StructureError", "read_spec_text"]

#: The largest spec file read (bytes); the built-in specs are about 4 kB.
MAX_SPEC_BYTES = 1 << 18
#: The deepest nesting of arrays and inline tables.
MAX_NESTING = 32
#: The most dotted parts of one key or table header.
MAX_KEY_PARTS = 32


class StructureError(ValueError):
    """A spec text whose shape no model spec has (too deep, too many key parts)."""


def read_spec_text(path: Path) -> str:
    """The text of a regular file of at most ``MAX_SPEC_BYTES`` bytes (``OSError``,
    ``StructureError`` or ``UnicodeDecodeError`` otherwise), checked by ``scan_structure``."""
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise StructureError("not a regular file (a FIFO, device or socket is no model spec)")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between stat and open
            raise StructureError("not a regular file")
        chunks, size = [], 0
        while size <= MAX_SPEC_BYTES:
            chunk = os.read(fd, MAX_SPEC_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_SPEC_BYTES:
        raise StructureError(f"larger than {MAX_SPEC_BYTES} bytes: not a model spec")
    text = b"".join(chunks).decode("utf-8")
    scan_structure(text)
    return text


def scan_structure(text: str) -> None:
    """Refuse nesting deeper than ``MAX_NESTING`` and keys of more than ``MAX_KEY_PARTS`` parts
    (one linear pass; strings and comments skipped)."""
    depth = dots = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            i = _skip_string(text, i)
            continue
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise StructureError(f"arrays and tables nest more than {MAX_NESTING} deep")
        elif ch in "]}":
            depth = max(depth - 1, 0)
        if ch in "\n=,{}":
            dots = 0
        elif ch == ".":
            dots += 1
            if dots >= MAX_KEY_PARTS:
                raise StructureError(f"a key has more than {MAX_KEY_PARTS} dotted parts")
        i += 1


def _skip_string(text: str, i: int) -> int:
    """The index just past the string that starts at ``i`` (the end of text if unterminated)."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        while quote == '"' and end > 0 and _escaped(text, end):
            end = text.find(quote * 3, end + 1)
        return len(text) if end < 0 else end + 3
    j = i + 1
    while j < len(text) and text[j] not in (quote, "\n"):
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return j + 1


def _escaped(text: str, at: int) -> bool:
    backslashes = 0
    while at - 1 - backslashes >= 0 and text[at - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1

"""Reading a file that someone else may have put there: regular, bounded, inside its directory.

Desired-state files and plans come from pull requests, approval records from git, secrets from
paths in ``msp.yaml``. Any of them may be a symbolic link to ``/dev/zero`` (read forever), to a
FIFO (a read that never returns) or to a file outside the repository (whose content an error
message would echo). :func:`read_regular` refuses all of these before reading a byte:

- every link is resolved and the target must be a *regular* file (not a FIFO, a device, a
  socket or a directory); it is ``stat``-ed before it is opened, so a device is never opened,
  and opened with ``O_NONBLOCK``, so a FIFO swapped in meanwhile cannot block;
- with ``within``, the resolved file must lie inside that directory;
- at most ``limit`` bytes are read; a larger file is refused.

:class:`FileRefused` says why in words that never quote the file. :func:`load_json` parses
JSON and refuses nesting past a limit (a 100,000-deep document is a clean refusal, not a
``RecursionError`` somewhere later); :func:`nesting_exceeds` checks parsed data without
recursion.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["KIB", "MIB", "FileRefused", "load_json", "nesting_exceeds", "read_regular"]

KIB = 1024
MIB = 1024 * KIB

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileRefused(Exception):
    """A file that is not read, and why (never its content)."""


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _inside(directory: Path, real: str) -> bool:
    root = os.path.realpath(directory)
    try:
        return os.path.commonpath([root, real]) == root
    except ValueError:  # another drive on Windows
        return False


def read_regular(path: Path, *, limit: int, within: Path | None = None) -> bytes:
    """The bytes of the regular file ``path`` resolves to.

    Raises :class:`FileRefused` for a file that is not regular, lies outside ``within`` or
    holds more than ``limit`` bytes, and :class:`OSError` (``FileNotFoundError``,
    ``PermissionError``, ...) when it cannot be opened.
    """
    real = os.path.realpath(path)
    if within is not None and not _inside(within, real):
        raise FileRefused(f"is a link to a file outside {within}; keep it inside {within}")
    before = os.stat(real)
    if not stat.S_ISREG(before.st_mode):
        raise FileRefused(f"is {_kind(before.st_mode)}, not a regular file")
    if before.st_size > limit:
        raise FileRefused(_too_large(limit))
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    handle = os.open(real, flags)
    try:
        opened = os.fstat(handle)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            raise FileRefused("changed while it was being opened; try again")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(handle, min(1 * MIB, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise FileRefused(_too_large(limit))
        return b"".join(chunks)
    finally:
        os.close(handle)


def _too_large(limit: int) -> str:
    shown = f"{limit // MIB} MiB" if limit >= MIB else f"{limit // KIB} KiB"
    return f"is larger than {shown}, more than such a file can hold"


def nesting_exceeds(data: Any, limit: int) -> bool:
    """Whether lists and mappings in ``data`` (parsed JSON or YAML) nest deeper than
    ``limit``. Iterative: it cannot itself hit the recursion limit."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def load_json(raw: bytes, *, max_depth: int) -> Any:
    """Parse JSON, refusing nesting deeper than ``max_depth`` with :class:`FileRefused`.
    Raises :class:`ValueError` (``json.JSONDecodeError``, ``UnicodeDecodeError``) for text
    that is not JSON."""
    try:
        data = json.loads(raw)
    except RecursionError:  # the C parser gives up near Python's recursion limit
        raise FileRefused(f"nests deeper than {max_depth} levels") from None
    if nesting_exceeds(data, max_depth):
        raise FileRefused(f"nests deeper than {max_depth} levels")
    return data

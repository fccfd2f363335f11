"""Writing a file whole or not at all: the one atomic writer.

The bytes go to a temporary file in the target's directory (so the rename stays on one file
system), the file is fsynced, renamed over the target, and the directory is fsynced so the
rename itself survives a power cut. A reader sees the old file or the whole new one, never
half of one; a failure leaves the old file and no temporary file behind. The temporary file is
named ``.NAME.XXXX.tmp``: no loader reads it as YAML or JSON while it is being written.

The mode is set on the temporary file before the first byte is written, whatever the umask:
:data:`PRIVATE` for files that hold tenant data (plans, results, tenant files, the sandbox's
state), :data:`SHARED` for files meant for every reader of the repository (JSON Schemas,
approval records).

:func:`write_directory` does the same for a directory of files (the estate report): they are
written into a new sibling directory, each fsynced, which then takes the old one's place, so a
reader (a web server, a CI upload) never sees pages of two runs mixed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from controller.errors import UsageError

__all__ = [
    "PRIVATE",
    "SHARED",
    "check_replaceable",
    "private_directory",
    "write_atomically",
    "write_directory",
]

PRIVATE = 0o600
SHARED = 0o644


def write_atomically(
    path: Path, content: str | bytes, *, mode: int, overwrite: bool = True
) -> None:
    """Write ``content`` (text is UTF-8) to ``path`` whole, with ``mode``; parent directories
    are created. ``overwrite=False`` raises :class:`FileExistsError` when ``path`` exists, even
    when it appeared while this call was writing."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() fails when the target exists, where rename() would replace it.
            os.link(temporary, path)
            temporary.unlink()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def private_directory(directory: Path) -> None:
    """Create ``directory`` and its missing parents readable by their owner only (0700,
    whatever the umask); an existing directory is left as it is."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    for made in missing:
        made.chmod(0o700)


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # Windows cannot open a directory; NTFS journals the rename itself
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems (network, FUSE) refuse fsync on a directory
    finally:
        os.close(handle)


def check_replaceable(directory: Path, marker: str) -> None:
    """Refuse (:class:`UsageError`) a ``directory`` that :func:`write_directory` must not
    replace: one that exists and is neither empty nor marked with ``marker`` by an earlier
    write, so that no one's own files are ever deleted."""
    if not directory.exists() and not directory.is_symlink():
        return
    if directory.is_symlink() or not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory; name a new directory")
    if any(directory.iterdir()) and not (directory / marker).is_file():
        raise UsageError(
            f"{directory} holds files that tenantctl did not write; name a new or empty "
            f"directory (an earlier report there is replaced: it holds {marker})"
        )


def write_directory(
    directory: Path, files: Mapping[str, str | bytes], *, mode: int, marker: str
) -> None:
    """Make ``directory`` hold exactly ``files`` (relative POSIX path -> content, text as
    UTF-8) and the empty file ``marker``, replacing what an earlier call wrote there.

    The files go to a new directory beside it first, each with ``mode`` (directories get the
    matching search bits) and fsynced; then the old directory is moved aside, the new one
    renamed into place, and the old one deleted. :func:`check_replaceable` is checked first."""
    check_replaceable(directory, marker)
    parent = directory.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    folder_mode = mode | ((mode & 0o444) >> 2)  # r-- -> r-x: a readable directory is searchable
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{directory.name}.", suffix=".tmp"))
    try:
        os.chmod(staging, folder_mode)
        for relative, content in {**files, marker: ""}.items():
            target = staging.joinpath(*_parts(relative))
            if not target.parent.exists():
                target.parent.mkdir(parents=True)
                os.chmod(target.parent, folder_mode)
            data = content.encode("utf-8") if isinstance(content, str) else content
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(handle, "wb") as file:
                os.fchmod(file.fileno(), mode)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        for folder in {staging, *(p for p in staging.rglob("*") if p.is_dir())}:
            _fsync_directory(folder)
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{directory.name}.", suffix=".old"))
            os.replace(directory, old / directory.name)
        os.replace(staging, directory)
        _fsync_directory(parent)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _parts(relative: str) -> tuple[str, ...]:
    """The parts of a relative path inside the directory; anything else is a bug."""
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise ValueError(f"not a path inside the directory: {relative!r}")
    return path.parts

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
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["PRIVATE", "SHARED", "private_directory", "write_atomically"]

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

"""Generated passwords, and the one place they are written: the secret sink.

:class:`SecretSink` is the interface; two sinks implement it. :class:`DirectorySink`, the
default, writes each password to one local file; ``KeyVaultSink``
(``controller/apply/_key_vault.py``) writes it to Azure Key Vault, where it outlives a CI
runner or a pod. Either way the password is stored *before* the call that sets it, callers
get back a :class:`StoredSecret` that says where it went (a path, or a vault and a secret
name) and log that, never the value; plans, the journal, approvals and error messages never
see it. A sink that cannot store raises :class:`~controller.errors.SecretNotStored` and the
operation is held with nothing sent.

A password goes to exactly one file, readable only by its owner (0600, in directories 0700),
outside any git work tree. A file is there whole or not at all: the password is written to a temporary file, fsynced,
and linked to its name (never over an earlier one); a failure (a full or read-only disk) leaves
nothing and raises :class:`~controller.errors.SecretNotStored`, and the caller sends nothing.
When the service refuses the password afterwards, :meth:`SecretSink.void` removes the file, so
no file stands for a password that was never set.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from controller import redaction
from controller.errors import SecretNotStored, UsageError

# Entra ID requires three of: upper case, lower case, digits, symbols; we always use all four.
# Look-alikes (I l 1 O 0) are left out because a person may have to type the password, and the
# symbols are ones Entra accepts that need no quoting in a shell, CSV or JSON.
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
LOWER = "abcdefghijkmnopqrstuvwxyz"
DIGITS = "23456789"
SYMBOLS = "!#%*+-=?@^_"
MIN_LENGTH = 12
MAX_LENGTH = 256  # Entra's limit

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9@._-]+")


def generate_password(length: int = 20) -> str:
    """A random password with at least one upper case letter, lower case letter, digit and
    symbol, from :mod:`secrets`."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"a password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    classes = (UPPER, LOWER, DIGITS, SYMBOLS)
    everything = "".join(classes)
    chosen = [secrets.choice(cls) for cls in classes]
    chosen += [secrets.choice(everything) for _ in range(length - len(classes))]
    secrets.SystemRandom().shuffle(chosen)
    password = "".join(chosen)
    redaction.remember(password)  # a service that echoes it back shows *** instead
    return password


def enclosing_work_tree(directory: Path) -> Path | None:
    """The git work tree ``directory`` is in (or would be in once created), if any."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


@dataclass(frozen=True)
class StoredSecret:
    """Where one password went: ``where`` for people (a path, or the vault and the secret's
    name and version), and what the sink needs to void it."""

    where: str
    path: Path | None = None
    name: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return self.where


class SecretSink(Protocol):
    """Where generated passwords go. ``store`` is called before the call that uses the
    password; ``void`` after the service refused it (the password was never set)."""

    def describe(self) -> str:
        """Where passwords go, for plans and results (never a value)."""
        ...

    def check(self) -> None:
        """Raise :class:`SecretNotStored` when a password could not be stored now. Called
        before an action that writes elsewhere first (a reset records itself on the user
        before the password is made), so a sink that refuses stops it before Graph is
        written to."""
        ...

    def store(
        self,
        *,
        tenant: str,
        upn: str,
        purpose: str,
        secret: str,
        now: dt.datetime,
        run_id: int | None = None,
        operation: str | None = None,
    ) -> StoredSecret:
        """Store ``secret`` whole, or raise :class:`SecretNotStored`."""
        ...

    def void(self, stored: StoredSecret) -> None:
        """Mark a password the service never set as not standing for anything."""
        ...


class DirectorySink:
    """Write each secret to ``<directory>/<tenant>/<upn>-<purpose>-<utc time>.txt``.

    Refuses a directory inside a git work tree unless ``allow_in_git_work_tree`` (a sandbox
    test, say), and an existing directory that others can read or enter.
    """

    def __init__(self, directory: Path | str, *, allow_in_git_work_tree: bool = False) -> None:
        self.directory = Path(directory).expanduser().absolute()
        tree = enclosing_work_tree(self.directory)
        if tree is not None and not allow_in_git_work_tree:
            raise UsageError(
                f"secret sink {self.directory} is inside the git work tree {tree}; a password "
                "there could be committed. Choose a directory outside the repository "
                "(msp.yaml spec.secretSink.directory)"
            )
        if self.directory.exists():
            mode = self.directory.stat().st_mode & 0o777
            if mode & 0o077:
                raise UsageError(
                    f"secret sink {self.directory} is open to other users (mode {mode:04o}); "
                    f"run `chmod 700 {self.directory}` or choose another directory"
                )

    def describe(self) -> str:
        return f"the directory {self.directory}"

    def check(self) -> None:
        """The directory exists (made private if new) and this process may write to it."""
        try:
            _private_directory(self.directory)
            writable = os.access(self.directory, os.W_OK | os.X_OK)
        except OSError as problem:
            writable, why = False, problem.strerror
        else:
            why = "permission denied"
        if not writable:
            raise SecretNotStored(
                f"passwords could not be stored in {self.directory}: {why}; nothing was sent. "
                "Fix the secret sink (msp.yaml spec.secretSink.directory), then run apply again"
            )

    def store(
        self,
        *,
        tenant: str,
        upn: str,
        purpose: str,
        secret: str,
        now: dt.datetime,
        run_id: int | None = None,
        operation: str | None = None,
    ) -> StoredSecret:
        """Write ``secret`` to a new file readable only by its owner; return where.
        Raises :class:`SecretNotStored` when it cannot be written whole."""
        folder = self.directory / _name(tenant)
        stem = f"{_name(upn)}-{_name(purpose)}-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
        try:
            _private_directory(self.directory)
            _private_directory(folder)
            temporary = _write_whole(folder, secret + "\n")
        except OSError as problem:
            raise SecretNotStored(
                f"the password for {upn} could not be stored in {folder}: {problem.strerror}; "
                "nothing was sent. Free space or fix the secret sink, then run apply again"
            ) from None
        try:
            for attempt in range(1, 100):
                path = folder / (f"{stem}.txt" if attempt == 1 else f"{stem}-{attempt}.txt")
                try:
                    os.link(temporary, path)  # never over an earlier secret
                except FileExistsError:
                    continue
                _fsync_directory(folder)
                return StoredSecret(str(path), path=path)
        except OSError as problem:
            raise SecretNotStored(
                f"the password for {upn} could not be stored in {folder}: {problem.strerror}; "
                "nothing was sent"
            ) from None
        finally:
            temporary.unlink(missing_ok=True)
        raise SecretNotStored(
            f"the password for {upn} could not be stored in {folder}: 99 files named {stem} "
            "already exist; nothing was sent. Move the earlier ones away, then run apply again"
        )

    def void(self, stored: StoredSecret) -> None:
        """Remove the file of a password the service never set (it refused the call)."""
        if stored.path is None:
            return
        stored.path.unlink(missing_ok=True)
        _fsync_directory(stored.path.parent)


def _write_whole(folder: Path, text: str) -> Path:
    """``text`` in a new temporary file of ``folder``, 0600 from the first byte and fsynced;
    a failure leaves no file behind."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".secret.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # whatever the umask
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems refuse fsync on a directory
    finally:
        os.close(handle)


def _name(part: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", part).strip(".")
    if not cleaned:
        raise ValueError(f"{part!r} cannot name a secret file")
    return cleaned


def _private_directory(path: Path) -> None:
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask

"""One apply at a time per journal (a SQLite file), or per tenant (a PostgreSQL journal).

Two applies over the same journal would plan the same creates, each unaware of the other's
intents: the same group twice, two initial passwords for one user. :func:`apply_lock` holds an
exclusive lock (``flock`` through the ``filelock`` library) on ``<journal>.lock`` for the whole
run; the kernel releases it when the process ends, however it ends, so a killed apply never
leaves a stale lock behind. Beside it, ``<journal>.lock.holder`` names the holder (pid, host,
start time) for the message a second apply gets.

A second apply waits up to ``timeout`` seconds (``--lock-timeout``; 0, the default, refuses at
once) and then refuses with :class:`~controller.errors.ApplyLocked`. The file lock is local to
one machine. A shared PostgreSQL journal holds the lock in the database instead
(:func:`controller.apply._journal_postgres.tenant_locks`): a session advisory lock per tenant,
so one apply per tenant at a time across every runner and shard, shards of other tenants
running beside it, and the message names the holder's pid, host and start from the
``apply_locks`` table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from controller.apply.journal import JournalLocation, journal_error
from controller.errors import ApplyLocked
from controller.files import PRIVATE, private_directory, write_atomically

__all__ = ["DEFAULT_LOCK_TIMEOUT", "LockHolder", "apply_lock", "free_tenants_lock"]

#: Seconds a second apply waits for the lock before it refuses: none by default, so two
#: applies started by hand learn of each other at once.
DEFAULT_LOCK_TIMEOUT = 0.0


@dataclass(frozen=True)
class LockHolder:
    """Who holds an apply lock, as it wrote itself down."""

    pid: int | None
    host: str | None
    started_at: str | None

    def describe(self) -> str:
        return (
            f"pid {self.pid or '?'} on host {self.host or '?'}, "
            f"started {self.started_at or 'at an unknown time'}"
        )

    @classmethod
    def read(cls, path: Path) -> LockHolder:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(None, None, None)
        if not isinstance(data, dict):
            return cls(None, None, None)
        pid = data.get("pid")
        return cls(
            pid if isinstance(pid, int) else None,
            str(data["host"]) if data.get("host") else None,
            str(data["startedAt"]) if data.get("startedAt") else None,
        )


def lock_paths(journal: Path) -> tuple[Path, Path]:
    """The lock file of a journal, and the file that names its holder."""
    return (
        journal.with_name(journal.name + ".lock"),
        journal.with_name(journal.name + ".lock.holder"),
    )


@contextmanager
def apply_lock(
    journal: Path | JournalLocation,
    *,
    tenants: Sequence[str] = (),
    timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Iterator[None]:
    """Hold the apply lock for the block, or raise :class:`ApplyLocked` after ``timeout``
    seconds with the holder's pid, host and start time: the whole journal's for a SQLite
    file, each of ``tenants``' for a PostgreSQL journal."""
    location = JournalLocation.of(journal)
    if location.dsn is not None:
        from controller.apply._journal_postgres import tenant_locks

        with tenant_locks(location.dsn, tenants, timeout=timeout):
            yield
        return
    assert location.path is not None
    with _file_lock(location.path, timeout=timeout):
        yield


@contextmanager
def free_tenants_lock(
    journal: Path | JournalLocation, *, tenants: Sequence[str], timeout: float = 0.0
) -> Iterator[dict[str, str]]:
    """Hold the apply lock of as many of ``tenants`` as are free; yield the others, each with
    who holds it. A PostgreSQL journal locks per tenant, so the free ones go ahead at once; a
    SQLite file has one lock, so it is all of them (after up to ``timeout`` seconds) or
    :class:`ApplyLocked`."""
    location = JournalLocation.of(journal)
    if location.dsn is not None:
        from controller.apply._journal_postgres import free_tenant_locks

        with free_tenant_locks(location.dsn, tenants) as held:
            yield held
        return
    assert location.path is not None
    with _file_lock(location.path, timeout=timeout):
        yield {}


@contextmanager
def _file_lock(journal: Path, *, timeout: float) -> Iterator[None]:
    lock_file, holder_file = lock_paths(journal)
    try:
        private_directory(lock_file.parent)
        lock = FileLock(str(lock_file), mode=0o600)
        lock.acquire(timeout=max(timeout, 0.0))
    except Timeout:
        holder = LockHolder.read(holder_file)
        waited = f" (waited {timeout:g} s)" if timeout > 0 else ""
        raise ApplyLocked(
            f"another apply holds the lock of the journal {journal}: {holder.describe()}"
            f"{waited}; let it finish, or give --lock-timeout SECONDS to wait for it"
        ) from None
    except OSError as problem:
        raise journal_error(journal, problem, "taking the apply lock") from None
    try:
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "startedAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        with contextlib.suppress(OSError):  # only the message of a second apply needs it
            write_atomically(holder_file, json.dumps(me) + "\n", mode=PRIVATE)
        yield
    finally:
        holder_file.unlink(missing_ok=True)
        lock.release()

"""The journal's embedded store: one SQLite file, the default.

The file holds UPNs and operations of the tenants: it is created readable by its owner only
(0600, in a directory created 0700). Every statement goes through :meth:`SqliteDatabase.execute`,
which turns what sqlite reports into a :class:`~controller.errors.JournalError` that says which
problem it is (``locked`` past the busy timeout, ``full``, ``read-only``) and what to do.

Schema (version 1, ``schema_version(version)``; a newer version is refused)::

    runs(id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT NULL, command TEXT,
         plan_id TEXT NULL, status TEXT, host TEXT NULL, user TEXT NULL)
    operations(run_id INTEGER -> runs.id, op_id TEXT, tenant TEXT, kind TEXT, target TEXT,
               fingerprint TEXT, approval TEXT NULL, intent_at TEXT NULL, finished_at TEXT NULL,
               status TEXT NULL, hold TEXT NULL, detail TEXT, error TEXT NULL,
               request_id TEXT NULL, duration_ms INTEGER NULL, PRIMARY KEY (run_id, op_id))

Operations are read in the order they were recorded by sqlite's ``rowid``.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from controller.errors import JournalError, UsageError
from controller.files import private_directory

SCHEMA_VERSION = 1
#: How long a write waits for another process's lock on the database before it fails.
DEFAULT_BUSY_TIMEOUT = 5.0

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL,
    plan_id TEXT,
    status TEXT NOT NULL,
    host TEXT,
    user TEXT
);
CREATE TABLE operations (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    op_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    approval TEXT,
    intent_at TEXT,
    finished_at TEXT,
    status TEXT,
    hold TEXT,
    detail TEXT NOT NULL DEFAULT '',
    error TEXT,
    request_id TEXT,
    duration_ms INTEGER,
    PRIMARY KEY (run_id, op_id)
);
"""


class SqliteDatabase:
    """One journal file, behind the interface :class:`~controller.apply.journal.Journal` uses."""

    dialect = "sqlite"
    #: What orders a run's operations as they were recorded.
    order = "rowid"
    integrity_error: type[Exception] = sqlite3.IntegrityError

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.connection = connection
        self.path = path
        self.busy_timeout = busy_timeout

    @property
    def where(self) -> str:
        return str(self.path)

    @classmethod
    def open(cls, path: Path, *, create: bool, busy_timeout: float) -> SqliteDatabase:
        """The journal at ``path``, created (with its schema) unless ``create`` is false, in
        which case a missing file is a :class:`UsageError`."""
        if not path.exists():
            if not create:
                raise UsageError(f"no journal at {path}")
            try:
                _create_private(path)
            except OSError as problem:
                raise journal_error(path, problem, "creating it", busy_timeout) from None
        try:
            # isolation_level=None: autocommit, so every write is durable when the call returns.
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            connection.execute("PRAGMA foreign_keys = ON")
            _migrate(connection, path)
        except sqlite3.DatabaseError as problem:
            if _primary(problem) == _SQLITE_NOTADB or "holds other tables" in str(problem):
                raise UsageError(f"{path} is not a tenantctl journal ({problem})") from None
            raise journal_error(path, problem, "opening it", busy_timeout) from None
        return cls(connection, path, busy_timeout=busy_timeout)

    def execute(
        self, doing: str, sql: str, parameters: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Run one statement (committed when it returns) and return its rows, or raise a
        :class:`JournalError` saying why not. A statement that changes rows and returns none
        gives one row: ``(rowcount,)``."""
        try:
            cursor = self.connection.execute(sql, tuple(parameters))
            rows = cursor.fetchall()
        except sqlite3.IntegrityError:
            raise  # a bug of the caller (an operation recorded twice), not of the journal
        except (sqlite3.Error, OSError) as problem:
            raise journal_error(self.path, problem, doing, self.busy_timeout) from None
        if cursor.description is None:
            return [(cursor.rowcount,)]
        return rows

    def close(self) -> None:
        self.connection.close()


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    tables = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if "schema_version" not in tables:
        if tables:
            raise sqlite3.DatabaseError("it holds other tables")
        connection.executescript(
            "BEGIN;"
            + _SCHEMA
            + f"INSERT INTO schema_version (version) VALUES ({SCHEMA_VERSION});COMMIT;"
        )
        return
    (version,) = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    if version != SCHEMA_VERSION:
        raise UsageError(
            f"journal {path} has schema version {version}; this tenantctl reads version "
            f"{SCHEMA_VERSION}" + ("; upgrade tenantctl" if (version or 0) > SCHEMA_VERSION else "")
        )


# sqlite's primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


def _primary(problem: BaseException) -> int | None:
    code = getattr(problem, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def journal_error(
    path: Path, problem: BaseException, doing: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> JournalError:
    """What sqlite (or the file system) said, as the journal problem it is: the one place
    these are told apart. sqlite reports a full disk as SQLITE_FULL, a read-only file, directory
    or file system as SQLITE_READONLY (or CANTOPEN when the file cannot be created), and a
    database another process holds past the busy timeout as SQLITE_BUSY ("database is
    locked"); the errno covers what failed before sqlite (creating the file)."""
    code = _primary(problem)
    number = problem.errno if isinstance(problem, OSError) else None
    text = str(problem).lower()
    where = f"the journal {path}"
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return JournalError(
            f"{where} is locked by another process (waited {busy_timeout:g} s) while {doing}; "
            "end what holds it (a sqlite3 shell, a backup, another tenantctl) and run apply "
            "again",
            problem="locked",
        )
    if code == _SQLITE_FULL or number in (errno.ENOSPC, errno.EDQUOT) or "is full" in text:
        return JournalError(
            f"no space left on the device of {where} while {doing}; free space and run apply again",
            problem="full",
        )
    if (
        code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM)
        or number in (errno.EROFS, errno.EACCES, errno.EPERM)
        or "readonly" in text
    ):
        return JournalError(
            f"{where} cannot be written (a read-only file, directory or file system) while "
            f"{doing}; make it writable, or point --journal at a writable place",
            problem="read-only",
        )
    reason = os.strerror(number) if number is not None else str(problem)
    if code == _SQLITE_IOERR:
        reason = f"disk I/O error: {reason}"
    return JournalError(
        f"{where} could not be written while {doing}: {reason}", problem="unavailable"
    )


def _create_private(path: Path) -> None:
    """An empty journal file readable only by its owner (sqlite keeps the mode, and gives its
    side files the same), in a directory made 0700 when it is made here."""
    private_directory(path.parent)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(handle, 0o600)
    finally:
        os.close(handle)

"""The journal: an embedded SQLite database of runs and of what each did to each operation.

Apply writes an *intent* row before it calls a service and the *result* after. Every write is
committed at once, so a process killed mid-call leaves an intent without a result:
:meth:`Journal.interrupted` lists those, and ``tenantctl history`` marks them. A re-run does
not trust the journal to know what exists (the tenant is observed again); the journal is the
record of what was attempted.

It stores no operation parameters, so no password or request body can end up here. Error
texts come from the error tree, whose messages never hold a secret.

Schema (version 1)::

    schema_version(version INTEGER)
    runs(id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT NULL, command TEXT,
         plan_id TEXT NULL, status TEXT, host TEXT NULL, user TEXT NULL)
    operations(run_id INTEGER -> runs.id, op_id TEXT, tenant TEXT, kind TEXT, target TEXT,
               fingerprint TEXT, approval TEXT NULL, intent_at TEXT NULL, finished_at TEXT NULL,
               status TEXT NULL, hold TEXT NULL, detail TEXT, error TEXT NULL,
               request_id TEXT NULL, duration_ms INTEGER NULL, PRIMARY KEY (run_id, op_id))

Times are UTC ISO 8601 text, read from the clock the journal is opened with (apply passes
the world's clock: with ``--sandbox``, the sandbox's virtual time). ``intent_at`` is NULL for
an operation that was never called (held or skipped); ``status`` is NULL while a call is under
way (or was interrupted). A run's ``status`` is ``running`` until it finishes as
``succeeded``, ``failed`` or ``cancelled`` (SIGTERM or SIGINT); one killed stays ``running``.

The file holds UPNs and operations of the tenants: it is created readable by its owner only
(0600, in a directory created 0700). Every write goes through one place, which turns what
sqlite reports into a :class:`~controller.errors.JournalError` that says which problem it is
(``locked`` past the busy timeout, ``full``, ``read-only``) and what to do; the engine reports
it on the operation and the tenant it stopped.

:meth:`Journal.interrupted_creates` is what the next plan needs from a killed run: the creates
that were called and never answered, so it looks for the object before creating it again.
"""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import os
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from controller.apply.outcomes import HoldReason, Outcome, OutcomeStatus
from controller.errors import JournalError, UsageError
from controller.files import private_directory
from controller.models import OperationKind
from controller.plan.types import Operation

SCHEMA_VERSION = 1
DEFAULT_JOURNAL = Path(".tenantctl/journal.sqlite")
#: How long a write waits for another process's lock on the database before it fails.
DEFAULT_BUSY_TIMEOUT = 5.0

#: The operations that make a new object: an interrupted one may have made it.
CREATE_KINDS = frozenset(
    {
        OperationKind.USER_CREATE,
        OperationKind.GROUP_CREATE,
        OperationKind.DISTRIBUTION_GROUP_CREATE,
        OperationKind.SHARED_MAILBOX_CREATE,
    }
)

Clock = Callable[[], dt.datetime]

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


class RunStatus(StrEnum):
    RUNNING = "running"  # also what a killed run is left as
    SUCCEEDED = "succeeded"  # everything executable succeeded (holds are not failures)
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by SIGTERM or SIGINT after its call in flight finished


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: str
    finished_at: str | None
    command: str
    plan_id: str | None
    status: RunStatus
    host: str | None
    user: str | None
    operations: int
    interrupted: int

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RunRecord:
        record = cls(*row)
        return replace(record, status=RunStatus(record.status))

    @property
    def unfinished(self) -> bool:
        """Never finished: still running, or killed."""
        return self.finished_at is None


@dataclass(frozen=True)
class OperationRecord:
    run_id: int
    op_id: str
    tenant: str
    kind: str
    target: str
    fingerprint: str
    approval: str | None
    intent_at: str | None
    finished_at: str | None
    status: OutcomeStatus | None  # None while the call is under way (or was interrupted)
    hold: HoldReason | None
    detail: str
    error: str | None
    request_id: str | None
    duration_ms: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> OperationRecord:
        record = cls(*row)
        return replace(
            record,
            status=None if record.status is None else OutcomeStatus(record.status),
            hold=None if record.hold is None else HoldReason(record.hold),
        )

    @property
    def interrupted(self) -> bool:
        """The call was started and no result was recorded: the run stopped during it."""
        return self.intent_at is not None and self.finished_at is None


@dataclass(frozen=True)
class InterruptedCreate:
    """A create that was called and never answered (its run was killed), and that no later
    run has called again: the object may exist although no list shows it yet."""

    run_id: int
    tenant: str
    kind: OperationKind
    target: str
    intent_at: dt.datetime


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Journal:
    """One journal database. Safe to share between the threads of one run."""

    def __init__(self, connection: sqlite3.Connection, path: Path, clock: Clock) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self._clock = clock
        self.path = path
        self.busy_timeout = DEFAULT_BUSY_TIMEOUT

    @classmethod
    def open(
        cls,
        path: Path = DEFAULT_JOURNAL,
        *,
        clock: Clock = _utc_now,
        create: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Journal:
        """Open the journal at ``path``, creating it (and its schema) unless ``create`` is
        false, in which case a missing journal is a :class:`UsageError`. A journal that cannot
        be opened or created is a :class:`JournalError` saying why."""
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
            journal = cls(connection, path, clock)
            journal.busy_timeout = busy_timeout
            journal._migrate()
        except sqlite3.DatabaseError as problem:
            if _primary(problem) == _SQLITE_NOTADB or "holds other tables" in str(problem):
                raise UsageError(f"{path} is not a tenantctl journal ({problem})") from None
            raise journal_error(path, problem, "opening it", busy_timeout) from None
        return journal

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------

    def start_run(
        self,
        command: str,
        plan_id: str | None = None,
        *,
        host: str | None = None,
        user: str | None = None,
    ) -> int:
        """Record a run's start; returns its id."""
        cursor = self._write(
            "recording the start of the run",
            "INSERT INTO runs (started_at, command, plan_id, status, host, user) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                _text(self._clock()),
                command,
                plan_id,
                RunStatus.RUNNING.value,
                host if host is not None else _host(),
                user if user is not None else _user(),
            ),
        )
        run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def intent(self, run_id: int, op: Operation, *, approval: str | None = None) -> None:
        """Record that ``op`` is about to be executed. Call it BEFORE the service call."""
        self._write(
            f"recording the intent of {op.kind.value} {op.target}",
            "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint, "
            "approval, intent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*_operation_row(run_id, op), approval, _text(self._clock())),
        )

    def result(self, run_id: int, op_id: str, outcome: Outcome) -> None:
        """Record what the call did. Call it AFTER the service call, whatever happened."""
        cursor = self._write(
            f"recording the result of {op_id}",
            "UPDATE operations SET finished_at = ?, status = ?, hold = ?, detail = ?, "
            "error = ?, request_id = ?, duration_ms = ?, approval = COALESCE(?, approval) "
            "WHERE run_id = ? AND op_id = ? AND intent_at IS NOT NULL "
            "AND finished_at IS NULL",
            (*self._outcome_columns(outcome), run_id, op_id),
        )
        if cursor.rowcount != 1:
            raise ValueError(f"run {run_id} has no open intent for operation {op_id}")

    def held(self, run_id: int, op: Operation, outcome: Outcome) -> None:
        """Record an operation that was not executed (held or skipped): no intent, one row."""
        if outcome.status not in (OutcomeStatus.HELD, OutcomeStatus.SKIPPED):
            raise ValueError("held() records operations that were not executed")
        self._write(
            f"recording that {op.kind.value} {op.target} was not run",
            "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint, "
            "finished_at, status, hold, detail, error, request_id, duration_ms, approval) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_operation_row(run_id, op), *self._outcome_columns(outcome)),
        )

    def finish_run(self, run_id: int, status: RunStatus) -> None:
        self._write(
            "recording the end of the run",
            "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
            (_text(self._clock()), status.value, run_id),
        )

    # --- reading -------------------------------------------------------------------------

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first."""
        return [RunRecord.from_row(row) for row in self._db.execute(_RUNS + " ORDER BY r.id")]

    def run(self, run_id: int) -> RunRecord | None:
        rows = self._db.execute(_RUNS + " WHERE r.id = ?", (run_id,)).fetchall()
        return RunRecord.from_row(rows[0]) if rows else None

    def operations(self, run_id: int) -> list[OperationRecord]:
        """A run's operations in the order they were recorded."""
        rows = self._db.execute(
            f"SELECT {_OPERATION_COLUMNS} FROM operations WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        return [OperationRecord.from_row(row) for row in rows]

    def interrupted(self, run_id: int) -> list[OperationRecord]:
        """Operations of a run with an intent and no result: what a killed run left."""
        return [op for op in self.operations(run_id) if op.interrupted]

    def interrupted_creates(self) -> list[InterruptedCreate]:
        """Every create left with an intent and no result, unless a later run called the same
        create again and recorded what it did (then that run knows). Oldest first."""
        kinds = sorted(k.value for k in CREATE_KINDS)
        marks = ", ".join("?" * len(kinds))
        rows = self._db.execute(
            "SELECT o.run_id, o.tenant, o.kind, o.target, o.intent_at FROM operations o "
            f"WHERE o.kind IN ({marks}) AND o.intent_at IS NOT NULL AND o.finished_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM operations later WHERE later.tenant = o.tenant "
            "AND later.kind = o.kind AND later.target = o.target AND later.run_id > o.run_id "
            "AND later.intent_at IS NOT NULL AND later.finished_at IS NOT NULL) "
            "ORDER BY o.run_id, o.rowid",
            kinds,
        ).fetchall()
        return [
            InterruptedCreate(int(run), tenant, OperationKind(kind), target, _moment(at))
            for run, tenant, kind, target, at in rows
        ]

    # --- internals -----------------------------------------------------------------------

    def _write(self, doing: str, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Cursor:
        """Every write: committed when it returns, or a :class:`JournalError` saying why not."""
        try:
            with self._lock:
                return self._db.execute(sql, parameters)
        except sqlite3.IntegrityError:
            raise  # a bug of the caller (an operation recorded twice), not of the journal
        except (sqlite3.Error, OSError) as problem:
            raise journal_error(self.path, problem, doing, self.busy_timeout) from None

    def _outcome_columns(self, outcome: Outcome) -> tuple[Any, ...]:
        return (
            _text(self._clock()),
            outcome.status.value,
            outcome.hold.value if outcome.hold else None,
            outcome.detail,
            outcome.error,
            outcome.request_id,
            outcome.duration_ms,
            outcome.approval,
        )

    def _migrate(self) -> None:
        with self._lock:
            tables = {
                row[0]
                for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if "schema_version" not in tables:
                if tables:
                    raise sqlite3.DatabaseError("it holds other tables")
                self._db.executescript(
                    "BEGIN;"
                    + _SCHEMA
                    + f"INSERT INTO schema_version (version) VALUES ({SCHEMA_VERSION});COMMIT;"
                )
                return
            (version,) = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            if version != SCHEMA_VERSION:
                raise UsageError(
                    f"journal {self.path} has schema version {version}; this tenantctl reads "
                    f"version {SCHEMA_VERSION}"
                )


_RUNS = (
    "SELECT r.id, r.started_at, r.finished_at, r.command, r.plan_id, r.status, r.host, r.user, "
    "(SELECT COUNT(*) FROM operations o WHERE o.run_id = r.id), "
    "(SELECT COUNT(*) FROM operations o WHERE o.run_id = r.id "
    "AND o.intent_at IS NOT NULL AND o.finished_at IS NULL) "
    "FROM runs r"
)
_OPERATION_COLUMNS = (
    "run_id, op_id, tenant, kind, target, fingerprint, approval, intent_at, finished_at, "
    "status, hold, detail, error, request_id, duration_ms"
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


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _operation_row(run_id: int, op: Operation) -> tuple[int, str, str, str, str, str]:
    """The columns that say which operation of which run a row is about."""
    return (run_id, op.id, op.tenant, op.kind.value, op.target, op.fingerprint)


def _host() -> str | None:
    try:
        return socket.gethostname()
    except OSError:
        return None


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return None

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

Times are UTC ISO 8601 text. ``intent_at`` is NULL for an operation that was never called
(held or skipped); ``status`` is NULL while a call is under way (or was interrupted).
"""

from __future__ import annotations

import datetime as dt
import getpass
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
from controller.errors import UsageError
from controller.plan.types import Operation

SCHEMA_VERSION = 1
DEFAULT_JOURNAL = Path(".tenantctl/journal.sqlite")

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

    @classmethod
    def open(
        cls, path: Path = DEFAULT_JOURNAL, *, clock: Clock = _utc_now, create: bool = True
    ) -> Journal:
        """Open the journal at ``path``, creating it (and its schema) unless ``create`` is
        false, in which case a missing journal is a :class:`UsageError`."""
        if not path.exists():
            if not create:
                raise UsageError(f"no journal at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: autocommit, so every write is durable when the call returns.
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA foreign_keys = ON")
            journal = cls(connection, path, clock)
            journal._migrate()
        except sqlite3.DatabaseError as problem:
            raise UsageError(f"{path} is not a tenantctl journal ({problem})") from None
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
        with self._lock:
            cursor = self._db.execute(
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
        with self._lock:
            self._db.execute(
                "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint, "
                "approval, intent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*_operation_row(run_id, op), approval, _text(self._clock())),
            )

    def result(self, run_id: int, op_id: str, outcome: Outcome) -> None:
        """Record what the call did. Call it AFTER the service call, whatever happened."""
        with self._lock:
            cursor = self._db.execute(
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
        with self._lock:
            self._db.execute(
                "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint, "
                "finished_at, status, hold, detail, error, request_id, duration_ms, approval) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*_operation_row(run_id, op), *self._outcome_columns(outcome)),
            )

    def finish_run(self, run_id: int, status: RunStatus) -> None:
        with self._lock:
            self._db.execute(
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

    # --- internals -----------------------------------------------------------------------

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

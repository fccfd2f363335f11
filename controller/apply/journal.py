"""The journal: the record of runs and of what each did to each operation.

Apply writes an *intent* row before it calls a service and the *result* after. Every write is
committed at once, so a process killed mid-call leaves an intent without a result:
:meth:`Journal.interrupted` lists those, and ``tenantctl history`` marks them. A re-run does
not trust the journal to know what exists (the tenant is observed again); the journal is the
record of what was attempted.

It stores no operation parameters, so no password or request body can end up here. Error
texts come from the error tree, whose messages never hold a secret.

Two stores keep it, behind one :class:`Database` interface, with the same tables and the same
SQL (written once, here): an embedded SQLite file, the default (``_journal_sqlite``), and a
shared PostgreSQL database (``_journal_postgres``) that every CI runner, shard and replica
writes, so one history outlives the machines. :class:`JournalLocation` says which:
``--journal PATH`` or ``--journal postgresql://...``, or msp.yaml's ``journal.postgres.dsn``.

Times are UTC ISO 8601 text, read from the clock the journal is opened with (apply passes
the world's clock: with ``--sandbox``, the sandbox's virtual time). ``intent_at`` is NULL for
an operation that was never called (held or skipped); ``status`` is NULL while a call is under
way (or was interrupted). A run's ``status`` is ``running`` until it finishes as
``succeeded``, ``failed`` or ``cancelled`` (SIGTERM or SIGINT); one killed stays ``running``.

Every statement goes through its store's ``execute``, which turns what the store reports into
a :class:`~controller.errors.JournalError` that says which problem it is (``locked``, ``full``,
``read-only``, ``unavailable``) and what to do; the engine reports it on the operation and the
tenant it stopped.

:meth:`Journal.interrupted_creates` is what the next plan needs from a killed run: the creates
that were called and never answered, so it looks for the object before creating it again.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from controller import redaction
from controller.apply._journal_sqlite import (
    DEFAULT_BUSY_TIMEOUT,
    SCHEMA_VERSION,
    SqliteDatabase,
    journal_error,
)
from controller.apply.outcomes import HoldReason, Outcome, OutcomeStatus
from controller.errors import UsageError
from controller.models import OperationKind
from controller.plan.types import Operation

__all__ = [
    "CREATE_KINDS",
    "DEFAULT_BUSY_TIMEOUT",
    "DEFAULT_JOURNAL",
    "SCHEMA_VERSION",
    "Database",
    "InterruptedCreate",
    "Journal",
    "JournalLocation",
    "OperationRecord",
    "RunRecord",
    "RunStatus",
    "journal_error",
    "journal_exists",
]

DEFAULT_JOURNAL = Path(".tenantctl/journal.sqlite")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# A key=value connection string starts with a keyword and "=" (no file's path does); one
# libpq cannot parse (a misspelt keyword) is then refused without being echoed.
_CONNINFO_KEYWORD = re.compile(r"\s*[A-Za-z_]+\s*=")

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


class Database(Protocol):
    """What the journal needs of a store: statements written with ``?`` placeholders, each
    committed when it returns; store faults raised as :class:`~controller.errors.JournalError`
    (an integrity error, a caller's bug, as ``integrity_error``)."""

    dialect: str
    #: The column that orders a run's operations as they were recorded.
    order: str
    integrity_error: type[Exception]

    @property
    def where(self) -> str: ...

    def execute(
        self, doing: str, sql: str, parameters: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class JournalLocation:
    """Where the journal is: a SQLite file (``path``) or a PostgreSQL database (``dsn``,
    never shown: :meth:`describe` leaves its password out)."""

    path: Path | None = None
    dsn: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.path is None) == (self.dsn is None):
            raise ValueError("a journal location is a path or a DSN")
        if self.dsn is not None:
            # Checked now (a DSN that does not parse is a usage error), and from now on the
            # DSN and its password are redacted wherever a library would print them.
            from controller.apply._journal_postgres import describe_dsn

            describe_dsn(self.dsn)
            redaction.remember(self.dsn)

    @classmethod
    def of(cls, where: Path | JournalLocation) -> JournalLocation:
        """``where`` as a location: a path is a SQLite file."""
        return where if isinstance(where, JournalLocation) else cls(path=where)

    @classmethod
    def parse(cls, text: str) -> JournalLocation:
        """``--journal``'s value: a ``postgresql://`` (or ``postgres://``) URL or libpq's
        ``key=value`` connection string (``host=db dbname=tenantctl password=...``, as
        msp.yaml takes it), else a path. Taken for a path, a connection string's password
        would be a file's name, shown by every message naming the journal."""
        if text.lower().startswith(POSTGRES_SCHEMES) or _CONNINFO_KEYWORD.match(text):
            return cls(dsn=text)
        return cls(path=Path(text))

    @property
    def shared(self) -> bool:
        """A database many machines write (its apply lock holds across them)."""
        return self.dsn is not None

    def describe(self) -> str:
        if self.dsn is not None:
            from controller.apply._journal_postgres import describe_dsn

            return describe_dsn(self.dsn)
        return str(self.path)


def journal_exists(location: JournalLocation) -> bool:
    """Whether there is a journal to read: the SQLite file exists, or the database holds the
    journal's schema. Creates nothing."""
    if location.path is not None:
        return location.path.exists()
    try:
        Journal.open(location, create=False).close()
    except UsageError:
        return False
    return True


class Journal:
    """One journal, in either store. Safe to share between the threads of one run."""

    def __init__(self, database: Database, clock: Clock = _utc_now) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._clock = clock

    @property
    def where(self) -> str:
        """How messages name this journal (a path, or a DSN without its password)."""
        return self.database.where

    @classmethod
    def open(
        cls,
        where: Path | JournalLocation = DEFAULT_JOURNAL,
        *,
        clock: Clock = _utc_now,
        create: bool = True,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Journal:
        """Open the journal at ``where`` (a SQLite file's path, or a location), creating it
        and its schema (or migrating an older one) unless ``create`` is false, in which case a
        missing journal is a :class:`UsageError`. A journal that cannot be opened or created
        is a :class:`JournalError` saying why. ``busy_timeout``: how long a statement waits
        for another process's lock."""
        location = JournalLocation.of(where)
        database: Database
        if location.dsn is not None:
            from controller.apply._journal_postgres import PostgresDatabase

            database = PostgresDatabase.open(location.dsn, create=create, lock_timeout=busy_timeout)
        else:
            assert location.path is not None
            database = SqliteDatabase.open(location.path, create=create, busy_timeout=busy_timeout)
        return cls(database, clock)

    def close(self) -> None:
        self.database.close()

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
        ((run_id,),) = self._execute(
            "recording the start of the run",
            'INSERT INTO runs (started_at, command, plan_id, status, host, "user") '
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                _text(self._clock()),
                command,
                plan_id,
                RunStatus.RUNNING.value,
                host if host is not None else _host(),
                user if user is not None else _user(),
            ),
        )
        return int(run_id)

    def intent(self, run_id: int, op: Operation, *, approval: str | None = None) -> None:
        """Record that ``op`` is about to be executed. Call it BEFORE the service call."""
        self._execute(
            f"recording the intent of {op.kind.value} {op.target}",
            "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint, "
            "approval, intent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*_operation_row(run_id, op), approval, _text(self._clock())),
        )

    def result(self, run_id: int, op_id: str, outcome: Outcome) -> None:
        """Record what the call did. Call it AFTER the service call, whatever happened."""
        ((changed,),) = self._execute(
            f"recording the result of {op_id}",
            "UPDATE operations SET finished_at = ?, status = ?, hold = ?, detail = ?, "
            "error = ?, request_id = ?, duration_ms = ?, approval = COALESCE(?, approval) "
            "WHERE run_id = ? AND op_id = ? AND intent_at IS NOT NULL "
            "AND finished_at IS NULL",
            (*self._outcome_columns(outcome), run_id, op_id),
        )
        if changed != 1:
            raise ValueError(f"run {run_id} has no open intent for operation {op_id}")

    def held(self, run_id: int, op: Operation, outcome: Outcome) -> None:
        """Record an operation that was not executed (held or skipped): no intent, one row."""
        if outcome.status not in (OutcomeStatus.HELD, OutcomeStatus.SKIPPED):
            raise ValueError("held() records operations that were not executed")
        self._execute(
            f"recording that {op.kind.value} {op.target} was not run",
            "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint, "
            "finished_at, status, hold, detail, error, request_id, duration_ms, approval) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_operation_row(run_id, op), *self._outcome_columns(outcome)),
        )

    def finish_run(self, run_id: int, status: RunStatus) -> None:
        self._execute(
            "recording the end of the run",
            "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
            (_text(self._clock()), status.value, run_id),
        )

    # --- reading -------------------------------------------------------------------------

    def runs(self, *, since: str | None = None) -> list[RunRecord]:
        """Every run, oldest first; with ``since`` (UTC ISO 8601 text), those started at or
        after it."""
        if since is None:
            rows = self._execute("reading the runs", _RUNS + " ORDER BY r.id")
        else:
            rows = self._execute(
                "reading the runs", _RUNS + " WHERE r.started_at >= ? ORDER BY r.id", (since,)
            )
        return [RunRecord.from_row(row) for row in rows]

    def run(self, run_id: int) -> RunRecord | None:
        rows = self._execute("reading the run", _RUNS + " WHERE r.id = ?", (run_id,))
        return RunRecord.from_row(rows[0]) if rows else None

    def operations(self, run_id: int) -> list[OperationRecord]:
        """A run's operations in the order they were recorded."""
        rows = self._execute(
            "reading the run's operations",
            f"SELECT {_OPERATION_COLUMNS} FROM operations WHERE run_id = ? "
            f"ORDER BY {self.database.order}",
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
        rows = self._execute(
            "reading the interrupted creates",
            "SELECT o.run_id, o.tenant, o.kind, o.target, o.intent_at FROM operations o "
            f"WHERE o.kind IN ({marks}) AND o.intent_at IS NOT NULL AND o.finished_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM operations later WHERE later.tenant = o.tenant "
            "AND later.kind = o.kind AND later.target = o.target AND later.run_id > o.run_id "
            "AND later.intent_at IS NOT NULL AND later.finished_at IS NOT NULL) "
            f"ORDER BY o.run_id, o.{self.database.order}",
            kinds,
        )
        return [
            InterruptedCreate(int(run), tenant, OperationKind(kind), target, _moment(at))
            for run, tenant, kind, target, at in rows
        ]

    # --- internals -----------------------------------------------------------------------

    def _execute(
        self, doing: str, sql: str, parameters: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Every statement, one at a time: committed when it returns, or a
        :class:`JournalError` saying why not."""
        with self._lock:
            return self.database.execute(doing, sql, parameters)

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


_RUNS = (
    'SELECT r.id, r.started_at, r.finished_at, r.command, r.plan_id, r.status, r.host, r."user", '
    "(SELECT COUNT(*) FROM operations o WHERE o.run_id = r.id), "
    "(SELECT COUNT(*) FROM operations o WHERE o.run_id = r.id "
    "AND o.intent_at IS NOT NULL AND o.finished_at IS NULL) "
    "FROM runs r"
)
_OPERATION_COLUMNS = (
    "run_id, op_id, tenant, kind, target, fingerprint, approval, intent_at, finished_at, "
    "status, hold, detail, error, request_id, duration_ms"
)


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

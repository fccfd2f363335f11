"""The PostgreSQL journal's own behaviour, against a real server: schema migrations (an older
schema migrated, a newer one refused, a database of someone else's refused), faults told
apart by SQLSTATE into the SQLite journal's kinds (a lock held past the timeout, a read-only
transaction, a lost connection that the next statement recovers from), the per-tenant apply
lock across processes, and a DSN whose password no message shows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psycopg
import pytest

from controller.apply import Journal, Outcome, RunStatus
from controller.apply._journal_postgres import (
    SCHEMA_VERSION,
    describe_dsn,
    migrate,
    postgres_error,
)
from controller.apply.journal import JournalLocation
from controller.apply.lock import apply_lock, free_tenants_lock
from controller.errors import ApplyLocked, JournalError, UsageError
from controller.redaction import redact_text
from tests.policy.factory import op
from tests.postgres_support import PostgresServer

CREATE = op("user.create", "user:a@c.example", op_id="create")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dsn(postgres: PostgresServer) -> str:
    return postgres.new_database()


def versions(postgres: PostgresServer, dsn: str) -> list[object]:
    return [v for (v,) in postgres.sql(dsn, "SELECT version FROM schema_migrations ORDER BY 1")]


# --- migrations ------------------------------------------------------------------------------


def test_a_new_database_gets_every_migration(postgres: PostgresServer, dsn: str) -> None:
    Journal.open(JournalLocation(dsn=dsn)).close()
    assert versions(postgres, dsn) == list(range(1, SCHEMA_VERSION + 1))
    Journal.open(JournalLocation(dsn=dsn)).close()  # opening again changes nothing
    assert versions(postgres, dsn) == list(range(1, SCHEMA_VERSION + 1))


def test_an_older_schema_is_migrated_and_keeps_its_runs(postgres: PostgresServer, dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        assert migrate(connection, "the test journal", upto=1) == 1
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO runs (started_at, command, status) VALUES ('2026-11-26T09:00:00.000Z', "
            "'apply', 'succeeded')"
        )
    assert postgres.sql(dsn, "SELECT to_regclass('apply_locks')") == [(None,)]
    with Journal.open(JournalLocation(dsn=dsn)) as journal:
        assert [r.status for r in journal.runs()] == ["succeeded"]
    assert versions(postgres, dsn) == [1, 2]
    assert postgres.sql(dsn, "SELECT to_regclass('apply_locks')::text") == [("apply_locks",)]


def test_a_newer_schema_is_refused_and_left_alone(postgres: PostgresServer, dsn: str) -> None:
    Journal.open(JournalLocation(dsn=dsn)).close()
    postgres.sql(dsn, "INSERT INTO schema_migrations (version, description) VALUES (99, 'x')")
    with pytest.raises(UsageError) as refused:
        Journal.open(JournalLocation(dsn=dsn))
    message = str(refused.value)
    assert "has schema version 99, newer than this tenantctl knows" in message
    assert f"(up to {SCHEMA_VERSION}): upgrade tenantctl" in message
    assert postgres.password not in message
    assert versions(postgres, dsn) == [*range(1, SCHEMA_VERSION + 1), 99]


def test_someone_elses_tables_are_refused(postgres: PostgresServer, dsn: str) -> None:
    postgres.sql(dsn, "CREATE TABLE runs (id INTEGER)")
    with pytest.raises(UsageError, match="is not a tenantctl journal: it has tables named runs"):
        Journal.open(JournalLocation(dsn=dsn))


def test_two_runners_migrating_at_once_migrate_once(postgres: PostgresServer, dsn: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Journal.open(JournalLocation(dsn=dsn)).close()
        except BaseException as problem:  # pragma: no cover - reported below
            errors.append(problem)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert versions(postgres, dsn) == list(range(1, SCHEMA_VERSION + 1))


# --- faults, by SQLSTATE -----------------------------------------------------------------------


def test_a_lock_held_past_the_timeout_says_locked(postgres: PostgresServer, dsn: str) -> None:
    Journal.open(JournalLocation(dsn=dsn)).close()
    with (
        psycopg.connect(dsn) as holder,
        Journal.open(JournalLocation(dsn=dsn), busy_timeout=0.2) as journal,
    ):
        holder.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")  # a transaction left open
        with pytest.raises(JournalError) as err:
            journal.start_run("apply")
        holder.rollback()
        run = journal.start_run("apply")  # released: the same journal writes again
    assert err.value.problem == "locked"
    assert "a lock another session holds (waited up to 0.2 s)" in str(err.value)
    assert run >= 1


def test_a_read_only_transaction_says_read_only(postgres: PostgresServer, dsn: str) -> None:
    Journal.open(JournalLocation(dsn=dsn)).close()
    database = dsn.rsplit("/", 1)[1]
    postgres.sql(dsn, f"ALTER DATABASE {database} SET default_transaction_read_only = on")
    with Journal.open(JournalLocation(dsn=dsn)) as journal, pytest.raises(JournalError) as err:
        journal.start_run("apply")
    assert err.value.problem == "read-only"
    assert "cannot be written: a read-only transaction" in str(err.value)


def test_a_lost_connection_fails_one_write_and_the_next_reconnects(
    postgres: PostgresServer, dsn: str
) -> None:
    with Journal.open(JournalLocation(dsn=dsn)) as journal:
        run = journal.start_run("apply")
        postgres.sql(
            postgres.admin_dsn,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{dsn.rsplit('/', 1)[1]}' AND pid <> pg_backend_pid()",
        )
        with pytest.raises(JournalError) as err:
            journal.intent(run, CREATE)
        journal.intent(run, CREATE)  # a new connection
        journal.result(run, CREATE.id, Outcome.succeeded())
        journal.finish_run(run, RunStatus.SUCCEEDED)
        (recorded,) = journal.operations(run)
    assert err.value.problem == "unavailable"
    assert "could not be reached while recording the intent of user.create" in str(err.value)
    assert recorded.status == "succeeded"


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (psycopg.errors.SerializationFailure, "locked"),
        (psycopg.errors.DeadlockDetected, "locked"),
        (psycopg.errors.LockNotAvailable, "locked"),
        (psycopg.errors.DiskFull, "full"),
        (psycopg.errors.ReadOnlySqlTransaction, "read-only"),
        (psycopg.errors.InsufficientPrivilege, "read-only"),
        (psycopg.errors.AdminShutdown, "unavailable"),
        (psycopg.OperationalError, "unavailable"),
    ],
)
def test_sqlstates_are_told_apart(error: type[psycopg.Error], problem: str) -> None:
    """What the server sends for each (the classes psycopg maps SQLSTATEs to): the same kinds
    the SQLite journal reports."""
    assert postgres_error("the journal x", error("boom"), "testing").problem == problem


def test_a_server_that_cannot_be_reached(postgres: PostgresServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    dsn = f"postgresql://tenantctl:{postgres.password}@127.0.0.1:{closed}/postgres"
    with pytest.raises(JournalError) as err:
        Journal.open(JournalLocation(dsn=dsn))
    assert err.value.problem == "unavailable"
    assert f"the journal PostgreSQL tenantctl@127.0.0.1:{closed}/postgres could not" in str(
        err.value
    )
    assert postgres.password not in str(err.value)


# --- the DSN's password ----------------------------------------------------------------------


def test_the_dsn_is_described_without_its_password(postgres: PostgresServer) -> None:
    dsn = postgres.dsn("journal")
    assert describe_dsn(dsn) == f"PostgreSQL tenantctl@127.0.0.1:{postgres.port}/journal"
    assert "password" not in describe_dsn("host=db user=t password=hunter2secret dbname=j")
    # Once read, the password is redacted wherever a library would print it.
    assert postgres.password not in redact_text(
        f"connection failed for {dsn} ({postgres.password})"
    )
    assert repr(JournalLocation(dsn=dsn)).count(postgres.password) == 0
    assert JournalLocation.parse(dsn).describe() == describe_dsn(dsn)


# --- the apply lock: one apply per tenant, across machines ------------------------------------


def test_one_apply_per_tenant_and_other_tenants_go_on(dsn: str) -> None:
    location = JournalLocation(dsn=dsn)
    with apply_lock(location, tenants=["contoso", "fabrikam"]):
        with (
            pytest.raises(ApplyLocked) as refused,
            apply_lock(location, tenants=["fabrikam", "tailspin"]),
        ):
            pass
        with apply_lock(location, tenants=["tailspin"]):  # a shard of other tenants
            pass
    message = str(refused.value)
    assert f"another apply holds tenant fabrikam in the journal {describe_dsn(dsn)}" in message
    assert f"pid {os.getpid()} on host {socket.gethostname()}, started 20" in message
    assert "--lock-timeout" in message
    with apply_lock(location, tenants=["fabrikam"]):  # released: free again
        pass


def test_the_controller_takes_the_free_tenants_and_is_told_who_holds_the_others(
    dsn: str,
) -> None:
    location = JournalLocation(dsn=dsn)
    wanted = ["contoso", "fabrikam", "tailspin"]
    with (
        apply_lock(location, tenants=["fabrikam"]),
        free_tenants_lock(location, tenants=wanted) as held,
    ):
        assert list(held) == ["fabrikam"]
        assert held["fabrikam"].startswith(f"pid {os.getpid()} on host ")
        for taken in ("contoso", "tailspin"):  # held by the controller meanwhile
            with pytest.raises(ApplyLocked), apply_lock(location, tenants=[taken]):
                pass
    with apply_lock(location, tenants=["contoso", "fabrikam", "tailspin"]):  # all released
        pass


def test_a_second_process_waits_or_refuses_and_a_killed_holder_frees_it(dsn: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from controller.apply.journal import JournalLocation
                from controller.apply.lock import apply_lock, free_tenants_lock
                with apply_lock(JournalLocation(dsn={dsn!r}), tenants=["contoso"]):
                    print("held", flush=True)
                    sys.stdin.readline()
                """
            ),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        location = JournalLocation(dsn=dsn)
        with (
            pytest.raises(ApplyLocked, match=rf"pid {holder.pid} .*\(waited 0\.3 s\)"),
            apply_lock(location, tenants=["contoso"], timeout=0.3),
        ):
            pass
        holder.kill()  # no goodbye: the server ends its session and its locks
        holder.wait(30)
        with apply_lock(location, tenants=["contoso"], timeout=30):
            pass
    finally:
        holder.kill()
        holder.wait(30)
        holder.stdin.close()
        holder.stdout.close()

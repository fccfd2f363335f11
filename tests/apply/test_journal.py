"""The journal: schema on first use, intent before result, a killed process leaving an intent
without a result (seen by ``interrupted``), held operations, several runs, concurrent
writers, and that no operation parameter (where a secret could hide) is ever stored.

Every test that is about the journal rather than one store runs against both stores: the
SQLite file and a real PostgreSQL database (``journal_location`` in tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.apply import (
    SCHEMA_VERSION,
    HoldReason,
    Journal,
    Outcome,
    OutcomeStatus,
    RunStatus,
)
from controller.apply.journal import JournalLocation, journal_exists
from controller.errors import UsageError
from controller.plan.params import NewUser, PasswordProfile, UserCreateParams
from tests.policy.factory import op


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def journal(journal_location: JournalLocation) -> Iterator[Journal]:
    with Journal.open(journal_location, clock=FakeClock()) as opened:
        yield opened


def stored_text(location: JournalLocation) -> bytes:
    """Everything the journal's store holds, as bytes to search."""
    if location.path is not None:
        return location.path.read_bytes()
    assert location.dsn is not None
    import psycopg

    with psycopg.connect(location.dsn) as connection:
        rows = connection.execute(
            "SELECT row_to_json(r)::text FROM runs r UNION ALL "
            "SELECT row_to_json(o)::text FROM operations o"
        ).fetchall()
    return "\n".join(row[0] for row in rows).encode()


CREATE = op("user.create", "user:a@c.example", op_id="create")
ADD = op("group.addMember", "group:g/a", op_id="add", depends_on=("create",))


def test_schema_is_created_with_its_version(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "journal.sqlite"
    Journal.open(path).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    raw.close()
    assert {"runs", "operations", "schema_version"} <= tables
    Journal.open(path).close()  # opening again keeps it


def test_intent_then_result(journal: Journal) -> None:
    run = journal.start_run("apply", "ab12cd34", host="ci", user="alice")
    journal.intent(run, CREATE, approval="approvals/a.json")
    (pending,) = journal.operations(run)
    assert pending.intent_at == "2026-11-26T09:00:02.000Z"
    assert pending.status is None and pending.interrupted
    journal.result(run, "create", Outcome.succeeded(duration_ms=120, request_id="req-1"))
    (done,) = journal.operations(run)
    assert (done.status, done.request_id, done.duration_ms, done.approval) == (
        "succeeded",
        "req-1",
        120,
        "approvals/a.json",
    )
    assert done.finished_at == "2026-11-26T09:00:03.000Z"
    assert not done.interrupted
    assert journal.interrupted(run) == []


def test_a_result_needs_an_intent(journal: Journal) -> None:
    run = journal.start_run("apply")
    with pytest.raises(ValueError, match="no open intent for operation create"):
        journal.result(run, "create", Outcome.succeeded())
    journal.intent(run, CREATE)
    journal.result(run, "create", Outcome.succeeded())
    with pytest.raises(ValueError, match="no open intent"):
        journal.result(run, "create", Outcome.failed("twice"))


def test_failures_and_holds_are_recorded(journal: Journal) -> None:
    run = journal.start_run("apply")
    journal.intent(run, CREATE)
    journal.result(run, "create", Outcome.failed("graph, HTTP 400: bad", request_id="r9"))
    journal.held(run, ADD, Outcome.blocked(CREATE, Outcome.failed("x")))
    journal.finish_run(run, RunStatus.FAILED)
    failed, blocked = journal.operations(run)
    assert (failed.status, failed.error, failed.request_id) == (
        "failed",
        "graph, HTTP 400: bad",
        "r9",
    )
    assert (blocked.status, blocked.hold, blocked.intent_at) == (
        "held",
        HoldReason.BLOCKED.value,
        None,
    )
    assert blocked.detail == "waits for user.create user:a@c.example (failed)"
    assert not blocked.interrupted
    # read back as the enums they were written from, not as strings
    assert failed.status is OutcomeStatus.FAILED and failed.hold is None
    assert blocked.status is OutcomeStatus.HELD and blocked.hold is HoldReason.BLOCKED
    assert journal.runs()[0].status is RunStatus.FAILED
    with pytest.raises(ValueError, match="not executed"):
        journal.held(run, CREATE, Outcome.succeeded())


def test_two_runs_are_listed_with_counts(journal: Journal) -> None:
    first = journal.start_run("apply", "ab12cd34", host="ci", user="alice")
    journal.intent(first, CREATE)
    second = journal.start_run("apply", "ef56ab78", host="ci", user="bob")
    journal.intent(second, CREATE)
    journal.result(second, "create", Outcome.succeeded())
    journal.finish_run(second, RunStatus.SUCCEEDED)
    runs = journal.runs()
    assert [(r.id, r.plan_id, r.status, r.operations, r.interrupted) for r in runs] == [
        (first, "ab12cd34", "running", 1, 1),
        (second, "ef56ab78", "succeeded", 1, 0),
    ]
    assert runs[0].unfinished and not runs[1].unfinished
    assert journal.run(second) == runs[1]
    assert journal.run(999) is None


def test_a_killed_process_leaves_an_intent_without_result(
    journal_location: JournalLocation,
) -> None:
    where = journal_location.dsn or str(journal_location.path)
    script = textwrap.dedent(
        f"""
        import os, signal
        from controller.apply import Journal, Outcome
        from controller.apply.journal import JournalLocation, journal_exists
        from tests.policy.factory import op
        journal = Journal.open(JournalLocation.parse({where!r}))
        run = journal.start_run("apply", "ab12cd34")
        journal.intent(run, op("user.create", "user:a@c.example", op_id="create"))
        journal.result(run, "create", Outcome.succeeded())
        journal.intent(run, op("group.addMember", "group:g/a", op_id="add"))
        os.kill(os.getpid(), signal.SIGKILL)  # mid-call: no result, no finish_run
        """
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=repo, check=False, timeout=60)
    assert done.returncode == -9
    with Journal.open(journal_location) as journal:
        (run,) = journal.runs()
        assert run.unfinished and run.interrupted == 1
        assert [o.op_id for o in journal.interrupted(run.id)] == ["add"]
        # A re-run is a new run; both are listed.
        rerun = journal.start_run("apply", "ab12cd34")
        journal.intent(rerun, ADD)
        journal.result(rerun, "add", Outcome.succeeded())
        journal.finish_run(rerun, RunStatus.SUCCEEDED)
        assert [r.status for r in journal.runs()] == ["running", "succeeded"]
        assert journal.interrupted(rerun) == []


def test_no_operation_parameter_is_stored(journal_location: JournalLocation) -> None:
    secret = "Tr0ub4dor&3-very-secret"
    new_user = UserCreateParams(
        body=NewUser(
            account_enabled=True,
            display_name=secret,
            mail_nickname="a",
            user_principal_name="a@c.example",
            password_profile=PasswordProfile(force_change_password_next_sign_in=True),
        )
    )
    leaky = op("user.create", "user:a@c.example", params=new_user)
    with Journal.open(journal_location) as journal:
        run = journal.start_run("apply")
        journal.intent(run, leaky)
        journal.result(run, leaky.id, Outcome.succeeded())
    held = stored_text(journal_location)
    assert b"a@c.example" in held  # the search sees what the store holds
    assert secret.encode() not in held


def test_writers_on_several_threads(journal: Journal) -> None:
    run = journal.start_run("apply")
    ops = [op("user.create", f"user:{i}", op_id=f"op{i}") for i in range(40)]

    def work(start: int) -> None:
        for each in ops[start : start + 10]:
            journal.intent(run, each)
            journal.result(run, each.id, Outcome.succeeded())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(0, 40, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(journal.operations(run)) == 40
    assert journal.interrupted(run) == []


def test_a_missing_journal_is_not_created_when_reading(journal_location: JournalLocation) -> None:
    with pytest.raises(UsageError, match=r"no journal at|holds no tenantctl journal yet"):
        Journal.open(journal_location, create=False)
    assert not journal_exists(journal_location)
    Journal.open(journal_location).close()
    assert journal_exists(journal_location)


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("just text, not sqlite" * 100)
    with pytest.raises(UsageError, match="is not a tenantctl journal"):
        Journal.open(path)


def test_interrupted_creates_until_a_later_run_knows(journal: Journal) -> None:
    group = op("group.create", "group:tellers", op_id="group")
    first = journal.start_run("apply")
    journal.intent(first, CREATE)
    journal.intent(first, group)
    journal.intent(first, ADD)  # not a create: never evidence
    second = journal.start_run("apply")
    journal.intent(second, group)
    journal.result(second, "group", Outcome.succeeded())
    (left,) = journal.interrupted_creates()
    assert (left.run_id, left.tenant, left.kind.value, left.target) == (
        first,
        CREATE.tenant,
        "user.create",
        "user:a@c.example",
    )
    assert left.intent_at == dt.datetime(2026, 11, 26, 9, 0, 2, tzinfo=dt.UTC)

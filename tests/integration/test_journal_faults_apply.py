"""A journal write that fails stops one tenant, not the run: the operation it was recording is
reported with the journal's own message (locked, full, read-only), that tenant's later
operations are held as ``journal`` and never called, the other tenants complete, and the
result says the journal is incomplete (exit 1). A journal that cannot record the run's start
holds everything.

The fault is injected at the sqlite seam: the writes of one tenant go to a second database in
the failing condition (another process's exclusive lock, no space left, opened read-only), so
sqlite itself raises what it raises.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from controller.apply import DirectorySink, HoldReason, Journal, OutcomeStatus
from controller.apply._journal_sqlite import SqliteDatabase
from controller.apply.engine import ApplyResult
from controller.models import DesiredState
from controller.plan import ExitStatus
from controller.reconcile import apply_estate
from controller.render.apply import render_apply_json, render_apply_terminal
from controller.sandbox import Sandbox
from tests.integration.conftest import plan_against, virtual_connections, world_of
from tests.integration.test_apply_sandbox import approve_all


@contextmanager
def locked(path: Path) -> Iterator[sqlite3.Connection]:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    victim = sqlite3.connect(path, isolation_level=None)
    victim.execute("PRAGMA busy_timeout = 50")
    try:
        yield victim
    finally:
        holder.rollback()
        holder.close()
        victim.close()


@contextmanager
def full(path: Path) -> Iterator[sqlite3.Connection]:
    victim = sqlite3.connect(path, isolation_level=None)
    pages = victim.execute("PRAGMA page_count").fetchone()[0]
    victim.execute(f"PRAGMA max_page_count = {pages}")
    filler = (
        "INSERT INTO operations (run_id, op_id, tenant, kind, target, fingerprint) "
        "VALUES (0, ?, 't', 'k', 't', 'f')"
    )
    for size in (500, 50, 1):  # to the last byte of the table's last page
        for number in range(400):
            try:
                victim.execute(filler, (f"{number}-{size}-" + "p" * size,))
            except sqlite3.OperationalError:
                break
    try:
        yield victim
    finally:
        victim.close()


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    victim = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        yield victim
    finally:
        victim.close()


class OneTenantBroken:
    """The journal's connection, except that the writes about ``tenant``'s operations go to
    ``broken`` (the seam: ``SqliteDatabase.connection``)."""

    def __init__(self, real: sqlite3.Connection, broken: sqlite3.Connection, tenant: str) -> None:
        self.real, self.broken, self.tenant = real, broken, tenant

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        about = parameters[2] if sql.startswith("INSERT INTO operations") else None
        if about == self.tenant:
            return self.broken.execute(sql, parameters)
        return self.real.execute(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _apply(sandbox: Sandbox, state: DesiredState, tmp_path: Path, journal: Journal) -> ApplyResult:
    plan = plan_against(sandbox, state).plan
    approvals = approve_all(plan, dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC))

    async def run() -> ApplyResult:
        async with virtual_connections(sandbox, state) as connections:
            return await apply_estate(
                state,
                world_of(sandbox, state),
                approvals=approvals,
                journal=journal,
                sink=DirectorySink(tmp_path / "secrets"),
                connections=connections,
            )

    return asyncio.run(run())


CONDITIONS = {
    "locked": (locked, "is locked by another process"),
    "full": (full, "no space left on the device of the journal"),
    "read-only": (read_only, "cannot be written (a read-only file, directory or file system)"),
}


@pytest.mark.parametrize("problem", sorted(CONDITIONS))
def test_a_journal_fault_stops_one_tenant_and_the_others_complete(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path, problem: str
) -> None:
    condition, words = CONDITIONS[problem]
    other = tmp_path / "broken.sqlite"
    Journal.open(other).close()
    with Journal.open(tmp_path / "journal.sqlite") as journal, condition(other) as broken:
        database = journal.database
        assert isinstance(database, SqliteDatabase)
        database.connection = OneTenantBroken(database.connection, broken, "contoso")  # type: ignore[assignment]
        result = _apply(sandbox, demo_state, tmp_path, journal)

    contoso = [op for op in result.plan.operations if op.tenant == "contoso"]
    others = [op for op in result.plan.operations if op.tenant != "contoso"]
    assert contoso and others
    outcomes = result.outcomes
    assert all(outcomes[op.id].status is OutcomeStatus.HELD for op in contoso)
    journal_held = [op for op in contoso if outcomes[op.id].hold is HoldReason.JOURNAL]
    assert journal_held
    assert any(words in outcomes[op.id].detail for op in journal_held)
    assert any(outcomes[op.id].status is OutcomeStatus.SUCCEEDED for op in others)
    assert set(result.journal_problems) == {"contoso"}
    assert words in result.journal_problems["contoso"]
    assert result.exit_status is ExitStatus.ERROR
    shown = render_apply_terminal(result) + render_apply_json(result)
    assert "journal incomplete for tenant contoso" in shown
    assert '"journalComplete": false' in shown
    assert "internal error" not in shown and "not a tenantctl journal" not in shown
    # Nothing of contoso was called: its users are as the scenario made them.
    assert not [
        u
        for u in sandbox.world.tenants[contoso[0].tenant_id].users.values()
        if u.user_principal_name == "carol@contoso.com"
    ]
    assert problem  # the kind is in the message above


def test_a_journal_that_cannot_record_the_run_holds_everything(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite"
    Journal.open(path).close()
    with read_only(path) as connection:
        journal = Journal(SqliteDatabase(connection, path), lambda: dt.datetime.now(dt.UTC))
        result = _apply(sandbox, demo_state, tmp_path, journal)
    assert result.plan.operations
    assert {o.hold for o in result.outcomes.values()} == {HoldReason.JOURNAL}
    assert "" in result.journal_problems
    assert result.exit_status is ExitStatus.ERROR

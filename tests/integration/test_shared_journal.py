"""Two appliers on two "machines" (processes with their own working directory, HOME, desired
state checkout and secret sink) sharing one PostgreSQL journal through msp.yaml's
``journal.postgres.dsn``: while one applies a tenant, the other refuses that tenant at once
(naming the first's pid and host) or waits for it; the two never run the tenant at once (their
runs' times do not overlap); nothing is created twice; ``history`` on either machine shows
both runs. And a journal fault on PostgreSQL (a read-only transaction, a serialization
failure, a lost connection, raised by the real server) stops the one tenant whose write it
was, as SQLite's faults do."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from controller.apply import Journal
from controller.apply.journal import JournalLocation
from tests.integration.conftest import serving
from tests.integration.subprocess_support import environment, estate
from tests.postgres_support import PostgresServer

FABRIKAM = "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1"


def machine(root: Path, sb: object, dsn: str) -> tuple[Path, dict[str, str]]:
    """A machine's checkout of the estate (msp.yaml naming the shared journal) and its
    environment."""
    desired = estate(root, sb, {"contoso": None, "fabrikam": None})  # type: ignore[arg-type]
    msp = yaml.safe_load((desired / "msp.yaml").read_text())
    msp["spec"]["journal"] = {"postgres": {"dsn": {"env": "TENANTCTL_JOURNAL_DSN"}}}
    (desired / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
    env = {**environment(root, sb), "TENANTCTL_JOURNAL_DSN": dsn}  # type: ignore[arg-type]
    return desired, env


def tenantctl(*args: str) -> list[str]:
    return [sys.executable, "-c", "from controller.cli import main; main()", *args]


def apply(desired: Path, root: Path, *extra: str) -> list[str]:
    return tenantctl(
        "apply", "--desired", str(desired), "--approvals", str(root / "approvals"),
        "--no-interactive", *extra,
    )  # fmt: skip


def test_two_machines_never_apply_one_tenant_at_once(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = postgres.new_database()
    with serving(tmp_path / "sandbox") as sb:
        for sku in sb.world.tenants[FABRIKAM].skus.values():
            sku.units = 25  # the demo is short of licences there, on purpose
        desired_a, env_a = machine(tmp_path / "a", sb, dsn)
        desired_b, env_b = machine(tmp_path / "b", sb, dsn)
        sb.latency = 0.02
        first = subprocess.Popen(
            apply(desired_a, tmp_path / "a"),
            cwd=tmp_path / "a",
            env=env_a,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while first.poll() is None and time.monotonic() < deadline:
            if postgres.sql(dsn, "SELECT to_regclass('apply_locks')") != [(None,)] and (
                postgres.sql(dsn, f"SELECT 1 FROM apply_locks WHERE pid = {first.pid}")
            ):
                break
            time.sleep(0.02)
        assert first.poll() is None, "the first apply ended before the second could start"
        refused = subprocess.run(
            apply(desired_b, tmp_path / "b", "--tenant", "contoso"),
            cwd=tmp_path / "b",
            env=env_b,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        waiting = subprocess.Popen(
            apply(desired_b, tmp_path / "b", "--lock-timeout", "300"),
            cwd=tmp_path / "b",
            env=env_b,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first_out, first_err = first.communicate(timeout=300)
        waited_out, waited_err = waiting.communicate(timeout=300)

        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert (
            "another apply holds tenant contoso in the journal PostgreSQL tenantctl@"
            in refused.stderr
        )
        assert f"pid {first.pid} on host " in refused.stderr
        assert postgres.password not in refused.stderr + first_err + waited_err
        assert first.returncode in (0, 2), first_out + first_err
        assert waiting.returncode in (0, 2), waited_out + waited_err
        assert "0 succeeded, 0 failed" in waited_out  # machine b found the work done

        for tenant in sb.world.tenants.values():
            upns = [u.user_principal_name.lower() for u in tenant.users.values()]
            assert len(upns) == len(set(upns)), tenant.name

    with Journal.open(JournalLocation(dsn=dsn), create=False) as journal:
        runs = journal.runs()
    assert len(runs) == 2  # the refused one never started a run
    one, two = runs
    assert one.finished_at is not None and two.finished_at is not None
    assert one.finished_at <= two.started_at  # one after the other, never at once
    history = subprocess.run(
        tenantctl("history", "--desired", str(desired_a), "-q"),
        cwd=tmp_path / "a",
        env=env_a,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert history.stdout.split() == [str(one.id), str(two.id)], history.stderr


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            "RAISE EXCEPTION 'cannot execute INSERT in a read-only transaction' "
            "USING ERRCODE = '25006'",
            "cannot be written: a read-only transaction",
        ),
        (
            "RAISE EXCEPTION 'could not serialize access due to concurrent update' "
            "USING ERRCODE = '40001'",
            "is locked: a concurrent transaction conflicted (serialization failure)",
        ),
        (
            "PERFORM pg_terminate_backend(pg_backend_pid())",
            "could not be reached while recording the intent of",
        ),
    ],
    ids=["read-only", "serialization", "connection-lost"],
)
def test_a_postgres_fault_stops_one_tenant_and_the_others_complete(
    postgres: PostgresServer,
    tmp_path: Path,
    statement: str,
    words: str,
) -> None:
    """The server itself fails contoso's operation writes (a trigger raising what a standby, a
    serialization conflict or a terminated session raises); fabrikam's go through."""
    from controller.apply import OutcomeStatus
    from controller.loader import load_desired
    from controller.plan import ExitStatus
    from controller.sandbox import Sandbox, default_scenario
    from tests.integration.test_journal_faults_apply import _apply

    dsn = postgres.new_database()
    Journal.open(JournalLocation(dsn=dsn)).close()
    postgres.sql(
        dsn,
        "CREATE FUNCTION fail_contoso() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{statement}; RETURN NEW; END $$",
    )
    postgres.sql(
        dsn,
        "CREATE TRIGGER fail_contoso BEFORE INSERT ON operations FOR EACH ROW "
        "WHEN (NEW.tenant = 'contoso') EXECUTE FUNCTION fail_contoso()",
    )
    state = load_desired(Path(__file__).resolve().parents[2] / "desired")
    with (
        Sandbox(default_scenario(), state_dir=tmp_path / "sandbox") as sandbox,
        Journal.open(JournalLocation(dsn=dsn)) as journal,
    ):
        for sku in sandbox.world.tenants[FABRIKAM].skus.values():
            sku.units = 25
        result = _apply(sandbox, state, tmp_path, journal)
    contoso = [op for op in result.plan.operations if op.tenant == "contoso"]
    others = [op for op in result.plan.operations if op.tenant != "contoso"]
    assert contoso and others
    assert all(result.outcomes[op.id].status is OutcomeStatus.HELD for op in contoso)
    assert set(result.journal_problems) == {"contoso"}
    assert words in result.journal_problems["contoso"], result.journal_problems
    assert any(result.outcomes[op.id].status is OutcomeStatus.SUCCEEDED for op in others)
    assert result.exit_status is ExitStatus.ERROR

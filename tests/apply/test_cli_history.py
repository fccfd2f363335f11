"""``tenantctl history`` through click's runner: the run list (with interrupted counts), one
run's operations (INTERRUPTED marked, holds and failures explained), JSON, and the messages
for a missing journal or an unknown run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from controller.apply import Journal, Outcome, RunStatus
from controller.apply.journal import JournalLocation
from controller.cli import cli
from controller.errors import BadRequest
from tests.apply.test_journal import ADD, CREATE, FakeClock


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["history", *args])


def two_runs(path: Path | JournalLocation) -> None:
    """A run killed during ``add``, then a re-run that finished it."""
    with Journal.open(path, clock=FakeClock()) as journal:
        first = journal.start_run("apply", "ab12cd34" + "0" * 56, host="ci", user="alice")
        journal.intent(first, CREATE, approval="approvals/a.json")
        journal.result(first, CREATE.id, Outcome.succeeded(duration_ms=120, request_id="r1"))
        journal.intent(first, ADD)
        second = journal.start_run("apply", "ef56ab78" + "0" * 56, host="ci", user="alice")
        journal.intent(second, ADD)
        journal.result(second, ADD.id, Outcome.failed("graph, HTTP 400: nope", duration_ms=8))
        journal.finish_run(second, RunStatus.FAILED)


def test_lists_runs(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    two_runs(path)
    result = run("--journal", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "RUN  STARTED               FINISHED              STATUS      COMMAND  PLAN      BY        OPERATIONS",
        "1    2026-11-26T09:00:01Z  -                     unfinished  apply    ab12cd34  alice@ci  2 (1 interrupted)",
        "2    2026-11-26T09:00:05Z  2026-11-26T09:00:08Z  failed      apply    ef56ab78  alice@ci  1",
    ]


def test_shows_a_runs_operations_with_the_interrupted_one_marked(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    two_runs(path)
    result = run("--journal", str(path), "--run", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "run 1: apply, plan ab12cd34, by alice@ci, started 2026-11-26T09:00:01Z, unfinished",
        "STATUS       TENANT   KIND             TARGET            FINGERPRINT   DURATION  DETAIL",
        f"succeeded    contoso  user.create      user:a@c.example  {CREATE.fingerprint[:12]}  120ms     request id r1; approved in approvals/a.json",
        f"INTERRUPTED  contoso  group.addMember  group:g/a         {ADD.fingerprint[:12]}  -         started 2026-11-26T09:00:04Z, no result",
        "1 interrupted: the run stopped during the call; re-run apply to converge (it observes "
        "the tenant again)",
    ]


def test_a_failed_operation_shows_its_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    two_runs(path)
    result = run("--journal", str(path), "--run", "2")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2].endswith("8ms       graph, HTTP 400: nope")
    assert "INTERRUPTED" not in result.stdout


def test_json(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    two_runs(path)
    runs = json.loads(run("--journal", str(path), "--format", "json").stdout)["runs"]
    assert [(r["id"], r["status"], r["interrupted"]) for r in runs] == [
        (1, "running", 1),
        (2, "failed", 0),
    ]
    one = json.loads(run("--journal", str(path), "--run", "1", "--format", "json").stdout)
    assert [(o["opId"], o["interrupted"]) for o in one["operations"]] == [
        ("create", False),
        ("add", True),
    ]


def test_no_journal_yet(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    result = run("--journal", str(path))
    assert result.exit_code == 0
    assert result.stdout == f"no runs recorded (no journal at {path})\n"
    assert not path.exists()
    assert json.loads(run("--journal", str(path), "--format", "json").stdout) == {"runs": []}


def test_an_unknown_run(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    two_runs(path)
    result = run("--journal", str(path), "--run", "7")
    assert result.exit_code == 64
    assert result.stderr == f"error: no run 7 in {path}; `tenantctl history` lists them\n"


def test_a_file_that_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_text("not a database" * 200)
    result = run("--journal", str(path))
    assert result.exit_code == 64
    assert result.stderr.startswith(f"error: {path} is not a tenantctl journal")


def test_a_service_errors_request_id_is_shown_once(tmp_path: Path) -> None:
    """A service error names its request id in its message; the detail does not add it again."""
    path = tmp_path / "journal.sqlite"
    error = BadRequest(
        "Subscription has no available licenses",
        service="graph",
        status=400,
        code="Request_BadRequest",
        request_id="69e2151c-5221-4885-8882-4b6b71d523f0",
    )
    with Journal.open(path, clock=FakeClock()) as journal:
        run_id = journal.start_run("apply", "ab12cd34" + "0" * 56)
        journal.intent(run_id, CREATE)
        journal.result(run_id, CREATE.id, Outcome.failed(error, duration_ms=38))
    shown = run("--journal", str(path), "--run", "1").stdout
    assert shown.count("69e2151c-5221-4885-8882-4b6b71d523f0") == 1
    assert "(request id 69e2151c-5221-4885-8882-4b6b71d523f0)" in shown


def test_quiet_prints_the_run_ids_or_a_runs_status(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    two_runs(path)
    assert run("--journal", str(path), "-q").stdout == "1\n2\n"
    assert run("--journal", str(path), "--run", "2", "-q").stdout == "failed\n"
    assert run("--journal", str(path), "--run", "1", "-q").stdout == "unfinished\n"

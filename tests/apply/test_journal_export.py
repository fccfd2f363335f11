"""``tenantctl journal export`` and ``history`` over either store: JSON Lines for a SIEM (each
run, then its operations, camelCase, every line valid against
schemas/journal-export.schema.json), ``--since``, ``history`` reading a PostgreSQL journal, and
msp.yaml's ``journal.postgres.dsn`` found without ``--journal``; no DSN password in any output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from click.testing import CliRunner, Result

from controller.apply.journal import JournalLocation
from controller.cli import cli
from tests.apply.test_cli_history import two_runs
from tests.postgres_support import PostgresServer

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "journal-export.schema.json").read_text())


def where(location: JournalLocation) -> str:
    return location.dsn or str(location.path)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def test_export_writes_one_line_per_run_and_operation(journal_location: JournalLocation) -> None:
    two_runs(journal_location)
    result = invoke("journal", "export", "--journal", where(journal_location))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMA)
    assert [(x["record"], x.get("id") or x.get("opId")) for x in lines] == [
        ("run", 1),
        ("operation", "create"),
        ("operation", "add"),
        ("run", 2),
        ("operation", "add"),
    ]
    first_run, create = lines[0], lines[1]
    assert first_run["journal"] == journal_location.describe()
    assert (first_run["user"], first_run["host"], first_run["status"]) == ("alice", "ci", "running")
    assert (create["runId"], create["status"], create["approval"]) == (
        1,
        "succeeded",
        "approvals/a.json",
    )
    assert lines[2]["interrupted"] is True
    if journal_location.dsn is not None:
        password = journal_location.dsn.split(":")[2].split("@")[0]
        assert password not in result.output


def test_since_keeps_the_later_runs(journal_location: JournalLocation) -> None:
    two_runs(journal_location)  # the fake clock starts runs at 09:00:01 and 09:00:05
    result = invoke(
        "journal", "export", "--journal", where(journal_location), "--since", "2026-11-26T09:00:03Z"
    )
    runs = [json.loads(x) for x in result.stdout.splitlines() if '"record":"run"' in x]
    assert [r["id"] for r in runs] == [2]
    assert invoke("journal", "export", "--since", "yesterday").exit_code == 64


def test_history_reads_a_postgresql_journal(postgres: PostgresServer) -> None:
    location = JournalLocation(dsn=postgres.new_database())
    two_runs(location)
    result = invoke("history", "--journal", where(location))
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["RUN", "1", "2"]
    shown = invoke("history", "--journal", where(location), "--run", "1")
    assert "INTERRUPTED" in shown.stdout
    assert postgres.password not in shown.output + result.output


def test_msp_yaml_names_the_shared_journal(postgres: PostgresServer, tmp_path: Path) -> None:
    dsn = postgres.new_database()
    two_runs(JournalLocation(dsn=dsn))
    desired = tmp_path / "desired"
    desired.mkdir()
    msp = yaml.safe_load((REPO / "desired" / "msp.yaml").read_text())
    msp["spec"]["journal"] = {"postgres": {"dsn": {"env": "TEST_JOURNAL_DSN"}}}
    (desired / "msp.yaml").write_text(yaml.safe_dump(msp))
    result = invoke("history", "--desired", str(desired), "-q", env={"TEST_JOURNAL_DSN": dsn})
    assert (result.exit_code, result.stdout) == (0, "1\n2\n")
    exported = invoke("journal", "export", "--desired", str(desired), env={"TEST_JOURNAL_DSN": dsn})
    assert len(exported.stdout.splitlines()) == 5
    missing = invoke("history", "--desired", str(desired), env={"TEST_JOURNAL_DSN": ""})
    assert missing.exit_code == 1
    assert "env:TEST_JOURNAL_DSN" in missing.stderr


def test_a_dsn_that_does_not_parse_is_a_usage_error() -> None:
    result = invoke("history", "--journal", "postgresql://u:p@[bad/x")
    assert result.exit_code == 64
    assert "cannot be parsed" in result.stderr

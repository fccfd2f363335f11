"""``tenantctl controller`` on the command line: bad durations, jitter and addresses are usage
errors (64) before anything starts; ``--once --sandbox`` runs one cycle over the demo estate,
journals it as a ``controller`` run and exits with apply's status (2: work is held)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.apply import Journal
from controller.cli import cli

DESIRED = Path(__file__).resolve().parents[2] / "desired"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0s"], "--interval"),
        (["--refresh", "soon"], "--refresh"),
        (["--jitter", "90%"], "--jitter"),
        (["--listen", "example.com:80"], "--listen"),
        (["--shard", "3/2"], "shard 3/2 does not exist"),
        (["--branch", "--upload-pack=x", "--git-url", "https://example.com/e.git"], "--branch"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["controller", "--desired", str(tmp_path / "desired"), "--once", *args]
    )
    assert result.exit_code == 64, result.output
    assert message in result.stderr


@pytest.mark.integration
def test_once_runs_one_cycle_and_exits_with_applys_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TENANTCTL_HOME", raising=False)
    shutil.copytree(DESIRED, tmp_path / "desired")
    result = CliRunner().invoke(
        cli, ["controller", "--desired", str(tmp_path / "desired"), "--sandbox", "--once"]
    )
    assert result.exit_code == 2, result.output  # operations held for approval
    with Journal.open(tmp_path / ".tenantctl" / "journal.sqlite", create=False) as journal:
        [run] = journal.runs()
    assert run.command == "controller" and run.finished_at is not None

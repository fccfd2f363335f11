"""State is anchored to the desired-state repository (the parent of --desired, or
$TENANTCTL_HOME), never to the directory a command runs in: the sandbox, the journal and
approval records of one estate are the same wherever tenantctl is started."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import cli
from controller.state_paths import StatePaths

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def test_the_repository_is_the_parent_of_desired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENANTCTL_HOME", raising=False)
    assert StatePaths.of(Path("desired")).journal == Path(".tenantctl/journal.sqlite")
    assert StatePaths.of(tmp_path / "desired").sandbox == tmp_path / ".tenantctl" / "sandbox"
    monkeypatch.chdir(tmp_path / ".")
    assert StatePaths.of(Path(".")).approvals == tmp_path.parent / "approvals"
    monkeypatch.setenv("TENANTCTL_HOME", str(tmp_path / "home"))
    assert StatePaths.of(Path("desired")).journal == tmp_path / "home/.tenantctl/journal.sqlite"


def test_a_run_from_another_directory_uses_the_repositorys_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENANTCTL_HOME", raising=False)
    repo = tmp_path / "estate"
    shutil.copytree(DESIRED, repo / "desired")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    args = ["--sandbox", "--desired", str(repo / "desired"), "--tenant", "contoso", "-q"]
    result = CliRunner().invoke(cli, ["plan", *args])
    assert result.exit_code in (0, 2), result.output
    assert (repo / ".tenantctl" / "sandbox").is_dir()
    assert not (elsewhere / ".tenantctl").exists()
    history = CliRunner().invoke(cli, ["history", "--desired", str(repo / "desired")])
    assert history.stdout == (
        f"no runs recorded (no journal at {repo / '.tenantctl' / 'journal.sqlite'})\n"
    )

    monkeypatch.setenv("TENANTCTL_HOME", str(tmp_path / "home"))
    CliRunner().invoke(cli, ["sandbox", "reset", "--desired", str(repo / "desired")])
    assert (tmp_path / "home" / ".tenantctl" / "sandbox").is_dir()

"""Interactive apply on a terminal: the plan is shown, one question is asked, and a yes is
recorded as an approval by the local user; a no runs only what policy allows."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from controller.cli import cli
from tests.integration.conftest import DESIRED


def _apply(tmp_path: Path, answer: str) -> tuple[int, str, dict[str, object]]:
    result = CliRunner().invoke(
        cli,
        [
            "apply",
            "--desired",
            str(DESIRED),
            "--sandbox",
            "--sandbox-state",
            str(tmp_path / "sb"),
            "--approvals",
            str(tmp_path / "approvals"),
            "--journal",
            str(tmp_path / "j.sqlite"),
            "--out",
            str(tmp_path / "result.json"),
            "--tenant",
            "woodgrove",
            "--interactive",
        ],
        input=answer,
        env={"HOME": str(tmp_path / "home")},
    )
    return result.exit_code, result.output, json.loads((tmp_path / "result.json").read_text())


def test_yes_approves_as_the_local_user(tmp_path: Path) -> None:
    code, output, result = _apply(tmp_path, "y\n")
    assert code == 2, output  # the manual step is left for a person
    assert "that need approval" in output
    statuses = {op["kind"]: op["status"] for op in result["operations"]}  # type: ignore[index]
    assert statuses["group.delete"] == "succeeded"
    assert statuses["exchange.assignRole"] == "held"  # a manual step stays a manual step
    (record,) = (tmp_path / "approvals").iterdir()
    assert json.loads(record.read_text())["reason"] == "approved interactively at the terminal"


def test_no_runs_only_what_policy_allows(tmp_path: Path) -> None:
    code, output, result = _apply(tmp_path, "n\n")
    assert code == 2, output  # what was not approved is held
    by_kind: dict[str, set[str]] = {}
    for op in result["operations"]:  # type: ignore[union-attr]
        by_kind.setdefault(op["status"], set()).add(op["kind"])
    # Only policy-allowed kinds may run; here they wait for the unapproved group.create.
    assert by_kind.get("succeeded", set()) <= {"group.addMember"}
    assert {"group.delete", "group.create", "user.enable", "group.addMember"} <= by_kind["held"]
    assert not (tmp_path / "approvals").exists() or not list((tmp_path / "approvals").iterdir())

"""Approvals are judged in operator time, plans in service time: with --sandbox the sandbox's
virtual clock stays at its scenario's epoch (2026-11-26) while `approve` stamps the wall
clock, so `apply` reads approvals with the same (injectable) wall clock as `approve`. An
approval made "in 2031" is honoured when the operator's clock says 2031, and refused as dated
in the future when it says 2026."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import approve as approve_module
from controller.cli import cli
from controller.reconcile import _apply as apply_module
from tests.integration.conftest import DESIRED

OPERATOR_NOW = dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def test_apply_judges_approvals_by_the_operator_clock_not_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    state = ["--desired", str(DESIRED), "--sandbox", "--sandbox-state", str(tmp_path / "sb")]
    plan_file, approvals = tmp_path / "plan.json", tmp_path / "approvals"
    planned = runner.invoke(cli, ["plan", *state, "--tenant", "contoso", "--out", str(plan_file)])
    assert planned.exit_code == 2, planned.output
    monkeypatch.setattr(approve_module, "_now", lambda: OPERATOR_NOW)
    approved = runner.invoke(
        cli, ["approve", str(plan_file), "--by", "Dana", "--approvals", str(approvals)]
    )
    assert approved.exit_code == 0, approved.output

    apply_args = ["apply", *state, "--tenant", "contoso", "--approvals", str(approvals)]
    apply_args += ["--journal", str(tmp_path / "journal.sqlite"), "--no-interactive"]
    monkeypatch.setattr(
        apply_module, "operator_now", lambda: dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    )
    early = runner.invoke(cli, apply_args)
    assert early.exit_code == 1
    assert "approved_at 2031-03-04T05:06:07Z is in the future" in early.stderr

    monkeypatch.setattr(apply_module, "operator_now", lambda: OPERATOR_NOW + dt.timedelta(hours=1))
    applied = runner.invoke(cli, apply_args)
    assert applied.exit_code == 0, applied.output
    assert ", 0 held" in applied.stdout

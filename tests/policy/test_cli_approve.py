"""``tenantctl approve`` through click's runner: what it prints, where the record goes, and
the exit status and one-line error for a missing, corrupt or edited plan, an unknown
fingerprint and a plan with nothing to approve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli import approve as approve_module
from controller.cli import cli
from controller.models import Policy
from controller.policy import decide
from tests.policy.factory import op, plan, tenant
from tests.policy.test_approvals import NOW, decided_plan, fp, write_plan


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(approve_module, "_now", lambda: NOW)
    # The plans here are built by hand with readable ids; checking a plan file against the
    # planner's content hash is tested on real plans in test_plan_tampering.py.
    monkeypatch.setattr(approve_module, "plan_id_of", lambda plan: plan.plan_id)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["approve", *args])


def test_approve_prints_what_was_approved_and_where(tmp_path: Path) -> None:
    plan_path = write_plan(tmp_path)
    approvals = tmp_path / "approvals"
    result = run(str(plan_path), "--by", "alice", "--approvals", str(approvals))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "approved 2 operations of plan ab12cd34 by alice, until 2026-12-03T10:30:15Z",
        f"  contoso   user.create  user:alice@contoso.example  {fp('user:alice@contoso.example')}",
        f"  fabrikam  user.update  user:bob@fabrikam.example   {fp('user:bob@fabrikam.example')}",
        f"record: {approvals / '2026-11-26-alice-ab12cd34.json'}",
    ]
    assert "commit the record" in result.stderr


def test_only_expires_and_reason(tmp_path: Path) -> None:
    plan_path = write_plan(tmp_path)
    approvals = tmp_path / "approvals"
    bob = fp("user:bob@fabrikam.example")
    result = run(
        str(plan_path),
        "--by", "alice",
        "--only", bob[:12],
        "--expires", "12h",
        "--reason", "ticket 4711",
        "--approvals", str(approvals),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "approved 1 operation of plan ab12cd34 by alice, until 2026-11-26T22:30:15Z",
        f"  fabrikam  user.update  user:bob@fabrikam.example  {bob}",
    ]
    (record,) = approvals.iterdir()
    data = json.loads(record.read_text())
    assert data["reason"] == "ticket 4711"
    assert [a["fingerprint"] for a in data["operations"]] == [bob]


def _fails_with(result: Result, message: str, code: int = 64) -> None:
    """A usage error (the plan file or an argument) exits 64; an untrustworthy plan exits 1."""
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_plan(tmp_path: Path) -> None:
    missing = tmp_path / "plan.json"
    _fails_with(run(str(missing), "--by", "alice"), f"plan file {missing} not found")


def test_a_corrupt_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"format_version": 1, "plan_id": ')
    result = run(str(path), "--by", "alice", "--approvals", str(tmp_path / "a"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path} is not JSON (")
    assert not (tmp_path / "a").exists()


def test_a_plan_of_the_old_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """Plan files before the camelCase contract (format version 1) are made again, not read."""
    path = write_plan(tmp_path)
    data = json.loads(path.read_text())
    old = {"format_version": 1, "plan_id": data["planId"], "created_at": data["createdAt"]}
    path.write_text(json.dumps({**old, "tenants": data["tenants"]}))
    _fails_with(
        run(str(path), "--by", "alice", "--approvals", str(tmp_path / "a")),
        f"{path} is a plan of format version 1 written by an older tenantctl; this one "
        "approves format version 2 only: re-create it with `tenantctl plan --out`",
        code=1,
    )


def test_a_tampered_plan(tmp_path: Path) -> None:
    path = write_plan(tmp_path)
    data = json.loads(path.read_text())
    data["tenants"][0]["operations"][0]["dependsOn"] = ["nowhere"]
    path.write_text(json.dumps(data))
    _fails_with(
        run(str(path), "--by", "alice", "--approvals", str(tmp_path / "a")),
        f"{path} was edited after `tenantctl plan` wrote it: operation c1 depends on nowhere, "
        "which the plan does not hold; re-create it with `tenantctl plan --out`",
        code=1,
    )


def test_an_unknown_fingerprint(tmp_path: Path) -> None:
    path = write_plan(tmp_path)
    _fails_with(
        run(str(path), "--by", "alice", "--only", "0123456789", "--approvals", str(tmp_path)),
        "fingerprint 0123456789 is not in plan ab12cd34",
    )


def test_nothing_to_approve(tmp_path: Path) -> None:
    allowed = decide(
        plan(tenant("contoso", op("group.addMember", "g")), plan_id="f" * 64),
        Policy.model_validate({"default": "allow"}),
        {},
    )
    path = write_plan(tmp_path, allowed)
    _fails_with(
        run(str(path), "--by", "alice", "--approvals", str(tmp_path)),
        f"nothing to approve in plan {allowed.plan_id[:8]}: every operation is allowed by "
        "policy, denied, "
        "or a manual step",
    )


def test_a_bad_duration(tmp_path: Path) -> None:
    path = write_plan(tmp_path, decided_plan())
    _fails_with(
        run(str(path), "--by", "alice", "--expires", "1w"),
        "'1w' is not a duration; use a positive whole number with d, h or m (e.g. 7d, 12h, 30m)",
    )


def test_approving_needs_no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TENANTCTL_CLIENT_SECRET", "CIPP_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    path = write_plan(tmp_path)
    assert run(str(path), "--by", "a", "--approvals", str(tmp_path / "a")).exit_code == 0

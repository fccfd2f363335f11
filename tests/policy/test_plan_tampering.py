"""approve refuses a plan file edited after `tenantctl plan` wrote it, using the planner's own
content hash (a plan with policy decisions filled in still verifies)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from controller.cli import cli
from controller.models import Policy
from controller.plan import plan_estate
from controller.plan.planner import plan_id_of
from controller.policy import decide
from controller.render import render_json
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed


def _demo_plan_file(tmp_path: Path) -> Path:
    state = demo_desired()
    plan = plan_estate(state, demo_observed(state), demo_context(state))
    plan = decide(
        plan, state.msp.spec.policy, {t.metadata.name: t.spec.policy for t in state.tenants}
    )
    assert plan_id_of(plan) == plan.plan_id
    path = tmp_path / "plan.json"
    path.write_text(render_json(plan))
    return path


def test_an_untouched_plan_is_approved(tmp_path: Path) -> None:
    plan = _demo_plan_file(tmp_path)
    result = CliRunner().invoke(
        cli, ["approve", str(plan), "--by", "Dana", "--approvals", str(tmp_path / "a")]
    )
    assert result.exit_code == 0, result.output


def test_an_edited_target_is_refused(tmp_path: Path) -> None:
    plan = _demo_plan_file(tmp_path)
    document = json.loads(plan.read_text())
    operation = document["tenants"][1]["operations"][0]
    operation["target"] = "user:mallory@contoso.com"
    plan.write_text(json.dumps(document))
    result = CliRunner().invoke(
        cli, ["approve", str(plan), "--by", "Dana", "--approvals", str(tmp_path / "a")]
    )
    assert result.exit_code == 1
    assert "was edited after `tenantctl plan` wrote it" in result.output
    assert not (tmp_path / "a").exists() or not list((tmp_path / "a").iterdir())


def _denying_plan_file(tmp_path: Path) -> Path:
    state = demo_desired()
    plan = plan_estate(state, demo_observed(state), demo_context(state))
    plan = decide(plan, Policy.model_validate({"kinds": {"user.create": "deny"}}), {})
    path = tmp_path / "plan.json"
    path.write_text(render_json(plan))
    return path


def test_a_decision_edited_from_deny_to_approve_is_refused(tmp_path: Path) -> None:
    """The README says an edited plan is refused; the decisions a reviewer reads are part of
    what the plan id covers."""
    plan = _denying_plan_file(tmp_path)
    document = json.loads(plan.read_text())
    denied = [op for t in document["tenants"] for op in t["operations"] if op["decision"] == "deny"]
    assert denied
    for op in denied:
        op["decision"] = "approve"
        op["decisionReason"] = "msp.yaml spec.policy.kinds['user.create'] = approve"
    plan.write_text(json.dumps(document))
    result = CliRunner().invoke(
        cli, ["approve", str(plan), "--by", "Dana", "--approvals", str(tmp_path / "a")]
    )
    assert result.exit_code == 1
    assert "its planId does not match its content" in result.output
    assert not (tmp_path / "a").exists()


def test_guard_violations_removed_by_hand_are_refused(tmp_path: Path) -> None:
    state = demo_desired()
    plan = plan_estate(state, demo_observed(state), demo_context(state))
    strict = Policy.model_validate({"guards": {"maxMemberRemovals": 0, "maxDeletions": 0}})
    plan = decide(plan, strict, {})
    assert any(t.guard_violations for t in plan.tenants)
    document = json.loads(render_json(plan))
    for tenant in document["tenants"]:
        tenant["guardViolations"] = []
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(
        cli, ["approve", str(path), "--by", "Dana", "--approvals", str(tmp_path / "a")]
    )
    assert result.exit_code == 1
    assert "its planId does not match its content" in result.output

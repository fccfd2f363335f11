"""The gate before apply: what may execute and why everything else is held (pending
approval, expired approval, stale fingerprint, denied, manual, guard), dependency blocking
(direct, transitive, unknown, cycles), and the Outcome value's constructors and invariants."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.apply import PROPAGATION_DETAIL, HoldReason, Outcome, OutcomeStatus, gate
from controller.errors import PropagationPending, Throttled
from controller.models import Policy, PolicyRules
from controller.plan.types import Backend, Operation, Plan
from controller.policy import ApprovalSet, StoredApproval, build_approval, decide
from tests.policy.factory import op, plan, tenant

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def approval_of(
    approved_plan: Plan, *fingerprints: str, name: str = "a.json", by: str = "alice"
) -> StoredApproval:
    record = build_approval(
        approved_plan,
        "sha256:" + "0" * 64,
        by=by,
        only=list(fingerprints),
        expires=dt.timedelta(days=7),
        reason=None,
        now=NOW,
    )
    return StoredApproval(Path("approvals") / name, record)


def decided(*operations: Operation, policy: Policy | None = None) -> Plan:
    return decide(plan(tenant("contoso", *operations)), policy or Policy(), {})


CREATE = op("user.create", "user:a@c.example", op_id="create")
ADD = op("group.addMember", "group:g/a", op_id="add", depends_on=("create",))
LICENCE = op("user.assignLicenses", "user:a@c.example", op_id="lic", depends_on=("add",))


def test_without_approval_everything_is_pending() -> None:
    the_plan = decided(CREATE)
    outcome = gate(the_plan, ApprovalSet())["create"]
    assert outcome == Outcome.held(
        HoldReason.PENDING_APPROVAL,
        f"needs approval: tenantctl approve PLAN --only {CREATE.fingerprint[:12]}",
    )


def test_an_approved_fingerprint_may_execute() -> None:
    the_plan = decided(CREATE)
    approvals = ApprovalSet(active=(approval_of(the_plan, CREATE.fingerprint),))
    assert gate(the_plan, approvals) == {"create": None}


def test_allowed_operations_need_no_approval() -> None:
    the_plan = decided(CREATE, policy=Policy.model_validate({"kinds": {"user.*": "allow"}}))
    assert gate(the_plan, ApprovalSet()) == {"create": None}


def test_an_undecided_operation_needs_approval() -> None:
    undecided = plan(tenant("contoso", CREATE))
    held = gate(undecided, ApprovalSet())["create"]
    assert held is not None and held.hold is HoldReason.PENDING_APPROVAL


def test_an_expired_approval_is_pending_and_says_so() -> None:
    the_plan = decided(CREATE)
    approvals = ApprovalSet(expired=(approval_of(the_plan, CREATE.fingerprint, name="old.json"),))
    held = gate(the_plan, approvals)["create"]
    assert held is not None
    assert held.hold is HoldReason.PENDING_APPROVAL
    assert held.detail.startswith(
        "the approval by alice (old.json) expired at 2026-12-03T09:00:00Z; approve again"
    )


def test_a_changed_tenant_makes_the_approval_stale() -> None:
    approved_plan = decided(CREATE)
    approvals = ApprovalSet(active=(approval_of(approved_plan, CREATE.fingerprint),))
    # Same tenant, kind and target; the observed values differ, so the fingerprint does too.
    changed = op("user.create", "user:a@c.example", op_id="create", observed="renamed")
    assert changed.fingerprint != CREATE.fingerprint
    held = gate(decided(changed), approvals)["create"]
    assert held == Outcome.held(
        HoldReason.STALE,
        f"alice approved fingerprint {CREATE.fingerprint[:12]} (a.json), but the tenant "
        f"changed since and it is now {changed.fingerprint[:12]}; review the new plan and "
        "approve again",
    )


def test_denied_operations_are_held_naming_the_rule() -> None:
    the_plan = decided(CREATE, policy=Policy.model_validate({"kinds": {"user.create": "deny"}}))
    # Even an approval cannot override a deny.
    approvals = ApprovalSet(active=(approval_of(decided(CREATE), CREATE.fingerprint),))
    assert gate(the_plan, approvals)["create"] == Outcome.held(
        HoldReason.DENIED, "denied by msp.yaml spec.policy.kinds['user.create'] = deny"
    )


def test_manual_steps_are_held_as_manual() -> None:
    consent = op("consent.grant", "tenant:contoso", op_id="consent", backend=Backend.MANUAL)
    held = gate(decided(consent), ApprovalSet())["consent"]
    assert held == Outcome.held(HoldReason.MANUAL, "a person must do this: do it")


def test_a_guard_violation_holds_every_operation_of_that_tenant_only() -> None:
    deletes = [op("user.delete", f"user:{i}", tenant="woodgrove") for i in range(2)]
    other = op("user.create", "user:new", tenant="woodgrove", op_id="w-create")
    the_plan = decide(
        plan(tenant("woodgrove", *deletes, other), tenant("contoso", CREATE)),
        Policy.model_validate({"default": "allow"}),
        {"woodgrove": PolicyRules.model_validate({"guards": {"maxDeletions": 1}})},
    )
    outcomes = gate(the_plan, ApprovalSet())
    held = outcomes["w-create"]
    assert held is not None and held.hold is HoldReason.GUARD
    assert held.detail.startswith("2 deletions planned, guard maxDeletions is 1")
    assert outcomes["create"] is None


def test_dependents_of_a_held_operation_are_blocked_transitively() -> None:
    the_plan = decided(CREATE, ADD, LICENCE)
    approvals = ApprovalSet(active=(approval_of(the_plan, ADD.fingerprint, LICENCE.fingerprint),))
    outcomes = gate(the_plan, approvals)
    assert outcomes["create"] is not None
    assert outcomes["create"].hold is HoldReason.PENDING_APPROVAL
    assert outcomes["add"] == Outcome.held(
        HoldReason.BLOCKED, "waits for user.create user:a@c.example (pending-approval)"
    )
    assert outcomes["lic"] == Outcome.held(
        HoldReason.BLOCKED, "waits for group.addMember group:g/a (blocked)"
    )


def test_an_operation_keeps_its_own_hold_over_blocked() -> None:
    outcomes = gate(decided(CREATE, ADD), ApprovalSet())
    assert outcomes["add"] is not None
    assert outcomes["add"].hold is HoldReason.PENDING_APPROVAL


def test_all_approved_in_dependency_chain_all_execute() -> None:
    the_plan = decided(LICENCE, ADD, CREATE)
    fingerprints = [o.fingerprint for o in the_plan.operations]
    approvals = ApprovalSet(active=(approval_of(the_plan, *fingerprints),))
    assert gate(the_plan, approvals) == {"lic": None, "add": None, "create": None}


def test_unknown_dependencies_and_cycles_block() -> None:
    allow = Policy.model_validate({"default": "allow"})
    a = op("user.create", "a", op_id="a", depends_on=("b",))
    b = op("user.create", "b", op_id="b", depends_on=("a",))
    orphan = op("user.create", "c", op_id="c", depends_on=("ghost",))
    outcomes = gate(decided(a, b, orphan, policy=allow), ApprovalSet())
    assert {k: v.hold if v else None for k, v in outcomes.items()} == {
        "a": HoldReason.BLOCKED,
        "b": HoldReason.BLOCKED,
        "c": HoldReason.BLOCKED,
    }
    assert outcomes["c"] is not None
    assert outcomes["c"].detail == "waits for ghost, which the plan does not hold"


# --- the Outcome value -------------------------------------------------------------------


def test_failed_takes_the_request_id_and_message_from_the_error() -> None:
    error = Throttled("slow down", service="graph", status=429, request_id="req-1")
    outcome = Outcome.failed(error, duration_ms=12)
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.error == "graph, HTTP 429: slow down (request id req-1)"
    assert outcome.request_id == "req-1"
    assert not outcome.lets_dependents_run


def test_propagating_is_a_hold_not_a_failure() -> None:
    error = PropagationPending("role not yet effective", service="exchange", request_id="r2")
    outcome = Outcome.propagating(error)
    assert outcome.status is OutcomeStatus.HELD
    assert outcome.hold is HoldReason.PROPAGATING
    assert outcome.detail == PROPAGATION_DETAIL
    assert "30 minutes to 2 hours; re-run later" in outcome.detail
    assert outcome.request_id == "r2"


def test_blocked_by_a_failure_at_run_time() -> None:
    outcome = Outcome.blocked(CREATE, Outcome.failed("boom"))
    assert outcome.detail == "waits for user.create user:a@c.example (failed)"


def test_succeeded_and_skipped_let_dependents_run() -> None:
    assert Outcome.succeeded(duration_ms=3).lets_dependents_run
    assert Outcome.skipped("already done").lets_dependents_run


def test_invariants() -> None:
    with pytest.raises(ValidationError):
        Outcome(status=OutcomeStatus.HELD)
    with pytest.raises(ValidationError):
        Outcome(status=OutcomeStatus.SUCCEEDED, hold=HoldReason.GUARD)
    with pytest.raises(ValidationError):
        Outcome(status=OutcomeStatus.SUCCEEDED, error="x")

"""apply against the sandbox: plan -> approve -> apply -> plan again converges through every
backend (Graph, Exchange direct, CIPP); faults change nothing in the final state; a one-shot
action runs once across machines; apply executes nothing unapproved and nothing stale."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from controller.apply import DirectorySink, Journal, OutcomeStatus
from controller.apply.engine import ApplyResult
from controller.models import DesiredState
from controller.plan import Backend, Plan
from controller.policy import ApprovalSet
from controller.policy.approvals import StoredApproval, build_approval
from controller.reconcile import apply_estate
from controller.sandbox import Sandbox
from tests.integration.conftest import plan_against, virtual_connections, world_of

CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
FABRIKAM = "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1"
WOODGROVE = "7c6b5a4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d"


def approve_all(plan: Plan, now: dt.datetime, by: str = "Test Reviewer") -> ApprovalSet:
    if not any(op.decision and op.decision.value == "approve" for op in plan.operations):
        return ApprovalSet()
    record = build_approval(
        plan, "sha256:test", by=by, only=None, expires=dt.timedelta(days=1), reason=None, now=now
    )
    return ApprovalSet(active=(StoredApproval(Path(f"{by}.json"), record),))


def apply_with(
    sandbox: Sandbox,
    state: DesiredState,
    approvals: ApprovalSet,
    tmp_path: Path,
    journal_name: str = "journal.sqlite",
) -> ApplyResult:
    async def run() -> ApplyResult:
        async with virtual_connections(sandbox, state) as connections:
            with Journal.open(tmp_path / journal_name) as journal:
                return await apply_estate(
                    state,
                    world_of(sandbox, state),
                    approvals=approvals,
                    journal=journal,
                    sink=DirectorySink(tmp_path / "secrets"),
                    connections=connections,
                )

    return asyncio.run(run())


def plan_approve_apply(
    sandbox: Sandbox, state: DesiredState, tmp_path: Path, journal_name: str = "journal.sqlite"
) -> ApplyResult:
    plan = plan_against(sandbox, state).plan
    now = dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC)
    return apply_with(sandbox, state, approve_all(plan, now), tmp_path, journal_name)


def executable(plan: Plan) -> list[str]:
    return [op.id for op in plan.operations if op.backend is not Backend.MANUAL]


@pytest.fixture
def enough_licences(sandbox: Sandbox) -> None:
    for sku in sandbox.world.tenants[FABRIKAM].skus.values():
        sku.units = 25


@pytest.mark.usefixtures("enough_licences")
def test_plan_approve_apply_then_plan_again_has_nothing_left(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path
) -> None:
    first = plan_approve_apply(sandbox, demo_state, tmp_path)
    assert not first.failed, {k: v.error for k, v in first.outcomes.items() if v.error}
    ran = {
        first.plan.operations[i].backend
        for i, op in enumerate(first.plan.operations)
        if first.outcomes[op.id].status is OutcomeStatus.SUCCEEDED
    }
    assert ran == {Backend.GRAPH, Backend.EXCHANGE, Backend.CIPP}
    kinds = {
        op.kind.value
        for op in first.plan.operations
        if first.outcomes[op.id].status is OutcomeStatus.SUCCEEDED
    }
    assert {
        "user.create",
        "user.update",
        "user.disable",
        "user.enable",
        "user.delete",
        "user.assignLicenses",
        "user.removeLicenses",
        "user.resetPassword",
        "group.create",
        "group.update",
        "group.delete",
        "group.addMember",
        "group.removeMember",
        "distributionGroup.create",
        "distributionGroup.delete",
        "distributionGroup.addMember",
        "distributionGroup.removeMember",
        "sharedMailbox.create",
        "sharedMailbox.update",
        "mailboxPermission.add",
        "mailboxPermission.remove",
    } <= kinds

    # CIPP's bulk consent for adatum is queued: held, not reported done.
    consent = first.outcomes["adatum/consent.grant/adatum"]
    assert (consent.status, consent.hold and consent.hold.value) == (
        OutcomeStatus.HELD,
        "propagating",
    )

    # Once CIPP's consent has taken effect, adatum's own objects are planned and applied too.
    sandbox.clock.advance(sandbox.cipp_consent_delay + 60)
    second = plan_approve_apply(sandbox, demo_state, tmp_path)
    assert not second.failed, {k: v.error for k, v in second.outcomes.items() if v.error}
    assert "adatum/user.create/henry@adatum.com" in second.outcomes

    again = plan_against(sandbox, demo_state).plan
    assert executable(again) == []
    assert sorted(op.id for op in again.operations) == [
        "tailspin/consent.grant/tailspin",
        "woodgrove/exchange.assignRole/woodgrove",
    ]


def test_nothing_runs_without_approval_and_a_changed_tenant_makes_approvals_stale(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path
) -> None:
    plan = plan_against(sandbox, demo_state).plan
    now = dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC)
    approvals = approve_all(plan, now)
    # Someone changes alice in the portal after the plan was approved.
    alice = next(
        u
        for u in sandbox.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "alice@contoso.com"
    )
    alice.job_title = "Head of Sales"

    unapproved = apply_with(sandbox, demo_state, ApprovalSet(), tmp_path, "a.sqlite")
    ran = unapproved.of(OutcomeStatus.SUCCEEDED)
    assert ran and all(
        unapproved.plan.operations[
            [o.id for o in unapproved.plan.operations].index(i)
        ].decision.value
        == "allow"
        for i in ran
    )  # type: ignore[union-attr]

    result = apply_with(sandbox, demo_state, approvals, tmp_path, "b.sqlite")
    stale = result.outcomes["contoso/user.update/alice@contoso.com"]
    assert stale.hold is not None and stale.hold.value == "stale"
    assert alice.job_title == "Head of Sales"  # never executed blindly


@pytest.mark.usefixtures("enough_licences")
def test_faults_and_throttling_converge_to_the_same_final_state(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path
) -> None:
    sandbox.throttle.configure(units=12, window_seconds=10)
    sandbox.faults.add("POST", r"/v1\.0/\$batch", status=503, count=3)
    sandbox.faults.add("GET", r"/users", status=503, count=2, tenant=CONTOSO)
    sandbox.faults.add("POST", r"/users$", drop=True, count=1, tenant=CONTOSO)
    sandbox.faults.add("POST", r"/groups/[^/]+/members/\$ref", status=500, count=2)
    sandbox.faults.add("POST", r"InvokeCommand", status=503, count=2, tenant=CONTOSO)
    sandbox.faults.add("POST", r"/api/EditGroup", drop=True, count=1)
    sandbox.replication_delay = 20

    result = plan_approve_apply(sandbox, demo_state, tmp_path)
    assert sandbox.stats()["faults"] > 0 and sandbox.stats()["throttled"] > 0
    assert not result.failed, {k: v.error for k, v in result.outcomes.items() if v.error}
    # Whatever was held while the services caught up converges on the next run.
    sandbox.clock.advance(120)
    plan_approve_apply(sandbox, demo_state, tmp_path)

    after = plan_against(sandbox, demo_state).plan
    assert [
        op.id for op in after.operations if op.tenant in ("contoso", "fabrikam", "woodgrove")
    ] == ["woodgrove/exchange.assignRole/woodgrove"]
    carols = [
        u
        for u in sandbox.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "carol@contoso.com"
    ]
    assert len(carols) == 1  # the dropped create was looked up, never repeated
    tellers = [
        g for g in sandbox.world.tenants[WOODGROVE].groups.values() if g.mail_nickname == "tellers"
    ]
    assert len(tellers) == 1


def test_a_one_shot_action_runs_once_across_machines(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path
) -> None:
    bob = next(
        u
        for u in sandbox.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "bob@contoso.com"
    )
    first = plan_approve_apply(sandbox, demo_state, tmp_path / "ci-runner-1")
    assert (
        first.outcomes["contoso/user.resetPassword/bob@contoso.com/2026-11-26-reset-bob"].status
        is OutcomeStatus.SUCCEEDED
    )
    reset_at = bob.password_changed_at

    sandbox.clock.advance(3600)
    # A fresh CI machine: another journal, another sink; only the tenant remembers.
    second_plan = plan_against(sandbox, demo_state).plan
    contoso = next(t for t in second_plan.tenants if t.name == "contoso")
    assert not [op for op in contoso.operations if op.kind.value == "user.resetPassword"]
    assert any("2026-11-26-reset-bob" in note and "already" in note for note in contoso.notes)
    plan_approve_apply(sandbox, demo_state, tmp_path / "ci-runner-2")
    assert bob.password_changed_at == reset_at
    with Journal.open(tmp_path / "ci-runner-2" / "journal.sqlite") as journal:
        ops = [o for run in journal.runs() for o in journal.operations(run.id)]
    assert not [o for o in ops if o.kind == "user.resetPassword"]


def test_the_remaining_kinds_run_through_their_backends(
    sandbox: Sandbox, demo_state: DesiredState, tmp_path: Path
) -> None:
    """distributionGroup.update and sharedMailbox.delete through Exchange, and the Exchange
    role assigned through Graph when the app may assign roles."""
    from controller.sandbox._world import grant_app_roles

    contoso = sandbox.world.tenants[CONTOSO]
    allstaff = next(
        g for g in contoso.groups.values() if (g.mail or "").lower() == "allstaff@contoso.com"
    )
    allstaff.exchange_name = "All-Staff (old)"  # Exchange's Name, not the display name
    sandbox.exchange.new_mailbox(
        contoso,
        {
            "Shared": True,
            "Name": "Old",
            "DisplayName": "Old",
            "Alias": "old",
            "PrimarySmtpAddress": "old@contoso.com",
        },
        sandbox.clock.now() - 3600,
    )
    woodgrove = sandbox.world.tenants[WOODGROVE]
    app = woodgrove.sp_by_app_id(sandbox.world.partner.app.client_id)
    assert app is not None
    grant_app_roles(
        woodgrove, app, ["RoleManagement.ReadWrite.Directory"], sandbox.clock.now() - 3600
    )

    tenants = []
    for tenant in demo_state.tenants:
        if tenant.metadata.name == "contoso":
            absent = tenant.spec.shared_mailboxes[0].model_copy(
                update={
                    "name": None,
                    "display_name": None,
                    "primary_smtp_address": "old@contoso.com",
                    "full_access": None,
                    "send_as": None,
                    "send_on_behalf": None,
                    "ensure": "absent",
                }
            )
            spec = tenant.spec.model_copy(
                update={"shared_mailboxes": [*tenant.spec.shared_mailboxes, absent]}
            )
            tenants.append(tenant.model_copy(update={"spec": spec}))
        else:
            tenants.append(tenant)
    state = DesiredState(demo_state.msp, tuple(tenants), demo_state.sources)

    result = plan_approve_apply(sandbox, state, tmp_path)
    wanted = {
        "contoso/distributionGroup.update/allstaff@contoso.com": Backend.EXCHANGE,
        "contoso/sharedMailbox.delete/old@contoso.com": Backend.EXCHANGE,
        "woodgrove/exchange.assignRole/woodgrove": Backend.GRAPH,
    }
    ops = {op.id: op for op in result.plan.operations}
    for op_id, backend in wanted.items():
        assert ops[op_id].backend is backend
        assert result.outcomes[op_id].status is OutcomeStatus.SUCCEEDED, result.outcomes[op_id]
    assert allstaff.exchange_name == "All Staff"
    assert any(a.principal_id == app.id for a in woodgrove.role_assignments)
    again = {op.id for op in plan_against(sandbox, state).plan.operations}
    assert not set(wanted) & again

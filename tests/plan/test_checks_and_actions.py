"""Findings from checks (MFA, risky users, needs licence) and one-shot actions (reset once,
already done, past notAfter, ledger unknown)."""

from __future__ import annotations

import datetime as dt

from controller.models.ledger import ActionState
from controller.models.observed import ActionRecord, Unknown
from tests.plan.factories import (
    done,
    kinds,
    mfa,
    observed,
    oid,
    params_json,
    plan,
    risky,
    tenant,
    user,
)

BOB = {"userPrincipalName": "bob@contoso.com", "displayName": "Bob"}
SEEN_BOB = (user("bob@contoso.com", display_name="Bob"),)


def test_mfa_registered_finds_unregistered_users_minus_exceptions() -> None:
    desired = tenant(
        checks={"mfa": {"require": "registered", "except": ["BreakGlass@contoso.com"]}}
    )
    seen = observed(
        mfa=(
            mfa("bob@contoso.com", registered=False, capable=True),
            mfa("breakglass@contoso.com", registered=False),
            mfa("alice@contoso.com"),
        )
    )
    tp = plan(desired, seen)
    assert [(f.check, f.subject) for f in tp.findings] == [("mfa", "user:bob@contoso.com")]
    assert tp.operations == ()


def test_mfa_capable_uses_the_capable_flag() -> None:
    desired = tenant(checks={"mfa": {"require": "capable"}})
    seen = observed(
        mfa=(
            mfa("bob@contoso.com", registered=True, capable=False),
            mfa("a@contoso.com", registered=False),
        )
    )
    assert [f.subject for f in plan(desired, seen).findings] == ["user:bob@contoso.com"]


def test_risky_users_above_the_allowed_level_minus_exceptions() -> None:
    desired = tenant(checks={"riskyUsers": {"maxRiskLevel": "low", "except": ["eve@contoso.com"]}})
    seen = observed(
        risky_users=(
            risky("bob@contoso.com", "medium"),
            risky("carl@contoso.com", "high"),
            risky("eve@contoso.com", "high"),
            risky("fay@contoso.com", "low"),
            risky("gus@contoso.com", "high", state="remediated"),
        )
    )
    findings = plan(desired, seen).findings
    assert [(f.subject, f.severity) for f in findings] == [
        ("user:bob@contoso.com", "warning"),
        ("user:carl@contoso.com", "high"),
    ]


def test_needs_licence_is_an_info_finding_not_an_unknown() -> None:
    desired = tenant(checks={"mfa": {}, "riskyUsers": {}})
    no_p1 = Unknown("needsLicence", "the tenant has no Entra ID P1/P2")
    tp = plan(desired, observed(mfa=no_p1, risky_users=no_p1))
    assert [(f.check, f.severity) for f in tp.findings] == [("mfa", "info"), ("riskyUsers", "info")]
    assert tp.observation == "complete" and tp.unknown == ()


def test_a_failed_check_read_is_unknown() -> None:
    desired = tenant(checks={"mfa": {}})
    tp = plan(desired, observed(mfa=Unknown("permissionDenied", "403")))
    assert tp.findings == () and tp.unknown[0].area == "mfa"


def test_undeclared_checks_report_nothing() -> None:
    seen = observed(mfa=(mfa("bob@contoso.com", registered=False),))
    assert plan(tenant(), seen).findings == ()


ACTION = {"id": "2026-11-26-reset-bob", "resetPassword": {"user": "bob@contoso.com"}}


def test_a_reset_password_action_is_planned_once() -> None:
    desired = tenant(users=[BOB], actions=[ACTION])
    tp = plan(desired, observed(users=SEEN_BOB))
    assert kinds(tp) == [("user.resetPassword", "bob@contoso.com/2026-11-26-reset-bob")]
    params = params_json(tp.operations[0])
    assert params["userId"] == oid("user", "bob@contoso.com")
    assert params["forceChangePasswordNextSignIn"] is True
    assert params["actionId"] == "2026-11-26-reset-bob"


def test_an_action_in_the_ledger_is_not_planned_again() -> None:
    desired = tenant(users=[BOB], actions=[ACTION])
    tp = plan(desired, observed(users=SEEN_BOB, action_ledger={ACTION["id"]: done(ACTION["id"])}))
    assert tp.operations == ()
    assert tp.notes == (
        "action 2026-11-26-reset-bob: already done (recorded on bob@contoso.com); nothing to run",
    )
    assert "done at" not in tp.notes[0]  # the ledger keeps no times: none is made up


def test_an_action_started_and_never_recorded_done_may_have_run() -> None:
    desired = tenant(users=[BOB], actions=[ACTION])
    started = ActionRecord(ACTION["id"], ActionState.STARTED)
    tp = plan(desired, observed(users=SEEN_BOB, action_ledger={ACTION["id"]: started}))
    assert tp.operations == ()
    (unknown,) = tp.unknown
    assert unknown.area == "actions/2026-11-26-reset-bob"
    assert unknown.reason.startswith("may have run: verify.")
    assert "give the action a new id in the tenant file (for example " in unknown.reason
    # Re-armed: the same reset under a new id is a new action, planned again.
    again = {**ACTION, "id": "2026-11-26-reset-bob-again"}
    rearmed = plan(
        tenant(users=[BOB], actions=[again]),
        observed(users=SEEN_BOB, action_ledger={ACTION["id"]: started}),
    )
    assert kinds(rearmed) == [("user.resetPassword", "bob@contoso.com/2026-11-26-reset-bob-again")]


def test_an_unknown_ledger_plans_no_action_and_says_why() -> None:
    desired = tenant(users=[BOB], actions=[ACTION])
    tp = plan(desired, observed(users=SEEN_BOB, action_ledger=Unknown("throttled", "429")))
    assert tp.operations == ()
    assert tp.unknown[0].area == "actions/2026-11-26-reset-bob"


def test_an_action_past_not_after_is_a_warning_not_an_operation() -> None:
    for not_after in ("2026-11-25T00:00:00Z", "2026-11-25"):
        desired = tenant(users=[BOB], actions=[{**ACTION, "notAfter": not_after}])
        tp = plan(desired, observed(users=SEEN_BOB))
        assert tp.operations == ()
        assert "notAfter" in tp.warnings[0]


def test_a_date_not_after_includes_that_whole_day() -> None:
    desired = tenant(users=[BOB], actions=[{**ACTION, "notAfter": dt.date(2026, 11, 26)}])
    assert len(plan(desired, observed(users=SEEN_BOB)).operations) == 1


def test_an_action_on_a_user_created_by_this_plan_depends_on_the_create() -> None:
    desired = tenant(users=[BOB], actions=[ACTION])
    create, reset = plan(desired, observed()).operations
    assert reset.depends_on == (create.id,)

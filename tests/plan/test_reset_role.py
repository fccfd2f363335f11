"""The directory role password resets need (``controller.plan.reset_role``): nothing when the
app holds it, an assignment the resets depend on when it does not (Graph or manual), the
stronger role for an administrator target, and no reset at all when the roles are unknown."""

from __future__ import annotations

from controller.models.observed import Unknown
from controller.models.permissions import (
    GLOBAL_ADMINISTRATOR_ROLE,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE,
    USER_ADMINISTRATOR_ROLE,
)
from controller.plan import Backend
from tests.plan.factories import kinds, observed, oid, params_json, plan, reset_access, tenant, user

BOB = {"userPrincipalName": "bob@contoso.com", "displayName": "Bob"}
SEEN_BOB = (user("bob@contoso.com", display_name="Bob"),)
ACTION = {
    "id": "2026-11-26-reset-bob",
    "resetPassword": {"user": "bob@contoso.com", "forceChangeAtNextSignIn": True},
}
ASSIGN = "contoso/passwordReset.assignRole/contoso"


def test_a_held_role_plans_the_reset_alone() -> None:
    for role in (USER_ADMINISTRATOR_ROLE, GLOBAL_ADMINISTRATOR_ROLE):
        tp = plan(
            tenant(users=[BOB], actions=[ACTION]),
            observed(users=SEEN_BOB, password_reset=reset_access(role)),
        )
        assert kinds(tp) == [("user.resetPassword", "bob@contoso.com/2026-11-26-reset-bob")]
        assert tp.operations[0].depends_on == ()


def test_a_missing_role_is_a_manual_step_the_reset_waits_for() -> None:
    tp = plan(
        tenant(users=[BOB], actions=[ACTION]),
        observed(users=SEEN_BOB, password_reset=reset_access("some-other-role")),
    )
    ops = {op.id: op for op in tp.operations}
    assign = ops[ASSIGN]
    assert assign.backend is Backend.MANUAL
    assert assign.manual is not None
    assert "User Administrator" in assign.manual.instructions
    reset = ops["contoso/user.resetPassword/bob@contoso.com/2026-11-26-reset-bob"]
    assert reset.depends_on == (ASSIGN,)


def test_an_app_that_may_assign_roles_does_it_through_graph() -> None:
    tp = plan(
        tenant(users=[BOB], actions=[ACTION]),
        observed(users=SEEN_BOB, password_reset=reset_access("x", can_assign=True)),
    )
    assign = next(op for op in tp.operations if op.id == ASSIGN)
    assert assign.backend is Backend.GRAPH
    assert params_json(assign)["body"]["roleDefinitionId"] == USER_ADMINISTRATOR_ROLE
    assert params_json(assign)["body"]["directoryScopeId"] == "/"


def test_an_administrator_target_needs_privileged_authentication_administrator() -> None:
    bob = oid("user", "bob@contoso.com")
    tp = plan(
        tenant(users=[BOB], actions=[ACTION]),
        observed(
            users=SEEN_BOB,
            password_reset=reset_access(USER_ADMINISTRATOR_ROLE, admin_targets=frozenset({bob})),
        ),
    )
    assign = next(op for op in tp.operations if op.id == ASSIGN)
    assert (
        params_json(assign)["body"]["roleDefinitionId"]
        == PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE
    )


def test_unknown_roles_plan_no_reset_and_say_why() -> None:
    tp = plan(
        tenant(users=[BOB], actions=[ACTION]),
        observed(users=SEEN_BOB, password_reset=Unknown("throttled", "429")),
    )
    assert tp.operations == ()
    assert [u.area for u in tp.unknown] == ["actions"]


def test_no_action_needs_no_role() -> None:
    tp = plan(tenant(users=[BOB]), observed(users=SEEN_BOB, password_reset=Unknown("error", "x")))
    assert tp.unknown == ()

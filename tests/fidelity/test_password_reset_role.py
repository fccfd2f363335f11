"""Issue 12, item 2: an app-only password reset needs a permission AND a directory role on the
app's service principal: at least User Administrator, Privileged Authentication Administrator
for a target that holds a directory role ("In app-only scenarios, the calling app must be
assigned a supported permission and at least the User Administrator Microsoft Entra role",
api-reference/v1.0/resources/user.md). Observe reads the roles, plan assigns the missing one
(Graph when the app may, else a manual step), and the resets wait for it.

Against the old code: the sandbox reset any non-admin without a role, and the product planned
the reset alone, which Graph refuses with 403."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from controller.apply import OutcomeStatus
from controller.models import DesiredState
from controller.plan import Backend
from controller.sandbox import Sandbox, Scenario
from controller.sandbox._catalog import REQUIRED_EXCHANGE_ROLES, REQUIRED_GRAPH_ROLES
from controller.sandbox._scenario import Tenant
from tests.fidelity.conftest import CONTOSO, scenario_with
from tests.integration.conftest import plan_against
from tests.integration.test_apply_sandbox import apply_with, approve_all
from tests.plan.factories import params_json
from tests.sandbox.conftest import client

RESET = "contoso/user.resetPassword/bob@contoso.com/2026-11-26-reset-bob"
ASSIGN = "contoso/passwordReset.assignRole/contoso"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
PRIVILEGED_AUTHENTICATION_ADMINISTRATOR = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
PASSWORD = {
    "passwordProfile": {"password": "Sandbox-Pass-456", "forceChangePasswordNextSignIn": True}
}


def _app(*, roles: list[str] | None = None, directory_roles: list[str]) -> Callable[[Tenant], None]:
    def change(tenant: Tenant) -> None:
        tenant.app.directory_roles = directory_roles
        if roles is not None:
            tenant.app.roles = roles

    return change


def test_a_reset_without_the_role_is_refused(serve: Callable[[Scenario], Sandbox]) -> None:
    sandbox = serve(scenario_with("contoso", _app(directory_roles=[])))
    with client(sandbox, CONTOSO) as g:
        refused = g.patch("/v1.0/users/bob@contoso.com", json=PASSWORD)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"


def test_user_administrator_resets_users_but_not_administrators(
    serve: Callable[[Scenario], Sandbox],
) -> None:
    sandbox = serve(scenario_with("contoso", _app(directory_roles=["User Administrator"])))
    with client(sandbox, CONTOSO) as g:
        assert g.patch("/v1.0/users/bob@contoso.com", json=PASSWORD).status_code == 204
        admin = g.patch("/v1.0/users/admin@contoso.onmicrosoft.com", json=PASSWORD)
    assert admin.status_code == 403
    assert admin.json()["error"]["code"] == "Authorization_RequestDenied"

    stronger = serve(
        scenario_with("contoso", _app(directory_roles=["Privileged Authentication Administrator"]))
    )
    with client(stronger, CONTOSO) as g:
        assert (
            g.patch("/v1.0/users/admin@contoso.onmicrosoft.com", json=PASSWORD).status_code == 204
        )


def test_user_readwrite_all_is_a_supported_permission_for_the_reset(
    serve: Callable[[Scenario], Sandbox],
) -> None:
    only_user_rw = _app(roles=["User.ReadWrite.All"], directory_roles=["User Administrator"])
    sandbox = serve(scenario_with("contoso", only_user_rw))
    with client(sandbox, CONTOSO) as g:
        assert g.patch("/v1.0/users/bob@contoso.com", json=PASSWORD).status_code == 204


def test_without_the_role_the_plan_asks_a_person_to_assign_it_and_holds_the_reset(
    serve: Callable[[Scenario], Sandbox], demo_state: DesiredState, tmp_path: Path
) -> None:
    sandbox = serve(scenario_with("contoso", _app(directory_roles=[])))
    plan = plan_against(sandbox, demo_state).plan
    ops = {op.id: op for op in plan.operations}
    assign = ops[ASSIGN]
    assert assign.backend is Backend.MANUAL
    assert assign.manual is not None and "User Administrator" in assign.manual.title
    assert params_json(assign)["body"]["roleDefinitionId"] == USER_ADMINISTRATOR
    assert ASSIGN in ops[RESET].depends_on

    now = dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC)
    result = apply_with(sandbox, demo_state, approve_all(plan, now), tmp_path)
    assert result.outcomes[RESET].status is OutcomeStatus.HELD  # waits for the manual step
    bob = sandbox.world.tenants[CONTOSO].user_by_upn("bob@contoso.com")
    assert bob is not None
    assert bob.password_changed_at == 0.0  # never reset


def test_an_app_that_may_assign_roles_assigns_it_then_resets(
    serve: Callable[[Scenario], Sandbox], demo_state: DesiredState, tmp_path: Path
) -> None:
    def change(tenant: Tenant) -> None:
        tenant.app.directory_roles = []
        tenant.app.roles = [
            *REQUIRED_GRAPH_ROLES,
            *REQUIRED_EXCHANGE_ROLES,
            "RoleManagement.ReadWrite.Directory",
        ]

    sandbox = serve(scenario_with("contoso", change))
    plan = plan_against(sandbox, demo_state).plan
    ops = {op.id: op for op in plan.operations}
    assert ops[ASSIGN].backend is Backend.GRAPH
    now = dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC)
    result = apply_with(sandbox, demo_state, approve_all(plan, now), tmp_path)
    assert result.outcomes[ASSIGN].status is OutcomeStatus.SUCCEEDED, result.outcomes[ASSIGN]
    assert result.outcomes[RESET].status is OutcomeStatus.SUCCEEDED, result.outcomes[RESET]
    tenant = sandbox.world.tenants[CONTOSO]
    sp = tenant.sp_by_app_id(sandbox.world.partner.app.client_id)
    assert sp is not None
    assert any(
        a.principal_id == sp.id and a.role_definition_id == USER_ADMINISTRATOR
        for a in tenant.role_assignments
    )


def test_an_administrator_target_needs_privileged_authentication_administrator(
    serve: Callable[[Scenario], Sandbox], demo_state: DesiredState
) -> None:
    def bob_is_admin(tenant: Tenant) -> None:
        tenant.app.directory_roles = ["User Administrator"]
        bob = next(u for u in tenant.users if u.user_principal_name == "bob@contoso.com")
        bob.is_admin = True

    plan = plan_against(serve(scenario_with("contoso", bob_is_admin)), demo_state).plan
    ops = {op.id: op for op in plan.operations}
    assert (
        params_json(ops[ASSIGN])["body"]["roleDefinitionId"]
        == PRIVILEGED_AUTHENTICATION_ADMINISTRATOR
    )
    assert ASSIGN in ops[RESET].depends_on


def test_with_the_role_held_nothing_more_is_planned(sb: Sandbox, demo_state: DesiredState) -> None:
    plan = plan_against(sb, demo_state).plan  # the demo app holds User Administrator
    ops = {op.id: op for op in plan.operations}
    assert ASSIGN not in ops
    assert ops[RESET].depends_on == ()

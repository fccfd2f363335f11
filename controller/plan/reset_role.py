"""The directory role that app-only password resets need, planned before the resets.

Graph: "In app-only scenarios, the calling app must be assigned a supported permission and at
least the User Administrator Microsoft Entra role" (the user resource's passwordProfile,
api-reference/v1.0/resources/user.md); Privileged Authentication Administrator is the least
privileged role that may reset an administrator. Without the role Graph answers 403
``Authorization_RequestDenied`` to the reset.

``passwordReset.assignRole`` assigns the role the pending resets need to the app's own service
principal: through Graph when the app may assign directory roles
(RoleManagement.ReadWrite.Directory), else as a manual step on the Entra roles page. Every
reset that needs it depends on it, so apply holds those resets until the role is held.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.models.observed import Unknown
from controller.models.permissions import (
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE,
    RESETS_ADMINISTRATORS,
    RESETS_USERS,
    USER_ADMINISTRATOR_ROLE,
)
from controller.plan._draft import SECTION_ONBOARDING, TenantDraft
from controller.plan.onboarding import entra_roles_url
from controller.plan.params import PasswordResetAssignRoleParams, RoleAssignment
from controller.plan.types import Backend, FieldChange, ManualStep

ROLE_NAMES = {
    USER_ADMINISTRATOR_ROLE: "User Administrator",
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE: "Privileged Authentication Administrator",
}


def reset_role_dependency(d: TenantDraft, target_ids: Iterable[str]) -> dict[str, str] | None:
    """For each target user id (``""``: a user this plan creates) of the pending resets, the
    id of the ``passwordReset.assignRole`` operation its reset must wait for; a target the app
    may already reset is not in the answer. Plans that operation (once) when needed.

    None, after marking the ``actions`` area unknown, when the app's roles could not be read:
    a reset is never planned on a guess."""
    access = d.observed.password_reset
    if isinstance(access, Unknown):
        d.mark_unknown("actions", access)
        return None
    held = access.app_roles
    needs: dict[str, str] = {}
    for target in target_ids:
        admin = target in access.admin_targets
        if admin and not held & RESETS_ADMINISTRATORS:
            needs[target] = PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE
        elif not admin and not held & RESETS_USERS:
            needs[target] = USER_ADMINISTRATOR_ROLE
    if not needs:
        return {}
    # One role for them all: Privileged Authentication Administrator covers every target.
    role = (
        PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE
        if PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE in needs.values()
        else USER_ADMINISTRATOR_ROLE
    )
    op_id = _plan_assignment(d, role, access.can_assign_role)
    return dict.fromkeys(needs, op_id)


def _plan_assignment(d: TenantDraft, role: str, can_assign: bool) -> str:
    consent = d.observed.consent
    sp_id = None if isinstance(consent, Unknown) else consent.service_principal_id
    via_graph = can_assign and sp_id is not None
    name = ROLE_NAMES[role]
    tenant = d.desired.metadata.display_name or d.name
    manual = None
    if not via_graph:
        manual = ManualStep(
            title=f"Assign {name} to the app in {tenant}",
            instructions=(
                f"In the Entra admin center of tenant {d.tenant_id}: Roles & admins > {name} > "
                f"Add assignment > the app (client id {d.ctx.app_id}). Graph lets an app reset "
                "passwords only while its service principal holds this role; the resets wait "
                "for it."
            ),
            link=entra_roles_url(d.tenant_id),
        )
    return d.add(
        PasswordResetAssignRoleParams(
            tenant_id=d.tenant_id,
            role=name,
            body=RoleAssignment(
                role_definition_id=role, principal_id=sp_id, directory_scope_id="/"
            ),
        ),
        f"tenant:{d.name}",
        d.name,
        Backend.GRAPH if via_graph else Backend.MANUAL,
        section=SECTION_ONBOARDING,
        reason=f"one-shot password resets need the app to hold {name} (Graph answers 403 "
        "without it)",
        desired={"role": role},
        observed={"servicePrincipalId": sp_id, "canAssignRole": can_assign},
        changes=[FieldChange(field=name, before=False, after=True)],
        manual=manual,
    )

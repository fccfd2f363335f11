"""Security reports, gated by the tenant's Entra ID premium tier.

Graph v1.0 endpoints served:

- ``GET /reports/authenticationMethods/userRegistrationDetails``: MFA registration per user.
  Application permission AuditLog.Read.All and no other ("higher privileged: not available";
  api-reference/v1.0/api/authenticationmethodsroot-list-userregistrationdetails.md), else 403
  ``Authorization_RequestDenied``; then P1 or P2, else 403
  ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``. Rows carry the v1.0 properties
  of api-reference/v1.0/resources/userregistrationdetails.md (not the beta-only
  ``defaultMfaMethod``).
- ``GET /identityProtection/riskyUsers``: IdentityRiskyUser.Read.All
  (api-reference/v1.0/api/riskyuser-list.md); P1 sees ``hidden`` risk levels, P2 the real
  ones, no premium gets the same premium-licence 403 as the report above; throttled at 1
  request per second per tenant (route kind ``risky``). Not served in the China cloud
  (Identity Protection is not available there): ``Resource not found for the segment``.
"""

from __future__ import annotations

import re

from controller.sandbox._graph._odata import Call, GraphError, bad_request, page
from controller.sandbox._http import Response
from controller.sandbox._world import Tenant

# Graph's code when a report needs Entra ID P1/P2 the tenant does not have.
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def _premium_required(tenant: Tenant) -> GraphError:
    return GraphError(
        403,
        NON_PREMIUM,
        f"Neither tenant is B2C or tenant doesn't have premium license. Tenant {tenant.tenant_id}.",
    )


def registration(call: Call, m: re.Match[str]) -> Response:
    call.require("AuditLog.Read.All")
    tenant = call.customer()
    if tenant.premium not in ("P1", "P2"):
        raise _premium_required(tenant)
    rows = []
    for u in tenant.users.values():
        if u.deleted_at is not None or u.visible_at > call.now:
            continue
        if u.recipient_type == "SharedMailbox":
            continue
        preferred = "push" if u.mfa_registered else "none"
        rows.append(
            {
                "id": u.id,
                "userPrincipalName": u.user_principal_name,
                "userDisplayName": u.display_name,
                "userType": "member",
                "isAdmin": u.is_admin,
                "isSsprRegistered": u.mfa_registered,
                "isSsprEnabled": False,
                "isSsprCapable": False,
                "isMfaRegistered": u.mfa_registered,
                "isMfaCapable": u.mfa_capable,
                "isPasswordlessCapable": False,
                "isSystemPreferredAuthenticationMethodEnabled": True,
                "systemPreferredAuthenticationMethods": [preferred] if u.mfa_registered else [],
                "userPreferredMethodForSecondaryAuthentication": preferred,
                "methodsRegistered": u.methods,
                "lastUpdatedDateTime": call.rt.clock.iso(call.now - 86400),
            }
        )
    return page(
        call,
        rows,
        "reports/authenticationMethods/userRegistrationDetails",
        entity_type="userRegistrationDetails",
    )


def risky_users(call: Call, m: re.Match[str]) -> Response:
    if call.rt.world.settings.cloud == "china":
        raise bad_request("Resource not found for the segment 'identityProtection'.", "BadRequest")
    call.require("IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All")
    tenant = call.customer()
    if tenant.premium == "none":
        raise _premium_required(tenant)
    hidden = tenant.premium != "P2"  # P1 tenants see that a user is risky, not how much
    rows = [
        {
            "id": u.id,
            "isDeleted": u.deleted_at is not None,
            "isProcessing": False,
            "riskLastUpdatedDateTime": call.rt.clock.iso(u.risk_updated_at),
            "riskLevel": "hidden" if hidden else u.risk_level,
            "riskState": "atRisk",
            "riskDetail": "hidden" if hidden else "none",
            "userDisplayName": u.display_name,
            "userPrincipalName": u.user_principal_name,
        }
        for u in tenant.users.values()
        if u.risk_level != "none"
    ]
    return page(call, rows, "identityProtection/riskyUsers", entity_type="riskyUser")

"""Security reports, gated by the tenant's Entra ID premium tier.

Graph v1.0 endpoints served:

- ``GET /reports/authenticationMethods/userRegistrationDetails``: MFA registration per user;
  P1 or P2, else 403 ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``
- ``GET /identityProtection/riskyUsers``: P1 sees ``hidden`` risk levels, P2 the real ones,
  no premium gets 403; throttled at 1 request per second per tenant (route kind ``risky``)
"""

from __future__ import annotations

import re

from controller.sandbox._graph._odata import Call, GraphError, page
from controller.sandbox._http import Response


def registration(call: Call, m: re.Match[str]) -> Response:
    call.require("UserAuthenticationMethod.Read.All", "AuditLog.Read.All")
    tenant = call.customer()
    if tenant.premium not in ("P1", "P2"):
        raise GraphError(
            403,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            f"Tenant does not have a SKU required for this feature. Tenant {tenant.tenant_id}.",
        )
    rows = [
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
            "methodsRegistered": u.methods,
            "defaultMfaMethod": "push" if u.mfa_registered else "none",
            "lastUpdatedDateTime": call.rt.clock.iso(call.now - 86400),
        }
        for u in tenant.users.values()
        if u.deleted_at is None and u.visible_at <= call.now and u.recipient_type != "SharedMailbox"
    ]
    return page(call, rows, "reports/authenticationMethods/userRegistrationDetails")


def risky_users(call: Call, m: re.Match[str]) -> Response:
    call.require("IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All")
    tenant = call.customer()
    if tenant.premium == "none":
        raise GraphError(403, "Forbidden", "Your tenant is not licensed for this feature.")
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
    return page(call, rows, "identityProtection/riskyUsers")

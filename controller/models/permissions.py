"""Well-known identifiers of the Microsoft world tenantctl manages, and what the app needs."""

from __future__ import annotations

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"

# Application permissions the partner app needs in every customer tenant.
GRAPH_PERMISSIONS = (
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    # The MFA check's report (GET /reports/authenticationMethods/userRegistrationDetails)
    # takes AuditLog.Read.All and nothing else: "higher privileged: not available"
    # (api-reference/v1.0/api/authenticationmethodsroot-list-userregistrationdetails.md).
    # UserAuthenticationMethod.Read.All does not grant it.
    "AuditLog.Read.All",
    "IdentityRiskyUser.Read.All",
    "User-PasswordProfile.ReadWrite.All",
)
EXCHANGE_PERMISSIONS = ("Exchange.ManageAsApp",)
REQUIRED_PERMISSIONS = frozenset(GRAPH_PERMISSIONS + EXCHANGE_PERMISSIONS)
# Optional: lets tenantctl assign directory roles to its own service principal (Exchange
# Administrator, User Administrator) instead of planning a manual step.
ROLE_MANAGEMENT_PERMISSION = "RoleManagement.ReadWrite.Directory"

# Directory role template ids.
EXCHANGE_ADMINISTRATOR_ROLE = "29232cdf-9323-42fd-ade2-1d097af3e4de"
GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR_ROLE = "e8611ab8-c189-46e8-94e1-60213ab1f814"
# Password resets app-only: "In app-only scenarios, the calling app must be assigned a supported
# permission and at least the User Administrator Microsoft Entra role" (Graph's user resource,
# passwordProfile: api-reference/v1.0/resources/user.md). Privileged Authentication
# Administrator is the least privileged role that may reset an administrator's password.
USER_ADMINISTRATOR_ROLE = "fe930be7-5e62-47db-91af-98c3a49a38b1"
PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
# The roles that let the app reset a user who holds no directory role, and one who does.
RESETS_USERS = frozenset(
    {
        USER_ADMINISTRATOR_ROLE,
        PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE,
        GLOBAL_ADMINISTRATOR_ROLE,
    }
)
RESETS_ADMINISTRATORS = frozenset(
    {PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE, GLOBAL_ADMINISTRATOR_ROLE}
)

# The open extension on a user that records one-shot actions already run against it.
ACTION_LEDGER_EXTENSION = "com.tenantctl.actions"

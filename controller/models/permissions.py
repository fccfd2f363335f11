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
# Optional: lets tenantctl assign the Exchange Administrator role itself.
ROLE_MANAGEMENT_PERMISSION = "RoleManagement.ReadWrite.Directory"

# Directory role template ids.
EXCHANGE_ADMINISTRATOR_ROLE = "29232cdf-9323-42fd-ade2-1d097af3e4de"
GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR_ROLE = "e8611ab8-c189-46e8-94e1-60213ab1f814"

# The open extension on a user that records one-shot actions already run against it.
ACTION_LEDGER_EXTENSION = "com.tenantctl.actions"

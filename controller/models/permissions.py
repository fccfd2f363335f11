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

# Names of the directory role templates a GDAP relationship usually holds, for people
# (``tenantctl get gdap``, the report); Microsoft publishes these template ids
# (entra/identity/role-based-access-control/permissions-reference). Others show as their id.
DIRECTORY_ROLE_NAMES: dict[str, str] = {
    GLOBAL_ADMINISTRATOR_ROLE: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR_ROLE: "Privileged Role Administrator",
    EXCHANGE_ADMINISTRATOR_ROLE: "Exchange Administrator",
    USER_ADMINISTRATOR_ROLE: "User Administrator",
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR_ROLE: "Privileged Authentication Administrator",
    "fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
    "4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
}


def role_name(role_id: str) -> str:
    """A directory role template's name, or its id when it is not a well-known one."""
    return DIRECTORY_ROLE_NAMES.get(role_id.lower(), role_id)

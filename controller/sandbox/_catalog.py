"""Well-known identifiers of Microsoft's first-party apps, app roles, directory roles and SKUs.

The ids are Microsoft's published ones where the sandbox's clients may hard-code them (role
templates, the Graph and Exchange Online app ids); clients should still map permission names to
ids through the resource service principal's ``appRoles``, as the real service requires.
"""

from __future__ import annotations

import hashlib
import uuid

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"

# Application permissions of Microsoft Graph (appRoles[].value -> id).
GRAPH_APP_ROLES: dict[str, str] = {
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
    "User-PasswordProfile.ReadWrite.All": "cc117bb9-00cf-4eb8-b580-ea2a878fe8f7",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    "GroupMember.ReadWrite.All": "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    "UserAuthenticationMethod.Read.All": "38d9df27-64da-44fd-b7c5-a6fbac20248f",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "IdentityRiskyUser.Read.All": "dc5007c0-2d7d-4c42-879c-2dab87571379",
    "DelegatedAdminRelationship.Read.All": "f6e9e124-4586-492f-adc0-c6f96e4823fd",
    "LicenseAssignment.ReadWrite.All": "5facf0c1-8979-4e95-abcf-ff3d079771c0",
}

EXCHANGE_APP_ROLES: dict[str, str] = {
    "Exchange.ManageAsApp": "dc50a0fb-09a3-484d-be87-e023b12c6440",
    "full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
}

# What tenantctl's app asks for (DESIGN.md §1), the default for "roles: all" in a scenario.
REQUIRED_GRAPH_ROLES = (
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "AuditLog.Read.All",
    "IdentityRiskyUser.Read.All",
    "User-PasswordProfile.ReadWrite.All",
)
REQUIRED_EXCHANGE_ROLES = ("Exchange.ManageAsApp",)

# Directory role templates (roleDefinitionId).
DIRECTORY_ROLES: dict[str, str] = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Groups Administrator": "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    "License Administrator": "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
}
EXCHANGE_ADMINISTRATOR = DIRECTORY_ROLES["Exchange Administrator"]

KNOWN_SKUS: dict[str, str] = {
    "SPE_E3": "05e9a617-0261-4cee-bb44-138d3ef5d965",
    "SPE_E5": "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
    "POWER_BI_PRO": "f8a1db68-be16-40ed-86d5-cb42ce701560",
    "O365_BUSINESS_PREMIUM": "f245ecc8-75af-4f8e-b61f-27d8114de5c3",
    "O365_BUSINESS_ESSENTIALS": "3b555118-da6a-4418-894f-7df1e2096870",
    "EXCHANGESTANDARD": "4b9405b0-7788-4568-add1-99614e613b69",
    "SPB": "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
    "ENTERPRISEPACK": "6fd2c87f-b296-42f0-b197-1e91e994b900",
    "AAD_PREMIUM": "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
    "AAD_PREMIUM_P2": "84a661c4-e949-4bd2-a560-ed7766fcaf2b",
}

_NAMESPACE = uuid.UUID("9f6b1c2e-6a51-4d1e-9a3c-7d2f0c1b5e4a")


_NAMESPACE_BYTES = _NAMESPACE.bytes


def stable_id(*parts: str) -> str:
    """A deterministic object id, so the same scenario always gives the same ids.

    Exactly ``uuid.uuid5(_NAMESPACE, "/".join(parts))``, computed without building UUID
    objects: a generated world of 100,000 users creates that many ids at load.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "/".join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def sku_id(part_number: str) -> str:
    return KNOWN_SKUS.get(part_number) or stable_id("sku", part_number)


def role_template(name_or_id: str) -> str:
    return DIRECTORY_ROLES.get(name_or_id, name_or_id).lower()

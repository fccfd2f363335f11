"""The tenant itself: its organization record and its licence subscriptions.

Graph v1.0 endpoints served:

- ``GET /organization``: the caller's tenant (partner or customer) with its verified domains
  and the properties Graph always returns (api-reference/v1.0/resources/organization.md)
- ``GET /subscribedSkus``: licence subscriptions with prepaid and consumed units and their
  service plans (api-reference/v1.0/resources/subscribedsku.md). Permissions:
  LicenseAssignment.Read.All, Directory.Read.All, Directory.ReadWrite.All,
  Organization.Read.All, Organization.ReadWrite.All; ``$select`` only, "It does not support
  ``$filter``" (api-reference/v1.0/api/subscribedsku-list.md).
"""

from __future__ import annotations

import re

from controller.sandbox._catalog import stable_id
from controller.sandbox._graph._odata import Call, bad_request, page
from controller.sandbox._graph._permissions import READ_DIRECTORY, READ_USERS
from controller.sandbox._http import Response

READ_SKUS = (
    "LicenseAssignment.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Organization.Read.All",
    "Organization.ReadWrite.All",
)


def organization(call: Call, m: re.Match[str]) -> Response:
    if call.tenant is None:
        partner = call.rt.world.partner
        tid, name, domains = partner.tenant_id, partner.display_name, partner.domains
    else:
        call.require(*READ_DIRECTORY, *READ_USERS)
        tid, name, domains = (
            call.tenant.tenant_id,
            call.tenant.display_name,
            call.tenant.domains,
        )
    initial = next((d for d in domains if d.endswith(".onmicrosoft.com")), domains[0])
    created = call.rt.clock.iso(call.now - 86400 * 1000)
    org = {
        "id": tid,
        "deletedDateTime": None,
        "businessPhones": [],
        "city": None,
        "country": None,
        "countryLetterCode": "US",
        "createdDateTime": created,
        "defaultUsageLocation": None,
        "displayName": name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": None,
        "onPremisesSyncEnabled": None,
        "partnerTenantType": None,
        "postalCode": None,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": None,
        "street": None,
        "technicalNotificationMails": [],
        "tenantType": "AAD",
        "assignedPlans": [],
        "privacyProfile": None,
        "provisionedPlans": [],
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": i == 0,
                "isInitial": d == initial,
                "name": d,
                "type": "Managed",
            }
            for i, d in enumerate(domains)
        ],
    }
    return page(call, [org], "organization", entity_type="organization")


def subscribed_skus(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_SKUS)
    if "$filter" in call.request.query:
        raise bad_request("Unsupported Query.", "Request_UnsupportedQuery")
    tenant = call.customer()
    rows = [
        {
            "accountId": tenant.tenant_id,
            "accountName": tenant.display_name,
            "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "consumedUnits": tenant.consumed(s),
            "id": f"{tenant.tenant_id}_{s.sku_id}",
            "prepaidUnits": {"enabled": s.units, "suspended": 0, "warning": 0, "lockedOut": 0},
            "servicePlans": [
                {
                    "servicePlanId": stable_id("serviceplan", s.sku_part_number),
                    "servicePlanName": f"{s.sku_part_number}_PLAN",
                    "provisioningStatus": "Success",
                    "appliesTo": "User",
                }
            ],
            "skuId": s.sku_id,
            "skuPartNumber": s.sku_part_number,
            "subscriptionIds": [stable_id(tenant.tenant_id, "subscription", s.sku_id)],
        }
        for s in tenant.skus.values()
    ]
    return page(call, rows, "subscribedSkus", entity_type="subscribedSku")

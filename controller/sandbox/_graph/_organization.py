"""The tenant itself: its organization record and its licence subscriptions.

Graph v1.0 endpoints served:

- ``GET /organization``: the caller's tenant (partner or customer) with its verified domains
- ``GET /subscribedSkus``: licence subscriptions with prepaid and consumed units
"""

from __future__ import annotations

import re

from controller.sandbox._graph._odata import Call, page
from controller.sandbox._graph._permissions import READ_DIRECTORY, READ_USERS
from controller.sandbox._http import Response


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
    org = {
        "id": tid,
        "displayName": name,
        "tenantType": "AAD",
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
    return page(call, [org], "organization")


def subscribed_skus(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_DIRECTORY, *READ_USERS, "LicenseAssignment.ReadWrite.All")
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
            "servicePlans": [],
            "skuId": s.sku_id,
            "skuPartNumber": s.sku_part_number,
            "subscriptionIds": [],
        }
        for s in tenant.skus.values()
    ]
    return page(call, rows, "subscribedSkus")

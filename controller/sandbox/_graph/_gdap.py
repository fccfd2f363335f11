"""GDAP as the partner tenant sees it (partner token only; customers' tokens get 403).

Graph v1.0 endpoints served:

- ``GET /tenantRelationships/delegatedAdminCustomers``
- ``GET /tenantRelationships/delegatedAdminRelationships``: an active relationship past its
  end date reads ``expired``

Both page with ``$top`` up to 300 objects; more is refused
(api-reference/v1.0/api/tenantrelationship-list-delegatedadminrelationships.md and
tenantrelationship-list-delegatedadmincustomers.md: "``$top`` supports up to 300 objects").
"""

from __future__ import annotations

import re

from controller.sandbox._graph._odata import Call, denied, page
from controller.sandbox._http import Response

GDAP_MAX_TOP = 300


def _partner_only(call: Call) -> None:
    if call.tenant is not None or call.tenant_id != call.rt.world.partner.tenant_id:
        raise denied()
    call.require("DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All")


def gdap_customers(call: Call, m: re.Match[str]) -> Response:
    _partner_only(call)
    rows = [
        {"id": t.tenant_id, "tenantId": t.tenant_id, "displayName": t.display_name}
        for t in call.rt.world.tenants.values()
        if t.gdap is not None
    ]
    return page(
        call,
        rows,
        "tenantRelationships/delegatedAdminCustomers",
        entity_type="delegatedAdminCustomer",
        max_top=GDAP_MAX_TOP,
    )


def gdap_relationships(call: Call, m: re.Match[str]) -> Response:
    _partner_only(call)
    rows = []
    for t in call.rt.world.tenants.values():
        g = t.gdap
        if g is None:
            continue
        status = g.status
        if status == "active" and g.end_at <= call.now:
            status = "expired"
        rows.append(
            {
                "id": g.id,
                "displayName": g.display_name,
                "duration": "P730D",
                "customer": {"tenantId": t.tenant_id, "displayName": t.display_name},
                "status": status,
                "autoExtendDuration": "P180D" if g.auto_extend else "PT0S",
                "createdDateTime": call.rt.clock.iso(g.created_at),
                "activatedDateTime": call.rt.clock.iso(g.created_at),
                "lastModifiedDateTime": call.rt.clock.iso(g.created_at),
                "endDateTime": call.rt.clock.iso(g.end_at),
                "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in g.roles]},
            }
        )
    return page(
        call,
        rows,
        "tenantRelationships/delegatedAdminRelationships",
        entity_type="delegatedAdminRelationship",
        max_top=GDAP_MAX_TOP,
    )

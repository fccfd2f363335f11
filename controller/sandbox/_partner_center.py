"""Partner Center: the customers list and ``applicationconsents``.

Partner Center documents ``applicationconsents`` with App+User tokens only and the sandbox
issues app-only tokens, so it refuses the call (403) unless the scenario allows app-only
consent (``partner.partnerCenter.allowAppOnlyConsent``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from controller.sandbox._catalog import EXCHANGE_APP_ID, GRAPH_APP_ID
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import AuthFailure, Runtime, authenticate
from controller.sandbox._world import create_app_principal, grant_app_roles

_CONSENTS = re.compile(r"^/v1/customers/([^/]+)/applicationconsents$")


def _error(status: int, code: int, description: str) -> Response:
    return Response(
        status,
        {
            "code": code,
            "description": description,
            "errorName": "Forbidden" if status == 403 else "BadRequest",
            "isRetryable": False,
        },
        {"MS-CorrelationId": str(uuid.uuid4()), "MS-RequestId": str(uuid.uuid4())},
    )


class PartnerCenterService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def tenant_hint(self, request: Request) -> str | None:
        m = _CONSENTS.match(request.path)
        return m.group(1).lower() if m else None

    def handle(self, request: Request) -> Response:
        try:
            claims = authenticate(self.rt, request, "partnerCenter")
        except AuthFailure as failure:
            return _error(401, 900401, failure.message)
        if claims.get("tid") != self.rt.world.partner.tenant_id:
            return _error(401, 900401, "The token was not issued by the partner tenant.")
        if request.method == "GET" and request.path.rstrip("/") == "/v1/customers":
            return self._customers()
        m = _CONSENTS.match(request.path)
        if request.method == "POST" and m:
            return self._consent(request, m.group(1))
        return _error(404, 600010, "The requested resource was not found.")

    def _customers(self) -> Response:
        items = [
            {
                "id": t.tenant_id,
                "companyProfile": {
                    "tenantId": t.tenant_id,
                    "domain": t.initial_domain,
                    "companyName": t.display_name,
                    "attributes": {"objectType": "CustomerCompanyProfile"},
                },
                "relationshipToPartner": "none",
                "attributes": {"objectType": "Customer"},
            }
            for t in self.rt.world.tenants.values()
        ]
        return Response(
            200,
            {
                "totalCount": len(items),
                "items": items,
                "links": {},
                "attributes": {"objectType": "Collection"},
            },
        )

    def _consent(self, request: Request, key: str) -> Response:
        world = self.rt.world
        if not world.partner.allow_app_only_consent:
            return _error(
                403,
                900174,
                "This operation requires App+User authentication (a user context); app-only tokens are not supported.",
            )
        tenant = world.tenant(key)
        if tenant is None:
            return _error(404, 600001, f"Customer {key} was not found.")
        body: dict[str, Any] = request.json() or {}
        app = world.partner.app
        if str(body.get("applicationId", "")).lower() != app.client_id:
            return _error(400, 600039, "The applicationId is not the partner's application.")
        now = self.rt.clock.now()
        sp = tenant.sp_by_app_id(app.client_id) or create_app_principal(
            tenant, app.client_id, app.display_name, now, now + world.settings.replication_delay
        )
        for grant in body.get("applicationGrants") or []:
            resource = str(grant.get("enterpriseApplicationId", "")).lower()
            if resource not in (GRAPH_APP_ID, EXCHANGE_APP_ID):
                return _error(400, 600039, f"Unknown enterpriseApplicationId {resource}.")
            names = [s.strip() for s in str(grant.get("scope", "")).split(",") if s.strip()]
            grant_app_roles(tenant, sp, names, now)
        return Response(201, body, tenant_id=tenant.tenant_id)

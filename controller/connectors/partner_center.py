"""Partner Center (``https://api.partnercenter.microsoft.com``), partner tenant token.

Customers are paged with a continuation token: ``links.next.uri`` plus the
``MS-ContinuationToken`` header it names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from controller.connectors._http import HttpCore, Route


class PartnerCenterClient:
    """Build it with :meth:`Connections.partner_center`."""

    def __init__(self, core: HttpCore, route: Route) -> None:
        self._core = core
        self.route = route

    async def customers(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = "/v1/customers"
        headers: dict[str, str] = {}
        while url:
            response = await self._core.request(self.route, "GET", url, headers=headers)
            body = response.body if isinstance(response.body, dict) else {}
            items.extend(i for i in body.get("items") or [] if isinstance(i, dict))
            following = (body.get("links") or {}).get("next") or {}
            next_uri = following.get("uri")
            url = (
                f"/v1/{next_uri.lstrip('/')}"
                if next_uri and not next_uri.startswith("/v1")
                else next_uri
            )
            headers = {
                h["key"]: h["value"]
                for h in following.get("headers") or []
                if isinstance(h, dict) and "key" in h and "value" in h
            }
        return items

    async def application_consents(
        self,
        customer_tenant_id: str,
        application_id: str,
        grants: Mapping[str, Sequence[str]],
        *,
        display_name: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/customers/{tenantId}/applicationconsents``; ``grants`` maps an
        enterprise application id (the resource, e.g. Graph) to the scopes granted. Documented
        with App+User tokens only: an app-only token may be refused (PermissionDenied)."""
        body: dict[str, Any] = {
            "applicationId": application_id,
            "applicationGrants": [
                {"enterpriseApplicationId": app, "scope": ",".join(scopes)}
                for app, scopes in grants.items()
            ],
        }
        if display_name:
            body["displayName"] = display_name
        response = await self._core.request(
            Route("partnerCenter", customer_tenant_id, self.route.base_url, self.route.token),
            "POST",
            f"/v1/customers/{customer_tenant_id}/applicationconsents",
            json=body,
            idempotent=True,  # a repeat answers "already consented" (409): harmless
        )
        return response.body if isinstance(response.body, dict) else {}

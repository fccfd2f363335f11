"""Partner Center (``https://api.partnercenter.microsoft.com``), partner tenant token.

Customers are paged with a continuation token: ``links.next.uri`` plus the
``MS-ContinuationToken`` header it names. tenantctl reads only the customer list (for the
domains of customers the app cannot read yet); ``applicationconsents`` is documented for
App+User tokens only, so consent goes through the admin-consent link or CIPP instead.
"""

from __future__ import annotations

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

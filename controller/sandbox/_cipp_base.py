"""What every CIPP endpoint of the sandbox shares: the refusals CIPP answers with, reading a
request's parameters and tenant, and CIPP's tenant list."""

from __future__ import annotations

from typing import Any

from controller.sandbox._exchange import ExchangeService
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import Runtime
from controller.sandbox._world import Tenant, User


class CippRefusal(Exception):
    """An answer other than 200: ``body`` as the endpoint sends it (bytes: bare text)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


#: What CIPP says when its own app has no consent in a tenant it lists.
NO_TOKEN = (
    "Could not get token for {tenant}: AADSTS7000229: The client application is missing "
    "service principal in the tenant."
)


def text(status: int, words: str) -> Response:
    """A bare-text answer, as a CIPP function whose ``Body`` is a string sends it."""
    return Response(status, words.encode(), content_type="text/plain; charset=utf-8")


def refused(words: str) -> CippRefusal:
    """CIPP's access check refusing the request (``Test-CIPPAccess.ps1``): 403, bare text."""
    return CippRefusal(403, words.encode())


class CippEndpoints:
    """The state and helpers CIPP's endpoints share."""

    def __init__(self, rt: Runtime, exchange: ExchangeService) -> None:
        self.rt = rt
        self.exchange = exchange

    def _param(self, request: Request, *names: str) -> Any:
        body = request.json() if request.method == "POST" and request.body else None
        for name in names:
            for source in (request.query, body if isinstance(body, dict) else {}):
                for key, value in source.items():
                    if key.lower() == name.lower():
                        return value
        return None

    def _tenant(self, request: Request, *names: str) -> Tenant:
        key = self._param(request, *(names or ("tenantFilter",)))
        if isinstance(key, dict):
            key = key.get("value")
        tenant = self.rt.world.tenant(str(key or ""))
        if tenant is None or not (tenant.cipp_manages or tenant.cipp_lost):
            # An API client with every tenant is allowed the tenants of CIPP's list, no other
            # (Test-CIPPAccess.ps1: "AllTenants" -> $Tenants.customerId).
            raise refused("Access to this tenant is not allowed")
        if tenant.cipp_lost:
            # Listed, so allowed; but CIPP gets no token there: the endpoint fails, 403.
            raise CippRefusal(403, [NO_TOKEN.format(tenant=tenant.initial_domain)])
        return tenant

    def _now(self) -> float:
        return self.rt.clock.now()

    def _user(self, tenant: Tenant, key: Any) -> User | None:
        k = str(key or "").lower()
        user = tenant.users.get(k) or tenant.user_by_upn(k)
        return user if user is not None and user.deleted_at is None else None

    def _listed(self) -> list[Tenant]:
        """CIPP's tenant list: its GDAP customers, reachable or not."""
        return [
            t
            for t in self.rt.world.tenants.values()
            if (t.cipp_manages or t.cipp_lost) and t.gdap is not None and t.gdap.status == "active"
        ]

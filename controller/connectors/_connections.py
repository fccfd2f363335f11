"""``Connections``: the one object that owns the HTTP client and the token provider.

Observe and apply open one per run (``async with Connections(settings) as connections``) and
ask it for a client per tenant. Clients are cheap views over the shared core; tokens and
connections are reused across all of them.
"""

from __future__ import annotations

import asyncio
import random as random_module
import time
from collections.abc import Callable
from types import TracebackType

import httpx

from controller.connectors._accounting import Accounting
from controller.connectors._auth import Resource, TokenProvider
from controller.connectors._exchange_adapter import ExchangeAdapter
from controller.connectors._exchange_cipp import CippExchange
from controller.connectors._exchange_direct import DirectExchange
from controller.connectors._http import Clock, HttpCore, Route, Sleep, TokenSource
from controller.connectors._retry import RetryPolicy
from controller.connectors._settings import ConnectionSettings
from controller.connectors.cipp import CippClient
from controller.connectors.exchange import ExchangeClient
from controller.connectors.graph import GraphClient
from controller.connectors.partner_center import PartnerCenterClient
from controller.errors import UsageError
from controller.models.observed import ExchangeRoute


class Connections:
    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tokens: TokenProvider | None = None,
        per_tenant_concurrency: int = 4,
        connections_per_host: int = 64,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        """``transport`` replaces the network for every service but login (tests use
        :class:`httpx.MockTransport`); ``tokens`` replaces the token provider (tests give one
        over a mock login transport). ``connections_per_host``: keep-alive connections to each service host, sized to the
        requests in flight at once (tenants observed at once x ``per_tenant_concurrency``)."""
        self.settings = settings
        self.tokens = tokens or TokenProvider(settings)
        self.accounting = Accounting()
        self.core = HttpCore(
            ca_bundle=settings.ca_bundle,
            transport=transport,
            timeout=timeout,
            per_tenant_concurrency=per_tenant_concurrency,
            connections_per_host=connections_per_host,
            retry=retry,
            sleep=sleep,
            clock=clock,
            random=random,
            accounting=self.accounting,
        )

    def _token(self, tenant_id: str, resource: Resource) -> TokenSource:
        async def token() -> str:
            return await self.tokens.token(tenant_id, resource)

        return token

    def prefetch_token(self, tenant_id: str, resource: Resource) -> None:
        """Get ``resource``'s token for ``tenant_id`` under way while other reads run."""
        self.tokens.prefetch(tenant_id, resource)

    def graph(self, tenant_id: str) -> GraphClient:
        base = self.settings.endpoints.graph
        route = Route("graph", tenant_id, f"{base}/v1.0", self._token(tenant_id, "graph"))
        return GraphClient(
            self.core, route, graph_base=base, page_size=self.settings.endpoints.graph_page_size
        )

    def partner_graph(self) -> GraphClient:
        """Graph in the partner tenant (GDAP customers and relationships)."""
        return self.graph(self.settings.partner_tenant_id)

    def exchange(self, tenant_id: str) -> ExchangeClient:
        base = f"{self.settings.endpoints.exchange}/adminapi/beta"
        return ExchangeClient(
            self.core, Route("exchange", tenant_id, base, self._token(tenant_id, "exchange"))
        )

    def cipp(self) -> CippClient:
        cipp = self.settings.cipp
        if cipp is None:
            raise UsageError("CIPP is not configured: add spec.cipp to msp.yaml")
        route = Route(
            "cipp", cipp.tenant_id, f"{cipp.base_url}/api", self._token(cipp.tenant_id, "cipp")
        )
        return CippClient(self.core, route)

    def exchange_adapter(self, tenant_id: str, route: ExchangeRoute) -> ExchangeAdapter:
        """The tenant's distribution groups, shared mailboxes and mailbox permissions through
        ``route``: Exchange admin REST (``direct``) or CIPP (``cipp``). Observe picks the route
        per tenant and the plan carries it to apply."""
        if route == "direct":
            return DirectExchange(self.exchange(tenant_id))
        if route == "cipp":
            return CippExchange(self.cipp(), tenant_id)
        raise ValueError(f"no Exchange route {route!r}")

    def partner_center(self) -> PartnerCenterClient:
        tenant = self.settings.partner_tenant_id
        route = Route(
            "partnerCenter",
            tenant,
            self.settings.endpoints.partner_center,
            self._token(tenant, "partnerCenter"),
        )
        return PartnerCenterClient(self.core, route)

    async def aclose(self) -> None:
        await self.core.aclose()
        await self.tokens.aclose()

    async def __aenter__(self) -> Connections:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

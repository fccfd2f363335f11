"""What the executors of one tenant share while its operations run: the clients, the secret
sink, the ids of what this run created, and the tenant's Exchange route.

Ids that are ``null`` in params belong to objects this plan creates: the create executor
records the new id in :attr:`TenantSession.created` and the dependents read it from there
(falling back to a lookup by address, so a re-run after a crash still finds an object created
before it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from controller.apply.secret_sink import SecretSink, StoredSecret
from controller.connectors import CippClient, Connections, ExchangeAdapter, GraphClient
from controller.errors import NeedsHuman, NotFound
from controller.models import EXCHANGE_KINDS
from controller.models.observed import ExchangeRoute
from controller.plan import Backend, TenantPlan

# The backend the planner gives Exchange operations -> the route they go through.
_ROUTES: dict[Backend, ExchangeRoute] = {Backend.EXCHANGE: "direct", Backend.CIPP: "cipp"}


def exchange_route(tenant: TenantPlan) -> ExchangeRoute | None:
    """The route of the tenant's Exchange operations. The planner gives them all the route
    observe read Exchange through (but the manual steps, which a person does); a plan whose
    Exchange operations name none, or several (an edited plan), has none, and those
    operations fail."""
    routes = {
        _ROUTES.get(op.backend)
        for op in tenant.operations
        if op.kind in EXCHANGE_KINDS and not op.is_manual
    }
    return routes.pop() if len(routes) == 1 else None


@dataclass
class TenantSession:
    """One tenant's apply: its executors share this."""

    tenant: str
    tenant_id: str
    connections: Connections
    sink: SecretSink
    now: dt.datetime
    run_id: int
    exchange_route: ExchangeRoute | None = None
    created: dict[tuple[str, str], str] = field(default_factory=dict)
    _exchange: ExchangeAdapter | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(
        cls,
        tenant: TenantPlan,
        connections: Connections,
        *,
        sink: SecretSink,
        now: dt.datetime,
        run_id: int,
    ) -> TenantSession:
        return cls(
            tenant=tenant.name,
            tenant_id=tenant.tenant_id,
            connections=connections,
            sink=sink,
            now=now,
            run_id=run_id,
            exchange_route=exchange_route(tenant),
        )

    @property
    def graph(self) -> GraphClient:
        return self.connections.graph(self.tenant_id)

    @property
    def cipp(self) -> CippClient:
        return self.connections.cipp()

    @property
    def exchange(self) -> ExchangeAdapter:
        """Distribution groups, shared mailboxes and permissions, through the tenant's route
        (chosen once, for all its Exchange operations)."""
        if self._exchange is None:
            if self.exchange_route is None:
                raise NeedsHuman(
                    f"the plan's Exchange operations for {self.tenant} do not name one route "
                    "(exchange or cipp): plan again",
                    service="exchange",
                    tenant=self.tenant_id,
                )
            self._exchange = self.connections.exchange_adapter(self.tenant_id, self.exchange_route)
        return self._exchange

    async def store_password(
        self, op_id: str, upn: str, purpose: str, password: str
    ) -> StoredSecret:
        """The password in the secret sink, before anything uses it: a vault call runs on a
        worker thread (the SDK is synchronous), so the tenant's other work is not held up."""
        return await asyncio.to_thread(
            self.sink.store,
            tenant=self.tenant,
            upn=upn,
            purpose=purpose,
            secret=password,
            now=self.now,
            run_id=self.run_id,
            operation=op_id,
        )

    async def check_sink(self) -> None:
        """Raise :class:`SecretNotStored` when the sink could not store a password now."""
        await asyncio.to_thread(self.sink.check)

    async def void_password(self, stored: StoredSecret) -> None:
        """The service refused the password: it stands for nothing."""
        await asyncio.to_thread(self.sink.void, stored)

    async def user_id(self, given: str | None, upn: str) -> str:
        """A user's id: the plan's, this run's create's, or looked up by UPN."""

        async def look_up() -> str | None:
            found = await self.graph.find_user(upn)
            return None if found is None else str(found["id"])

        return await self._id(given, "user", upn, look_up, f"user {upn} does not exist")

    async def group_id(self, given: str | None, nickname: str) -> str:
        """A group's id: the plan's, this run's create's, or looked up by mailNickname."""

        async def look_up() -> str | None:
            found = await self.graph.find_groups(nickname)
            return str(found[0]["id"]) if len(found) == 1 else None

        missing = f"group {nickname} not found (or not unique)"
        return await self._id(given, "group", nickname, look_up, missing)

    async def _id(
        self,
        given: str | None,
        kind: str,
        key: str,
        look_up: Callable[[], Awaitable[str | None]],
        missing: str,
    ) -> str:
        found = given or self.created_id(kind, key) or await look_up()
        if found is None:
            raise NotFound(missing, service="graph", tenant=self.tenant_id)
        return found

    def created_id(self, kind: str, address: str) -> str | None:
        """The id of the object this run created with ``address``, if it did."""
        return self.created.get((kind, address.lower()))

"""Observe: read every tenant's real state through the connectors.

``translate`` is pure (service JSON -> observed values); ``partner`` holds every read of the
partner tenant (GDAP) and CIPP's tenant list, ``tenant`` the reads of one customer tenant, and
``exchange`` the reads of Exchange objects through the tenant's route (an Exchange adapter of
the connectors, direct or CIPP). Tenants
are observed concurrently under a bound; a tenant that fails to observe is reported as
unknown in every area and the others go on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence

from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Connections
from controller.event_loop import gather_or_cancel
from controller.models import TenantConfig
from controller.models.observed import ObservedTenant, Unknown
from controller.observe.partner import PartnerFacts, check_connections, read_partner_facts
from controller.observe.tenant import TenantObserver

__all__ = [
    "ObservedTenant",
    "PartnerFacts",
    "TenantObserver",
    "check_connections",
    "observe_estate",
    "read_partner_facts",
]


async def observe_estate(
    tenants: Sequence[TenantConfig],
    connections: Connections,
    *,
    app_id: str,
    cipp: bool,
    now: dt.datetime,
    concurrency: int = TENANTS_AT_ONCE,
    on_done: Callable[[ObservedTenant], None] | None = None,
    partner: PartnerFacts | None = None,
    read_all: bool = False,
    read_reports: bool = False,
) -> dict[str, ObservedTenant]:
    """Observe ``tenants`` concurrently. ``read_all``: every group's members and every
    mailbox's permissions, not only the declared ones (``tenantctl import``, ``get``);
    ``read_reports``: the MFA and risky-user reports without a declared check (``get users``)."""
    if partner is None:
        partner = await read_partner_facts(connections, cipp=cipp)
    observer = TenantObserver(
        connections,
        app_id=app_id,
        partner=partner,
        now=now,
        read_all=read_all,
        read_reports=read_reports,
    )
    bound = asyncio.Semaphore(concurrency)

    async def one(tenant: TenantConfig) -> ObservedTenant:
        async with bound:
            try:
                observed = await observer.observe(tenant)
            except Exception as error:  # one tenant's bug or fault never stops the others
                unknown = Unknown(
                    "error", f"observing the tenant failed: {type(error).__name__}: {error}"
                )
                observed = ObservedTenant.unreachable(
                    tenant.metadata.name, tenant.metadata.tenant_id, now, unknown
                )
        if on_done is not None:
            on_done(observed)
        return observed

    results = await gather_or_cancel(*(one(t) for t in tenants))
    return {o.name: o for o in results}

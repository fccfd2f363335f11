"""Shared by the ``test_connectors_*`` modules: run connector code against a sandbox whose
virtual clock is the only clock the connectors see (retry sleeps advance it, the replication
budget is measured on it), so no test waits and a delay of minutes costs nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from controller.connectors import Connections, ConnectionSettings
from controller.models import DesiredState
from controller.reconcile import sandbox_settings
from controller.sandbox import Sandbox

T = TypeVar("T")

PARTNER = "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21"
APP = "3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
FABRIKAM = "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1"
ADATUM = "9d8c7b6a-5f4e-4d3c-a2b1-0f9e8d7c6b5a"
TAILSPIN = "4e3d2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f"
WOODGROVE = "7c6b5a4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d"


def connections(
    sandbox: Sandbox, state: DesiredState, settings: ConnectionSettings | None = None
) -> Connections:
    async def sleep(seconds: float) -> None:
        sandbox.clock.advance(seconds)

    return Connections(
        settings or sandbox_settings(state.msp, sandbox),
        sleep=sleep,
        clock=sandbox.clock.now,
    )


def run(
    sandbox: Sandbox,
    state: DesiredState,
    body: Callable[[Connections], Awaitable[T]],
    settings: ConnectionSettings | None = None,
) -> T:
    """``body(connections)`` on a fresh :class:`Connections`, closed afterwards."""

    async def go() -> T:
        async with connections(sandbox, state, settings) as opened:
            return await body(opened)

    return asyncio.run(go())


def user_by_upn(sandbox: Sandbox, tenant: str, upn: str) -> Any:
    return sandbox.world.tenants[tenant].user_by_upn(upn)


def group_by_nickname(sandbox: Sandbox, tenant: str, nickname: str) -> Any:
    found = [
        g
        for g in sandbox.world.tenants[tenant].groups.values()
        if g.mail_nickname == nickname and g.deleted_at is None
    ]
    assert len(found) == 1, found
    return found[0]

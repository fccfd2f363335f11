"""Shared fixtures for the connector tests: settings, a fake clock and sleep, fake tokens,
and Connections wired to an ``httpx.MockTransport``. Nothing here reaches the network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from controller.connectors import (
    CippSettings,
    ClientSecret,
    Connections,
    ConnectionSettings,
    RetryPolicy,
    endpoints_for,
)

T = TypeVar("T")

PARTNER = "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21"
CLIENT = "3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
CIPP_CLIENT = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
TENANT = "6f1c0d4e-0000-4000-8000-000000000001"
SECRET = "partner-s3cret-VALUE"
CIPP_SECRET = "cipp-s3cret-VALUE"
GRAPH = "https://graph.microsoft.com/v1.0"
CIPP_BASE = "https://cipp.example.test"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def make_settings(
    *, cipp: bool = True, overrides: dict[str, str] | None = None, ca_bundle: Path | None = None
) -> ConnectionSettings:
    return ConnectionSettings(
        endpoints=endpoints_for("global", overrides),
        partner_tenant_id=PARTNER,
        client_id=CLIENT,
        credential=ClientSecret(SECRET, source="env:TENANTCTL_CLIENT_SECRET"),
        ca_bundle=ca_bundle,
        cipp=CippSettings(
            CIPP_BASE,
            PARTNER,
            CIPP_CLIENT,
            ClientSecret(CIPP_SECRET, source="env:CIPP_CLIENT_SECRET"),
        )
        if cipp
        else None,
    )


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeTokens:
    """Stands in for TokenProvider: a distinct, recognisable token per tenant and resource."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def token(self, tenant_id: str, resource: str) -> str:
        self.calls.append((tenant_id, resource))
        return f"eyJ-token-{resource}-{tenant_id[:4]}"

    def prefetch(self, tenant_id: str, resource: str) -> None:
        pass

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def connect(fake_time: FakeTime) -> Callable[..., Connections]:
    def build(handler: Handler, **options: Any) -> Connections:
        return Connections(
            options.pop("settings", make_settings()),
            transport=httpx.MockTransport(handler),
            tokens=FakeTokens(),  # type: ignore[arg-type]
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            random=lambda: 1.0,
            retry=options.pop("retry", RetryPolicy()),
            **options,
        )

    return build


def body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def graph_error(status: int, code: str, message: str = "boom", **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"request-id": "req-123", **headers},
        json={"error": {"code": code, "message": message, "innerError": {"request-id": "req-123"}}},
    )

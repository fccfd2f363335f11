"""Fixtures: Microsoft's Graph SDK for Python (msgraph-sdk) pointed at the sandbox's Graph over
HTTPS, trusting the sandbox's CA, with a token from the sandbox's login (a static token
provider: no azure-identity credential), retries off so nothing waits on the wall clock."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

with warnings.catch_warnings():
    # kiota's module warns, as it is imported, about a name of its own it deprecated.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kiota_abstractions.default_query_parameters  # noqa: F401
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import GraphClientFactory

from controller.sandbox import Sandbox, default_scenario
from tests.sandbox.conftest import token

T = TypeVar("T")


class StaticToken(AccessTokenProvider):
    """The sandbox login's token for one tenant, for the sandbox's Graph host only."""

    def __init__(self, access_token: str, host: str) -> None:
        self._token = access_token
        self._hosts = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


class Sdk:
    """Runs SDK calls against the sandbox as one tenant (``run`` is synchronous)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def run(self, tenant: str, call: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        async def go() -> T:
            base = self.sandbox.endpoints["graph"]
            auth = BaseBearerTokenAuthenticationProvider(
                StaticToken(token(self.sandbox, tenant), urlsplit(base).netloc)
            )
            transport = httpx.AsyncHTTPTransport(verify=self.sandbox.ssl_context(), trust_env=False)
            http = GraphClientFactory.create_with_default_middleware(
                client=httpx.AsyncClient(transport=transport, base_url=f"{base}/v1.0"),
                options={RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0)},
            )
            adapter = GraphRequestAdapter(auth, client=http)
            adapter.base_url = f"{base}/v1.0"
            try:
                return await call(GraphServiceClient(request_adapter=adapter))
            finally:
                # The SDK's middleware transport does not close the one it wraps.
                await transport.aclose()
                await http.aclose()

        return asyncio.run(go())


@pytest.fixture
def sdk() -> Iterator[Sdk]:
    with Sandbox(default_scenario()) as sandbox:
        yield Sdk(sandbox)

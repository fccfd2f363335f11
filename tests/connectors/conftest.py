"""Shared fixtures for the connector tests: settings, a fake clock and sleep, fake tokens, a
fake Entra login for MSAL (:class:`FakeLogin`), and Connections wired to an
``httpx.MockTransport``. Nothing here reaches the network."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from controller.connectors import (
    CippSettings,
    ClientSecret,
    Connections,
    ConnectionSettings,
    RetryPolicy,
    TokenProvider,
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
LOGIN = "https://login.microsoftonline.com"


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


@dataclass(frozen=True)
class Sent:
    """A request MSAL sent to :class:`FakeLogin`: its form body parsed as ``parse_qs`` does."""

    method: str
    url: str
    headers: Mapping[str, str]
    form: dict[str, list[str]]


Answer = Callable[[Sent], httpx.Response]


class FakeLogin:
    """Entra's login endpoints for MSAL, over an ``httpx.MockTransport`` (:attr:`transport`).

    Requests are routed by method and URL (without its query) to canned answers; a later
    answer for the same route replaces the earlier one. Every request is recorded in
    :attr:`requests`. One that has no answer gets a 404 and is recorded in :attr:`unexpected`
    as well, which the ``fake_login`` fixture requires to be empty when the test ends: no
    request goes anywhere a test did not say."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], Answer] = {}
        self.requests: list[Sent] = []
        self.unexpected: list[Sent] = []
        self.transport = httpx.MockTransport(self._handle)

    def provider(self, settings: ConnectionSettings, **options: Any) -> TokenProvider:
        """A token provider whose MSAL logs in here."""
        return TokenProvider(settings, transport=self.transport, **options)

    def answer(
        self,
        method: str,
        url: str,
        *,
        json: Any,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer ``method url`` with ``json`` from now on."""
        self.respond(method, url, lambda _: httpx.Response(status, json=json, headers=headers))

    def respond(self, method: str, url: str, answer: Answer) -> None:
        """Answer ``method url`` with what ``answer`` makes of each request, from now on."""
        self._answers[(method, url)] = answer

    def discovery(self, login: str = LOGIN, tenant: str = TENANT) -> None:
        """The tenant's OIDC discovery document; Microsoft's instance discovery too, which
        MSAL may ask for the authority's aliases when it handles an error (no test needs it)."""
        if login == LOGIN:
            self.answer(
                "GET",
                f"{LOGIN}/common/discovery/instance",
                json={
                    "tenant_discovery_endpoint": (
                        f"{LOGIN}/{tenant}/v2.0/.well-known/openid-configuration"
                    ),
                    "metadata": [
                        {
                            "preferred_network": "login.microsoftonline.com",
                            "aliases": ["login.microsoftonline.com"],
                        }
                    ],
                },
            )
        self.answer(
            "GET",
            f"{login}/{tenant}/v2.0/.well-known/openid-configuration",
            json={
                "token_endpoint": f"{login}/{tenant}/oauth2/v2.0/token",
                "authorization_endpoint": f"{login}/{tenant}/oauth2/v2.0/authorize",
                "issuer": f"{login}/{tenant}/v2.0",
            },
        )

    def token_ok(
        self, login: str = LOGIN, tenant: str = TENANT, token: str = "at-1", expires_in: int = 3599
    ) -> None:
        self.answer(
            "POST",
            f"{login}/{tenant}/oauth2/v2.0/token",
            json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
        )

    def token_error(
        self, code: int, status: int = 401, login: str = LOGIN, tenant: str = TENANT
    ) -> None:
        """The token endpoint refuses with ``AADSTS{code}``, the way Entra words it."""
        self.answer(
            "POST",
            f"{login}/{tenant}/oauth2/v2.0/token",
            status=status,
            json=aadsts_error(code),
        )

    def token_requests(self) -> list[dict[str, list[str]]]:
        """The form bodies of the token requests, in order."""
        return [
            sent.form
            for sent in self.requests
            if sent.method == "POST" and sent.url.endswith("/token")
        ]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        sent = Sent(
            request.method,
            str(request.url),
            dict(request.headers),
            parse_qs(request.content.decode()),
        )
        self.requests.append(sent)
        answer = self._answers.get((request.method, str(request.url.copy_with(query=None))))
        if answer is None:
            self.unexpected.append(sent)
            return httpx.Response(
                404, json={"error": "not_found", "error_description": "FakeLogin: no answer"}
            )
        return answer(sent)


def aadsts_error(code: int) -> dict[str, Any]:
    """An error body of Entra's token endpoint."""
    return {
        "error": "invalid_client",
        "error_description": f"AADSTS{code}: something went wrong.\r\nTrace ID: t\r\nCorrelation ID: corr-1",
        "error_codes": [code],
        "correlation_id": "corr-1",
    }


@pytest.fixture
def fake_login() -> Iterator[FakeLogin]:
    fake = FakeLogin()
    yield fake
    assert fake.unexpected == [], f"requests with no answer: {fake.unexpected}"


def self_signed_certificate() -> tuple[str, str]:
    """A certificate credential: its private key (PEM) and its SHA-1 thumbprint (hex)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenantctl-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, cert.fingerprint(hashes.SHA1()).hex().upper()

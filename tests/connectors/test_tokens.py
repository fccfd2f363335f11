"""Tokens through MSAL, its login endpoints answered by a :class:`FakeLogin` through the token
provider's ``transport``: each AADSTS code becomes the right typed error, tokens are reused
until they expire, certificate and federated-assertion credentials, per-resource scopes,
overridden login endpoints without Microsoft's instance discovery, discovery once per cloud,
prefetched and concurrent token requests. MSAL over a ``requests`` session, mocked by
``responses``: ``forget`` after MSAL's cached 400, and a private CA bundle that
``REQUESTS_CA_BUNDLE`` cannot override."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import msal
import pytest

from controller.connectors import (
    ClientAssertion,
    ClientCertificate,
    ConnectionSettings,
    TokenProvider,
)
from controller.connectors._http import ssl_context
from controller.errors import (
    ConsentMissing,
    CredentialError,
    ServiceError,
    ServiceFault,
    TemporaryError,
    Throttled,
    Transient,
    UnknownTenant,
)
from controller.sandbox._tls import ensure_certificates
from tests.connectors.conftest import (
    CIPP_CLIENT,
    CIPP_SECRET,
    CLIENT,
    LOGIN,
    PARTNER,
    SECRET,
    TENANT,
    FakeLogin,
    aadsts_error,
    make_settings,
    run,
    self_signed_certificate,
)

T = TypeVar("T")


def run_then_close(tokens: TokenProvider, scenario: Coroutine[Any, Any, T]) -> T:
    """``scenario`` on one event loop, then ``tokens`` closed on that loop."""

    async def go() -> T:
        try:
            return await scenario
        finally:
            await tokens.aclose()

    return run(go())


def test_token_is_acquired_and_reused_until_it_expires(fake_login: FakeLogin) -> None:
    fake_login.discovery()
    fake_login.token_ok(token="at-1")
    tokens = fake_login.provider(make_settings())

    async def twice() -> None:
        assert await tokens.token(TENANT, "graph") == "at-1"
        http_calls = len(fake_login.requests)
        assert await tokens.token(TENANT, "graph") == "at-1"
        assert len(fake_login.requests) == http_calls  # served from MSAL's cache: no HTTP at all

    run_then_close(tokens, twice())
    sent = fake_login.token_requests()[0]
    assert sent["scope"] == ["https://graph.microsoft.com/.default"]
    assert sent["client_id"] == [CLIENT] and sent["client_secret"] == [SECRET]


def test_an_expired_token_is_fetched_again(fake_login: FakeLogin) -> None:
    fake_login.discovery()
    fake_login.token_ok(token="short", expires_in=1)  # inside MSAL's refresh window: stale
    tokens = fake_login.provider(make_settings())

    async def twice() -> None:
        await tokens.token(TENANT, "graph")
        await tokens.token(TENANT, "graph")

    run_then_close(tokens, twice())
    assert len(fake_login.token_requests()) == 2


def test_each_resource_has_its_scope_and_cipp_uses_its_own_client_and_tenant(
    fake_login: FakeLogin,
) -> None:
    fake_login.discovery()
    fake_login.token_ok()
    fake_login.discovery(tenant=PARTNER)
    fake_login.token_ok(tenant=PARTNER)
    tokens = fake_login.provider(make_settings())

    async def three() -> None:
        await tokens.token(TENANT, "exchange")
        await tokens.token(PARTNER, "partnerCenter")
        await tokens.token(TENANT, "cipp")  # always from CIPP's tenant

    run_then_close(tokens, three())
    sent = fake_login.token_requests()
    assert sent[0]["scope"] == ["https://outlook.office365.com/.default"]
    assert sent[1]["scope"] == ["https://api.partnercenter.microsoft.com/.default"]
    assert sent[2]["scope"] == [f"api://{CIPP_CLIENT}/.default"]
    assert sent[2]["client_id"] == [CIPP_CLIENT] and sent[2]["client_secret"] == [CIPP_SECRET]
    assert fake_login.requests[-1].url.startswith(f"{LOGIN}/{PARTNER}/")


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (7000229, ConsentMissing, f"{LOGIN}/{TENANT}/adminconsent?client_id={CLIENT}"),
        (65001, ConsentMissing, "adminconsent"),
        (700016, CredentialError, "was not found"),
        (7000215, CredentialError, "is wrong"),
        (7000222, CredentialError, "has expired"),
        (90002, UnknownTenant, "does not exist"),
        (50001, ServiceFault, "AADSTS50001"),
    ],
)
def test_aadsts_codes_become_typed_errors(
    code: int,
    kind: type[ServiceError],
    words: str,
    caplog: pytest.LogCaptureFixture,
    fake_login: FakeLogin,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_login.discovery()
    fake_login.token_error(code, status=400 if code in (7000229, 65001) else 401)
    tokens = fake_login.provider(make_settings())
    with pytest.raises(kind) as raised:
        run_then_close(tokens, tokens.token(TENANT, "graph"))
    error = raised.value
    assert words in str(error)
    assert error.code == f"AADSTS{code}" and error.request_id == "corr-1"
    assert error.tenant == TENANT and error.service == "login"
    assert SECRET not in str(error) and SECRET not in caplog.text


def test_unknown_tenant_found_during_discovery(fake_login: FakeLogin) -> None:
    fake_login.answer(
        "GET",
        f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
        status=400,
        json={
            "error": "invalid_tenant",
            "error_codes": [90002],
            "error_description": "AADSTS90002: Tenant not found.",
        },
    )
    tokens = fake_login.provider(make_settings())
    with pytest.raises(UnknownTenant):
        run_then_close(tokens, tokens.token(TENANT, "graph"))


@pytest.mark.parametrize(
    ("codes", "description"),
    [
        (
            [900023],
            "AADSTS900023: Specified tenant identifier 'x' is neither a valid DirectoryName",
        ),
        (
            [50000],
            "AADSTS50000: There was an error.\r\nTrace ID: 6a190002-aa11-4b3c-9d8e-0f1a2b3c4d5e",
        ),
    ],
)
def test_a_discovery_refused_for_another_reason_is_not_an_unknown_tenant(
    fake_login: FakeLogin, codes: list[int], description: str
) -> None:
    """Only AADSTS90002 in ``error_codes`` says the tenant does not exist; "90002" inside
    another code or a trace id is no such word."""
    fake_login.answer(
        "GET",
        f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
        status=400,
        json={"error": "invalid_request", "error_codes": codes, "error_description": description},
    )
    tokens = fake_login.provider(make_settings())
    with pytest.raises(ServiceFault, match="cannot discover the authority") as raised:
        run_then_close(tokens, tokens.token(TENANT, "graph"))
    assert not isinstance(raised.value, UnknownTenant)
    assert raised.value.status == 400


def test_consent_granted_after_a_refusal_is_seen_by_the_next_request(
    fake_login: FakeLogin,
) -> None:
    """MSAL answered a token endpoint's 400 from its throttling cache for 60 s per app, so a
    consent granted meanwhile went unseen until ``forget``. MSAL never sees an answer now:
    the next request asks Entra. ``forget`` still drops the token held from before (issued
    before the new roles)."""
    fake_login.discovery()
    fake_login.token_error(7000229, status=400)
    tokens = fake_login.provider(make_settings())

    async def scenario() -> list[str]:
        with pytest.raises(ConsentMissing):
            await tokens.token(TENANT, "graph")
        fake_login.token_ok(token="after-consent")
        seen = [await tokens.token(TENANT, "graph")]
        fake_login.token_ok(token="with-new-roles")
        seen.append(await tokens.token(TENANT, "graph"))  # held
        tokens.forget(TENANT)
        seen.append(await tokens.token(TENANT, "graph"))
        return seen

    assert run_then_close(tokens, scenario()) == [
        "after-consent",
        "after-consent",
        "with-new-roles",
    ]
    assert len(fake_login.token_requests()) == 3


def test_overridden_login_skips_instance_discovery(fake_login: FakeLogin) -> None:
    sandbox = "https://login.sandbox.test:8443"
    fake_login.discovery(login=sandbox)
    fake_login.token_ok(login=sandbox, token="sandbox-token")
    tokens = fake_login.provider(make_settings(overrides={"login": sandbox}))
    # Any call to login.microsoftonline.com would be unexpected: the fake has no answer for it.
    assert run_then_close(tokens, tokens.token(TENANT, "graph")) == "sandbox-token"
    assert all(sent.url.startswith(sandbox) for sent in fake_login.requests)
    assert fake_login.unexpected == []


def _jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_certificate_credential_signs_a_client_assertion(fake_login: FakeLogin) -> None:
    pem, thumbprint = self_signed_certificate()
    settings = make_settings()
    settings = ConnectionSettings(
        endpoints=settings.endpoints,
        partner_tenant_id=PARTNER,
        client_id=CLIENT,
        credential=ClientCertificate(pem, thumbprint=thumbprint, source="file:key.pem"),
    )
    fake_login.discovery()
    fake_login.token_ok()
    tokens = fake_login.provider(settings)
    assert run_then_close(tokens, tokens.token(TENANT, "graph")) == "at-1"
    sent = fake_login.token_requests()[0]
    assert "client_secret" not in sent
    assert sent["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    header = _jwt_part(sent["client_assertion"][0], 0)
    expected = base64.urlsafe_b64encode(bytes.fromhex(thumbprint)).decode().rstrip("=")
    assert header["x5t"].rstrip("=") == expected
    assert _jwt_part(sent["client_assertion"][0], 1)["iss"] == CLIENT
    assert pem not in repr(settings)


def test_federated_assertion_is_read_fresh_for_each_token_request(fake_login: FakeLogin) -> None:
    issued = iter(["oidc.token.one", "oidc.token.two"])
    settings = make_settings()
    settings = ConnectionSettings(
        endpoints=settings.endpoints,
        partner_tenant_id=PARTNER,
        client_id=CLIENT,
        credential=ClientAssertion(lambda: next(issued), source="file:/tmp/oidc"),
    )
    fake_login.discovery()
    fake_login.token_ok(expires_in=1)
    tokens = fake_login.provider(settings)

    async def twice() -> None:
        await tokens.token(TENANT, "graph")
        await tokens.token(TENANT, "graph")

    run_then_close(tokens, twice())
    sent = fake_login.token_requests()
    assert [s["client_assertion"] for s in sent] == [["oidc.token.one"], ["oidc.token.two"]]
    assert "client_secret" not in sent[0]


def test_errors_from_an_overridden_login_never_reach_microsoft(fake_login: FakeLogin) -> None:
    sandbox = "https://login.sandbox.test:8443"
    fake_login.discovery(login=sandbox)
    fake_login.answer(
        "POST",
        f"{sandbox}/{TENANT}/oauth2/v2.0/token",
        status=401,
        json={
            "error": "invalid_client",
            "error_codes": [7000222],
            "error_description": "AADSTS7000222: expired",
        },
    )
    tokens = fake_login.provider(make_settings(overrides={"login": sandbox}))
    with pytest.raises(CredentialError, match="expired"):
        run_then_close(tokens, tokens.token(TENANT, "graph"))
    assert all(sent.url.startswith(sandbox) for sent in fake_login.requests)


def test_the_http_core_trusts_the_private_ca_bundle_too(tmp_path: Path) -> None:
    """Token requests and every other call share ``ssl_context``: the public roots (certifi)
    plus ``spec.caBundle``'s CAs."""
    ca_path, _, _ = ensure_certificates(tmp_path / "ca")
    subjects = [str(c.get("subject")) for c in ssl_context(ca_path).get_ca_certs()]
    assert any("tenantctl sandbox CA" in s for s in subjects)
    assert len(subjects) > 1  # the public roots stay trusted as well


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_held_token_is_served_without_msal_until_five_minutes_before_it_expires(
    fake_login: FakeLogin,
) -> None:
    fake_login.discovery()
    fake_login.token_ok(token="at-1", expires_in=3599)
    clock = Clock()
    tokens = fake_login.provider(make_settings(), clock=clock)

    async def over_an_hour() -> None:
        assert await tokens.token(TENANT, "graph") == "at-1"
        clock.now += 3599 - 300 - 1  # still fresh
        assert await tokens.token(TENANT, "graph") == "at-1"
        assert tokens.misses == 1  # the second came from the provider's own cache, not MSAL
        fake_login.token_ok(token="at-2", expires_in=3599)  # replaces the first answer
        clock.now += 2  # inside the refresh margin: MSAL is asked again
        await tokens.token(TENANT, "graph")

    run_then_close(tokens, over_an_hour())
    assert tokens.misses == 2


def test_discovery_is_read_once_per_cloud_and_each_tenant_keeps_its_token_endpoint(
    fake_login: FakeLogin,
) -> None:
    other = "6f1c0d4e-0000-4000-8000-000000000002"
    fake_login.discovery()
    fake_login.token_ok(token="first")
    fake_login.token_ok(tenant=other, token="second")
    tokens = fake_login.provider(make_settings())

    async def two_tenants() -> None:
        assert await tokens.token(TENANT, "graph") == "first"
        assert await tokens.token(other, "graph") == "second"

    run_then_close(tokens, two_tenants())
    discovered = [sent for sent in fake_login.requests if "openid-configuration" in sent.url]
    assert len(discovered) == 1 and tokens.discoveries == 1
    posted = [sent.url for sent in fake_login.requests if sent.method == "POST"]
    assert posted == [
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        f"{LOGIN}/{other}/oauth2/v2.0/token",
    ]


def test_an_unknown_tenant_after_the_first_is_found_by_its_token_request(
    fake_login: FakeLogin,
) -> None:
    other = "6f1c0d4e-0000-4000-8000-000000000003"
    fake_login.discovery()
    fake_login.token_ok()
    fake_login.token_error(90002, status=400, tenant=other)
    tokens = fake_login.provider(make_settings())

    async def two_tenants() -> None:
        await tokens.token(TENANT, "graph")
        with pytest.raises(UnknownTenant):
            await tokens.token(other, "graph")

    run_then_close(tokens, two_tenants())


def test_concurrent_requests_for_one_token_share_one_msal_call(fake_login: FakeLogin) -> None:
    fake_login.discovery()
    fake_login.token_ok()
    tokens = fake_login.provider(make_settings())

    async def many() -> list[str]:
        return list(await asyncio.gather(*(tokens.token(TENANT, "graph") for _ in range(8))))

    assert run_then_close(tokens, many()) == ["at-1"] * 8
    assert tokens.misses == 1 and len(fake_login.token_requests()) == 1


def test_msal_s_requests_run_on_the_event_loop_s_transport_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Token requests go through the httpx transport on the loop, discovery once for two
    tenants; straight to the transport, not through httpx's client and its per-request
    layers (``DirectClient``)."""

    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("httpx.AsyncClient.send was called")

    monkeypatch.setattr(httpx.AsyncClient, "send", refused)
    other = "6f1c0d4e-0000-4000-8000-000000000004"
    seen: list[str] = []

    def login(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        tenant = request.url.path.split("/")[1]
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "token_endpoint": f"{LOGIN}/{tenant}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{LOGIN}/{tenant}/oauth2/v2.0/authorize",
                    "issuer": f"{LOGIN}/{tenant}/v2.0",
                },
            )
        assert parse_qs(request.content.decode())["client_secret"] == [SECRET]
        return httpx.Response(200, json={"access_token": f"at-{tenant[-1]}", "expires_in": 3599})

    settings = make_settings(overrides={"login": LOGIN})
    tokens = TokenProvider(settings, transport=httpx.MockTransport(login))

    async def both() -> list[str]:
        try:
            return [await tokens.token(TENANT, "graph"), await tokens.token(other, "graph")]
        finally:
            await tokens.aclose()

    assert run(both()) == ["at-1", "at-4"]
    assert seen == [
        f"GET /{TENANT}/v2.0/.well-known/openid-configuration",
        f"POST /{TENANT}/oauth2/v2.0/token",
        f"POST /{other}/oauth2/v2.0/token",
    ]


def test_an_unreachable_login_on_the_loop_is_transient() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    tokens = TokenProvider(
        make_settings(overrides={"login": LOGIN}), transport=httpx.MockTransport(down)
    )

    async def one() -> str:
        try:
            return await tokens.token(TENANT, "graph")
        finally:
            await tokens.aclose()

    with pytest.raises(Transient, match="cannot reach"):
        run(one())


def test_a_prefetched_token_is_the_one_handed_out_later(fake_login: FakeLogin) -> None:
    fake_login.discovery()
    fake_login.token_ok(token="early")
    tokens = fake_login.provider(make_settings())

    async def prefetch_then_ask() -> str:
        tokens.prefetch(TENANT, "exchange")
        return await tokens.token(TENANT, "exchange")

    assert run_then_close(tokens, prefetch_then_ask()) == "early"
    assert tokens.misses == 1 and len(fake_login.token_requests()) == 1


def test_a_prefetch_that_failed_surfaces_only_when_the_token_is_asked_for(
    fake_login: FakeLogin,
) -> None:
    fake_login.discovery()
    fake_login.token_error(7000215)
    tokens = fake_login.provider(make_settings())

    async def prefetch_then_ask() -> str:
        tokens.prefetch(TENANT, "graph")
        await asyncio.sleep(0.05)  # let it fail before anyone asks
        return await tokens.token(TENANT, "graph")

    with pytest.raises(CredentialError, match="is wrong"):
        run_then_close(tokens, prefetch_then_ask())


def test_a_token_miss_runs_msal_on_the_event_loop_without_threads(
    fake_login: FakeLogin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MSAL builds the request on the loop's own thread and the loop sends it: no worker
    thread, no hand-offs between threads (four per token, when MSAL ran in a pool)."""
    fake_login.discovery()
    fake_login.token_ok()
    called_on: list[threading.Thread] = []
    acquire = msal.ConfidentialClientApplication.acquire_token_for_client

    def recorded(app: Any, *args: Any, **kwargs: Any) -> Any:
        called_on.append(threading.current_thread())
        return acquire(app, *args, **kwargs)

    monkeypatch.setattr(msal.ConfidentialClientApplication, "acquire_token_for_client", recorded)
    tokens = fake_login.provider(make_settings())
    threads_before = threading.active_count()

    async def miss() -> str:
        token = await tokens.token(TENANT, "graph")
        assert threading.active_count() == threads_before
        return token

    assert run_then_close(tokens, miss()) == "at-1"
    assert called_on == [threading.main_thread()]


def test_a_finished_prefetch_is_held_and_not_requested_again(fake_login: FakeLogin) -> None:
    """A prefetch that ended before anyone asked leaves its token held: asking later is a
    hit, not a second request (nor a second trip through MSAL)."""
    fake_login.discovery()
    fake_login.token_ok(token="early")
    tokens = fake_login.provider(make_settings())

    async def prefetch_then_ask_later() -> str:
        tokens.prefetch(TENANT, "exchange")
        for _ in range(100):
            await asyncio.sleep(0.01)
            if fake_login.token_requests():
                break
        await asyncio.sleep(0.01)
        return await tokens.token(TENANT, "exchange")

    assert run_then_close(tokens, prefetch_then_ask_later()) == "early"
    assert tokens.misses == 1 and len(fake_login.token_requests()) == 1


@pytest.mark.parametrize(("status", "kind"), [(429, Throttled), (503, Transient), (500, Transient)])
def test_a_throttled_or_unavailable_login_is_temporary_with_its_retry_after(
    fake_login: FakeLogin, status: int, kind: type[ServiceError]
) -> None:
    """Entra's token endpoint answers 429 when it throttles and 5xx with
    ``temporarily_unavailable`` when it cannot serve: temporary, with the wait it asks for.
    MSAL raised its own ``MsalServiceError`` for a 5xx, outside the error tree (the tenant
    became unknown as "observing the tenant failed: MsalServiceError")."""
    fake_login.discovery()
    body = aadsts_error(90033) | {"error": "temporarily_unavailable"}
    fake_login.answer(
        "POST",
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        status=status,
        json=body,
        headers={"Retry-After": "7"},
    )
    tokens = fake_login.provider(make_settings())
    with pytest.raises(kind) as caught:
        run_then_close(tokens, tokens.token(TENANT, "graph"))
    error = caught.value
    assert isinstance(error, TemporaryError)
    assert (error.service, error.tenant, error.status) == ("login", TENANT, status)
    assert error.delay == 7.0 and error.code == "AADSTS90033"
    assert error.request_id == "corr-1"


@pytest.mark.parametrize("status", [200, 400])
def test_an_answer_that_is_not_a_token_response_is_a_service_fault(
    fake_login: FakeLogin, status: int
) -> None:
    """A proxy's HTML page (or anything not a JSON object) where the token response should
    be: a located fault, never MSAL's ``ValueError`` with the body logged."""
    fake_login.discovery()
    fake_login.respond(
        "POST",
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        lambda _: httpx.Response(status, text="<html>Sign in to the proxy</html>"),
    )
    tokens = fake_login.provider(make_settings())
    with pytest.raises(ServiceFault, match="not a token response") as caught:
        run_then_close(tokens, tokens.token(TENANT, "graph"))
    assert caught.value.status == status and "<html>" not in str(caught.value)


def test_a_discovery_that_fails_is_located_and_the_next_tenant_reads_its_own(
    fake_login: FakeLogin,
) -> None:
    """The first tenant's discovery answered 503: that tenant's token fails as temporary,
    and the next tenant reads the document itself (nothing half-learned is kept)."""
    other = "6f1c0d4e-0000-4000-8000-000000000004"
    fake_login.answer(
        "GET",
        f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
        status=503,
        json=aadsts_error(90033),
    )
    fake_login.discovery(tenant=other)
    fake_login.token_ok(tenant=other, token="at-other")
    tokens = fake_login.provider(make_settings())

    async def both() -> str:
        with pytest.raises(Transient):
            await tokens.token(TENANT, "graph")
        return await tokens.token(other, "graph")

    assert run_then_close(tokens, both()) == "at-other"
    assert tokens.discoveries == 2

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
import binascii
import datetime
import json
import logging
import ssl
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

from controller.connectors import (
    ClientAssertion,
    ClientCertificate,
    ConnectionSettings,
    TokenProvider,
)
from controller.connectors._http import ssl_context
from controller.connectors._msal_http import requests_session
from controller.errors import (
    ConsentMissing,
    CredentialError,
    ServiceError,
    ServiceFault,
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
    make_settings,
    run,
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


# MSAL over a requests session, mocked by ``responses``: only for the tests that still give
# TokenProvider a session (forget after MSAL's cached 400, the session's CA policy).


def provider(settings: ConnectionSettings, **options: Any) -> TokenProvider:
    """MSAL over a requests session, which ``responses`` mocks."""
    ca_bundle = str(settings.ca_bundle) if settings.ca_bundle else None
    return TokenProvider(settings, session=requests_session(ca_bundle), **options)


def discovery(login: str = LOGIN, tenant: str = TENANT) -> None:
    if login == LOGIN:
        # MSAL asks Microsoft for the authority's aliases when it handles an error.
        responses.get(
            f"{LOGIN}/common/discovery/instance",
            json={
                "tenant_discovery_endpoint": f"{LOGIN}/{tenant}/v2.0/.well-known/openid-configuration",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "aliases": ["login.microsoftonline.com"],
                    }
                ],
            },
        )
    responses.get(
        f"{login}/{tenant}/v2.0/.well-known/openid-configuration",
        json={
            "token_endpoint": f"{login}/{tenant}/oauth2/v2.0/token",
            "authorization_endpoint": f"{login}/{tenant}/oauth2/v2.0/authorize",
            "issuer": f"{login}/{tenant}/v2.0",
        },
    )


def token_ok(
    login: str = LOGIN, tenant: str = TENANT, token: str = "at-1", expires_in: int = 3599
) -> None:
    responses.post(
        f"{login}/{tenant}/oauth2/v2.0/token",
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
    )


def token_error(code: int, status: int = 401, tenant: str = TENANT) -> None:
    responses.post(
        f"{LOGIN}/{tenant}/oauth2/v2.0/token",
        status=status,
        json={
            "error": "invalid_client",
            "error_description": f"AADSTS{code}: something went wrong.\r\nTrace ID: t\r\nCorrelation ID: corr-1",
            "error_codes": [code],
            "correlation_id": "corr-1",
        },
    )


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


@responses.activate
def test_forget_drops_msal_s_cached_400_after_consent_is_granted() -> None:
    discovery()
    token_error(7000229, status=400)
    tokens = provider(make_settings())
    with pytest.raises(ConsentMissing):
        run(tokens.token(TENANT, "graph"))
    # Consent is granted now; MSAL would still answer its cached 400 for 60 s.
    responses.replace(
        responses.POST,
        f"{LOGIN}/{TENANT}/oauth2/v2.0/token",
        json={"access_token": "after-consent", "expires_in": 3599},
    )
    with pytest.raises(ConsentMissing):
        run(tokens.token(TENANT, "graph"))
    tokens.forget(TENANT)
    assert run(tokens.token(TENANT, "graph")) == "after-consent"


def test_overridden_login_skips_instance_discovery(fake_login: FakeLogin) -> None:
    sandbox = "https://login.sandbox.test:8443"
    fake_login.discovery(login=sandbox)
    fake_login.token_ok(login=sandbox, token="sandbox-token")
    tokens = fake_login.provider(make_settings(overrides={"login": sandbox}))
    # Any call to login.microsoftonline.com would be unexpected: the fake has no answer for it.
    assert run_then_close(tokens, tokens.token(TENANT, "graph")) == "sandbox-token"
    assert all(sent.url.startswith(sandbox) for sent in fake_login.requests)
    assert fake_login.unexpected == []


def _roots(context: ssl.SSLContext) -> set[str]:
    return {
        dict(part[0] for part in cert["subject"]).get("commonName", "")
        for cert in context.get_ca_certs()
    }


def test_msal_and_the_http_core_trust_the_same_roots(tmp_path: Path) -> None:
    """One CA policy, as the README documents spec.caBundle: extra CAs on top of the public
    roots (certifi), for token requests (MSAL's requests session) as for every other call."""
    ca_path, _, _ = ensure_certificates(tmp_path / "ca")
    session = requests_session(str(ca_path))
    adapter = session.get_adapter("https://login.microsoftonline.com/")
    assert isinstance(adapter, HTTPAdapter)
    msal_context = adapter.poolmanager.connection_pool_kw.get("ssl_context")
    assert isinstance(msal_context, ssl.SSLContext)
    core_roots = _roots(ssl_context(ca_path))
    assert _roots(msal_context) == core_roots
    assert "tenantctl sandbox CA" in core_roots  # the extra CA, from caBundle
    assert "ISRG Root X1" in core_roots  # a public root, from certifi
    assert session.trust_env is False


@responses.activate
def test_the_environments_ca_bundle_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_path, _, _ = ensure_certificates(tmp_path / "ca")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "somebody-elses.pem"))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "somebody-elses.pem"))
    discovery()
    token_ok()
    run(provider(make_settings(ca_bundle=ca_path)).token(TENANT, "graph"))
    verified = {call.request.req_kwargs["verify"] for call in responses.calls}  # type: ignore[attr-defined]
    assert verified == {True}  # the adapter's context, not a path from the environment


def _certificate() -> tuple[str, str]:
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


def _jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


@pytest.mark.xfail(
    strict=True,
    raises=binascii.Error,
    reason="MSAL hands its signed client_assertion over as bytes, and the transport path "
    "form-encodes bytes as \"b'eyJ...'\" (httpx str()s form values; requests sent the JWT)",
)
def test_certificate_credential_signs_a_client_assertion(fake_login: FakeLogin) -> None:
    pem, thumbprint = _certificate()
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
    from controller.connectors._http import ssl_context

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenantctl private CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    subjects = [str(c.get("subject")) for c in ssl_context(bundle).get_ca_certs()]
    assert any("tenantctl private CA" in s for s in subjects)
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
    """No session given: MSAL's HTTP goes through an httpx transport on the loop (the
    worker thread waits), discovery once for two tenants; straight to the transport, not
    through httpx's client and its per-request layers (``DirectClient``)."""

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

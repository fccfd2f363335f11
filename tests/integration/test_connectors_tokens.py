"""The real :class:`TokenProvider` (MSAL over HTTPS, trusting the sandbox's CA) against the
sandbox's login service: every AADSTS error a person must act on becomes its typed error
(bad secret, expired secret, unknown tenant, app not found, no service principal ->
ConsentMissing with the admin-consent URL), and a token is reused until it expires. A token
request still on the wire when the run closes its connections leaves no TLS connection open."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

import pytest

from controller.connectors import (
    ClientCertificate,
    ClientSecret,
    Connections,
    ConnectionSettings,
    Resource,
    TokenProvider,
)
from controller.connectors._http import ssl_context
from controller.connectors._pool import KeepAliveTransport
from controller.errors import (
    ConsentMissing,
    CredentialError,
    ServiceError,
    TemporaryError,
    Throttled,
    Transient,
    UnknownTenant,
)
from controller.models import DesiredState
from controller.models.observed import Unknown
from controller.reconcile import observe_and_plan, sandbox_settings
from controller.sandbox import Sandbox
from tests.connectors.conftest import self_signed_certificate
from tests.integration.conftest import world_of
from tests.integration.connectors_support import ADATUM, APP, CONTOSO, PARTNER
from tests.unclosed_support import unraisable_after_collect


def _token(settings: ConnectionSettings, tenant: str, resource: Resource = "graph") -> str:
    async def one() -> str:
        provider = TokenProvider(settings)
        try:
            return await provider.token(tenant, resource)
        finally:
            await provider.aclose()

    return asyncio.run(one())


def _error(settings: ConnectionSettings, tenant: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        _token(settings, tenant)
    return caught.value


def test_tokens_for_every_resource_and_reuse(sandbox: Sandbox, demo_state: DesiredState) -> None:
    settings = sandbox_settings(demo_state.msp, sandbox)
    provider = TokenProvider(settings)

    async def body() -> list[str]:
        try:
            return [
                await provider.token(CONTOSO, "graph"),
                await provider.token(CONTOSO, "graph"),
                await provider.token(CONTOSO, "exchange"),
                await provider.token(PARTNER, "partnerCenter"),
                await provider.token(CONTOSO, "cipp"),  # from CIPP's own tenant
            ]
        finally:
            await provider.aclose()

    graph, again, exchange, partner_center, cipp = asyncio.run(body())
    assert graph == again  # from the cache
    assert len({graph, exchange, partner_center, cipp}) == 4
    posts = [r for r in sandbox.requests if r.service == "login" and r.method == "POST"]
    assert len(posts) == 4
    # Discovery: once for the login host, not once per tenant (CONTOSO, PARTNER and CIPP's).
    discovered = [r for r in sandbox.requests if "openid-configuration" in r.path]
    assert len(discovered) == 1


def test_wrong_secret(sandbox: Sandbox, demo_state: DesiredState) -> None:
    settings = dataclasses.replace(
        sandbox_settings(demo_state.msp, sandbox), credential=ClientSecret("not-the-secret")
    )
    error = _error(settings, PARTNER)
    assert isinstance(error, CredentialError) and error.code == "AADSTS7000215"
    assert "wrong" in error.message and "not-the-secret" not in str(error)
    assert error.request_id  # the correlation id, for Microsoft support


def test_expired_secret(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sandbox.world.partner.app.secret_expired = True
    error = _error(sandbox_settings(demo_state.msp, sandbox), PARTNER)
    assert isinstance(error, CredentialError) and error.code == "AADSTS7000222"
    assert "expired" in error.message


def test_unknown_tenant(sandbox: Sandbox, demo_state: DesiredState) -> None:
    error = _error(
        sandbox_settings(demo_state.msp, sandbox), "00000000-1111-4222-8333-444444444444"
    )
    assert isinstance(error, UnknownTenant) and error.code == "AADSTS90002"


def test_app_not_found(sandbox: Sandbox, demo_state: DesiredState) -> None:
    settings = dataclasses.replace(
        sandbox_settings(demo_state.msp, sandbox),
        client_id="99999999-8888-4777-8666-555555555555",
    )
    error = _error(settings, PARTNER)
    assert isinstance(error, CredentialError) and error.code == "AADSTS700016"


def test_no_service_principal_is_consent_missing_with_the_url(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    settings = sandbox_settings(demo_state.msp, sandbox)
    error = _error(settings, ADATUM)
    assert isinstance(error, ConsentMissing) and error.code == "AADSTS7000229"
    assert f"{settings.endpoints.login}/{ADATUM}/adminconsent?client_id={APP}" in error.message


def test_a_token_request_in_flight_when_the_run_ends_leaves_no_connection_open(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    """Observe fetches a tenant's Exchange token ahead while it reads Graph; a run that ends early (Graph refused on a wrong secret) can end with that request
    still on the wire. Its answer used to put the TLS connection back into the closed login
    pool, where nothing closed it: the garbage collector reported it in whichever later test
    it ran in (test_exit_codes, in one CI run of three)."""
    settings = sandbox_settings(demo_state.msp, sandbox)
    login = KeepAliveTransport(ssl_context=ssl_context(settings.ca_bundle))
    arrived, answer = threading.Event(), threading.Event()

    def hold() -> None:  # in the sandbox's thread, before it answers
        arrived.set()
        answer.wait()

    async def run() -> type:
        async with Connections(settings, tokens=TokenProvider(settings, transport=login)) as conns:
            await conns.tokens.token(CONTOSO, "graph")
            sandbox.faults.add("POST", r"/oauth2/v2\.0/token$", service="login", then=hold)
            conns.prefetch_token(CONTOSO, "exchange")
            ahead = asyncio.ensure_future(conns.tokens.token(CONTOSO, "exchange"))
            assert await asyncio.to_thread(arrived.wait, 60)
        answer.set()  # the answer comes after the connections were closed
        (outcome,) = await asyncio.gather(ahead, return_exceptions=True)
        return type(outcome)

    try:
        outcome = asyncio.run(run())
    finally:
        answer.set()
    assert unraisable_after_collect() == []
    assert login.open_connections == 0
    assert outcome is Transient  # the request was cut off: "cannot reach login"


def test_a_certificate_credential_gets_its_tokens(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    """MSAL signs the client assertion (RFC 7523) and hands it over as ``bytes``. Sent on the
    loop's transport it went out as ``b'eyJ...'``, which Entra refuses (AADSTS700027, as the
    sandbox does): every run with a certificate credential failed at its first token."""
    pem, thumbprint = self_signed_certificate()
    settings = dataclasses.replace(
        sandbox_settings(demo_state.msp, sandbox),
        credential=ClientCertificate(pem, thumbprint=thumbprint, source="file:key.pem"),
    )
    assert _token(settings, CONTOSO).count(".") == 2  # a JWT
    (post,) = [r for r in sandbox.requests if r.service == "login" and r.method == "POST"]
    assert post.status == 200


@pytest.mark.parametrize(("status", "kind"), [(503, Transient), (429, Throttled)])
def test_a_login_outage_leaves_the_tenant_unknown_for_a_temporary_reason(
    sandbox: Sandbox, demo_state: DesiredState, status: int, kind: type[ServiceError]
) -> None:
    """Entra's token endpoint answers 5xx (``temporarily_unavailable``, AADSTS90033) or 429
    with Retry-After: temporary, with that wait. MSAL raised ``MsalServiceError`` for the
    5xx, outside the error tree: the tenant was unknown for "MsalServiceError: HTTP Error"
    and nothing told a reader that trying again later would do."""
    sandbox.faults.add(
        "POST",
        r"/oauth2/v2\.0/token$",
        service="login",
        tenant=ADATUM,
        status=status,
        count=None,
        retry_after=30,
    )
    settings = sandbox_settings(demo_state.msp, sandbox)
    error = _error(settings, ADATUM)
    assert type(error) is kind
    assert isinstance(error, TemporaryError) and error.delay == 30.0
    assert (error.status, error.code) == (status, "AADSTS90033")

    result = asyncio.run(observe_and_plan(demo_state, world_of(sandbox, demo_state)))
    adatum = next(o for o in result.observed.values() if o.tenant_id == ADATUM)
    assert isinstance(adatum.users, Unknown)
    assert "MsalServiceError" not in adatum.users.reason
    assert f"HTTP {status}" in adatum.users.reason


def test_the_environments_ca_bundles_are_not_used(
    sandbox: Sandbox, demo_state: DesiredState, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Token requests trust spec.caBundle and the public roots, whatever the environment
    names: a CA bundle from SSL_CERT_FILE or REQUESTS_CA_BUNDLE would decide whom tenantctl
    sends its client secret to behind the configuration's back."""
    elsewhere = tmp_path / "somebody-elses.pem"
    elsewhere.write_text("not a certificate\n")
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(elsewhere))
    assert _token(sandbox_settings(demo_state.msp, sandbox), CONTOSO).count(".") == 2

"""Entra login as MSAL Python sees it: discovery and client credentials work, and each
failure comes back as Entra's own error body with the right AADSTS code and status."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from controller.sandbox import Sandbox
from controller.sandbox._tokens import peek
from tests.sandbox.conftest import ADATUM, APP, CONTOSO, PARTNER, TAILSPIN, msal_app, token


def test_msal_gets_a_token_carrying_tenant_audience_and_roles(sb: Sandbox) -> None:
    claims = peek(token(sb, CONTOSO))
    assert claims is not None
    assert claims["tid"] == CONTOSO
    assert claims["aud"] == sb.endpoints["graph"]
    assert claims["appid"] == APP
    assert "User.ReadWrite.All" in claims["roles"]


def test_tailspin_token_lacks_the_missing_permission(sb: Sandbox) -> None:
    claims = peek(token(sb, TAILSPIN))
    assert claims is not None
    assert "UserAuthenticationMethod.Read.All" not in claims["roles"]


def _error(sb: Sandbox, tenant: str, **kwargs: str) -> dict[str, object]:
    app = msal_app(sb, tenant, **kwargs)  # type: ignore[arg-type]
    result = app.acquire_token_for_client([f"{sb.endpoints['graph']}/.default"])
    assert "access_token" not in result
    return dict(result)


def _assert_entra_shape(body: dict[str, object], code: int) -> None:
    assert body["error_codes"] == [code]
    assert str(body["error_description"]).startswith(f"AADSTS{code}:")
    for key in ("correlation_id", "trace_id", "timestamp"):
        assert body[key]


def test_no_service_principal_is_7000229(sb: Sandbox) -> None:
    _assert_entra_shape(_error(sb, ADATUM), 7000229)


def test_bad_secret_is_7000215(sb: Sandbox) -> None:
    _assert_entra_shape(_error(sb, CONTOSO, secret="wrong"), 7000215)


def test_unknown_app_is_700016(sb: Sandbox) -> None:
    _assert_entra_shape(
        _error(sb, CONTOSO, client_id="11111111-2222-4333-8444-555555555555"), 700016
    )


def test_expired_secret_is_7000222(sb: Sandbox) -> None:
    sb.world.partner.app.secret_expired = True
    _assert_entra_shape(_error(sb, CONTOSO), 7000222)


def test_unknown_tenant_is_90002_at_discovery_and_token_endpoint(sb: Sandbox) -> None:
    unknown = "00000000-1111-4222-8333-444444444444"
    with pytest.raises(ValueError):
        msal_app(sb, unknown)  # MSAL's discovery fails on Entra's 400
    answer = httpx.post(
        f"{sb.endpoints['login']}/{unknown}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": APP,
            "client_secret": "x",
            "scope": f"{sb.endpoints['graph']}/.default",
        },
        verify=sb.ssl_context(),
        trust_env=False,
    )
    assert answer.status_code == 400
    _assert_entra_shape(answer.json(), 90002)


def test_statuses_are_entras(sb: Sandbox) -> None:
    base = sb.endpoints["login"]
    form = {
        "grant_type": "client_credentials",
        "client_id": APP,
        "scope": f"{sb.endpoints['graph']}/.default",
    }
    bad = httpx.post(
        f"{base}/{CONTOSO}/oauth2/v2.0/token",
        data={**form, "client_secret": "no"},
        verify=sb.ssl_context(),
        trust_env=False,
    )
    assert bad.status_code == 401
    missing = httpx.post(
        f"{base}/{ADATUM}/oauth2/v2.0/token",
        data={**form, "client_secret": sb.secrets["partner"]},
        verify=sb.ssl_context(),
        trust_env=False,
    )
    assert missing.status_code == 400


def test_partner_tenant_token_and_cipp_token(sb: Sandbox) -> None:
    graph = peek(token(sb, PARTNER))
    assert graph is not None and "DelegatedAdminRelationship.Read.All" in graph["roles"]
    cipp = peek(token(sb, PARTNER, "cipp"))
    assert cipp is not None and cipp["roles"] == ["admin"]


def _jwt(header: dict[str, object], claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


def _with_assertion(sb: Sandbox, assertion: str) -> httpx.Response:
    return httpx.post(
        f"{sb.endpoints['login']}/{CONTOSO}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": APP,
            "scope": f"{sb.endpoints['graph']}/.default",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        verify=sb.ssl_context(),
        trust_env=False,
    )


def test_a_client_assertion_must_be_a_jwt_and_a_certificates_names_the_token_endpoint(
    sb: Sandbox,
) -> None:
    """Learn, "certificate credentials", "Assertion format": a JWT whose header names its
    ``alg`` (and the certificate: ``x5t`` or ``x5t#S256``), with the app as ``iss`` and
    ``sub`` and the token endpoint as ``aud``. Anything else is refused with 700027: a JWT
    sent as Python's ``b'...'`` text of its bytes, a header that is not JSON, a certificate
    assertion for another audience."""
    endpoint = f"{sb.endpoints['login']}/{CONTOSO}/oauth2/v2.0/token"
    claims = {"iss": APP, "sub": APP, "aud": endpoint, "jti": "1"}
    certificate = {"alg": "RS256", "typ": "JWT", "x5t": "A1bC2dE3fH4iJ5kL6mN7oP8qR9sT0u"}
    good = _jwt(certificate, claims)
    assert _with_assertion(sb, good).status_code == 200
    federated = _jwt({"alg": "RS256", "kid": "idp-key"}, {"iss": APP, "sub": APP})
    assert _with_assertion(sb, federated).status_code == 200
    for refused in (
        f"b'{good}'",  # bytes form-encoded by str()
        "not-a-jwt",
        _jwt({"typ": "JWT"}, claims),  # no alg
        _jwt(certificate, claims | {"aud": f"{sb.endpoints['login']}/common/oauth2/token"}),
    ):
        answer = _with_assertion(sb, refused)
        assert answer.status_code == 401, refused
        _assert_entra_shape(answer.json(), 700027)

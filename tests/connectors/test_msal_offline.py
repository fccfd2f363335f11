"""The HTTP client MSAL is given never touches the network: discovery is answered from the
login host's template with each tenant in place, the token POST is stopped with the request
MSAL built, its form fields as text, and anything else is refused loudly."""

from __future__ import annotations

import json

import msal
import pytest

from controller.connectors._endpoints import CLOUD_ENDPOINTS, Cloud
from controller.connectors._msal_http import (
    Discovery,
    NotOffline,
    Offline,
    Prepared,
    discovery_url,
)

LOGIN = "https://login.microsoftonline.com"
FIRST = "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21"
OTHER = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


def _document(tenant: str) -> str:
    return json.dumps(
        {
            "token_endpoint": f"{LOGIN}/{tenant}/oauth2/v2.0/token",
            "authorization_endpoint": f"{LOGIN}/{tenant}/oauth2/v2.0/authorize",
            "issuer": f"{LOGIN}/{tenant}/v2.0",
        }
    )


def test_each_tenant_s_document_is_the_template_with_its_tenant() -> None:
    discovery = Discovery()
    assert discovery.document(discovery_url(LOGIN, OTHER)) is None
    assert discovery.learn_document(LOGIN, _document(FIRST))
    offline = Offline(discovery)
    answer = offline.get(discovery_url(LOGIN, OTHER))
    assert answer.status_code == 200
    assert json.loads(answer.text) == json.loads(_document(OTHER))
    assert discovery.knows(LOGIN) and not discovery.knows("https://login.microsoftonline.us")


def test_a_document_without_a_tenant_in_its_token_endpoint_is_not_a_template() -> None:
    discovery = Discovery()
    assert not discovery.learn_document(LOGIN, json.dumps({"token_endpoint": f"{LOGIN}/"}))
    assert not discovery.learn_document(LOGIN, "<html>proxy</html>")
    assert discovery.templates == {}


def test_the_token_post_is_stopped_with_the_request_and_its_form_as_text() -> None:
    offline = Offline(Discovery())
    with pytest.raises(Prepared) as stopped:
        offline.post(
            f"{LOGIN}/{FIRST}/oauth2/v2.0/token",
            data={"client_assertion": b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "scope": "x/.default"},
            headers={"Accept": "application/json"},
        )
    request = stopped.value.request
    assert request.url == f"{LOGIN}/{FIRST}/oauth2/v2.0/token"
    # MSAL's signed assertion is bytes: sent as str() it would be "b'eyJ...'".
    assert request.data == {
        "client_assertion": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        "scope": "x/.default",
    }
    assert request.headers == {"Accept": "application/json"}
    # Not an Exception: nothing MSAL wraps around its HTTP client may swallow it.
    assert not isinstance(stopped.value, Exception)


def test_anything_else_msal_asks_for_is_refused_not_fetched() -> None:
    offline = Offline(Discovery())
    with pytest.raises(NotOffline, match="common/discovery/instance"):
        offline.get(f"{LOGIN}/common/discovery/instance?api-version=1.1")
    with pytest.raises(NotOffline):
        offline.get(discovery_url(LOGIN, FIRST))  # no template for the host yet


@pytest.mark.parametrize("cloud", sorted(CLOUD_ENDPOINTS))
def test_msal_asks_nothing_else_of_each_cloud_s_own_login_host(cloud: Cloud) -> None:
    """MSAL skips instance discovery only for the login hosts it knows (its
    ``WELL_KNOWN_AUTHORITY_HOSTS``); for any other it would ask ``common/discovery/instance``,
    which the offline client refuses. Every cloud's own login host builds an app from the
    discovery template alone and stops at its token POST."""
    login = CLOUD_ENDPOINTS[cloud].login
    discovery = Discovery()
    document = _document(FIRST).replace(LOGIN, login)
    assert discovery.learn_document(login, document)
    app = msal.ConfidentialClientApplication(
        "11111111-2222-4333-8444-555555555555",
        client_credential="secret",
        authority=f"{login}/{OTHER}",
        token_cache=msal.TokenCache(),
        http_client=Offline(discovery),
    )
    with pytest.raises(Prepared) as stopped:
        app.acquire_token_for_client(scopes=[f"{CLOUD_ENDPOINTS[cloud].graph}/.default"])
    assert stopped.value.request.url == f"{login}/{OTHER}/oauth2/v2.0/token"
    assert stopped.value.request.data["scope"] == f"{CLOUD_ENDPOINTS[cloud].graph}/.default"

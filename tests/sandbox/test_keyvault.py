"""The sandbox's Key Vault, driven by Microsoft's own SDK (azure-keyvault-secrets with an
azure-identity credential), as the Key Vault secret sink drives it: the challenge (401 with
``WWW-Authenticate`` naming the login authority and ``https://vault.azure.net``, then a token
for ``https://vault.azure.net/.default`` from the sandbox's login), set (a new version each
time), get (latest or by version), versions, update (disable), a disabled version refused,
invalid names refused, and 403 with ``ForbiddenByRbac`` or ``ForbiddenByPolicy`` for an app
the vault does not let in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient

from controller.sandbox import Sandbox
from tests.sandbox.conftest import APP, PARTNER


def vault_client(sb: Sandbox, *, verify_challenge_resource: bool = False) -> SecretClient:
    """The SDK's client for the sandbox's vault, as the partner app (its secret)."""
    credential = ClientSecretCredential(
        PARTNER,
        APP,
        sb.secrets["partner"],
        authority=sb.endpoints["login"],
        disable_instance_discovery=True,
        connection_verify=str(sb.ca_path),
    )
    return SecretClient(
        sb.endpoints["keyVault"],
        credential,
        # Off for 127.0.0.1, which is no *.vault.azure.net.
        verify_challenge_resource=verify_challenge_resource,
        connection_verify=str(sb.ca_path),
    )


@pytest.fixture
def client(sb: Sandbox) -> Iterator[SecretClient]:
    with vault_client(sb) as secret_client:
        yield secret_client


def test_the_sdk_sets_gets_and_lists_versions(sb: Sandbox, client: SecretClient) -> None:
    expires = dt.datetime(2026, 12, 26, 9, 0, tzinfo=dt.UTC)
    first = client.set_secret(
        "tenantctl-contoso-carol", "first-Value-1!", tags={"tenant": "contoso"}, expires_on=expires
    )
    second = client.set_secret(
        "tenantctl-contoso-carol", "second-Value-2!", content_type="text/plain"
    )
    assert first.properties.version != second.properties.version
    assert client.get_secret("tenantctl-contoso-carol").value == "second-Value-2!"
    earlier = client.get_secret("tenantctl-contoso-carol", first.properties.version)
    assert (earlier.value, earlier.properties.tags) == ("first-Value-1!", {"tenant": "contoso"})
    assert earlier.properties.expires_on == expires
    assert earlier.properties.recovery_level == "Recoverable+Purgeable"
    listed = list(client.list_properties_of_secret_versions("tenantctl-contoso-carol"))
    assert {p.version for p in listed} == {first.properties.version, second.properties.version}
    assert (
        earlier.id
        == f"{sb.endpoints['keyVault']}/secrets/tenantctl-contoso-carol/{first.properties.version}"
    )


def test_the_first_request_is_challenged_then_sent_with_a_vault_token(
    sb: Sandbox, client: SecretClient
) -> None:
    client.set_secret("challenged", "value-1234")
    vault = [r for r in sb.requests if r.service == "keyVault"]
    assert [(r.method, r.status) for r in vault] == [("PUT", 401), ("PUT", 200)]
    tokens = [r for r in sb.requests if r.service == "login" and r.path.endswith("/token")]
    assert [r.path for r in tokens] == [f"/{PARTNER}/oauth2/v2.0/token"]
    bare = httpx.get(
        f"{sb.endpoints['keyVault']}/secrets/challenged?api-version=7.5", verify=sb.ssl_context()
    )
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == (
        f'Bearer authorization="{sb.endpoints["login"]}/{PARTNER}", '
        'resource="https://vault.azure.net"'
    )
    assert bare.json()["error"]["code"] == "Unauthorized"


def test_the_sdk_checks_the_challenge_resource_unless_told(sb: Sandbox) -> None:
    with (
        vault_client(sb, verify_challenge_resource=True) as strict,
        pytest.raises(ValueError, match="does not match the requested domain"),
    ):
        strict.set_secret("x", "value-1234")


def test_a_disabled_version_is_not_read(client: SecretClient) -> None:
    version = client.set_secret("voided", "value-1234").properties.version
    assert version is not None
    updated = client.update_secret_properties(
        "voided", version, enabled=False, tags={"voided": "true"}
    )
    assert (updated.enabled, updated.tags) == (False, {"voided": "true"})
    with pytest.raises(HttpResponseError) as refused:
        client.get_secret("voided", version)
    assert refused.value.status_code == 403
    assert refused.value.error is not None
    assert refused.value.error.innererror == {"code": "SecretDisabled"}


def test_unknown_and_invalid_names(client: SecretClient) -> None:
    with pytest.raises(HttpResponseError) as missing:
        client.get_secret("nothing-here")
    assert (missing.value.status_code, missing.value.error and missing.value.error.code) == (
        404,
        "SecretNotFound",
    )
    with pytest.raises(HttpResponseError) as invalid:
        client.set_secret("not_allowed.name", "value-1234")
    assert invalid.value.status_code == 400


@pytest.mark.parametrize(
    ("authorization", "inner", "words"),
    [
        ("rbac", "ForbiddenByRbac", "Caller is not authorized to perform action on resource"),
        ("accessPolicy", "ForbiddenByPolicy", "does not have secrets set permission"),
    ],
)
def test_an_app_without_access_gets_403(
    sb: Sandbox, client: SecretClient, authorization: str, inner: str, words: str
) -> None:
    sb.world.vault.secrets_officers = []
    sb.world.vault.authorization = authorization
    with pytest.raises(HttpResponseError) as refused:
        client.set_secret("tenantctl-contoso-carol", "value-1234")
    error = refused.value.error
    assert refused.value.status_code == 403
    assert error is not None and error.code == "Forbidden"
    assert error.innererror == {"code": inner}
    assert words in (error.message or "")
    assert sb.world.vault.secrets == {}

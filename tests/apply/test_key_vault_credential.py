"""The Key Vault sink's credential, from the partner app's own settings: a client secret, a
certificate (a client assertion signed with its key, ``x5t`` its thumbprint) and a federated
assertion each get a token for ``https://vault.azure.net/.default`` from the sandbox's login in
the partner tenant; ``managedIdentity`` is the runner's managed identity (built, never
called here: its endpoint is the instance metadata service); and a secret name is always
one Key Vault accepts."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import pytest
from azure.identity import ManagedIdentityCredential
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from controller.apply._key_vault import key_vault_credential
from controller.connectors import ClientAssertion, ClientCertificate, ConnectionSettings
from controller.loader import load_desired
from controller.models.msp import KeyVaultSink
from controller.models.naming import key_vault_secret_name
from controller.reconcile import sandbox_settings
from controller.sandbox import Sandbox, default_scenario
from tests.integration.conftest import DESIRED

VAULT = KeyVaultSink(url="https://northwind-tenantctl.vault.azure.net")
SCOPE = "https://vault.azure.net/.default"


@pytest.fixture(scope="module")
def settings() -> Iterator[tuple[Sandbox, ConnectionSettings]]:
    with Sandbox(default_scenario()) as sb:
        yield sb, sandbox_settings(load_desired(DESIRED).msp, sb)


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_the_app_secret(settings: tuple[Sandbox, ConnectionSettings]) -> None:
    sb, given = settings
    token = key_vault_credential(given, VAULT).get_token(SCOPE)
    claims = _claims(token.token)
    assert (claims["aud"], claims["tid"], claims["appid"]) == (
        "https://vault.azure.net",
        sb.world.partner.tenant_id,
        sb.world.partner.app.client_id,
    )


def test_the_app_certificate_signs_an_assertion(
    settings: tuple[Sandbox, ConnectionSettings],
) -> None:
    sb, given = settings
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    thumbprint = "ab" * 20
    with_certificate = ConnectionSettings(
        endpoints=given.endpoints,
        partner_tenant_id=given.partner_tenant_id,
        client_id=given.client_id,
        credential=ClientCertificate(pem, thumbprint=thumbprint),
        ca_bundle=given.ca_bundle,
    )
    before = len(sb.requests)
    token = key_vault_credential(with_certificate, VAULT).get_token(SCOPE)
    assert _claims(token.token)["aud"] == "https://vault.azure.net"
    assert [r.status for r in sb.requests[before:] if r.path.endswith("/token")] == [200]


def test_a_federated_assertion(settings: tuple[Sandbox, ConnectionSettings]) -> None:
    sb, given = settings
    app = sb.world.partner.app.client_id
    body = base64.urlsafe_b64encode(json.dumps({"iss": app, "sub": app}).encode()).decode()
    federated = ConnectionSettings(
        endpoints=given.endpoints,
        partner_tenant_id=given.partner_tenant_id,
        client_id=given.client_id,
        credential=ClientAssertion(lambda: f"eyJhbGciOiJub25lIn0.{body.rstrip('=')}.x"),
        ca_bundle=given.ca_bundle,
    )
    token = key_vault_credential(federated, VAULT).get_token(SCOPE)
    assert _claims(token.token)["tid"] == sb.world.partner.tenant_id


def test_a_managed_identity_unless_told_otherwise(
    settings: tuple[Sandbox, ConnectionSettings],
) -> None:
    _, given = settings
    managed = KeyVaultSink(
        url=VAULT.url,
        credential="managedIdentity",
        managed_identity_client_id="11111111-2222-4333-8444-555555555555",
    )
    assert isinstance(key_vault_credential(given, managed), ManagedIdentityCredential)
    assert not isinstance(
        key_vault_credential(given, managed, managed_identity=False), ManagedIdentityCredential
    )


@pytest.mark.parametrize(
    ("tenant", "upn", "purpose"),
    [
        ("contoso", "carol@contoso.com", "initial-password"),
        ("contoso", "o'brien.x_y@contoso.com", "reset-2026-11-26-reset"),
        ("t", "a" * 200 + "@contoso.com", "initial-password"),
    ],
)
def test_secret_names_are_valid_and_stable(tenant: str, upn: str, purpose: str) -> None:
    name = key_vault_secret_name(tenant, upn, purpose)
    assert re.fullmatch(r"[0-9a-zA-Z-]{1,127}", name)
    assert name == key_vault_secret_name(tenant, upn, purpose)
    assert name.startswith(f"tenantctl-{tenant}-")
    other = key_vault_secret_name(tenant, upn.replace("@", "x@"), purpose)
    assert other != name

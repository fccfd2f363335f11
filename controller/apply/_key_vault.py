"""The Key Vault secret sink: each generated password as one secret in Azure Key Vault.

``secretSink: {keyVault: {url: https://NAME.vault.azure.net, credential: app}}`` in msp.yaml.
A CI runner or a pod that vanishes after the run loses nothing: the password is in the vault,
readable by whoever the vault's access lets read it (docs/security.md).

- **Names** are deterministic, ``tenantctl-<tenant>-<upn>-<purpose>`` cut to Key Vault's
  ``^[0-9a-zA-Z-]{1,127}$`` (``models.naming.key_vault_secret_name``: the plan names the
  secret before apply writes it); each store is a new *version* of that
  secret, so a second reset never overwrites the first one's password.
- **Tags** say what it is for: ``tenant``, ``user`` (the UPN), ``purpose``, ``operation`` (the
  plan's operation id), ``run`` (the journal's run id) and ``writtenBy``; it **expires**
  ``expiresInDays`` after it was written (``expires_on``), and its content type says it is a
  generated password.
- **Credential**: the partner app's own (a client secret, a certificate, or a federated
  assertion), in the partner tenant, through azure-identity; or the runner's managed identity.
- **Trust**: the SDK and the credential send through :func:`vault_transport`, the HTTP client
  MSAL uses for the connectors: the public roots plus ``spec.caBundle``, no proxy or CA from
  the environment, so the vault is trusted exactly as Graph is.
  The SDK's challenge authentication asks the credential for ``https://vault.azure.net/.default``
  in the tenant the vault names.
- **Failures** (a 403 without access, a vault that cannot be reached, a credential refused)
  raise :class:`~controller.errors.SecretNotStored` with what to do: the executor holds the
  operation and sends nothing. A password the service then refused is *voided*: that version
  is disabled and tagged ``voided``, so no enabled secret stands for a password that was never
  set.

The SDK is synchronous: the executors call the sink on a worker thread.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.secrets import SecretClient

from controller.apply.secret_sink import StoredSecret
from controller.connectors import (
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    ConnectionSettings,
)
from controller.errors import SecretNotStored
from controller.models.msp import KeyVaultSink as KeyVaultConfig
from controller.models.naming import key_vault_secret_name as secret_name

__all__ = ["API_VERSION", "KeyVaultSink", "key_vault_credential", "secret_name", "vault_transport"]

#: The Key Vault REST version tenantctl speaks (generally available everywhere).
API_VERSION = "7.5"
CONTENT_TYPE = "text/plain; tenantctl generated password"
# Written before a password reset (KeyVaultSink.check): proof the app may write, no password.
CHECK_SECRET = "tenantctl-write-check"
CHECK_CONTENT_TYPE = "text/plain; tenantctl write check"
_log = logging.getLogger(__name__)


class KeyVaultSink:
    """Write each password as a new version of its secret in the vault at ``vault_url``."""

    def __init__(
        self,
        vault_url: str,
        credential: TokenCredential,
        *,
        expires_in: dt.timedelta = dt.timedelta(days=30),
        shown_as: str | None = None,
        **client_options: Any,
    ) -> None:
        """``shown_as``: the vault's URL as messages name it (msp.yaml's, when requests go
        to another host); ``client_options``: for the SDK's client (``connection_verify``,
        ``verify_challenge_resource``, a ``transport``)."""
        self.vault_url = vault_url.rstrip("/")
        self.shown_as = (shown_as or vault_url).rstrip("/")
        self.expires_in = expires_in
        self.client = SecretClient(
            self.vault_url, credential, api_version=API_VERSION, **client_options
        )
        self._checked = False

    def describe(self) -> str:
        return f"Key Vault {self.shown_as}"

    def check(self) -> None:
        """Write the vault's check secret (no password: a marker), once per sink. Key Vault
        has no dry run, and only a write proves that the app may write (a reader's role can
        get secrets but not set them)."""
        if self._checked:
            return
        try:
            self.client.set_secret(
                CHECK_SECRET,
                "tenantctl may write secrets here",
                tags={"writtenBy": "tenantctl", "purpose": "write-check"},
                content_type=CHECK_CONTENT_TYPE,
            )
        except AzureError as problem:
            raise SecretNotStored(
                f"passwords could not be stored in {self.describe()}: {_reason(problem)}; "
                f"nothing was sent. {_advice(problem)}"
            ) from None
        self._checked = True

    def store(
        self,
        *,
        tenant: str,
        upn: str,
        purpose: str,
        secret: str,
        now: dt.datetime,
        run_id: int | None = None,
        operation: str | None = None,
    ) -> StoredSecret:
        name = secret_name(tenant, upn, purpose)
        tags = {
            "tenant": tenant,
            "user": upn,
            "purpose": purpose,
            "operation": operation or "",
            "run": "" if run_id is None else str(run_id),
            "writtenBy": "tenantctl",
        }
        try:
            stored = self.client.set_secret(
                name,
                secret,
                tags={k: v[:256] for k, v in tags.items()},  # Key Vault's limit per tag value
                content_type=CONTENT_TYPE,
                expires_on=now + self.expires_in,
            )
        except AzureError as problem:
            raise SecretNotStored(
                f"the password for {upn} could not be stored in {self.describe()} as secret "
                f"{name}: {_reason(problem)}; nothing was sent. {_advice(problem)}"
            ) from None
        version = stored.properties.version
        return StoredSecret(
            f"{self.describe()} secret {name} (version {version})", name=name, version=version
        )

    def void(self, stored: StoredSecret) -> None:
        if stored.name is None or stored.version is None:
            return
        try:
            self.client.update_secret_properties(
                stored.name, stored.version, enabled=False, tags={"voided": "true"}
            )
        except AzureError as problem:  # the call's own failure is what the operation reports
            _log.warning("could not disable %s: %s", stored.where, _reason(problem))


def _reason(problem: AzureError) -> str:
    if isinstance(problem, HttpResponseError):
        error = problem.error
        code = error.code if error is not None else None
        inner = (error.innererror or {}).get("code") if error is not None else None
        said = " ".join(str(part) for part in (code, f"({inner})" if inner else None) if part)
        return f"HTTP {problem.status_code}" + (f" {said}" if said else "")
    return type(problem).__name__ + (f": {problem.message}" if problem.message else "")


def _advice(problem: AzureError) -> str:
    status = problem.status_code if isinstance(problem, HttpResponseError) else None
    if status == 403:
        return (
            "Give the app the Key Vault Secrets Officer role on the vault (or, on a vault with "
            "access policies, a policy with Set), then run apply again"
        )
    if status == 401:
        return "Check the credential the sink uses (secretSink.keyVault.credential)"
    return "Check that the vault can be reached, then run apply again"


def vault_transport(ca_bundle: str | None) -> RequestsTransport:
    """An azure-core transport over the connectors' requests session (certifi plus the CA
    bundle, ``trust_env`` off)."""
    from controller.connectors._requests import requests_session

    return RequestsTransport(
        session=requests_session(ca_bundle), session_owner=False, use_env_settings=False
    )


def key_vault_credential(
    settings: ConnectionSettings, config: KeyVaultConfig, *, managed_identity: bool = True
) -> TokenCredential:
    """The credential the sink authenticates with: the partner app's (``credential: app``,
    against the partner tenant through the same login endpoint and CA as every connector), or
    the runner's managed identity. ``managed_identity=False`` uses the app whatever msp.yaml
    says (the sandbox has no instance metadata service)."""
    from azure.identity import (
        ClientAssertionCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )

    if config.credential == "managedIdentity" and managed_identity:
        return ManagedIdentityCredential(client_id=config.managed_identity_client_id)
    bundle = str(settings.ca_bundle) if settings.ca_bundle is not None else None
    options: dict[str, Any] = {
        "authority": settings.endpoints.login,
        "transport": vault_transport(bundle),
    }
    credential = settings.credential
    tenant, client = settings.partner_tenant_id, settings.client_id
    if isinstance(credential, ClientSecret):
        return ClientSecretCredential(
            tenant,
            client,
            credential.value,
            disable_instance_discovery=settings.endpoints.login_overridden,
            **options,
        )
    if isinstance(credential, ClientCertificate):
        token_url = f"{settings.endpoints.login}/{tenant}/oauth2/v2.0/token"
        return ClientAssertionCredential(
            tenant, client, _certificate_assertion(credential, client, token_url), **options
        )
    assert isinstance(credential, ClientAssertion)
    return ClientAssertionCredential(tenant, client, credential.read, **options)


def _certificate_assertion(credential: ClientCertificate, client_id: str, audience: str) -> Any:
    """A client assertion signed with the app's certificate key, as MSAL signs it for the
    connectors (RS256, ``x5t`` = the certificate's SHA-1 thumbprint)."""
    from msal.oauth2cli.assertion import JwtAssertionCreator

    creator = JwtAssertionCreator(
        credential.private_key, algorithm="RS256", sha1_thumbprint=credential.thumbprint
    )

    def assertion() -> str:
        signed = creator.create_normal_assertion(audience, client_id, subject=client_id)
        return signed.decode() if isinstance(signed, bytes) else str(signed)

    return assertion

"""Connection settings: everything the connectors need, taken from ``msp.yaml`` and secrets.

Secrets are resolved here through a resolver passed in (``resolve``, by default
:func:`controller.secrets.resolve_secret`, the one documented resolver), so the caller decides
where secrets come from. They never appear in ``repr``, in logs or in error messages: each
secret-bearing field is ``repr=False``, only its *source* (``env:NAME``) is kept for
diagnostics, and every resolved value is remembered by :mod:`controller.redaction`, which
replaces it wherever a service or library would echo it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from controller.connectors._endpoints import ServiceEndpoints, endpoints_for
from controller.models.common import SecretRef
from controller.models.msp import MSPConfig
from controller.redaction import remember
from controller.secrets import resolve_secret

SecretResolver = Callable[[SecretRef], str]


@dataclass(frozen=True)
class ClientSecret:
    value: str = field(repr=False)
    source: str = ""


@dataclass(frozen=True)
class ClientCertificate:
    private_key: str = field(repr=False)
    thumbprint: str = ""
    source: str = ""


@dataclass(frozen=True)
class ClientAssertion:
    """A federated token (GitHub Actions / Azure DevOps OIDC). ``read`` is called each time
    MSAL needs an assertion, so a file that the CI runner refreshes is re-read."""

    read: Callable[[], str] = field(repr=False)
    source: str = ""


Credential = ClientSecret | ClientCertificate | ClientAssertion


@dataclass(frozen=True)
class CippSettings:
    base_url: str
    tenant_id: str
    client_id: str
    secret: ClientSecret


@dataclass(frozen=True)
class ConnectionSettings:
    endpoints: ServiceEndpoints
    partner_tenant_id: str
    client_id: str
    credential: Credential
    ca_bundle: Path | None = None
    cipp: CippSettings | None = None


def settings_from_msp(
    msp: MSPConfig,
    resolve: SecretResolver = resolve_secret,
    endpoint_overrides: Mapping[str, str] | None = None,
    ca_bundle: Path | None = None,
) -> ConnectionSettings:
    """Build :class:`ConnectionSettings` from ``msp.yaml``.

    ``endpoint_overrides`` and ``ca_bundle`` win over the file (that is how the sandbox is
    wired in). Secrets are resolved now, so a missing one is a :class:`SecretError` before
    any network call; the assertion is re-read each time a token is needed.
    """

    def secret(ref: SecretRef) -> str:
        value = resolve(ref)
        remember(value)
        return value

    spec = msp.spec
    overrides: dict[str, str] = {
        name: value
        for name, value in spec.endpoints.model_dump(by_alias=False).items()
        if value is not None and name != "key_vault"  # the secret sink's, not a connector's
    }
    overrides.update(endpoint_overrides or {})
    endpoints = endpoints_for(spec.cloud, overrides)

    credential: Credential
    given = spec.partner.credential
    if given.secret is not None:
        credential = ClientSecret(secret(given.secret), source=given.secret.describe())
    elif given.certificate is not None:
        key_ref = given.certificate.private_key
        credential = ClientCertificate(
            secret(key_ref), thumbprint=given.certificate.thumbprint, source=key_ref.describe()
        )
    else:
        assert given.assertion is not None
        ref = given.assertion
        secret(ref)  # fail early when the token file or variable is missing

        def read_assertion() -> str:
            return secret(ref)

        credential = ClientAssertion(read_assertion, source=ref.describe())

    cipp = None
    if spec.cipp is not None:
        cipp = CippSettings(
            base_url=spec.cipp.base_url.rstrip("/"),
            tenant_id=spec.cipp.tenant_id,
            client_id=spec.cipp.client_id,
            secret=ClientSecret(secret(spec.cipp.secret), source=spec.cipp.secret.describe()),
        )
    bundle = ca_bundle if ca_bundle is not None else _path(spec.ca_bundle)
    return ConnectionSettings(
        endpoints=endpoints,
        partner_tenant_id=spec.partner.tenant_id,
        client_id=spec.partner.client_id,
        credential=credential,
        ca_bundle=bundle,
        cipp=cipp,
    )


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None

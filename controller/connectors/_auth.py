"""App-only tokens for every tenant, through MSAL.

One :class:`msal.ConfidentialClientApplication` per (client, authority ``{login}/{tenant}``),
all sharing one :class:`msal.TokenCache`, so a token is reused until it expires. MSAL is
synchronous: every call into it (construction does OIDC discovery over the network) runs in a
worker thread, never on the event loop.

MSAL reports failures as dicts (``error``, ``error_codes``, ``correlation_id``), not
exceptions; :func:`token_error` is the one place they become the error tree.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msal
import requests
import requests.adapters

from controller.connectors._http import ssl_context
from controller.connectors._settings import (
    ClientAssertion,
    ClientCertificate,
    ClientSecret,
    ConnectionSettings,
    Credential,
)
from controller.errors import (
    ConsentMissing,
    CredentialError,
    ServiceError,
    ServiceFault,
    Transient,
    UnknownTenant,
    UsageError,
)
from controller.redaction import redact_text, remember

Resource = Literal["graph", "exchange", "partnerCenter", "cipp"]

log = logging.getLogger("tenantctl.auth")

# AADSTS codes that mean a person has to act (API-NOTES.md, "Tokens").
CONSENT_MISSING = {7000229, 65001}
APP_NOT_FOUND = 700016
BAD_SECRET = 7000215
EXPIRED_SECRET = 7000222
UNKNOWN_TENANT = 90002


def admin_consent_url(login: str, tenant_id: str, client_id: str) -> str:
    return f"{login}/{tenant_id}/adminconsent?client_id={client_id}"


def token_error(
    result: Mapping[str, Any], *, tenant: str, client_id: str, login: str
) -> ServiceError:
    """Translate an MSAL error dict into the error tree (branching on ``error_codes``)."""
    codes = [int(c) for c in result.get("error_codes") or [] if str(c).isdigit()]
    correlation = result.get("correlation_id")
    description = str(result.get("error_description") or result.get("error") or "")
    # Entra's description is "AADSTS7000215: Invalid client secret ...\r\nTrace ID: ...".
    first_line = redact_text(description.splitlines()[0]) if description else "token request failed"
    code = f"AADSTS{codes[0]}" if codes else str(result.get("error") or "") or None
    common: dict[str, Any] = {
        "service": "login",
        "tenant": tenant,
        "code": code,
        "request_id": correlation,
    }
    if CONSENT_MISSING & set(codes):
        url = admin_consent_url(login, tenant, client_id)
        return ConsentMissing(
            f"app {client_id} has no consent in tenant {tenant}; "
            f"a Global Administrator of that tenant grants it at {url}",
            **common,
        )
    if APP_NOT_FOUND in codes:
        return CredentialError(
            f"application {client_id} was not found in tenant {tenant}: "
            "check the client id (and that the app is multi-tenant)",
            **common,
        )
    if BAD_SECRET in codes:
        return CredentialError(
            f"the client secret of app {client_id} is wrong "
            "(use the secret's Value, not its Secret ID)",
            **common,
        )
    if EXPIRED_SECRET in codes:
        return CredentialError(
            f"the client secret of app {client_id} has expired: create a new one",
            **common,
        )
    if UNKNOWN_TENANT in codes:
        return UnknownTenant(f"tenant {tenant} does not exist in this cloud", **common)
    return ServiceFault(first_line, **common)


class _Client:
    """The credentials of one app: the partner app or CIPP's API client."""

    def __init__(self, client_id: str, credential: Credential) -> None:
        self.client_id = client_id
        self.credential = credential

    def msal_credential(self) -> str | dict[str, Any]:
        credential = self.credential
        if isinstance(credential, ClientSecret):
            return credential.value
        if isinstance(credential, ClientCertificate):
            return {"private_key": credential.private_key, "thumbprint": credential.thumbprint}
        assert isinstance(credential, ClientAssertion)
        # A callable, not a string: MSAL re-reads it whenever it needs a fresh assertion.
        return {"client_assertion": credential.read}


class _TrustAdapter(requests.adapters.HTTPAdapter):
    """Verifies TLS with the same context as the HTTP core (:func:`ssl_context`)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["ssl_context"] = self._context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def requests_session(ca_bundle: str | None) -> requests.Session:
    """The HTTP client MSAL uses, trusting exactly what the HTTP core trusts: the public roots
    (certifi) plus ``spec.caBundle``'s extra CAs, as the README says. Before, MSAL trusted only
    the bundle when one was set (and the environment's ``REQUESTS_CA_BUNDLE`` when not), so
    login and Graph could disagree about the same host. ``trust_env`` is off, as for httpx:
    no CA bundle or proxy comes in from the environment behind the configuration's back."""
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", _TrustAdapter(ssl_context(Path(ca_bundle) if ca_bundle else None)))
    return session


class TokenProvider:
    """``await tokens.token(tenant_id, "graph")`` -> an access token, cached until expiry."""

    def __init__(
        self, settings: ConnectionSettings, *, session: requests.Session | None = None
    ) -> None:
        self.settings = settings
        self._endpoints = settings.endpoints
        self._cache = msal.TokenCache()
        self._session = session or requests_session(
            str(settings.ca_bundle) if settings.ca_bundle else None
        )
        self._partner = _Client(settings.client_id, settings.credential)
        self._cipp = (
            _Client(settings.cipp.client_id, settings.cipp.secret) if settings.cipp else None
        )
        self._apps: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}

    # -- public ---------------------------------------------------------------------------

    def scope(self, resource: Resource) -> str:
        endpoints = self._endpoints
        if resource == "graph":
            return f"{endpoints.graph}/.default"
        if resource == "exchange":
            return f"{endpoints.exchange}/.default"
        if resource == "partnerCenter":
            return f"{endpoints.partner_center}/.default"
        if self.settings.cipp is None:
            raise UsageError("CIPP is not configured: add spec.cipp to msp.yaml")
        return f"api://{self.settings.cipp.client_id}/.default"

    async def token(self, tenant_id: str, resource: Resource) -> str:
        """An app-only access token for ``resource`` in ``tenant_id``. CIPP tokens always come
        from CIPP's own tenant, whatever ``tenant_id`` says."""
        return await asyncio.to_thread(self.token_sync, tenant_id, resource)

    def token_sync(self, tenant_id: str, resource: Resource) -> str:
        client = self._partner
        if resource == "cipp":
            if self.settings.cipp is None or self._cipp is None:
                raise UsageError("CIPP is not configured: add spec.cipp to msp.yaml")
            tenant_id, client = self.settings.cipp.tenant_id, self._cipp
        scope = self.scope(resource)
        app = self._app(client, tenant_id)
        try:
            result = app.acquire_token_for_client(scopes=[scope])
        except requests.RequestException as problem:
            raise self._unreachable(tenant_id, problem) from None
        if not result or "access_token" not in result:
            error = token_error(
                result or {}, tenant=tenant_id, client_id=client.client_id, login=self._login
            )
            log.warning(
                "token request failed",
                extra={"tenant": tenant_id, "resource": resource, "code": error.code},
            )
            raise error
        log.debug(
            "token acquired",
            extra={"tenant": tenant_id, "resource": resource, "source": result.get("token_source")},
        )
        token = str(result["access_token"])
        # A service or proxy that echoes the request must not put the token in a message.
        remember(token)
        return token

    def forget(self, tenant_id: str) -> None:
        """Drop the apps for ``tenant_id`` (tokens stay in the shared cache). MSAL remembers a
        token endpoint's HTTP 400 answer for 60 s per app: after consent was granted, a fresh
        app sees the new state at once."""
        with self._lock:
            for key in [k for k in self._apps if k[1] == tenant_id]:
                del self._apps[key]

    def close(self) -> None:
        self._session.close()

    # -- internals ------------------------------------------------------------------------

    @property
    def _login(self) -> str:
        return self._endpoints.login

    def _app(self, client: _Client, tenant_id: str) -> Any:
        key = (client.client_id, tenant_id)
        with self._lock:
            app = self._apps.get(key)
            if app is not None:
                return app
            building = self._building.setdefault(key, threading.Lock())
        # Construction does OIDC discovery over the network: one tenant at a time per key, but
        # different tenants in parallel.
        with building:
            with self._lock:
                app = self._apps.get(key)
            if app is not None:
                return app
            app = self._build(client, tenant_id)
            with self._lock:
                self._apps[key] = app
            return app

    def _build(self, client: _Client, tenant_id: str) -> Any:
        options: dict[str, Any] = {}
        if self._endpoints.login_overridden:
            options["instance_discovery"] = False
        try:
            return msal.ConfidentialClientApplication(
                client.client_id,
                client_credential=client.msal_credential(),
                authority=f"{self._login}/{tenant_id}",
                token_cache=self._cache,
                http_client=self._session,
                **options,
            )
        except requests.RequestException as problem:
            raise self._unreachable(tenant_id, problem) from None
        except ValueError as problem:
            # MSAL raises ValueError when OIDC discovery fails: an unknown tenant answers 400
            # with AADSTS90002 in the body, which MSAL keeps only in the chained exception.
            text = f"{problem} {problem.__context__ or ''}"
            if "90002" in text:
                raise UnknownTenant(
                    f"tenant {tenant_id} does not exist in this cloud",
                    service="login",
                    tenant=tenant_id,
                    code="AADSTS90002",
                ) from None
            raise ServiceFault(
                f"cannot discover the authority {self._login}/{tenant_id}",
                service="login",
                tenant=tenant_id,
            ) from None

    def _unreachable(
        self, tenant_id: str, problem: requests.RequestException
    ) -> Transient | ServiceFault:
        if isinstance(problem, requests.exceptions.SSLError):
            return ServiceFault(
                f"TLS verification of {self._login} failed: check spec.caBundle",
                service="login",
                tenant=tenant_id,
            )
        return Transient(
            f"cannot reach {self._login}: {type(problem).__name__}",
            service="login",
            tenant=tenant_id,
            delay=5.0,
        )

"""App-only tokens for every tenant: cached in-process, through MSAL on a miss.

A token is kept per (client, tenant, scope) until five minutes before it expires (MSAL's own
refresh margin), so the hot path is one dictionary look-up on the event loop: no thread hop, no
MSAL, no scan of a shared cache. Only a miss goes to MSAL, in a worker thread (MSAL is
synchronous and does network I/O), and concurrent misses for one key share one call.

MSAL keeps one :class:`msal.ConfidentialClientApplication` per (client, authority
``{login}/{tenant}``), each with its own small :class:`msal.TokenCache`: one cache shared by
a thousand apps is scanned on every look-up (``is_subdict_of`` in profiles, an upturn above
500 tenants). The apps share one HTTP client, :class:`DiscoveryOncePerCloud`, which fetches
the OIDC discovery document once per login host and answers the other tenants' discovery
from it, their tenant in place of the first one's: MSAL's constructor otherwise asks for it
once per tenant (one extra round trip each). MSAL's documented extension point is that HTTP
client (``http_client=``); its ``http_cache`` keys discovery by the tenant's URL, so it saves
nothing within a run.

MSAL reports failures as dicts (``error``, ``error_codes``, ``correlation_id``), not
exceptions; :func:`token_error` is the one place they become the error tree.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import msal
import requests

from controller.connectors._direct import DirectClient
from controller.connectors._http import ssl_context
from controller.connectors._msal_http import DiscoveryOncePerCloud, OnTheLoop, Template
from controller.connectors._pool import KeepAliveTransport
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

# MSAL treats a token that expires within five minutes as expired; so does the cache here.
REFRESH_MARGIN = 300.0
# Threads for token requests that miss the cache: as many as tenants observed at once.
TOKEN_WORKERS = 16

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


@dataclass(frozen=True)
class _Held:
    token: str
    fresh_until: float  # by the provider's clock


class TokenProvider:
    """``await tokens.token(tenant_id, "graph")`` -> an access token, cached until expiry."""

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        session: requests.Session | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        workers: int = TOKEN_WORKERS,
    ) -> None:
        """MSAL's requests go through ``session`` when given, else on the event loop through
        ``transport`` (default: a keep-alive transport trusting what the HTTP core trusts)."""
        self.settings = settings
        self._endpoints = settings.endpoints
        self._session = session
        self._transport = transport
        self._learned: dict[str, Template] = {}
        self._http = DiscoveryOncePerCloud(session) if session is not None else None
        self._login_http: DirectClient | None = None
        self._on_the_loop: OnTheLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clock = clock
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._partner = _Client(settings.client_id, settings.credential)
        self._cipp = (
            _Client(settings.cipp.client_id, settings.cipp.secret) if settings.cipp else None
        )
        self._held: dict[tuple[str, str, str], _Held] = {}
        self._pending: dict[tuple[str, str, str], asyncio.Future[tuple[str, float]]] = {}
        self._apps: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}
        self.misses = 0  # token requests that went to MSAL (the bench reads it)

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
        key, held, pending = self._look_up(tenant_id, resource)
        if held is not None:
            return held
        assert pending is not None
        # Shielded: one waiter cancelled does not cancel the others' token request.
        token, expires_in = await asyncio.shield(pending)
        fresh_until = self._clock() + expires_in - REFRESH_MARGIN
        self._held[key] = _Held(token, fresh_until)
        return token

    def prefetch(self, tenant_id: str, resource: Resource) -> None:
        """Start getting the token now, so that it is there when asked for: the run asks for
        it later and waits for this same request. A failure surfaces when it is asked for."""
        _, _, pending = self._look_up(tenant_id, resource)
        if pending is not None:
            # Read here too, so that an unused failure is not reported as never retrieved.
            pending.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _look_up(
        self, tenant_id: str, resource: Resource
    ) -> tuple[tuple[str, str, str], str | None, asyncio.Future[tuple[str, float]] | None]:
        """The held token, or the request under way for it (started here when none is)."""
        client, tenant_id = self._client(tenant_id, resource)
        scope = self.scope(resource)
        key = (client.client_id, tenant_id, scope)
        held = self._held.get(key)
        if held is not None and held.fresh_until > self._clock():
            return key, held.token, None
        pending = self._pending.get(key)
        if pending is None:
            self.misses += 1
            loop = asyncio.get_running_loop()
            self._connect(loop)
            pending = loop.run_in_executor(
                self._pool(), self._acquire, client, tenant_id, scope, resource
            )
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return key, None, pending

    def forget(self, tenant_id: str) -> None:
        """Drop the tokens and apps for ``tenant_id``. MSAL remembers a token endpoint's HTTP
        400 answer for 60 s per app: after consent was granted, a fresh app sees the new state
        at once (and a token issued before carries none of the new roles)."""
        with self._lock:
            for key in [k for k in self._apps if k[1] == tenant_id]:
                del self._apps[key]
        for held in [k for k in self._held if k[1] == tenant_id]:
            del self._held[held]

    async def aclose(self) -> None:
        """Close MSAL's HTTP client (on this loop) and the token threads. A token thread
        waiting for an answer from the loop gets ``httpx.ConnectError`` at once (then
        :class:`Transient`), as does one that sends later: none waits for a loop that has
        stopped serving it."""
        self._refuse_requests()
        client, self._login_http = self._login_http, None
        if client is not None:
            await client.aclose()
        self.close()

    def close(self) -> None:
        self._refuse_requests()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._session is not None:
            self._session.close()

    @property
    def discoveries(self) -> int:
        """OIDC discovery documents fetched from the network (one per cloud, normally)."""
        return self._http.fetched if self._http is not None else 0

    def discovered(self) -> dict[str, Template]:
        """The OIDC discovery documents read so far, by login host (:meth:`learn`)."""
        return self._http.templates if self._http is not None else dict(self._learned)

    def learn(self, discovered: Mapping[str, Template]) -> None:
        """Documents another provider of the same run read (the parent's, for a worker
        process; an early read's, for the run): not read again. Before the first token."""
        if self._http is None:  # the documents wait for MSAL's HTTP client (_connect)
            self._learned.update(discovered)
            return
        for login, template in discovered.items():
            self._http.learn(login, template)

    # -- internals ------------------------------------------------------------------------

    @property
    def _login(self) -> str:
        return self._endpoints.login

    def _client(self, tenant_id: str, resource: Resource) -> tuple[_Client, str]:
        if resource != "cipp":
            return self._partner, tenant_id
        if self.settings.cipp is None or self._cipp is None:
            raise UsageError("CIPP is not configured: add spec.cipp to msp.yaml")
        return self._cipp, self.settings.cipp.tenant_id

    def _connect(self, loop: asyncio.AbstractEventLoop) -> None:
        """MSAL's HTTP client on ``loop`` (made on the first miss; again on another loop)."""
        if self._session is not None or (self._loop is loop and self._login_http is not None):
            return
        self._loop = loop
        self._login_http = DirectClient(
            self._transport
            or KeepAliveTransport(
                ssl_context=ssl_context(self.settings.ca_bundle), per_host=self._workers
            ),
            timeout=30.0,
        )
        on_the_loop = self._on_the_loop = OnTheLoop(self._login_http, loop)
        if self._http is None:
            self._http = DiscoveryOncePerCloud(on_the_loop, self._learned)
        else:
            self._http.inner = on_the_loop  # the apps built before keep their client object

    def _refuse_requests(self) -> None:
        if self._on_the_loop is not None:
            self._on_the_loop.close()

    def _pool(self) -> ThreadPoolExecutor:
        # Its own threads, as many as tenants are observed at once: the loop's default pool
        # (cores + 4 threads) queued the first token of each tenant behind the others'.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="tenantctl-token")
        return self._executor

    def _acquire(
        self, client: _Client, tenant_id: str, scope: str, resource: Resource
    ) -> tuple[str, float]:
        """MSAL, in a worker thread: the token and its seconds to live."""
        app = self._app(client, tenant_id)
        try:
            result = app.acquire_token_for_client(scopes=[scope])
        except (requests.RequestException, httpx.TransportError) as problem:
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
        try:
            expires_in = float(result.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0.0
        return token, expires_in

    def _app(self, client: _Client, tenant_id: str) -> Any:
        key = (client.client_id, tenant_id)
        with self._lock:
            app = self._apps.get(key)
            if app is not None:
                return app
            building = self._building.setdefault(key, threading.Lock())
        # Construction reads the OIDC discovery document: one tenant at a time per key, but
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
                # Its own cache: a shared one is scanned whole on every look-up.
                token_cache=msal.TokenCache(),
                http_client=self._http,
                **options,
            )
        except (requests.RequestException, httpx.TransportError) as problem:
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
        self, tenant_id: str, problem: requests.RequestException | httpx.TransportError
    ) -> Transient | ServiceFault:
        tls = isinstance(problem, requests.exceptions.SSLError) or (
            isinstance(problem, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(problem)
        )
        if tls:
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

"""App-only tokens for every tenant: cached in-process, through MSAL on a miss.

A token is kept per (client, tenant, scope) until five minutes before it expires (MSAL's own
refresh margin), so the hot path is one dictionary look-up on the event loop: no MSAL, no
scan of a shared cache. Only a miss goes to MSAL, and concurrent misses for one key share one
request.

On a miss MSAL builds the token request on the event loop and the loop sends it
(:mod:`controller.connectors._msal_http`): MSAL, synchronous, ran in worker threads whose
requests hopped onto the loop and back, four thread hand-offs a token that cost more CPU
than MSAL's own work. MSAL keeps one :class:`msal.ConfidentialClientApplication` per (client,
authority ``{login}/{tenant}``), each with its own small, always empty
:class:`msal.TokenCache`. The OIDC discovery document MSAL's constructor reads is read once
per login host (:class:`~controller.connectors._msal_http.Discovery`): MSAL's constructor
otherwise asks for it once per tenant (one extra round trip each).

The token endpoint's answer is read here, as MSAL's ``oauth2cli`` reads it (RFC 6749
sections 5.1 and 5.2): ``access_token`` and ``expires_in``, or an error object. Entra's errors
(``error``, ``error_codes``, ``correlation_id``) become the error tree in one place,
:func:`token_error`; a 429 or 5xx is temporary (:class:`Throttled`, :class:`Transient`, with
``Retry-After``), where MSAL raised an exception of its own that no caller knew.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import msal
import orjson

from controller.connectors._direct import DirectClient
from controller.connectors._headers import retry_after
from controller.connectors._http import ssl_context
from controller.connectors._msal_http import (
    Discovery,
    Offline,
    Prepared,
    Template,
    TokenRequest,
    discovery_url,
)
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
    TemporaryError,
    Throttled,
    Transient,
    UnknownTenant,
    UsageError,
)
from controller.redaction import redact_text, remember

Resource = Literal["graph", "exchange", "partnerCenter", "cipp"]

log = logging.getLogger("tenantctl.auth")

# MSAL treats a token that expires within five minutes as expired; so does the cache here.
REFRESH_MARGIN = 300.0
# Keep-alive connections to the login host: as many as tenants observed at once.
LOGIN_CONNECTIONS = 16
# What a token request meets once the run closed its connections (then Transient).
CLOSED = "the connections to login were closed"
ACCEPT_JSON = {"Accept": "application/json"}

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
    """Translate the token endpoint's error object (RFC 6749 5.2, with Entra's ``error_codes``)
    into the error tree."""
    codes = _error_codes(result)
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


def _error_codes(result: Mapping[str, Any]) -> list[int]:
    """Entra's AADSTS numbers in an error object (``error_codes``), the first one first."""
    return [int(c) for c in result.get("error_codes") or [] if str(c).isdigit()]


def _temporary_status(status: int) -> bool:
    """429 (throttled) or 5xx: the login host asks to be tried again later."""
    return status == 429 or status >= 500


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
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        connections: int = LOGIN_CONNECTIONS,
    ) -> None:
        """Token requests go through ``transport`` (default: a keep-alive transport trusting
        what the HTTP core trusts, ``connections`` connections to the login host)."""
        self.settings = settings
        self._endpoints = settings.endpoints
        self._transport = transport
        self._connections = connections
        self._discovery = Discovery()
        self._offline = Offline(self._discovery)
        self._http: DirectClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._discovering: dict[str, asyncio.Lock] = {}
        self._clock = clock
        self._partner = _Client(settings.client_id, settings.credential)
        self._cipp = (
            _Client(settings.cipp.client_id, settings.cipp.secret) if settings.cipp else None
        )
        self._held: dict[tuple[str, str, str], _Held] = {}
        self._pending: dict[tuple[str, str, str], asyncio.Future[str]] = {}
        self._apps: dict[tuple[str, str], Any] = {}
        self._closed = False
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
        held, pending = self._look_up(tenant_id, resource)
        if held is not None:
            return held
        assert pending is not None
        # Shielded: one waiter cancelled does not cancel the others' token request.
        return await asyncio.shield(pending)

    def prefetch(self, tenant_id: str, resource: Resource) -> None:
        """Start getting the token now, so that it is there when asked for: the run asks for
        it later and waits for this same request. A failure surfaces when it is asked for."""
        _, pending = self._look_up(tenant_id, resource)
        if pending is not None:
            # Read here too, so that an unused failure is not reported as never retrieved.
            pending.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _look_up(
        self, tenant_id: str, resource: Resource
    ) -> tuple[str | None, asyncio.Future[str] | None]:
        """The held token, or the request under way for it (started here when none is)."""
        client, tenant_id = self._client(tenant_id, resource)
        scope = self.scope(resource)
        key = (client.client_id, tenant_id, scope)
        held = self._held.get(key)
        if held is not None and held.fresh_until > self._clock():
            return held.token, None
        pending = self._pending.get(key)
        if pending is None:
            self.misses += 1
            self._connect(asyncio.get_running_loop())
            pending = asyncio.ensure_future(self._request(key, client, resource))
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return None, pending

    def forget(self, tenant_id: str) -> None:
        """Drop the tokens and apps for ``tenant_id``: after consent was granted, a token
        issued before carries none of the new roles."""
        for app in [k for k in self._apps if k[1] == tenant_id]:
            del self._apps[app]
        for held in [k for k in self._held if k[1] == tenant_id]:
            del self._held[held]

    async def aclose(self) -> None:
        """Close the connections to login (on this loop). A token request still on the wire
        ends with ``httpx``'s error for a closed transport (then :class:`Transient`)."""
        self.close()
        client, self._http = self._http, None
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        """Refuse later token requests (the connections close with :meth:`aclose`)."""
        self._closed = True

    @property
    def discoveries(self) -> int:
        """OIDC discovery documents fetched from the network (one per cloud, normally)."""
        return self._discovery.fetched

    def discovered(self) -> dict[str, Template]:
        """The OIDC discovery documents read so far, by login host (:meth:`learn`)."""
        return self._discovery.templates

    def learn(self, discovered: Mapping[str, Template]) -> None:
        """Documents another provider of the same run read (the parent's, for a worker
        process; an early read's, for the run): not read again."""
        for login, template in discovered.items():
            self._discovery.learn(login, template)

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
        """The connections to login, on ``loop`` (made on the first miss; again on another
        loop: a test's ``asyncio.run`` each time)."""
        if self._loop is loop and self._http is not None:
            return
        self._loop = loop
        self._discovering = {}
        self._http = DirectClient(
            self._transport
            or KeepAliveTransport(
                ssl_context=ssl_context(self.settings.ca_bundle), per_host=self._connections
            ),
            timeout=30.0,
        )

    async def _request(self, key: tuple[str, str, str], client: _Client, resource: Resource) -> str:
        """One token request: MSAL builds it, the loop sends it, the answer is read here, and
        the token is held for whoever asks next (a prefetch's too)."""
        _, tenant_id, scope = key
        await self._discover(tenant_id)
        request = self._prepare(client, tenant_id, scope)
        answer = await self._send(tenant_id, request)
        token, expires_in = self._read(answer, client, tenant_id, resource)
        # A service or proxy that echoes the request must not put the token in a message.
        remember(token)
        self._held[key] = _Held(token, self._clock() + expires_in - REFRESH_MARGIN)
        return token

    async def _discover(self, tenant_id: str) -> None:
        """The login host's OIDC discovery document, read once per host before MSAL builds
        its first app there. While one tenant's is read, the others wait for it; when it
        fails (that tenant does not exist), the next one reads its own."""
        login = self._login
        if self._discovery.knows(login):
            return
        async with self._discovering.setdefault(login, asyncio.Lock()):
            if self._discovery.knows(login):
                return
            self._discovery.fetched += 1
            answer = await self._send(tenant_id, discovery_url(login, tenant_id))
            if answer.status_code == 200 and self._discovery.learn_document(login, answer.text):
                return
            raise self._discovery_error(answer, tenant_id)

    def _prepare(self, client: _Client, tenant_id: str, scope: str) -> TokenRequest:
        """The token request MSAL builds for ``scope`` (its client secret or signed client
        assertion, its headers), stopped before it is sent (:class:`Prepared`)."""
        app = self._app(client, tenant_id)
        try:
            result = app.acquire_token_for_client(scopes=[scope])
        except Prepared as prepared:
            return prepared.request
        # MSAL never sees an answer, so its cache is empty and it always asks: an answer
        # without a request is its own refusal (a bad scope, say).
        raise token_error(
            result or {}, tenant=tenant_id, client_id=client.client_id, login=self._login
        )

    async def _send(self, tenant_id: str, sent: str | TokenRequest) -> httpx.Response:
        """GET a discovery document (a URL), or POST the token request MSAL built."""
        if self._closed or self._http is None:
            raise Transient(CLOSED, service="login", tenant=tenant_id)
        try:
            if isinstance(sent, str):
                return await self._http.request("GET", sent, headers=ACCEPT_JSON)
            return await self._http.request(
                "POST", sent.url, params=sent.params, data=sent.data, headers=sent.headers
            )
        except httpx.TransportError as problem:
            raise self._unreachable(tenant_id, problem) from None
        except RuntimeError:  # the connections were closed meanwhile
            raise Transient(CLOSED, service="login", tenant=tenant_id) from None

    def _read(
        self, answer: httpx.Response, client: _Client, tenant_id: str, resource: Resource
    ) -> tuple[str, float]:
        """The token and its seconds to live, from the token endpoint's answer: JSON with
        ``access_token`` and ``expires_in`` (RFC 6749 5.1), or JSON with ``error`` and, from
        Entra, ``error_codes`` (5.2); a 429 or a 5xx is temporary, whatever its body."""
        status = answer.status_code
        if _temporary_status(status):
            raise self._temporary(answer, tenant_id)
        result = _json_object(answer.content)
        if result is None:
            raise ServiceFault(
                f"{self._login} answered the token request with HTTP {status} "
                "and a body that is not a token response",
                service="login",
                tenant=tenant_id,
                status=status,
            )
        if "access_token" not in result:
            error = token_error(
                result, tenant=tenant_id, client_id=client.client_id, login=self._login
            )
            error.status = status
            log.warning(
                "token request failed",
                extra={"tenant": tenant_id, "resource": resource, "code": error.code},
            )
            raise error
        log.debug("token acquired", extra={"tenant": tenant_id, "resource": resource})
        try:
            expires_in = float(result.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0.0
        return str(result["access_token"]), expires_in

    def _temporary(self, answer: httpx.Response, tenant_id: str) -> TemporaryError:
        """Entra's 429 (throttled: wait Retry-After) or 5xx (``temporarily_unavailable``)."""
        status = answer.status_code
        result = _json_object(answer.content) or {}
        codes = _error_codes(result)
        kind = Throttled if status == 429 else Transient
        return kind(
            f"{self._login} answered HTTP {status}: try again later",
            service="login",
            tenant=tenant_id,
            status=status,
            code=f"AADSTS{codes[0]}" if codes else None,
            request_id=result.get("correlation_id"),
            delay=_wait(answer),
        )

    def _discovery_error(self, answer: httpx.Response, tenant_id: str) -> ServiceError:
        """An unknown tenant answers 400 with AADSTS90002 in ``error_codes`` (as its token
        request would), read as ``token_error`` reads it: not as text, where AADSTS900023 or
        a trace id would hold "90002" too."""
        if _temporary_status(answer.status_code):
            return self._temporary(answer, tenant_id)
        if UNKNOWN_TENANT in _error_codes(_json_object(answer.content) or {}):
            return UnknownTenant(
                f"tenant {tenant_id} does not exist in this cloud",
                service="login",
                tenant=tenant_id,
                code="AADSTS90002",
            )
        return ServiceFault(
            f"cannot discover the authority {self._login}/{tenant_id} (HTTP {answer.status_code})",
            service="login",
            tenant=tenant_id,
            status=answer.status_code,
        )

    def _app(self, client: _Client, tenant_id: str) -> Any:
        key = (client.client_id, tenant_id)
        app = self._apps.get(key)
        if app is None:
            app = self._apps[key] = self._build(client, tenant_id)
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
                # Its own cache, always empty (MSAL never sees an answer): a shared one is
                # scanned whole on every look-up.
                token_cache=msal.TokenCache(),
                http_client=self._offline,
                **options,
            )
        except ValueError:
            # MSAL's discovery of the authority failed: the document derived from the
            # login host's template did not satisfy it.
            raise ServiceFault(
                f"cannot discover the authority {self._login}/{tenant_id}",
                service="login",
                tenant=tenant_id,
            ) from None

    def _unreachable(self, tenant_id: str, problem: httpx.TransportError) -> ServiceError:
        if isinstance(problem, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(problem):
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


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _wait(answer: httpx.Response) -> float:
    """Seconds before asking again: ``Retry-After``, else 5 s."""
    wait = retry_after(answer.headers)
    return 5.0 if wait is None else wait

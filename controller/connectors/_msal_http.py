"""The HTTP client MSAL is given (``http_client=``, MSAL's documented extension point).

MSAL is synchronous and runs in the token provider's worker threads. Its requests go:

- by default through :class:`OnTheLoop`: onto the event loop's keep-alive transport (the HTTP
  core's :class:`~controller.connectors._pool.KeepAliveTransport`), while the worker thread
  waits for the answer. A token request then costs what any other round trip costs (about
  0.5 ms of CPU) instead of requests', urllib3's and a TLS handshake per thread (1.2 to 3.3 ms
  per token, more the more threads contend for the GIL: ``bench/client_bench.py``);
- or through a ``requests.Session`` (:func:`requests_session`), when one is given (tests mock
  MSAL's HTTP with ``responses``).

Either way :class:`DiscoveryOncePerCloud` stands in front: MSAL's constructor reads the OIDC
discovery document of its authority, one round trip per tenant; here it is read once per
login host and the other tenants' documents are derived from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import ssl
import threading
from collections.abc import Mapping
from concurrent.futures import Future, InvalidStateError, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import requests
import requests.adapters

from controller.connectors._direct import DirectClient
from controller.connectors._http import ssl_context


class Answer(Protocol):
    """What MSAL reads of an HTTP answer."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class MsalHttp(Protocol):
    def get(self, url: str, **kwargs: Any) -> Answer: ...

    def post(self, url: str, **kwargs: Any) -> Answer: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Derived:
    """A discovery document derived here, never sent by the service."""

    text: str
    status_code: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"content-type": "application/json"})


# -- through requests ----------------------------------------------------------------------


class _TrustAdapter(requests.adapters.HTTPAdapter):
    """Verifies TLS with the same context as the HTTP core (:func:`ssl_context`)."""

    def __init__(self, context: ssl.SSLContext, pool_size: int) -> None:
        self._context = context
        super().__init__(pool_maxsize=pool_size)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["ssl_context"] = self._context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def requests_session(ca_bundle: str | None, *, pool_size: int = 16) -> requests.Session:
    """A requests session for MSAL, trusting exactly what the HTTP core trusts: the public
    roots (certifi) plus ``spec.caBundle``'s extra CAs, as the README says. ``trust_env`` is
    off, as for httpx: no CA bundle or proxy comes in from the environment behind the
    configuration's back. ``pool_size`` keeps a connection per token thread (requests keeps
    10 by default and drops the others after each use)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _TrustAdapter(ssl_context(Path(ca_bundle) if ca_bundle else None), pool_size)
    session.mount("https://", adapter)
    return session


# -- on the event loop ---------------------------------------------------------------------


CLOSED = "the connections were closed"


class OnTheLoop:
    """MSAL's requests, sent by ``client`` on ``loop`` while the calling thread waits.

    The thread never waits for a loop that will not answer. A request queued on the loop just
    before it stopped was never run, and its thread waited forever (and the process with it at
    exit: the token threads are not daemons). Now :meth:`close`, which the token provider
    calls before it closes ``client``, fails every request still waiting and every later one
    with ``httpx.ConnectError`` (a transient failure to reach login); and a loop closed without
    it is noticed within ``patience`` seconds."""

    def __init__(
        self,
        client: DirectClient | httpx.AsyncClient,
        loop: asyncio.AbstractEventLoop,
        *,
        patience: float = 1.0,
    ) -> None:
        self._client = client
        self._loop = loop
        self._patience = patience
        self._lock = threading.Lock()
        self._waiting: set[Future[httpx.Response]] = set()
        self._sending: set[asyncio.Task[httpx.Response]] = set()  # the loop keeps weak ones
        self._closed = False

    def get(self, url: str, **kwargs: Any) -> Answer:
        return self._send("GET", url, kwargs)

    def post(self, url: str, **kwargs: Any) -> Answer:
        return self._send("POST", url, kwargs)

    def close(self) -> None:
        """Fail the requests waiting now and refuse later ones (any thread may call it; the
        client itself belongs to the token provider, which closes it on its loop)."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = self._waiting, set()
        for answer in waiting:
            _settle(answer, httpx.ConnectError(CLOSED))

    def _send(self, method: str, url: str, options: dict[str, Any]) -> Answer:
        """In MSAL's thread: hand the request to the loop and wait for its answer."""
        answer: Future[httpx.Response] = Future()
        with self._lock:
            if self._closed:
                raise httpx.ConnectError(CLOSED)
            self._waiting.add(answer)
        try:
            try:
                self._loop.call_soon_threadsafe(self._start, answer, method, url, options)
            except RuntimeError:  # the loop is closed
                raise httpx.ConnectError(CLOSED) from None
            while not answer.done():
                wait((answer,), timeout=self._patience)
                if not answer.done() and self._loop.is_closed():
                    raise httpx.ConnectError(CLOSED)  # nothing will ever run the request
            return answer.result()
        finally:
            with self._lock:
                self._waiting.discard(answer)

    def _start(
        self, answer: Future[httpx.Response], method: str, url: str, options: dict[str, Any]
    ) -> None:
        """On the loop: send the request, unless the answer was given meanwhile."""
        if self._closed or answer.done():
            _settle(answer, httpx.ConnectError(CLOSED))
            return
        sending = self._loop.create_task(
            self._client.request(
                method,
                url,
                params=options.get("params"),
                data=options.get("data"),
                headers=options.get("headers"),
            )
        )
        self._sending.add(sending)
        sending.add_done_callback(functools.partial(self._sent, answer))

    def _sent(self, answer: Future[httpx.Response], sending: asyncio.Task[httpx.Response]) -> None:
        self._sending.discard(sending)
        if sending.cancelled():  # the loop is ending (asyncio.run cancels what is left)
            _settle(answer, httpx.ConnectError(CLOSED))
        elif (problem := sending.exception()) is not None:
            _settle(answer, problem)
        else:
            _settle(answer, sending.result())


def _settle(answer: Future[httpx.Response], outcome: httpx.Response | BaseException) -> None:
    """Give ``answer`` its outcome, unless it has one already (:meth:`OnTheLoop.close` failed
    it, and the request ended after)."""
    with contextlib.suppress(InvalidStateError):
        if isinstance(outcome, BaseException):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


# -- discovery once per cloud --------------------------------------------------------------

_DISCOVERY = re.compile(r"^(https://[^/]+)/([^/]+)/v2\.0/\.well-known/openid-configuration$")


# A login host's discovery document: (the tenant segment of its endpoints, the document).
Template = tuple[str, str]


class DiscoveryOncePerCloud:
    """MSAL's HTTP client ``inner``, except that OIDC discovery goes to the network once per
    login host. The first tenant's document is the cloud's template; another tenant's is the
    template with that tenant in place of the first (Entra's documents differ only in the
    tenant segment of their endpoints and issuer). While the first is read, the others wait
    for it. A tenant that does not exist is then found by its token request (AADSTS90002),
    translated as discovery's was. MSAL's cache stays right: each token endpoint keeps the
    tenant as its first path segment (API-NOTES.md, "Tokens").

    MSAL's ``http_cache`` does not do this: it keys discovery by the tenant's own URL."""

    def __init__(
        self, inner: MsalHttp | requests.Session, templates: Mapping[str, Template] | None = None
    ) -> None:
        """``templates``: documents another client read already (:attr:`templates`), so
        that a run's worker processes do not read the cloud's document once each."""
        self.inner = inner
        self._templates: dict[str, Template] = dict(templates or {})
        self._reading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.fetched = 0  # discovery documents read from the network

    @property
    def templates(self) -> dict[str, Template]:
        """The discovery documents read so far, by login host."""
        return dict(self._templates)

    def learn(self, login: str, template: Template) -> None:
        """A login host's document, read by another client of the run."""
        self._templates.setdefault(login, template)

    def get(self, url: str, **kwargs: Any) -> Answer:
        found = _DISCOVERY.match(url)
        if found is None:
            return self.inner.get(url, **kwargs)
        login, tenant = found.groups()
        template = self._templates.get(login)
        if template is not None:
            return Derived(_for_tenant(template, tenant))
        with self._lock:
            reading = self._reading.setdefault(login, threading.Lock())
        with reading:
            template = self._templates.get(login)
            if template is not None:
                return Derived(_for_tenant(template, tenant))
            self.fetched += 1
            answer = self.inner.get(url, **kwargs)
            if answer.status_code == 200:
                segment = _token_tenant(answer.text)
                if segment is not None:
                    self._templates[login] = (segment, answer.text)
            return answer

    def post(self, url: str, **kwargs: Any) -> Answer:
        return self.inner.post(url, **kwargs)

    def close(self) -> None:
        self.inner.close()


def _token_tenant(document: str) -> str | None:
    """The tenant segment of a discovery document's token endpoint, when it has one."""
    try:
        endpoint = json.loads(document).get("token_endpoint")
    except (ValueError, AttributeError):
        return None
    if not isinstance(endpoint, str):
        return None
    parts = urlsplit(endpoint).path.split("/")
    return parts[1] if len(parts) > 2 and parts[1] else None


def _for_tenant(template: tuple[str, str], tenant: str) -> str:
    segment, document = template
    return document.replace(f"/{segment}/", f"/{tenant}/")

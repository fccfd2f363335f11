"""The resilient HTTP core every client sends through.

One shared client (:class:`~controller.connectors._direct.DirectClient`: httpx's request and
response on a keep-alive transport, connection reuse), a per-tenant concurrency bound, and
the retry rules of API-NOTES.md, decided apart from the sending by
:func:`controller.connectors._retry.decide` (its docstring has the whole table):

- 429 is retried after ``Retry-After`` on every request (a throttled request was not run);
- 5xx, timeouts and dropped connections are retried with jittered exponential backoff only
  when the request is safe to repeat (GET, PUT, DELETE, idempotent PATCH);
- a create (POST) that may have succeeded is never blindly repeated: the caller's ``lookup``
  is asked first and, if the object exists, it is the answer;
- a read of an object created moments ago retries 404 for about a minute (replication delay);
- ``$batch`` retries throttled and transient *items* after the longest ``Retry-After`` and
  re-issues the dependents (424) of an item it retries.

Failures become the error tree in :mod:`controller.connectors._translate`. ``sleep``, ``clock``
and ``random`` are injectable so tests never wait. Logs (``tenantctl.http``) carry method,
path, status, attempt and request id: never a header value, a body, a token or a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random as random_module
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import certifi
import httpx
import orjson

from controller.connectors._accounting import Accounting
from controller.connectors._batch import chunks, envelope, item_answers
from controller.connectors._direct import DirectClient
from controller.connectors._headers import header
from controller.connectors._messages import BatchOutcome, BatchRequest, ServiceResponse
from controller.connectors._pool import KeepAliveTransport
from controller.connectors._retry import (
    Attempts,
    Call,
    LookUp,
    NoAnswer,
    Raise,
    RetryPolicy,
    Return,
    batch_round,
    classifier,
    decide,
    is_safe,
)
from controller.connectors._wire import body_of, origin_of, path_of, resource_units
from controller.errors import Service, ServiceError, ServiceFault, Transient
from controller.event_loop import gather_or_cancel
from controller.redaction import redact_url

log = logging.getLogger("tenantctl.http")

MAX_PAGES = 10_000

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Lookup = Callable[[], Awaitable[Any | None]]
TokenSource = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Route:
    """Where a request goes and as whom: the service (for error translation and accounting),
    the tenant it is about, the base URL relative URLs are joined to, and the bearer token."""

    service: Service
    tenant: str
    base_url: str
    token: TokenSource | None = field(default=None, repr=False)

    def url(self, url: str) -> str:
        if url.startswith(("https://", "http://")):
            return url
        return f"{self.base_url.rstrip('/')}/{url.lstrip('/')}"


def ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Public roots (certifi) plus the private CA bundle, when one is configured.

    One context per bundle and process, shared by every connection: loading the roots costs
    about 12 ms of CPU, and each run built four (Graph and Exchange, tokens, MSAL), again in
    every worker. A bundle file that changes (a controller running for weeks) gets a new one.
    """
    if ca_bundle is None:
        return _context(None, None)
    try:
        seen = ca_bundle.stat()
    except OSError:  # ssl reports the missing file, as it did before
        return _context(str(ca_bundle), None)
    return _context(str(ca_bundle), (seen.st_mtime_ns, seen.st_size, seen.st_ino))


@functools.lru_cache(maxsize=8)
def _context(ca_bundle: str | None, version: tuple[int, int, int] | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle is not None:
        context.load_verify_locations(cafile=ca_bundle)
    return context


# Requests in flight to one service at once, whatever the tenants: CIPP is one function app
# (the MSP's own instance, sized by the MSP) that serves every tenant. 64 is what a run could
# send it before 32 tenants at once became the default (16 tenants, 4 requests each).
SERVICE_IN_FLIGHT: Mapping[str, int] = {"cipp": 64}
_UNBOUNDED = contextlib.nullcontext()


class HttpCore:
    def __init__(
        self,
        *,
        ca_bundle: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        per_tenant_concurrency: int = 4,
        connections_per_host: int = 64,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        random: Callable[[], float] = random_module.random,
        accounting: Accounting | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.accounting = accounting or Accounting()
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._per_tenant = per_tenant_concurrency
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._service_slots = {
            service: asyncio.Semaphore(limit) for service, limit in SERVICE_IN_FLIGHT.items()
        }
        if transport is None:
            transport = KeepAliveTransport(
                ssl_context=ssl_context(ca_bundle), per_host=connections_per_host
            )
        # httpx's models straight to the transport: no proxy or CA bundle from the
        # environment (the transport has its own TLS context), no redirects followed.
        self._client = DirectClient(transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def sleep(self, seconds: float) -> None:
        """The injected sleep (clients that poll use it too, so tests never wait)."""
        await self._sleep(seconds)

    # -- one request ----------------------------------------------------------------------

    async def request(
        self,
        route: Route,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        lookup: Lookup | None = None,
        expect_new: bool = False,
        _envelope: int = 0,
    ) -> ServiceResponse:
        """Send one request with the retry rules above; raise a typed error on failure.

        ``idempotent`` overrides the method's default (POSTs are not safe to repeat; a read
        sent as POST, such as an Exchange ``Get-*`` cmdlet, is). ``lookup`` answers "does the
        object this create makes exist already?" and is asked before any repeat of a create
        that may have run. ``expect_new`` marks a read of an object created moments ago.
        """
        method = method.upper()
        call = Call(
            method,
            path_of(url),
            safe=is_safe(method, idempotent),
            can_look_up=lookup is not None,
            expect_new=expect_new,
        )
        classify = classifier(route.service, route.tenant)
        started = self._clock()
        attempts = Attempts()
        while True:
            answer = await self._send(
                route,
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                retry=attempts.sent > 0,
                envelope=_envelope,
            )
            elapsed = self._clock() - started
            decision = decide(
                call, answer, attempts, self.retry, elapsed=elapsed, classify=classify
            )
            if isinstance(decision, LookUp):
                found = await self._look_up(route, lookup, decision.error)
                if found is not None:
                    return found
                decision = decision.otherwise
            if isinstance(decision, Return):
                return decision.response
            if isinstance(decision, Raise):
                raise decision.error
            if self._client.is_closed:
                # The run closed its connections meanwhile (a request cut off or still waiting
                # for a connection): a retry would meet httpx's RuntimeError, not the service.
                raise decision.error
            wait = decision.after if decision.after is not None else self.backoff(decision.backoff)
            await self._pause(route, wait, decision.error)
            attempts = decision.attempts

    async def _look_up(
        self, route: Route, lookup: Lookup | None, error: ServiceError
    ) -> ServiceResponse | None:
        """Did the create that may have run make its object? An object created moments ago
        is missing from lists for seconds to a minute (replication delay), so one empty
        answer proves nothing: ask again with backoff for the replication budget before
        concluding that it did not run. Without that, a lost ``POST /groups`` (whose
        mailNickname Graph does not keep unique) would be sent again and make a second group."""
        if lookup is None:
            # Nobody can tell whether the create ran: never repeat it blindly.
            raise error
        waited = 0.0
        attempt = 0
        while True:
            found = await lookup()
            if found is not None:
                log.info("create had run despite an unclear answer; using the existing object")
                return ServiceResponse(200, {"x-tenantctl-found-by": "lookup"}, found)
            if waited >= self.retry.replication_budget:
                log.info("create not found after an unclear answer")
                return None
            attempt += 1
            pause = self.backoff(attempt)
            await self._pause(route, pause, error)
            waited += pause

    def backoff(self, attempt: int) -> float:
        """Jittered exponential backoff: between half and all of ``base * 2**(attempt-1)``."""
        ceiling = min(self.retry.backoff_cap, self.retry.backoff_base * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self._random())

    async def _pause(self, route: Route, wait: float, error: ServiceError) -> None:
        log.info(
            "retrying after %.1f s: %s",
            wait,
            type(error).__name__,
            extra={
                "service": route.service,
                "tenant": route.tenant,
                "status": error.status,
                "code": error.code,
                "request_id": error.request_id,
            },
        )
        await self._sleep(wait)

    def _slot(self, tenant: str) -> asyncio.Semaphore:
        slot = self._slots.get(tenant)
        if slot is None:
            slot = self._slots[tenant] = asyncio.Semaphore(self._per_tenant)
        return slot

    async def _send(
        self,
        route: Route,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        retry: bool,
        envelope: int,
    ) -> ServiceResponse | NoAnswer:
        """One exchange on the wire, counted. A dropped connection or a timeout is not
        raised: it becomes a :class:`NoAnswer` for ``decide``."""
        full_url = route.url(url)
        send_headers = dict(headers or {})
        content = None
        if json is not None:
            # orjson: a $batch envelope encodes in a tenth of json.dumps' time.
            content = orjson.dumps(json)
            send_headers.setdefault("Content-Type", "application/json")
        if route.token is not None:
            send_headers["Authorization"] = f"Bearer {await route.token()}"
        usage = self.accounting.of(route.tenant, route.service)
        usage.round_trips += 1
        if not envelope:
            usage.requests += 1
            if retry:
                usage.retries += 1
        async with self._slot(route.tenant), self._service_slots.get(route.service, _UNBOUNDED):
            begun = self._clock()
            try:
                response = await self._client.request(
                    method, full_url, params=params, content=content, headers=send_headers
                )
                answered = response.content
            except httpx.TransportError as problem:
                log.warning(
                    "%s %s failed: %s",
                    method,
                    path_of(full_url),
                    type(problem).__name__,
                    extra={"service": route.service, "tenant": route.tenant},
                )
                return NoAnswer(
                    Transient(
                        f"{method} {path_of(url)}: {type(problem).__name__}",
                        service=route.service,
                        tenant=route.tenant,
                    ),
                    # Only a connection never made proves the request did not reach the service.
                    reached=not isinstance(
                        problem, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                    ),
                )
        status = response.status_code
        answer = ServiceResponse(status, dict(response.headers), body_of(answered))
        if status == 429:
            usage.throttles += 1
        if route.service == "graph" and not envelope:
            usage.resource_units += resource_units(method, full_url, answer.headers)
        if log.isEnabledFor(logging.DEBUG):  # no per-request work when nobody reads it
            self._log_answer(route, method, full_url, answer, begun)
        return answer

    def _log_answer(
        self, route: Route, method: str, full_url: str, answer: ServiceResponse, begun: float
    ) -> None:
        status = answer.status
        log.debug(
            "%s %s -> %d",
            method,
            path_of(full_url),
            status,
            extra={
                "service": route.service,
                "tenant": route.tenant,
                "status": status,
                "request_id": header(answer.headers, "request-id"),
                "elapsed": round(self._clock() - begun, 3),
            },
        )

    # -- paging ---------------------------------------------------------------------------

    async def pages(
        self,
        route: Route,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json: Any = None,
        idempotent: bool | None = None,
    ) -> AsyncIterator[Any]:
        """Each page's body, following ``@odata.nextLink`` until it is absent. Headers (e.g.
        ``ConsistencyLevel``) are sent with every page: the link does not carry them. A POST
        (Exchange) is re-sent with the same body to the link.

        The link comes from the service's answer and the bearer token goes with it, so it is
        followed only to the origin (scheme, host and port) of the first page, over https; a
        link elsewhere is a :class:`ServiceFault`, never a request."""
        next_url: str | None = url
        origin = origin_of(route.url(url))
        first = True
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            response = await self.request(
                route,
                method,
                next_url,
                params=params if first else None,
                json=json,
                headers=headers,
                idempotent=idempotent,
            )
            first = False
            body = response.body
            yield body
            link = body.get("@odata.nextLink") if isinstance(body, dict) else None
            next_url = link if isinstance(link, str) and link else None
            if next_url is not None:
                _refuse_foreign_link(route, url, route.url(next_url), origin)
        raise ServiceFault(
            f"{path_of(url)}: more than {MAX_PAGES} pages",
            service=route.service,
            tenant=route.tenant,
        )

    async def paginate(
        self,
        route: Route,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json: Any = None,
        idempotent: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of every page (``value``), in order."""
        items: list[dict[str, Any]] = []
        async for body in self.pages(
            route,
            url,
            params=params,
            headers=headers,
            method=method,
            json=json,
            idempotent=idempotent,
        ):
            values = body.get("value") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise ServiceFault(
                    f"{path_of(url)}: a page without a value list",
                    service=route.service,
                    tenant=route.tenant,
                )
            items.extend(values)
        return items

    # -- $batch ---------------------------------------------------------------------------

    async def batch(
        self, route: Route, requests: Sequence[BatchRequest], *, path: str = "$batch"
    ) -> dict[str, BatchOutcome]:
        """Send ``requests`` through Graph ``$batch``: chunks of 20 (an item and what it
        depends on stay together), sent concurrently; answers mapped back by id whatever
        their order. Items answered 429, or 5xx when safe to repeat, are retried after the
        longest ``Retry-After`` of the round, with their dependents that got 424. Returns
        each id's final answer, or the error that sank its whole envelope."""
        by_id: dict[str, BatchRequest] = {}
        for item in requests:
            if item.id in by_id:
                raise ValueError(f"duplicate batch id {item.id!r}")
            by_id[item.id] = item
        results: dict[str, BatchOutcome] = {}
        pending = list(requests)
        for round_number in range(1, self.retry.batch_rounds + 1):
            grouped = chunks(pending)
            outcomes = await gather_or_cancel(
                *(self._send_batch(route, chunk, path, round_number > 1) for chunk in grouped)
            )
            for chunk, outcome in zip(grouped, outcomes, strict=True):
                for item in chunk:
                    results[item.id] = (
                        outcome if isinstance(outcome, ServiceError) else outcome[item.id]
                    )
            next_round = batch_round(pending, results)
            if not next_round.items or round_number == self.retry.batch_rounds:
                break
            wait = next_round.after if next_round.after is not None else self.backoff(round_number)
            log.info(
                "retrying %d batch item(s) after %.1f s",
                len(next_round.items),
                wait,
                extra={"service": route.service, "tenant": route.tenant},
            )
            await self._sleep(wait)
            pending = [item for item in pending if item.id in next_round.items]
        return results

    async def _send_batch(
        self, route: Route, chunk: Sequence[BatchRequest], path: str, retry: bool
    ) -> dict[str, ServiceResponse] | ServiceError:
        usage = self.accounting.of(route.tenant, route.service)
        usage.batch_items += len(chunk)
        usage.requests += len(chunk)
        if retry:
            usage.retries += len(chunk)
        safe = all(is_safe(item.method) for item in chunk)
        try:
            answer = await self.request(
                route, "POST", path, json=envelope(chunk), idempotent=safe, _envelope=len(chunk)
            )
        except ServiceError as error:
            return error
        answers = item_answers(answer.body, chunk)
        for item in chunk:
            response = answers.get(item.id)
            if response is None:
                answers[item.id] = ServiceResponse(
                    599, {}, {"error": {"code": "MissingBatchItem", "message": "no answer"}}
                )
                continue
            if response.status == 429:
                usage.throttles += 1
            if route.service == "graph":
                usage.resource_units += resource_units(item.method, item.url, response.headers)
        return answers


def _refuse_foreign_link(
    route: Route, url: str, link: str, origin: tuple[str, str, int | None]
) -> None:
    theirs = origin_of(link)
    if theirs == origin and theirs[0] == "https":
        return
    raise ServiceFault(
        f"{path_of(url)}: the service's next-page link points to {redact_url(link)}, not to "
        f"{redact_url(route.url(url))}; tenantctl follows page links only to the same "
        "https origin, so that the token is never sent elsewhere",
        service=route.service,
        tenant=route.tenant,
        code="ForeignNextLink",
    )

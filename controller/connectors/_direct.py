"""httpx's request and response, sent straight to the transport: the client the HTTP core and
MSAL's token requests use instead of :class:`httpx.AsyncClient`.

For tenantctl's requests :meth:`httpx.AsyncClient.request` does little beyond building the
request and reading the answer: no base URL, no auth flow, no redirects followed, no event
hooks. Its layers still cost about a third of a round trip's CPU in an observing worker (py-spy:
``build_request`` merging the URL, headers and cookies through ``httpx.URL`` and ``Headers``
again, the auth and redirect generators, the stream wrapper that times the answer, a urllib
request built around every answer for the cookie jar). :class:`DirectClient` builds the same
request (httpx's default headers, the same timeout extension, the cookies the services set)
and hands it to the same transport: the bytes on the wire do not change
(``tests/connectors/test_direct_client.py`` compares them with httpx's client's).

The answer is read whole before it is returned, as ``AsyncClient.request`` does; a failure
reading it closes it (the transport drops the connection) and is raised as httpx raises it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

# The headers httpx's client sends on every request (``httpx._client.BaseClient.headers``),
# with tenantctl's User-Agent. Accept-Encoding: what httpx decodes without optional packages.
DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
    ("User-Agent", "tenantctl"),
)
_DEFAULT_NAMES = frozenset(name.lower() for name, _ in DEFAULT_HEADERS)

CLOSED = "Cannot send a request, as the client has been closed."


class DirectClient:
    """One transport, httpx's models, none of :class:`httpx.AsyncClient`'s per-request layers.

    ``request`` takes what the callers pass (``params``, ``headers``, ``content`` or ``data``)
    and returns the answer with its body read. Cookies a service sets are kept and sent back,
    as the client's jar does (the services' answers almost never set one)."""

    def __init__(self, transport: httpx.AsyncBaseTransport, *, timeout: float) -> None:
        self._transport = transport
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._cookies = httpx.Cookies()
        self.is_closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError(CLOSED)  # what httpx's client raises
        request = httpx.Request(
            method,
            url,
            params=params,
            headers=_with_defaults(headers),
            content=content,
            data=data,
            cookies=self._cookies if self._cookies.jar else None,
            extensions={"timeout": self._timeout},
        )
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            self._cookies.extract_cookies(response)
        return response

    async def aclose(self) -> None:
        if not self.is_closed:
            self.is_closed = True
            await self._transport.aclose()


def _with_defaults(headers: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """httpx's default headers, then the request's: a request's own header of a default's
    name replaces it, and goes last with the others (``httpx.Headers.update``)."""
    if not headers:
        return list(DEFAULT_HEADERS)
    own = [(name, value) for name, value in headers.items()]
    names = {name.lower() for name, _ in own}
    if names.isdisjoint(_DEFAULT_NAMES):
        return [*DEFAULT_HEADERS, *own]
    return [(name, value) for name, value in DEFAULT_HEADERS if name.lower() not in names] + own

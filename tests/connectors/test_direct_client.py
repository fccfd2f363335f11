"""The client the HTTP core and the token requests send through (``DirectClient``): the same
request on the wire as httpx's ``AsyncClient`` configured as the core configured it, without
the client's per-request layers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from controller.connectors._direct import DirectClient
from tests.connectors.conftest import TENANT, run

Handler = Callable[[httpx.Request], httpx.Response]


def _wire(request: httpx.Request) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
    return request.method, str(request.url), request.headers.raw, request.read()


async def _send_both(*calls: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Each call sent by httpx's client (as the core configured it before) and by ours."""
    theirs: list[Any] = []
    ours: list[Any] = []

    def recorder(into: list[Any]) -> Handler:
        def handler(request: httpx.Request) -> httpx.Response:
            into.append(_wire(request))
            return httpx.Response(200, json={"ok": True}, headers={"Set-Cookie": "slice=a"})

        return handler

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(recorder(theirs)),
        trust_env=False,
        timeout=60.0,
        headers={"User-Agent": "tenantctl"},
        follow_redirects=False,
    )
    direct = DirectClient(httpx.MockTransport(recorder(ours)), timeout=60.0)
    async with client:
        for call in calls:
            answer = await client.request(**call)
            mine = await direct.request(**call)
            assert (mine.status_code, mine.content) == (answer.status_code, answer.content)
    await direct.aclose()
    return theirs, ours


def test_the_request_on_the_wire_is_the_one_httpx_client_sends() -> None:
    """Method, URL with its query, every header in its order (cookies the service set
    included), and the body: a Graph GET with parameters, a JSON POST, MSAL's form POST
    with headers of its own, one that replaces a default header."""
    graph = f"https://graph.example/v1.0/{TENANT}"
    calls: list[dict[str, Any]] = [
        {"method": "GET", "url": f"{graph}/users", "params": {"$top": "999", "$select": "id"}},
        {
            "method": "POST",
            "url": "https://graph.example/v1.0/$batch",
            "content": b'{"requests":[]}',
            "headers": {"Content-Type": "application/json", "Authorization": "Bearer t"},
        },
        {
            "method": "POST",
            "url": f"https://login.example/{TENANT}/oauth2/v2.0/token",
            "data": {"grant_type": "client_credentials", "scope": "https://graph/.default"},
            "headers": {"client-request-id": "x", "x-client-sku": "MSAL.Python"},
        },
        {"method": "GET", "url": f"{graph}/me", "headers": {"user-agent": "other", "Accept": "a"}},
    ]
    theirs, ours = run(_send_both(*calls))
    assert ours == theirs
    assert any(b"cookie" in {k.lower() for k, _ in headers} for _, _, headers, _ in ours)


def test_the_timeout_reaches_the_transport_as_httpx_client_gives_it() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=30.0) as c:
            await c.get("https://graph.example/")
        direct = DirectClient(httpx.MockTransport(handler), timeout=30.0)
        await direct.request("GET", "https://graph.example/")
        await direct.aclose()

    run(scenario())
    assert seen[0] == seen[1]


class _BrokenBody(httpx.AsyncByteStream):
    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        raise httpx.ReadError("connection reset")

    async def aclose(self) -> None:
        self.closed = True


def test_an_answer_cut_off_is_closed_and_raised_as_httpx_raises_it() -> None:
    body = _BrokenBody()

    async def scenario() -> None:
        direct = DirectClient(
            httpx.MockTransport(lambda request: httpx.Response(200, stream=body)), timeout=5
        )
        with pytest.raises(httpx.ReadError):
            await direct.request("GET", "https://graph.example/")
        await direct.aclose()

    run(scenario())
    assert body.closed


def test_a_closed_client_sends_nothing_and_closes_its_transport_once() -> None:
    closed: list[bool] = []

    class Transport(httpx.MockTransport):
        async def aclose(self) -> None:
            closed.append(True)

    async def scenario() -> None:
        direct = DirectClient(Transport(lambda request: httpx.Response(204)), timeout=5)
        await direct.aclose()
        await direct.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await direct.request("GET", "https://graph.example/")

    run(scenario())
    assert closed == [True]


def test_the_core_sends_without_the_httpx_client_layers(
    connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HTTP core builds the request and hands it to the transport itself: httpx's
    client, whose layers cost about a third of a round trip's CPU, is not in the path."""

    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("httpx.AsyncClient.send was called")

    monkeypatch.setattr(httpx.AsyncClient, "send", refused)

    async def scenario() -> list[Any]:
        async with connect(lambda request: httpx.Response(200, json={"value": []})) as conns:
            return await conns.graph(TENANT).list_users()

    assert run(scenario()) == []

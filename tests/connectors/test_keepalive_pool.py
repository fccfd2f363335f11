"""The HTTP core's transport (``KeepAliveTransport``) against a tiny HTTP/1.1 server on
127.0.0.1: connections are kept alive and reused, never more than ``per_host`` per origin
(the others wait their turn), one closed by the server while idle is replaced without an
error, one whose response was not read whole is not reused, and failures come out as httpx's
exceptions (what the HTTP core's retry decision reads). Closing the transport closes every
connection it opened: one in use, one that finishes opening afterwards, and the rest when the
close is itself cancelled; none is left for the garbage collector to find later. A request
still waiting for a free connection then fails with ``httpx.ConnectError`` (a connection
failure, which the HTTP core classifies), unless its own task was cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from controller.connectors._pool import KeepAliveTransport
from tests.unclosed_support import unraisable_after_collect

Reply = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # False: close the connection


class Server:
    """Answers each request with ``reply``; counts connections and requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests = 0
        self.busy = 0
        self.most_busy = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop listening and hang up on the clients still connected: every handler has
        ended when the test's event loop closes (a handler the loop cancels is noise)."""
        assert self._server is not None
        self._server.close()
        for writer in self._handlers.values():
            writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers[handler] = writer
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                self.requests += 1
                self.busy += 1
                self.most_busy = max(self.most_busy, self.busy)
                try:
                    keep = await self.reply(head, writer)
                finally:
                    self.busy -= 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            del self._handlers[handler]


def ok(body: bytes = b'{"ok":true}', delay: float = 0.0) -> Reply:
    async def reply(head: bytes, writer: asyncio.StreamWriter) -> bool:
        if delay:
            await asyncio.sleep(delay)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        return True

    return reply


def held_until(answer: asyncio.Event, arrived: asyncio.Event) -> Reply:
    """Say that the request arrived, then answer it (OK) once ``answer`` is set."""

    async def reply(head: bytes, writer: asyncio.StreamWriter) -> bool:
        arrived.set()
        await answer.wait()
        return await ok()(head, writer)

    return reply


def client(**options: Any) -> httpx.AsyncClient:
    transport = KeepAliveTransport(ssl_context=ssl.create_default_context(), **options)
    return httpx.AsyncClient(transport=transport)


def test_one_connection_serves_requests_one_after_another() -> None:
    async def scenario() -> tuple[Server, list[Any]]:
        async with Server(ok()) as server, client() as http:
            answers = [(await http.get(f"{server.url}/users?n={i}")).json() for i in range(10)]
        return server, answers

    server, answers = asyncio.run(scenario())
    assert answers == [{"ok": True}] * 10
    assert server.requests == 10 and server.connections == 1


def test_at_most_per_host_connections_and_the_others_wait_their_turn() -> None:
    async def scenario() -> tuple[Server, list[int]]:
        async with Server(ok(delay=0.01)) as server, client(per_host=3) as http:
            answers = await asyncio.gather(
                *(http.post(f"{server.url}/$batch", content=b"{}") for _ in range(12))
            )
        return server, [a.status_code for a in answers]

    server, statuses = asyncio.run(scenario())
    assert statuses == [200] * 12
    assert server.connections == 3 and server.most_busy == 3


def test_a_connection_the_server_closed_while_idle_is_replaced_without_an_error() -> None:
    async def close_after_answer(head: bytes, writer: asyncio.StreamWriter) -> bool:
        await ok()(head, writer)
        return False  # the server closes the connection once it answered

    async def scenario() -> Server:
        async with Server(close_after_answer) as server, client() as http:
            for _ in range(3):
                assert (await http.get(server.url)).status_code == 200
                await asyncio.sleep(0.01)  # the FIN arrives while the connection is idle
        return server

    server = asyncio.run(scenario())
    assert server.requests == 3 and server.connections == 3


def test_a_response_not_read_whole_does_not_go_back_to_the_pool() -> None:
    async def scenario() -> Server:
        async with Server(ok(body=b"x" * 200_000)) as server, client() as http:
            async with http.stream("GET", server.url) as response:
                async for _ in response.aiter_raw(1024):
                    break  # stop after the first chunk
            assert (await http.get(server.url)).status_code == 200
        return server

    server = asyncio.run(scenario())
    assert server.connections == 2


def test_a_refused_connection_is_a_connect_error() -> None:
    async def scenario() -> None:
        async with Server(ok()) as server:
            url = server.url
        async with client() as http:
            await http.get(url)  # nobody listens there any more

    with pytest.raises(httpx.ConnectError):
        asyncio.run(scenario())


def test_a_server_that_hangs_up_without_answering_is_a_remote_protocol_error() -> None:
    async def hang_up(head: bytes, writer: asyncio.StreamWriter) -> bool:
        return False

    async def scenario() -> None:
        async with Server(hang_up) as server, client() as http:
            await http.get(server.url)

    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        asyncio.run(scenario())


def test_a_slow_answer_is_a_read_timeout() -> None:
    async def scenario() -> None:
        async with Server(ok(delay=1.0)) as server, client() as http:
            await http.get(server.url, timeout=httpx.Timeout(5.0, read=0.05))

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(scenario())


def test_waiting_for_a_connection_has_the_pool_timeout() -> None:
    async def scenario() -> None:
        async with Server(ok(delay=0.5)) as server, client(per_host=1) as http:
            first = asyncio.create_task(http.get(server.url))
            await asyncio.sleep(0.05)
            try:
                await http.get(server.url, timeout=httpx.Timeout(5.0, pool=0.05))
            finally:
                await first

    with pytest.raises(httpx.PoolTimeout):
        asyncio.run(scenario())


def test_a_request_cancelled_as_a_connection_is_handed_to_it_passes_the_connection_on() -> None:
    async def scenario() -> int:
        async with Server(ok(delay=0.05)) as server, client(per_host=1) as http:
            first = asyncio.create_task(http.get(server.url))
            await asyncio.sleep(0.01)  # the only connection is busy
            second = asyncio.create_task(http.get(server.url))
            await asyncio.sleep(0.01)  # the second waits for it
            await first  # the connection is handed to the second, which has not run yet
            second.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await second
            third = await asyncio.wait_for(http.get(server.url), timeout=5)
            return third.status_code

    assert asyncio.run(scenario()) == 200


# -- closing ------------------------------------------------------------------------------


async def closed_midway(
    server: Server, reached: asyncio.Event, go_on: asyncio.Event
) -> tuple[KeepAliveTransport, type]:
    """One request: once it has ``reached`` a point the transport is closed, then the request
    may ``go_on``. The transport, and what the request came to (its exception's type)."""
    transport = KeepAliveTransport(ssl_context=ssl.create_default_context())
    http = httpx.AsyncClient(transport=transport)
    request = asyncio.create_task(http.get(server.url))
    await reached.wait()
    await http.aclose()
    go_on.set()
    (outcome,) = await asyncio.gather(request, return_exceptions=True)
    return transport, type(outcome)


def test_a_connection_in_use_when_the_transport_closes_is_closed_not_kept() -> None:
    """A request still under way when the run closes its connections (a token fetched
    ahead, a task a failed gather left running): its connection used to
    go back, once the answer came, into a pool nobody would close again."""

    async def scenario() -> tuple[KeepAliveTransport, type]:
        arrived, answer = asyncio.Event(), asyncio.Event()
        async with Server(held_until(answer, arrived)) as server:
            return await closed_midway(server, arrived, answer)

    transport, outcome = asyncio.run(scenario())
    assert unraisable_after_collect() == []
    assert outcome is httpx.ReadError
    assert transport.open_connections == 0


def test_a_connection_opened_after_the_transport_closed_is_closed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opening, go_on = asyncio.Event(), asyncio.Event()
    open_connection = asyncio.open_connection

    async def slow_open(*args: Any, **options: Any) -> Any:
        opened = await open_connection(*args, **options)
        opening.set()
        await go_on.wait()  # the connection is made; the transport closes meanwhile
        return opened

    monkeypatch.setattr(asyncio, "open_connection", slow_open)

    async def scenario() -> tuple[KeepAliveTransport, Server, type]:
        async with Server(ok()) as server:
            transport, outcome = await closed_midway(server, opening, go_on)
        return transport, server, outcome

    transport, server, outcome = asyncio.run(scenario())
    assert unraisable_after_collect() == []
    assert outcome is httpx.ConnectError
    assert transport.open_connections == 0 and server.requests == 0


def test_a_close_that_is_cancelled_still_closes_every_connection() -> None:
    """Ctrl-C while a run closes its connections: all are closed before the first wait."""

    async def scenario() -> KeepAliveTransport:
        transport = KeepAliveTransport(ssl_context=ssl.create_default_context())
        async with Server(ok()) as server:
            http = httpx.AsyncClient(transport=transport)
            await asyncio.gather(*(http.get(server.url) for _ in range(3)))  # 3 now idle
            assert transport.opened == 3
            closing = asyncio.create_task(transport.aclose())
            await asyncio.sleep(0)  # the close runs up to its first wait
            closing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closing
        return transport

    transport = asyncio.run(scenario())
    assert unraisable_after_collect() == []
    assert transport.open_connections == 0


SAFETY = 30.0  # seconds; reached only when a regression would hang the test


def waiting_for_a_connection(transport: KeepAliveTransport) -> int:
    return sum(
        not waiter.done() for origin in transport._origins.values() for waiter in origin.waiting
    )


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop turn until ``condition`` holds (bound it with ``asyncio.wait_for``)."""
    while not condition():
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("cancel_second", "second_ends"),
    [(False, httpx.ConnectError), (True, asyncio.CancelledError)],
    ids=["waiting", "cancelled-as-it-closes"],
)
def test_a_request_waiting_for_a_connection_when_the_transport_closes(
    cancel_second: bool, second_ends: type
) -> None:
    """A first request holds the only connection, a second waits for it; the transport is
    closed. The second used to get CancelledError, though nobody cancelled its task (the HTTP
    core took it for the run being cancelled): now ConnectError, a connection failure. When
    its task is cancelled just then (after the close failed its wait, before it ran again) it
    still ends cancelled: a real cancellation never becomes a connection failure."""

    async def scenario() -> list[type]:
        arrived, answer = asyncio.Event(), asyncio.Event()
        async with Server(held_until(answer, arrived)) as server:
            transport = KeepAliveTransport(ssl_context=ssl.create_default_context(), per_host=1)
            http = httpx.AsyncClient(transport=transport)
            first = asyncio.create_task(http.get(server.url))
            await arrived.wait()
            second = asyncio.create_task(http.get(server.url))
            waits = until(lambda: waiting_for_a_connection(transport) == 1)
            await asyncio.wait_for(waits, SAFETY)
            await http.aclose()
            if cancel_second:
                second.cancel()
            answer.set()
            outcomes = await asyncio.gather(first, second, return_exceptions=True)
        return [type(outcome) for outcome in outcomes]

    assert asyncio.run(scenario()) == [httpx.ReadError, second_ends]
    assert unraisable_after_collect() == []

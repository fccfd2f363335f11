"""The HTTP core's transport (``KeepAliveTransport``) against a tiny HTTP/1.1 server on
127.0.0.1: connections are kept alive and reused, never more than ``per_host`` per origin
(the others wait their turn), one closed by the server while idle is replaced without an
error, one whose response was not read whole is not reused, and failures come out as httpx's
exceptions (what the HTTP core's retry decision reads)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from controller.connectors._pool import KeepAliveTransport

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

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
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

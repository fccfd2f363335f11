"""Keep-alive connections for the HTTP core: one pool per service host, sized to the concurrency.

httpx stays the client API; this is the transport beneath it (``httpx.AsyncBaseTransport``).
httpx's default transport (httpcore's ``AsyncConnectionPool`` over anyio) cost about 1.8 ms of
CPU per request at tenantctl's concurrency (py-spy, ``bench/client_bench.py``):

- ``_assign_requests_to_connections`` walks every queued request against every connection on
  each request and on each response closed (quadratic in the connections in use);
- on each walk it probes every idle connection (``has_expired``: ``getpeername`` and ``poll``
  through anyio's ``extra_attributes``);
- every request takes two of httpcore's locks, each an anyio ``Lock`` whose acquisition is a
  cancel scope and an extra turn of the event loop;
- anyio's TLS stream feeds every read through a ``MemoryBIO`` in Python.

Here each origin (scheme, host, port) keeps its idle connections on a stack and hands one out
in O(1), the most recently used first. A connection belongs to one request at a time, so it
needs no lock. Whether the server closed an idle connection is read off the asyncio transport
(it saw the FIN when it arrived), without a system call. The bytes go through asyncio's own
streams and TLS; HTTP/1.1 is parsed by h11, as httpcore does. When every connection of an
origin is busy a request waits for the next one released, first come first served.

Closing the transport closes every connection it opened, idle or in use, and a connection
that finishes opening after it is closed straight away: a request still under way when the run
ends (a token fetched ahead, a task a failed ``gather`` left running) would
otherwise put its connection back into a pool nobody closes, and the garbage collector would
find the unclosed TLS transport in some later test or run. A request still waiting for a
free connection fails with ``httpx.ConnectError`` (its own task was not cancelled).

Failures are httpx's exceptions (``httpx.ConnectError``, ``httpx.ReadTimeout``,
``httpx.RemoteProtocolError``...), raised here, so the HTTP core sees what it saw before.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

import h11
import httpx

READ_SIZE = 64 * 1024
# h11's default bound on a response head is 16 KiB; Graph's headers stay far below it.
MAX_HEAD = 100 * 1024

Timeouts = Mapping[str, float | None]


class _Connection:
    """One HTTP/1.1 connection: asyncio's stream (TLS included), parsed by h11."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.idle_since = 0.0
        self.requests = 0
        self._aborted = False

    # -- state ----------------------------------------------------------------------------

    def closed_by_server(self) -> bool:
        """The server closed it (or wrote out of turn) while idle: the transport knows."""
        return self._reader.at_eof() or self._writer.transport.is_closing()

    def finish(self) -> bool:
        """After a response was read whole: ready for the next request? (keep-alive)"""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        """Start closing (TLS: send close_notify); :meth:`wait_closed` waits for the end."""
        self._writer.close()

    def abort(self) -> None:
        """Close at once, without waiting on the peer: for a connection in the middle of a
        request (the server would read our close_notify only after its answer)."""
        self._aborted = True
        self._writer.transport.abort()

    async def wait_closed(self) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):  # the peer went first
            await self._writer.wait_closed()

    async def aclose(self) -> None:
        self.close()
        await self.wait_closed()

    # -- one exchange ---------------------------------------------------------------------

    async def send(self, request: httpx.Request, timeouts: Timeouts) -> h11.Response:
        """Write the request whole, then read up to the response's head."""
        self.requests += 1
        url = request.url
        head = h11.Request(
            method=request.method.encode("ascii"),
            target=url.raw_path,
            headers=request.headers.raw,
        )
        parts = [self._put(head)]
        async for chunk in request.stream:  # type: ignore[union-attr]
            if chunk:
                parts.append(self._put(h11.Data(data=chunk)))
        parts.append(self._put(h11.EndOfMessage()))
        await self._write(b"".join(parts), timeouts.get("write"))
        read_timeout = timeouts.get("read")
        while True:
            event = await self._next(read_timeout)
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):  # 1xx: wait for the answer
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__}")

    async def body(self, timeouts: Timeouts) -> AsyncIterator[bytes]:
        read_timeout = timeouts.get("read")
        while True:
            event = await self._next(read_timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__}")

    def _put(self, event: h11.Event) -> bytes:
        try:
            return self._h11.send(event) or b""
        except h11.LocalProtocolError as problem:
            raise httpx.LocalProtocolError(str(problem)) from problem

    async def _write(self, data: bytes, timeout: float | None) -> None:
        try:
            self._writer.write(data)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError as problem:
            raise httpx.WriteTimeout("write timed out") from problem
        except (OSError, ssl.SSLError) as problem:
            raise httpx.WriteError(str(problem) or type(problem).__name__) from problem

    async def _next(self, timeout: float | None) -> h11.Event | type[h11.PAUSED]:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as problem:
                raise httpx.RemoteProtocolError(str(problem)) from problem
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]  # h11's sentinels are types
            try:
                async with asyncio.timeout(timeout):
                    data = await self._reader.read(READ_SIZE)
            except TimeoutError as problem:
                raise httpx.ReadTimeout("read timed out") from problem
            except (OSError, ssl.SSLError) as problem:
                raise httpx.ReadError(str(problem) or type(problem).__name__) from problem
            if not data and self._aborted:
                raise httpx.ReadError("the connection pool was closed during the request")
            if not data and self._h11.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self._h11.receive_data(data)


@dataclass
class _Origin:
    """The connections of one scheme, host and port."""

    idle: list[_Connection] = field(default_factory=list)
    open: int = 0  # idle, busy and being opened
    waiting: deque[asyncio.Future[_Connection | None]] = field(default_factory=deque)


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive connections, at most ``per_host`` to each origin; an idle one is
    closed after ``keepalive_expiry`` seconds."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        per_host: int = 64,
        keepalive_expiry: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self._ssl_context = ssl_context
        self._per_host = per_host
        self._keepalive_expiry = keepalive_expiry
        self._clock = clock
        self._origins: dict[tuple[bytes, bytes, int], _Origin] = {}
        self._connections: set[_Connection] = set()  # open now: idle and in use
        self._closed = False
        self.opened = 0  # connections opened over the transport's life (the bench reads it)

    @property
    def open_connections(self) -> int:
        """Connections open now, idle or in use (0 once the transport is closed)."""
        return len(self._connections)

    # -- httpx's seam ---------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        port = url.port or (443 if scheme == b"https" else 80)
        key = (scheme, url.raw_host, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin()
        timeouts: Timeouts = request.extensions.get("timeout", {})
        connection = await self._acquire(origin, key, timeouts)
        try:
            head = await connection.send(request, timeouts)
        except BaseException:
            await self._drop(origin, connection)
            raise
        return httpx.Response(
            status_code=head.status_code,
            headers=head.headers.raw_items(),
            stream=_Body(self, origin, connection, timeouts),
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason},
        )

    async def aclose(self) -> None:
        """Close every connection: the idle ones politely, those in use at once. All are
        closed before the first wait, so a close that is itself cancelled (Ctrl-C at the end
        of a run) leaves none open."""
        self._closed = True
        origins = list(self._origins.values())
        self._origins.clear()
        idle: set[_Connection] = set()
        for origin in origins:
            for waiter in origin.waiting:
                if not waiter.done():
                    # A failure to connect, not a cancellation: the request's own task was
                    # not cancelled, and the HTTP core classifies the error by its type.
                    waiter.set_exception(httpx.ConnectError("the connection pool was closed"))
            idle.update(origin.idle)
            origin.idle = []
        closing, self._connections = self._connections, set()
        for connection in closing:
            if connection in idle:
                connection.close()
            else:
                connection.abort()
        for connection in idle:
            await connection.wait_closed()

    # -- the pool -------------------------------------------------------------------------

    async def _acquire(
        self, origin: _Origin, key: tuple[bytes, bytes, int], timeouts: Timeouts
    ) -> _Connection:
        now = self._clock()
        while origin.idle:
            connection = origin.idle.pop()
            if (
                connection.closed_by_server()
                or now - connection.idle_since > self._keepalive_expiry
            ):
                origin.open -= 1
                self._connections.discard(connection)
                await connection.aclose()
                continue
            return connection
        if origin.open < self._per_host:
            origin.open += 1
            return await self._open(origin, key, timeouts.get("connect"))
        handed = await self._wait(origin, timeouts.get("pool"))
        if handed is not None:
            return handed
        # A connection was closed and its place handed to this request.
        return await self._open(origin, key, timeouts.get("connect"))

    async def _wait(self, origin: _Origin, timeout: float | None) -> _Connection | None:
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        origin.waiting.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as problem:
            if not waiter.done():
                waiter.cancel()
            elif not waiter.cancelled() and waiter.exception() is None:
                # Handed over just as this request gave up (timed out or was cancelled):
                # pass it on, or the place would be lost for good.
                self._hand_on(origin, waiter.result())
            if isinstance(problem, TimeoutError):
                raise httpx.PoolTimeout("no connection free in time") from problem
            raise

    async def _open(
        self, origin: _Origin, key: tuple[bytes, bytes, int], timeout: float | None
    ) -> _Connection:
        scheme, host, port = key
        name = host.decode("ascii")
        tls = self._ssl_context if scheme == b"https" else None
        try:
            if self._closed:
                raise httpx.ConnectError("the connection pool is closed")
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    name, port, ssl=tls, server_hostname=name if tls else None, limit=READ_SIZE
                )
        except BaseException as problem:
            self._hand_on(origin, None)  # give the place back
            if isinstance(problem, TimeoutError):
                raise httpx.ConnectTimeout(f"connecting to {name}:{port} timed out") from None
            if isinstance(problem, OSError | ssl.SSLError):
                raise httpx.ConnectError(str(problem) or type(problem).__name__) from None
            raise
        self.opened += 1
        connection = _Connection(reader, writer)
        if self._closed:  # closed while this one was being opened: nobody would close it
            await self._drop(origin, connection)
            raise httpx.ConnectError("the connection pool was closed while connecting")
        self._connections.add(connection)
        return connection

    def _release(self, origin: _Origin, connection: _Connection) -> None:
        connection.idle_since = self._clock()
        self._hand_on(origin, connection)

    def _hand_on(self, origin: _Origin, connection: _Connection | None) -> None:
        """To the first request still waiting; else ``connection`` goes idle (``None``: a
        place was freed, the connection count drops)."""
        while origin.waiting:
            waiter = origin.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is None:
            origin.open -= 1
        else:
            origin.idle.append(connection)

    async def _drop(self, origin: _Origin, connection: _Connection) -> None:
        self._connections.discard(connection)
        try:
            await connection.aclose()
        finally:
            self._hand_on(origin, None)


class _Body(httpx.AsyncByteStream):
    """A response's body; once read whole, its connection goes back to the pool."""

    def __init__(
        self,
        pool: KeepAliveTransport,
        origin: _Origin,
        connection: _Connection,
        timeouts: Timeouts,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._connection = connection
        self._timeouts = timeouts
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._connection.body(self._timeouts):
                yield part
        except BaseException:
            await self._close(reusable=False)
            raise

    async def aclose(self) -> None:
        if not self._done:
            await self._close(reusable=self._connection.finish())

    async def _close(self, *, reusable: bool) -> None:
        if self._done:
            return
        self._done = True
        if reusable and not self._pool._closed:
            self._pool._release(self._origin, self._connection)
        else:
            await self._pool._drop(self._origin, self._connection)

"""MSAL's requests sent on the event loop (``OnTheLoop``) while its worker thread waits: the
thread never waits for a loop that will not answer. A request queued on a loop that closes
before running it, one sent to a closed loop, and one still waiting when the token provider
closes its connections each fail at once with ``httpx.ConnectError`` (then ``Transient``).

Each scenario runs the sender in a daemon thread and waits for it to end; the bound on that
wait is only a safety net, so that a regression fails instead of hanging the suite."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from controller.connectors import TokenProvider
from controller.connectors._msal_http import OnTheLoop
from controller.errors import Transient
from tests.connectors.conftest import TENANT, make_settings, run

LOGIN = "https://login.microsoftonline.com"
SAFETY = 30.0  # seconds; reached only when the thread hangs


def in_a_thread(send: Callable[[], Any]) -> tuple[threading.Event, list[BaseException]]:
    """Run ``send`` in a daemon thread: the event is set when it ended, the list holds what
    it raised."""
    ended, raised = threading.Event(), []

    def body() -> None:
        try:
            send()
        except BaseException as problem:
            raised.append(problem)
        finally:
            ended.set()

    threading.Thread(target=body, daemon=True).start()
    return ended, raised


def answered(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


# Under libfaketime (``make test-clock``) a thread's timed wait on a lock never times out
# (``threading.Event().wait(0.01)`` blocks until notified), and only this scenario needs one:
# nobody answers the request, so only the thread's own patience can notice the closed loop.
UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.skipif(UNDER_FAKETIME, reason="libfaketime stops timed lock waits from timing out")
def test_a_request_queued_on_a_loop_that_closes_before_running_it_fails() -> None:
    """The loop stops (the run ended) with MSAL's request queued but not started: nothing
    will ever run it. The thread used to wait for it forever."""
    loop = asyncio.new_event_loop()
    queued = threading.Event()
    call_soon_threadsafe = loop.call_soon_threadsafe

    def queue(*args: Any, **options: Any) -> Any:
        handle = call_soon_threadsafe(*args, **options)
        queued.set()
        return handle

    loop.call_soon_threadsafe = queue  # type: ignore[method-assign]
    client = httpx.AsyncClient(transport=httpx.MockTransport(answered))
    on_the_loop = OnTheLoop(client, loop, patience=0.01)
    ended, raised = in_a_thread(lambda: on_the_loop.get(f"{LOGIN}/common/discovery/instance"))
    assert queued.wait(SAFETY)
    loop.close()  # never ran: the request stays queued
    assert ended.wait(SAFETY), "the thread still waits for a closed loop"
    assert [type(problem) for problem in raised] == [httpx.ConnectError]


def test_a_request_sent_to_a_closed_loop_is_a_connect_error() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    client = httpx.AsyncClient(transport=httpx.MockTransport(answered))
    with pytest.raises(httpx.ConnectError, match="connections were closed"):
        OnTheLoop(client, loop).post(f"{LOGIN}/{TENANT}/oauth2/v2.0/token")


def test_requests_waiting_or_sent_after_the_close_fail_at_once() -> None:
    """The owner closes it while a request is on the loop and will not be answered soon:
    the waiting thread is released, and a later request is refused."""
    arrived, finish = threading.Event(), asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await finish.wait()
        return httpx.Response(200, json={})

    async def scenario() -> tuple[list[BaseException], list[BaseException]]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(slow))
        on_the_loop = OnTheLoop(client, asyncio.get_running_loop())
        ended, raised = in_a_thread(lambda: on_the_loop.get(LOGIN))
        assert await asyncio.to_thread(arrived.wait, SAFETY)
        on_the_loop.close()
        try:
            assert await asyncio.to_thread(ended.wait, SAFETY), "the thread still waits"
        finally:
            finish.set()
        later_ended, later = in_a_thread(lambda: on_the_loop.get(LOGIN))
        assert await asyncio.to_thread(later_ended.wait, SAFETY)
        await client.aclose()
        return raised, later

    raised, later = run(scenario())
    assert [type(problem) for problem in raised] == [httpx.ConnectError]
    assert [type(problem) for problem in later] == [httpx.ConnectError]


def test_a_token_request_waiting_when_the_provider_closes_is_transient_at_once() -> None:
    """A token fetched ahead is still waiting for login when the run closes its
    connections: it fails with Transient straight away rather than when (if ever) login
    answers."""
    arrived, finish = threading.Event(), asyncio.Event()

    async def login(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await finish.wait()
        return httpx.Response(500)

    tokens = TokenProvider(
        make_settings(overrides={"login": LOGIN}), transport=httpx.MockTransport(login)
    )

    async def scenario() -> BaseException | str:
        asking = asyncio.ensure_future(tokens.token(TENANT, "graph"))
        try:
            assert await asyncio.to_thread(arrived.wait, SAFETY)
            await tokens.aclose()
            (outcome,) = await asyncio.wait_for(
                asyncio.gather(asking, return_exceptions=True), SAFETY
            )
            return outcome
        finally:
            finish.set()

    outcome = run(scenario())
    assert isinstance(outcome, Transient) and "cannot reach" in outcome.message

"""The HTTP core: paging, 429 + Retry-After, backoff on 5xx and dropped connections for safe
requests only, read-before-retry for creates, 404-after-create, per-tenant concurrency, and
errors translated with service, tenant, status, code and request id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from controller.connectors import Connections, RetryPolicy
from controller.errors import (
    BadRequest,
    NotFound,
    PermissionDenied,
    PropagationPending,
    Throttled,
    Transient,
)
from tests.connectors.conftest import (
    GRAPH,
    TENANT,
    FakeTokens,
    body,
    graph_error,
    make_settings,
    run,
)


def test_paging_follows_next_link_until_absent(connect: Any) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        page = request.url.params.get("$skiptoken")
        if page is None:
            return httpx.Response(
                200, json={"value": [{"id": "1"}], "@odata.nextLink": f"{GRAPH}/users?$skiptoken=2"}
            )
        if page == "2":
            return httpx.Response(
                200, json={"value": [{"id": "2"}], "@odata.nextLink": f"{GRAPH}/users?$skiptoken=3"}
            )
        return httpx.Response(200, json={"value": [{"id": "3"}]})

    async def scenario() -> list[dict[str, Any]]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).list_users()

    assert [u["id"] for u in run(scenario())] == ["1", "2", "3"]
    assert len(seen) == 3
    assert "%24top=999" in seen[0] or "$top=999" in seen[0]


def test_throttled_request_waits_for_retry_after(connect: Any, fake_time: Any) -> None:
    answers = iter(
        [
            graph_error(429, "TooManyRequests", **{"Retry-After": "7"}),
            httpx.Response(200, json={"id": "u"}),
        ]
    )

    async def scenario() -> dict[str, Any]:
        async with connect(lambda request: next(answers)) as connections:
            user = await connections.graph(TENANT).get_user("u")
            usage = connections.accounting.tenant(TENANT, "graph")
            assert (usage.round_trips, usage.throttles, usage.retries) == (2, 1, 1)
            return user

    assert run(scenario()) == {"id": "u"}
    assert fake_time.sleeps == [7.0]


def test_throttling_that_never_ends_is_a_throttled_error(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(429, "TooManyRequests", **{"Retry-After": "2"})

    async def scenario() -> None:
        async with connect(handler, retry=RetryPolicy(max_throttled_attempts=3)) as connections:
            await connections.graph(TENANT).get_user("u")

    with pytest.raises(Throttled) as raised:
        run(scenario())
    assert raised.value.delay == 2.0 and raised.value.tenant == TENANT


def test_503_is_retried_with_growing_jittered_backoff(connect: Any, fake_time: Any) -> None:
    answers = iter(
        [graph_error(503, "serviceNotAvailable")] * 2 + [httpx.Response(200, json={"id": "u"})]
    )

    async def scenario() -> None:
        async with connect(lambda request: next(answers)) as connections:
            await connections.graph(TENANT).get_user("u")

    run(scenario())
    assert fake_time.sleeps == [1.0, 2.0]  # random() == 1.0: the top of each jitter window


@pytest.mark.parametrize(
    "dropped", [httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadTimeout]
)
def test_dropped_connection_on_a_read_is_retried(
    connect: Any, fake_time: Any, dropped: type[Exception]
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise dropped("connection dropped")  # type: ignore[call-arg]
        return httpx.Response(200, json={"id": "u"})

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).get_user("u")

    assert run(scenario()) == {"id": "u"}
    assert calls == 2 and len(fake_time.sleeps) == 1


def test_a_request_cut_off_by_the_close_of_the_connections_is_not_retried(
    connect: Any, fake_time: Any
) -> None:
    """The run closes its connections while a request waits for one (the pool fails it with
    ConnectError): a retry would meet httpx's closed client (RuntimeError), not the service.
    It is the Transient of the failure, at once."""
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await connections.aclose()
        raise httpx.ConnectError("the connection pool was closed")

    connections = connect(handler)

    with pytest.raises(Transient, match="ConnectError"):
        run(connections.graph(TENANT).get_user("u"))
    assert calls == 1 and fake_time.sleeps == []


def test_transient_failures_give_up_with_a_transient_error(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(503, "serviceNotAvailable")

    async def scenario() -> None:
        async with connect(handler, retry=RetryPolicy(max_attempts=3)) as connections:
            await connections.graph(TENANT).get_user("u")

    with pytest.raises(Transient) as raised:
        run(scenario())
    assert raised.value.status == 503 and raised.value.code == "serviceNotAvailable"


def test_create_that_may_have_run_is_looked_up_not_repeated(connect: Any) -> None:
    posts = 0
    lookups = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts, lookups
        if request.method == "POST":
            posts += 1
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        lookups += 1
        assert "userPrincipalName eq 'new@contoso.com'" in request.url.params["$filter"]
        return httpx.Response(200, json={"value": [{"id": "made-by-lost-attempt"}]})

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).create_user(
                {"userPrincipalName": "new@contoso.com", "displayName": "New"}
            )

    assert run(scenario()) == {"id": "made-by-lost-attempt"}
    assert (posts, lookups) == (1, 1)


def test_create_confirmed_absent_is_sent_again(connect: Any) -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method == "POST":
            posts += 1
            if posts == 1:
                return graph_error(502, "badGateway")
            return httpx.Response(201, json={"id": "new"})
        return httpx.Response(200, json={"value": []})

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).create_user(
                {"userPrincipalName": "n@contoso.com"}
            )

    assert run(scenario()) == {"id": "new"}
    assert posts == 2


def test_create_without_lookup_is_never_repeated_blindly(connect: Any) -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        posts += 1
        raise httpx.ReadTimeout("no answer")

    async def scenario() -> None:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            await connections.core.request(
                graph.route, "POST", "/groups", json={"displayName": "x"}
            )

    with pytest.raises(Transient):
        run(scenario())
    assert posts == 1


def test_create_refused_because_lost_attempt_made_it_returns_the_object(
    connect: Any, fake_time: Any
) -> None:
    posts = iter(
        [
            httpx.Response(504),  # lost: may have run
            graph_error(
                400,
                "Request_BadRequest",
                "Another object with the same value for property userPrincipalName already exists.",
            ),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return next(posts)
        # The lookup sees the user only after the replication budget of the first lookup.
        if sum(fake_time.sleeps) <= 60:
            return httpx.Response(200, json={"value": []})
        return httpx.Response(200, json={"value": [{"id": "u1"}]})

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).create_user(
                {"userPrincipalName": "n@contoso.com"}
            )

    assert run(scenario()) == {"id": "u1"}


def test_lookup_after_a_lost_create_waits_out_replication(connect: Any, fake_time: Any) -> None:
    posts = 0
    lookups = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts, lookups
        if request.method == "POST":
            posts += 1
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        lookups += 1
        visible = lookups >= 3  # missing from lists for a moment after creation
        return httpx.Response(200, json={"value": [{"id": "g1"}] if visible else []})

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).create_group(
                {"displayName": "Sales", "mailNickname": "sales"}
            )

    assert run(scenario()) == {"id": "g1"}
    assert (posts, lookups) == (1, 3)  # never sent again: no second group


def test_read_of_a_new_object_retries_404_during_replication(connect: Any, fake_time: Any) -> None:
    answers = iter(
        [graph_error(404, "Request_ResourceNotFound")] * 3 + [httpx.Response(200, json={"id": "g"})]
    )

    async def scenario() -> dict[str, Any]:
        async with connect(lambda request: next(answers)) as connections:
            return await connections.graph(TENANT).get_group("g", expect_new=True)

    assert run(scenario()) == {"id": "g"}
    assert len(fake_time.sleeps) == 3


def test_new_object_still_missing_after_the_budget_is_propagation_pending(
    connect: Any, fake_time: Any
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(404, "Request_ResourceNotFound")

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).get_group("g", expect_new=True)

    with pytest.raises(PropagationPending):
        run(scenario())
    assert 60.0 <= sum(fake_time.sleeps) < 120.0


def test_404_of_an_ordinary_read_is_not_found_at_once(connect: Any, fake_time: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(404, "Request_ResourceNotFound", "Resource 'x' does not exist")

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).get_user("x")

    with pytest.raises(NotFound) as raised:
        run(scenario())
    error = raised.value
    assert (error.service, error.tenant, error.status, error.code, error.request_id) == (
        "graph",
        TENANT,
        404,
        "Request_ResourceNotFound",
        "req-123",
    )
    assert fake_time.sleeps == []


def test_delete_lost_in_transit_then_404_counts_as_deleted(connect: Any) -> None:
    answers = iter([httpx.Response(503), graph_error(404, "Request_ResourceNotFound")])

    async def scenario() -> None:
        async with connect(lambda request: next(answers)) as connections:
            await connections.graph(TENANT).delete_user("u")

    run(scenario())


def test_errors_map_to_the_tree(connect: Any) -> None:
    answers = iter(
        [graph_error(403, "Authorization_RequestDenied"), graph_error(400, "Request_BadRequest")]
    )

    async def scenario() -> None:
        async with connect(lambda request: next(answers)) as connections:
            graph = connections.graph(TENANT)
            with pytest.raises(PermissionDenied):
                await graph.list_users()
            with pytest.raises(BadRequest):
                await graph.update_user("u", {"usageLocation": "XX"})

    run(scenario())


class _InFlight(httpx.AsyncBaseTransport):
    """Answers after ``turns`` turns of the loop, counting the requests in flight at once."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response], turns: int) -> None:
        self.answer = answer
        self.turns = turns
        self.in_flight = 0
        self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        for _ in range(self.turns):
            await asyncio.sleep(0)
        self.in_flight -= 1
        return self.answer(request)


def test_per_tenant_concurrency_is_bounded(connect: Any) -> None:
    slow = _InFlight(lambda request: httpx.Response(200, json={"id": "u"}), turns=2)

    async def scenario() -> None:
        async with Connections(
            make_settings(),
            transport=slow,
            tokens=FakeTokens(),  # type: ignore[arg-type]
            per_tenant_concurrency=2,
        ) as connections:
            graph = connections.graph(TENANT)
            await asyncio.gather(*(graph.get_user(str(n)) for n in range(10)))

    run(scenario())
    assert slow.peak == 2


def test_cipp_sees_at_most_64_requests_at_once_whatever_the_tenants(connect: Any) -> None:
    """CIPP is one function app serving every tenant: however many customer tenants a run
    works on at once, it never has more requests in flight than 16 tenants at 4 each could
    send before the default became 32 tenants (``SERVICE_IN_FLIGHT``). Graph has no such
    bound: its limits are per tenant."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host.startswith("graph"):
            return httpx.Response(200, json={"value": []})
        return httpx.Response(200, json=[])

    slow = _InFlight(answer, turns=3)
    customers = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(80)]

    async def scenario() -> list[int]:
        async with Connections(
            make_settings(),
            transport=slow,
            tokens=FakeTokens(),  # type: ignore[arg-type]
        ) as connections:
            cipp = connections.cipp()
            await asyncio.gather(*(cipp.list_mailboxes(tenant) for tenant in customers))
            cipp_peak, slow.peak = slow.peak, 0
            await asyncio.gather(*(connections.graph(tenant).list_groups() for tenant in customers))
            return [cipp_peak, slow.peak]

    assert run(scenario()) == [64, 80]


def test_bearer_token_is_sent_for_the_right_tenant_and_resource(connect: Any) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"value": []})

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).list_groups()
            await connections.exchange(TENANT).shared_mailboxes()

    run(scenario())
    assert seen == [
        f"Bearer eyJ-token-graph-{TENANT[:4]}",
        f"Bearer eyJ-token-exchange-{TENANT[:4]}",
    ]


def test_retry_body_is_the_same(connect: Any) -> None:
    bodies: list[Any] = []
    answers = iter([httpx.Response(500), httpx.Response(204)])

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(body(request))
        return next(answers)

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).update_user("u", {"displayName": "A"})

    run(scenario())
    assert bodies == [{"displayName": "A"}] * 2


def test_cookies_are_looked_for_only_in_answers_that_set_one(
    connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx wraps every answer for the standard library's cookie jar; the core's jar does it
    only for an answer with ``Set-Cookie``, which it keeps and sends back as before."""
    looked: list[str] = []
    wrap = httpx.Cookies._CookieCompatResponse.__init__

    def counted(self: Any, response: httpx.Response) -> None:
        looked.append(response.request.url.path)
        wrap(self, response)

    monkeypatch.setattr(httpx.Cookies._CookieCompatResponse, "__init__", counted)
    sent: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        if request.url.path.endswith("/organization"):
            organization = {"value": [{"id": "org"}]}
            return httpx.Response(200, json=organization, headers={"Set-Cookie": "slice=a"})
        return httpx.Response(200, json={"value": []})

    async def scenario() -> None:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            await graph.list_users()
            await graph.list_users()
            await graph.organization()
            await graph.list_users()

    run(scenario())
    assert looked == ["/v1.0/organization"]
    assert sent == [None, None, None, "slice=a"]

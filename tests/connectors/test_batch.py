"""Graph ``$batch`` and ``read_many``: chunks of 20, answers mapped by id whatever their
order, per-item 429 retried after the longest Retry-After, 424 dependents re-issued with
their dependency, transient items retried only when safe, and per-key errors that never turn
into empty results. Round trips are counted as the benchmark will read them."""

from __future__ import annotations

from typing import Any

import httpx

from controller.connectors import BatchRequest, GraphUrls, ServiceResponse
from controller.errors import PermissionDenied, ServiceError, Transient
from tests.connectors.conftest import GRAPH, TENANT, body, run


def reply(items: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(200, json={"responses": items})


def ok(item: dict[str, Any], payload: Any) -> dict[str, Any]:
    return {"id": item["id"], "status": 200, "headers": {}, "body": payload}


def test_45_requests_go_in_3_batches_and_map_back_by_id_in_any_order(connect: Any) -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/$batch"
        items = body(request)["requests"]
        sizes.append(len(items))
        # Answer in reverse order: Graph promises no order.
        return reply([ok(i, {"echo": i["url"]}) for i in reversed(items)])

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            requests = [BatchRequest(str(n), "GET", f"/users/{n}") for n in range(45)]
            answers = await connections.core.batch(graph.route, requests)
            usage = connections.accounting.tenant(TENANT, "graph")
            assert (usage.round_trips, usage.requests, usage.batch_items) == (3, 45, 45)
            return answers

    answers = run(scenario())
    assert sorted(sizes) == [5, 20, 20]
    for n in range(45):
        answer = answers[str(n)]
        assert isinstance(answer, ServiceResponse) and answer.body == {"echo": f"/users/{n}"}


def test_throttled_items_are_retried_after_the_longest_retry_after(
    connect: Any, fake_time: Any
) -> None:
    rounds: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        rounds.append([i["id"] for i in items])
        if len(rounds) == 1:
            return reply(
                [
                    ok(items[0], {"n": 0}),
                    {
                        "id": items[1]["id"],
                        "status": 429,
                        "headers": {"Retry-After": "3"},
                        "body": {},
                    },
                    {
                        "id": items[2]["id"],
                        "status": 429,
                        "headers": {"Retry-After": "9"},
                        "body": {},
                    },
                ]
            )
        return reply([ok(i, {"n": int(i["id"])}) for i in items])

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            requests = [BatchRequest(str(n), "GET", f"/users/{n}") for n in range(3)]
            answers = await connections.core.batch(graph.route, requests)
            usage = connections.accounting.tenant(TENANT, "graph")
            assert (usage.throttles, usage.retries, usage.round_trips) == (2, 2, 2)
            return answers

    answers = run(scenario())
    assert rounds == [["0", "1", "2"], ["1", "2"]]
    assert fake_time.sleeps == [9.0]
    assert [answers[k].body for k in "012"] == [{"n": 0}, {"n": 1}, {"n": 2}]  # type: ignore[union-attr]


def test_424_dependents_are_reissued_with_their_dependency(connect: Any) -> None:
    rounds: list[list[dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        rounds.append(items)
        if len(rounds) == 1:
            return reply(
                [
                    {"id": "a", "status": 429, "headers": {"Retry-After": "1"}, "body": {}},
                    {"id": "b", "status": 424, "headers": {}, "body": {}},
                    ok({"id": "c"}, {}),
                ]
            )
        return reply([{"id": i["id"], "status": 204, "headers": {}, "body": None} for i in items])

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            requests = [
                BatchRequest("a", "PATCH", "/users/a", body={"x": 1}),
                BatchRequest("b", "PATCH", "/users/b", body={"x": 2}, depends_on=("a",)),
                BatchRequest("c", "GET", "/users/c"),
            ]
            return await connections.core.batch(graph.route, requests)

    answers = run(scenario())
    second = {i["id"]: i for i in rounds[1]}
    assert set(second) == {"a", "b"}
    assert second["b"]["dependsOn"] == ["a"]
    assert "dependsOn" not in rounds[0][2]
    assert answers["a"].status == 204 and answers["b"].status == 204  # type: ignore[union-attr]


def test_dependency_that_succeeded_is_not_referenced_by_a_retried_dependent(connect: Any) -> None:
    rounds: list[list[dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        rounds.append(items)
        if len(rounds) == 1:
            return reply(
                [
                    {"id": "a", "status": 204, "headers": {}, "body": None},
                    {"id": "b", "status": 429, "headers": {"Retry-After": "1"}, "body": {}},
                ]
            )
        return reply([{"id": i["id"], "status": 204, "headers": {}, "body": None} for i in items])

    async def scenario() -> None:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            await connections.core.batch(
                graph.route,
                [
                    BatchRequest("a", "PATCH", "/users/a", body={}),
                    BatchRequest("b", "PATCH", "/users/b", body={}, depends_on=("a",)),
                ],
            )

    run(scenario())
    assert [i["id"] for i in rounds[1]] == ["b"]
    assert "dependsOn" not in rounds[1][0]


def test_transient_items_are_retried_only_when_safe(connect: Any) -> None:
    rounds: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        rounds.append([i["id"] for i in items])
        status = 503 if len(rounds) == 1 else 200
        return reply([{"id": i["id"], "status": status, "headers": {}, "body": {}} for i in items])

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            return await connections.core.batch(
                graph.route,
                [
                    BatchRequest("read", "GET", "/users/a"),
                    BatchRequest("create", "POST", "/users", body={}),
                ],
            )

    answers = run(scenario())
    assert rounds == [["read", "create"], ["read"]]
    assert answers["read"].status == 200 and answers["create"].status == 503  # type: ignore[union-attr]


def test_read_many_follows_pages_in_batches_and_keeps_errors_per_key(connect: Any) -> None:
    rounds: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        rounds.append([i["url"] for i in items])
        answers = []
        for item in items:
            url = item["url"]
            if url.startswith("/users?") and "skiptoken" not in url:
                payload = {
                    "value": [{"id": "u1"}],
                    "@odata.nextLink": f"{GRAPH}/users?$skiptoken=p2",
                }
                answers.append(ok(item, payload))
            elif "skiptoken=p2" in url:
                answers.append(ok(item, {"value": [{"id": "u2"}]}))
            elif url.startswith("/reports/"):
                answers.append(
                    {
                        "id": item["id"],
                        "status": 403,
                        "headers": {"request-id": "r-9"},
                        "body": {
                            "error": {
                                "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                                "message": "needs P1",
                            }
                        },
                    }
                )
            elif url.startswith("/organization"):
                answers.append(ok(item, {"value": [{"id": "org"}]}))
            else:
                answers.append(ok(item, {"id": "g1", "displayName": "Sales"}))
        return reply(answers)

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            found = await graph.read_many(
                {
                    "users": GraphUrls.users(),
                    "org": GraphUrls.organization(),
                    "mfa": GraphUrls.registration_details(),
                    "group": "/groups/g1",
                }
            )
            assert connections.accounting.tenant(TENANT, "graph").round_trips == 2
            return found

    found = run(scenario())
    assert found["users"] == [{"id": "u1"}, {"id": "u2"}]
    assert found["org"] == [{"id": "org"}]
    assert found["group"] == {"id": "g1", "displayName": "Sales"}
    mfa = found["mfa"]
    assert isinstance(mfa, PermissionDenied) and mfa.request_id == "r-9"
    from controller.connectors import is_licence_required

    assert is_licence_required(mfa)
    assert len(rounds) == 2 and rounds[1] == ["/users?$skiptoken=p2"]


def test_read_many_failed_page_is_an_error_not_a_partial_list(connect: Any) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        item = body(request)["requests"][0]
        if calls == 1:
            return reply(
                [
                    ok(
                        item,
                        {"value": [{"id": "u1"}], "@odata.nextLink": f"{GRAPH}/users?$skiptoken=2"},
                    )
                ]
            )
        return reply(
            [
                {
                    "id": item["id"],
                    "status": 500,
                    "headers": {},
                    "body": {"error": {"code": "generalException"}},
                }
            ]
        )

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).read_many({"users": GraphUrls.users()})

    found = run(scenario())
    assert isinstance(found["users"], Transient)


def test_read_many_a_sunk_envelope_fails_only_its_own_keys(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        if any(i["url"].startswith("/groups/bad") for i in items):
            return httpx.Response(
                403, json={"error": {"code": "Authorization_RequestDenied", "message": "no"}}
            )
        return reply([ok(i, {"id": i["url"]}) for i in items])

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            urls = {f"u{n}": f"/users/{n}" for n in range(20)}
            urls["bad"] = "/groups/bad"
            return await connections.graph(TENANT).read_many(urls)

    found = run(scenario())
    assert isinstance(found["bad"], ServiceError)
    assert found["u0"] == {"id": "/users/0"}


def test_a_500_user_50_group_tenant_is_read_in_3_graph_round_trips(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = body(request)["requests"]
        answers = []
        for item in items:
            if item["url"].startswith("/users?"):
                answers.append(ok(item, {"value": [{"id": f"u{n}"} for n in range(500)]}))
            else:
                answers.append(ok(item, {"value": [{"id": "u1"}, {"id": "u2"}]}))
        return reply(answers)

    async def scenario() -> tuple[dict[str, Any], int]:
        async with connect(handler) as connections:
            urls = {
                "users": GraphUrls.users(),
                "groups": GraphUrls.groups(),
                "skus": GraphUrls.subscribed_skus(),
            }
            urls.update({f"members:{n}": GraphUrls.group_members(f"g{n}") for n in range(50)})
            found = await connections.graph(TENANT).read_many(urls)
            return found, connections.accounting.tenant(TENANT, "graph").round_trips

    found, round_trips = run(scenario())
    assert len(found["users"]) == 500  # type: ignore[arg-type]
    assert round_trips == 3

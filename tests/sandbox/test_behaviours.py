"""Behaviours that break naive clients: $batch limits, dependsOn and 424, per-item 429,
throttling budgets on the virtual clock, fault rules (status and dropped connections),
and request accounting."""

from __future__ import annotations

import httpx
import pytest

from controller.sandbox import Sandbox
from tests.sandbox.conftest import CONTOSO, client


def _item(i: int, url: str = "/users?$top=1&$select=id", **extra: object) -> dict[str, object]:
    return {"id": str(i), "method": "GET", "url": url, **extra}


def test_batch_of_21_is_rejected_and_duplicate_ids_too(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        too_many = g.post("/v1.0/$batch", json={"requests": [_item(i) for i in range(21)]})
        assert too_many.status_code == 400
        assert "error" in too_many.json()
        dup = g.post("/v1.0/$batch", json={"requests": [_item(1), _item(1)]})
        assert dup.status_code == 400
        fine = g.post("/v1.0/$batch", json={"requests": [_item(i) for i in range(20)]})
        assert fine.status_code == 200
        assert sorted(int(r["id"]) for r in fine.json()["responses"]) == list(range(20))


def test_depends_on_a_failed_request_answers_424(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        answer = g.post(
            "/v1.0/$batch",
            json={
                "requests": [
                    _item(1, "/users/nobody@contoso.com"),
                    _item(2, "/users/alice@contoso.com", dependsOn=["1"]),
                    _item(3, "/users/bob@contoso.com"),
                    _item(4, "/users/eve@contoso.com", dependsOn=["3"]),
                ]
            },
        )
        by_id = {r["id"]: r for r in answer.json()["responses"]}
        assert by_id["1"]["status"] == 404
        assert by_id["2"]["status"] == 424
        assert by_id["3"]["status"] == 200 and by_id["4"]["status"] == 200
        assert by_id["3"]["body"]["userPrincipalName"] == "bob@contoso.com"


def test_per_item_429_with_retry_after_then_budget_refills(sb: Sandbox) -> None:
    sb.clock.freeze()
    sb.throttle.configure(CONTOSO, units=5, window_seconds=10)
    with client(sb, CONTOSO) as g:
        answer = g.post(
            "/v1.0/$batch",
            json={"requests": [_item(i, "/users/alice@contoso.com") for i in range(8)]},
        )
        assert answer.status_code == 200
        statuses = sorted(r["status"] for r in answer.json()["responses"])
        assert statuses.count(200) == 5 and statuses.count(429) == 3
        throttled = next(r for r in answer.json()["responses"] if r["status"] == 429)
        assert int(throttled["headers"]["Retry-After"]) >= 1
        assert throttled["body"]["error"]["code"] == "TooManyRequests"
        top = g.get("/v1.0/users/alice@contoso.com")
        assert top.status_code == 429 and int(top.headers["Retry-After"]) >= 1
        sb.clock.advance(10)
        again = g.get("/v1.0/users/alice@contoso.com")
        assert again.status_code == 200
        assert again.headers["x-ms-resource-unit"] == "1"


def test_throttling_can_be_disabled_at_run_time(sb: Sandbox) -> None:
    sb.clock.freeze()
    sb.throttle.configure(CONTOSO, units=1)
    sb.throttle.disable()
    with client(sb, CONTOSO) as g:
        assert all(g.get("/v1.0/users?$select=id").status_code == 200 for _ in range(3))


def test_fault_rules_answer_a_status_then_stop(sb: Sandbox) -> None:
    sb.faults.add(method="GET", path=r"/v1\.0/users", status=503, count=2)
    with client(sb, CONTOSO) as g:
        assert g.get("/v1.0/users").status_code == 503
        assert g.get("/v1.0/users").status_code == 503
        assert g.get("/v1.0/users").status_code == 200


def test_fault_rule_can_drop_the_connection_for_one_tenant(sb: Sandbox) -> None:
    sb.faults.add(path=r"/v1\.0/groups", drop=True, count=1, tenant=CONTOSO)
    with client(sb, CONTOSO) as g:
        with pytest.raises(httpx.TransportError):
            g.get("/v1.0/groups")
        assert g.get("/v1.0/groups").status_code == 200


def test_every_request_is_accounted_with_units_and_cpu(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        g.get("/v1.0/users")
        g.post("/v1.0/$batch", json={"requests": [_item(1), _item(2)]})
    graph = [r for r in sb.requests if r.service == "graph" and not r.in_batch]
    assert [(r.method, r.status, r.tenant_id) for r in graph] == [
        ("GET", 200, CONTOSO),
        ("POST", 200, CONTOSO),
    ]
    assert graph[0].resource_units == 2 and graph[1].batch_size == 2
    stats = sb.stats()
    assert stats["batchItems"] == 2 and stats["cpuSeconds"] > 0

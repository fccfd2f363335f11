"""Under injected throttling and faults every read and write either completes with the right
answer or fails with the right typed error; never a wrong result. Per-item 429 inside
``$batch``, tight per-tenant budgets, 503 then success, a dropped GET (retried), a dropped
POST create before and *after* the service ran it (exactly one object afterwards, checked in
the sandbox's world), replication delay after a create (``expect_new``), and Exchange's 403
while the Exchange Administrator role propagates. Waits run on the virtual clock."""

from __future__ import annotations

from typing import Any

import pytest

from controller.connectors import Connections, GraphUrls
from controller.errors import PermissionDenied, PropagationPending, Transient
from controller.models import DesiredState
from controller.sandbox import Sandbox
from tests.integration.connectors_support import (
    CONTOSO,
    TAILSPIN,
    group_by_nickname,
    run,
    user_by_upn,
)

READS = {
    "users": GraphUrls.users(),
    "groups": GraphUrls.groups(),
    "skus": GraphUrls.subscribed_skus(),
    "org": GraphUrls.organization(),
    "mfa": GraphUrls.registration_details(),
}


def _read(sandbox: Sandbox, state: DesiredState) -> tuple[dict[str, Any], Any]:
    async def body(c: Connections) -> tuple[dict[str, Any], Any]:
        return await c.graph(CONTOSO).read_many(READS), c.accounting.tenant(CONTOSO, "graph")

    return run(sandbox, state, body)


def _ids(answer: Any) -> list[str]:
    assert isinstance(answer, list), answer
    return sorted(str(item.get("id") or item.get("skuId")) for item in answer)


def test_per_item_429_in_a_batch_is_retried_after_retry_after(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    calm, _ = _read(sandbox, demo_state)
    sandbox.faults.add("GET", r"^/v1\.0/users\?", status=429, count=2, retry_after=7)
    sandbox.faults.add("GET", r"^/v1\.0/subscribedSkus", status=503, count=1)
    started = sandbox.clock.now()
    throttled, usage = _read(sandbox, demo_state)
    for key in READS:
        assert _ids(throttled[key]) == _ids(calm[key]), key
    assert usage.throttles == 2 and usage.retries >= 2
    assert sandbox.clock.now() - started >= 14  # two rounds, each after the item's Retry-After
    items = [r for r in sandbox.requests if r.in_batch and r.fault]
    assert len(items) == 3


def test_a_tight_tenant_budget_only_costs_round_trips(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    calm, _ = _read(sandbox, demo_state)
    sandbox.throttle.configure(CONTOSO, units=3, window_seconds=10)
    throttled, usage = _read(sandbox, demo_state)
    assert usage.throttles > 0
    for key in READS:
        assert _ids(throttled[key]) == _ids(calm[key]), key


def test_throttled_writes_complete_once(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sales = group_by_nickname(sandbox, CONTOSO, "sales")
    bob = user_by_upn(sandbox, CONTOSO, "bob@contoso.com")
    dave = user_by_upn(sandbox, CONTOSO, "dave@contoso.com")
    sandbox.faults.add("POST", r"/members/\$ref", status=429, count=2, retry_after=2)
    sandbox.faults.add("PATCH", r"/users/", status=503, count=1)

    async def body(c: Connections) -> None:
        graph = c.graph(CONTOSO)
        await graph.add_member(sales.id, bob.id)
        await graph.update_user(dave.id, {"department": "Logistics"})

    run(sandbox, demo_state, body)
    assert sales.members.count(bob.id) == 1
    assert dave.department == "Logistics"


def test_503_then_success(sandbox: Sandbox, demo_state: DesiredState) -> None:
    alice = user_by_upn(sandbox, CONTOSO, "alice@contoso.com")
    sandbox.faults.add("GET", rf"/users/{alice.id}", status=503, count=2)

    async def body(c: Connections) -> dict[str, Any]:
        return await c.graph(CONTOSO).get_user(alice.id)

    assert run(sandbox, demo_state, body)["userPrincipalName"] == "alice@contoso.com"
    tries = [r for r in sandbox.requests if r.path.startswith(f"/v1.0/users/{alice.id}")]
    assert [r.status for r in tries] == [503, 503, 200]


def test_503_that_never_ends_is_transient_not_empty(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    sandbox.faults.add("GET", r"/v1\.0/users", status=503, count=None, tenant=CONTOSO)

    async def body(c: Connections) -> Any:
        return await c.graph(CONTOSO).list_users()

    with pytest.raises(Transient) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.status == 503 and caught.value.tenant == CONTOSO


def test_dropped_get_is_retried(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sandbox.faults.add("GET", r"/v1\.0/organization", drop=True, count=1)

    async def body(c: Connections) -> dict[str, Any]:
        return await c.graph(CONTOSO).organization()

    assert run(sandbox, demo_state, body)["id"] == CONTOSO
    tries = [r for r in sandbox.requests if r.path.startswith("/v1.0/organization")]
    assert [r.status for r in tries] == [0, 200]


NEW_GROUP = {
    "displayName": "Night Shift",
    "mailNickname": "nightshift",
    "mailEnabled": False,
    "securityEnabled": True,
    "groupTypes": [],
}


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_dropped_create_leaves_exactly_one_group(
    sandbox: Sandbox, demo_state: DesiredState, lost: str
) -> None:
    """``request``: the connection broke before the service ran the create (it is sent
    again); ``answer``: the service made the group and the answer was lost (it is found by
    reading, through the replication delay, never sent again). mailNickname is not unique
    for security groups, so a blind repeat would make a second group."""
    sandbox.faults.add("POST", r"^/v1\.0/groups$", drop=True, count=1, after=lost == "answer")

    async def body(c: Connections) -> dict[str, Any]:
        return await c.graph(CONTOSO).create_group(NEW_GROUP)

    made = run(sandbox, demo_state, body)
    groups = [
        g for g in sandbox.world.tenants[CONTOSO].groups.values() if g.mail_nickname == "nightshift"
    ]
    assert [g.id for g in groups] == [made["id"]]
    posts = [r for r in sandbox.requests if r.method == "POST" and r.path == "/v1.0/groups"]
    assert len(posts) == (2 if lost == "request" else 1)


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_dropped_create_leaves_exactly_one_user(
    sandbox: Sandbox, demo_state: DesiredState, lost: str
) -> None:
    sandbox.faults.add("POST", r"^/v1\.0/users$", drop=True, count=1, after=lost == "answer")

    async def body(c: Connections) -> dict[str, Any]:
        return await c.graph(CONTOSO).create_user(
            {
                "accountEnabled": True,
                "displayName": "Carol White",
                "mailNickname": "carol",
                "userPrincipalName": "carol@contoso.com",
                "passwordProfile": {"password": "Initial-Passw0rd!"},
            }
        )

    made = run(sandbox, demo_state, body)
    carols = [
        u
        for u in sandbox.world.tenants[CONTOSO].users.values()
        if u.user_principal_name == "carol@contoso.com"
    ]
    assert [u.id for u in carols] == [made["id"]]


def test_dropped_member_add_after_it_ran_is_success_not_conflict(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    sales = group_by_nickname(sandbox, CONTOSO, "sales")
    bob = user_by_upn(sandbox, CONTOSO, "bob@contoso.com")
    sandbox.faults.add("POST", r"/members/\$ref", drop=True, count=1, after=True)

    async def body(c: Connections) -> None:
        await c.graph(CONTOSO).add_member(sales.id, bob.id)

    run(sandbox, demo_state, body)
    assert sales.members.count(bob.id) == 1


def test_dropped_delete_that_ran_is_done(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sales = group_by_nickname(sandbox, CONTOSO, "sales")
    alice = user_by_upn(sandbox, CONTOSO, "alice@contoso.com")
    sandbox.faults.add("DELETE", r"/members/.*/\$ref", drop=True, count=1, after=True)

    async def body(c: Connections) -> None:
        await c.graph(CONTOSO).remove_member(sales.id, alice.id)

    run(sandbox, demo_state, body)
    assert alice.id not in sales.members and alice.deleted_at is None


def test_replication_delay_after_create(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sandbox.replication_delay = 20

    async def body(c: Connections) -> tuple[float, dict[str, Any]]:
        graph = c.graph(CONTOSO)
        made = await graph.create_group(NEW_GROUP)
        created_at = sandbox.clock.now()
        with pytest.raises(Exception) as plain:
            await graph.get_group(made["id"])  # without expect_new: a 404 is a 404
        assert type(plain.value).__name__ == "NotFound"
        fetched = await graph.get_group(made["id"], expect_new=True)
        return sandbox.clock.now() - created_at, fetched

    waited, fetched = run(sandbox, demo_state, body)
    assert fetched["mailNickname"] == "nightshift"
    assert waited >= 20


def test_replication_longer_than_the_budget_is_propagation_pending(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    sandbox.replication_delay = 600

    async def body(c: Connections) -> None:
        graph = c.graph(CONTOSO)
        made = await graph.create_group(NEW_GROUP)
        await graph.get_group(made["id"], expect_new=True)

    with pytest.raises(PropagationPending) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.status == 404


def test_exchange_403_while_the_role_propagates(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def body(c: Connections) -> list[dict[str, Any]]:
        return await c.exchange(TAILSPIN).shared_mailboxes()

    with pytest.raises(PermissionDenied) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.status == 403 and caught.value.code == "UnauthorizedAccessException"

    sandbox.clock.advance(sandbox.exchange_role_propagation + 1)
    rows = run(sandbox, demo_state, body)
    assert [r["PrimarySmtpAddress"] for r in rows] == ["orders@tailspintoys.com"]


def test_dropped_restore_that_ran_is_found_by_reading(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    dave = user_by_upn(sandbox, CONTOSO, "dave@contoso.com")
    dave.deleted_at = sandbox.clock.now()
    sandbox.faults.add("POST", r"/restore$", drop=True, count=1, after=True)

    async def body(c: Connections) -> dict[str, Any]:
        return await c.graph(CONTOSO).restore_deleted(dave.id)

    assert run(sandbox, demo_state, body)["id"] == dave.id  # via GET /directoryObjects/{id}
    assert dave.deleted_at is None
    posts = [r for r in sandbox.requests if r.path.endswith("/restore")]
    assert len(posts) == 1

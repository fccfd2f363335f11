"""Every :class:`ExchangeClient` helper against the sandbox's ``InvokeCommand``: shared
mailboxes and distribution groups (list, create), members (list, add, already-a-member as
Conflict, remove, not-a-member as NotFound), FullAccess, SendAs and SendOnBehalf (add and
remove, the GenericHashTable leaving other delegates alone), and paging by re-POSTing to
``@odata.nextLink``. Changes are checked in the sandbox's world."""

from __future__ import annotations

from typing import Any

import pytest

from controller.connectors import Connections
from controller.errors import Conflict, NotFound
from controller.models import DesiredState
from controller.sandbox import Sandbox
from tests.integration.connectors_support import CONTOSO, FABRIKAM, run, user_by_upn


def _dg(sandbox: Sandbox, tenant: str, address: str) -> Any:
    return next(
        g
        for g in sandbox.world.tenants[tenant].groups.values()
        if (g.mail or "").lower() == address and g.deleted_at is None
    )


def test_shared_mailboxes_list_and_create(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def body(c: Connections) -> tuple[list[dict[str, Any]], dict[str, Any], list[Any]]:
        exchange = c.exchange(CONTOSO)
        before = await exchange.shared_mailboxes()
        made = await exchange.create_shared_mailbox(
            "Billing", "billing@contoso.com", display_name="Billing Team"
        )
        return before, made, await exchange.shared_mailboxes()

    before, made, after = run(sandbox, demo_state, body)
    assert [m["PrimarySmtpAddress"] for m in before] == ["support@contoso.com"]
    assert made["PrimarySmtpAddress"] == "billing@contoso.com"
    assert sorted(m["PrimarySmtpAddress"] for m in after) == [
        "billing@contoso.com",
        "support@contoso.com",
    ]
    billing = user_by_upn(sandbox, CONTOSO, "billing@contoso.com")
    assert (billing.recipient_type, billing.display_name) == ("SharedMailbox", "Billing Team")


def test_creating_a_taken_address_is_conflict(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def body(c: Connections) -> None:
        await c.exchange(CONTOSO).create_shared_mailbox("Support 2", "support@contoso.com")

    with pytest.raises(Conflict) as caught:
        run(sandbox, demo_state, body)
    assert caught.value.service == "exchange" and caught.value.code
    assert "already being used" in caught.value.message


def test_distribution_groups_and_members(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def body(c: Connections) -> dict[str, Any]:
        exchange = c.exchange(CONTOSO)
        made = await exchange.create_distribution_group(
            "Managers", "managers@contoso.com", members=["alice@contoso.com"]
        )
        await exchange.add_distribution_group_member("managers@contoso.com", "dave@contoso.com")
        await exchange.remove_distribution_group_member("allstaff@contoso.com", "bob@contoso.com")
        return {
            "made": made,
            "list": await exchange.distribution_groups(),
            "managers": await exchange.distribution_group_members("managers@contoso.com"),
            "allstaff": await exchange.distribution_group_members("allstaff@contoso.com"),
        }

    got = run(sandbox, demo_state, body)
    assert got["made"]["PrimarySmtpAddress"] == "managers@contoso.com"
    assert {g["PrimarySmtpAddress"] for g in got["list"]} == {
        "allstaff@contoso.com",
        "managers@contoso.com",
    }
    assert sorted(m["PrimarySmtpAddress"] for m in got["managers"]) == [
        "alice@contoso.com",
        "dave@contoso.com",
    ]
    assert sorted(m["PrimarySmtpAddress"] for m in got["allstaff"]) == [
        "alice@contoso.com",
        "eve@contoso.com",
    ]
    managers = _dg(sandbox, CONTOSO, "managers@contoso.com")
    dave = user_by_upn(sandbox, CONTOSO, "dave@contoso.com")
    assert dave.id in managers.members


def test_member_already_there_is_conflict_and_absent_is_not_found(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def add(c: Connections) -> None:
        await c.exchange(CONTOSO).add_distribution_group_member(
            "allstaff@contoso.com", "alice@contoso.com"
        )

    with pytest.raises(Conflict):
        run(sandbox, demo_state, add)

    async def remove(c: Connections) -> None:
        await c.exchange(CONTOSO).remove_distribution_group_member(
            "allstaff@contoso.com", "dave@contoso.com"
        )

    with pytest.raises(NotFound) as caught:
        run(sandbox, demo_state, remove)
    assert caught.value.code == "MemberNotFoundException"


def test_full_access_and_send_as(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def body(c: Connections) -> dict[str, Any]:
        exchange = c.exchange(CONTOSO)
        await exchange.add_full_access("support@contoso.com", "alice@contoso.com")
        await exchange.remove_full_access("support@contoso.com", "bob@contoso.com")
        full = await exchange.mailbox_permissions("support@contoso.com")
        await exchange.add_send_as("support@contoso.com", "dave@contoso.com")
        send_as = await exchange.recipient_permissions("support@contoso.com")
        await exchange.remove_send_as("support@contoso.com", "dave@contoso.com")
        return {
            "full": full,
            "send_as": send_as,
            "send_as_after": await exchange.recipient_permissions("support@contoso.com"),
        }

    got = run(sandbox, demo_state, body)

    def holders(rows: list[dict[str, Any]], key: str) -> set[str]:
        return {r[key] for r in rows} - {"NT AUTHORITY\\SELF"}

    assert holders(got["full"], "User") == {"eve@contoso.com", "alice@contoso.com"}
    assert holders(got["send_as"], "Trustee") == {"dave@contoso.com"}
    assert holders(got["send_as_after"], "Trustee") == set()
    support = user_by_upn(sandbox, CONTOSO, "support@contoso.com")
    alice = user_by_upn(sandbox, CONTOSO, "alice@contoso.com")
    eve = user_by_upn(sandbox, CONTOSO, "eve@contoso.com")
    assert sorted(support.full_access) == sorted([eve.id, alice.id])
    assert support.send_as == []


def test_send_on_behalf_adds_and_removes_without_replacing(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    accounts = user_by_upn(sandbox, FABRIKAM, "accounts@fabrikam.com")
    frank = user_by_upn(sandbox, FABRIKAM, "frank@fabrikam.com")
    grace = user_by_upn(sandbox, FABRIKAM, "grace@fabrikam.com")
    sandbox.world.tenants[FABRIKAM].role_assignments.append(
        _exchange_role(sandbox, FABRIKAM)
    )  # fabrikam is CIPP-only in the demo: give the app its role for this test

    async def add(c: Connections) -> None:
        await c.exchange(FABRIKAM).set_send_on_behalf("accounts@fabrikam.com", add=[grace.id])

    run(sandbox, demo_state, add)
    assert accounts.send_on_behalf == [frank.id, grace.id]  # frank is still there

    async def remove(c: Connections) -> list[dict[str, Any]]:
        exchange = c.exchange(FABRIKAM)
        await exchange.set_send_on_behalf("accounts@fabrikam.com", remove=["frank@fabrikam.com"])
        return await exchange.shared_mailboxes()

    rows = run(sandbox, demo_state, remove)
    assert accounts.send_on_behalf == [grace.id]
    assert rows[0]["GrantSendOnBehalfTo"] == [grace.id]  # by recipient id, not by address


def test_paging_re_posts_to_the_next_link(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def body(c: Connections) -> list[dict[str, Any]]:
        exchange = c.exchange(CONTOSO)
        exchange._headers["Prefer"] = "odata.maxpagesize=1"  # three members, three pages
        return await exchange.distribution_group_members("allstaff@contoso.com")

    members = run(sandbox, demo_state, body)
    assert sorted(m["PrimarySmtpAddress"] for m in members) == [
        "alice@contoso.com",
        "bob@contoso.com",
        "eve@contoso.com",
    ]
    posts = [r for r in sandbox.requests if r.service == "exchange"]
    assert [r.method for r in posts] == ["POST"] * 3
    assert sum("$skiptoken" in r.path for r in posts) == 2


def _exchange_role(sandbox: Sandbox, tenant_id: str) -> Any:
    from controller.connectors import EXCHANGE_ADMINISTRATOR
    from controller.sandbox._world import RoleAssignment
    from tests.integration.connectors_support import APP

    tenant = sandbox.world.tenants[tenant_id]
    return RoleAssignment(
        id="exchange-role-for-test",
        role_definition_id=EXCHANGE_ADMINISTRATOR,
        principal_id=tenant.sp_by_app_id(APP).id,
        created_at=sandbox.clock.now() - 86400,
    )

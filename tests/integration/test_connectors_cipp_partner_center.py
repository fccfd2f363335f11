"""Every :class:`CippClient` endpoint and the :class:`PartnerCenterClient` against the sandbox.

CIPP reads answer what the world holds; every CIPP write is confirmed by reading it back
(and the world agrees); an always-200 answer that failed (EditGroup with a member that does
not exist, ExecEditMailboxPermissions with an unknown holder) is a typed ServiceFault
carrying CIPP's own text; a tenant CIPP does not list is PermissionDenied (its access check),
one it lists but cannot reach a ServiceFault (the endpoint's failure). Partner Center
lists customers."""

from __future__ import annotations

from typing import Any

import pytest

from controller.connectors import Connections
from controller.errors import PermissionDenied, ServiceFault
from controller.models import DesiredState
from controller.sandbox import Sandbox
from tests.integration.connectors_support import (
    APP,
    CONTOSO,
    FABRIKAM,
    TAILSPIN,
    WOODGROVE,
    group_by_nickname,
    run,
    user_by_upn,
)


def test_reads(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sales = group_by_nickname(sandbox, CONTOSO, "sales")
    alice = user_by_upn(sandbox, CONTOSO, "alice@contoso.com")

    async def body(c: Connections) -> dict[str, Any]:
        cipp = c.cipp()
        return {
            "me": await cipp.me(),
            "tenants": await cipp.list_tenants(),
            "access": await cipp.access_checks(),
            "users": await cipp.list_users(CONTOSO),
            "alice": await cipp.get_user(CONTOSO, alice.id),
            "nobody": await cipp.get_user(CONTOSO, "nobody@contoso.com"),
            "groups": await cipp.list_groups(CONTOSO),
            "members": await cipp.group_members(CONTOSO, sales.id),
            "mailboxes": await cipp.list_mailboxes(FABRIKAM),
            "permissions": await cipp.mailbox_permissions(FABRIKAM, "accounts@fabrikam.com"),
        }

    got = run(sandbox, demo_state, body)
    assert "admin" in got["me"]["clientPrincipal"]["userRoles"]
    managed = {t.tenant_id for t in sandbox.world.tenants.values() if t.cipp_manages}
    # CIPP lists tailspin too, but its access check cannot reach Graph there.
    assert {t["customerId"] for t in got["tenants"]} == managed | {TAILSPIN}
    assert CONTOSO in managed and TAILSPIN not in managed
    reaches = {r["TenantId"]: r["GraphStatus"] for r in got["access"]}
    assert reaches == {**dict.fromkeys(managed, True), TAILSPIN: False}
    assert "alice@contoso.com" in {u["userPrincipalName"] for u in got["users"]}
    assert got["alice"]["userPrincipalName"] == "alice@contoso.com"
    assert got["nobody"] is None
    types = {g["mailNickname"]: g["calculatedGroupType"] for g in got["groups"]}
    assert types["sales"] == "generic" and types["phoenix"] == "m365"
    assert types["allstaff"] == "distributionList"
    assert sorted(m["userPrincipalName"] for m in got["members"]) == [
        "alice@contoso.com",
        "eve@contoso.com",
    ]
    assert [m["primarySmtpAddress"] for m in got["mailboxes"]] == ["accounts@fabrikam.com"]
    # As CIPP passes them through: SELF rows, rights joined or listed, and the SendOnBehalf
    # delegate by recipient id (GrantSendOnBehalfTo), not by UPN.
    frank = user_by_upn(sandbox, FABRIKAM, "frank@fabrikam.com")
    assert sorted((p["User"], str(p["Permissions"])) for p in got["permissions"]) == sorted(
        [
            ("NT AUTHORITY\\SELF", "FullAccess, ReadPermission"),
            ("NT AUTHORITY\\SELF", "['SendAs']"),
            ("erin@fabrikam.com", "FullAccess"),
            ("erin@fabrikam.com", "['SendAs']"),
            (frank.id, "SendOnBehalf"),
        ]
    )


def test_a_tenant_cipp_does_not_manage_is_permission_denied(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def read(c: Connections) -> None:
        await c.cipp().list_users(WOODGROVE)

    with pytest.raises(PermissionDenied) as caught:
        run(sandbox, demo_state, read)
    assert caught.value.status == 403 and caught.value.service == "cipp"
    assert caught.value.tenant == WOODGROVE

    async def write(c: Connections) -> None:
        await c.cipp().add_shared_mailbox(WOODGROVE, "Returns", "returns", "woodgrovebank.com")

    with pytest.raises(PermissionDenied):
        run(sandbox, demo_state, write)
    assert user_by_upn(sandbox, WOODGROVE, "returns@woodgrovebank.com") is None

    # Tailspin is in CIPP's list, so allowed; CIPP cannot reach it, so the endpoint fails.
    async def lost(c: Connections) -> None:
        await c.cipp().list_users(TAILSPIN)

    with pytest.raises(ServiceFault) as failed:
        run(sandbox, demo_state, lost)
    assert "AADSTS7000229" in failed.value.message


def test_add_distribution_group_is_confirmed_by_reading_it_back(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def body(c: Connections) -> Any:
        return await c.cipp().add_distribution_group(
            CONTOSO, "Field Team", "field", "contoso.com", members=["alice@contoso.com"]
        )

    results = run(sandbox, demo_state, body)
    assert [r.outcome for r in results] == ["success"]
    field = next(
        g for g in sandbox.world.tenants[CONTOSO].groups.values() if g.mail == "field@contoso.com"
    )
    assert field.kind == "distribution"
    assert field.members == [user_by_upn(sandbox, CONTOSO, "alice@contoso.com").id]


def test_edit_group_adds_and_removes_confirmed(sandbox: Sandbox, demo_state: DesiredState) -> None:
    sales = group_by_nickname(sandbox, CONTOSO, "sales")
    bob = user_by_upn(sandbox, CONTOSO, "bob@contoso.com")
    eve = user_by_upn(sandbox, CONTOSO, "eve@contoso.com")

    async def body(c: Connections) -> Any:
        return await c.cipp().edit_group(
            CONTOSO,
            sales.id,
            add={bob.id: "bob@contoso.com"},
            remove={eve.id: "eve@contoso.com"},
        )

    results = run(sandbox, demo_state, body)
    assert [r.outcome for r in results] == ["success", "success"]
    assert bob.id in sales.members and eve.id not in sales.members


def test_edit_group_with_a_bad_member_is_a_typed_failure(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    sales = group_by_nickname(sandbox, CONTOSO, "sales")
    ghost = "00000000-0000-4000-8000-00000000dead"
    before = list(sales.members)

    async def body(c: Connections) -> Any:
        return await c.cipp().edit_group(CONTOSO, sales.id, add={ghost: "ghost@contoso.com"})

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, body)
    # CIPP answered 200; its own "Error - " text is the code, and the read-back agreed.
    assert caught.value.status == 200
    assert caught.value.code and caught.value.code.startswith("Error - Resource")
    assert "+ghost@contoso.com" in caught.value.message
    assert sales.members == before


def test_add_shared_mailbox_and_edit_every_permission(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def body(c: Connections) -> tuple[Any, Any]:
        cipp = c.cipp()
        made = await cipp.add_shared_mailbox(CONTOSO, "Returns", "returns", "contoso.com")
        edited = await cipp.edit_mailbox_permissions(
            CONTOSO,
            "support@contoso.com",
            add_full_access=["alice@contoso.com"],
            remove_full_access=["bob@contoso.com"],
            add_send_as=["dave@contoso.com"],
            add_send_on_behalf=["eve@contoso.com"],
        )
        return made, edited

    made, edited = run(sandbox, demo_state, body)
    assert [r.outcome for r in made] == ["success", "success"]  # created; sign-in blocked
    assert user_by_upn(sandbox, CONTOSO, "returns@contoso.com").recipient_type == "SharedMailbox"
    assert [r.outcome for r in edited] == ["success"] * 4
    support = user_by_upn(sandbox, CONTOSO, "support@contoso.com")

    def upn(oid: str) -> str:
        return str(sandbox.world.tenants[CONTOSO].users[oid].user_principal_name)

    assert sorted(map(upn, support.full_access)) == ["alice@contoso.com", "eve@contoso.com"]
    assert [upn(i) for i in support.send_as] == ["dave@contoso.com"]
    assert [upn(i) for i in support.send_on_behalf] == ["eve@contoso.com"]

    async def remove(c: Connections) -> Any:
        return await c.cipp().edit_mailbox_permissions(
            CONTOSO,
            "support@contoso.com",
            remove_send_as=["dave@contoso.com"],
            remove_send_on_behalf=["eve@contoso.com"],
        )

    run(sandbox, demo_state, remove)
    assert support.send_as == [] and support.send_on_behalf == []


def test_edit_mailbox_permissions_for_an_unknown_holder_is_a_typed_failure(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    async def body(c: Connections) -> Any:
        return await c.cipp().edit_mailbox_permissions(
            CONTOSO, "support@contoso.com", add_full_access=["nobody@contoso.com"]
        )

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, body)
    assert (caught.value.code or "").startswith("Could not add nobody@contoso.com")


def test_sign_in_and_password_reset(sandbox: Sandbox, demo_state: DesiredState) -> None:
    dave = user_by_upn(sandbox, CONTOSO, "dave@contoso.com")

    async def body(c: Connections) -> Any:
        cipp = c.cipp()
        await cipp.set_sign_in(CONTOSO, dave.id, enabled=False)
        assert dave.account_enabled is False
        await cipp.set_sign_in(CONTOSO, dave.id, enabled=True)
        return await cipp.reset_password(CONTOSO, dave.id)

    reset = run(sandbox, demo_state, body)
    assert dave.account_enabled is True and dave.force_change_password
    assert reset.password and len(reset.password) >= 12
    assert all(reset.password not in r.text for r in reset.results)  # masked in the results

    admin = user_by_upn(sandbox, CONTOSO, "admin@contoso.onmicrosoft.com")

    async def admin_reset(c: Connections) -> Any:
        return await c.cipp().reset_password(CONTOSO, admin.id)

    with pytest.raises(ServiceFault) as caught:
        run(sandbox, demo_state, admin_reset)
    assert "Insufficient privileges" in caught.value.message


def test_multi_tenant_app_consent_is_queued_then_effective(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    from controller.sandbox._world import World

    litware = next(t for t in sandbox.world.tenants.values() if t.name == "litware")
    assert litware.sp_by_app_id(APP) is None

    async def body(c: Connections) -> Any:
        return await c.cipp().add_multi_tenant_app(APP, [(litware.tenant_id, "Litware")])

    results = run(sandbox, demo_state, body)
    assert [r.outcome for r in results] == ["success"]
    assert results[0].text == f"Deploying {APP} to Litware, see the logbook for details"
    sandbox.clock.advance(sandbox.cipp_consent_delay + 1)

    async def check(c: Connections) -> Any:
        return await c.graph(litware.tenant_id).service_principal(APP)

    assert run(sandbox, demo_state, check) is not None
    assert isinstance(sandbox.world, World)


def test_partner_center_customers(sandbox: Sandbox, demo_state: DesiredState) -> None:
    async def customers(c: Connections) -> list[dict[str, Any]]:
        return await c.partner_center().customers()

    rows = run(sandbox, demo_state, customers)
    ids = {r["companyProfile"]["tenantId"] if "companyProfile" in r else r["id"] for r in rows}
    assert CONTOSO in ids and len(rows) == len(sandbox.world.tenants)

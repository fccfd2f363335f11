"""The sandbox's Graph, held to Graph's documented behaviour where the product and the sandbox
used to agree with each other but not with Microsoft (issue 12, "A real client against the
sandbox", and the review that followed). Each test names the doc it holds the sandbox to; each
fails against the old sandbox."""

from __future__ import annotations

import uuid
from typing import Any

from controller.sandbox import Sandbox
from controller.sandbox._world import grant_app_roles
from tests.fidelity.conftest import CONTOSO
from tests.sandbox.conftest import client

GUID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def _item(i: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": i, "method": "GET", "url": url, **extra}


def test_deleted_items_by_short_and_full_cast_and_by_id_and_restore(sb: Sandbox) -> None:
    # api-reference/v1.0/api/directory-deleteditems-{list,get,restore}.md
    with client(sb, CONTOSO) as g:
        bob = g.get("/v1.0/users/bob@contoso.com?$select=id").json()["id"]
        assert g.delete(f"/v1.0/users/{bob}").status_code == 204
        for cast in ("graph.user", "microsoft.graph.user"):
            listed = g.get(f"/v1.0/directory/deletedItems/{cast}")
            assert listed.status_code == 200, cast
            assert [u["id"] for u in listed.json()["value"]] == [bob]
        one = g.get(f"/v1.0/directory/deletedItems/{bob}")
        assert one.status_code == 200
        assert one.json()["@odata.type"] == "#microsoft.graph.user"
        restored = g.post(f"/v1.0/directory/deletedItems/{bob}/restore")
        assert restored.status_code == 200
        body = restored.json()
        assert body["@odata.type"] == "#microsoft.graph.user"
        assert body["@odata.context"].endswith("$metadata#directoryObjects/$entity")
        assert g.get(f"/v1.0/directory/deletedItems/{bob}").status_code == 404


def test_deleted_microsoft_365_groups_but_not_security_groups(sb: Sandbox) -> None:
    # "This is not applicable to security groups, which are deleted permanently."
    groups = {g.mail_nickname: g.id for g in sb.world.tenants[CONTOSO].groups.values()}
    with client(sb, CONTOSO) as g:
        assert g.delete(f"/v1.0/groups/{groups['phoenix']}").status_code == 204
        assert g.delete(f"/v1.0/groups/{groups['sales']}").status_code == 204
        for cast in ("graph.group", "microsoft.graph.group"):
            listed = g.get(f"/v1.0/directory/deletedItems/{cast}").json()["value"]
            assert [x["id"] for x in listed] == [groups["phoenix"]], cast
        assert g.post(f"/v1.0/directory/deletedItems/{groups['sales']}/restore").status_code == 404


def test_select_of_a_property_the_type_lacks_is_a_400(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        unknown = g.get("/v1.0/users?$select=id,notAProperty")
        assert unknown.status_code == 400
        assert "notAProperty" in unknown.json()["error"]["message"]
        # A property the type has but the object does not set is null, not an error.
        known = g.get("/v1.0/users/bob@contoso.com?$select=id,employeeId").json()
        assert known["employeeId"] is None
        assert g.get("/v1.0/subscribedSkus?$select=skuId,bogus").status_code == 400


def test_subscribed_skus_permissions_and_no_filter(sb: Sandbox) -> None:
    # api-reference/v1.0/api/subscribedsku-list.md: $select only, "It does not support $filter"
    with client(sb, CONTOSO) as g:
        assert g.get("/v1.0/subscribedSkus?$filter=skuPartNumber eq 'SPE_E3'").status_code == 400
        skus = g.get("/v1.0/subscribedSkus").json()["value"]
    assert all(s["servicePlans"] and s["subscriptionIds"] for s in skus)
    # User.Read.All does not read subscriptions (the old sandbox let it).
    tenant = sb.world.tenants[CONTOSO]
    sp = tenant.sp_by_app_id(sb.world.partner.app.client_id)
    assert sp is not None
    tenant.app_role_assignments = [
        a for a in tenant.app_role_assignments if a.principal_id != sp.id
    ]
    grant_app_roles(tenant, sp, ["User.Read.All"], 0)
    with client(sb, CONTOSO) as g:
        assert g.get("/v1.0/users?$select=id").status_code == 200
        assert g.get("/v1.0/subscribedSkus").status_code == 403


def test_organization_and_service_principals_carry_what_graph_always_returns(
    sb: Sandbox,
) -> None:
    with client(sb, CONTOSO) as g:
        org = g.get("/v1.0/organization").json()["value"][0]
        sp = g.get(
            f"/v1.0/servicePrincipals?$filter=appId eq '{sb.world.partner.app.client_id}'"
        ).json()["value"][0]
    assert (
        org["createdDateTime"] and "businessPhones" in org and "technicalNotificationMails" in org
    )
    assert sp["servicePrincipalNames"] == [sb.world.partner.app.client_id]
    assert "signInAudience" in sp and "createdDateTime" not in sp  # not a v1.0 property


def test_open_extensions_two_per_app_two_kilobytes_and_patch_replaces(sb: Sandbox) -> None:
    # concepts/extensibility-open-users.md
    ext = "/v1.0/users/alice@contoso.com/extensions"

    def body(name: str, **data: Any) -> dict[str, Any]:
        return {"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": name, **data}

    with client(sb, CONTOSO) as g:
        assert g.post(ext, json=body("com.a", x=1, y=2)).status_code == 201
        assert g.post(ext, json=body("com.b")).status_code == 201
        third = g.post(ext, json=body("com.c"))
        assert third.status_code == 400
        assert "2" in third.json()["error"]["message"]
        big = g.patch(f"{ext}/com.a", json={"blob": "x" * 2100})
        assert big.status_code == 400
        assert g.patch(f"{ext}/com.a", json={"x": 3}).status_code == 204
        after = g.get(f"{ext}/com.a").json()
    assert after["x"] == 3 and "y" not in after  # PATCH replaced the properties


def test_batch_cycles_and_non_object_entries_are_refused_up_front(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        before = len(sb.requests)
        cycle = g.post(
            "/v1.0/$batch",
            json={
                "requests": [
                    _item("1", "/users/alice@contoso.com"),
                    _item("2", "/users/bob@contoso.com", dependsOn=["3"]),
                    _item("3", "/users/eve@contoso.com", dependsOn=["2"]),
                ]
            },
        )
        assert cycle.status_code == 400
        # Nothing ran: not even item 1, which depends on nothing.
        assert not [r for r in sb.requests[before:] if r.in_batch]
        odd = g.post("/v1.0/$batch", json={"requests": [_item("1", "/users"), "not a request"]})
        assert odd.status_code == 400


def test_an_unknown_path_answers_graphs_code(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        answer = g.get("/v1.0/noSuchThing")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"
    assert answer.json()["error"]["message"] == "Resource not found for the segment 'noSuchThing'."


def test_an_injected_fault_has_a_guid_request_id_and_echoes_the_client_one(sb: Sandbox) -> None:
    sb.faults.add("GET", r"/users", status=503, service="graph")
    with client(sb, CONTOSO) as g:
        answer = g.get("/v1.0/users", headers={"client-request-id": GUID})
    assert answer.status_code == 503
    uuid.UUID(answer.headers["request-id"])
    assert answer.headers["client-request-id"] == GUID
    inner = answer.json()["error"]["innerError"]
    uuid.UUID(inner["request-id"])
    assert inner["client-request-id"] == GUID


def test_a_request_dearer_than_the_budget_gets_a_retry_after_it_can_meet(sb: Sandbox) -> None:
    sb.clock.freeze()
    sb.throttle.configure(CONTOSO, units=1, window_seconds=10)  # a members read costs 3
    sales = next(
        g.id for g in sb.world.tenants[CONTOSO].groups.values() if g.mail_nickname == "sales"
    )
    with client(sb, CONTOSO) as g:
        first = g.get(f"/v1.0/groups/{sales}/members")
        assert first.status_code == 200  # a full bucket lets it through, in debt
        second = g.get(f"/v1.0/groups/{sales}/members")
        assert second.status_code == 429
        sb.clock.advance(float(second.headers["Retry-After"]))
        assert g.get(f"/v1.0/groups/{sales}/members").status_code == 200


def test_top_is_at_most_999_for_users_and_groups(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        assert g.get("/v1.0/users?$top=999").status_code == 200
        assert g.get("/v1.0/groups?$top=1000").status_code == 400

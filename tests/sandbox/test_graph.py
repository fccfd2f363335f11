"""Graph mechanics: role enforcement, error bodies, paging, filters, user and group writes with
Graph's validation, the members quirks, replication delay, premium-gated reports, GDAP."""

from __future__ import annotations

from controller.sandbox import Sandbox, Scenario, default_scenario, generate_scenario
from tests.sandbox.conftest import (
    CONTOSO,
    FABRIKAM,
    PARTNER,
    TAILSPIN,
    WOODGROVE,
    client,
)


def _new_user(upn: str, nickname: str = "new") -> dict[str, object]:
    return {
        "accountEnabled": True,
        "displayName": "New Person",
        "mailNickname": nickname,
        "userPrincipalName": upn,
        "passwordProfile": {"password": "Sandbox-Pass-123", "forceChangePasswordNextSignIn": True},
    }


def test_missing_role_is_authorization_request_denied_with_graph_error_body(sb: Sandbox) -> None:
    with client(sb, TAILSPIN) as g:
        answer = g.get("/v1.0/reports/authenticationMethods/userRegistrationDetails")
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert answer.headers["request-id"]


def test_write_without_write_role_is_denied(sb: Sandbox) -> None:
    with client(sb, PARTNER) as g:
        assert g.get("/v1.0/tenantRelationships/delegatedAdminCustomers").status_code == 200
    with client(sb, CONTOSO) as g:
        denied = g.post(
            "/v1.0/roleManagement/directory/roleAssignments",
            json={
                "roleDefinitionId": "29232cdf-9323-42fd-ade2-1d097af3e4de",
                "principalId": "x",
                "directoryScopeId": "/",
            },
        )
        assert denied.status_code == 403
        gdap = g.get("/v1.0/tenantRelationships/delegatedAdminRelationships")
        assert gdap.status_code == 403  # partner tenant token only


def test_paging_through_2500_users() -> None:
    scenario = generate_scenario(tenants=1, users=2500, groups=0, seed=1)
    with Sandbox(scenario) as sb, client(sb, scenario.tenants[0].tenant_id) as g:
        seen: list[str] = []
        url: str | None = "/v1.0/users?$select=id,userPrincipalName&$top=999"
        pages = 0
        while url:
            page = g.get(url).json()
            seen += [u["userPrincipalName"] for u in page["value"]]
            url = page.get("@odata.nextLink")
            pages += 1
        assert len(seen) == len(set(seen)) == 2500
        assert pages == 3
        assert g.get("/v1.0/users?$top=1000").status_code == 400


def test_default_properties_and_select_and_filters(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        alice = g.get("/v1.0/users/alice@contoso.com").json()
        assert "accountEnabled" not in alice  # not a default property of v1.0
        chosen = g.get(
            "/v1.0/users?$filter=userPrincipalName eq 'BOB@contoso.com'"
            "&$select=usageLocation,department"
        ).json()["value"]
        assert chosen == [{"usageLocation": "GB", "department": "Support"}]
        starts = g.get("/v1.0/users?$filter=startswith(displayName,'Al')&$select=id").json()
        assert len(starts["value"]) == 1
        sps = g.get(
            "/v1.0/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'"
            "&$select=id,appId,appRoles"
        ).json()["value"]
        assert any(
            r["value"] == "User.ReadWrite.All" and "Application" in r["allowedMemberTypes"]
            for r in sps[0]["appRoles"]
        )
        groups = g.get("/v1.0/groups?$filter=mailNickname eq 'sales'").json()["value"]
        assert [x["displayName"] for x in groups] == ["Sales"]


def test_created_user_is_invisible_until_the_replication_delay_passes(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        created = g.post("/v1.0/users", json=_new_user("carol@contoso.com", "carol"))
        assert created.status_code == 201
        uid = created.json()["id"]
        assert g.get(f"/v1.0/users/{uid}").status_code == 404
        listed = g.get("/v1.0/users?$select=userPrincipalName").json()["value"]
        assert "carol@contoso.com" not in [u["userPrincipalName"] for u in listed]
        sb.clock.advance(sb.replication_delay + 1)
        assert g.get(f"/v1.0/users/{uid}").status_code == 200


def test_user_create_validation(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        taken = g.post("/v1.0/users", json=_new_user("alice@contoso.com"))
        assert taken.status_code == 400
        assert taken.json()["error"]["code"] == "Request_BadRequest"
        assert g.post("/v1.0/users", json=_new_user("x@fabrikam.com")).status_code == 400
        missing = _new_user("y@contoso.com")
        del missing["mailNickname"]
        assert g.post("/v1.0/users", json=missing).status_code == 400


def test_patch_soft_delete_and_restore(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        assert (
            g.patch(
                "/v1.0/users/alice@contoso.com", json={"jobTitle": "Sales Director"}
            ).status_code
            == 204
        )
        assert g.get("/v1.0/users/alice@contoso.com").json()["jobTitle"] == "Sales Director"
        temp = g.get("/v1.0/users/temp.contractor@contoso.com").json()["id"]
        assert g.delete(f"/v1.0/users/{temp}").status_code == 204
        assert g.get(f"/v1.0/users/{temp}").status_code == 404
        deleted = g.get("/v1.0/directory/deletedItems/microsoft.graph.user").json()["value"]
        assert [u["id"] for u in deleted] == [temp]
        assert g.post(f"/v1.0/directory/deletedItems/{temp}/restore").status_code == 200
        assert g.get(f"/v1.0/users/{temp}").status_code == 200


def test_assign_license_failure_modes(sb: Sandbox) -> None:
    with client(sb, FABRIKAM) as g:
        skus = {s["skuPartNumber"]: s for s in g.get("/v1.0/subscribedSkus").json()["value"]}
        exchange = skus["EXCHANGESTANDARD"]
        assert exchange["consumedUnits"] == exchange["prepaidUnits"]["enabled"] == 2
        body = {
            "addLicenses": [{"skuId": exchange["skuId"], "disabledPlans": []}],
            "removeLicenses": [],
        }
        full = g.post("/v1.0/users/grace@fabrikam.com/assignLicense", json=body)
        assert full.status_code == 400 and "available licenses" in full.json()["error"]["message"]
        unknown = {
            "addLicenses": [{"skuId": "00000000-0000-4000-8000-000000000000"}],
            "removeLicenses": [],
        }
        assert (
            g.post("/v1.0/users/grace@fabrikam.com/assignLicense", json=unknown).status_code == 400
        )
    with client(sb, CONTOSO) as g:
        g.patch("/v1.0/users/bob@contoso.com", json={"usageLocation": None})
        e3 = next(
            s
            for s in g.get("/v1.0/subscribedSkus").json()["value"]
            if s["skuPartNumber"] == "SPE_E3"
        )
        body = {"addLicenses": [{"skuId": e3["skuId"], "disabledPlans": []}], "removeLicenses": []}
        nowhere = g.post("/v1.0/users/bob@contoso.com/assignLicense", json=body)
        assert nowhere.status_code == 400 and "usage location" in nowhere.json()["error"]["message"]
        g.patch("/v1.0/users/bob@contoso.com", json={"usageLocation": "GB"})
        assert g.post("/v1.0/users/bob@contoso.com/assignLicense", json=body).status_code == 200


def test_members_ref_add_twice_is_400_and_remove_works(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        sales = g.get("/v1.0/groups?$filter=mailNickname eq 'sales'").json()["value"][0]["id"]
        bob = g.get("/v1.0/users/bob@contoso.com").json()["id"]
        ref = {"@odata.id": f"{sb.endpoints['graph']}/v1.0/directoryObjects/{bob}"}
        assert g.post(f"/v1.0/groups/{sales}/members/$ref", json=ref).status_code == 204
        again = g.post(f"/v1.0/groups/{sales}/members/$ref", json=ref)
        assert again.status_code == 400  # not 409
        assert g.delete(f"/v1.0/groups/{sales}/members/{bob}/$ref").status_code == 204
        members = g.get(f"/v1.0/groups/{sales}/members?$select=id,userPrincipalName").json()[
            "value"
        ]
        assert bob not in [m["id"] for m in members]


def test_delete_member_without_ref_deletes_the_user(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        sales = g.get("/v1.0/groups?$filter=mailNickname eq 'sales'").json()["value"][0]["id"]
        eve = g.get("/v1.0/users/eve@contoso.com").json()["id"]
        assert g.delete(f"/v1.0/groups/{sales}/members/{eve}").status_code == 204
        assert g.get(f"/v1.0/users/{eve}").status_code == 404


def test_distribution_groups_are_read_only_in_graph(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        dg = g.get("/v1.0/groups?$filter=mail eq 'allstaff@contoso.com'").json()["value"][0]
        assert dg["mailEnabled"] and not dg["securityEnabled"]
        assert g.patch(f"/v1.0/groups/{dg['id']}", json={"displayName": "x"}).status_code == 400
        created = g.post(
            "/v1.0/groups",
            json={
                "displayName": "Team",
                "mailNickname": "team",
                "mailEnabled": True,
                "securityEnabled": False,
                "groupTypes": ["Unified"],
            },
        )
        assert created.status_code == 201


def test_premium_gated_reports(sb: Sandbox) -> None:
    with client(sb, WOODGROVE) as g:
        answer = g.get("/v1.0/reports/authenticationMethods/userRegistrationDetails")
        assert answer.status_code == 403
        assert (
            answer.json()["error"]["code"]
            == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        )
    with client(sb, CONTOSO) as g:
        rows = g.get("/v1.0/reports/authenticationMethods/userRegistrationDetails").json()["value"]
        bob = next(r for r in rows if r["userPrincipalName"] == "bob@contoso.com")
        assert bob["isMfaRegistered"] is False
        risky = g.get("/v1.0/identityProtection/riskyUsers").json()["value"]
        assert [(r["userPrincipalName"], r["riskLevel"]) for r in risky] == [
            ("bob@contoso.com", "medium")
        ]


def test_gdap_relationships_from_the_partner_tenant(sb: Sandbox) -> None:
    with client(sb, PARTNER) as g:
        rels = g.get("/v1.0/tenantRelationships/delegatedAdminRelationships").json()["value"]
        wood = next(r for r in rels if r["customer"]["tenantId"] == WOODGROVE)
        assert wood["status"] == "active"
        roles = {r["roleDefinitionId"] for r in wood["accessDetails"]["unifiedRoles"]}
        assert "62e90394-69f5-4237-9190-012177145e10" not in roles
        customers = g.get("/v1.0/tenantRelationships/delegatedAdminCustomers").json()["value"]
        assert len(customers) == 6


def test_the_gdap_lists_page_at_most_300_objects() -> None:
    """ "$top supports up to 300 objects" (tenantrelationship-list-delegatedadminrelationships.md
    and -delegatedadmincustomers.md); where users allow 999, these refuse 301."""
    scenario = generate_scenario(tenants=320, users=1, groups=0, seed=2)
    with Sandbox(scenario) as sb, client(sb, PARTNER) as g:
        for path in ("delegatedAdminRelationships", "delegatedAdminCustomers"):
            url = f"/v1.0/tenantRelationships/{path}"
            first = g.get(f"{url}?$top=300").json()
            assert len(first["value"]) == 300 and "@odata.nextLink" in first
            assert len(g.get(url).json()["value"]) == 100  # the default page
            refused = g.get(f"{url}?$top=301")
            assert refused.status_code == 400
            assert "between 1 and 300" in refused.json()["error"]["message"]


def test_open_extensions_and_app_role_assignments(sb: Sandbox) -> None:
    with client(sb, CONTOSO) as g:
        ext = {
            "@odata.type": "microsoft.graph.openTypeExtension",
            "extensionName": "com.tenantctl.ledger",
            "done": ["a"],
        }
        assert g.post("/v1.0/users/bob@contoso.com/extensions", json=ext).status_code == 201
        assert g.post("/v1.0/users/bob@contoso.com/extensions", json=ext).status_code == 409
        got = g.get("/v1.0/users/bob@contoso.com/extensions/com.tenantctl.ledger").json()
        assert got["done"] == ["a"]
        sp = g.get(
            "/v1.0/servicePrincipals?$filter=appId eq '3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f'"
        ).json()["value"][0]
        assignments = g.get(f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignments").json()[
            "value"
        ]
        assert len(assignments) == 7
        roles = g.get(
            f"/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{sp['id']}'"
        ).json()["value"]
        assert [r["roleDefinitionId"] for r in roles] == [
            "29232cdf-9323-42fd-ade2-1d097af3e4de",  # Exchange Administrator
            "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
        ]


def test_state_survives_between_processes(tmp_path: object) -> None:
    scenario: Scenario = default_scenario()
    with Sandbox(scenario, state_dir=tmp_path) as sb, client(sb, CONTOSO) as g:  # type: ignore[arg-type]
        g.patch("/v1.0/users/alice@contoso.com", json={"jobTitle": "Chief"})
    with Sandbox(scenario, state_dir=tmp_path) as sb, client(sb, CONTOSO) as g:  # type: ignore[arg-type]
        assert g.get("/v1.0/users/alice@contoso.com").json()["jobTitle"] == "Chief"
        sb.reset()
    with Sandbox(scenario, state_dir=tmp_path) as sb, client(sb, CONTOSO) as g:  # type: ignore[arg-type]
        assert g.get("/v1.0/users/alice@contoso.com").json()["jobTitle"] == "Sales Manager"

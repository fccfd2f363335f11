"""Exchange admin REST (role propagation, cmdlets, GenericHashTable, paging, error shape),
CIPP (quirky answers, writes visible through Graph and Exchange, bulk consent after a
delay) and Partner Center."""

from __future__ import annotations

from typing import Any

from controller.sandbox import Sandbox
from controller.sandbox._catalog import EXCHANGE_APP_ROLES, GRAPH_APP_ROLES
from tests.sandbox.conftest import (
    ADATUM,
    APP,
    CONTOSO,
    FABRIKAM,
    PARTNER,
    TAILSPIN,
    WOODGROVE,
    client,
    invoke,
    msal_app,
)


def test_exchange_is_403_while_the_role_propagates_then_works(sb: Sandbox) -> None:
    with client(sb, TAILSPIN, "exchange") as ex:
        early = invoke(ex, TAILSPIN, "Get-Mailbox", RecipientTypeDetails="SharedMailbox")
        assert early.status_code == 403
        sb.clock.advance(sb.exchange_role_propagation + 1)
        late = invoke(ex, TAILSPIN, "Get-Mailbox", RecipientTypeDetails="SharedMailbox")
        assert late.status_code == 200
        assert [m["PrimarySmtpAddress"] for m in late.json()["value"]] == [
            "orders@tailspintoys.com"
        ]


def test_exchange_without_the_role_is_403(sb: Sandbox) -> None:
    with client(sb, FABRIKAM, "exchange") as ex:
        assert invoke(ex, FABRIKAM, "Get-Mailbox").status_code == 403


def test_shared_mailbox_permissions_and_send_on_behalf(sb: Sandbox) -> None:
    with client(sb, CONTOSO, "exchange") as ex:
        created = invoke(
            ex,
            CONTOSO,
            "New-Mailbox",
            Shared=True,
            Name="Info",
            DisplayName="Info",
            Alias="info",
            PrimarySmtpAddress="info@contoso.com",
        )
        assert created.status_code == 200
        assert (
            invoke(
                ex,
                CONTOSO,
                "Add-MailboxPermission",
                Identity="info@contoso.com",
                User="alice@contoso.com",
                AccessRights=["FullAccess"],
                InheritanceType="All",
            ).status_code
            == 200
        )
        perms = invoke(ex, CONTOSO, "Get-MailboxPermission", Identity="info@contoso.com").json()
        assert [p["User"] for p in perms["value"]] == ["NT AUTHORITY\\SELF", "alice@contoso.com"]
        table = {
            "@odata.type": "#Exchange.GenericHashTable",
            "Add": ["alice@contoso.com", "bob@contoso.com"],
        }
        invoke(
            ex, CONTOSO, "Set-Mailbox", Identity="support@contoso.com", GrantSendOnBehalfTo=table
        )
        table = {"@odata.type": "#Exchange.GenericHashTable", "Remove": ["bob@contoso.com"]}
        invoke(
            ex, CONTOSO, "Set-Mailbox", Identity="support@contoso.com", GrantSendOnBehalfTo=table
        )
        box = invoke(ex, CONTOSO, "Get-Mailbox", Identity="support@contoso.com").json()["value"][0]
        # Delegates come back by recipient id, never by address (as CIPP resolves them).
        assert box["GrantSendOnBehalfTo"] == [
            sb.world.tenants[CONTOSO].upn_index["alice@contoso.com"]
        ]
        invoke(
            ex,
            CONTOSO,
            "Set-Mailbox",
            Identity="support@contoso.com",
            GrantSendOnBehalfTo="eve@contoso.com",
        )
        box = invoke(ex, CONTOSO, "Get-Mailbox", Identity="support@contoso.com").json()["value"][0]
        assert box["GrantSendOnBehalfTo"] == [
            sb.world.tenants[CONTOSO].upn_index["eve@contoso.com"]
        ]
        assert (
            invoke(
                ex,
                CONTOSO,
                "Add-RecipientPermission",
                Identity="support@contoso.com",
                Trustee="bob@contoso.com",
                AccessRights=["SendAs"],
            ).status_code
            == 200
        )


def test_distribution_group_members_and_error_shape(sb: Sandbox) -> None:
    with client(sb, CONTOSO, "exchange") as ex:
        again = invoke(
            ex,
            CONTOSO,
            "Add-DistributionGroupMember",
            Identity="allstaff@contoso.com",
            Member="alice@contoso.com",
            BypassSecurityGroupManagerCheck=True,
        )
        assert again.status_code == 400
        error = again.json()["error"]
        assert "MemberAlreadyExistsException" in error["details"][0]["message"]
        assert error["innererror"]["internalException"]["message"]
        missing = invoke(ex, CONTOSO, "Get-DistributionGroup", Identity="nope@contoso.com")
        assert missing.status_code == 404
        members = invoke(
            ex, CONTOSO, "Get-DistributionGroupMember", Identity="allstaff@contoso.com"
        )
        assert len(members.json()["value"]) == 3


def test_changing_a_distribution_group_app_only_needs_the_manager_check_bypassed(
    sb: Sandbox,
) -> None:
    """The app is never in ManagedBy: without -BypassSecurityGroupManagerCheck Exchange
    refuses (Add-DistributionGroupMember.md and its siblings)."""
    changes = [
        ("Add-DistributionGroupMember", {"Member": "dave@contoso.com"}),
        ("Remove-DistributionGroupMember", {"Member": "alice@contoso.com", "Confirm": False}),
        ("Set-DistributionGroup", {"DisplayName": "Everyone"}),
        ("Remove-DistributionGroup", {"Confirm": False}),
    ]
    with client(sb, CONTOSO, "exchange") as ex:
        for cmdlet, parameters in changes:
            refused = invoke(ex, CONTOSO, cmdlet, Identity="allstaff@contoso.com", **parameters)
            assert refused.status_code == 400, cmdlet
            assert "can only be performed by a manager of the group" in refused.text
        for cmdlet, parameters in changes:
            done = invoke(
                ex,
                CONTOSO,
                cmdlet,
                Identity="allstaff@contoso.com",
                BypassSecurityGroupManagerCheck=True,
                **parameters,
            )
            assert done.status_code == 200, (cmdlet, done.text)


def test_exchange_paging_by_re_posting_the_same_body(sb: Sandbox) -> None:
    with client(sb, CONTOSO, "exchange") as ex:
        ex.headers["Prefer"] = "odata.maxpagesize=2"
        body = {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}}
        page = ex.post(f"/adminapi/beta/{CONTOSO}/InvokeCommand", json=body).json()
        seen = list(page["value"])
        while "@odata.nextLink" in page:
            page = ex.post(page["@odata.nextLink"], json=body).json()
            seen += page["value"]
        assert len(seen) == 4  # alice, dave, eve (licensed) and the Support shared mailbox


def test_cipp_edit_group_with_a_bad_member_answers_200_with_error_string(sb: Sandbox) -> None:
    with client(sb, PARTNER, "cipp") as cipp:
        groups = cipp.get("/api/ListGroups", params={"tenantFilter": "fabrikam.com"}).json()
        finance = next(g for g in groups if g["mailNickname"] == "finance")
        assert finance["calculatedGroupType"] == "generic"
        answer = cipp.post(
            "/api/EditGroup",
            json={
                "tenantFilter": "fabrikam.com",
                "groupId": finance["id"],
                "AddMember": [
                    {
                        "value": "ghost@fabrikam.com",
                        "addedFields": {"userPrincipalName": "ghost@fabrikam.com"},
                    },
                    {"value": "grace@fabrikam.com"},
                ],
            },
        )
        assert answer.status_code == 200
        results = answer.json()["Results"]
        assert results[0].startswith("Error - ") and results[1].startswith("Success - ")
        detail = cipp.get(
            "/api/ListGroups",
            params={"tenantFilter": FABRIKAM, "groupID": finance["id"], "members": "true"},
        ).json()
        assert "grace@fabrikam.com" in [m["userPrincipalName"] for m in detail["members"]]
        assert cipp.get("/api/ListUsers", params={"tenantFilter": WOODGROVE}).status_code == 403


def test_cipp_edit_group_changes_a_distribution_list_only_when_told_its_type(
    sb: Sandbox,
) -> None:
    """Without groupType EditGroup goes to Graph, which refuses a distribution list
    (Invoke-EditGroup.ps1, CIPP-API a89c2b933)."""
    with client(sb, PARTNER, "cipp") as cipp:
        groups = cipp.get("/api/ListGroups", params={"tenantFilter": "fabrikam.com"}).json()
        newsletter = next(g for g in groups if g["mailNickname"] == "newsletter")
        add = {
            "value": "frank@fabrikam.com",
            "addedFields": {"userPrincipalName": "frank@fabrikam.com"},
        }
        body = {"tenantFilter": "fabrikam.com", "groupId": newsletter["id"], "AddMember": [add]}
        untyped = cipp.post("/api/EditGroup", json=body).json()["Results"]
        assert untyped == [
            "Error - Cannot Update a mail-enabled security groups and or distribution list."
        ]
        typed = cipp.post("/api/EditGroup", json={**body, "groupType": "Distribution List"})
        assert typed.json()["Results"][0].startswith("Success - Added member frank@fabrikam.com")
        detail = cipp.get(
            "/api/ListGroups",
            params={"tenantFilter": FABRIKAM, "groupID": newsletter["id"], "members": "true"},
        ).json()
        assert "frank@fabrikam.com" in [m["userPrincipalName"] for m in detail["members"]]


def test_cipp_writes_show_in_the_same_state(sb: Sandbox) -> None:
    with client(sb, PARTNER, "cipp") as cipp:
        made = cipp.post(
            "/api/AddGroup",
            json={
                "tenantFilter": "fabrikam.com",
                "groupType": "distribution",
                "displayName": "Fabrikam Sales",
                "username": "sales",
                "primDomain": {"value": "fabrikam.com"},
                "members": [],
            },
        )
        assert made.status_code == 200
        perms = cipp.post(
            "/api/ExecEditMailboxPermissions",
            json={
                "tenantFilter": "fabrikam.com",
                "userID": "accounts@fabrikam.com",
                "AddFullAccess": [{"value": "grace@fabrikam.com"}],
                "AddSendAs": [{"value": "nobody@fabrikam.com"}],
            },
        )
        assert perms.status_code == 200
        assert perms.json()["Results"][1].startswith("Could not add")
        listed = cipp.get(
            "/api/ListmailboxPermissions",
            params={"tenantFilter": "fabrikam.com", "userId": "accounts@fabrikam.com"},
        ).json()
        assert {"User": "grace@fabrikam.com", "Permissions": "FullAccess"} in listed
    sb.clock.advance(sb.replication_delay + 1)
    with client(sb, FABRIKAM) as g:
        dgs = g.get("/v1.0/groups?$filter=mail eq 'sales@fabrikam.com'").json()["value"]
        assert len(dgs) == 1 and dgs[0]["mailEnabled"]


def _bulk_consent(sb: Sandbox, **body: Any) -> list[str]:
    """Queue CIPP's bulk consent of the app for adatum, let it take effect, and return the
    app roles adatum's token then carries."""
    with client(sb, PARTNER, "cipp") as cipp:
        queued = cipp.post(
            "/api/ExecAddMultiTenantApp",
            json={"configMode": "manual", "AppId": APP, **body},
        )
        assert queued.status_code == 200
        assert queued.json()["Results"][0].startswith(f"Deploying {APP} to ")
    early = msal_app(sb, ADATUM).acquire_token_for_client([f"{sb.endpoints['graph']}/.default"])
    assert early.get("error_codes") == [7000229]
    sb.clock.advance(sb.cipp_consent_delay + 1)
    # A new app: MSAL caches the earlier 400 for 60 s per identical request.
    late = msal_app(sb, ADATUM).acquire_token_for_client([f"{sb.endpoints['graph']}/.default"])
    assert "access_token" in late
    tenant = sb.world.tenants[ADATUM]
    app = tenant.sp_by_app_id(APP)
    assert app is not None
    names = {role_id: name for name, role_id in {**GRAPH_APP_ROLES, **EXCHANGE_APP_ROLES}.items()}
    return sorted(
        names[a.app_role_id] for a in tenant.app_role_assignments if a.principal_id == app.id
    )


ADATUM_ONLY = [{"value": "adatum.com", "label": "Adatum"}]


def test_cipp_bulk_consent_copying_the_app_registration_grants_every_resource(
    sb: Sandbox,
) -> None:
    roles = _bulk_consent(sb, CopyPermissions=True, tenantFilter=ADATUM_ONLY)
    assert {"User.ReadWrite.All", "Exchange.ManageAsApp"} <= set(roles)


def test_cipp_bulk_consent_of_permission_ids_grants_them_on_graph_only(sb: Sandbox) -> None:
    """Manual mode assigns every id against Microsoft Graph's resource: the Exchange role
    id fails in CIPP's job (Invoke-ExecAddMultiTenantApp.ps1)."""
    permissions = [
        {"id": GRAPH_APP_ROLES["User.ReadWrite.All"], "origin": "Application"},
        {"id": EXCHANGE_APP_ROLES["Exchange.ManageAsApp"], "origin": "Application"},
    ]
    roles = _bulk_consent(sb, permissions=permissions, tenantFilter=ADATUM_ONLY)
    assert roles == ["User.ReadWrite.All"]


def test_cipp_bulk_consent_reads_tenant_filter_values_only(sb: Sandbox) -> None:
    with client(sb, PARTNER, "cipp") as cipp:
        cipp.post(
            "/api/ExecAddMultiTenantApp",
            json={
                "configMode": "manual",
                "AppId": APP,
                "CopyPermissions": True,
                "tenantFilter": "allTenants",
            },
        )
    sb.clock.advance(sb.cipp_consent_delay + 1)
    late = msal_app(sb, ADATUM).acquire_token_for_client([f"{sb.endpoints['graph']}/.default"])
    assert late.get("error_codes") == [7000229]  # a bare string selects no tenant


def test_partner_center_customers_and_app_only_consent_refused_unless_allowed(sb: Sandbox) -> None:
    with client(sb, PARTNER, "partnerCenter") as pc:
        customers = pc.get("/v1/customers").json()
        assert customers["totalCount"] == 6
        refused = pc.post(
            f"/v1/customers/{ADATUM}/applicationconsents", json={"applicationId": APP}
        )
        assert refused.status_code == 403
        # A scenario may allow it (tenantctl itself never calls it: it is App+User only).
        sb.world.partner.allow_app_only_consent = True
        graph = "00000003-0000-0000-c000-000000000000"
        grants = [{"enterpriseApplicationId": graph, "scope": "User.Read.All"}]
        body = {"applicationId": APP, "applicationGrants": grants}
        granted = pc.post(f"/v1/customers/{ADATUM}/applicationconsents", json=body)
        assert granted.status_code == 201
        assert granted.json()["applicationId"] == APP

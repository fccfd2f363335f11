"""The service clients' own contracts: Graph member removal always via ``/$ref``, "already a
member" as Conflict, app role names; Exchange's InvokeCommand headers, paging by re-POST,
error details and GenericHashTable; CIPP's always-200 results judged by reading back; Partner
Center's continuation paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from controller.connectors import GRAPH_APP_ID, parse_results
from controller.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PropagationPending,
    ServiceFault,
)
from tests.connectors.conftest import CIPP_BASE, GRAPH, PARTNER, TENANT, body, graph_error, run

# -- Graph ---------------------------------------------------------------------------------


def test_remove_member_always_deletes_the_reference_not_the_member(connect: Any) -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return httpx.Response(204)

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).remove_member("g1", "u1")

    run(scenario())
    assert seen == [("DELETE", "/v1.0/groups/g1/members/u1/$ref")]


def test_add_member_posts_a_directory_object_reference(connect: Any) -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/groups/g1/members/$ref"
        sent.append(body(request))
        return httpx.Response(204)

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).add_member("g1", "u1")

    run(scenario())
    assert sent == [{"@odata.id": f"{GRAPH}/directoryObjects/u1"}]


def test_already_a_member_is_a_conflict_though_graph_says_400(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(
            400,
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.",
        )

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.graph(TENANT).add_member("g1", "u1")

    with pytest.raises(Conflict) as raised:
        run(scenario())
    assert raised.value.status == 400 and raised.value.request_id == "req-123"


def test_resource_app_roles_map_application_permission_names_to_ids(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert f"appId eq '{GRAPH_APP_ID}'" in request.url.params["$filter"]
        roles = [
            {"id": "r1", "value": "User.ReadWrite.All", "allowedMemberTypes": ["Application"]},
            {"id": "r2", "value": "User.Read", "allowedMemberTypes": ["User"]},
        ]
        return httpx.Response(
            200, json={"value": [{"id": "sp", "appId": GRAPH_APP_ID, "appRoles": roles}]}
        )

    async def scenario() -> dict[str, str]:
        async with connect(handler) as connections:
            return await connections.graph(TENANT).resource_app_roles()

    assert run(scenario()) == {"User.ReadWrite.All": "r1"}


def test_missing_service_principal_is_none_not_an_error(connect: Any) -> None:
    async def scenario() -> Any:
        async with connect(lambda r: httpx.Response(200, json={"value": []})) as connections:
            return await connections.graph(TENANT).service_principal("app")

    assert run(scenario()) is None


def test_gdap_customers_are_read_with_the_partner_tenant_token(connect: Any) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(
            200, json={"value": [{"id": "c", "tenantId": TENANT, "displayName": "Contoso"}]}
        )

    async def scenario() -> list[dict[str, Any]]:
        async with connect(handler) as connections:
            return await connections.partner_graph().gdap_customers()

    assert run(scenario())[0]["displayName"] == "Contoso"
    assert seen == [f"Bearer eyJ-token-graph-{PARTNER[:4]}"]


# -- Exchange ------------------------------------------------------------------------------


def test_invoke_command_sends_anchor_and_page_size_and_reposts_to_next_link(connect: Any) -> None:
    seen: list[tuple[str, Any, str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(
            (
                str(request.url),
                body(request),
                request.headers["X-AnchorMailbox"],
                request.headers["Prefer"],
            )
        )
        if len(seen) == 1:
            return httpx.Response(
                200,
                json={
                    "value": [{"Name": "Support"}],
                    "@odata.nextLink": "https://outlook.office365.com/adminapi/beta/x/InvokeCommand?$skiptoken=2",
                    "@adminapi.warnings": ["a warning"],
                },
            )
        return httpx.Response(200, json={"value": [{"Name": "Sales"}]})

    async def scenario() -> list[dict[str, Any]]:
        async with connect(handler) as connections:
            return await connections.exchange(TENANT).shared_mailboxes()

    assert [m["Name"] for m in run(scenario())] == ["Support", "Sales"]
    first, second = seen
    assert first[0] == f"https://outlook.office365.com/adminapi/beta/{TENANT}/InvokeCommand"
    assert first[1] == {
        "CmdletInput": {
            "CmdletName": "Get-Mailbox",
            "Parameters": {"RecipientTypeDetails": "SharedMailbox", "ResultSize": "Unlimited"},
        }
    }
    assert second[1] == first[1] and "skiptoken=2" in second[0]
    assert first[2] == f"APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{TENANT}"
    assert first[3] == "odata.maxpagesize=1000"


def test_send_on_behalf_is_changed_with_a_generic_hashtable(connect: Any) -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(body(request))
        return httpx.Response(200, json={"value": []})

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.exchange(TENANT).set_send_on_behalf(
                "support@contoso.com", add=["alice@contoso.com"]
            )

    run(scenario())
    assert sent[0]["CmdletInput"]["Parameters"]["GrantSendOnBehalfTo"] == {
        "@odata.type": "#Exchange.GenericHashTable",
        "Add": ["alice@contoso.com"],
    }


def test_exchange_errors_carry_the_exception_type(connect: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "error": {
                    "code": "InternalServerError",
                    "message": "Error executing cmdlet",
                    "details": [
                        {
                            "code": "Context",
                            "message": "ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found.",
                        }
                    ],
                }
            },
        )

    async def scenario() -> None:
        async with connect(handler) as connections:
            await connections.exchange(TENANT).mailbox_permissions("x")

    with pytest.raises(NotFound) as raised:
        run(scenario())
    assert raised.value.code == "ManagementObjectNotFoundException"
    assert raised.value.message.startswith("The operation couldn't be performed")


def test_exchange_403_while_the_role_propagates_is_permission_denied_with_status(
    connect: Any,
) -> None:
    async def scenario() -> None:
        async with connect(lambda r: httpx.Response(403, json={})) as connections:
            await connections.exchange(TENANT).distribution_groups()

    with pytest.raises(PermissionDenied) as raised:
        run(scenario())
    assert raised.value.status == 403 and raised.value.service == "exchange"


def test_new_mailbox_lost_in_transit_is_looked_up(connect: Any) -> None:
    cmdlets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        name = body(request)["CmdletInput"]["CmdletName"]
        cmdlets.append(name)
        if name == "New-Mailbox":
            raise httpx.ReadTimeout("no answer")
        return httpx.Response(200, json={"value": [{"PrimarySmtpAddress": "support@contoso.com"}]})

    async def scenario() -> dict[str, Any]:
        async with connect(handler) as connections:
            return await connections.exchange(TENANT).create_shared_mailbox(
                "Support", "support@contoso.com"
            )

    assert run(scenario()) == {"PrimarySmtpAddress": "support@contoso.com"}
    assert cmdlets == ["New-Mailbox", "Get-Mailbox"]


# -- CIPP ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Success - Added member alice@contoso.com to Sales", "success"),
        ("Error - Could not add alice@contoso.com", "failure"),
        ("Granted alice@contoso.com access to support@contoso.com", "success"),
        ("Could not add mailbox permissions for alice on support. Error: denied", "failure"),
        ("Operation completed with notes", "unconfirmed"),
        ("Blocked sign-in for shared mailbox returns@contoso.com", "success"),
        (
            "Could not add alice shared mailbox permissions for info@contoso.com. Error: "
            "Cannot bind argument to parameter 'Identity' because it is null.",
            "not-visible",
        ),
    ],
)
def test_cipp_results_are_parsed_per_item(text: str, outcome: str) -> None:
    assert [r.outcome for r in parse_results({"Results": [text]})] == [outcome]


def _cipp(handler: Any) -> Any:
    def routed(request: httpx.Request) -> httpx.Response:
        assert str(request.url).startswith(f"{CIPP_BASE}/api/")
        return handler(request.url.path.removeprefix("/api/"), request)

    return routed


def test_edit_group_is_confirmed_by_reading_members_back(connect: Any) -> None:
    calls: list[str] = []

    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        calls.append(endpoint)
        if endpoint == "EditGroup":
            assert body(request)["AddMember"] == [
                {"value": "u1", "addedFields": {"userPrincipalName": "alice@contoso.com"}}
            ]
            return httpx.Response(
                200, json={"Results": ["Success - Added member alice@contoso.com"]}
            )
        assert request.url.params["groupID"] == "g1" and request.url.params["members"] == "true"
        return httpx.Response(
            200,
            json={
                "groupInfo": {},
                "members": [{"id": "u1", "userPrincipalName": "alice@contoso.com"}],
            },
        )

    async def scenario() -> None:
        async with connect(_cipp(handler)) as connections:
            await connections.cipp().edit_group(
                "contoso.com", "g1", add={"u1": "alice@contoso.com"}
            )

    run(scenario())
    assert calls == ["EditGroup", "ListGroups"]


def test_edit_group_failure_text_with_200_raises_with_cipp_s_words(connect: Any) -> None:
    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        if endpoint == "EditGroup":
            return httpx.Response(
                200,
                json={
                    "Results": ["Error - Could not add alice@contoso.com: insufficient privileges"]
                },
            )
        return httpx.Response(200, json={"groupInfo": {}, "members": []})

    async def scenario() -> None:
        async with connect(_cipp(handler)) as connections:
            await connections.cipp().edit_group(
                "contoso.com", "g1", add={"u1": "alice@contoso.com"}
            )

    with pytest.raises(ServiceFault) as raised:
        run(scenario())
    assert "insufficient privileges" in str(raised.value)


def test_cipp_write_in_unknown_words_not_seen_on_read_back_is_unconfirmed(
    connect: Any, fake_time: Any
) -> None:
    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        if endpoint == "ExecEditMailboxPermissions":
            return httpx.Response(200, json={"Results": ["Request accepted"]})
        return httpx.Response(200, json=[{"User": "bob@contoso.com", "Permissions": "FullAccess"}])

    async def scenario() -> None:
        async with connect(_cipp(handler)) as connections:
            await connections.cipp().edit_mailbox_permissions(
                "contoso.com", "support@contoso.com", add_full_access=["alice@contoso.com"]
            )

    with pytest.raises(PropagationPending):
        run(scenario())
    # Read back with backoff for the replication budget (a minute) before saying so.
    assert len(fake_time.sleeps) >= 2 and sum(fake_time.sleeps) >= 60


def test_add_shared_mailbox_names_the_tenant_tenant_id(connect: Any) -> None:
    sent: list[Any] = []

    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        if endpoint == "AddSharedMailbox":
            sent.append(body(request))
            return httpx.Response(200, json={"Results": ["Successfully created shared mailbox."]})
        return httpx.Response(
            200, json=[{"UPN": "support@contoso.com", "primarySmtpAddress": "support@contoso.com"}]
        )

    async def scenario() -> None:
        async with connect(_cipp(handler)) as connections:
            await connections.cipp().add_shared_mailbox(
                "contoso.com", "Support", "support", "contoso.com"
            )

    run(scenario())
    assert sent == [
        {
            "tenantID": "contoso.com",
            "displayName": "Support",
            "username": "support",
            "domain": "contoso.com",
        }
    ]


def test_cipp_403_of_its_access_check_is_permission_denied(connect: Any) -> None:
    """CIPP's access check answers 403 with bare text (Test-CIPPAccess.ps1)."""

    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="Access to this tenant is not allowed")

    async def scenario() -> None:
        async with connect(_cipp(handler)) as connections:
            await connections.cipp().list_mailboxes("contoso.com")

    with pytest.raises(PermissionDenied) as raised:
        run(scenario())
    assert raised.value.service == "cipp" and "not allowed" in str(raised.value)


def test_cipp_403_of_a_failed_list_is_the_endpoints_failure_not_a_role(connect: Any) -> None:
    """``List*`` answer their own failures 403 with the error's text (Invoke-ListMailboxes.ps1):
    a ServiceFault carrying CIPP's words, not a missing CIPP role."""

    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json=["Failed to connect to Exchange: AADSTS50020"])

    async def scenario() -> None:
        async with connect(_cipp(handler)) as connections:
            await connections.cipp().list_mailboxes("contoso.com")

    with pytest.raises(ServiceFault) as raised:
        run(scenario())
    assert raised.value.status == 403
    assert raised.value.code == "Failed to connect to Exchange: AADSTS50020"


def test_cipp_password_reset_keeps_the_password_out_of_results(connect: Any) -> None:
    def handler(endpoint: str, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "Results": [
                    "Successfully reset the password for bob. The new password is Xy!9secret"
                ]
            },
        )

    async def scenario() -> Any:
        async with connect(_cipp(handler)) as connections:
            return await connections.cipp().reset_password("contoso.com", "bob")

    reset = run(scenario())
    assert reset.password == "Xy!9secret"
    assert "Xy!9secret" not in repr(reset)


# -- Partner Center ------------------------------------------------------------------------


def test_partner_center_customers_follow_the_continuation_token(connect: Any) -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("MS-ContinuationToken")))
        if len(seen) == 1:
            return httpx.Response(
                200,
                json={
                    "items": [{"id": TENANT}],
                    "links": {
                        "next": {
                            "uri": "/v1/customers?seekOperation=Next",
                            "headers": [{"key": "MS-ContinuationToken", "value": "c2"}],
                        }
                    },
                },
            )
        return httpx.Response(200, json={"items": [{"id": "t2"}]})

    async def scenario() -> list[dict[str, Any]]:
        async with connect(handler) as connections:
            return await connections.partner_center().customers()

    assert [c["id"] for c in run(scenario())] == [TENANT, "t2"]
    assert seen == [("/v1/customers", None), ("/v1/customers", "c2")]

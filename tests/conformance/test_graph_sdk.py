"""Conformance: every Graph call tenantctl makes, sent by Microsoft's Graph SDK for Python
(msgraph-sdk) to the sandbox, comes back as the SDK's typed v1.0 model with no key the model
does not know (``additional_data`` empty, but for the ``@odata.context`` annotation of the
answer itself), and errors come back as the SDK's ``ODataError``.

The calls are those of controller/connectors/graph.py and controller/observe/ (the rows of
docs/api-contract.md, "Microsoft Graph"). The SDK's own deleted-items URLs (the short cast
segment ``graph.user``) are used as it sends them. Its ``$batch`` items carry absolute URLs
and a ``depends_on`` key, which Graph does not accept: ``_relative_batch`` works around that
here, as the sandbox must not accept them either.
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

with warnings.catch_warnings():
    # The SDK's generated modules warn, as they are imported, about their own deprecated
    # classes; the calls below do not use those.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from kiota_abstractions.serialization import Parsable, SerializationWriter
    from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
    from msgraph import GraphServiceClient
    from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
    from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
    from msgraph.generated.models.assigned_license import AssignedLicense
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.open_type_extension import OpenTypeExtension
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.reference_create import ReferenceCreate
    from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
    from msgraph.generated.models.user import User
    from msgraph.generated.models.user_collection_response import UserCollectionResponse
    from msgraph.generated.organization.organization_request_builder import (
        OrganizationRequestBuilder,
    )
    from msgraph.generated.reports.authentication_methods.user_registration_details.user_registration_details_request_builder import (
        UserRegistrationDetailsRequestBuilder,
    )
    from msgraph.generated.role_management.directory.role_assignments.role_assignments_request_builder import (
        RoleAssignmentsRequestBuilder,
    )
    from msgraph.generated.service_principals.service_principals_request_builder import (
        ServicePrincipalsRequestBuilder,
    )
    from msgraph.generated.subscribed_skus.subscribed_skus_request_builder import (
        SubscribedSkusRequestBuilder,
    )
    from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
        AssignLicensePostRequestBody,
    )
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem
    from msgraph_core.requests.batch_response_content import BatchResponseContent

from controller.connectors.graph import GROUP_SELECT, MEMBER_SELECT
from controller.models.permissions import EXCHANGE_APP_ID, GRAPH_APP_ID
from controller.observe.tenant import USER_SELECT
from controller.sandbox._world import grant_app_roles
from tests.conformance.conftest import Sdk
from tests.sandbox.conftest import CONTOSO, PARTNER

pytestmark = [
    pytest.mark.integration,
    # ... and so do the modules the SDK imports lazily while a call is built.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msgraph.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:kiota_abstractions.*"),
]

SKU_SELECT = ["skuId", "skuPartNumber", "consumedUnits", "prepaidUnits", "capabilityStatus"]


# --- what every answer must be ----------------------------------------------------------------


def clean(value: Any, *, root: bool = True) -> None:
    """No key the SDK's model does not know, at any depth (``@odata.context`` is the answer's
    own annotation, allowed on the answer only)."""
    if isinstance(value, list | tuple):
        for item in value:
            clean(item, root=False)
        return
    if not isinstance(value, Parsable):
        return
    extra = dict(getattr(value, "additional_data", None) or {})
    if root:
        extra.pop("@odata.context", None)
    assert extra == {}, f"{type(value).__name__} has keys its v1.0 model lacks: {sorted(extra)}"
    for name, child in vars(value).items():
        if name != "additional_data" and child is not None:
            clean(child, root=False)


def refused(error: ODataError, code: str) -> None:
    """Graph's error body, as the SDK reads it: the code, and a GUID request id."""
    assert error.error is not None
    assert error.error.code == code
    inner = error.error.inner_error
    assert inner is not None
    uuid.UUID(str(inner.request_id))
    assert inner.date is not None


def _query(builder: Any, **params: Any) -> RequestConfiguration[Any]:
    return RequestConfiguration(query_parameters=builder(**params))


# --- users ------------------------------------------------------------------------------------


def test_users_list_with_select_top_and_paging(sdk: Sdk) -> None:
    select = USER_SELECT.split(",")

    async def call(g: GraphServiceClient) -> list[User]:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters
        page = await g.users.get(_query(query, select=select, top=2))
        seen: list[User] = []
        while page is not None:
            clean(page)
            seen += page.value or []
            if not page.odata_next_link:
                break
            page = await g.users.with_url(page.odata_next_link).get()
        return seen

    users = sdk.run(CONTOSO, call)
    assert len({u.id for u in users}) == len(users) > 2
    alice = next(u for u in users if u.user_principal_name == "alice@contoso.com")
    assert alice.usage_location == "US" and alice.assigned_licenses


def test_user_by_upn_filter_and_by_id(sdk: Sdk) -> None:
    async def call(g: GraphServiceClient) -> tuple[Any, Any]:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters
        found = await g.users.get(
            _query(query, filter="userPrincipalName eq 'bob@contoso.com'", select=["id"])
        )
        assert found is not None and found.value
        one = await g.users.by_user_id(str(found.value[0].id)).get(
            _query(
                UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters,
                select=["id", "userPrincipalName", "assignedLicenses"],
            )
        )
        return found, one

    found, one = sdk.run(CONTOSO, call)
    clean(found)
    clean(one)
    assert one.user_principal_name == "bob@contoso.com"


def test_user_create_update_reset_delete_and_restore(sdk: Sdk) -> None:
    async def call(g: GraphServiceClient) -> dict[str, Any]:
        created = await g.users.post(
            User(
                account_enabled=True,
                display_name="Grace New",
                mail_nickname="grace",
                user_principal_name="grace@contoso.com",
                usage_location="US",
                password_profile=PasswordProfile(
                    password="Sandbox-Pass-123", force_change_password_next_sign_in=True
                ),
            )
        )
        assert created is not None and created.id
        sdk.sandbox.clock.advance(5)  # past the replication delay of the create
        me = g.users.by_user_id(created.id)
        await me.patch(User(job_title="Engineer"))
        await me.patch(
            User(
                password_profile=PasswordProfile(
                    password="Sandbox-Pass-456", force_change_password_next_sign_in=True
                )
            )
        )
        await g.users.by_user_id("bob@contoso.com").patch(User(department="Sales"))
        bob = await g.users.by_user_id("bob@contoso.com").get(
            _query(UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters, select=["id"])
        )
        assert bob is not None and bob.id
        await g.users.by_user_id(bob.id).delete()
        deleted = await g.directory.deleted_items.graph_user.get()
        item = await g.directory.deleted_items.by_directory_object_id(bob.id).get()
        restored = await g.directory.deleted_items.by_directory_object_id(bob.id).restore.post()
        return {"created": created, "deleted": deleted, "item": item, "restored": restored}

    got = sdk.run(CONTOSO, call)
    for value in got.values():
        clean(value)
    assert [u.user_principal_name for u in got["deleted"].value] == ["bob@contoso.com"]
    assert isinstance(got["item"], User)
    assert isinstance(got["restored"], User)  # typed by its @odata.type
    assert got["restored"].user_principal_name == "bob@contoso.com"


def test_assign_license(sdk: Sdk) -> None:
    tenant = sdk.sandbox.world.tenants[CONTOSO]
    power_bi = next(s.sku_id for s in tenant.skus.values() if s.sku_part_number == "POWER_BI_PRO")

    async def call(g: GraphServiceClient) -> Any:
        return await g.users.by_user_id("dave@contoso.com").assign_license.post(
            AssignLicensePostRequestBody(
                add_licenses=[AssignedLicense(sku_id=uuid.UUID(power_bi), disabled_plans=[])],
                remove_licenses=[],
            )
        )

    user = sdk.run(CONTOSO, call)
    clean(user)
    assert str(power_bi) in {str(lic.sku_id) for lic in user.assigned_licenses}


def test_open_extension_the_action_ledger(sdk: Sdk) -> None:
    name = "com.tenantctl.actions"

    async def call(g: GraphServiceClient) -> tuple[Any, Any]:
        extensions = g.users.by_user_id("bob@contoso.com").extensions
        created = await extensions.post(
            OpenTypeExtension(
                odata_type="#microsoft.graph.openTypeExtension",
                extension_name=name,
                additional_data={"v": 1, "started": ["3f9a0c1e"], "done": []},
            )
        )
        await extensions.by_extension_id(name).patch(
            OpenTypeExtension(
                odata_type="#microsoft.graph.openTypeExtension",
                additional_data={"v": 1, "started": [], "done": ["3f9a0c1e"]},
            )
        )
        return created, await extensions.by_extension_id(name).get()

    created, read = sdk.run(CONTOSO, call)
    assert isinstance(created, OpenTypeExtension) and isinstance(read, OpenTypeExtension)
    assert read.extension_name == name
    # An open type: its custom data is additional_data by definition, and nothing else is.
    custom = {k: v for k, v in read.additional_data.items() if k != "@odata.context"}
    # The ledger's own shape (controller/models/ledger.py): primitives and arrays of them.
    assert custom == {"v": 1, "started": [], "done": ["3f9a0c1e"]}


# --- groups -----------------------------------------------------------------------------------


def test_groups_list_filter_get_create_update_delete(sdk: Sdk) -> None:
    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters

    async def call(g: GraphServiceClient) -> dict[str, Any]:
        listed = await g.groups.get(_query(query, select=GROUP_SELECT.split(","), top=999))
        by_nick = await g.groups.get(
            _query(query, filter="mailNickname eq 'sales'", select=GROUP_SELECT.split(","))
        )
        assert by_nick is not None and by_nick.value
        sales = await g.groups.by_group_id(str(by_nick.value[0].id)).get()
        created = await g.groups.post(
            Group(
                display_name="Ops",
                mail_nickname="ops",
                mail_enabled=False,
                security_enabled=True,
                group_types=[],
            )
        )
        assert created is not None and created.id
        sdk.sandbox.clock.advance(5)  # past the replication delay of the create
        await g.groups.by_group_id(str(sales.id)).patch(Group(description="Sales team"))
        await g.groups.by_group_id(created.id).delete()
        return {"listed": listed, "by_nick": by_nick, "sales": sales, "created": created}

    got = sdk.run(CONTOSO, call)
    for value in got.values():
        clean(value)
    assert {grp.mail_nickname for grp in got["listed"].value} >= {"sales", "phoenix"}
    assert got["sales"].security_enabled is True


def test_members_list_add_and_remove_by_ref(sdk: Sdk) -> None:
    tenant = sdk.sandbox.world.tenants[CONTOSO]
    sales = next(g.id for g in tenant.groups.values() if g.mail_nickname == "sales")
    bob = tenant.user_by_upn("bob@contoso.com")
    alice = tenant.user_by_upn("alice@contoso.com")
    assert bob is not None and alice is not None
    base = sdk.sandbox.endpoints["graph"]

    async def call(g: GraphServiceClient) -> tuple[Any, Any]:
        members = g.groups.by_group_id(sales).members
        query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters
        before = await members.get(_query(query, select=MEMBER_SELECT.split(","), top=999))
        await members.ref.post(ReferenceCreate(odata_id=f"{base}/v1.0/directoryObjects/{bob.id}"))
        try:
            await members.ref.post(
                ReferenceCreate(odata_id=f"{base}/v1.0/directoryObjects/{bob.id}")
            )
        except ODataError as error:  # already a member: 400, not 409
            assert error.response_status_code == 400
            refused(error, "Request_BadRequest")
        else:
            raise AssertionError("a second add of the same member was accepted")
        await members.by_directory_object_id(alice.id).ref.delete()
        return before, await members.get(_query(query, select=MEMBER_SELECT.split(",")))

    before, after = sdk.run(CONTOSO, call)
    clean(before)
    clean(after)
    assert all(isinstance(m, User) for m in after.value)
    assert {m.user_principal_name for m in after.value} == {"bob@contoso.com", "eve@contoso.com"}


# --- consent and directory roles ----------------------------------------------------------------


def test_service_principals_by_app_id_and_their_app_role_assignments(sdk: Sdk) -> None:
    app_id = sdk.sandbox.world.partner.app.client_id
    query = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters

    async def call(g: GraphServiceClient) -> dict[str, Any]:
        mine = await g.service_principals.get(_query(query, filter=f"appId eq '{app_id}'"))
        assert mine is not None and mine.value
        resources = {
            key: await g.service_principals.get(
                _query(query, filter=f"appId eq '{rid}'", select=["id", "appId", "appRoles"])
            )
            for key, rid in (("graph", GRAPH_APP_ID), ("exchange", EXCHANGE_APP_ID))
        }
        granted = await g.service_principals.by_service_principal_id(
            str(mine.value[0].id)
        ).app_role_assignments.get()
        return {"mine": mine, **resources, "granted": granted}

    got = sdk.run(CONTOSO, call)
    for value in got.values():
        clean(value)
    sp = got["mine"].value[0]
    assert sp.service_principal_names == [app_id]
    assert got["graph"].value[0].app_roles
    assert {str(a.principal_id) for a in got["granted"].value} == {str(sp.id)}


def test_directory_role_assignments_read_and_create(sdk: Sdk) -> None:
    tenant = sdk.sandbox.world.tenants[CONTOSO]
    sp = tenant.sp_by_app_id(sdk.sandbox.world.partner.app.client_id)
    assert sp is not None
    query = RoleAssignmentsRequestBuilder.RoleAssignmentsRequestBuilderGetQueryParameters
    body = UnifiedRoleAssignment(
        role_definition_id="fdd7a751-b60b-444a-984c-02652fe8fa1c",  # Groups Administrator
        principal_id=sp.id,
        directory_scope_id="/",
    )

    async def read(g: GraphServiceClient) -> Any:
        return await g.role_management.directory.role_assignments.get(
            _query(query, filter=f"principalId eq '{sp.id}'")
        )

    async def create(g: GraphServiceClient) -> Any:
        return await g.role_management.directory.role_assignments.post(body)

    held = sdk.run(CONTOSO, read)
    clean(held)
    assert {a.role_definition_id for a in held.value} >= {"29232cdf-9323-42fd-ade2-1d097af3e4de"}
    with pytest.raises(ODataError) as denied:  # needs RoleManagement.ReadWrite.Directory
        sdk.run(CONTOSO, create)
    refused(denied.value, "Authorization_RequestDenied")
    grant_app_roles(tenant, sp, ["RoleManagement.ReadWrite.Directory"], 0)
    created = sdk.run(CONTOSO, create)
    clean(created)
    assert created.role_definition_id == body.role_definition_id


# --- the tenant -------------------------------------------------------------------------------


def test_organization_and_subscribed_skus(sdk: Sdk) -> None:
    async def call(g: GraphServiceClient) -> tuple[Any, Any, Any]:
        org = await g.organization.get(
            _query(
                OrganizationRequestBuilder.OrganizationRequestBuilderGetQueryParameters,
                select=["id", "displayName", "verifiedDomains"],
            )
        )
        full = await g.organization.get()
        skus = await g.subscribed_skus.get(
            _query(
                SubscribedSkusRequestBuilder.SubscribedSkusRequestBuilderGetQueryParameters,
                select=SKU_SELECT,
            )
        )
        return org, full, skus

    org, full, skus = sdk.run(CONTOSO, call)
    for value in (org, full, skus):
        clean(value)
    assert {d.name for d in org.value[0].verified_domains} == {
        "contoso.onmicrosoft.com",
        "contoso.com",
    }
    assert full.value[0].created_date_time is not None
    assert {s.sku_part_number for s in skus.value} == {"SPE_E3", "POWER_BI_PRO"}
    e3 = next(s for s in skus.value if s.sku_part_number == "SPE_E3")
    assert e3.prepaid_units.enabled == 25 and e3.consumed_units == 20


def test_full_subscribed_skus_carry_their_service_plans(sdk: Sdk) -> None:
    async def call(g: GraphServiceClient) -> Any:
        return await g.subscribed_skus.get()

    skus = sdk.run(CONTOSO, call)
    clean(skus)
    assert all(s.service_plans and s.subscription_ids for s in skus.value)


# --- security reports ---------------------------------------------------------------------------


def test_mfa_registration_report_and_risky_users(sdk: Sdk) -> None:
    query = UserRegistrationDetailsRequestBuilder.UserRegistrationDetailsRequestBuilderGetQueryParameters

    async def call(g: GraphServiceClient) -> tuple[Any, Any]:
        report = await g.reports.authentication_methods.user_registration_details.get(
            _query(query, top=999)
        )
        risky = await g.identity_protection.risky_users.get()
        return report, risky

    report, risky = sdk.run(CONTOSO, call)
    clean(report)
    clean(risky)
    bob = next(r for r in report.value if r.user_principal_name == "bob@contoso.com")
    assert bob.is_mfa_registered is False
    assert bob.is_system_preferred_authentication_method_enabled is not None
    assert [(r.user_principal_name, r.risk_level.value) for r in risky.value] == [
        ("bob@contoso.com", "medium")
    ]


def test_the_report_without_a_licence_is_odata_error_with_the_licence_code(sdk: Sdk) -> None:
    woodgrove = "7c6b5a4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d"

    async def call(g: GraphServiceClient) -> Any:
        return await g.reports.authentication_methods.user_registration_details.get()

    with pytest.raises(ODataError) as caught:
        sdk.run(woodgrove, call)
    assert caught.value.response_status_code == 403
    refused(caught.value, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")


# --- GDAP (partner tenant) ---------------------------------------------------------------------


def test_gdap_customers_and_relationships(sdk: Sdk) -> None:
    async def call(g: GraphServiceClient) -> tuple[Any, Any]:
        relations = g.tenant_relationships
        return (
            await relations.delegated_admin_customers.get(),
            await relations.delegated_admin_relationships.get(),
        )

    customers, relationships = sdk.run(PARTNER, call)
    clean(customers)
    clean(relationships)
    contoso = next(r for r in relationships.value if r.customer.tenant_id == CONTOSO)
    assert contoso.status.value == "active"
    assert contoso.access_details.unified_roles


# --- $batch ----------------------------------------------------------------------------------


class _RelativeItem(BatchRequestItem):  # type: ignore[misc]
    """A batch item as Graph takes it: ``dependsOn`` (the SDK writes ``depends_on``)."""

    def serialize(self, writer: SerializationWriter) -> None:
        writer.write_str_value("id", self.id)
        writer.write_str_value("method", self.method)
        writer.write_str_value("url", self.url)
        if self.depends_on:
            writer.write_collection_of_primitive_values("dependsOn", self.depends_on)


def _relative_batch(
    g: GraphServiceClient, items: Iterable[tuple[str, RequestInformation, list[str]]]
) -> Any:
    content = BatchRequestContent()
    for item_id, info, depends_on in items:
        item = _RelativeItem(info, id=item_id, depends_on=depends_on)
        # The SDK keeps the absolute URL (its set_url strips the version with a pattern that
        # never matches): Graph wants it relative to the version.
        item.url = info.url.removeprefix(g.request_adapter.base_url)
        content.add_request(item_id, item)
    return content


def _get(g: GraphServiceClient, path: str) -> RequestInformation:
    info = RequestInformation(Method.GET, f"{g.request_adapter.base_url}{path}")
    return info


def test_batch_with_a_failed_dependency_and_a_throttled_item(sdk: Sdk) -> None:
    sdk.sandbox.clock.freeze()
    sdk.sandbox.throttle.configure(CONTOSO, units=2, window_seconds=10)  # items cost 1 each

    async def call(g: GraphServiceClient) -> bytes:
        items = [
            ("1", _get(g, "/users/nobody@contoso.com"), []),
            ("2", _get(g, "/users/alice@contoso.com"), ["1"]),
            ("3", _get(g, "/users?$select=id&$top=2"), []),
            ("4", _get(g, "/users?$select=id&$top=2"), []),
            ("5", _get(g, "/users?$select=id&$top=2"), []),
        ]
        builder = BatchRequestBuilder(g.request_adapter)
        info = await builder.to_post_request_information(_relative_batch(g, items))
        raw = await g.request_adapter.send_primitive_async(info, "bytes", {})
        assert isinstance(raw, bytes)
        return raw

    raw = sdk.run(CONTOSO, call)
    # The SDK's own model of the answer for statuses and headers; the item bodies from the
    # JSON itself, because its BatchResponseItem reads a JSON body as base64 bytes.
    answer = _parse(raw, BatchResponseContent)
    statuses = answer.get_response_status_codes()
    assert statuses["1"] == 404 and statuses["2"] == 424
    assert sorted(statuses[i] for i in ("3", "4", "5")) == [200, 429, 429]
    throttled = next(i for i in ("3", "4", "5") if statuses[i] == 429)
    item = answer.get_response_by_id(throttled)
    assert item is not None and item.headers is not None
    assert int({k.lower(): v for k, v in item.headers.items()}["retry-after"]) >= 1
    bodies = {r["id"]: r.get("body") for r in json.loads(raw)["responses"]}
    ok = next(i for i in ("3", "4", "5") if statuses[i] == 200)
    users = _parse(json.dumps(bodies[ok]).encode(), UserCollectionResponse)
    clean(users)
    assert len(users.value) == 2
    missing = _parse(json.dumps(bodies["1"]).encode(), ODataError)
    assert missing.error is not None and missing.error.code == "Request_ResourceNotFound"


T = TypeVar("T", bound=Parsable)


def _parse(raw: bytes, model: type[T]) -> T:
    node = JsonParseNodeFactory().get_root_parse_node("application/json", raw)
    parsed = node.get_object_value(model)
    assert parsed is not None
    return parsed


def test_a_batch_item_with_an_absolute_url_is_refused(sdk: Sdk) -> None:
    """What the SDK sends by itself; Graph takes relative item URLs only."""

    async def call(g: GraphServiceClient) -> Any:
        content = BatchRequestContent()
        content.add_request("1", BatchRequestItem(_get(g, "/users/alice@contoso.com"), id="1"))
        return await BatchRequestBuilder(g.request_adapter).post(content)

    answer = sdk.run(CONTOSO, call)
    assert answer.get_response_status_codes() == {"1": 400}

"""Microsoft Graph (v1.0) for one tenant: what observe reads and apply writes.

Paths are built by :class:`GraphUrls` (pure), so observe can hand the same relative URLs to
:meth:`GraphClient.read_many`, which reads many of them in as few round trips as ``$batch``
allows. Every failure is a typed error from :mod:`controller.errors`; a failed read is never
an empty list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from controller.connectors._endpoints import GRAPH_PAGE_SIZE
from controller.connectors._http import HttpCore, Route
from controller.connectors._messages import BatchRequest, ServiceResponse
from controller.connectors._translate import graph_error
from controller.errors import BadRequest, Conflict, NotFound, ServiceError

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
EXCHANGE_ADMINISTRATOR = "29232cdf-9323-42fd-ade2-1d097af3e4de"

USER_SELECT = "id,userPrincipalName,displayName,accountEnabled,usageLocation,assignedLicenses,mail"
GROUP_SELECT = "id,displayName,mailNickname,mailEnabled,securityEnabled,groupTypes,mail"
MEMBER_SELECT = "id,userPrincipalName,mail"
PAGE_SIZE = GRAPH_PAGE_SIZE  # the cloud's own comes from ServiceEndpoints.graph_page_size
# The GDAP lists' largest page ("$top supports up to 300 objects",
# api-reference/v1.0/api/tenantrelationship-list-delegatedadminrelationships.md): without it
# the service's default page made a 200-customer partner two round trips, on the way of
# every run before any tenant is observed.
GDAP_PAGE_SIZE = 300

ReadResult = list[dict[str, Any]] | dict[str, Any] | ServiceError


_SAFE = "$,'()=/@"


def _url(path: str, params: Mapping[str, str] | None = None) -> str:
    if not params:
        return path
    return f"{path}?{urlencode(params, quote_via=quote, safe=_SAFE)}"


def _literal(value: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


class GraphUrls:
    """Relative Graph URLs (to ``/v1.0``), for :meth:`GraphClient.read_many` and the methods."""

    @staticmethod
    def organization() -> str:
        return _url("/organization", {"$select": "id,displayName,verifiedDomains"})

    @staticmethod
    def users(select: str = USER_SELECT, top: int = PAGE_SIZE) -> str:
        return _url("/users", {"$select": select, "$top": str(top)})

    @staticmethod
    def user(id_or_upn: str, select: str | None = None) -> str:
        return _url(f"/users/{quote(id_or_upn, safe='@')}", {"$select": select} if select else None)

    @staticmethod
    def user_by_upn(upn: str, select: str = USER_SELECT) -> str:
        return _url(
            "/users", {"$filter": f"userPrincipalName eq {_literal(upn)}", "$select": select}
        )

    @staticmethod
    def subscribed_skus() -> str:
        return _url(
            "/subscribedSkus",
            {"$select": "skuId,skuPartNumber,consumedUnits,prepaidUnits,capabilityStatus"},
        )

    @staticmethod
    def groups(select: str = GROUP_SELECT, top: int = PAGE_SIZE) -> str:
        return _url("/groups", {"$select": select, "$top": str(top)})

    @staticmethod
    def group_by_nickname(mail_nickname: str, select: str = GROUP_SELECT) -> str:
        return _url(
            "/groups", {"$filter": f"mailNickname eq {_literal(mail_nickname)}", "$select": select}
        )

    @staticmethod
    def group_members(group_id: str, select: str = MEMBER_SELECT, top: int = PAGE_SIZE) -> str:
        return _url(f"/groups/{group_id}/members", {"$select": select, "$top": str(top)})

    @staticmethod
    def service_principal_by_app_id(app_id: str, select: str | None = None) -> str:
        params = {"$filter": f"appId eq {_literal(app_id)}"}
        if select:
            params["$select"] = select
        return _url("/servicePrincipals", params)

    @staticmethod
    def application_by_app_id(app_id: str) -> str:
        # No $select: selecting keyCredentials returns every certificate's public key (and
        # is throttled to 150 requests a minute per tenant); without it ``key`` is null.
        return _url(f"/applications(appId={_literal(app_id)})")

    @staticmethod
    def app_role_assignments(service_principal_id: str) -> str:
        return _url(f"/servicePrincipals/{service_principal_id}/appRoleAssignments")

    @staticmethod
    def directory_role_assignments(principal_id: str) -> str:
        return _url(
            "/roleManagement/directory/roleAssignments",
            {"$filter": f"principalId eq {_literal(principal_id)}"},
        )

    @staticmethod
    def registration_details(top: int = PAGE_SIZE) -> str:
        # One row per user: without $top the report comes 100 rows a page, so a 500-user
        # tenant took four more round trips than its users list did ($top is supported on
        # this list, as Get-MgReportAuthenticationMethodUserRegistrationDetail -Top shows).
        return _url("/reports/authenticationMethods/userRegistrationDetails", {"$top": str(top)})

    @staticmethod
    def risky_users() -> str:
        return _url("/identityProtection/riskyUsers")

    @staticmethod
    def gdap_customers() -> str:
        return _url("/tenantRelationships/delegatedAdminCustomers", {"$top": str(GDAP_PAGE_SIZE)})

    @staticmethod
    def gdap_relationships() -> str:
        return _url(
            "/tenantRelationships/delegatedAdminRelationships", {"$top": str(GDAP_PAGE_SIZE)}
        )


class GraphClient:
    """Graph for one tenant. Build it with :meth:`Connections.graph`."""

    urls = GraphUrls

    def __init__(
        self, core: HttpCore, route: Route, *, graph_base: str, page_size: int = PAGE_SIZE
    ) -> None:
        self._core = core
        self.route = route
        self.tenant_id = route.tenant
        self._graph_base = graph_base.rstrip("/")
        #: ``$top`` for users, groups and members: the cloud's limit (500 in China).
        self.page_size = page_size

    # -- generic --------------------------------------------------------------------------

    async def get(self, url: str, *, expect_new: bool = False) -> dict[str, Any]:
        response = await self._core.request(self.route, "GET", url, expect_new=expect_new)
        return _object(response)

    async def collect(
        self, url: str, *, headers: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        return await self._core.paginate(self.route, url, headers=headers)

    async def find(self, url: str) -> dict[str, Any] | None:
        """GET that answers None on 404 (and only on 404)."""
        try:
            return await self.get(url)
        except NotFound:
            return None

    async def read_many(self, urls: Mapping[str, str]) -> dict[str, ReadResult]:
        """GET many relative URLs through ``$batch`` (20 per round trip, chunks concurrent),
        following each one's ``@odata.nextLink`` (also batched). Per key: every item of a
        collection, the object itself, or the typed error of that key alone."""
        results: dict[str, ReadResult] = {}
        collected: dict[str, list[dict[str, Any]]] = {}
        pending: dict[str, str] = dict(urls)
        while pending:
            keys = list(pending)
            requests = [
                BatchRequest(id=str(n), method="GET", url=pending[key])
                for n, key in enumerate(keys)
            ]
            answers = await self._core.batch(self.route, requests)
            following: dict[str, str] = {}
            for n, key in enumerate(keys):
                answer = answers[str(n)]
                if isinstance(answer, ServiceError):
                    results[key] = answer
                    collected.pop(key, None)
                    continue
                if not answer.ok:
                    results[key] = graph_error(
                        answer.status, answer.headers, answer.body, tenant=self.tenant_id
                    )
                    collected.pop(key, None)
                    continue
                body = answer.body if isinstance(answer.body, dict) else {}
                values = body.get("value")
                if not isinstance(values, list):
                    results[key] = body
                    continue
                collected.setdefault(key, []).extend(values)
                link = body.get("@odata.nextLink")
                if isinstance(link, str) and link:
                    relative = self._relative(link)
                    if relative is not None:
                        following[key] = relative
                        continue
                    # A link elsewhere than this Graph: follow it outside the batch.
                    try:
                        rest = await self._core.paginate(self.route, link)
                    except ServiceError as error:
                        results[key] = error
                        collected.pop(key, None)
                        continue
                    collected[key].extend(rest)
                results[key] = collected.pop(key)
            pending = following
        return {key: results[key] for key in urls}

    def _relative(self, link: str) -> str | None:
        base = self.route.base_url.rstrip("/")
        return link[len(base) :] if link.startswith(base + "/") else None

    # -- tenant ---------------------------------------------------------------------------

    async def organization(self) -> dict[str, Any]:
        items = await self.collect(GraphUrls.organization())
        if not items:
            raise NotFound("no organization object", service="graph", tenant=self.tenant_id)
        return items[0]

    async def verified_domains(self) -> list[str]:
        org = await self.organization()
        return [d["name"] for d in org.get("verifiedDomains") or [] if d.get("name")]

    # -- consent and roles ----------------------------------------------------------------

    async def service_principal(self, app_id: str) -> dict[str, Any] | None:
        """The service principal of ``app_id`` in this tenant, or None (consent missing)."""
        items = await self.collect(GraphUrls.service_principal_by_app_id(app_id))
        return items[0] if items else None

    async def application(self, app_id: str) -> dict[str, Any]:
        """The app registration of ``app_id`` (in its home tenant): its credentials' dates.
        Needs Application.Read.All (or Directory.Read.All) in that tenant."""
        return await self.get(GraphUrls.application_by_app_id(app_id))

    async def app_role_assignments(self, service_principal_id: str) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.app_role_assignments(service_principal_id))

    async def resource_app_roles(self, resource_app_id: str = GRAPH_APP_ID) -> dict[str, str]:
        """Application permission name -> app role id of a resource (Graph by default, or
        :data:`EXCHANGE_APP_ID`)."""
        items = await self.collect(
            GraphUrls.service_principal_by_app_id(resource_app_id, select="id,appId,appRoles")
        )
        if not items:
            raise NotFound(
                f"resource {resource_app_id} has no service principal",
                service="graph",
                tenant=self.tenant_id,
            )
        return app_role_ids(items[0])

    async def directory_role_assignments(self, principal_id: str) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.directory_role_assignments(principal_id))

    async def assign_directory_role(
        self, principal_id: str, role_definition_id: str, directory_scope_id: str = "/"
    ) -> dict[str, Any]:
        """Needs RoleManagement.ReadWrite.Directory (not granted by default: 403 otherwise)."""

        async def existing() -> dict[str, Any] | None:
            for item in await self.directory_role_assignments(principal_id):
                if item.get("roleDefinitionId") == role_definition_id:
                    return item
            return None

        response = await self._core.request(
            self.route,
            "POST",
            "/roleManagement/directory/roleAssignments",
            json={
                "roleDefinitionId": role_definition_id,
                "principalId": principal_id,
                "directoryScopeId": directory_scope_id,
            },
            lookup=existing,
        )
        return _object(response)

    # -- users ----------------------------------------------------------------------------

    async def list_users(self, select: str = USER_SELECT) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.users(select, self.page_size))

    async def get_user(
        self, id_or_upn: str, *, select: str | None = None, expect_new: bool = False
    ) -> dict[str, Any]:
        return await self.get(GraphUrls.user(id_or_upn, select), expect_new=expect_new)

    async def find_user(self, upn: str) -> dict[str, Any] | None:
        items = await self.collect(GraphUrls.user_by_upn(upn))
        return items[0] if items else None

    async def create_user(self, user: Mapping[str, Any]) -> dict[str, Any]:
        """POST /users. If the answer is lost, the user is looked up by UPN before any repeat."""
        upn = str(user["userPrincipalName"])
        response = await self._core.request(
            self.route, "POST", "/users", json=dict(user), lookup=lambda: self.find_user(upn)
        )
        return _object(response)

    async def update_user(self, user_id: str, changes: Mapping[str, Any]) -> None:
        await self._core.request(self.route, "PATCH", f"/users/{user_id}", json=dict(changes))

    async def reset_password(
        self, user_id: str, password: str, *, force_change_next_sign_in: bool = True
    ) -> None:
        """PATCH passwordProfile (needs User-PasswordProfile.ReadWrite.All). The password is
        never logged: bodies are not logged, and errors carry no payload."""
        await self.update_user(
            user_id,
            {
                "passwordProfile": {
                    "password": password,
                    "forceChangePasswordNextSignIn": force_change_next_sign_in,
                }
            },
        )

    async def delete_user(self, user_id: str) -> None:
        """Soft delete: restorable for 30 days with :meth:`restore_deleted`."""
        await self._core.request(self.route, "DELETE", f"/users/{user_id}")

    async def restore_deleted(self, object_id: str) -> dict[str, Any]:
        response = await self._core.request(
            self.route,
            "POST",
            f"/directory/deletedItems/{object_id}/restore",
            lookup=lambda: self.find(f"/directoryObjects/{object_id}"),
        )
        return _object(response)

    async def assign_license(
        self,
        user_id: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Add and remove licences by skuId. Needs ``usageLocation`` set first. Repeating
        it is harmless, so it is retried like a PUT."""
        response = await self._core.request(
            self.route,
            "POST",
            f"/users/{user_id}/assignLicense",
            json={
                "addLicenses": [{"skuId": sku, "disabledPlans": []} for sku in add],
                "removeLicenses": list(remove),
            },
            idempotent=True,
        )
        return _object(response)

    async def subscribed_skus(self) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.subscribed_skus())

    # -- groups ---------------------------------------------------------------------------

    async def list_groups(self, select: str = GROUP_SELECT) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.groups(select, self.page_size))

    async def find_groups(self, mail_nickname: str) -> list[dict[str, Any]]:
        """Every group with this mailNickname (Graph does not keep it unique: more than one
        is an ambiguity for the caller to report, never to guess)."""
        return await self.collect(GraphUrls.group_by_nickname(mail_nickname))

    async def get_group(self, group_id: str, *, expect_new: bool = False) -> dict[str, Any]:
        return await self.get(
            _url(f"/groups/{group_id}", {"$select": GROUP_SELECT}), expect_new=expect_new
        )

    async def create_group(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """POST /groups; a lost answer is checked by mailNickname before any repeat."""
        nickname = str(group["mailNickname"])

        async def existing() -> dict[str, Any] | None:
            found = await self.find_groups(nickname)
            if len(found) > 1:
                raise Conflict(
                    f"{len(found)} groups have mailNickname {nickname!r}",
                    service="graph",
                    tenant=self.tenant_id,
                )
            return found[0] if found else None

        response = await self._core.request(
            self.route, "POST", "/groups", json=dict(group), lookup=existing
        )
        return _object(response)

    async def update_group(self, group_id: str, changes: Mapping[str, Any]) -> None:
        await self._core.request(self.route, "PATCH", f"/groups/{group_id}", json=dict(changes))

    async def delete_group(self, group_id: str) -> None:
        await self._core.request(self.route, "DELETE", f"/groups/{group_id}")

    async def list_members(self, group_id: str) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.group_members(group_id, top=self.page_size))

    async def add_member(self, group_id: str, member_id: str) -> None:
        """Raises :class:`Conflict` when already a member. Graph answers 400 (not 409) then,
        with the generic code ``Request_BadRequest`` and "One or more added object references
        already exist": the message is the only tell, so it is read here and only here."""

        async def already_member() -> dict[str, Any] | None:
            for member in await self.list_members(group_id):
                if str(member.get("id") or "").lower() == member_id.lower():
                    return member
            return None

        try:
            # Not repeated blindly: after a lost answer the repeat would say "already a
            # member" (Conflict) about the add that this very call made. The membership is
            # read first; if it is there, the add ran.
            await self._core.request(
                self.route,
                "POST",
                f"/groups/{group_id}/members/$ref",
                json={"@odata.id": f"{self._graph_base}/v1.0/directoryObjects/{member_id}"},
                lookup=already_member,
            )
        except BadRequest as error:
            if "already exist" in error.message.lower():
                raise Conflict(
                    error.message,
                    service="graph",
                    tenant=self.tenant_id,
                    status=error.status,
                    code=error.code,
                    request_id=error.request_id,
                ) from None
            raise

    async def remove_member(self, group_id: str, member_id: str) -> None:
        # Always with /$ref: DELETE /groups/{id}/members/{memberId} without it deletes the
        # member object itself (API-NOTES.md).
        await self._core.request(
            self.route, "DELETE", f"/groups/{group_id}/members/{member_id}/$ref"
        )

    # -- open extensions (the one-shot action ledger) -------------------------------------

    async def get_extension(self, user_id: str, name: str) -> dict[str, Any] | None:
        return await self.find(f"/users/{user_id}/extensions/{name}")

    async def create_extension(
        self, user_id: str, name: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        response = await self._core.request(
            self.route,
            "POST",
            f"/users/{user_id}/extensions",
            json={
                "@odata.type": "microsoft.graph.openTypeExtension",
                "extensionName": name,
                **data,
            },
            lookup=lambda: self.get_extension(user_id, name),
        )
        return _object(response)

    async def update_extension(self, user_id: str, name: str, data: Mapping[str, Any]) -> None:
        await self._core.request(
            self.route,
            "PATCH",
            f"/users/{user_id}/extensions/{name}",
            json={"@odata.type": "microsoft.graph.openTypeExtension", **data},
        )

    # -- security -------------------------------------------------------------------------

    async def registration_details(self) -> list[dict[str, Any]]:
        """MFA registration per user (AuditLog.Read.All, and no other permission). Without
        Entra ID P1/P2: :class:`PermissionDenied` with code ``LICENCE_REQUIRED`` (see
        ``is_licence_required``); without the permission: ``Authorization_RequestDenied``."""
        return await self.collect(GraphUrls.registration_details(self.page_size))

    async def risky_users(self) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.risky_users())

    # -- GDAP (partner tenant) ------------------------------------------------------------

    async def gdap_customers(self) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.gdap_customers())

    async def gdap_relationships(self) -> list[dict[str, Any]]:
        return await self.collect(GraphUrls.gdap_relationships())


def app_role_ids(resource_service_principal: Mapping[str, Any]) -> dict[str, str]:
    """Application permission name -> app role id, from a resource's service principal."""
    roles: dict[str, str] = {}
    for role in resource_service_principal.get("appRoles") or []:
        if "Application" in (role.get("allowedMemberTypes") or []) and role.get("value"):
            roles[str(role["value"])] = str(role["id"])
    return roles


def _object(response: ServiceResponse) -> dict[str, Any]:
    return response.body if isinstance(response.body, dict) else {}

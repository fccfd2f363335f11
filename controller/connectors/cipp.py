"""The MSP's CIPP instance (``{baseUrl}/api/{Endpoint}``), token for ``api://{clientId}``.

Lists answer a bare JSON array. Several change endpoints answer 200 even when an item failed,
with free-text results whose wording changes between CIPP versions (API-NOTES.md). So every
write here is judged by reading the result back, not by the words: the parsed results only
explain a write that the read-back does not show. A write not confirmed raises
:class:`PropagationPending` when CIPP said nothing definite, or :class:`ServiceFault` carrying
CIPP's own failure text when it said the item failed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from controller.connectors._cipp_results import (
    CippResult,
    PasswordReset,
    parse_results,
    permissions_by_user,
    redact_results,
)
from controller.connectors._http import HttpCore, Route
from controller.errors import PropagationPending, ServiceFault, Transient
from controller.redaction import remember

log = logging.getLogger("tenantctl.cipp")

#: Read-backs at least, before a write not seen is reported as not confirmed. Reading back
#: goes on (with backoff) for the replication budget of the HTTP core: an object CIPP just
#: created through Graph or Exchange is missing from lists for seconds to a minute
#: (API-NOTES.md, "Replication delay").
CONFIRM_ATTEMPTS = 3


class CippClient:
    """Build it with :meth:`Connections.cipp`."""

    def __init__(self, core: HttpCore, route: Route) -> None:
        self._core = core
        self.route = route

    def _for(self, tenant: str | None) -> Route:
        # Accounting and the concurrency bound are per customer tenant, like the others.
        if tenant is None:
            return self.route
        return Route("cipp", tenant, self.route.base_url, self.route.token)

    async def _list(self, endpoint: str, tenant: str | None = None, **query: str) -> Any:
        params = {"tenantFilter": tenant, **query} if tenant else dict(query)
        response = await self._core.request(self._for(tenant), "GET", endpoint, params=params)
        return response.body

    async def _rows(
        self, endpoint: str, tenant: str | None = None, **query: str
    ) -> list[dict[str, Any]]:
        body = await self._list(endpoint, tenant, **query)
        if isinstance(body, dict) and isinstance(body.get("Results"), list):
            body = body["Results"]
        if not isinstance(body, list):
            raise ServiceFault(
                f"{endpoint}: expected a list, got {type(body).__name__}",
                service="cipp",
                tenant=tenant,
            )
        return [row for row in body if isinstance(row, dict)]

    async def _change(
        self,
        endpoint: str,
        body: Mapping[str, Any],
        *,
        tenant: str,
        idempotent: bool = False,
    ) -> list[CippResult]:
        response = await self._core.request(
            self._for(tenant), "POST", endpoint, json=dict(body), idempotent=idempotent
        )
        results = parse_results(response.body)
        log.info(
            "%s: %s",
            endpoint,
            "; ".join(f"{r.outcome}: {r.text[:120]}" for r in redact_results(results)),
            extra={"service": "cipp", "tenant": tenant},
        )
        return results

    async def _create(
        self,
        endpoint: str,
        body: Mapping[str, Any],
        *,
        tenant: str,
        find: Callable[[str, str], Awaitable[dict[str, Any] | None]],
        address: str,
    ) -> list[CippResult]:
        """A create, sent once and confirmed by ``find`` finding the new object at
        ``address``. It is never sent twice: a CIPP endpoint runs the create and may answer
        unclearly after it ran (a 5xx of the Functions host, a dropped connection), and a
        second send would make a second object. After an unclear answer reading back decides;
        if the object does not appear, the unclear error stands (the next run plans the create
        again). A failure CIPP states (``AddGroup`` 500, ``AddSharedMailbox`` 403) is raised by
        the HTTP core as it is (``_retry.by_cipp_body``)."""

        async def check() -> list[str]:
            return [] if await find(tenant, address) is not None else [address]

        what = f"{endpoint} {address}"
        try:
            results = await self._change(endpoint, body, tenant=tenant)
        except Transient as unclear:
            try:
                await self._confirm(what, tenant, check, [])
            except PropagationPending:
                raise unclear from None
            return [CippResult("found by read-back after an unclear answer", "success")]
        await self._confirm(what, tenant, check, results)
        return results

    async def _confirm(
        self,
        what: str,
        tenant: str,
        check: Callable[[], Awaitable[list[str]]],
        results: Sequence[CippResult],
    ) -> None:
        """Read back until ``check`` reports nothing missing, for at least
        ``CONFIRM_ATTEMPTS`` reads and the replication budget; else raise."""
        missing: list[str] = []
        budget = self._core.retry.replication_budget
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            missing = await check()
            if not missing:
                return
            if any(r.outcome in ("failure", "not-visible") for r in results):
                break  # CIPP said it did not do it and the read-back agrees: no point waiting
            if attempt >= CONFIRM_ATTEMPTS and waited >= budget:
                break
            pause = self._core.backoff(attempt)
            await self._core.sleep(pause)
            waited += pause
        failures = [r.text for r in redact_results(results) if r.outcome == "failure"]
        if not failures and any(r.outcome == "not-visible" for r in results):
            # As the Graph path does for an object created moments ago: held, a re-run does it.
            raise PropagationPending(
                f"{what}: not done ({', '.join(missing)}): CIPP cannot see the object yet, "
                "created moments ago (replication delay); re-run later",
                service="cipp",
                tenant=tenant,
                status=200,
                delay=60.0,
            )
        if failures:
            raise ServiceFault(
                f"{what}: not done ({', '.join(missing)}): {failures[0]}",
                service="cipp",
                tenant=tenant,
                status=200,
                code=failures[0][:200],
            )
        raise PropagationPending(
            f"{what}: CIPP answered but the read-back does not show it yet ({', '.join(missing)})",
            service="cipp",
            tenant=tenant,
            status=200,
            delay=60.0,
        )

    # -- reads ----------------------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        """A cheap credentials check (``/api/me``)."""
        body = await self._list("me")
        return body if isinstance(body, dict) else {"value": body}

    async def list_tenants(self) -> list[dict[str, Any]]:
        return await self._rows("ListTenants")

    async def access_checks(self) -> list[dict[str, Any]]:
        """Per tenant ``GraphStatus``, ``ExchangeStatus``, ``MissingRoles`` (the "Exchange:
        working (cipp)" badge)."""
        return await self._rows("ExecAccessChecks", Type="Tenants")

    async def list_users(self, tenant: str) -> list[dict[str, Any]]:
        return await self._rows("ListUsers", tenant)

    async def get_user(self, tenant: str, user_id: str) -> dict[str, Any] | None:
        """One user by object id or UPN (``ListUsers?UserID=``), or None. Only a row that *is*
        that user counts: a CIPP that ignored the filter answers every user, and its first row
        must never stand in for the one asked for."""
        wanted = user_id.lower()
        for row in await self._rows("ListUsers", tenant, UserID=user_id):
            if wanted in (
                str(row.get("id") or "").lower(),
                str(row.get("userPrincipalName") or "").lower(),
            ):
                return row
        return None

    async def _object_id(self, tenant: str, user: str) -> str | None:
        """A user's (or a shared mailbox's) Entra object id, by UPN, or None."""
        found = await self.get_user(tenant, user)
        return str(found["id"]) if found and found.get("id") else None

    async def list_groups(self, tenant: str) -> list[dict[str, Any]]:
        return await self._rows("ListGroups", tenant)

    async def find_group(self, tenant: str, address: str) -> dict[str, Any] | None:
        """The group whose mail is ``address``, or None."""
        for group in await self.list_groups(tenant):
            if str(group.get("mail") or "").lower() == address.lower():
                return group
        return None

    async def find_mailbox(self, tenant: str, address: str) -> dict[str, Any] | None:
        """The mailbox whose primary SMTP address or UPN is ``address``, or None."""
        for mailbox in await self.list_mailboxes(tenant):
            names = {str(mailbox.get(k) or "").lower() for k in ("primarySmtpAddress", "UPN")}
            if address.lower() in names:
                return mailbox
        return None

    async def group_members(self, tenant: str, group_id: str) -> list[dict[str, Any]]:
        body = await self._list("ListGroups", tenant, groupID=group_id, members="true")
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list):
            raise ServiceFault(
                f"ListGroups: no members list for group {group_id}", service="cipp", tenant=tenant
            )
        return [m for m in members if isinstance(m, dict)]

    async def list_mailboxes(
        self, tenant: str, recipient_type: str = "SharedMailbox"
    ) -> list[dict[str, Any]]:
        return await self._rows("ListMailboxes", tenant, RecipientTypeDetails=recipient_type)

    async def mailbox_permissions(self, tenant: str, mailbox: str) -> list[dict[str, Any]]:
        """``[{User, Permissions}]`` for one mailbox."""
        return await self._rows("ListmailboxPermissions", tenant, userId=mailbox)

    # -- writes, each confirmed by reading back -------------------------------------------

    async def add_distribution_group(
        self,
        tenant: str,
        display_name: str,
        username: str,
        domain: str,
        *,
        members: Sequence[str] = (),
    ) -> list[CippResult]:
        return await self._create(
            "AddGroup",
            {
                "tenantFilter": tenant,
                "groupType": "distribution",
                "displayName": display_name,
                "username": username,
                "primDomain": {"value": domain},
                "members": list(members),
            },
            tenant=tenant,
            find=self.find_group,
            address=f"{username}@{domain}".lower(),
        )

    async def edit_group(
        self,
        tenant: str,
        group_id: str,
        *,
        add: Mapping[str, str] | None = None,
        remove: Mapping[str, str] | None = None,
        group_type: str | None = None,
    ) -> list[CippResult]:
        """Add and remove members; ``add``/``remove`` map member object id -> UPN.

        ``group_type`` ("Distribution List", "Mail-Enabled Security", as ListGroups names it)
        is required for those two: without it EditGroup sends the change to Graph, which
        refuses it ("Cannot Update a mail-enabled security groups and or distribution list";
        CIPP-API Invoke-EditGroup.ps1 as released until mid-2026, later releases read the
        type off the group)."""
        add, remove = dict(add or {}), dict(remove or {})
        results = await self._change(
            "EditGroup",
            {
                "tenantFilter": tenant,
                "groupId": group_id,
                **({"groupType": group_type} if group_type else {}),
                "AddMember": [
                    {"value": i, "addedFields": {"userPrincipalName": u}} for i, u in add.items()
                ],
                "RemoveMember": [
                    {"value": i, "addedFields": {"userPrincipalName": u}} for i, u in remove.items()
                ],
            },
            tenant=tenant,
            idempotent=True,  # the read-back below is the judge, so a repeat is harmless
        )

        async def check() -> list[str]:
            members = await self.group_members(tenant, group_id)
            present = {str(m.get("id") or "").lower() for m in members} | {
                str(m.get("userPrincipalName") or m.get("mail") or "").lower() for m in members
            }
            missing = [
                f"+{u}"
                for i, u in add.items()
                if i.lower() not in present and u.lower() not in present
            ]
            lingering = [
                f"-{u}" for i, u in remove.items() if i.lower() in present or u.lower() in present
            ]
            return missing + lingering

        await self._confirm(f"EditGroup {group_id}", tenant, check, results)
        return results

    async def delete_group(
        self, tenant: str, group_id: str, *, group_type: str, display_name: str
    ) -> list[CippResult]:
        """ExecGroupsDelete, confirmed by reading the group list back. ``GroupType`` picks
        CIPP's path ("Distribution List", "Mail-Enabled Security": Remove-DistributionGroup;
        "Microsoft 365", "Security": Graph); any other does nothing (CIPP-API
        Remove-CIPPGroup.ps1)."""
        results = await self._change(
            "ExecGroupsDelete",
            {
                "tenantFilter": tenant,
                "id": group_id,
                "GroupType": group_type,
                "displayName": display_name,
            },
            tenant=tenant,
            idempotent=True,
        )

        async def check() -> list[str]:
            groups = await self.list_groups(tenant)
            return [group_id] if any(str(g.get("id")) == group_id for g in groups) else []

        await self._confirm(f"delete group {display_name}", tenant, check, results)
        return results

    async def add_shared_mailbox(
        self, tenant: str, display_name: str, username: str, domain: str
    ) -> list[CippResult]:
        return await self._create(
            "AddSharedMailbox",
            # Note ``tenantID`` here, not ``tenantFilter`` (API-NOTES.md).
            {
                "tenantID": tenant,
                "displayName": display_name,
                "username": username,
                "domain": domain,
            },
            tenant=tenant,
            find=self.find_mailbox,
            address=f"{username}@{domain}".lower(),
        )

    async def edit_mailbox_permissions(
        self,
        tenant: str,
        mailbox: str,
        *,
        add_full_access: Sequence[str] = (),
        remove_full_access: Sequence[str] = (),
        add_send_as: Sequence[str] = (),
        remove_send_as: Sequence[str] = (),
        add_send_on_behalf: Sequence[str] = (),
        remove_send_on_behalf: Sequence[str] = (),
    ) -> list[CippResult]:
        changes = {
            "AddFullAccess": add_full_access,
            "RemoveFullAccess": remove_full_access,
            "AddSendAs": add_send_as,
            "RemoveSendAs": remove_send_as,
            "AddSendOnBehalf": add_send_on_behalf,
            "RemoveSendOnBehalf": remove_send_on_behalf,
        }
        body: dict[str, Any] = {"tenantFilter": tenant, "userID": mailbox}
        body.update({k: [{"value": u} for u in v] for k, v in changes.items() if v})
        results = await self._change(
            "ExecEditMailboxPermissions", body, tenant=tenant, idempotent=True
        )

        # SendOnBehalf comes back as Exchange's GrantSendOnBehalfTo, which names a delegate by
        # its recipient id or name, not its UPN (CIPP-API Invoke-ListmailboxPermissions.ps1
        # passes the values through): read back by the delegate's object id as well.
        delegates = [*changes["AddSendOnBehalf"], *changes["RemoveSendOnBehalf"]]
        ids = {user: await self._object_id(tenant, user) for user in delegates}

        async def check() -> list[str]:
            held = permissions_by_user(await self.mailbox_permissions(tenant, mailbox))

            def holds(user: str, right: str) -> bool:
                names = (user, ids.get(user) or "") if right == "SendOnBehalf" else (user,)
                return any(right.lower() in held.get(n.lower(), set()) for n in names if n)

            problems: list[str] = []
            for right in ("FullAccess", "SendAs", "SendOnBehalf"):
                problems += [f"+{right} {u}" for u in changes[f"Add{right}"] if not holds(u, right)]
                problems += [f"-{right} {u}" for u in changes[f"Remove{right}"] if holds(u, right)]
            return problems

        await self._confirm(f"ExecEditMailboxPermissions {mailbox}", tenant, check, results)
        return results

    async def set_sign_in(self, tenant: str, user_id: str, *, enabled: bool) -> list[CippResult]:
        """ExecDisableUser; confirmed by reading the user's ``accountEnabled`` back."""
        results = await self._change(
            "ExecDisableUser",
            {"tenantFilter": tenant, "ID": user_id, "Enable": enabled},
            tenant=tenant,
            idempotent=True,
        )

        async def check() -> list[str]:
            user = await self.get_user(tenant, user_id)
            state = user.get("accountEnabled") if user else None
            return [] if state is enabled else [f"accountEnabled={enabled}"]

        await self._confirm(f"ExecDisableUser {user_id}", tenant, check, results)
        return results

    async def reset_password(
        self, tenant: str, user_id: str, *, must_change: bool = True
    ) -> PasswordReset:
        """ExecResetPass. A password cannot be read back: CIPP's own result decides, and a
        result that does not say success is an error. The new password, when CIPP returns it
        (``copyField``, or "The new password is ..."), is in ``PasswordReset.password``."""
        response = await self._core.request(
            self._for(tenant),
            "POST",
            "ExecResetPass",
            json={"tenantFilter": tenant, "ID": user_id, "MustChange": must_change},
        )
        body = response.body
        password: str | None = None
        results = body.get("Results") if isinstance(body, dict) else None
        if isinstance(results, dict) and results.get("copyField"):
            password = str(results["copyField"])
        parsed = parse_results(body)
        texts: list[CippResult] = []
        for item in parsed:
            text = item.text
            marker = text.lower().find("the new password is ")
            if marker >= 0:
                password = password or text[marker + len("the new password is ") :].strip().rstrip(
                    "."
                )
                text = text[:marker] + "The new password is ***"
                remember(password)
            texts.append(CippResult(text, item.outcome))
        if not any(r.outcome == "success" for r in parsed) or any(
            r.outcome == "failure" for r in parsed
        ):
            reason = next((r.text for r in texts if r.outcome != "success"), "no result")
            raise ServiceFault(
                f"ExecResetPass {user_id}: {reason}", service="cipp", tenant=tenant, status=200
            )
        return PasswordReset(texts, password)

    async def add_multi_tenant_app(
        self,
        app_id: str,
        tenants: Sequence[tuple[str, str]] | Literal["allTenants"],
    ) -> list[CippResult]:
        """Bulk consent of the app (needs the CIPP admin role), ``tenants`` as (tenant id,
        label) pairs. Queued and asynchronous in CIPP: the result says "Deploying … see the
        logbook"; the caller re-verifies consent through Graph afterwards.

        ``CopyPermissions`` copies the permissions of the app's registration in the partner
        tenant, each on its own resource (New-CIPPApplicationCopy.ps1 reads its
        ``requiredResourceAccess``). A list of permission ids would not do: manual mode assigns
        every one against Microsoft Graph's resource (CIPP-API Invoke-ExecAddMultiTenantApp.ps1
        builds one ``ResourceAppId = '00000003-…'``), so Exchange.ManageAsApp fails in CIPP's
        background job and consent stays partial. ``tenantFilter`` is read as a list of
        ``{value, label}`` (CIPP takes ``.value``; a bare string selects no tenant)."""
        chosen = [("allTenants", "All Tenants")] if tenants == "allTenants" else list(tenants)
        response = await self._core.request(
            self.route,
            "POST",
            "ExecAddMultiTenantApp",
            json={
                "configMode": "manual",
                "CopyPermissions": True,
                "AppId": app_id,
                "tenantFilter": [{"value": value, "label": label} for value, label in chosen],
            },
            idempotent=True,
        )
        results = parse_results(response.body)
        failures = [r.text for r in redact_results(results) if r.outcome == "failure"]
        if failures:
            raise ServiceFault(
                f"ExecAddMultiTenantApp {app_id}: {failures[0]}",
                service="cipp",
                status=200,
                code=failures[0][:200],
            )
        return results

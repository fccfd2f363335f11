"""CIPP's HTTP API (``/api/<Endpoint>``) with its own API client's token from the partner
tenant, and CIPP's quirks: bare arrays for lists, ``{"Results": [...]}`` for changes, 200 even
when an item failed (EditGroup's ``Error - ...`` strings, ExecEditMailboxPermissions' free
text), and the statuses CIPP's functions pick for their failures. CIPP writes change the same
state Graph and Exchange show: it calls the same operations on the same world.

Each behaviour cites the CIPP-API file it follows (KelvinTegelaar/CIPP-API; the HTTP functions
live under ``Modules/CIPPHTTP/Public/Entrypoints/HTTP Functions/``, before April 2026 under
``Modules/CIPPCore/Public/Entrypoints/HTTP Functions/``). Failures, as CIPP answers them:

- its access check (``Test-CIPPAccess.ps1``, answered by ``New-CippCoreRequest.ps1``): 403 with
  a bare text, "Access to this CIPP API endpoint is not allowed, ..." for a role that lacks
  the endpoint, "Access to this tenant is not allowed" for a tenant not in CIPP's list;
- ``AddGroup`` and ``ExecGroupsDelete``: 500 with their "Failed…" / "Could not delete…" text;
- ``AddSharedMailbox``: 403 with "Failed to create shared mailbox. …";
- ``ListGroups``, ``ListMailboxes``, ``ListmailboxPermissions``: 403 with the error's text.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

from controller.sandbox._catalog import (
    GRAPH_APP_ROLES,
    REQUIRED_EXCHANGE_ROLES,
    REQUIRED_GRAPH_ROLES,
)
from controller.sandbox._exchange import ExchangeError, ExchangeService
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import AuthFailure, Runtime, authenticate
from controller.sandbox._world import Group, PendingConsent, Tenant, User

ROLE_ORDER = {"readonly": 0, "editor": 1, "admin": 2}


class CippRefusal(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


# What CIPP says when its own app has no consent in a tenant it lists.
_NO_TOKEN = (
    "Could not get token for {tenant}: AADSTS7000229: The client application is missing "
    "service principal in the tenant."
)


def text(status: int, words: str) -> Response:
    """A bare-text answer, as a CIPP function whose ``Body`` is a string sends it."""
    return Response(status, words.encode(), content_type="text/plain; charset=utf-8")


def refused(words: str) -> CippRefusal:
    """CIPP's access check refusing the request (``Test-CIPPAccess.ps1``): 403, bare text."""
    return CippRefusal(403, words.encode())


class CippService:
    def __init__(self, rt: Runtime, exchange: ExchangeService) -> None:
        self.rt = rt
        self.exchange = exchange
        self.endpoints: dict[str, tuple[str, Callable[[Request], Any]]] = {
            "me": ("readonly", self.me),
            "listtenants": ("readonly", self.list_tenants),
            "execaccesschecks": ("readonly", self.access_checks),
            "listusers": ("readonly", self.list_users),
            "listgroups": ("readonly", self.list_groups),
            "listmailboxes": ("readonly", self.list_mailboxes),
            "listmailboxpermissions": ("readonly", self.list_permissions),
            "addgroup": ("editor", self.add_group),
            "editgroup": ("editor", self.edit_group),
            "addsharedmailbox": ("editor", self.add_shared_mailbox),
            "execeditmailboxpermissions": ("editor", self.edit_permissions),
            "execaddmultitenantapp": ("admin", self.add_multi_tenant_app),
            "execresetpass": ("editor", self.reset_password),
            "execdisableuser": ("editor", self.disable_user),
            "execgroupsdelete": ("editor", self.delete_group),
        }

    def tenant_hint(self, request: Request) -> str | None:
        key = request.query.get("tenantFilter") or request.query.get("TenantFilter")
        if key is None and request.body:
            try:
                body = request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                key = body.get("tenantFilter") or body.get("tenantID")
        if isinstance(key, str):
            tenant = self.rt.world.tenant(key)
            return tenant.tenant_id if tenant else None
        return None

    def handle(self, request: Request) -> Response:
        if not request.path.startswith("/api/"):
            return Response(404, {"error": "Not Found"})
        try:
            claims = authenticate(self.rt, request, "cipp")
        except AuthFailure as failure:
            return Response(401, {"error": failure.message})
        if claims.get("tid") != self.rt.world.partner.tenant_id:
            return Response(401, {"error": "Token not issued by the partner tenant."})
        name = request.path[len("/api/") :].strip("/").lower()
        entry = self.endpoints.get(name)
        if entry is None:
            return Response(404, {"Results": f"Function {name} not found"})
        needed, run = entry
        roles = claims.get("roles") or []
        held = max((ROLE_ORDER.get(str(r), -1) for r in roles), default=-1)
        if held < ROLE_ORDER[needed]:
            return text(
                403,
                "Access to this CIPP API endpoint is not allowed, the "
                f"'{roles[0] if roles else 'none'}' base role does not have the required "
                f"permission: {needed}",
            )
        try:
            result = run(request)
        except CippRefusal as refusal:
            if isinstance(refusal.body, bytes):
                return text(refusal.status, refusal.body.decode())
            return Response(refusal.status, refusal.body)
        if isinstance(result, Response):
            return result
        return Response(200, result)

    # --- helpers ---------------------------------------------------------------------------

    def _param(self, request: Request, *names: str) -> Any:
        body = request.json() if request.method == "POST" and request.body else None
        for name in names:
            for source in (request.query, body if isinstance(body, dict) else {}):
                for key, value in source.items():
                    if key.lower() == name.lower():
                        return value
        return None

    def _tenant(self, request: Request, *names: str) -> Tenant:
        key = self._param(request, *(names or ("tenantFilter",)))
        if isinstance(key, dict):
            key = key.get("value")
        tenant = self.rt.world.tenant(str(key or ""))
        if tenant is None or not (tenant.cipp_manages or tenant.cipp_lost):
            # An API client with every tenant is allowed the tenants of CIPP's list, no other
            # (Test-CIPPAccess.ps1: "AllTenants" -> $Tenants.customerId).
            raise refused("Access to this tenant is not allowed")
        if tenant.cipp_lost:
            # Listed, so allowed; but CIPP gets no token there: the endpoint fails, 403.
            raise CippRefusal(403, [_NO_TOKEN.format(tenant=tenant.initial_domain)])
        return tenant

    def _now(self) -> float:
        return self.rt.clock.now()

    def _user(self, tenant: Tenant, key: Any) -> User | None:
        k = str(key or "").lower()
        user = tenant.users.get(k) or tenant.user_by_upn(k)
        return user if user is not None and user.deleted_at is None else None

    # --- reads -----------------------------------------------------------------------------

    def me(self, request: Request) -> Any:
        claims = authenticate(self.rt, request, "cipp")
        return {
            "clientPrincipal": {
                "identityProvider": "aad",
                "userId": claims.get("appid"),
                "userDetails": claims.get("appid"),
                "userRoles": ["authenticated", *list(claims.get("roles") or [])],
            }
        }

    def _listed(self) -> list[Tenant]:
        """CIPP's tenant list: its GDAP customers, reachable or not."""
        return [
            t
            for t in self.rt.world.tenants.values()
            if (t.cipp_manages or t.cipp_lost) and t.gdap is not None and t.gdap.status == "active"
        ]

    def list_tenants(self, request: Request) -> Any:
        return [
            {
                "customerId": t.tenant_id,
                "defaultDomainName": t.initial_domain,
                "displayName": t.display_name,
                "delegatedPrivilegeStatus": "granularDelegatedAdminPrivileges",
                "domains": t.domains,
                "GraphErrorCount": 1 if t.cipp_lost else 0,
                "LastGraphError": _NO_TOKEN.format(tenant=t.initial_domain) if t.cipp_lost else "",
            }
            for t in self._listed()
        ]

    def access_checks(self, request: Request) -> Any:
        """Invoke-ExecAccessChecks.ps1 ``Type=Tenants``, rows as Test-CIPPAccessTenant.ps1
        writes them: ``GraphStatus`` and ``ExchangeStatus`` are booleans, the words are in
        ``GraphTest`` and ``ExchangeTest``; ``AssignedRoles`` and ``MissingRoles`` list objects
        (``{Role, Group}``, ``{Name, Type}``)."""
        from controller.sandbox._catalog import DIRECTORY_ROLES, EXCHANGE_ADMINISTRATOR

        names = {v: k for k, v in DIRECTORY_ROLES.items()}
        rows = []
        for t in self._listed():
            roles = list(t.gdap.roles) if t.gdap else []
            graph_ok = not t.cipp_lost
            exchange_ok = graph_ok and EXCHANGE_ADMINISTRATOR in roles
            no_token = _NO_TOKEN.format(tenant=t.initial_domain)
            rows.append(
                {
                    "TenantId": t.tenant_id,
                    "TenantName": t.display_name,
                    "DefaultDomainName": t.initial_domain,
                    "TenantType": "GDAP",
                    "GraphStatus": graph_ok,
                    "GraphTest": "Successfully connected to Graph"
                    if graph_ok
                    else f"Failed to connect to Graph: {no_token}",
                    "ExchangeStatus": exchange_ok,
                    "ExchangeTest": "Successfully connected to Exchange"
                    if exchange_ok
                    else "Failed to connect to Exchange: "
                    + (
                        no_token
                        if not graph_ok
                        else "the GDAP relationship lacks Exchange Administrator"
                    ),
                    "AssignedRoles": [
                        {"Role": names.get(r, r), "Group": "M365 GDAP " + names.get(r, r)}
                        for r in roles
                    ],
                    "MissingRoles": []
                    if EXCHANGE_ADMINISTRATOR in roles
                    else [{"Name": "Exchange Administrator", "Type": "Tenant"}],
                    "LastRun": self.rt.clock.iso(),
                }
            )
        return {"Results": rows, "Metadata": {"LastRun": self.rt.clock.iso()}}

    def list_users(self, request: Request) -> Any:
        tenant = self._tenant(request)
        # CIPP's ListUsers reads ``UserID`` from the query and then answers that one user.
        wanted = self._param(request, "UserID")
        only = self._user(tenant, wanted) if wanted else None
        if wanted and only is None:
            return []
        return [
            {
                "id": u.id,
                "userPrincipalName": u.user_principal_name,
                "displayName": u.display_name,
                "givenName": u.given_name,
                "surname": u.surname,
                "jobTitle": u.job_title,
                "department": u.department,
                "accountEnabled": u.account_enabled,
                "usageLocation": u.usage_location,
                "mail": u.mail,
                "assignedLicenses": [{"skuId": s, "disabledPlans": []} for s in u.licenses],
                "LicJoined": ", ".join(
                    tenant.skus[s].sku_part_number for s in u.licenses if s in tenant.skus
                ),
            }
            for u in ([only] if only is not None else tenant.users.values())
            if u.deleted_at is None and u.visible_at <= self._now()
        ]

    @staticmethod
    def _group_type(g: Group) -> str:
        return {
            "distribution": "distributionList",
            "microsoft365": "m365",
            "security": "generic",
            "mailEnabledSecurity": "security",
        }[g.kind]

    def _group_json(self, g: Group) -> dict[str, Any]:
        return {
            "id": g.id,
            "displayName": g.display_name,
            "description": g.description,
            "mail": g.mail,
            "mailEnabled": g.kind != "security",
            "mailNickname": g.mail_nickname,
            "securityEnabled": g.kind in ("security", "mailEnabledSecurity"),
            "groupTypes": ["Unified"] if g.kind == "microsoft365" else [],
            "calculatedGroupType": self._group_type(g),
            "primDomain": (g.mail or "@").split("@")[1] or None,
        }

    def list_groups(self, request: Request) -> Any:
        tenant = self._tenant(request)
        now = self._now()
        group_id = self._param(request, "groupID")
        if group_id:
            group = tenant.groups.get(str(group_id).lower())
            if group is None or group.deleted_at is not None:
                # Invoke-ListGroups.ps1: a failure is 403 with the (normalised) error's text.
                return text(
                    403,
                    f"Resource '{group_id}' does not exist or one of its queried "
                    "reference-property objects are not present.",
                )
            members = []
            for oid in group.members:
                user = tenant.users.get(oid)
                if user is not None and user.deleted_at is None:
                    members.append(
                        {
                            "id": user.id,
                            "userPrincipalName": user.user_principal_name,
                            "displayName": user.display_name,
                            "mail": user.mail,
                        }
                    )
            return {"groupInfo": self._group_json(group), "members": members, "owners": []}
        return [
            self._group_json(g)
            for g in tenant.groups.values()
            if g.deleted_at is None and g.visible_at <= now
        ]

    def list_mailboxes(self, request: Request) -> Any:
        tenant = self._tenant(request)
        wanted = self._param(request, "RecipientTypeDetails")
        return [
            {
                "Id": u.id,
                "ExternalDirectoryObjectId": u.id,
                "UPN": u.user_principal_name,
                "displayName": u.display_name,
                "primarySmtpAddress": u.mail,
                "recipientType": "UserMailbox",
                "recipientTypeDetails": u.recipient_type,
                "AdditionalEmailAddresses": "",
            }
            for u in tenant.users.values()
            if u.deleted_at is None
            and u.recipient_type is not None
            and (not wanted or u.recipient_type == wanted)
        ]

    def list_permissions(self, request: Request) -> Any:
        """Invoke-ListmailboxPermissions.ps1 (live): Get-Mailbox, Get-MailboxPermission and
        Get-RecipientPermission of the mailbox, as ``{User, Permissions}`` rows: every
        mailbox-permission row (SELF too) with its rights joined, every trustee with its
        rights, and each GrantSendOnBehalfTo value as Exchange gives it (an id, not a UPN)."""
        tenant = self._tenant(request)
        key = str(self._param(request, "userId") or "")
        now = self._now()
        try:
            mailbox = self.exchange.get_mailbox(tenant, {"Identity": key}, now)
            held = self.exchange.get_mailbox_permission(tenant, {"Identity": key}, now)
            trustees = self.exchange.get_recipient_permission(tenant, {"Identity": key}, now)
        except ExchangeError as problem:
            # A failure is 403 with [the error's text].
            return Response(403, [problem.message])
        rows: list[dict[str, Any]] = [
            {"User": row["Trustee"], "Permissions": row["AccessRights"]} for row in trustees
        ]
        rows += [
            {"User": row["User"], "Permissions": ", ".join(row["AccessRights"])} for row in held
        ]
        rows += [
            {"User": delegate, "Permissions": "SendOnBehalf"}
            for delegate in mailbox["GrantSendOnBehalfTo"]
        ]
        return rows

    # --- writes ----------------------------------------------------------------------------

    def add_group(self, request: Request) -> Any:
        """Invoke-AddGroup.ps1 (through New-CIPPGroup.ps1): a distribution or mail-enabled
        security group through New-DistributionGroup, the others through Graph; 200
        "Successfully created group …", or 500 "Failed to create group. …" when it failed."""
        body = request.json() or {}
        tenant_key = body.get("tenantFilter")
        if isinstance(tenant_key, dict):
            tenant_key = tenant_key.get("value")
        tenant = self.rt.world.tenant(str(tenant_key or ""))
        if tenant is None or not tenant.cipp_manages:
            raise refused("Access to this tenant is not allowed")
        name = str(body.get("displayName") or "")
        username = str(body.get("username") or "")
        prim = body.get("primDomain")
        domain = prim.get("value") if isinstance(prim, dict) else (prim or tenant.default_domain)
        group_type = str(body.get("groupType") or "generic").lower()
        now = self._now()
        try:
            if "distribution" in group_type or "security" in group_type:
                params: dict[str, Any] = {
                    "Name": name,
                    "DisplayName": name,
                    "Alias": username,
                    "PrimarySmtpAddress": f"{username}@{domain}",
                    "Type": "Security" if "security" in group_type else "Distribution",
                    "Members": [
                        str(m.get("value") if isinstance(m, dict) else m)
                        for m in body.get("members") or []
                    ],
                }
                self.exchange.new_dg(tenant, params, now)
            else:
                unified = group_type in ("m365", "microsoft365", "unified")
                group = Group(
                    id=str(uuid.uuid4()),
                    display_name=name,
                    mail_nickname=username,
                    kind="microsoft365" if unified else "security",
                    mail=f"{username}@{domain}" if unified else None,
                    created_at=now,
                    visible_at=now + self.rt.world.settings.replication_delay,
                )
                tenant.groups[group.id] = group
        except ExchangeError as problem:
            raise CippRefusal(
                500,
                {
                    "Results": [
                        f"Failed to create group. {name} for {tenant.initial_domain} "
                        f"{problem.message}"
                    ]
                },
            ) from None
        return {"Results": [f"Successfully created group {name} for {tenant.initial_domain}"]}

    def edit_group(self, request: Request) -> Any:
        """Invoke-EditGroup.ps1 as released until mid-2026 (CIPP-API commit a89c2b933): the
        ``groupType`` the caller posts decides the path. "Distribution List" and
        "Mail-Enabled Security" change members through Add-/Remove-DistributionGroupMember
        (BypassSecurityGroupManagerCheck, Member = the UPN); anything else, or none, through
        Graph, which refuses a distribution list or a mail-enabled security group. Later
        releases let the group's own flags settle the type; sending it suits both. Always
        200, with "Success - " / "Error - " per member."""
        tenant = self._tenant(request)
        body = request.json() or {}
        posted = body.get("groupId")
        group_key = posted.get("value") if isinstance(posted, dict) else posted
        added = posted.get("addedFields") if isinstance(posted, dict) else None
        kind = str((added or {}).get("groupType") or body.get("groupType") or "").lower()
        group = tenant.groups.get(str(group_key or "").lower())
        if group is None or group.deleted_at is not None:
            return {"Results": [f"Error - group {group_key} not found"]}
        through_exchange = kind in ("distribution list", "mail-enabled security")
        results: list[str] = []
        for adding, entries in ((True, body.get("AddMember")), (False, body.get("RemoveMember"))):
            for entry in entries or []:
                fields = (entry.get("addedFields") if isinstance(entry, dict) else None) or {}
                value = entry.get("value") if isinstance(entry, dict) else entry
                member = str(fields.get("userPrincipalName") or value)
                verb = "Added member" if adding else "Removed member"
                done = f"Success - {verb} {member} {'to' if adding else 'from'} {group.display_name} group"
                try:
                    if through_exchange:
                        change = (
                            self.exchange.add_dg_member
                            if adding
                            else self.exchange.remove_dg_member
                        )
                        params = {
                            "Identity": group.id,
                            "Member": member,
                            "BypassSecurityGroupManagerCheck": True,
                        }
                        change(tenant, params, self._now())
                    else:
                        self._graph_membership(tenant, group, str(value), adding)
                except ExchangeError as problem:
                    results.append(f"Error - {problem.message}")
                else:
                    results.append(done)
        return {"Results": results}

    def _graph_membership(self, tenant: Tenant, group: Group, member_id: str, adding: bool) -> None:
        """EditGroup's Graph path: PATCH members@odata.bind / DELETE members/{id}/$ref."""
        if not group.graph_writable:
            raise ExchangeError(
                "Request_BadRequest",
                "Cannot Update a mail-enabled security groups and or distribution list.",
            )
        member = self._user(tenant, member_id)
        if member is None:
            raise ExchangeError(
                "Request_ResourceNotFound",
                f"Resource '{member_id}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )
        if adding and member.id in group.members:
            raise ExchangeError(
                "Request_BadRequest",
                "One or more added object references already exist for the following "
                "modified properties: 'members'.",
            )
        if not adding and member.id not in group.members:
            raise ExchangeError(
                "Request_ResourceNotFound",
                f"Resource '{member_id}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )
        if adding:
            group.members.append(member.id)
        else:
            group.members.remove(member.id)

    def delete_group(self, request: Request) -> Any:
        """Invoke-ExecGroupsDelete.ps1 (through Remove-CIPPGroup.ps1): ``GroupType`` picks the
        path: "Distribution List" and "Mail-Enabled Security" go to Remove-DistributionGroup
        (with BypassSecurityGroupManagerCheck), "Microsoft 365" and "Security" to Graph, any
        other does nothing and answers 200 with no result. A failure is 500 "Could not delete
        …"."""
        tenant = self._tenant(request)
        key = str(self._param(request, "id") or "").lower()
        kind = str(self._param(request, "GroupType") or "").lower()
        label = self._param(request, "displayName") or key
        try:
            if kind in ("distribution list", "mail-enabled security"):
                self.exchange.remove_dg(
                    tenant, {"Identity": key, "BypassSecurityGroupManagerCheck": True}, self._now()
                )
            elif kind in ("microsoft 365", "security"):
                group = tenant.groups.get(key)
                if group is None or group.deleted_at is not None or not group.graph_writable:
                    raise ExchangeError(
                        "Request_ResourceNotFound",
                        f"Resource '{key}' does not exist or one of its queried "
                        "reference-property objects are not present.",
                    )
                group.deleted_at = self._now()
            else:
                return {"Results": None}
        except ExchangeError as problem:
            raise CippRefusal(
                500, {"Results": f"Could not delete {label}. Error: {problem.message}"}
            ) from None
        return {
            "Results": f"Successfully Deleted {self._param(request, 'GroupType')} group {label}"
        }

    def add_shared_mailbox(self, request: Request) -> Any:
        """Invoke-AddSharedMailbox.ps1: New-Mailbox -Shared with Name = the username, then
        sign-in blocked; 403 "Failed to create shared mailbox. …" when it failed."""
        tenant = self._tenant(request, "tenantID")
        body = request.json() or {}
        address = f"{body.get('username')}@{body.get('domain') or tenant.default_domain}"
        try:
            self.exchange.new_mailbox(
                tenant,
                {
                    "Shared": True,
                    "Name": body.get("username"),
                    "DisplayName": body.get("displayName"),
                    "PrimarySmtpAddress": address,
                },
                self._now(),
            )
        except ExchangeError as problem:
            raise CippRefusal(
                403, {"Results": [f"Failed to create shared mailbox. {problem.message}"]}
            ) from None
        return {
            "Results": [
                f"Successfully created shared mailbox: {address}.",
                f"Blocked sign-in for shared mailbox {address}",
            ]
        }

    def edit_permissions(self, request: Request) -> Any:
        """Invoke-ExecEditMailboxPermissions.ps1 as of CIPP-API 3bbfe4435 (April 2026): the
        mailbox's id is read from Graph (``users/{userID}``), then each change runs its
        cmdlet with ``Identity`` = that id. A mailbox created moments ago is not in Graph yet
        (replication), so the id is null and every change fails with "Cannot bind argument to
        parameter 'Identity' because it is null". Always 200, a free-text result per change."""
        tenant = self._tenant(request)
        body = request.json() or {}
        key = body.get("userID") or body.get("userid")
        mailbox = self._user(tenant, key)
        if mailbox is None or mailbox.recipient_type is None:
            return {"Results": [f"Could not find mailbox {key}"]}
        identity = mailbox.id if mailbox.visible_at <= self._now() else None
        words = {
            "FullAccess": ("{u} access to {m} Mailbox with automapping", "shared mailbox"),
            "SendAs": ("{u} access to {m} with Send As permissions", "send-as"),
            "SendOnBehalf": ("{u} access to {m} with Send On Behalf Permissions", "send on behalf"),
        }
        results: list[str] = []
        for right in ("FullAccess", "SendAs", "SendOnBehalf"):
            granted, noun = words[right]
            for add, bucket in ((False, f"Remove{right}"), (True, f"Add{right}")):
                for entry in body.get(bucket) or []:
                    user = str(entry.get("value") if isinstance(entry, dict) else entry)
                    try:
                        if identity is None:
                            raise ExchangeError(
                                "System.Management.Automation.ParameterBindingValidationException",
                                "Cannot bind argument to parameter 'Identity' because it is null.",
                            )
                        self._mailbox_permission(tenant, identity, right, user, add)
                    except ExchangeError as problem:
                        verb = "add" if add else "remove"
                        results.append(
                            f"Could not {verb} {user} {noun} permissions for {key}. "
                            f"Error: {problem.message}"
                        )
                    else:
                        results.append(
                            "Granted " + granted.format(u=user, m=key)
                            if add
                            else f"Removed {user} from {key} {right} permissions"
                        )
        return {"Results": results}

    def _mailbox_permission(
        self, tenant: Tenant, identity: str, right: str, user: str, add: bool
    ) -> None:
        """The cmdlet CIPP runs for one change of ExecEditMailboxPermissions."""
        now = self._now()
        params: dict[str, Any]
        if right == "FullAccess":
            params = {"Identity": identity, "User": user, "AccessRights": ["FullAccess"]}
            change = (
                self.exchange.add_mailbox_permission
                if add
                else self.exchange.remove_mailbox_permission
            )
        elif right == "SendAs":
            params = {"Identity": identity, "Trustee": user, "AccessRights": ["SendAs"]}
            change = (
                self.exchange.add_recipient_permission
                if add
                else self.exchange.remove_recipient_permission
            )
        else:
            table = {"@odata.type": "#Exchange.GenericHashTable", "add" if add else "remove": user}
            params = {"Identity": identity, "GrantSendOnBehalfTo": table}
            change = self.exchange.set_mailbox
        change(tenant, params, now)

    def add_multi_tenant_app(self, request: Request) -> Any:
        """Invoke-ExecAddMultiTenantApp.ps1, ``configMode: manual``: queues a job per tenant
        and answers "Deploying … see the logbook" at once; what the job grants shows only
        after ``cipp_consent_delay`` (settle_consents), what fails only in CIPP's logbook.

        - ``tenantFilter`` is read as ``.value`` of a list of ``{value, label}``
          ("allTenants" among the values: every listed tenant); a bare string selects none.
        - ``CopyPermissions: true`` (Push-ExecApplicationCopy.ps1, New-CIPPApplicationCopy.ps1)
          grants the permissions of the app's registration in the partner tenant, each on its
          own resource: here what the admin-consent link grants too.
        - Otherwise every ``permissions[]`` id of origin Application is assigned against
          Microsoft Graph's resource (one ``ResourceAppId = '00000003-…'``; Push-
          ExecAddMultiTenantApp.ps1 -> Add-CIPPApplicationPermission.ps1): an id that is not
          a Graph app role (Exchange.ManageAsApp) fails in the job and is not granted.
        - A tenant CIPP cannot reach fails in the job too."""
        body = request.json() or {}
        app_id = str(body.get("AppId") or "").lower()
        selection = body.get("tenantFilter")
        values = [
            str(item.get("value") or "")
            for item in (selection if isinstance(selection, list) else [])
            if isinstance(item, dict)
        ]
        labels = [
            str(item.get("label") or "")
            for item in (selection if isinstance(selection, list) else [])
            if isinstance(item, dict)
        ]
        listed = self._listed()
        if "allTenants" in values:
            tenants = listed
        else:
            found = (self.rt.world.tenant(v) for v in values)
            tenants = [t for t in found if t is not None and t in listed]
        if body.get("CopyPermissions") is True:
            names = [*REQUIRED_GRAPH_ROLES, *REQUIRED_EXCHANGE_ROLES]
        else:
            graph_roles = {v: k for k, v in GRAPH_APP_ROLES.items()}
            names = [
                graph_roles[str(p.get("id")).lower()]
                for p in body.get("permissions") or []
                if isinstance(p, dict)
                and p.get("origin") == "Application"
                and str(p.get("id")).lower() in graph_roles
            ]
        effective = self._now() + self.rt.world.settings.cipp_consent_delay
        for tenant in tenants:
            if app_id == self.rt.world.partner.app.client_id and not tenant.cipp_lost:
                tenant.pending_consents.append(PendingConsent(app_id, names, effective))
                self.rt.consents_pending = True
        return {
            "Results": [
                f"Deploying {body.get('AppId')} to {', '.join(labels)}, see the logbook for details"
            ]
        }

    def reset_password(self, request: Request) -> Any:
        """Invoke-ExecResetPass.ps1: 200 with the result, 500 with the failure's words."""
        tenant = self._tenant(request)
        body = request.json() or {}
        user = self._user(tenant, body.get("ID") or body.get("id"))
        if user is None:
            raise CippRefusal(
                500,
                {"Results": f"Failed to reset the password for {body.get('ID')}: user not found"},
            )
        if user.is_admin:
            raise CippRefusal(
                500,
                {
                    "Results": f"Failed to reset the password for {user.user_principal_name}: "
                    "Insufficient privileges to complete the operation."
                },
            )
        password = secrets.token_urlsafe(12)
        user.password_changed_at = self._now()
        must = body.get("MustChange")
        user.force_change_password = str(must).lower() in ("true", "1")
        return {
            "Results": [
                f"The new password is {password}. The user must change their password at next logon."
                if user.force_change_password
                else f"The new password is {password}."
            ]
        }

    def disable_user(self, request: Request) -> Any:
        """Invoke-ExecDisableUser.ps1: 200 with the result, 500 with the failure's words."""
        tenant = self._tenant(request, "TenantFilter")
        key = self._param(request, "ID")
        enable = str(self._param(request, "Enable") or "false").lower() == "true"
        user = self._user(tenant, key)
        if user is None:
            raise CippRefusal(
                500,
                {
                    "Results": f"Failed to {'enable' if enable else 'disable'} user {key}: user not found"
                },
            )
        user.account_enabled = enable
        return {
            "Results": [
                f"Successfully {'enabled' if enable else 'disabled'} {user.user_principal_name}"
            ]
        }


def settle_consents(rt: Runtime, now: float) -> None:
    """Apply queued CIPP consents whose time has come: create the SP and grant the roles."""
    from controller.sandbox._world import create_app_principal, grant_app_roles

    app = rt.world.partner.app
    remaining = False
    for tenant in rt.world.tenants.values():
        if not tenant.pending_consents:
            continue
        due = [c for c in tenant.pending_consents if c.effective_at <= now]
        for consent in due:
            sp = tenant.sp_by_app_id(consent.app_id) or create_app_principal(
                tenant, consent.app_id, app.display_name, consent.effective_at, consent.effective_at
            )
            grant_app_roles(tenant, sp, consent.roles, consent.effective_at)
            tenant.pending_consents.remove(consent)
        remaining = remaining or bool(tenant.pending_consents)
    rt.consents_pending = remaining

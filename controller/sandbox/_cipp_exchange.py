"""CIPP's endpoints for groups, shared mailboxes and mailbox permissions (the sandbox's
``CippService`` serves them): what CIPP-API's functions do with Exchange and Graph, and the
answers they give, success and failure (cited per endpoint)."""

from __future__ import annotations

import uuid
from typing import Any

from controller.sandbox._cipp_base import CippEndpoints, CippRefusal, refused, text
from controller.sandbox._exchange import ExchangeError
from controller.sandbox._http import Request, Response
from controller.sandbox._world import Group, Tenant


class CippExchangeEndpoints(CippEndpoints):
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

"""Exchange Online admin REST (``InvokeCommand``, unofficial): the cmdlets tenantctl uses for
shared mailboxes, distribution groups and their members, FullAccess, SendAs and SendOnBehalf.

Answers 401 without a valid Exchange token and 403 unless the token carries
Exchange.ManageAsApp *and* the app's service principal holds the Exchange Administrator role,
propagated (the role assignment is older than the propagation delay). Errors carry the message
in ``error.details[].message`` and ``error.innererror.internalException.message``.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from typing import Any

from controller.sandbox._catalog import EXCHANGE_ADMINISTRATOR, stable_id
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import AuthFailure, Runtime, authenticate
from controller.sandbox._world import Group, Tenant, User

_PATH = re.compile(r"^/adminapi/beta/([^/]+)/InvokeCommand$")
MAILBOX_TYPES = ("UserMailbox", "SharedMailbox")


class ExchangeError(Exception):
    def __init__(self, exception: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.exception = exception
        self.message = message
        self.status = status


def not_found(identity: str, tenant: Tenant) -> ExchangeError:
    return ExchangeError(
        "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
        f"The operation couldn't be performed because object '{identity}' couldn't be found "
        f"on '{tenant.initial_domain.split('.')[0].upper()}01A001DC001.PROD.OUTLOOK.COM'.",
        404,
    )


def manager_check(p: dict[str, Any]) -> None:
    """Changing a distribution group (its settings, members, or deleting it) is for the
    managers in its ManagedBy; an app-only caller is never one, so Exchange refuses it unless
    ``-BypassSecurityGroupManagerCheck`` is given (office-docs-powershell
    exchange/exchange-ps/exchange/Add-DistributionGroupMember.md, Set-DistributionGroup.md,
    Remove-DistributionGroup.md, Remove-DistributionGroupMember.md)."""
    if p.get("BypassSecurityGroupManagerCheck") is not True:
        raise ExchangeError(
            "Microsoft.Exchange.Configuration.Tasks.OperationRequiresGroupManagerException",
            "You don't have sufficient permissions. This operation can only be performed by a "
            "manager of the group.",
        )


def _values(value: Any) -> tuple[list[str], list[str], list[str] | None]:
    """(add, remove, replace) of a multi-valued parameter: a GenericHashTable adds/removes
    (its keys in any case: CIPP sends ``add``/``remove``), a plain value or list replaces the
    whole list."""
    if isinstance(value, dict):
        value = {str(k).lower(): v for k, v in value.items()}
    if isinstance(value, dict) and ("add" in value or "remove" in value):
        add = value.get("add") or []
        remove = value.get("remove") or []
        return (
            [add] if isinstance(add, str) else list(add),
            [remove] if isinstance(remove, str) else list(remove),
            None,
        )
    if value is None:
        return [], [], []
    return [], [], [value] if isinstance(value, str) else list(value)


class ExchangeService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.cmdlets: dict[str, Callable[[Tenant, dict[str, Any], float], Any]] = {
            "get-mailbox": self.get_mailbox,
            "new-mailbox": self.new_mailbox,
            "set-mailbox": self.set_mailbox,
            "remove-mailbox": self.remove_mailbox,
            "get-distributiongroup": self.get_dg,
            "new-distributiongroup": self.new_dg,
            "set-distributiongroup": self.set_dg,
            "remove-distributiongroup": self.remove_dg,
            "get-distributiongroupmember": self.get_dg_members,
            "add-distributiongroupmember": self.add_dg_member,
            "remove-distributiongroupmember": self.remove_dg_member,
            "get-mailboxpermission": self.get_mailbox_permission,
            "add-mailboxpermission": self.add_mailbox_permission,
            "remove-mailboxpermission": self.remove_mailbox_permission,
            "get-recipientpermission": self.get_recipient_permission,
            "add-recipientpermission": self.add_recipient_permission,
            "remove-recipientpermission": self.remove_recipient_permission,
            "get-recipient": self.get_recipient,
        }

    def tenant_hint(self, request: Request) -> str | None:
        m = _PATH.match(request.path)
        return m.group(1).lower() if m else None

    def handle(self, request: Request) -> Response:
        m = _PATH.match(request.path)
        if m is None or request.method != "POST":
            return Response(404, {"error": {"code": "NotFound", "message": "Not found."}})
        try:
            claims = authenticate(self.rt, request, "exchange")
        except AuthFailure as failure:
            return Response(
                401,
                None,
                {
                    "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{failure.message}"'
                },
            )
        tenant = self.rt.world.tenant(m.group(1))
        if tenant is None or tenant.tenant_id != claims.get("tid"):
            return Response(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        now = self.rt.clock.now()
        if "Exchange.ManageAsApp" not in (claims.get("roles") or []) or not self._role_propagated(
            tenant, str(claims.get("oid")), now
        ):
            return self._error(
                ExchangeError(
                    "Microsoft.Exchange.Management.Tasks.UnauthorizedAccessException",
                    f"The role assigned to application {claims.get('appid')} isn't supported in "
                    "this scenario. Please check online documentation for assigning correct "
                    "Directory Roles to Azure AD Application for EXO App-Only Authentication.",
                    403,
                ),
                tenant.tenant_id,
            )
        try:
            payload = request.json() or {}
            cmdlet = payload["CmdletInput"]
            name = str(cmdlet["CmdletName"])
            params = dict(cmdlet.get("Parameters") or {})
        except (ValueError, KeyError, TypeError):
            return self._error(
                ExchangeError(
                    "System.ArgumentException", "The request body is not a valid CmdletInput."
                ),
                tenant.tenant_id,
            )
        run = self.cmdlets.get(name.lower())
        if run is None:
            return self._error(
                ExchangeError(
                    "System.Management.Automation.CommandNotFoundException",
                    f"The term '{name}' is not recognized as a name of a cmdlet.",
                ),
                tenant.tenant_id,
            )
        try:
            result = run(tenant, params, now)
        except ExchangeError as problem:
            return self._error(problem, tenant.tenant_id)
        warnings: list[str] = []
        if isinstance(result, tuple):
            result, warnings = result
        rows = result if isinstance(result, list) else ([] if result is None else [result])
        return self._page(request, tenant, rows, warnings)

    def _role_propagated(self, tenant: Tenant, sp_id: str, now: float) -> bool:
        delay = self.rt.world.settings.exchange_role_propagation
        return any(
            a.principal_id == sp_id
            and a.role_definition_id == EXCHANGE_ADMINISTRATOR
            and a.created_at + delay <= now
            for a in tenant.role_assignments
        )

    def _page(
        self, request: Request, tenant: Tenant, rows: list[dict[str, Any]], warnings: list[str]
    ) -> Response:
        size = 1000
        prefer = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
        if prefer:
            size = max(1, int(prefer.group(1)))
        offset = 0
        if "$skiptoken" in request.query:
            offset = int(base64.urlsafe_b64decode(request.query["$skiptoken"]).decode())
        body: dict[str, Any] = {
            "@odata.context": f"{request.base_url}/adminapi/beta/{tenant.tenant_id}/$metadata#Collection(Exchange.GenericHashTable)",
            "value": rows[offset : offset + size],
        }
        if offset + size < len(rows):
            token = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            body["@odata.nextLink"] = (
                f"{request.base_url}/adminapi/beta/{tenant.tenant_id}/InvokeCommand?$skiptoken={token}"
            )
        if warnings:
            body["@adminapi.warnings"] = warnings
        return Response(200, body, tenant_id=tenant.tenant_id)

    def _error(self, problem: ExchangeError, tenant_id: str) -> Response:
        server = "SANDBOX01.PROD.OUTLOOK.COM"
        detail = f"Ex{uuid.uuid4().hex[:6].upper()}|{problem.exception}|{problem.message}"
        body = {
            "error": {
                "code": "Forbidden"
                if problem.status == 403
                else ("NotFound" if problem.status == 404 else "BadRequest"),
                "message": f"|{problem.exception}|{problem.message}",
                "details": [{"code": "Context", "target": "", "message": detail}],
                "innererror": {
                    "message": problem.message,
                    "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                    "internalException": {"message": problem.message, "type": problem.exception},
                    "server": server,
                },
            }
        }
        return Response(
            problem.status, body, {"request-id": str(uuid.uuid4())}, tenant_id=tenant_id
        )

    # --- resolution ------------------------------------------------------------------------

    def _recipient(self, tenant: Tenant, identity: str) -> User | Group | None:
        key = str(identity).strip().lower()
        user = tenant.users.get(key) or tenant.user_by_upn(key)
        if user is not None and user.deleted_at is None:
            return user
        for u in tenant.users.values():
            if u.deleted_at is None and key in (
                (u.mail or "").lower(),
                u.mail_nickname.lower(),
                u.display_name.lower(),
            ):
                return u
        group = tenant.groups.get(key)
        if group is not None and group.deleted_at is None and group.mail:
            return group
        for g in tenant.groups.values():
            if (
                g.deleted_at is None
                and g.mail
                and key
                in (
                    g.mail.lower(),
                    g.mail_nickname.lower(),
                    g.display_name.lower(),
                )
            ):
                return g
        return None

    def _mailbox(
        self, tenant: Tenant, identity: Any, types: tuple[str, ...] = MAILBOX_TYPES
    ) -> User:
        found = self._recipient(tenant, str(identity))
        if not isinstance(found, User) or found.recipient_type not in types:
            raise not_found(str(identity), tenant)
        return found

    def _user_recipient(self, tenant: Tenant, identity: Any) -> User:
        found = self._recipient(tenant, str(identity))
        if not isinstance(found, User):
            raise not_found(str(identity), tenant)
        return found

    def _dg(self, tenant: Tenant, identity: Any) -> Group:
        found = self._recipient(tenant, str(identity))
        if not isinstance(found, Group) or found.kind not in (
            "distribution",
            "mailEnabledSecurity",
        ):
            raise not_found(str(identity), tenant)
        return found

    def _check_address(self, tenant: Tenant, address: str) -> None:
        _, at, domain = address.rpartition("@")
        if not at or domain.lower() not in (d.lower() for d in tenant.domains):
            raise ExchangeError(
                "Microsoft.Exchange.Data.DataValidationException",
                f"The domain {domain} isn't an accepted domain for your organization.",
            )
        if self._recipient(tenant, address) is not None:
            raise ExchangeError(
                "Microsoft.Exchange.Management.Tasks.WLCDManagedMemberExistsException",
                f'The proxy address "SMTP:{address}" is already being used by another recipient.',
            )

    # --- JSON shapes -----------------------------------------------------------------------

    def _mailbox_json(self, tenant: Tenant, u: User) -> dict[str, Any]:
        return {
            "ExternalDirectoryObjectId": u.id,
            "Guid": stable_id(u.id, "exchange"),
            "Identity": u.mail_nickname,
            "Name": u.mail_nickname,
            "Alias": u.mail_nickname,
            "DisplayName": u.display_name,
            "PrimarySmtpAddress": u.mail or u.user_principal_name,
            "UserPrincipalName": u.user_principal_name,
            "RecipientType": "UserMailbox",
            "RecipientTypeDetails": u.recipient_type,
            "EmailAddresses": [f"SMTP:{u.mail or u.user_principal_name}"],
            # Exchange names the delegates by their recipient identity, not their address: the
            # Name of a recipient created since 2022 is its Entra object id, which is what
            # CIPP resolves them by (CIPP-API Invoke-ListUserMailboxDetails.ps1 matches them to
            # users' ``id``; Set-CIPPDBCacheMailboxes.ps1 to mailboxes' ``id``).
            "GrantSendOnBehalfTo": list(u.send_on_behalf),
            "AccountDisabled": not u.account_enabled,
        }

    def _name(self, tenant: Tenant, oid: str) -> str:
        user = tenant.users.get(oid)
        return user.user_principal_name if user else oid

    def _dg_json(self, g: Group) -> dict[str, Any]:
        return {
            "ExternalDirectoryObjectId": g.id,
            "Guid": stable_id(g.id, "exchange"),
            "Identity": g.mail_nickname,
            "Name": g.exchange_name or g.display_name,
            "DisplayName": g.display_name,
            "Alias": g.mail_nickname,
            "PrimarySmtpAddress": g.mail,
            "EmailAddresses": [f"SMTP:{g.mail}"],
            "GroupType": "Universal" if g.kind == "distribution" else "Universal, SecurityEnabled",
            "RecipientType": "MailUniversalDistributionGroup"
            if g.kind == "distribution"
            else "MailUniversalSecurityGroup",
            "RecipientTypeDetails": "MailUniversalDistributionGroup"
            if g.kind == "distribution"
            else "MailUniversalSecurityGroup",
        }

    def _recipient_json(self, tenant: Tenant, oid: str) -> dict[str, Any] | None:
        user = tenant.users.get(oid)
        if user is not None and user.deleted_at is None:
            return {
                "ExternalDirectoryObjectId": user.id,
                "Name": user.mail_nickname,
                "Alias": user.mail_nickname,
                "DisplayName": user.display_name,
                "PrimarySmtpAddress": user.mail or user.user_principal_name,
                "RecipientType": "UserMailbox" if user.recipient_type else "User",
                "RecipientTypeDetails": user.recipient_type or "User",
            }
        group = tenant.groups.get(oid)
        if group is not None and group.deleted_at is None:
            return self._dg_json(group)
        return None

    # --- mailboxes -------------------------------------------------------------------------

    def get_mailbox(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        if p.get("Identity"):
            return self._mailbox_json(tenant, self._mailbox(tenant, p["Identity"]))
        wanted = p.get("RecipientTypeDetails")
        types = [wanted] if isinstance(wanted, str) else (wanted or list(MAILBOX_TYPES))
        types = [t for part in types for t in str(part).split(",")]
        return [
            self._mailbox_json(tenant, u)
            for u in tenant.users.values()
            if u.deleted_at is None and u.recipient_type in [t.strip() for t in types]
        ]

    def new_mailbox(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        if not p.get("Shared"):
            raise ExchangeError(
                "System.ArgumentException",
                "Only shared mailboxes can be created with app-only authentication here (-Shared).",
            )
        name = str(p.get("Name") or "")
        if not name:
            raise ExchangeError(
                "System.Management.Automation.ParameterBindingException",
                "Cannot process command because of one or more missing mandatory parameters: Name.",
            )
        alias = str(p.get("Alias") or name.replace(" ", ""))
        address = str(p.get("PrimarySmtpAddress") or f"{alias}@{tenant.default_domain}")
        self._check_address(tenant, address)
        user = User(
            id=str(uuid.uuid4()),
            user_principal_name=address,
            display_name=str(p.get("DisplayName") or name),
            mail_nickname=alias,
            account_enabled=False,
            mail=address,
            created_at=now,
            # Exchange sees it at once; Graph only after directory replication.
            visible_at=now + self.rt.world.settings.replication_delay,
            recipient_type="SharedMailbox",
        )
        tenant.add_user(user)
        return self._mailbox_json(tenant, user)

    def set_mailbox(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        if "DisplayName" in p:
            mailbox.display_name = str(p["DisplayName"])
        warnings: list[str] = []
        if "GrantSendOnBehalfTo" in p:
            add, remove, replace = _values(p["GrantSendOnBehalfTo"])
            if replace is not None:
                mailbox.send_on_behalf = [self._user_recipient(tenant, i).id for i in replace]
            for identity in add:
                uid = self._user_recipient(tenant, identity).id
                if uid not in mailbox.send_on_behalf:
                    mailbox.send_on_behalf.append(uid)
            for identity in remove:
                uid = self._user_recipient(tenant, identity).id
                if uid in mailbox.send_on_behalf:
                    mailbox.send_on_behalf.remove(uid)
                else:
                    warnings.append(f"{identity} isn't in GrantSendOnBehalfTo of {mailbox.mail}.")
        return None, warnings

    def remove_mailbox(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        mailbox.deleted_at = now
        return None

    # --- distribution groups ---------------------------------------------------------------

    def get_dg(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        if p.get("Identity"):
            return self._dg_json(self._dg(tenant, p["Identity"]))
        return [
            self._dg_json(g)
            for g in tenant.groups.values()
            if g.deleted_at is None and g.kind in ("distribution", "mailEnabledSecurity")
        ]

    def new_dg(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        name = str(p.get("Name") or "")
        if not name:
            raise ExchangeError(
                "System.Management.Automation.ParameterBindingException",
                "Cannot process command because of one or more missing mandatory parameters: Name.",
            )
        alias = str(p.get("Alias") or re.sub(r"[^A-Za-z0-9._-]", "", name))
        address = str(p.get("PrimarySmtpAddress") or f"{alias}@{tenant.default_domain}")
        self._check_address(tenant, address)
        members = [self._user_recipient(tenant, m).id for m in _values(p.get("Members"))[2] or []]
        group = Group(
            id=str(uuid.uuid4()),
            display_name=str(p.get("DisplayName") or name),
            exchange_name=name if p.get("DisplayName") and p["DisplayName"] != name else None,
            mail_nickname=address.split("@", maxsplit=1)[0],
            kind="mailEnabledSecurity"
            if str(p.get("Type", "")).lower() == "security"
            else "distribution",
            mail=address,
            members=members,
            created_at=now,
            visible_at=now + self.rt.world.settings.replication_delay,
        )
        tenant.groups[group.id] = group
        return self._dg_json(group)

    def set_dg(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        group = self._dg(tenant, p.get("Identity", ""))
        manager_check(p)
        if "Name" in p:
            group.exchange_name = str(p["Name"])
        if "DisplayName" in p:
            group.display_name = str(p["DisplayName"])
        return None

    def remove_dg(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        group = self._dg(tenant, p.get("Identity", ""))
        manager_check(p)
        group.deleted_at = now
        return None

    def get_dg_members(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        group = self._dg(tenant, p.get("Identity", ""))
        return [row for oid in group.members if (row := self._recipient_json(tenant, oid))]

    def add_dg_member(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        group = self._dg(tenant, p.get("Identity", ""))
        manager_check(p)
        member = self._recipient(tenant, str(p.get("Member", "")))
        if member is None:
            raise not_found(str(p.get("Member", "")), tenant)
        if member.id in group.members:
            raise ExchangeError(
                "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException",
                f'The recipient "{p.get("Member")}" is already a member of the group "{group.display_name}".',
            )
        group.members.append(member.id)
        return None

    def remove_dg_member(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        group = self._dg(tenant, p.get("Identity", ""))
        manager_check(p)
        member = self._recipient(tenant, str(p.get("Member", "")))
        if member is None:
            raise not_found(str(p.get("Member", "")), tenant)
        if member.id not in group.members:
            raise ExchangeError(
                "Microsoft.Exchange.Management.Tasks.MemberNotFoundException",
                f'The recipient "{p.get("Member")}" isn\'t a member of the group "{group.display_name}".',
            )
        group.members.remove(member.id)
        return None

    # --- permissions -----------------------------------------------------------------------

    def get_mailbox_permission(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        # Exchange always lists the mailbox's own SELF entry: not a delegate.
        rows = [
            {
                "Identity": mailbox.mail_nickname,
                "User": "NT AUTHORITY\\SELF",
                "AccessRights": ["FullAccess, ReadPermission"],
                "IsInherited": False,
                "Deny": False,
                "InheritanceType": "All",
            }
        ]
        for uid in mailbox.full_access:
            rows.append(
                {
                    "Identity": mailbox.mail_nickname,
                    "User": self._name(tenant, uid),
                    "AccessRights": ["FullAccess"],
                    "IsInherited": False,
                    "Deny": False,
                    "InheritanceType": "All",
                }
            )
        return rows

    def _rights(self, p: dict[str, Any], key: str, expected: str) -> None:
        rights = p.get(key)
        values = [rights] if isinstance(rights, str) else list(rights or [])
        if expected.lower() not in (str(v).lower() for v in values):
            raise ExchangeError(
                "System.ArgumentException",
                f"Only {expected} is supported for -{key} by the sandbox.",
            )

    def add_mailbox_permission(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        self._rights(p, "AccessRights", "FullAccess")
        user = self._user_recipient(tenant, p.get("User", ""))
        if user.id not in mailbox.full_access:
            mailbox.full_access.append(user.id)
        return {
            "Identity": mailbox.mail_nickname,
            "User": user.user_principal_name,
            "AccessRights": ["FullAccess"],
            "IsInherited": False,
            "Deny": False,
        }

    def remove_mailbox_permission(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        self._rights(p, "AccessRights", "FullAccess")
        user = self._user_recipient(tenant, p.get("User", ""))
        if user.id not in mailbox.full_access:
            return None, [
                f'Can\'t remove the access control entry on the object "{mailbox.mail}" for '
                f'account "{user.user_principal_name}" because the ACE doesn\'t exist on the object.'
            ]
        mailbox.full_access.remove(user.id)
        return None

    def get_recipient_permission(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        rows = [
            {
                "Identity": mailbox.mail_nickname,
                "Trustee": "NT AUTHORITY\\SELF",
                "AccessControlType": "Allow",
                "AccessRights": ["SendAs"],
                "IsInherited": False,
                "InheritanceType": "None",
            }
        ]
        for uid in mailbox.send_as:
            rows.append(
                {
                    "Identity": mailbox.mail_nickname,
                    "Trustee": self._name(tenant, uid),
                    "AccessControlType": "Allow",
                    "AccessRights": ["SendAs"],
                    "IsInherited": False,
                    "InheritanceType": "None",
                }
            )
        return rows

    def add_recipient_permission(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        self._rights(p, "AccessRights", "SendAs")
        user = self._user_recipient(tenant, p.get("Trustee", ""))
        if user.id in mailbox.send_as:
            return None, [
                f'The appropriate access control entry is already present on object "{mailbox.mail}".'
            ]
        mailbox.send_as.append(user.id)
        return {
            "Identity": mailbox.mail_nickname,
            "Trustee": user.user_principal_name,
            "AccessControlType": "Allow",
            "AccessRights": ["SendAs"],
        }

    def remove_recipient_permission(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        mailbox = self._mailbox(tenant, p.get("Identity", ""))
        self._rights(p, "AccessRights", "SendAs")
        user = self._user_recipient(tenant, p.get("Trustee", ""))
        if user.id not in mailbox.send_as:
            return None, [
                f'Can\'t remove the access control entry on the object "{mailbox.mail}" for '
                f'account "{user.user_principal_name}" because the ACE doesn\'t exist on the object.'
            ]
        mailbox.send_as.remove(user.id)
        return None

    def get_recipient(self, tenant: Tenant, p: dict[str, Any], now: float) -> Any:
        found = self._recipient(tenant, str(p.get("Identity", "")))
        if found is None:
            raise not_found(str(p.get("Identity", "")), tenant)
        return self._recipient_json(tenant, found.id)

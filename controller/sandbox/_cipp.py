"""CIPP's HTTP API (``/api/<Endpoint>``) with its own API client's token from the partner
tenant, and CIPP's quirks: bare arrays for lists, ``{"Results": [...]}`` for changes, 200 even
when an item failed (EditGroup's ``Error - ...`` strings, ExecEditMailboxPermissions' free
text), and the statuses CIPP's functions pick for their failures. CIPP writes change the same
state Graph and Exchange show: it calls the same operations on the same world.

The endpoints for groups, shared mailboxes and mailbox permissions are in ``_cipp_exchange``,
what every endpoint shares in ``_cipp_base``. Each behaviour cites the CIPP-API file it follows (KelvinTegelaar/CIPP-API; the HTTP functions
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
from collections.abc import Callable
from typing import Any

from controller.sandbox._catalog import (
    GRAPH_APP_ROLES,
    REQUIRED_EXCHANGE_ROLES,
    REQUIRED_GRAPH_ROLES,
)
from controller.sandbox._cipp_base import NO_TOKEN, CippRefusal, text
from controller.sandbox._cipp_exchange import CippExchangeEndpoints
from controller.sandbox._exchange import ExchangeService
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import AuthFailure, Runtime, authenticate
from controller.sandbox._world import PendingConsent

ROLE_ORDER = {"readonly": 0, "editor": 1, "admin": 2}


class CippService(CippExchangeEndpoints):
    """CIPP's HTTP API: authentication and roles, then one method per endpoint."""

    def __init__(self, rt: Runtime, exchange: ExchangeService) -> None:
        super().__init__(rt, exchange)
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

    def list_tenants(self, request: Request) -> Any:
        return [
            {
                "customerId": t.tenant_id,
                "defaultDomainName": t.initial_domain,
                "displayName": t.display_name,
                "delegatedPrivilegeStatus": "granularDelegatedAdminPrivileges",
                "domains": t.domains,
                "GraphErrorCount": 1 if t.cipp_lost else 0,
                "LastGraphError": NO_TOKEN.format(tenant=t.initial_domain) if t.cipp_lost else "",
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
            no_token = NO_TOKEN.format(tenant=t.initial_domain)
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

    # --- writes ----------------------------------------------------------------------------

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

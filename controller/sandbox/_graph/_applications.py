"""Service principals and app role assignments: how the MSP's app is consented in a tenant;
and the MSP's app registration itself.

The partner tenant lists Microsoft's resource principals (Graph, Exchange) too, so the app can
map permission names to app role ids there.

Graph v1.0 endpoints served:

- ``GET /applications(appId='{appId}')``, ``GET /applications/{id}``: the app registration,
  in its home tenant only (the partner tenant; a customer tenant holds only the service
  principal and answers 404), with ``passwordCredentials`` (``hint``: the secret's first three
  characters, ``endDateTime``) and ``keyCredentials``

- ``GET /servicePrincipals`` (e.g. ``$filter=appId eq '...'``), ``GET /servicePrincipals/{id}``
- ``POST /servicePrincipals``: only for the MSP's own app (``{"appId"}``)
- ``GET /servicePrincipals/{id}/appRoleAssignments``: roles granted to this principal
- ``GET /servicePrincipals/{id}/appRoleAssignedTo``: roles granted on this resource
- ``POST /servicePrincipals/{id}/appRoleAssignedTo``: grant an app role (admin consent)
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from controller.sandbox._graph._odata import (
    Call,
    GraphError,
    bad_request,
    entity,
    not_found,
    page,
    replicated_at,
)
from controller.sandbox._graph._permissions import READ_APPS
from controller.sandbox._http import Response
from controller.sandbox._world import (
    AppRoleAssignment,
    PartnerApp,
    ServicePrincipal,
    Tenant,
    create_app_principal,
    resource_principals,
)


def get_application(call: Call, m: re.Match[str]) -> Response:
    """Application.Read.All, or one of the higher privileged permissions the Graph reference
    lists (Application.ReadWrite.All, Directory.Read.All, Directory.ReadWrite.All); else 403.
    Application.ReadWrite.OwnedBy reads only the apps the caller owns, and an app is not its
    own owner, so it is not enough to read itself."""
    call.require(*READ_APPS)
    key = m.group(1).lower()
    app = call.rt.world.partner.app
    if call.tenant is not None or key not in (app.client_id, app.object_id):
        raise not_found(key)
    return entity(call, _application_json(call, app), "applications", entity_type="application")


def _application_json(call: Call, app: PartnerApp) -> dict[str, Any]:
    ends = app.secret_ends_at
    if ends is not None and app.secret_expired:
        ends = min(ends, call.now - 86400.0)  # what the login answers AADSTS7000222 for
    iso = call.rt.clock.iso
    secret = {
        "customKeyIdentifier": None,
        "displayName": "tenantctl",
        "endDateTime": iso(ends) if ends is not None else None,
        "hint": app.secret[:3],
        "keyId": app.secret_key_id,
        "secretText": None,  # only addPassword's answer carries it
        "startDateTime": iso(app.secret_starts_at) if app.secret_starts_at is not None else None,
    }
    return {
        "id": app.object_id,
        "appId": app.client_id,
        "displayName": app.display_name,
        "signInAudience": "AzureADMultipleOrgs",
        "passwordCredentials": [secret],
        # A certificate's ``key`` is returned only when $select names keyCredentials; the
        # sandbox's app has no certificate.
        "keyCredentials": [],
    }


def sp_json(sp: ServicePrincipal) -> dict[str, Any]:
    """A service principal with the properties Graph returns by default
    (api-reference/v1.0/resources/serviceprincipal.md)."""
    return {
        "id": sp.id,
        "deletedDateTime": None,
        "accountEnabled": True,
        "addIns": [],
        "alternativeNames": [],
        "appDescription": None,
        "appDisplayName": sp.display_name,
        "appId": sp.app_id,
        "applicationTemplateId": None,
        "appOwnerOrganizationId": None,
        "appRoleAssignmentRequired": False,
        "appRoles": sp.app_roles,
        "description": None,
        "disabledByMicrosoftStatus": None,
        "displayName": sp.display_name,
        "homepage": None,
        "info": None,
        "keyCredentials": [],
        "loginUrl": None,
        "logoutUrl": None,
        "notes": None,
        "notificationEmailAddresses": [],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [],
        "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None,
        "replyUrls": [],
        "resourceSpecificApplicationPermissions": [],
        "samlSingleSignOnSettings": None,
        "servicePrincipalNames": [sp.app_id],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMultipleOrgs",
        "tags": [],
        "tokenEncryptionKeyId": None,
        "verifiedPublisher": {
            "displayName": None,
            "verifiedPublisherId": None,
            "addedDateTime": None,
        },
    }


def _sps(call: Call) -> Iterable[ServicePrincipal]:
    if call.tenant is None:  # the partner tenant has Microsoft's resource principals too
        return resource_principals(call.tenant_id, call.now)
    return (sp for sp in call.customer().service_principals.values() if sp.visible_at <= call.now)


def list_sps(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_APPS)
    return page(
        call,
        [sp_json(sp) for sp in _sps(call)],
        "servicePrincipals",
        entity_type="servicePrincipal",
    )


def _find_sp(call: Call, key: str) -> ServicePrincipal:
    sp = call.customer().service_principals.get(key.lower())
    if sp is None or sp.visible_at > call.now:
        raise not_found(key)
    return sp


def get_sp(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_APPS)
    return entity(
        call,
        sp_json(_find_sp(call, m.group(1))),
        "servicePrincipals",
        entity_type="servicePrincipal",
    )


def create_sp(call: Call, m: re.Match[str]) -> Response:
    call.require("Application.ReadWrite.All", "Directory.ReadWrite.All")
    tenant = call.customer()
    body = call.request.json() or {}
    app_id = str(body.get("appId", "")).lower()
    app = call.rt.world.partner.app
    if app_id != app.client_id:
        raise bad_request(
            f"The appId '{app_id}' of the service principal does not reference a valid application object."
        )
    if tenant.sp_by_app_id(app_id) is not None:
        raise GraphError(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "The service principal cannot be created, updated, or restored because the service principal name https://... is already in use.",
        )
    sp = create_app_principal(tenant, app_id, app.display_name, call.now, replicated_at(call))
    return Response(
        201,
        {"@odata.context": f"{call.base}/$metadata#servicePrincipals/$entity", **sp_json(sp)},
    )


def _assignment_json(
    tenant: Tenant, a: AppRoleAssignment, clock_iso: Callable[[float], str]
) -> dict[str, Any]:
    principal = tenant.service_principals.get(a.principal_id)
    resource = tenant.service_principals.get(a.resource_id)
    return {
        "id": a.id,
        "appRoleId": a.app_role_id,
        "createdDateTime": clock_iso(a.created_at),
        "principalDisplayName": principal.display_name if principal else None,
        "principalId": a.principal_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": resource.display_name if resource else None,
        "resourceId": a.resource_id,
    }


def sp_assignments(call: Call, m: re.Match[str]) -> Response:
    return _assignments(call, m.group(1), "appRoleAssignments", granted_to_it=True)


def sp_assigned_to(call: Call, m: re.Match[str]) -> Response:
    return _assignments(call, m.group(1), "appRoleAssignedTo", granted_to_it=False)


def _assignments(call: Call, key: str, relation: str, *, granted_to_it: bool) -> Response:
    """The app role assignments granted to this principal, or granted on this resource."""
    call.require(*READ_APPS)
    sp = _find_sp(call, key)
    tenant = call.customer()
    rows = [
        _assignment_json(tenant, a, call.rt.clock.iso)
        for a in tenant.app_role_assignments
        if (a.principal_id if granted_to_it else a.resource_id) == sp.id
    ]
    return page(
        call, rows, f"servicePrincipals('{sp.id}')/{relation}", entity_type="appRoleAssignment"
    )


def create_assigned_to(call: Call, m: re.Match[str]) -> Response:
    call.require("AppRoleAssignment.ReadWrite.All")
    tenant = call.customer()
    resource = _find_sp(call, m.group(1))
    body = call.request.json() or {}
    principal_id = str(body.get("principalId", "")).lower()
    role_id = str(body.get("appRoleId", "")).lower()
    if str(body.get("resourceId", "")).lower() != resource.id:
        raise bad_request("resourceId does not match the service principal in the URL.")
    if principal_id not in tenant.service_principals:
        raise not_found(principal_id)
    if role_id not in {r["id"] for r in resource.app_roles}:
        raise bad_request("Permission being assigned was not found on application")
    if any(
        a.principal_id == principal_id and a.app_role_id == role_id
        for a in tenant.app_role_assignments
    ):
        raise bad_request("Permission being assigned already exists on the object")
    assignment = AppRoleAssignment(
        id=base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode()[:43],
        principal_id=principal_id,
        resource_id=resource.id,
        app_role_id=role_id,
        created_at=call.now,
    )
    tenant.app_role_assignments.append(assignment)
    return Response(201, _assignment_json(tenant, assignment, call.rt.clock.iso))

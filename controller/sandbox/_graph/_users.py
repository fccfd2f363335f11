"""Users, their licences and their open extensions.

Graph v1.0 endpoints served (``{id}`` is an object id or a userPrincipalName):

- ``GET /users``: live users, default properties unless ``$select``; ``$filter``, ``$top``
- ``POST /users``: create (201), with Graph's validation of UPN domain, alias, password and
  usage location; invisible for the replication delay
- ``GET /users/{id}``
- ``PATCH /users/{id}``: 204; a ``passwordProfile`` is a password reset
- ``DELETE /users/{id}``: soft delete (restore lives in ``_directory``)
- ``POST /users/{id}/assignLicense``
- ``GET /users/{id}/extensions``, ``POST /users/{id}/extensions``: open extensions
- ``GET /users/{id}/extensions/{name}``, ``PATCH /users/{id}/extensions/{name}``,
  ``DELETE /users/{id}/extensions/{name}``
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from controller.sandbox._graph._odata import (
    Call,
    GraphError,
    bad_request,
    entity,
    literal,
    not_found,
    page,
    replicated_at,
    select,
)
from controller.sandbox._graph._permissions import (
    PASSWORD_ROLES,
    READ_USERS,
    RESETS_ADMINISTRATORS,
    RESETS_USERS,
    WRITE_USERS,
)
from controller.sandbox._http import Response
from controller.sandbox._world import Tenant, User

DEFAULT_USER_FIELDS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
USER_PATCHABLE = {
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "jobTitle",
    "department",
    "usageLocation",
    "mailNickname",
    "userPrincipalName",
    "passwordProfile",
    "officeLocation",
    "mobilePhone",
    "businessPhones",
    "companyName",
    "employeeId",
}
# Characters Graph refuses in a mailNickname (users and groups alike).
NICKNAME_FORBIDDEN = set(' @()[]";:.<>,\\')


def user_json(u: User, tenant: Tenant, clock_iso: Callable[[float], str]) -> dict[str, Any]:
    return {
        "id": u.id,
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": u.job_title,
        "mail": u.mail,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "accountEnabled": u.account_enabled,
        "usageLocation": u.usage_location,
        "department": u.department,
        "mailNickname": u.mail_nickname,
        "userType": "Member",
        "createdDateTime": clock_iso(u.created_at),
        "assignedLicenses": [
            {"disabledPlans": u.disabled_plans.get(s, []), "skuId": s} for s in u.licenses
        ],
        "proxyAddresses": [f"SMTP:{u.mail}"] if u.mail else [],
        "deletedDateTime": clock_iso(u.deleted_at) if u.deleted_at else None,
    }


def find_user(call: Call, key: str, *, deleted: bool = False) -> User:
    """The user with this id or UPN, once replicated; live, or soft-deleted with ``deleted``."""
    tenant = call.customer()
    user = tenant.users.get(key.lower()) or tenant.user_by_upn(key)
    if user is None or user.visible_at > call.now:
        raise not_found(key)
    if (user.deleted_at is not None) != deleted:
        raise not_found(key)
    return user


def _visible_users(call: Call) -> Iterable[dict[str, Any]]:
    tenant = call.customer()
    now = call.now
    return (
        user_json(u, tenant, call.rt.clock.iso)
        for u in tenant.users.values()
        if u.deleted_at is None and u.visible_at <= now
    )


# --- users ----------------------------------------------------------------------------------------


def list_users(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_USERS)
    tenant = call.customer()
    q = call.request.query
    flt = q.get("$filter", "")
    # Fast path for the common point lookup: userPrincipalName eq '...'
    em = re.match(r"^userPrincipalName eq '((?:[^']|'')*)'$", flt, re.I)
    if em:
        user = tenant.user_by_upn(literal(f"'{em.group(1)}'"))
        rows = (
            [user_json(user, tenant, call.rt.clock.iso)]
            if user and user.deleted_at is None and user.visible_at <= call.now
            else []
        )
        q = dict(q)
        call.request.query = {k: v for k, v in q.items() if k != "$filter"}
        try:
            return page(call, rows, "users", entity_type="user", default_fields=DEFAULT_USER_FIELDS)
        finally:
            call.request.query = q
    return page(
        call, _visible_users(call), "users", entity_type="user", default_fields=DEFAULT_USER_FIELDS
    )


def get_user(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_USERS)
    user = find_user(call, m.group(1))
    return entity(
        call,
        user_json(user, call.customer(), call.rt.clock.iso),
        "users",
        DEFAULT_USER_FIELDS,
        entity_type="user",
    )


def create_user(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS)
    tenant = call.customer()
    body = call.request.json()
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    for name in (
        "accountEnabled",
        "displayName",
        "mailNickname",
        "userPrincipalName",
        "passwordProfile",
    ):
        if body.get(name) in (None, ""):
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'User'.")
    upn = str(body["userPrincipalName"])
    _check_upn(tenant, upn)
    profile = body["passwordProfile"]
    if not isinstance(profile, dict) or len(str(profile.get("password") or "")) < 8:
        raise bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password."
        )
    nickname = str(body["mailNickname"])
    if len(nickname) > 64 or NICKNAME_FORBIDDEN.intersection(nickname):
        raise bad_request("Invalid value specified for property 'mailNickname' of resource 'User'.")
    location = body.get("usageLocation")
    if location is not None and not re.fullmatch(r"[A-Z]{2}", str(location)):
        raise bad_request(
            "Invalid value specified for property 'usageLocation' of resource 'User'."
        )
    user = User(
        id=str(uuid.uuid4()),
        user_principal_name=upn,
        display_name=str(body["displayName"]),
        mail_nickname=nickname,
        given_name=body.get("givenName"),
        surname=body.get("surname"),
        job_title=body.get("jobTitle"),
        department=body.get("department"),
        usage_location=location,
        account_enabled=bool(body["accountEnabled"]),
        created_at=call.now,
        visible_at=replicated_at(call),
        password_changed_at=call.now,
        force_change_password=bool(profile.get("forceChangePasswordNextSignIn", True)),
    )
    tenant.add_user(user)
    body_out = {
        "@odata.context": f"{call.base}/$metadata#users/$entity",
        **select(user_json(user, tenant, call.rt.clock.iso), list(DEFAULT_USER_FIELDS)),
    }
    return Response(
        201,
        body_out,
        {"Location": f"{call.base}/directoryObjects/{user.id}/Microsoft.DirectoryServices.User"},
    )


def _check_upn(tenant: Tenant, upn: str, *, current: User | None = None) -> None:
    local, at, domain = upn.rpartition("@")
    if not at or not local:
        raise bad_request(
            "Invalid value specified for property 'userPrincipalName' of resource 'User'."
        )
    if domain.lower() not in (d.lower() for d in tenant.domains):
        raise bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use "
            "one of the verified domain names in your organization."
        )
    holder = tenant.user_by_upn(upn)
    # A soft-deleted user still holds its UPN until it is purged.
    if holder is not None and holder is not current:
        raise bad_request(
            "Another object with the same value for property userPrincipalName already exists."
        )


def patch_user(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS, *PASSWORD_ROLES)
    tenant = call.customer()
    user = find_user(call, m.group(1))
    body = call.request.json()
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    for name in body:
        if name not in USER_PATCHABLE and not name.startswith("@"):
            raise bad_request(f"Invalid property '{name}'.")
    other = set(body) - {"passwordProfile"}
    if other:
        call.require(*WRITE_USERS)
    if "passwordProfile" in body:
        call.require(*PASSWORD_ROLES)
        # "In app-only scenarios, the calling app must be assigned a supported permission and
        # at least the User Administrator Microsoft Entra role"; Privileged Authentication
        # Administrator is the least privileged role that may reset an administrator
        # (api-reference/v1.0/resources/user.md, passwordProfile).
        call.require_directory_role(
            *(RESETS_ADMINISTRATORS if _holds_directory_role(call, user) else RESETS_USERS)
        )
        profile = body["passwordProfile"] or {}
        if len(str(profile.get("password") or "")) < 8:
            raise bad_request(
                "The specified password does not comply with password complexity requirements. Please provide a different password."
            )
        user.password_changed_at = call.now
        user.force_change_password = bool(profile.get("forceChangePasswordNextSignIn", False))
    if "userPrincipalName" in body:
        _check_upn(tenant, str(body["userPrincipalName"]), current=user)
        tenant.upn_index.pop(user.user_principal_name.lower(), None)
        user.user_principal_name = str(body["userPrincipalName"])
        tenant.upn_index[user.user_principal_name.lower()] = user.id
    if "usageLocation" in body:
        loc = body["usageLocation"]
        if loc is not None and not re.fullmatch(r"[A-Z]{2}", str(loc)):
            raise bad_request(
                "Invalid value specified for property 'usageLocation' of resource 'User'."
            )
        user.usage_location = loc
    simple = {
        "accountEnabled": "account_enabled",
        "displayName": "display_name",
        "givenName": "given_name",
        "surname": "surname",
        "jobTitle": "job_title",
        "department": "department",
        "mailNickname": "mail_nickname",
    }
    for key, attr in simple.items():
        if key in body:
            setattr(user, attr, body[key])
    return Response(204)


def _holds_directory_role(call: Call, user: User) -> bool:
    return user.is_admin or any(a.principal_id == user.id for a in call.customer().role_assignments)


def delete_user(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS)
    user = find_user(call, m.group(1))
    user.deleted_at = call.now
    return Response(204)


# --- licences -------------------------------------------------------------------------------------


def assign_license(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS, "LicenseAssignment.ReadWrite.All")
    tenant = call.customer()
    user = find_user(call, m.group(1))
    body = call.request.json() or {}
    add = body.get("addLicenses")
    remove = body.get("removeLicenses")
    if add is None or remove is None:
        raise bad_request("Invalid value specified for property 'addLicenses' or 'removeLicenses'.")
    for sku_id in remove:
        if str(sku_id).lower() not in user.licenses:
            raise bad_request("User does not have a corresponding license.")
    if add and not user.usage_location:
        raise bad_request("License assignment cannot be done for user with invalid usage location.")
    for entry in add:
        sid = str(entry.get("skuId", "")).lower()
        sku = tenant.skus.get(sid)
        if sku is None:
            raise bad_request(f"License {sid} does not correspond to a valid company License.")
        if sid not in user.licenses and tenant.consumed(sku) >= sku.units:
            raise bad_request(f"Subscription with SKU {sid} does not have any available licenses.")
    for sku_id in remove:
        user.licenses.remove(str(sku_id).lower())
        user.disabled_plans.pop(str(sku_id).lower(), None)
    for entry in add:
        sid = str(entry["skuId"]).lower()
        if sid not in user.licenses:
            user.licenses.append(sid)
        user.disabled_plans[sid] = list(entry.get("disabledPlans") or [])
    if user.licenses and user.recipient_type is None:
        user.recipient_type = "UserMailbox"
        user.mail = user.user_principal_name
    return Response(200, user_json(user, tenant, call.rt.clock.iso))


# --- open extensions ------------------------------------------------------------------------------


def list_extensions(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_USERS)
    user = find_user(call, m.group(1))
    return page(
        call,
        list(user.extensions.values()),
        f"users('{user.id}')/extensions",
        entity_type=None,  # open types: any property
    )


# Open extensions on directory objects, as the Graph docs give them
# (microsoftgraph/microsoft-graph-docs-contrib, concepts/extensibility-overview.md, "Comparison
# of extension types", and api-reference/v1.0/api/opentypeextension-update.md):
# - "Two open extensions per creator app per resource instance", "Max. of 2 Kb per open
#   extension" (for user, group, device and organization);
# - "The data in an extension can be primitive types, or arrays of primitive types";
# - PATCH: "you must specify *all* properties in the request body; otherwise, Microsoft Graph
#   will delete the unspecified properties" -- an update replaces the whole set.
# The docs give the limits, not the error Graph answers past them: the sandbox answers 400
# (for the third extension, with the wording users of the API report).
MAX_EXTENSIONS_PER_APP = 2
MAX_EXTENSION_BYTES = 2048
_EXTENSION_META = ("@odata.type", "@odata.context", "id", "extensionName")


def _custom_properties(body: dict[str, Any]) -> dict[str, Any]:
    """The extension's own data, checked against the limits above."""
    data = {k: v for k, v in body.items() if k not in _EXTENSION_META}
    for name, value in data.items():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, dict | list) for item in items):
            raise bad_request(
                f"The value of property '{name}' is not supported: an open extension holds "
                "primitive types or arrays of primitive types."
            )
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_EXTENSION_BYTES:
        raise bad_request(
            f"The open extension is {size} bytes; at most {MAX_EXTENSION_BYTES} bytes of "
            "properties are allowed per open extension."
        )
    return data


def create_extension(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS)
    user = find_user(call, m.group(1))
    body = call.request.json() or {}
    name = str(body.get("extensionName") or "")
    if not name:
        raise bad_request("Invalid value specified for property 'extensionName'.")
    if name in user.extensions:
        raise GraphError(409, "NameAlreadyExists", "An extension already exists with given id.")
    data = _custom_properties(body)
    mine = [n for n, owner in user.extension_owners.items() if owner == call.app_id]
    if len(mine) >= MAX_EXTENSIONS_PER_APP:
        # The wording users of the API report for the third extension of one app.
        raise bad_request(
            "Maximum number of extensions values supported per application is "
            f"{MAX_EXTENSIONS_PER_APP}."
        )
    ext = {
        "@odata.type": "#microsoft.graph.openTypeExtension",
        **data,
        "id": name,
        "extensionName": name,
    }
    user.extensions[name] = ext
    user.extension_owners[name] = call.app_id
    return Response(201, ext)


def _extension(call: Call, m: re.Match[str]) -> tuple[User, dict[str, Any]]:
    user = find_user(call, m.group(1))
    ext = user.extensions.get(m.group(2))
    if ext is None:
        raise GraphError(404, "ResourceNotFound", f"Extension '{m.group(2)}' was not found.")
    return user, ext


def get_extension(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_USERS)
    return Response(200, _extension(call, m)[1])


def patch_extension(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS)
    user, ext = _extension(call, m)
    data = _custom_properties(call.request.json() or {})
    # The properties given replace all of them (see the note above create_extension).
    user.extensions[m.group(2)] = {
        "@odata.type": ext.get("@odata.type", "#microsoft.graph.openTypeExtension"),
        **data,
        "id": ext["id"],
        "extensionName": ext["extensionName"],
    }
    return Response(204)


def delete_extension(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS)
    user, _ = _extension(call, m)
    del user.extensions[m.group(2)]
    user.extension_owners.pop(m.group(2), None)
    return Response(204)

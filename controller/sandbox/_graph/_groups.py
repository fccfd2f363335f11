"""Groups (security and Microsoft 365) and their members.

Distribution lists and mail-enabled security groups are listed here too (they are Graph
groups) but are read-only: Exchange owns them.

Graph v1.0 endpoints served:

- ``GET /groups``, ``POST /groups`` (``members@odata.bind`` accepted)
- ``GET /groups/{id}``, ``PATCH /groups/{id}``, ``DELETE /groups/{id}``
- ``GET /groups/{id}/members``: direct members as directoryObjects, with ``@odata.type``
- ``POST /groups/{id}/members/$ref``: add a member (``{"@odata.id": ".../{id}"}``)
- ``DELETE /groups/{id}/members/{memberId}/$ref``: remove a member
- ``DELETE /groups/{id}/members/{memberId}``: without ``/$ref``, deletes the member object
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from controller.sandbox._graph._odata import (
    Call,
    bad_request,
    entity,
    not_found,
    page,
    replicated_at,
    visible,
)
from controller.sandbox._graph._permissions import (
    READ_GROUPS,
    WRITE_GROUPS,
    WRITE_MEMBERS,
    WRITE_USERS,
)
from controller.sandbox._graph._schema import DIRECTORY_OBJECT
from controller.sandbox._graph._users import NICKNAME_FORBIDDEN, user_json
from controller.sandbox._http import Response
from controller.sandbox._world import Group, Tenant


def group_json(g: Group, clock_iso: Callable[[float], str]) -> dict[str, Any]:
    mail_enabled = g.kind in ("microsoft365", "distribution", "mailEnabledSecurity")
    return {
        "id": g.id,
        "displayName": g.display_name,
        "description": g.description,
        "mail": g.mail,
        "mailEnabled": mail_enabled,
        "mailNickname": g.mail_nickname,
        "securityEnabled": g.kind in ("security", "mailEnabledSecurity"),
        "groupTypes": ["Unified"] if g.kind == "microsoft365" else [],
        "visibility": "Private" if g.kind == "microsoft365" else None,
        "createdDateTime": clock_iso(g.created_at),
        "proxyAddresses": [f"SMTP:{g.mail}"] if g.mail else [],
        "deletedDateTime": clock_iso(g.deleted_at) if g.deleted_at else None,
    }


def find_group(call: Call, key: str) -> Group:
    group = call.customer().groups.get(key.lower())
    if group is None or not visible(group, call.now):
        raise not_found(key)
    return group


# --- groups ---------------------------------------------------------------------------------------


def list_groups(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_GROUPS)
    tenant = call.customer()
    rows = (
        group_json(g, call.rt.clock.iso) for g in tenant.groups.values() if visible(g, call.now)
    )
    return page(call, rows, "groups", entity_type="group")


def get_group(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_GROUPS)
    return entity(
        call,
        group_json(find_group(call, m.group(1)), call.rt.clock.iso),
        "groups",
        entity_type="group",
    )


def create_group(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_GROUPS)
    tenant = call.customer()
    body = call.request.json()
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    for name in ("displayName", "mailNickname", "mailEnabled", "securityEnabled"):
        if body.get(name) is None or body.get(name) == "":
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'Group'.")
    nickname = str(body["mailNickname"])
    if len(nickname) > 64 or NICKNAME_FORBIDDEN.intersection(nickname) or not nickname.isascii():
        raise bad_request(
            "Invalid value specified for property 'mailNickname' of resource 'Group'."
        )
    unified = "Unified" in (body.get("groupTypes") or [])
    if body["mailEnabled"] and not unified:
        raise bad_request("Cannot create a mail-enabled security groups and or distribution list.")
    if not unified and not body["securityEnabled"]:
        raise bad_request(
            "A group that is neither mail-enabled nor security-enabled cannot be created."
        )
    if unified and any(
        g.mail_nickname.lower() == nickname.lower() and g.mail
        for g in tenant.groups.values()
        if g.deleted_at is None
    ):
        # Mail-enabled groups need a unique alias (proxy address); security groups do not.
        raise bad_request(
            "Another object with the same value for property proxyAddresses already exists."
        )
    members: list[str] = []
    for ref in body.get("members@odata.bind") or []:
        oid = str(ref).rstrip("/").rsplit("/", 1)[-1].lower()
        if oid not in tenant.users and oid not in tenant.groups:
            raise not_found(oid)
        members.append(oid)
    group = Group(
        id=str(uuid.uuid4()),
        display_name=str(body["displayName"]),
        mail_nickname=nickname,
        kind="microsoft365" if unified else "security",
        description=body.get("description"),
        mail=f"{nickname}@{tenant.default_domain}" if unified else None,
        members=members,
        created_at=call.now,
        visible_at=replicated_at(call),
    )
    tenant.groups[group.id] = group
    return Response(
        201,
        {
            "@odata.context": f"{call.base}/$metadata#groups/$entity",
            **group_json(group, call.rt.clock.iso),
        },
    )


def _writable(group: Group) -> None:
    if not group.graph_writable:
        # Graph's own wording for distribution lists and mail-enabled security groups.
        raise bad_request("Cannot Update a mail-enabled security groups and or distribution list.")


def patch_group(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_GROUPS)
    group = find_group(call, m.group(1))
    _writable(group)
    body = call.request.json() or {}
    for key, attr in (
        ("displayName", "display_name"),
        ("description", "description"),
        ("mailNickname", "mail_nickname"),
    ):
        if key in body:
            setattr(group, attr, body[key])
    return Response(204)


def delete_group(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_GROUPS)
    group = find_group(call, m.group(1))
    _writable(group)
    group.deleted_at = call.now
    return Response(204)


# --- members --------------------------------------------------------------------------------------


def _member_json(
    tenant: Tenant, oid: str, clock_iso: Callable[[float], str]
) -> dict[str, Any] | None:
    user = tenant.users.get(oid)
    if user is not None:
        if user.deleted_at is not None:
            return None
        return {
            "@odata.type": "#microsoft.graph.user",
            **user_json(user, tenant, clock_iso),
        }
    group = tenant.groups.get(oid)
    if group is not None and group.deleted_at is None:
        return {"@odata.type": "#microsoft.graph.group", **group_json(group, clock_iso)}
    return None


def list_members(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_GROUPS)
    tenant = call.customer()
    group = find_group(call, m.group(1))
    rows = [
        row
        for oid in group.members
        if (row := _member_json(tenant, oid, call.rt.clock.iso)) is not None
    ]
    if "$select" in call.request.query:
        fields = call.request.query["$select"]
        if "@odata.type" not in fields:
            call.request.query = {**call.request.query, "$select": fields + ",@odata.type"}
    return page(call, rows, "directoryObjects", entity_type=DIRECTORY_OBJECT)


def add_member(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_MEMBERS)
    tenant = call.customer()
    group = find_group(call, m.group(1))
    _writable(group)
    body = call.request.json() or {}
    ref = str(body.get("@odata.id") or "")
    if not ref:
        raise bad_request("Invalid value specified for property '@odata.id'.")
    oid = ref.rstrip("/").rsplit("/", 1)[-1].lower()
    target = tenant.users.get(oid) or tenant.groups.get(oid)
    if target is None or target.visible_at > call.now or target.deleted_at is not None:
        raise not_found(oid)
    if oid in group.members:
        # Graph answers 400, not 409, when the member already exists.
        raise bad_request(
            "One or more added object references already exist for the following modified "
            "properties: 'members'."
        )
    group.members.append(oid)
    return Response(204)


def remove_member(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_MEMBERS)
    group = find_group(call, m.group(1))
    _writable(group)
    oid = m.group(2).lower()
    if oid not in group.members:
        raise not_found(oid)
    group.members.remove(oid)
    return Response(204)


def delete_member_object(call: Call, m: re.Match[str]) -> Response:
    """``DELETE /groups/{id}/members/{id}`` without ``/$ref`` deletes the member object
    itself, as the real service does: the classic way to lose a user."""
    group = find_group(call, m.group(1))
    oid = m.group(2).lower()
    if oid not in group.members:
        raise not_found(oid)
    tenant = call.customer()
    user = tenant.users.get(oid)
    if user is not None:
        call.require(*WRITE_USERS)
        if user.deleted_at is not None:
            raise not_found(oid)
        user.deleted_at = call.now
        return Response(204)
    inner = tenant.groups.get(oid)
    if inner is None or inner.deleted_at is not None:
        raise not_found(oid)
    call.require(*WRITE_GROUPS)
    _writable(inner)
    inner.deleted_at = call.now
    return Response(204)

"""Directory objects by id, and the recycle bin of soft-deleted users and Microsoft 365 groups.

Graph v1.0 endpoints served (api-reference/v1.0/api/directory-deleteditems-*.md):

- ``GET /directoryObjects/{id}``: a live user or group, with its ``@odata.type``
- ``GET /directory/deletedItems/microsoft.graph.user``,
  ``GET /directory/deletedItems/microsoft.graph.group``: the items deleted less than 30 days
  ago, by type; the SDKs ask for the same with the short cast segment, which Graph accepts as
  well: ``GET /directory/deletedItems/graph.user``, ``GET /directory/deletedItems/graph.group``
- ``GET /directory/deletedItems/{id}``: one deleted item, with its ``@odata.type``
- ``POST /directory/deletedItems/{id}/restore``: bring a user or a Microsoft 365 group back;
  200 with the restored directoryObject, ``@odata.context`` and ``@odata.type``. Security
  groups are deleted permanently ("This is not applicable to security groups").
"""

from __future__ import annotations

import re
from typing import Any

from controller.sandbox._graph._groups import group_json
from controller.sandbox._graph._odata import Call, entity, not_found, page, visible
from controller.sandbox._graph._permissions import (
    READ_DIRECTORY,
    READ_GROUPS,
    READ_USERS,
    WRITE_GROUPS,
    WRITE_USERS,
)
from controller.sandbox._graph._schema import DIRECTORY_OBJECT
from controller.sandbox._graph._users import DEFAULT_USER_FIELDS, user_json
from controller.sandbox._http import Response
from controller.sandbox._world import SOFT_DELETE_RETENTION, Group, User


def get_directory_object(call: Call, m: re.Match[str]) -> Response:
    """``GET /directoryObjects/{id}``: a live user or group by id (404 when soft-deleted,
    as Graph answers; deleted ones are under ``/directory/deletedItems``)."""
    call.require(*READ_DIRECTORY, *READ_USERS)
    tenant = call.customer()
    key = m.group(1).lower()
    user = tenant.users.get(key)
    if user is not None and user.deleted_at is None and user.visible_at <= call.now:
        row = {"@odata.type": "#microsoft.graph.user", **user_json(user, tenant, call.rt.clock.iso)}
        return entity(
            call, row, "directoryObjects", DEFAULT_USER_FIELDS, entity_type=DIRECTORY_OBJECT
        )
    group = tenant.groups.get(key)
    if group is not None and visible(group, call.now):
        row = {"@odata.type": "#microsoft.graph.group", **group_json(group, call.rt.clock.iso)}
        return entity(call, row, "directoryObjects", entity_type=DIRECTORY_OBJECT)
    raise not_found(key)


def _restorable(obj: User | Group | None, now: float) -> bool:
    if obj is None or obj.deleted_at is None or obj.deleted_at + SOFT_DELETE_RETENTION <= now:
        return False
    return not isinstance(obj, Group) or obj.kind == "microsoft365"


def _deleted_json(call: Call, obj: User | Group) -> dict[str, Any]:
    if isinstance(obj, User):
        body = user_json(obj, call.customer(), call.rt.clock.iso)
        return {"@odata.type": "#microsoft.graph.user", **body}
    return {"@odata.type": "#microsoft.graph.group", **group_json(obj, call.rt.clock.iso)}


def _deleted(call: Call, key: str) -> User | Group:
    tenant = call.customer()
    found: User | Group | None = tenant.users.get(key.lower()) or tenant.groups.get(key.lower())
    if not _restorable(found, call.now):
        raise not_found(key)
    assert found is not None
    return found


def deleted_users(call: Call, m: re.Match[str]) -> Response:
    return _deleted_items(call, "user")


def deleted_groups(call: Call, m: re.Match[str]) -> Response:
    return _deleted_items(call, "group")


def _deleted_items(call: Call, kind: str) -> Response:
    tenant = call.customer()
    objects: list[User | Group]
    if kind == "user":
        call.require(*READ_USERS)
        objects = [u for u in tenant.users.values() if _restorable(u, call.now)]
    else:
        call.require(*READ_GROUPS)
        objects = [g for g in tenant.groups.values() if _restorable(g, call.now)]
    rows = [_deleted_json(call, o) for o in objects]
    return page(call, rows, f"directory/deletedItems/microsoft.graph.{kind}", entity_type=kind)


def get_deleted_item(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_USERS, *READ_GROUPS)
    found = _deleted(call, m.group(1))
    return entity(
        call, _deleted_json(call, found), "directoryObjects", entity_type=DIRECTORY_OBJECT
    )


def restore(call: Call, m: re.Match[str]) -> Response:
    tenant = call.customer()
    key = m.group(1).lower()
    candidate = tenant.users.get(key) or tenant.groups.get(key)
    call.require(*(WRITE_USERS if isinstance(candidate, User) else WRITE_GROUPS))
    found = _deleted(call, key)
    found.deleted_at = None
    body = {
        "@odata.context": f"{call.base}/$metadata#directoryObjects/$entity",
        **_deleted_json(call, found),
    }
    return Response(200, body)

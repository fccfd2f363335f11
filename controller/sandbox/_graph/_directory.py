"""Directory objects by id, and the recycle bin of soft-deleted users.

Graph v1.0 endpoints served:

- ``GET /directoryObjects/{id}``: a live user or group, with its ``@odata.type``
- ``GET /directory/deletedItems/microsoft.graph.user``: users deleted less than 30 days ago
- ``POST /directory/deletedItems/{id}/restore``: bring a soft-deleted user back
"""

from __future__ import annotations

import re

from controller.sandbox._graph._groups import group_json
from controller.sandbox._graph._odata import Call, entity, not_found, page, visible
from controller.sandbox._graph._permissions import READ_DIRECTORY, READ_USERS, WRITE_USERS
from controller.sandbox._graph._users import DEFAULT_USER_FIELDS, find_user, user_json
from controller.sandbox._http import Response
from controller.sandbox._world import SOFT_DELETE_RETENTION


def get_directory_object(call: Call, m: re.Match[str]) -> Response:
    """``GET /directoryObjects/{id}``: a live user or group by id (404 when soft-deleted,
    as Graph answers; deleted ones are under ``/directory/deletedItems``)."""
    call.require(*READ_DIRECTORY, *READ_USERS)
    tenant = call.customer()
    key = m.group(1).lower()
    user = tenant.users.get(key)
    if user is not None and user.deleted_at is None and user.visible_at <= call.now:
        row = {"@odata.type": "#microsoft.graph.user", **user_json(user, tenant, call.rt.clock.iso)}
        return entity(call, row, "directoryObjects", DEFAULT_USER_FIELDS)
    group = tenant.groups.get(key)
    if group is not None and visible(group, call.now):
        row = {"@odata.type": "#microsoft.graph.group", **group_json(group, call.rt.clock.iso)}
        return entity(call, row, "directoryObjects")
    raise not_found(key)


def deleted_users(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_USERS)
    tenant = call.customer()
    rows = [
        user_json(u, tenant, call.rt.clock.iso)
        for u in tenant.users.values()
        if u.deleted_at is not None and u.deleted_at + SOFT_DELETE_RETENTION > call.now
    ]
    return page(call, rows, "directory/deletedItems/microsoft.graph.user")


def restore(call: Call, m: re.Match[str]) -> Response:
    call.require(*WRITE_USERS)
    user = find_user(call, m.group(1), deleted=True)
    if user.deleted_at is not None and user.deleted_at + SOFT_DELETE_RETENTION <= call.now:
        raise not_found(m.group(1))
    user.deleted_at = None
    return Response(200, user_json(user, call.customer(), call.rt.clock.iso))

"""Directory role assignments (unified RBAC), e.g. Exchange Administrator for the app.

Graph v1.0 endpoints served:

- ``GET /roleManagement/directory/roleAssignments``
- ``POST /roleManagement/directory/roleAssignments``: needs
  RoleManagement.ReadWrite.Directory, which a freshly consented app does not hold
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from controller.sandbox._graph._odata import Call, bad_request, page
from controller.sandbox._graph._permissions import READ_ROLES
from controller.sandbox._http import Response
from controller.sandbox._world import RoleAssignment


def _role_json(a: RoleAssignment) -> dict[str, Any]:
    return {
        "id": a.id,
        "roleDefinitionId": a.role_definition_id,
        "principalId": a.principal_id,
        "directoryScopeId": a.directory_scope_id,
    }


def role_assignments(call: Call, m: re.Match[str]) -> Response:
    call.require(*READ_ROLES)
    rows = [_role_json(a) for a in call.customer().role_assignments]
    return page(
        call, rows, "roleManagement/directory/roleAssignments", entity_type="unifiedRoleAssignment"
    )


def create_role_assignment(call: Call, m: re.Match[str]) -> Response:
    call.require("RoleManagement.ReadWrite.Directory")
    tenant = call.customer()
    body = call.request.json() or {}
    principal = str(body.get("principalId", "")).lower()
    role = str(body.get("roleDefinitionId", "")).lower()
    if not role or (principal not in tenant.service_principals and principal not in tenant.users):
        raise bad_request("Invalid principal or role definition.")
    if any(
        a.principal_id == principal and a.role_definition_id == role
        for a in tenant.role_assignments
    ):
        raise bad_request(
            "A conflicting object with one or more of the specified property values is present in the directory.",
            "Request_BadRequest",
        )
    assignment = RoleAssignment(
        id=str(uuid.uuid4()),
        role_definition_id=role,
        principal_id=principal,
        directory_scope_id=str(body.get("directoryScopeId", "/")),
        created_at=call.now,
    )
    tenant.role_assignments.append(assignment)
    return Response(201, _role_json(assignment))

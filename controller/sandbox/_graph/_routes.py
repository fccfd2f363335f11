"""The route table, and the dispatcher that runs one request through it.

Every Graph v1.0 path the sandbox serves is one line of ``ROUTES``: method, path pattern
(under ``/v1.0``, anchored at both ends), handler, and what the throttle needs to know: the
cost in resource units, whether it is a write, and its budget kind. No two routes match the
same request, so the order is for the reader. ``$batch`` is not a route: the service runs it
before routing, and each batch item comes back through ``execute``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from controller.sandbox._graph import (
    _applications,
    _directory,
    _directory_roles,
    _gdap,
    _groups,
    _organization,
    _reports,
    _users,
)
from controller.sandbox._graph._odata import Call, GraphError, bad_request, error_response
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import Runtime

Handler = Callable[[Call, re.Match[str]], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    cost: int = 1
    write: bool = False
    kind: str = ""


def _route(
    method: str,
    pattern: str,
    handler: Handler,
    *,
    cost: int = 1,
    write: bool = False,
    kind: str = "",
) -> Route:
    return Route(method, re.compile(f"^{pattern}$"), handler, cost, write, kind)


r = _route  # short, so that most routes fit on one line
ROUTES: tuple[Route, ...] = (
    r("GET", r"/organization", _organization.organization),
    r("GET", r"/directoryObjects/([^/]+)", _directory.get_directory_object),
    r("GET", r"/tenantRelationships/delegatedAdminCustomers", _gdap.gdap_customers),
    r("GET", r"/tenantRelationships/delegatedAdminRelationships", _gdap.gdap_relationships),
    r("GET", r"/applications\(appId='([^']+)'\)", _applications.get_application),
    r("GET", r"/applications/([^/]+)", _applications.get_application),
    r("GET", r"/servicePrincipals", _applications.list_sps),
    r("POST", r"/servicePrincipals", _applications.create_sp, write=True),
    r("GET", r"/servicePrincipals/([^/]+)", _applications.get_sp),
    r("GET", r"/servicePrincipals/([^/]+)/appRoleAssignments", _applications.sp_assignments),
    r("GET", r"/servicePrincipals/([^/]+)/appRoleAssignedTo", _applications.sp_assigned_to),
    r(
        "POST",
        r"/servicePrincipals/([^/]+)/appRoleAssignedTo",
        _applications.create_assigned_to,
        write=True,
    ),
    r("GET", r"/roleManagement/directory/roleAssignments", _directory_roles.role_assignments),
    r(
        "POST",
        r"/roleManagement/directory/roleAssignments",
        _directory_roles.create_role_assignment,
        write=True,
    ),
    r("GET", r"/users", _users.list_users, cost=2),
    r("POST", r"/users", _users.create_user, write=True),
    r("GET", r"/users/([^/]+)", _users.get_user),
    r("PATCH", r"/users/([^/]+)", _users.patch_user, write=True),
    r("DELETE", r"/users/([^/]+)", _users.delete_user, write=True),
    r("POST", r"/users/([^/]+)/assignLicense", _users.assign_license, write=True),
    r("GET", r"/users/([^/]+)/extensions", _users.list_extensions),
    r("POST", r"/users/([^/]+)/extensions", _users.create_extension, write=True),
    r("GET", r"/users/([^/]+)/extensions/([^/]+)", _users.get_extension),
    r("PATCH", r"/users/([^/]+)/extensions/([^/]+)", _users.patch_extension, write=True),
    r("DELETE", r"/users/([^/]+)/extensions/([^/]+)", _users.delete_extension, write=True),
    # The full cast segment, and the short one every generated SDK sends (graph.user).
    r("GET", r"/directory/deletedItems/microsoft\.graph\.user", _directory.deleted_users, cost=2),
    r("GET", r"/directory/deletedItems/graph\.user", _directory.deleted_users, cost=2),
    r("GET", r"/directory/deletedItems/microsoft\.graph\.group", _directory.deleted_groups, cost=2),
    r("GET", r"/directory/deletedItems/graph\.group", _directory.deleted_groups, cost=2),
    r("GET", r"/directory/deletedItems/([^/.]+)", _directory.get_deleted_item),
    r("POST", r"/directory/deletedItems/([^/]+)/restore", _directory.restore, write=True),
    r("GET", r"/subscribedSkus", _organization.subscribed_skus, cost=3),
    r("GET", r"/groups", _groups.list_groups, cost=2),
    r("POST", r"/groups", _groups.create_group, write=True),
    r("GET", r"/groups/([^/]+)", _groups.get_group),
    r("PATCH", r"/groups/([^/]+)", _groups.patch_group, write=True),
    r("DELETE", r"/groups/([^/]+)", _groups.delete_group, write=True),
    r("GET", r"/groups/([^/]+)/members", _groups.list_members, cost=3),
    r("POST", r"/groups/([^/]+)/members/\$ref", _groups.add_member, write=True),
    r("DELETE", r"/groups/([^/]+)/members/([^/]+)/\$ref", _groups.remove_member, write=True),
    r("DELETE", r"/groups/([^/]+)/members/([^/$]+)", _groups.delete_member_object, write=True),
    r(
        "GET",
        r"/reports/authenticationMethods/userRegistrationDetails",
        _reports.registration,
        cost=2,
    ),
    r("GET", r"/identityProtection/riskyUsers", _reports.risky_users, kind="risky"),
)


def execute(
    call: Call,
    method: str,
    path: str,
    request: Request,
    *,
    rid: str,
    client_rid: str,
) -> Response:
    """One Graph request (top level or a $batch item): route, throttle, run."""
    rt = call.rt
    if not path.startswith("/v1.0/"):
        return error_response(
            rt, bad_request("Invalid version: " + path.split("/")[1]), rid, client_rid
        )
    sub = path[len("/v1.0") :].rstrip("/") or "/"
    call.request = request
    for route in ROUTES:
        if route.method != method:
            continue
        m = route.pattern.match(sub)
        if m is None:
            continue
        cost = _resource_units(route, request.query)
        tenant = call.tenant
        users = len(tenant.users) if tenant else 0
        wait = rt.throttle.take(
            call.tenant_id, cost, write=route.write, user_count=users, kind=route.kind
        )
        if wait:
            return _too_many_requests(rt, wait, rid, client_rid)
        try:
            response = route.handler(call, m)
        except GraphError as problem:
            response = error_response(rt, problem, rid, client_rid)
        response.resource_units = cost
        response.headers.setdefault("request-id", rid)
        response.headers.setdefault("client-request-id", client_rid)
        response.headers["x-ms-resource-unit"] = str(int(cost))
        if rt.throttle.enabled:
            response.headers["x-ms-throttle-limit-percentage"] = "0.1"
        return response
    # Graph's answer to a path it does not serve: 400 with the generic code BadRequest.
    return error_response(
        rt,
        bad_request(
            f"Resource not found for the segment '{sub.strip('/').split('/')[0]}'.", "BadRequest"
        ),
        rid,
        client_rid,
    )


def _resource_units(route: Route, query: dict[str, str]) -> float:
    """What the request costs: ``$select`` saves 1 unit (never below 1), ``$expand`` adds 1."""
    cost = float(route.cost)
    if "$select" in query and cost > 1:
        cost -= 1
    if "$expand" in query:
        cost += 1
    return cost


def _too_many_requests(rt: Runtime, wait: float, rid: str, client_rid: str) -> Response:
    response = error_response(
        rt,
        GraphError(
            429,
            "TooManyRequests",
            "Too many requests. Please retry after some time.",
            {"Retry-After": str(int(wait))},
        ),
        rid,
        client_rid,
    )
    response.throttled = True
    response.resource_units = 0
    return response

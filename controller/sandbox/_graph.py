"""Microsoft Graph v1.0: the subset tenantctl uses, with Graph's mechanics.

Enforces the app roles carried in the token (403 ``Authorization_RequestDenied``), answers
with Graph's error body and a ``request-id`` header, pages with ``@odata.nextLink``, hides new
objects for the replication delay, throttles per tenant in resource units (``x-ms-resource-unit``)
and runs ``$batch`` with per-item status, ``dependsOn``/424 and per-item 429.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from controller.sandbox._behaviour import RequestRecord
from controller.sandbox._catalog import EXCHANGE_APP_ID, GRAPH_APP_ID
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import AuthFailure, Runtime, authenticate
from controller.sandbox._world import (
    SOFT_DELETE_RETENTION,
    AppRoleAssignment,
    Group,
    RoleAssignment,
    ServicePrincipal,
    Tenant,
    User,
    create_app_principal,
    resource_principals,
)

READ_USERS = (
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
WRITE_USERS = ("User.ReadWrite.All", "Directory.ReadWrite.All")
READ_GROUPS = (
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
WRITE_GROUPS = ("Group.ReadWrite.All", "Directory.ReadWrite.All")
WRITE_MEMBERS = ("Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.ReadWrite.All")
READ_DIRECTORY = ("Directory.Read.All", "Directory.ReadWrite.All", "Organization.Read.All")
READ_APPS = (
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
READ_ROLES = (
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
PASSWORD_ROLES = ("User-PasswordProfile.ReadWrite.All", "Directory.ReadWrite.All")

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
_NICKNAME_FORBIDDEN = set(' @()[]";:.<>,\\')


class GraphError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def not_found(key: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


@dataclass
class Call:
    rt: Runtime
    request: Request
    tenant: Tenant | None  # None for the partner tenant
    tenant_id: str
    roles: frozenset[str]
    now: float
    base: str  # {graph}/v1.0

    def require(self, *any_of: str) -> None:
        if not self.roles.intersection(any_of):
            raise denied()

    def customer(self) -> Tenant:
        if self.tenant is None:
            raise not_found(self.tenant_id)
        return self.tenant


Handler = Callable[[Call, re.Match[str]], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    cost: int = 1
    write: bool = False
    kind: str = ""


def _visible(obj: User | Group | ServicePrincipal, now: float) -> bool:
    if obj.visible_at > now:
        return False
    return getattr(obj, "deleted_at", None) is None


# --- serialisation ------------------------------------------------------------------------


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
        "deletedDateTime": None,
    }


def sp_json(sp: ServicePrincipal) -> dict[str, Any]:
    return {
        "id": sp.id,
        "appId": sp.app_id,
        "displayName": sp.display_name,
        "appDisplayName": sp.display_name,
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appRoles": sp.app_roles,
    }


# --- $filter -------------------------------------------------------------------------------

_EQ = re.compile(r"^([\w/]+)\s+eq\s+('(?:[^']|'')*'|true|false|null|[0-9a-fA-F-]{36})$", re.I)
_STARTS = re.compile(r"^startswith\(\s*([\w/]+)\s*,\s*'((?:[^']|'')*)'\s*\)$", re.I)
_IN = re.compile(r"^([\w/]+)\s+in\s+\((.*)\)$", re.I)
_AND = re.compile(r"\s+and\s+", re.I)


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return {"true": True, "false": False, "null": None}.get(text.lower(), text)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return bool(a == b)


def _equals(name: str, values: list[Any]) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: any(_same(obj.get(name), v) for v in values)


def _starts(name: str, prefix: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: str(obj.get(name) or "").casefold().startswith(prefix)


def compile_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    clauses: list[Callable[[dict[str, Any]], bool]] = []
    for raw in _AND.split(text.strip()):
        clause = raw.strip()
        if m := _EQ.match(clause):
            clauses.append(_equals(m.group(1), [_literal(m.group(2))]))
        elif m := _STARTS.match(clause):
            clauses.append(_starts(m.group(1), str(_literal(f"'{m.group(2)}'")).casefold()))
        elif m := _IN.match(clause):
            values = [_literal(v.strip()) for v in m.group(2).split(",") if v.strip()]
            clauses.append(_equals(m.group(1), values))
        else:
            raise bad_request("Unsupported Query.", "Request_UnsupportedQuery")
    return lambda obj: all(c(obj) for c in clauses)


def _select(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return obj
    return {f: obj.get(f) for f in fields if f in obj or f != "@odata.type"}


class GraphService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.routes: list[Route] = []
        self._register()

    # --- entry points ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        rid = str(uuid.uuid4())
        client_rid = request.headers.get("client-request-id", rid)
        try:
            claims = authenticate(self.rt, request, "graph")
        except AuthFailure as failure:
            return self.error_response(
                GraphError(failure.status, "InvalidAuthenticationToken", failure.message),
                rid,
                client_rid,
            )
        tid = str(claims["tid"])
        now = self.rt.clock.now()
        call = Call(
            rt=self.rt,
            request=request,
            tenant=self.rt.world.tenants.get(tid),
            tenant_id=tid,
            roles=frozenset(claims.get("roles") or []),
            now=now,
            base=f"{request.base_url}/v1.0",
        )
        if request.method == "POST" and request.path == "/v1.0/$batch":
            response = self._batch(call, rid)
        else:
            response = self.execute(
                call, request.method, request.path, request, rid=rid, client_rid=client_rid
            )
        response.tenant_id = tid
        return response

    def execute(
        self,
        call: Call,
        method: str,
        path: str,
        request: Request,
        *,
        rid: str,
        client_rid: str,
        in_batch: bool = False,
    ) -> Response:
        """One Graph request (top level or a $batch item): route, throttle, run."""
        if not path.startswith("/v1.0/"):
            return self.error_response(
                bad_request("Invalid version: " + path.split("/")[1]), rid, client_rid
            )
        sub = path[len("/v1.0") :].rstrip("/") or "/"
        call.request = request
        for route in self.routes:
            if route.method != method:
                continue
            m = route.pattern.match(sub)
            if m is None:
                continue
            cost = float(route.cost)
            if "$select" in request.query and cost > 1:
                cost -= 1  # $select saves 1 unit
            if "$expand" in request.query:
                cost += 1
            tenant = call.tenant
            users = len(tenant.users) if tenant else 0
            wait = self.rt.throttle.take(
                call.tenant_id, cost, write=route.write, user_count=users, kind=route.kind
            )
            if wait:
                response = self.error_response(
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
            try:
                response = route.handler(call, m)
            except GraphError as problem:
                response = self.error_response(problem, rid, client_rid)
            response.resource_units = cost
            response.headers.setdefault("request-id", rid)
            response.headers.setdefault("client-request-id", client_rid)
            response.headers["x-ms-resource-unit"] = str(int(cost))
            if self.rt.throttle.enabled:
                response.headers["x-ms-throttle-limit-percentage"] = "0.1"
            return response
        return self.error_response(
            bad_request(f"Resource not found for the segment '{sub.strip('/').split('/')[0]}'."),
            rid,
            client_rid,
        )

    def error_response(self, problem: GraphError, rid: str, client_rid: str) -> Response:
        body = {
            "error": {
                "code": problem.code,
                "message": problem.message,
                "innerError": {
                    "date": self.rt.clock.iso(),
                    "request-id": rid,
                    "client-request-id": client_rid,
                },
            }
        }
        headers = {"request-id": rid, "client-request-id": client_rid, **problem.headers}
        return Response(problem.status, body, headers)

    # --- $batch ----------------------------------------------------------------------------

    def _batch(self, outer: Call, rid: str) -> Response:
        request = outer.request
        client_rid = request.headers.get("client-request-id", rid)
        try:
            body = request.json()
            items = body["requests"]
            if not isinstance(items, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self.error_response(
                bad_request("Invalid batch payload format.", "BadRequest"), rid, client_rid
            )
        if len(items) > 20:
            return self.error_response(
                bad_request("The number of batch requests exceeds the limit of 20.", "BadRequest"),
                rid,
                client_rid,
            )
        ids = [str(item.get("id")) for item in items]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            return self.error_response(
                bad_request(f"Request Id [{dup}] is duplicated.", "BadRequest"), rid, client_rid
            )
        for item in items:
            for dep in item.get("dependsOn") or []:
                if str(dep) not in ids:
                    return self.error_response(
                        bad_request(
                            f"Request [{item.get('id')}] depends on an unknown request [{dep}].",
                            "BadRequest",
                        ),
                        rid,
                        client_rid,
                    )
            if not item.get("method") or not item.get("url"):
                return self.error_response(
                    bad_request(
                        "Each batch request needs an id, a method and a url.", "BadRequest"
                    ),
                    rid,
                    client_rid,
                )
        statuses: dict[str, int] = {}
        answers: list[dict[str, Any]] = []
        total_units = 0.0
        pending = list(items)
        # Run in dependency order; items whose dependencies failed answer 424.
        while pending:
            progressed = False
            for item in list(pending):
                deps = [str(d) for d in item.get("dependsOn") or []]
                if any(d not in statuses for d in deps):
                    continue
                pending.remove(item)
                progressed = True
                item_id = str(item["id"])
                if any(statuses[d] >= 400 for d in deps):
                    statuses[item_id] = 424
                    answers.append(
                        {
                            "id": item_id,
                            "status": 424,
                            "headers": {"Content-Type": "application/json"},
                            "body": {
                                "error": {
                                    "code": "FailedDependency",
                                    "message": "The dependent request failed.",
                                }
                            },
                        }
                    )
                    continue
                answer, units = self._batch_item(outer, item, rid)
                total_units += units
                statuses[item_id] = int(answer["status"])
                answers.append(answer)
            if not progressed:  # a dependency cycle
                return self.error_response(
                    bad_request("Batch requests have a circular dependency.", "BadRequest"),
                    rid,
                    client_rid,
                )
        # Graph answers in any order; so does the sandbox, so clients must match by id.
        self.rt.rng.shuffle(answers)
        response = Response(200, {"responses": answers}, {"request-id": rid})
        response.batch_size = len(items)
        response.resource_units = total_units
        return response

    def _batch_item(
        self, outer: Call, item: dict[str, Any], rid: str
    ) -> tuple[dict[str, Any], float]:
        url = str(item["url"])
        if urlsplit(url).scheme:
            answer = {
                "id": str(item["id"]),
                "status": 400,
                "headers": {"Content-Type": "application/json"},
                "body": {
                    "error": {
                        "code": "BadRequest",
                        "message": "Invalid request url: it must be relative.",
                    }
                },
            }
            return answer, 0.0
        target = "/v1.0/" + url.lstrip("/")
        headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        headers["authorization"] = outer.request.headers.get("authorization", "")
        body = item.get("body")
        raw = b"" if body is None else json.dumps(body).encode()
        sub_request = Request.build(
            "graph", str(item["method"]), target, headers, raw, outer.request.base_url
        )
        item_rid = str(uuid.uuid4())
        fault = self.rt.faults.take(
            "graph", sub_request.method, sub_request.full_path, outer.tenant_id
        )
        if fault is not None and not fault.drop:
            problem = GraphError(
                fault.status,
                "TooManyRequests" if fault.status == 429 else "serviceNotAvailable",
                "Injected fault.",
                {"Retry-After": str(fault.retry_after or 1)} if fault.status in (429, 503) else {},
            )
            response = self.error_response(problem, item_rid, item_rid)
            response.fault = True
        else:
            call = Call(
                rt=self.rt,
                request=sub_request,
                tenant=outer.tenant,
                tenant_id=outer.tenant_id,
                roles=outer.roles,
                now=outer.now,
                base=outer.base,
            )
            response = self.execute(
                call,
                sub_request.method,
                sub_request.path,
                sub_request,
                rid=item_rid,
                client_rid=item_rid,
                in_batch=True,
            )
        self.rt.accounting.add(
            RequestRecord(
                service="graph",
                method=sub_request.method,
                path=sub_request.full_path,
                tenant_id=outer.tenant_id,
                status=response.status,
                resource_units=response.resource_units,
                at=outer.now,
                in_batch=True,
                fault=response.fault,
                throttled=response.throttled,
            )
        )
        item_headers = {"Content-Type": "application/json"} if response.body is not None else {}
        item_headers.update(response.headers)
        answer = {"id": str(item["id"]), "status": response.status, "headers": item_headers}
        if response.body is not None:
            answer["body"] = response.body
        return answer, response.resource_units

    # --- helpers ---------------------------------------------------------------------------

    def _list(
        self,
        call: Call,
        objects: Iterable[dict[str, Any]],
        context: str,
        *,
        default_fields: tuple[str, ...] | None = None,
        page_size: int | None = None,
    ) -> Response:
        q = call.request.query
        items: Iterable[dict[str, Any]] = objects
        if "$filter" in q:
            predicate = compile_filter(q["$filter"])
            items = (o for o in items if predicate(o))
        if ("$count" in q or "$search" in q) and call.request.headers.get(
            "consistencylevel", ""
        ).lower() != "eventual":
            raise bad_request(
                "$count and $search need the ConsistencyLevel: eventual header.",
                "Request_UnsupportedQuery",
            )
        selected = [f.strip() for f in q["$select"].split(",")] if "$select" in q else None
        fields = (
            selected if selected is not None else (list(default_fields) if default_fields else None)
        )
        rows = list(items)
        top = page_size or call.rt.world.settings.default_page_size
        if "$top" in q:
            try:
                top = int(q["$top"])
            except ValueError:
                raise bad_request(f"Invalid page size specified: '{q['$top']}'.") from None
            if not 1 <= top <= 999:
                raise bad_request(
                    f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
                )
        offset = 0
        if "$skiptoken" in q:
            try:
                offset = int(base64.urlsafe_b64decode(q["$skiptoken"].encode()).decode()[2:])
            except ValueError:
                raise bad_request("Invalid skip token.", "Directory_ExpiredPageToken") from None
        page = rows[offset : offset + top]
        body: dict[str, Any] = {"@odata.context": f"{call.base}/$metadata#{context}"}
        if "$count" in q:
            body["@odata.count"] = len(rows)
        body["value"] = [_select(o, fields) for o in page]
        if offset + top < len(rows):
            params = {k: v for k, v in q.items() if k != "$skiptoken"}
            params["$skiptoken"] = base64.urlsafe_b64encode(f"o:{offset + top}".encode()).decode()
            body["@odata.nextLink"] = (
                f"{call.base}{call.request.path[len('/v1.0') :]}?"
                + urlencode(params, safe="$,'() ").replace(" ", "%20")
            )
        return Response(200, body)

    def _one(
        self,
        call: Call,
        obj: dict[str, Any],
        context: str,
        default_fields: tuple[str, ...] | None = None,
    ) -> Response:
        q = call.request.query
        fields = (
            [f.strip() for f in q["$select"].split(",")]
            if "$select" in q
            else (list(default_fields) if default_fields else None)
        )
        body = {
            "@odata.context": f"{call.base}/$metadata#{context}/$entity",
            **_select(obj, fields),
        }
        return Response(200, body)

    def _user(self, call: Call, key: str, *, deleted: bool = False) -> User:
        tenant = call.customer()
        user = tenant.users.get(key.lower()) or tenant.user_by_upn(key)
        if user is None or user.visible_at > call.now:
            raise not_found(key)
        if (user.deleted_at is not None) != deleted:
            raise not_found(key)
        return user

    def _group(self, call: Call, key: str) -> Group:
        group = call.customer().groups.get(key.lower())
        if group is None or not _visible(group, call.now):
            raise not_found(key)
        return group

    def _iso(self, at: float) -> str:
        return self.rt.clock.iso(at)

    def _visible_users(self, call: Call) -> Iterable[dict[str, Any]]:
        tenant = call.customer()
        now = call.now
        return (
            user_json(u, tenant, self._iso)
            for u in tenant.users.values()
            if u.deleted_at is None and u.visible_at <= now
        )

    def _replicated(self, call: Call) -> float:
        return call.now + self.rt.world.settings.replication_delay

    # --- routes ----------------------------------------------------------------------------

    def _register(self) -> None:
        r = self._route
        r("GET", r"/organization", self.organization)
        r("GET", r"/directoryObjects/([^/]+)", self.get_directory_object)
        r("GET", r"/tenantRelationships/delegatedAdminCustomers", self.gdap_customers)
        r("GET", r"/tenantRelationships/delegatedAdminRelationships", self.gdap_relationships)
        r("GET", r"/servicePrincipals", self.list_sps)
        r("POST", r"/servicePrincipals", self.create_sp, write=True)
        r("GET", r"/servicePrincipals/([^/]+)", self.get_sp)
        r("GET", r"/servicePrincipals/([^/]+)/appRoleAssignments", self.sp_assignments)
        r("GET", r"/servicePrincipals/([^/]+)/appRoleAssignedTo", self.sp_assigned_to)
        r(
            "POST",
            r"/servicePrincipals/([^/]+)/appRoleAssignedTo",
            self.create_assigned_to,
            write=True,
        )
        r("GET", r"/roleManagement/directory/roleAssignments", self.role_assignments)
        r(
            "POST",
            r"/roleManagement/directory/roleAssignments",
            self.create_role_assignment,
            write=True,
        )
        r("GET", r"/users", self.list_users, cost=2)
        r("POST", r"/users", self.create_user, write=True)
        r("GET", r"/users/([^/]+)", self.get_user)
        r("PATCH", r"/users/([^/]+)", self.patch_user, write=True)
        r("DELETE", r"/users/([^/]+)", self.delete_user, write=True)
        r("POST", r"/users/([^/]+)/assignLicense", self.assign_license, write=True)
        r("GET", r"/users/([^/]+)/extensions", self.list_extensions)
        r("POST", r"/users/([^/]+)/extensions", self.create_extension, write=True)
        r("GET", r"/users/([^/]+)/extensions/([^/]+)", self.get_extension)
        r("PATCH", r"/users/([^/]+)/extensions/([^/]+)", self.patch_extension, write=True)
        r("DELETE", r"/users/([^/]+)/extensions/([^/]+)", self.delete_extension, write=True)
        r("GET", r"/directory/deletedItems/microsoft\.graph\.user", self.deleted_users, cost=2)
        r("POST", r"/directory/deletedItems/([^/]+)/restore", self.restore, write=True)
        r("GET", r"/subscribedSkus", self.subscribed_skus, cost=3)
        r("GET", r"/groups", self.list_groups, cost=2)
        r("POST", r"/groups", self.create_group, write=True)
        r("GET", r"/groups/([^/]+)", self.get_group)
        r("PATCH", r"/groups/([^/]+)", self.patch_group, write=True)
        r("DELETE", r"/groups/([^/]+)", self.delete_group, write=True)
        r("GET", r"/groups/([^/]+)/members", self.list_members, cost=3)
        r("POST", r"/groups/([^/]+)/members/\$ref", self.add_member, write=True)
        r("DELETE", r"/groups/([^/]+)/members/([^/]+)/\$ref", self.remove_member, write=True)
        r("DELETE", r"/groups/([^/]+)/members/([^/$]+)", self.delete_member_object, write=True)
        r(
            "GET",
            r"/reports/authenticationMethods/userRegistrationDetails",
            self.registration,
            cost=2,
        )
        r("GET", r"/identityProtection/riskyUsers", self.risky_users, kind="risky")

    def _route(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        cost: int = 1,
        write: bool = False,
        kind: str = "",
    ) -> None:
        self.routes.append(Route(method, re.compile(f"^{pattern}$"), handler, cost, write, kind))

    # organization, GDAP ------------------------------------------------------------------

    def organization(self, call: Call, m: re.Match[str]) -> Response:
        if call.tenant is None:
            partner = self.rt.world.partner
            tid, name, domains = partner.tenant_id, partner.display_name, partner.domains
        else:
            call.require(*READ_DIRECTORY, *READ_USERS)
            tid, name, domains = (
                call.tenant.tenant_id,
                call.tenant.display_name,
                call.tenant.domains,
            )
        initial = next((d for d in domains if d.endswith(".onmicrosoft.com")), domains[0])
        org = {
            "id": tid,
            "displayName": name,
            "tenantType": "AAD",
            "verifiedDomains": [
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": i == 0,
                    "isInitial": d == initial,
                    "name": d,
                    "type": "Managed",
                }
                for i, d in enumerate(domains)
            ],
        }
        return self._list(call, [org], "organization")

    def get_directory_object(self, call: Call, m: re.Match[str]) -> Response:
        """``GET /directoryObjects/{id}``: a live user or group by id (404 when soft-deleted,
        as Graph answers; deleted ones are under ``/directory/deletedItems``)."""
        call.require(*READ_DIRECTORY, *READ_USERS)
        tenant = call.customer()
        key = m.group(1).lower()
        user = tenant.users.get(key)
        if user is not None and user.deleted_at is None and user.visible_at <= call.now:
            row = {"@odata.type": "#microsoft.graph.user", **user_json(user, tenant, self._iso)}
            return self._one(call, row, "directoryObjects", DEFAULT_USER_FIELDS)
        group = tenant.groups.get(key)
        if group is not None and _visible(group, call.now):
            row = {"@odata.type": "#microsoft.graph.group", **group_json(group, self._iso)}
            return self._one(call, row, "directoryObjects")
        raise not_found(key)

    def _partner_only(self, call: Call) -> None:
        if call.tenant is not None or call.tenant_id != self.rt.world.partner.tenant_id:
            raise denied()
        call.require(
            "DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"
        )

    def gdap_customers(self, call: Call, m: re.Match[str]) -> Response:
        self._partner_only(call)
        rows = [
            {"id": t.tenant_id, "tenantId": t.tenant_id, "displayName": t.display_name}
            for t in self.rt.world.tenants.values()
            if t.gdap is not None
        ]
        return self._list(call, rows, "tenantRelationships/delegatedAdminCustomers")

    def gdap_relationships(self, call: Call, m: re.Match[str]) -> Response:
        self._partner_only(call)
        rows = []
        for t in self.rt.world.tenants.values():
            g = t.gdap
            if g is None:
                continue
            status = g.status
            if status == "active" and g.end_at <= call.now:
                status = "expired"
            rows.append(
                {
                    "id": g.id,
                    "displayName": g.display_name,
                    "duration": "P730D",
                    "customer": {"tenantId": t.tenant_id, "displayName": t.display_name},
                    "status": status,
                    "autoExtendDuration": "P180D" if g.auto_extend else "PT0S",
                    "createdDateTime": self._iso(g.created_at),
                    "activatedDateTime": self._iso(g.created_at),
                    "lastModifiedDateTime": self._iso(g.created_at),
                    "endDateTime": self._iso(g.end_at),
                    "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in g.roles]},
                }
            )
        return self._list(call, rows, "tenantRelationships/delegatedAdminRelationships")

    # service principals, app roles, directory roles ------------------------------------------

    def _sps(self, call: Call) -> Iterable[ServicePrincipal]:
        if call.tenant is None:  # the partner tenant has Microsoft's resource principals too
            return resource_principals(call.tenant_id, call.now)
        return (
            sp for sp in call.customer().service_principals.values() if sp.visible_at <= call.now
        )

    def list_sps(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_APPS)
        return self._list(call, [sp_json(sp) for sp in self._sps(call)], "servicePrincipals")

    def _sp(self, call: Call, key: str) -> ServicePrincipal:
        sp = call.customer().service_principals.get(key.lower())
        if sp is None or sp.visible_at > call.now:
            raise not_found(key)
        return sp

    def get_sp(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_APPS)
        return self._one(call, sp_json(self._sp(call, m.group(1))), "servicePrincipals")

    def create_sp(self, call: Call, m: re.Match[str]) -> Response:
        call.require("Application.ReadWrite.All", "Directory.ReadWrite.All")
        tenant = call.customer()
        body = call.request.json() or {}
        app_id = str(body.get("appId", "")).lower()
        app = self.rt.world.partner.app
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
        sp = create_app_principal(
            tenant, app_id, app.display_name, call.now, self._replicated(call)
        )
        return Response(
            201,
            {"@odata.context": f"{call.base}/$metadata#servicePrincipals/$entity", **sp_json(sp)},
        )

    def _assignment_json(self, tenant: Tenant, a: AppRoleAssignment) -> dict[str, Any]:
        principal = tenant.service_principals.get(a.principal_id)
        resource = tenant.service_principals.get(a.resource_id)
        return {
            "id": a.id,
            "appRoleId": a.app_role_id,
            "createdDateTime": self._iso(a.created_at),
            "principalDisplayName": principal.display_name if principal else None,
            "principalId": a.principal_id,
            "principalType": "ServicePrincipal",
            "resourceDisplayName": resource.display_name if resource else None,
            "resourceId": a.resource_id,
        }

    def sp_assignments(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_APPS)
        sp = self._sp(call, m.group(1))
        tenant = call.customer()
        rows = [
            self._assignment_json(tenant, a)
            for a in tenant.app_role_assignments
            if a.principal_id == sp.id
        ]
        return self._list(call, rows, f"servicePrincipals('{sp.id}')/appRoleAssignments")

    def sp_assigned_to(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_APPS)
        sp = self._sp(call, m.group(1))
        tenant = call.customer()
        rows = [
            self._assignment_json(tenant, a)
            for a in tenant.app_role_assignments
            if a.resource_id == sp.id
        ]
        return self._list(call, rows, f"servicePrincipals('{sp.id}')/appRoleAssignedTo")

    def create_assigned_to(self, call: Call, m: re.Match[str]) -> Response:
        call.require("AppRoleAssignment.ReadWrite.All")
        tenant = call.customer()
        resource = self._sp(call, m.group(1))
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
        return Response(201, self._assignment_json(tenant, assignment))

    def _role_json(self, a: RoleAssignment) -> dict[str, Any]:
        return {
            "id": a.id,
            "roleDefinitionId": a.role_definition_id,
            "principalId": a.principal_id,
            "directoryScopeId": a.directory_scope_id,
        }

    def role_assignments(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_ROLES)
        rows = [self._role_json(a) for a in call.customer().role_assignments]
        return self._list(call, rows, "roleManagement/directory/roleAssignments")

    def create_role_assignment(self, call: Call, m: re.Match[str]) -> Response:
        call.require("RoleManagement.ReadWrite.Directory")
        tenant = call.customer()
        body = call.request.json() or {}
        principal = str(body.get("principalId", "")).lower()
        role = str(body.get("roleDefinitionId", "")).lower()
        if not role or (
            principal not in tenant.service_principals and principal not in tenant.users
        ):
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
        return Response(201, self._role_json(assignment))

    # users -------------------------------------------------------------------------------

    def list_users(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_USERS)
        tenant = call.customer()
        q = call.request.query
        flt = q.get("$filter", "")
        # Fast path for the common point lookup: userPrincipalName eq '...'
        em = re.match(r"^userPrincipalName eq '((?:[^']|'')*)'$", flt, re.I)
        if em:
            user = tenant.user_by_upn(_literal(f"'{em.group(1)}'"))
            rows = (
                [user_json(user, tenant, self._iso)]
                if user and user.deleted_at is None and user.visible_at <= call.now
                else []
            )
            q = dict(q)
            call.request.query = {k: v for k, v in q.items() if k != "$filter"}
            try:
                return self._list(call, rows, "users", default_fields=DEFAULT_USER_FIELDS)
            finally:
                call.request.query = q
        return self._list(
            call, self._visible_users(call), "users", default_fields=DEFAULT_USER_FIELDS
        )

    def get_user(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_USERS)
        user = self._user(call, m.group(1))
        return self._one(
            call, user_json(user, call.customer(), self._iso), "users", DEFAULT_USER_FIELDS
        )

    def create_user(self, call: Call, m: re.Match[str]) -> Response:
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
                raise bad_request(
                    f"Invalid value specified for property '{name}' of resource 'User'."
                )
        upn = str(body["userPrincipalName"])
        self._check_upn(tenant, upn)
        profile = body["passwordProfile"]
        if not isinstance(profile, dict) or len(str(profile.get("password") or "")) < 8:
            raise bad_request(
                "The specified password does not comply with password complexity requirements. Please provide a different password."
            )
        nickname = str(body["mailNickname"])
        if len(nickname) > 64 or _NICKNAME_FORBIDDEN.intersection(nickname):
            raise bad_request(
                "Invalid value specified for property 'mailNickname' of resource 'User'."
            )
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
            visible_at=self._replicated(call),
            password_changed_at=call.now,
            force_change_password=bool(profile.get("forceChangePasswordNextSignIn", True)),
        )
        tenant.add_user(user)
        body_out = {
            "@odata.context": f"{call.base}/$metadata#users/$entity",
            **_select(user_json(user, tenant, self._iso), list(DEFAULT_USER_FIELDS)),
        }
        return Response(
            201,
            body_out,
            {
                "Location": f"{call.base}/directoryObjects/{user.id}/Microsoft.DirectoryServices.User"
            },
        )

    def _check_upn(self, tenant: Tenant, upn: str, *, current: User | None = None) -> None:
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

    def patch_user(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS, *PASSWORD_ROLES)
        tenant = call.customer()
        user = self._user(call, m.group(1))
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
            if user.is_admin:
                # Resetting an administrator needs a privileged role the app does not hold.
                raise denied()
            profile = body["passwordProfile"] or {}
            if len(str(profile.get("password") or "")) < 8:
                raise bad_request(
                    "The specified password does not comply with password complexity requirements. Please provide a different password."
                )
            user.password_changed_at = call.now
            user.force_change_password = bool(profile.get("forceChangePasswordNextSignIn", False))
        if "userPrincipalName" in body:
            self._check_upn(tenant, str(body["userPrincipalName"]), current=user)
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

    def delete_user(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS)
        user = self._user(call, m.group(1))
        user.deleted_at = call.now
        return Response(204)

    def deleted_users(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_USERS)
        tenant = call.customer()
        rows = [
            user_json(u, tenant, self._iso)
            for u in tenant.users.values()
            if u.deleted_at is not None and u.deleted_at + SOFT_DELETE_RETENTION > call.now
        ]
        return self._list(call, rows, "directory/deletedItems/microsoft.graph.user")

    def restore(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS)
        user = self._user(call, m.group(1), deleted=True)
        if user.deleted_at is not None and user.deleted_at + SOFT_DELETE_RETENTION <= call.now:
            raise not_found(m.group(1))
        user.deleted_at = None
        return Response(200, user_json(user, call.customer(), self._iso))

    def assign_license(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS, "LicenseAssignment.ReadWrite.All")
        tenant = call.customer()
        user = self._user(call, m.group(1))
        body = call.request.json() or {}
        add = body.get("addLicenses")
        remove = body.get("removeLicenses")
        if add is None or remove is None:
            raise bad_request(
                "Invalid value specified for property 'addLicenses' or 'removeLicenses'."
            )
        for sku_id in remove:
            if str(sku_id).lower() not in user.licenses:
                raise bad_request("User does not have a corresponding license.")
        if add and not user.usage_location:
            raise bad_request(
                "License assignment cannot be done for user with invalid usage location."
            )
        for entry in add:
            sid = str(entry.get("skuId", "")).lower()
            sku = tenant.skus.get(sid)
            if sku is None:
                raise bad_request(f"License {sid} does not correspond to a valid company License.")
            if sid not in user.licenses and tenant.consumed(sku) >= sku.units:
                raise bad_request(
                    f"Subscription with SKU {sid} does not have any available licenses."
                )
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
        return Response(200, user_json(user, tenant, self._iso))

    # extensions ---------------------------------------------------------------------------

    def list_extensions(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_USERS)
        user = self._user(call, m.group(1))
        return self._list(call, list(user.extensions.values()), f"users('{user.id}')/extensions")

    def create_extension(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS)
        user = self._user(call, m.group(1))
        body = call.request.json() or {}
        name = str(body.get("extensionName") or "")
        if not name:
            raise bad_request("Invalid value specified for property 'extensionName'.")
        if name in user.extensions:
            raise GraphError(409, "NameAlreadyExists", "An extension already exists with given id.")
        ext = {
            "@odata.type": "#microsoft.graph.openTypeExtension",
            **body,
            "id": name,
            "extensionName": name,
        }
        user.extensions[name] = ext
        return Response(201, ext)

    def _extension(self, call: Call, m: re.Match[str]) -> tuple[User, dict[str, Any]]:
        user = self._user(call, m.group(1))
        ext = user.extensions.get(m.group(2))
        if ext is None:
            raise GraphError(404, "ResourceNotFound", f"Extension '{m.group(2)}' was not found.")
        return user, ext

    def get_extension(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_USERS)
        return Response(200, self._extension(call, m)[1])

    def patch_extension(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS)
        _, ext = self._extension(call, m)
        body = call.request.json() or {}
        ext.update({k: v for k, v in body.items() if k not in ("id", "extensionName")})
        return Response(204)

    def delete_extension(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_USERS)
        user, _ = self._extension(call, m)
        del user.extensions[m.group(2)]
        return Response(204)

    # licences -----------------------------------------------------------------------------

    def subscribed_skus(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_DIRECTORY, *READ_USERS, "LicenseAssignment.ReadWrite.All")
        tenant = call.customer()
        rows = [
            {
                "accountId": tenant.tenant_id,
                "accountName": tenant.display_name,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": tenant.consumed(s),
                "id": f"{tenant.tenant_id}_{s.sku_id}",
                "prepaidUnits": {"enabled": s.units, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": [],
                "skuId": s.sku_id,
                "skuPartNumber": s.sku_part_number,
                "subscriptionIds": [],
            }
            for s in tenant.skus.values()
        ]
        return self._list(call, rows, "subscribedSkus")

    # groups -------------------------------------------------------------------------------

    def list_groups(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_GROUPS)
        tenant = call.customer()
        rows = (group_json(g, self._iso) for g in tenant.groups.values() if _visible(g, call.now))
        return self._list(call, rows, "groups")

    def get_group(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_GROUPS)
        return self._one(call, group_json(self._group(call, m.group(1)), self._iso), "groups")

    def create_group(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_GROUPS)
        tenant = call.customer()
        body = call.request.json()
        if not isinstance(body, dict):
            raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
        for name in ("displayName", "mailNickname", "mailEnabled", "securityEnabled"):
            if body.get(name) is None or body.get(name) == "":
                raise bad_request(
                    f"Invalid value specified for property '{name}' of resource 'Group'."
                )
        nickname = str(body["mailNickname"])
        if (
            len(nickname) > 64
            or _NICKNAME_FORBIDDEN.intersection(nickname)
            or not nickname.isascii()
        ):
            raise bad_request(
                "Invalid value specified for property 'mailNickname' of resource 'Group'."
            )
        unified = "Unified" in (body.get("groupTypes") or [])
        if body["mailEnabled"] and not unified:
            raise bad_request(
                "Cannot create a mail-enabled security groups and or distribution list."
            )
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
            visible_at=self._replicated(call),
        )
        tenant.groups[group.id] = group
        return Response(
            201,
            {
                "@odata.context": f"{call.base}/$metadata#groups/$entity",
                **group_json(group, self._iso),
            },
        )

    def _writable(self, group: Group) -> None:
        if not group.graph_writable:
            # Graph's own wording for distribution lists and mail-enabled security groups.
            raise bad_request(
                "Cannot Update a mail-enabled security groups and or distribution list."
            )

    def patch_group(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_GROUPS)
        group = self._group(call, m.group(1))
        self._writable(group)
        body = call.request.json() or {}
        for key, attr in (
            ("displayName", "display_name"),
            ("description", "description"),
            ("mailNickname", "mail_nickname"),
        ):
            if key in body:
                setattr(group, attr, body[key])
        return Response(204)

    def delete_group(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_GROUPS)
        group = self._group(call, m.group(1))
        self._writable(group)
        group.deleted_at = call.now
        return Response(204)

    def _member_json(self, tenant: Tenant, oid: str) -> dict[str, Any] | None:
        user = tenant.users.get(oid)
        if user is not None:
            if user.deleted_at is not None:
                return None
            return {"@odata.type": "#microsoft.graph.user", **user_json(user, tenant, self._iso)}
        group = tenant.groups.get(oid)
        if group is not None and group.deleted_at is None:
            return {"@odata.type": "#microsoft.graph.group", **group_json(group, self._iso)}
        return None

    def list_members(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*READ_GROUPS)
        tenant = call.customer()
        group = self._group(call, m.group(1))
        rows = [row for oid in group.members if (row := self._member_json(tenant, oid)) is not None]
        if "$select" in call.request.query:
            fields = call.request.query["$select"]
            if "@odata.type" not in fields:
                call.request.query = {**call.request.query, "$select": fields + ",@odata.type"}
        return self._list(call, rows, "directoryObjects")

    def add_member(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_MEMBERS)
        tenant = call.customer()
        group = self._group(call, m.group(1))
        self._writable(group)
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

    def remove_member(self, call: Call, m: re.Match[str]) -> Response:
        call.require(*WRITE_MEMBERS)
        group = self._group(call, m.group(1))
        self._writable(group)
        oid = m.group(2).lower()
        if oid not in group.members:
            raise not_found(oid)
        group.members.remove(oid)
        return Response(204)

    def delete_member_object(self, call: Call, m: re.Match[str]) -> Response:
        """``DELETE /groups/{id}/members/{id}`` without ``/$ref`` deletes the member object
        itself, as the real service does: the classic way to lose a user."""
        group = self._group(call, m.group(1))
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
        self._writable(inner)
        inner.deleted_at = call.now
        return Response(204)

    # security reports ---------------------------------------------------------------------

    def registration(self, call: Call, m: re.Match[str]) -> Response:
        call.require("UserAuthenticationMethod.Read.All", "AuditLog.Read.All")
        tenant = call.customer()
        if tenant.premium not in ("P1", "P2"):
            raise GraphError(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                f"Tenant does not have a SKU required for this feature. Tenant {tenant.tenant_id}.",
            )
        rows = [
            {
                "id": u.id,
                "userPrincipalName": u.user_principal_name,
                "userDisplayName": u.display_name,
                "userType": "member",
                "isAdmin": u.is_admin,
                "isSsprRegistered": u.mfa_registered,
                "isSsprEnabled": False,
                "isSsprCapable": False,
                "isMfaRegistered": u.mfa_registered,
                "isMfaCapable": u.mfa_capable,
                "isPasswordlessCapable": False,
                "methodsRegistered": u.methods,
                "defaultMfaMethod": "push" if u.mfa_registered else "none",
                "lastUpdatedDateTime": self._iso(call.now - 86400),
            }
            for u in tenant.users.values()
            if u.deleted_at is None
            and u.visible_at <= call.now
            and u.recipient_type != "SharedMailbox"
        ]
        return self._list(call, rows, "reports/authenticationMethods/userRegistrationDetails")

    def risky_users(self, call: Call, m: re.Match[str]) -> Response:
        call.require("IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All")
        tenant = call.customer()
        if tenant.premium == "none":
            raise GraphError(403, "Forbidden", "Your tenant is not licensed for this feature.")
        hidden = tenant.premium != "P2"  # P1 tenants see that a user is risky, not how much
        rows = [
            {
                "id": u.id,
                "isDeleted": u.deleted_at is not None,
                "isProcessing": False,
                "riskLastUpdatedDateTime": self._iso(u.risk_updated_at),
                "riskLevel": "hidden" if hidden else u.risk_level,
                "riskState": "atRisk",
                "riskDetail": "hidden" if hidden else "none",
                "userDisplayName": u.display_name,
                "userPrincipalName": u.user_principal_name,
            }
            for u in tenant.users.values()
            if u.risk_level != "none"
        ]
        return self._list(call, rows, "identityProtection/riskyUsers")


__all__ = ["EXCHANGE_APP_ID", "GRAPH_APP_ID", "GraphError", "GraphService"]

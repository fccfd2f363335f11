"""Graph's shared mechanics, the same for every resource: the error body, the call a handler
receives, the replication delay, ``$filter``, ``$select``, and collections paged with ``$top``
and ``@odata.nextLink``.

Resource modules build their rows and hand them to ``page`` (a collection) or ``entity`` (one
object); they raise ``GraphError`` (usually through ``denied``, ``not_found``, ``bad_request``)
and the dispatcher turns it into Graph's error body with ``error_response``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from controller.sandbox._graph._schema import unknown_property
from controller.sandbox._http import Request, Response
from controller.sandbox._runtime import Runtime
from controller.sandbox._world import Group, ServicePrincipal, Tenant, User

# --- errors ---------------------------------------------------------------------------------------


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


def error_response(rt: Runtime, problem: GraphError, rid: str, client_rid: str) -> Response:
    """Graph's error body: ``{"error": {"code", "message", "innerError": {...}}}``."""
    body = {
        "error": {
            "code": problem.code,
            "message": problem.message,
            "innerError": {
                "date": rt.clock.iso(),
                "request-id": rid,
                "client-request-id": client_rid,
            },
        }
    }
    headers = {"request-id": rid, "client-request-id": client_rid, **problem.headers}
    return Response(problem.status, body, headers)


# --- the call -------------------------------------------------------------------------------------


@dataclass
class Call:
    """One Graph request as a handler sees it: who calls (tenant, app roles) and when."""

    rt: Runtime
    request: Request
    tenant: Tenant | None  # None for the partner tenant
    tenant_id: str
    roles: frozenset[str]
    now: float
    base: str  # {graph}/v1.0
    principal_id: str = ""  # the calling app's service principal (the token's ``oid``)
    app_id: str = ""  # the calling app (the token's appid)

    def require(self, *any_of: str) -> None:
        if not self.roles.intersection(any_of):
            raise denied()

    def require_directory_role(self, *any_of: str) -> None:
        """403 unless the calling app's service principal holds one of these directory roles
        (template ids) in the tenant."""
        held = {
            a.role_definition_id
            for a in self.customer().role_assignments
            if a.principal_id == self.principal_id
        }
        if not held.intersection(any_of):
            raise denied()

    def customer(self) -> Tenant:
        if self.tenant is None:
            raise not_found(self.tenant_id)
        return self.tenant


def replicated_at(call: Call) -> float:
    """When an object created by this call becomes visible (by id and in lists)."""
    return call.now + call.rt.world.settings.replication_delay


def visible(obj: User | Group | ServicePrincipal, now: float) -> bool:
    if obj.visible_at > now:
        return False
    return getattr(obj, "deleted_at", None) is None


# --- $filter --------------------------------------------------------------------------------------

_EQ = re.compile(r"^([\w/]+)\s+eq\s+('(?:[^']|'')*'|true|false|null|[0-9a-fA-F-]{36})$", re.I)
_STARTS = re.compile(r"^startswith\(\s*([\w/]+)\s*,\s*'((?:[^']|'')*)'\s*\)$", re.I)
_IN = re.compile(r"^([\w/]+)\s+in\s+\((.*)\)$", re.I)
_AND = re.compile(r"\s+and\s+", re.I)


def literal(text: str) -> Any:
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
            clauses.append(_equals(m.group(1), [literal(m.group(2))]))
        elif m := _STARTS.match(clause):
            clauses.append(_starts(m.group(1), str(literal(f"'{m.group(2)}'")).casefold()))
        elif m := _IN.match(clause):
            values = [literal(v.strip()) for v in m.group(2).split(",") if v.strip()]
            clauses.append(_equals(m.group(1), values))
        else:
            raise bad_request("Unsupported Query.", "Request_UnsupportedQuery")
    return lambda obj: all(c(obj) for c in clauses)


# --- $select, collections, entities ---------------------------------------------------------------


EntityType = str | tuple[str, ...] | None


def select(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return obj
    return {f: obj.get(f) for f in fields if f in obj or f != "@odata.type"}


def selected(call: Call, entity_type: EntityType) -> list[str] | None:
    """The ``$select`` list, after Graph's check that ``entity_type`` has every property
    (a 400 naming the first it lacks); None without ``$select``."""
    q = call.request.query
    if "$select" not in q:
        return None
    fields = [f.strip() for f in q["$select"].split(",") if f.strip()]
    if entity_type is not None:
        types = (entity_type,) if isinstance(entity_type, str) else entity_type
        unknown = unknown_property(fields, types)
        if unknown is not None:
            raise bad_request(
                f"Could not find a property named '{unknown}' on type 'microsoft.graph.{types[0]}'."
            )
    return fields


def page(
    call: Call,
    objects: Iterable[dict[str, Any]],
    context: str,
    *,
    entity_type: EntityType,
    default_fields: tuple[str, ...] | None = None,
    page_size: int | None = None,
    max_top: int | None = None,
) -> Response:
    """One page of a collection, after ``$filter``, with ``$select`` (checked against
    ``entity_type``; None for open types), ``$top``, ``$count``, ``$skiptoken`` and the
    ``@odata.nextLink`` to the next page. ``max_top``: the largest ``$top`` the collection's
    page documents (else the users' and groups' 999)."""
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
    chosen = selected(call, entity_type)
    fields = chosen if chosen is not None else (list(default_fields) if default_fields else None)
    rows = list(items)
    top = page_size or call.rt.world.settings.default_page_size
    if "$top" in q:
        try:
            top = int(q["$top"])
        except ValueError:
            raise bad_request(f"Invalid page size specified: '{q['$top']}'.") from None
        # Users and groups page at most 999 (api-reference/v1.0/api/user-list.md,
        # group-list.md); Graph operated by 21Vianet at most 500. A collection whose page
        # says less (the GDAP lists: 300) refuses more, as strictly.
        limit = 500 if call.rt.world.settings.cloud == "china" else 999
        if max_top is not None:
            limit = min(limit, max_top)
        if not 1 <= top <= limit:
            raise bad_request(
                f"Invalid page size specified: '{top}'. Must be between 1 and {limit} inclusive."
            )
    offset = 0
    if "$skiptoken" in q:
        try:
            offset = int(base64.urlsafe_b64decode(q["$skiptoken"].encode()).decode()[2:])
        except ValueError:
            raise bad_request("Invalid skip token.", "Directory_ExpiredPageToken") from None
    rows_on_page = rows[offset : offset + top]
    body: dict[str, Any] = {"@odata.context": f"{call.base}/$metadata#{context}"}
    if "$count" in q:
        body["@odata.count"] = len(rows)
    body["value"] = [select(o, fields) for o in rows_on_page]
    if offset + top < len(rows):
        params = {k: v for k, v in q.items() if k != "$skiptoken"}
        params["$skiptoken"] = base64.urlsafe_b64encode(f"o:{offset + top}".encode()).decode()
        body["@odata.nextLink"] = f"{call.base}{call.request.path[len('/v1.0') :]}?" + urlencode(
            params, safe="$,'() "
        ).replace(" ", "%20")
    return Response(200, body)


def entity(
    call: Call,
    obj: dict[str, Any],
    context: str,
    default_fields: tuple[str, ...] | None = None,
    *,
    entity_type: EntityType,
) -> Response:
    """One object, with ``$select`` (else ``default_fields``, else every property)."""
    chosen = selected(call, entity_type)
    fields = chosen if chosen is not None else (list(default_fields) if default_fields else None)
    body = {
        "@odata.context": f"{call.base}/$metadata#{context}/$entity",
        **select(obj, fields),
    }
    return Response(200, body)

"""JSON batching: ``POST /v1.0/$batch``.

Graph v1.0 endpoint served:

- ``POST /$batch`` with ``{"requests": [{"id", "method", "url", "headers", "body",
  "dependsOn"}]}``: at most 20 items, unique ids, relative urls. The outer answer is 200 once
  the batch parses; each item has its own status, headers and body, runs through the same
  routes, throttle and fault rules as a top-level request (so one item can be throttled on its
  own), and is recorded in the request log. Items run in dependency order; an item whose
  dependency failed answers 424. Answers come back shuffled, as Graph does not promise order.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from controller.sandbox._behaviour import RequestRecord
from controller.sandbox._graph._odata import Call, GraphError, bad_request, error_response
from controller.sandbox._graph._routes import execute
from controller.sandbox._http import Request, Response
from controller.sandbox._ids import request_id

MAX_REQUESTS = 20


def run_batch(outer: Call, rid: str) -> Response:
    request = outer.request
    client_rid = request.headers.get("client-request-id", rid)
    try:
        items = _checked_items(request)
    except GraphError as problem:
        return error_response(outer.rt, problem, rid, client_rid)
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
                    _item_error(item_id, 424, "FailedDependency", "The dependent request failed.")
                )
                continue
            answer, units = _run_item(outer, item)
            total_units += units
            statuses[item_id] = int(answer["status"])
            answers.append(answer)
        assert progressed, "cycles are refused before the batch runs"
    # Graph answers in any order; so does the sandbox, so clients must match by id.
    outer.rt.rng.shuffle(answers)
    response = Response(200, {"responses": answers}, {"request-id": rid})
    response.batch_size = len(items)
    response.resource_units = total_units
    return response


def _checked_items(request: Request) -> list[dict[str, Any]]:
    """The batch's requests, or the 400 Graph answers for the whole batch."""
    try:
        body = request.json()
        items = body["requests"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        # A request that is not a JSON object fails the whole batch, before any item runs.
        raise bad_request("Invalid batch payload format.", "BadRequest") from None
    if len(items) > MAX_REQUESTS:
        raise bad_request(
            f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.", "BadRequest"
        )
    ids = [str(item.get("id")) for item in items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise bad_request(f"Request Id [{dup}] is duplicated.", "BadRequest")
    for item in items:
        for dep in item.get("dependsOn") or []:
            if str(dep) not in ids:
                raise bad_request(
                    f"Request [{item.get('id')}] depends on an unknown request [{dep}].",
                    "BadRequest",
                )
        if not item.get("method") or not item.get("url"):
            raise bad_request("Each batch request needs an id, a method and a url.", "BadRequest")
    if _has_cycle({str(i.get("id")): [str(d) for d in i.get("dependsOn") or []] for i in items}):
        # Found before anything runs: no item of a batch with a cycle is executed.
        raise bad_request("Batch requests have a circular dependency.", "BadRequest")
    return items


def _has_cycle(depends_on: dict[str, list[str]]) -> bool:
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(node: str) -> bool:
        if node in done:
            return False
        if node in visiting:
            return True
        visiting.add(node)
        found = any(visit(d) for d in depends_on.get(node, ()))
        visiting.discard(node)
        done.add(node)
        return found

    return any(visit(n) for n in depends_on)


def _item_error(item_id: str, status: int, code: str, message: str) -> dict[str, Any]:
    """An item's answer that the batch itself gives, without running the item."""
    return {
        "id": item_id,
        "status": status,
        "headers": {"Content-Type": "application/json"},
        "body": {"error": {"code": code, "message": message}},
    }


def _run_item(outer: Call, item: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """One item as its own request (fault rules, routing, throttle), and its resource units."""
    rt = outer.rt
    url = str(item["url"])
    if urlsplit(url).scheme:
        return _item_error(
            str(item["id"]), 400, "BadRequest", "Invalid request url: it must be relative."
        ), 0.0
    target = "/v1.0/" + url.lstrip("/")
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    headers["authorization"] = outer.request.headers.get("authorization", "")
    body = item.get("body")
    raw = b"" if body is None else json.dumps(body).encode()
    sub_request = Request.build(
        "graph", str(item["method"]), target, headers, raw, outer.request.base_url
    )
    item_rid = request_id()
    item_client_rid = headers.get("client-request-id", item_rid)
    fault = rt.faults.take("graph", sub_request.method, sub_request.full_path, outer.tenant_id)
    if fault is not None and not fault.drop:
        problem = GraphError(
            fault.status,
            "TooManyRequests" if fault.status == 429 else "serviceNotAvailable",
            "Injected fault.",
            {"Retry-After": str(fault.retry_after or 1)} if fault.status in (429, 503) else {},
        )
        response = error_response(rt, problem, item_rid, item_client_rid)
        response.fault = True
    else:
        call = Call(
            rt=rt,
            request=sub_request,
            tenant=outer.tenant,
            tenant_id=outer.tenant_id,
            roles=outer.roles,
            now=outer.now,
            base=outer.base,
            principal_id=outer.principal_id,
            app_id=outer.app_id,
        )
        response = execute(
            call,
            sub_request.method,
            sub_request.path,
            sub_request,
            rid=item_rid,
            client_rid=item_client_rid,
        )
    rt.accounting.add(
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

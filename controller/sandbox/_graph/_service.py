"""The Graph service's entry point: authenticate the bearer token, then run ``$batch`` or route
the request."""

from __future__ import annotations

from controller.sandbox._graph._batch import run_batch
from controller.sandbox._graph._odata import Call, GraphError, error_response
from controller.sandbox._graph._routes import execute
from controller.sandbox._http import Request, Response
from controller.sandbox._ids import request_id
from controller.sandbox._runtime import AuthFailure, Runtime, authenticate


class GraphService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def handle(self, request: Request) -> Response:
        rid = request_id()
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
            principal_id=str(claims.get("oid", "")).lower(),
            app_id=str(claims.get("appid") or claims.get("azp") or ""),
        )
        if request.method == "POST" and request.path == "/v1.0/$batch":
            response = run_batch(call, rid)
        else:
            response = execute(
                call, request.method, request.path, request, rid=rid, client_rid=client_rid
            )
        response.tenant_id = tid
        return response

    def error_response(self, problem: GraphError, rid: str, client_rid: str) -> Response:
        """Graph's error body (the sandbox's injected faults use it too)."""
        return error_response(self.rt, problem, rid, client_rid)

"""What every service module shares: the world, the clock, the behaviours, the endpoints,
and the helpers that authenticate a bearer token against them."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from controller.sandbox import _tokens
from controller.sandbox._behaviour import Accounting, Faults, Throttle
from controller.sandbox._clock import VirtualClock
from controller.sandbox._http import Request
from controller.sandbox._world import World

PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com"
#: The resource of every vault's data plane (a token's audience), in the global cloud.
KEY_VAULT_RESOURCE = "https://vault.azure.net"


@dataclass
class Runtime:
    world: World
    clock: VirtualClock
    throttle: Throttle
    faults: Faults
    accounting: Accounting
    endpoints: dict[str, str] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    # Set when CIPP queues a bulk consent, so requests skip the scan while none is pending.
    consents_pending: bool = True

    def audience(self, service: str) -> str:
        if service == "cipp":
            cipp = self.world.partner.cipp
            return f"api://{cipp.client_id}" if cipp else "api://cipp"
        if service == "partnerCenter":
            return PARTNER_CENTER_RESOURCE
        if service == "keyVault":
            return KEY_VAULT_RESOURCE
        return self.endpoints[service]


class AuthFailure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def authenticate(rt: Runtime, request: Request, service: str) -> dict[str, Any]:
    """The verified claims of the request's bearer token for ``service``, or AuthFailure."""
    token = _tokens.bearer(request.headers)
    if not token:
        raise AuthFailure(401, "Access token is empty.")
    claims = _tokens.verify(rt.world.token_key, token)
    if claims is None:
        raise AuthFailure(401, "Access token validation failure. Invalid signature.")
    if float(claims.get("exp", 0)) <= rt.clock.now():
        raise AuthFailure(401, "Lifetime validation failed, the token is expired.")
    if claims.get("aud") != rt.audience(service):
        raise AuthFailure(401, "Access token validation failure. Invalid audience.")
    return claims


def tenant_hint(rt: Runtime, request: Request) -> str | None:
    """The tenant a request is for, cheaply (for fault rules and accounting)."""
    token = _tokens.bearer(request.headers)
    if token:
        claims = _tokens.peek(token)
        if claims and isinstance(claims.get("tid"), str):
            return str(claims["tid"])
    return None

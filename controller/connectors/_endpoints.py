"""Where each service lives: the per-cloud table of API-NOTES.md, plus overrides.

Pure: no I/O. Every base URL can be overridden (the sandbox and the tests depend on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Cloud = Literal["global", "usgov-high", "usgov-dod", "china"]

PARTNER_CENTER = "https://api.partnercenter.microsoft.com"


@dataclass(frozen=True)
class ServiceEndpoints:
    """Base URLs (scheme and host, no trailing slash) of the four Microsoft services."""

    login: str
    graph: str
    exchange: str
    partner_center: str = PARTNER_CENTER
    #: True when ``login`` is not the cloud's own: MSAL must not ask Microsoft's instance
    #: discovery about a host it does not know (the sandbox, a proxy).
    login_overridden: bool = False


CLOUD_ENDPOINTS: Mapping[Cloud, ServiceEndpoints] = {
    "global": ServiceEndpoints(
        login="https://login.microsoftonline.com",
        graph="https://graph.microsoft.com",
        exchange="https://outlook.office365.com",
    ),
    "usgov-high": ServiceEndpoints(
        login="https://login.microsoftonline.us",
        graph="https://graph.microsoft.us",
        exchange="https://outlook.office365.us",
    ),
    "usgov-dod": ServiceEndpoints(
        login="https://login.microsoftonline.us",
        graph="https://dod-graph.microsoft.us",
        exchange="https://webmail.apps.mil",
    ),
    "china": ServiceEndpoints(
        login="https://login.chinacloudapi.cn",
        graph="https://microsoftgraph.chinacloudapi.cn",
        exchange="https://partner.outlook.cn",
    ),
}

SERVICE_NAMES = ("login", "graph", "exchange", "partner_center")


def endpoints_for(
    cloud: Cloud, overrides: Mapping[str, str | None] | None = None
) -> ServiceEndpoints:
    """The cloud's endpoints with ``overrides`` (keys ``login``, ``graph``, ``exchange``,
    ``partner_center``; ``partnerCenter`` is accepted too) applied on top."""
    changes: dict[str, str] = {}
    for key, value in (overrides or {}).items():
        name = "partner_center" if key == "partnerCenter" else key
        if name not in SERVICE_NAMES:
            raise ValueError(
                f"unknown endpoint {key!r}; expected one of {', '.join(SERVICE_NAMES)}"
            )
        if value:
            changes[name] = value.rstrip("/")
    base = CLOUD_ENDPOINTS[cloud]
    endpoints = ServiceEndpoints(
        login=changes.get("login", base.login),
        graph=changes.get("graph", base.graph),
        exchange=changes.get("exchange", base.exchange),
        partner_center=changes.get("partner_center", base.partner_center),
        login_overridden=changes.get("login", base.login) != base.login,
    )
    return endpoints

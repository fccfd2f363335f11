"""Where each service lives, and what each cloud's Graph can do: the per-cloud table of
API-NOTES.md, plus overrides.

Pure: no I/O. Every base URL can be overridden (the sandbox and the tests depend on it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Cloud = Literal["global", "usgov-high", "usgov-dod", "china"]

PARTNER_CENTER = "https://api.partnercenter.microsoft.com"
# Partner Center operated by 21Vianet (Partner Center docs, "Partner Center in China").
PARTNER_CENTER_CHINA = "https://partner.partnercenterapi.microsoftonline.cn"
# The largest $top Graph takes for users and groups (api-reference/v1.0/api/user-list.md:
# "$top ... 1 and 999"); Graph operated by 21Vianet takes at most 500.
GRAPH_PAGE_SIZE = 999
GRAPH_PAGE_SIZE_CHINA = 500


@dataclass(frozen=True)
class ServiceEndpoints:
    """Base URLs (scheme and host, no trailing slash) of the four Microsoft services, and
    what the cloud's Graph can do."""

    login: str
    graph: str
    exchange: str
    partner_center: str = PARTNER_CENTER
    #: True when ``login`` is not the cloud's own: MSAL must not ask Microsoft's instance
    #: discovery about a host it does not know (the sandbox, a proxy).
    login_overridden: bool = False
    cloud: Cloud = "global"
    #: ``$top`` for the collections tenantctl pages through.
    graph_page_size: int = GRAPH_PAGE_SIZE
    #: Identity Protection (``/identityProtection/riskyUsers``) exists in this cloud: it does
    #: not in the China cloud (Identity Protection's national-cloud availability), so the
    #: risky-users report is never read there.
    risky_users: bool = True


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
        cloud="usgov-high",
    ),
    "usgov-dod": ServiceEndpoints(
        login="https://login.microsoftonline.us",
        graph="https://dod-graph.microsoft.us",
        # Exchange Online in DoD; the token scope is this same host
        # ({exchange}/.default). webmail.apps.mil was the old remote-PowerShell address.
        exchange="https://outlook-dod.office365.us",
        cloud="usgov-dod",
    ),
    "china": ServiceEndpoints(
        login="https://login.chinacloudapi.cn",
        graph="https://microsoftgraph.chinacloudapi.cn",
        exchange="https://partner.outlook.cn",
        partner_center=PARTNER_CENTER_CHINA,
        cloud="china",
        graph_page_size=GRAPH_PAGE_SIZE_CHINA,
        risky_users=False,
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
    return dataclasses.replace(
        base,
        login=changes.get("login", base.login),
        graph=changes.get("graph", base.graph),
        exchange=changes.get("exchange", base.exchange),
        partner_center=changes.get("partner_center", base.partner_center),
        login_overridden=changes.get("login", base.login) != base.login,
    )

"""Fixtures: a fresh in-process sandbox per test, and clients that talk to it as real clients
do (MSAL with a requests.Session trusting the sandbox's CA; httpx for the rest)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msal
import pytest
import requests

from controller.sandbox import Sandbox, default_scenario

PARTNER = "0b6a4c5e-1f2d-4e3a-9c8b-7a6d5e4f3a21"
APP = "3f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
CIPP_APP = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
FABRIKAM = "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1"
ADATUM = "9d8c7b6a-5f4e-4d3c-a2b1-0f9e8d7c6b5a"
TAILSPIN = "4e3d2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f"
WOODGROVE = "7c6b5a4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d"


_SESSIONS: list[requests.Session] = []


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(default_scenario()) as sandbox:
        yield sandbox
    while _SESSIONS:
        _SESSIONS.pop().close()


def msal_app(sb: Sandbox, tenant: str, *, client_id: str = APP, secret: str | None = None) -> Any:
    session = requests.Session()
    session.verify = str(sb.ca_path)
    session.trust_env = False
    _SESSIONS.append(session)
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret if secret is not None else sb.secrets["partner"],
        authority=f"{sb.endpoints['login']}/{tenant}",
        http_client=session,
        instance_discovery=False,
    )


def token(sb: Sandbox, tenant: str, service: str = "graph") -> str:
    if service == "cipp":
        app = msal_app(sb, PARTNER, client_id=CIPP_APP, secret=sb.secrets["cipp"])
        result = app.acquire_token_for_client([f"api://{CIPP_APP}/.default"])
    else:
        app = msal_app(sb, tenant)
        result = app.acquire_token_for_client([f"{sb.endpoints[service]}/.default"])
    assert "access_token" in result, result
    return str(result["access_token"])


def client(sb: Sandbox, tenant: str, service: str = "graph") -> httpx.Client:
    return httpx.Client(
        base_url=sb.endpoints[service],
        verify=sb.ssl_context(),
        trust_env=False,
        headers={"Authorization": f"Bearer {token(sb, tenant, service)}"},
        timeout=10,
    )


def invoke(ex: httpx.Client, tenant: str, cmdlet: str, **params: Any) -> httpx.Response:
    return ex.post(
        f"/adminapi/beta/{tenant}/InvokeCommand",
        json={"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}},
    )

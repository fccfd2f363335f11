"""``tenantctl connect check``: exit 0 when every configured connection works; with a wrong
secret, an expired secret or an unreachable CIPP, exit 1 with a one-line diagnosis and fix
each, and never a traceback; every missing secret at once; the credential line from the app
registration (or a warning that it cannot be read). MSAL's endpoints are answered by a
:class:`FakeLogin` through the token provider's transport, Graph and CIPP by an
``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from controller.cli import cli
from controller.cli import connect as connect_command
from controller.connectors import Connections, ConnectionSettings, CredentialExpiry
from controller.observe import check_connections
from tests.connectors.conftest import (
    CIPP_CLIENT,
    CLIENT,
    LOGIN,
    PARTNER,
    FakeLogin,
    FakeTime,
    Sent,
    aadsts_error,
)

DESIRED = Path(__file__).resolve().parents[2] / "desired" / "msp.yaml"
CIPP = "https://cipp.northwind-it.example"


@pytest.fixture
def desired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(DESIRED, tmp_path / "msp.yaml")
    monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", "partner-secret-value")
    monkeypatch.setenv("CIPP_CLIENT_SECRET", "cipp-secret-value")
    return tmp_path


def login(
    fake_login: FakeLogin, partner_error: int | None = None, cipp_error: int | None = None
) -> None:
    """The partner tenant's login, where both the partner app and CIPP's API client get
    their tokens; each refuses with its AADSTS code, when given."""
    fake_login.discovery(tenant=PARTNER)

    def answer(sent: Sent) -> httpx.Response:
        client = sent.form["client_id"][0]
        error = partner_error if client == CLIENT else cipp_error if client == CIPP_CLIENT else None
        if error:
            return httpx.Response(401, json=aadsts_error(error))
        return httpx.Response(200, json={"access_token": f"token-for-{client}", "expires_in": 3599})

    fake_login.respond("POST", f"{LOGIN}/{PARTNER}/oauth2/v2.0/token", answer)


def services(
    cipp_reachable: bool = True, application: dict[str, Any] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/v1.0/applications(appId='{CLIENT}')":
            if application is None:
                return httpx.Response(
                    403,
                    json={
                        "error": {
                            "code": "Authorization_RequestDenied",
                            "message": "Insufficient privileges to complete the operation.",
                        }
                    },
                )
            return httpx.Response(200, json=application)
        if request.url.host == "graph.microsoft.com":
            assert request.url.path == "/v1.0/tenantRelationships/delegatedAdminCustomers"
            return httpx.Response(
                200,
                json={
                    "value": [
                        {"id": "1", "tenantId": "t1", "displayName": "Contoso"},
                        {"id": "2", "tenantId": "t2", "displayName": "Fabrikam"},
                    ]
                },
            )
        if not cipp_reachable:
            raise httpx.ConnectError("Name or service not known")
        assert str(request.url) == f"{CIPP}/api/me"
        return httpx.Response(200, json={"clientPrincipal": {"userRoles": ["editor"]}})

    return httpx.MockTransport(handler)


def wire(
    monkeypatch: pytest.MonkeyPatch, transport: httpx.MockTransport, fake_login: FakeLogin
) -> None:
    time = FakeTime()

    def run_checks(settings: ConnectionSettings, expiry: CredentialExpiry) -> Any:
        connections = Connections(
            settings,
            transport=transport,
            tokens=fake_login.provider(settings),
            sleep=time.sleep,
            clock=time.clock,
        )

        async def go() -> Any:
            async with connections:
                return await check_connections(settings, expiry=expiry, connections=connections)

        return asyncio.run(go())

    monkeypatch.setattr(connect_command, "run_checks", run_checks)


def invoke(desired: Path) -> Any:
    return CliRunner().invoke(cli, ["connect", "check", "--desired", str(desired)])


def test_everything_works(
    desired: Path, monkeypatch: pytest.MonkeyPatch, fake_login: FakeLogin
) -> None:
    login(fake_login)
    wire(monkeypatch, services(), fake_login)
    result = invoke(desired)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    partner app")
    assert lines[1].startswith("WARN  credential") and (
        "the app may not read its own registration; fix: grant app" in lines[1]
    )
    assert (
        lines[2].startswith("ok    GDAP") and "2 customer(s) visible: Contoso, Fabrikam" in lines[2]
    )
    assert lines[3].startswith("ok    CIPP") and "editor" in lines[3]


def test_the_credential_line_reads_the_app_registration(
    desired: Path, monkeypatch: pytest.MonkeyPatch, fake_login: FakeLogin
) -> None:
    """The secret in use is told by its hint (its first three characters, as Graph shows)."""
    login(fake_login)
    registration = {
        "id": "0c5e7d1a-0000-4000-8000-000000000001",
        "appId": CLIENT,
        "passwordCredentials": [
            {"keyId": "1", "hint": "old", "endDateTime": "2020-01-01T00:00:00Z"},
            {"keyId": "2", "hint": "par", "endDateTime": "9999-12-31T00:00:00Z"},
        ],
        "keyCredentials": [],
    }
    wire(monkeypatch, services(application=registration), fake_login)
    result = invoke(desired)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if "credential" in line]
    assert line.startswith(
        "ok    credential    the client secret expires on 9999-12-31 00:00 UTC, in "
    )
    assert line.endswith("(app registration)")


@pytest.mark.parametrize(
    ("code", "diagnosis"),
    [
        (7000215, "is wrong; fix: copy the secret's Value (not its Secret ID)"),
        (7000222, "has expired; fix: create a new client secret"),
        (7000229, "admin consent is missing in the partner tenant; fix: a Global Administrator"),
        (700016, "was not found in partner tenant"),
    ],
)
def test_partner_credential_problems_are_diagnosed_in_one_line(
    desired: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_login: FakeLogin,
    code: int,
    diagnosis: str,
) -> None:
    login(fake_login, partner_error=code)
    wire(monkeypatch, services(), fake_login)
    result = invoke(desired)
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and diagnosis in failed[0]
    assert "env:TENANTCTL_CLIENT_SECRET" in failed[0] or code not in (7000215, 7000222)
    assert "Traceback" not in result.output and "partner-secret-value" not in result.output


def test_rotated_cipp_secret_is_diagnosed(
    desired: Path, monkeypatch: pytest.MonkeyPatch, fake_login: FakeLogin
) -> None:
    login(fake_login, cipp_error=7000215)
    wire(monkeypatch, services(), fake_login)
    result = invoke(desired)
    assert result.exit_code == 1
    (failed,) = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert (
        "CIPP API client secret is wrong (rotated?)" in failed
        and "env:CIPP_CLIENT_SECRET" in failed
    )


def test_unreachable_cipp_is_diagnosed(
    desired: Path, monkeypatch: pytest.MonkeyPatch, fake_login: FakeLogin
) -> None:
    login(fake_login)
    wire(monkeypatch, services(cipp_reachable=False), fake_login)
    result = invoke(desired)
    assert result.exit_code == 1
    (failed,) = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert f"CIPP is unreachable at {CIPP}" in failed and "fix: check spec.cipp.baseUrl" in failed
    assert "Traceback" not in result.output


def test_a_missing_secret_is_one_line_before_any_network_call(
    desired: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENANTCTL_CLIENT_SECRET")
    monkeypatch.delenv("CIPP_CLIENT_SECRET")
    result = invoke(desired)
    assert result.exit_code == 1
    unset = (
        "the environment variable is not set; export it before running tenantctl (in CI, map "
        "the secret into the job's environment); fix: export it, or point msp.yaml at it"
    )
    assert result.stdout.strip().splitlines() == [
        f"FAIL  secrets       env:TENANTCTL_CLIENT_SECRET: {unset}",
        f"FAIL  secrets       env:CIPP_CLIENT_SECRET: {unset}",
    ]

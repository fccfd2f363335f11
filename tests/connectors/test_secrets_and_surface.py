"""What must never leak and what is promised: secrets, tokens and passwords appear in no
``repr``, error message or log line; settings come from ``msp.yaml`` with endpoint overrides
and resolved secrets; the package's public surface is exactly its ``__all__``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from controller import connectors
from controller.connectors import (
    ClientAssertion,
    ClientSecret,
    endpoints_for,
    redact,
    settings_from_msp,
)
from controller.errors import BadRequest, SecretError
from controller.models import MSPConfig
from controller.models.common import SecretRef
from tests.connectors.conftest import CIPP_SECRET, SECRET, TENANT, graph_error, make_settings, run

DESIRED = Path(__file__).resolve().parents[2] / "desired" / "msp.yaml"
PASSWORD = "Tr0ub4dor&3-never-logged"


def test_settings_repr_shows_no_secret() -> None:
    shown = repr(make_settings())
    assert SECRET not in shown and CIPP_SECRET not in shown
    assert "env:TENANTCTL_CLIENT_SECRET" in shown


def test_no_token_password_or_secret_in_errors_or_logs(
    connect: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            return httpx.Response(503)
        return graph_error(
            400, "Request_BadRequest", "Password does not meet complexity requirements"
        )

    async def scenario() -> None:
        async with connect(handler) as connections:
            graph = connections.graph(TENANT)
            with pytest.raises(BadRequest) as raised:
                await graph.create_user(
                    {
                        "userPrincipalName": "n@contoso.com",
                        "passwordProfile": {"password": PASSWORD},
                    }
                )
            assert PASSWORD not in str(raised.value)
            with pytest.raises(Exception) as failed:
                await graph.reset_password("u1", PASSWORD)
            assert PASSWORD not in str(failed.value)

    run(scenario())
    assert caplog.records, "the core logs its requests"
    assert PASSWORD not in caplog.text
    assert "eyJ-token" not in caplog.text and "Bearer" not in caplog.text


def test_redact_masks_secret_fields_wherever_they_are() -> None:
    payload = {
        "userPrincipalName": "a@b.c",
        "passwordProfile": {"password": "x"},
        "nested": [{"client_secret": "y", "Authorization": "Bearer z"}],
    }
    assert redact(payload) == {
        "userPrincipalName": "a@b.c",
        "passwordProfile": "***",
        "nested": [{"client_secret": "***", "Authorization": "***"}],
    }


def _msp() -> MSPConfig:
    return MSPConfig.model_validate(yaml.safe_load(DESIRED.read_text()))


def test_settings_from_msp_resolves_secrets_through_the_given_resolver(tmp_path: Path) -> None:
    asked: list[str] = []

    def resolve(ref: SecretRef) -> str:
        asked.append(ref.describe())
        return f"value-of-{ref.env}"

    bundle = tmp_path / "ca.pem"
    settings = settings_from_msp(
        _msp(),
        resolve,
        endpoint_overrides={
            "graph": "https://127.0.0.1:9443/graph/",
            "login": "https://127.0.0.1:9444",
        },
        ca_bundle=bundle,
    )
    assert asked == ["env:TENANTCTL_CLIENT_SECRET", "env:CIPP_CLIENT_SECRET"]
    assert isinstance(settings.credential, ClientSecret)
    assert settings.credential.value == "value-of-TENANTCTL_CLIENT_SECRET"
    assert settings.endpoints.graph == "https://127.0.0.1:9443/graph"
    assert settings.endpoints.exchange == "https://outlook.office365.com"
    assert settings.endpoints.login_overridden
    assert settings.ca_bundle == bundle
    assert (
        settings.cipp is not None and settings.cipp.base_url == "https://cipp.northwind-it.example"
    )


def test_default_resolver_reads_env_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "oidc-token"
    token.write_text("federated.jwt\n")
    data = yaml.safe_load(DESIRED.read_text())
    data["spec"]["partner"]["credential"] = {"assertion": {"file": str(token)}}
    monkeypatch.setenv("CIPP_CLIENT_SECRET", "c")
    settings = settings_from_msp(MSPConfig.model_validate(data))
    assert isinstance(settings.credential, ClientAssertion)
    assert settings.credential.read() == "federated.jwt"
    monkeypatch.delenv("CIPP_CLIENT_SECRET")
    with pytest.raises(SecretError, match="CIPP_CLIENT_SECRET"):
        settings_from_msp(MSPConfig.model_validate(data))


def test_national_cloud_endpoints() -> None:
    china = endpoints_for("china")
    assert (china.login, china.graph, china.exchange) == (
        "https://login.chinacloudapi.cn",
        "https://microsoftgraph.chinacloudapi.cn",
        "https://partner.outlook.cn",
    )
    assert not china.login_overridden
    with pytest.raises(ValueError, match="unknown endpoint"):
        endpoints_for("global", {"sharepoint": "https://x"})


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in vars(connectors) if not name.startswith("_")}
    modules = {"cipp", "exchange", "graph", "partner_center"}
    assert public - modules == set(connectors.__all__)
    assert connectors.__all__ == sorted(connectors.__all__, key=lambda n: (not n.isupper(), n))

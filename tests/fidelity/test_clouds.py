"""Issue 12, item 13: where each service lives per cloud, and what the China cloud's Graph
lacks: DoD Exchange is outlook-dod.office365.us (token scope the same host), Partner Center in
China is partner.partnercenterapi.microsoftonline.cn, Identity Protection does not exist in
China (risky users are never read there: a finding, not an error) and $top is at most 500.

Against the old code: DoD Exchange pointed at webmail.apps.mil, China's Partner Center at the
global host, and a China tenant's plan asked for $top=999 (refused: every list unknown) and
for risky users (refused: an error)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from controller.connectors import TokenProvider, endpoints_for
from controller.connectors._settings import ClientSecret, ConnectionSettings
from controller.models import DesiredState
from controller.sandbox import Sandbox, Scenario, default_scenario
from tests.fidelity.conftest import CONTOSO
from tests.integration.conftest import plan_against
from tests.sandbox.conftest import client


def test_dod_exchange_and_its_token_scope() -> None:
    dod = endpoints_for("usgov-dod")
    assert dod.exchange == "https://outlook-dod.office365.us"
    settings = ConnectionSettings(
        endpoints=dod, partner_tenant_id="p", client_id="c", credential=ClientSecret("s")
    )
    tokens = TokenProvider(settings)
    try:
        assert tokens.scope("exchange") == "https://outlook-dod.office365.us/.default"
    finally:
        tokens.close()


def test_china_partner_center_page_size_and_no_identity_protection() -> None:
    china = endpoints_for("china")
    assert china.partner_center == "https://partner.partnercenterapi.microsoftonline.cn"
    assert china.graph_page_size == 500
    assert not china.risky_users
    assert endpoints_for("global").graph_page_size == 999
    assert endpoints_for("global").risky_users
    # Overriding a host keeps what the cloud can do.
    assert not endpoints_for("china", {"graph": "https://127.0.0.1:1"}).risky_users


def _china() -> Scenario:
    scenario = default_scenario()
    scenario.behaviour.cloud = "china"
    return scenario


def test_the_china_sandbox_refuses_what_the_china_cloud_has_not(
    serve: Callable[[Scenario], Sandbox],
) -> None:
    sandbox = serve(_china())
    with client(sandbox, CONTOSO) as g:
        assert g.get("/v1.0/users?$top=999").status_code == 400
        assert g.get("/v1.0/users?$top=500").status_code == 200
        risky = g.get("/v1.0/identityProtection/riskyUsers")
    assert risky.status_code == 400


def _in_china(state: DesiredState) -> DesiredState:
    spec = state.msp.spec.model_copy(update={"cloud": "china"})
    return dataclasses.replace(state, msp=state.msp.model_copy(update={"spec": spec}))


def test_a_china_plan_pages_by_500_and_never_reads_risky_users(
    serve: Callable[[Scenario], Sandbox], demo_state: DesiredState
) -> None:
    sandbox = serve(_china())
    plan = plan_against(sandbox, _in_china(demo_state)).plan
    contoso = next(t for t in plan.tenants if t.name == "contoso")
    assert contoso.observation == "complete", contoso.unknown
    (finding,) = [f for f in contoso.findings if f.check == "riskyUsers"]
    assert finding.severity == "info"
    assert "not available" in finding.message
    paths = [r.path for r in sandbox.requests]
    assert not [p for p in paths if "identityProtection" in p]
    assert not [p for p in paths if "top=999" in p]
    assert [p for p in paths if "top=500" in p]

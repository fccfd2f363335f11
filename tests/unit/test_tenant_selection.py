"""Which tenants and which secrets a run takes: ``--tenant`` in any case, "did you mean" for a
misspelt one; every missing secret the run needs reported at once, and CIPP's secret only
when a selected tenant sends Exchange through CIPP (otherwise CIPP is left out, and a note
says so). Nothing here reaches a network: secrets are checked before any call."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import cli
from controller.errors import MissingSecrets, UsageError
from controller.loader import load_desired
from controller.models import DesiredState
from controller.reconcile import select_tenants
from controller.reconcile._secrets import msp_for_run

DESIRED = Path(__file__).resolve().parents[2] / "desired"
UNSET = "the environment variable is not set"


@pytest.fixture(scope="module")
def demo() -> DesiredState:
    return load_desired(DESIRED)


def test_tenant_names_match_in_any_case(demo: DesiredState) -> None:
    chosen = select_tenants(demo, ["Contoso", " FABRIKAM"])
    assert [t.metadata.name for t in chosen.tenants] == ["contoso", "fabrikam"]


def test_a_misspelt_tenant_gets_a_did_you_mean(demo: DesiredState) -> None:
    with pytest.raises(UsageError) as raised:
        select_tenants(demo, ["contso"])
    assert str(raised.value) == (
        "no tenant named 'contso' (did you mean 'contoso'?) in the desired state; "
        "known: adatum, contoso, fabrikam, tailspin, woodgrove"
    )


def test_the_cli_exits_64_with_the_hint() -> None:
    result = CliRunner().invoke(cli, ["plan", "--desired", str(DESIRED), "--tenant", "fabrikm"])
    assert result.exit_code == 64
    assert "did you mean 'fabrikam'?" in result.stderr


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENANTCTL_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("CIPP_CLIENT_SECRET", raising=False)


@pytest.mark.usefixtures("no_secrets")
def test_every_missing_secret_is_reported_at_once(demo: DesiredState) -> None:
    with pytest.raises(MissingSecrets) as raised:
        msp_for_run(demo.msp, demo.tenants)
    assert [p.split(":", 2)[1] for p in raised.value.problems] == [
        "TENANTCTL_CLIENT_SECRET",
        "CIPP_CLIENT_SECRET",
    ]
    assert str(raised.value).startswith("2 secrets this run needs cannot be read:\n  env:")


@pytest.mark.usefixtures("no_secrets")
def test_cipp_is_needed_only_by_tenants_that_use_it(
    demo: DesiredState, monkeypatch: pytest.MonkeyPatch
) -> None:
    contoso = select_tenants(demo, ["contoso"]).tenants  # exchange: direct
    fabrikam = select_tenants(demo, ["fabrikam"]).tenants  # exchange: cipp
    with pytest.raises(MissingSecrets) as raised:
        msp_for_run(demo.msp, contoso)
    assert len(raised.value.problems) == 1 and "TENANTCTL_CLIENT_SECRET" in str(raised.value)
    monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", "partner-secret")
    usable, notes = msp_for_run(demo.msp, contoso)
    assert usable.spec.cipp is None
    assert notes == (
        f"CIPP is not used in this run: env:CIPP_CLIENT_SECRET: {UNSET}; export it before "
        "running tenantctl (in CI, map the secret into the job's environment) (no selected "
        "tenant has exchange: cipp or auto, so the run goes on without it)",
    )
    with pytest.raises(MissingSecrets, match="CIPP_CLIENT_SECRET"):
        msp_for_run(demo.msp, fabrikam)
    monkeypatch.setenv("CIPP_CLIENT_SECRET", "cipp-secret")
    assert msp_for_run(demo.msp, contoso) == (demo.msp, ())


@pytest.mark.usefixtures("no_secrets")
def test_plan_names_every_missing_secret_before_any_call() -> None:
    everything = CliRunner().invoke(cli, ["plan", "--desired", str(DESIRED)])
    assert everything.exit_code == 1
    assert everything.stderr.splitlines() == [
        "error: 2 secrets this run needs cannot be read:",
        f"  env:TENANTCTL_CLIENT_SECRET: {UNSET}; export it before running tenantctl (in CI, "
        "map the secret into the job's environment)",
        f"  env:CIPP_CLIENT_SECRET: {UNSET}; export it before running tenantctl (in CI, map "
        "the secret into the job's environment)",
    ]
    contoso = CliRunner().invoke(cli, ["plan", "--desired", str(DESIRED), "--tenant", "contoso"])
    assert "CIPP_CLIENT_SECRET" not in contoso.stderr
    assert "TENANTCTL_CLIENT_SECRET" in contoso.stderr

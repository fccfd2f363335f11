"""The partner's GDAP relationships are read while the desired state loads
(``controller.reconcile._early``): the plan is the one a run that read them itself makes, cost
included; a read made with other settings, or one that raised, is not taken; a failed read
gives the run the same failed check; and no read outlives its run."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import controller.cli.plan as plan_command
from controller.cli import cli
from controller.connectors import ClientAssertion, ClientSecret, settings_from_msp
from controller.loader import load_msp
from controller.reconcile import EarlyPartner, Where
from controller.reconcile._early import same_partner
from controller.sandbox import Sandbox
from tests.integration.conftest import serving
from tests.integration.subprocess_support import estate

GDAP = "/tenantRelationships/delegatedAdminRelationships"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, Path]]:
    with serving(tmp_path / "sandbox") as sb:
        monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", sb.secrets["partner"])
        monkeypatch.setenv("CIPP_CLIENT_SECRET", sb.secrets["cipp"])
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        yield sb, estate(tmp_path, sb, {"contoso": None, "fabrikam": None})


def _plan(desired: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["plan", "--desired", str(desired), "-o", "json", *extra], catch_exceptions=False
    )


def _gdap_reads(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if GDAP in r.path)


def test_the_relationships_are_read_while_the_tenants_load(
    served: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tenants' load waits, here, until the sandbox has served the relationships: a run
    that read them only after loading would wait for ever (10 s, then fail)."""
    sb, desired = served
    load = plan_command.chosen_tenants

    def load_slowly(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + 10
        while not _gdap_reads(sb):
            assert time.monotonic() < deadline, "the relationships were not read during the load"
            time.sleep(0.01)
        return load(*args, **kwargs)

    monkeypatch.setattr(plan_command, "chosen_tenants", load_slowly)
    early = _plan(desired)
    assert early.exit_code == 2, early.output
    assert _gdap_reads(sb) == 1  # taken by the run, not read again
    # And the OIDC discovery made for it is the run's: the tenants' tokens do not read it.
    assert sum(1 for r in sb.requests if r.path.endswith("openid-configuration")) == 1

    monkeypatch.setattr(plan_command, "chosen_tenants", load)
    monkeypatch.setattr(EarlyPartner, "start", classmethod(lambda cls, desired, where: None))
    late = _plan(desired)
    assert _gdap_reads(sb) == 2
    # The same plan (its id covers everything a reviewer reads), and the partner's cost in
    # it: the early read's round trip is the run's. (A tenant's own cost may differ: the
    # sandbox throttles the second run's bursts.)
    first, second = json.loads(early.stdout), json.loads(late.stdout)
    assert first["planId"] == second["planId"]
    assert first["accounting"] == second["accounting"]  # the partner's (and CIPP's)
    assert first["accounting"]["graph"]["roundTrips"] == 1


def test_a_read_with_other_settings_is_not_taken(
    served: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """msp.yaml changed between the early read and the load (another app): the run reads
    the relationships itself, with its own settings."""
    sb, desired = served
    start = EarlyPartner.start

    def with_another_app(cls: type[EarlyPartner], desired: Path, where: Where) -> Any:
        early = start(desired, where)
        assert early is not None
        early.close()
        other = replace(early.settings, client_id="00000000-0000-0000-0000-000000000001")
        return cls(other)

    monkeypatch.setattr(EarlyPartner, "start", classmethod(with_another_app))
    result = _plan(desired)
    assert result.exit_code == 2, result.output
    # The early read was refused (no such app) and not taken: the run's own read succeeded.
    assert _gdap_reads(sb) == 1
    assert json.loads(result.stdout)["failedChecks"] == []


def test_a_refused_early_read_is_the_run_s_failed_check(
    served: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong partner secret: the early read fails as the run's own read would, and the run
    reports the same failed check and exit status."""
    _, desired = served
    monkeypatch.setenv("TENANTCTL_CLIENT_SECRET", "not-the-secret")
    early = _plan(desired)
    monkeypatch.setattr(EarlyPartner, "start", classmethod(lambda cls, desired, where: None))
    late = _plan(desired)
    assert early.exit_code == late.exit_code == 1
    checks = json.loads(early.stdout)["failedChecks"]
    assert checks and checks == json.loads(late.stdout)["failedChecks"]


def test_no_early_read_outlives_a_run_whose_desired_state_is_invalid(
    served: tuple[Sandbox, Path],
) -> None:
    _, desired = served
    (desired / "tenants" / "broken.yaml").write_text("apiVersion: tenantctl/v1\nkind: Tenant\n")
    result = _plan(desired)
    assert result.exit_code == 1
    assert not [t for t in threading.enumerate() if t.name == "tenantctl-early-partner"]


def test_the_sandbox_and_an_msp_yaml_that_does_not_load_read_nothing_early(
    tmp_path: Path, served: tuple[Sandbox, Path]
) -> None:
    _, desired = served
    assert EarlyPartner.start(desired, Where(sandbox=True)) is None
    (tmp_path / "empty").mkdir()
    assert EarlyPartner.start(tmp_path / "empty", Where()) is None
    (desired / "msp.yaml").write_text("apiVersion: tenantctl/v1\nkind: MSP\nspec: {}\n")
    assert EarlyPartner.start(desired, Where()) is None


def test_the_same_partner_is_the_same_endpoints_app_and_credential(
    served: tuple[Sandbox, Path],
) -> None:
    _, desired = served
    msp = load_msp(desired)
    assert msp is not None
    one, two = settings_from_msp(msp), settings_from_msp(msp)
    assert same_partner(one, two)
    assert not same_partner(one, replace(two, client_id="x"))
    other_secret = replace(two, credential=ClientSecret("other"))
    assert not same_partner(one, other_secret)
    # An assertion is read again for every token: where it is read from is what counts.
    first = replace(one, credential=ClientAssertion(lambda: "a", "f"))
    second = replace(one, credential=ClientAssertion(lambda: "b", "f"))
    third = replace(one, credential=ClientAssertion(lambda: "a", "g"))
    assert same_partner(first, second) and not same_partner(first, third)

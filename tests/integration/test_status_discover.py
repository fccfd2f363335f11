"""status and discover against the sandbox: each demo tenant's badges and counts (the plan's
own numbers), the JSON shape, plain text off a terminal, GDAP customers missing from desired/,
skeleton files that validate and are never overwritten, and clean exits on operator errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from controller.cli import main
from controller.loader import load_desired
from controller.models import DesiredState
from controller.observe.partner import DiscoveredCustomer, read_undeclared
from controller.reconcile import select_tenants
from controller.render.status import status_rows
from controller.sandbox import Sandbox
from tests.integration.conftest import DESIRED, plan_against, virtual_connections
from tests.plan.test_demo import EXPECTED

LITWARE = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    code = done.value.code
    return code if isinstance(code, int) else 1, out, err


# -- status -----------------------------------------------------------------------------------


def test_status_of_the_demo_estate_shows_each_tenants_badges_and_the_plans_counts(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    result = plan_against(sandbox, demo_state)
    rows = {r.name: r for r in status_rows(result.plan, result.observed)}
    seen = {
        name: (r.gdap_cell, r.consent_cell, r.exchange, r.observation) for name, r in rows.items()
    }
    assert seen == {
        "adatum": ("active, PRA", "pending", "pending", "partial"),
        "contoso": ("active, PRA", "granted", "working (direct)", "complete"),
        "fabrikam": ("active, PRA", "granted", "working (cipp)", "complete"),
        "tailspin": (
            "active, PRA",
            "partial (missing: AuditLog.Read.All)",
            "propagating",
            "partial",
        ),
        "woodgrove": ("expiring (2026-12-01), no GA/PRA", "granted", "pending", "partial"),
    }
    counts = {n: (r.pending_changes, r.manual_steps, r.findings) for n, r in rows.items()}
    assert counts == {
        "adatum": (1, 0, 0),
        "contoso": (21, 0, 2),
        "fabrikam": (9, 0, 2),
        "tailspin": (1, 1, 0),
        "woodgrove": (5, 1, 2),
    }
    # The same numbers as the plan's (and as the planner tests expect): changes and manual
    # steps are counted apart, never a manual step as a change.
    for tenant in result.plan.tenants:
        assert rows[tenant.name].pending_changes == len(tenant.changes)
        assert rows[tenant.name].pending_changes + rows[tenant.name].manual_steps == len(
            EXPECTED[tenant.name]
        )
        assert rows[tenant.name].findings == len(tenant.findings)
    assert rows["woodgrove"].gdap == "expiring"
    assert rows["woodgrove"].gdap_ends == "2026-12-01"
    assert (rows["woodgrove"].global_admin, rows["woodgrove"].privileged_role_admin) == (
        False,
        False,
    )
    assert rows["tailspin"].unknown == ("mfa", "sharedMailboxes")


def test_status_json_is_a_list_of_one_object_per_tenant_in_the_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "status",
            "--sandbox",
            "--sandbox-state",
            str(tmp_path / "sandbox"),
            "--desired",
            str(DESIRED),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 2, err  # the demo estate has changes, manual steps and unknown areas
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["adatum", "contoso", "fabrikam", "tailspin", "woodgrove"]
    for row in rows:
        assert set(row) == {
            "name",
            "tenantId",
            "source",
            "gdap",
            "consent",
            "exchange",
            "pendingChanges",
            "manualSteps",
            "findings",
            "problems",
            "observation",
            "unknown",
        }
        assert set(row["gdap"]) == {
            "status",
            "ends",
            "globalAdministrator",
            "privilegedRoleAdministrator",
            "detail",
        }
        assert set(row["consent"]) == {"status", "missing", "detail"}
        assert set(row["exchange"]) == {"status", "detail"}
    woodgrove = rows[-1]
    assert woodgrove["gdap"]["status"] == "expiring"
    assert woodgrove["gdap"]["ends"] == "2026-12-01"
    assert woodgrove["gdap"]["globalAdministrator"] is False
    assert woodgrove["exchange"]["status"] == "pending"
    assert (woodgrove["pendingChanges"], woodgrove["manualSteps"], woodgrove["findings"]) == (
        5,
        1,
        2,
    )
    tailspin = rows[3]
    assert tailspin["consent"] == {
        "status": "partial",
        "missing": ["AuditLog.Read.All"],
        "detail": "missing: AuditLog.Read.All",
    }


def test_status_text_off_a_terminal_is_plain_columns_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "status",
            "--sandbox",
            "--sandbox-state",
            str(tmp_path / "sandbox"),
            "--desired",
            str(DESIRED),
            "--tenant",
            "contoso",
            "--tenant",
            "tailspin",
        ],
        capsys,
    )
    assert code == 2, err  # contoso has changes, tailspin unknown areas
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0].split() == [
        "TENANT",
        "GDAP",
        "CONSENT",
        "EXCHANGE",
        "CHANGES",
        "MANUAL",
        "FINDINGS",
        "OBSERVED",
    ]
    assert lines[1].split()[0] == "contoso"
    assert "working (direct)" in lines[1]
    assert lines[2].startswith("tailspin")
    assert "propagating" in lines[2]
    assert lines[-1] == (
        "2 tenant(s): 2 with pending changes, 1 manual step(s), 2 finding(s), 1 not fully observed."
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["status", "--tenant", "nosuch"], "no tenant named 'nosuch' in the desired state"),
        (["status", "--shard", "5/4"], "shard 5/4 does not exist"),
        (["discover", "--desired", "/nonexistent"], "is not a directory"),
    ],
)
def test_usage_errors_exit_64_with_a_message_and_no_traceback(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--desired" not in argv:
        argv = [*argv, "--desired", str(DESIRED)]
    code, out, err = run([*argv, "--sandbox", "--sandbox-state", str(tmp_path / "s")], capsys)
    assert code == 64
    assert message in err
    assert "Traceback" not in out + err


# -- discover ---------------------------------------------------------------------------------


def test_discover_lists_only_the_undeclared_gdap_customer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "discover",
            "--sandbox",
            "--sandbox-state",
            str(tmp_path / "sandbox"),
            "--desired",
            str(DESIRED),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    found = json.loads(out)
    assert found == [
        {
            "displayName": "Litware Inc",
            "tenantId": LITWARE,
            "defaultDomain": "litware.onmicrosoft.com",
            "domains": ["litware.onmicrosoft.com"],
            "domainsFrom": "partnerCenter",
            "gdap": {
                "status": "active",
                "ends": found[0]["gdap"]["ends"],
                "roles": [
                    "Exchange Administrator",
                    "Groups Administrator",
                    "License Administrator",
                    "Privileged Role Administrator",
                    "User Administrator",
                ],
            },
            "name": "litware",
        }
    ]
    assert found[0]["gdap"]["ends"]


def test_discover_text_names_the_customer_its_domain_and_gdap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        [
            "discover",
            "--sandbox",
            "--sandbox-state",
            str(tmp_path / "s"),
            "--desired",
            str(DESIRED),
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines()[0] == f"Litware Inc  {LITWARE}"
    assert "default domain: litware.onmicrosoft.com" in out
    assert "GDAP:           active, ends " in out
    assert "1 GDAP customer(s) not declared" in out


def test_domains_come_from_the_organization_when_the_app_can_read_the_tenant(
    sandbox: Sandbox, demo_state: DesiredState
) -> None:
    without_contoso = select_tenants(demo_state, predicate=lambda t: t.metadata.name != "contoso")

    async def read() -> list[DiscoveredCustomer]:
        async with virtual_connections(sandbox, demo_state) as connections:
            return await read_undeclared(connections, without_contoso, dt_now(sandbox))

    found = {c.display_name: c for c in asyncio.run(read())}
    assert set(found) == {"Contoso Ltd", "Litware Inc"}
    contoso = found["Contoso Ltd"]
    assert contoso.domains == ("contoso.onmicrosoft.com", "contoso.com")
    assert contoso.domains_from == "organization"
    assert found["Litware Inc"].domains_from == "partnerCenter"


def dt_now(sandbox: Sandbox) -> dt.datetime:
    return dt.datetime.fromtimestamp(sandbox.clock.now(), dt.UTC)


@pytest.fixture
def desired_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "desired"
    shutil.copytree(DESIRED, copy)
    return copy


def test_discover_write_creates_a_skeleton_that_validates_and_then_finds_nothing(
    desired_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = ["--sandbox", "--sandbox-state", str(tmp_path / "s"), "--desired", str(desired_copy)]
    code, _, err = run(["discover", "--write", *world], capsys)
    assert code == 0, err
    written = desired_copy / "tenants" / "litware.yaml"
    assert f"wrote {written}" in err
    text = written.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/tenant.schema.json\n")

    code, _, err = run(["validate", "--desired", str(desired_copy)], capsys)
    assert code == 0, err
    litware = next(t for t in load_desired(desired_copy).tenants if t.metadata.tenant_id == LITWARE)
    assert litware.metadata.name == "litware"
    assert litware.metadata.domains == ["litware.onmicrosoft.com"]
    assert (litware.spec.consent, litware.spec.exchange) == ("granted", "unmanaged")

    code, out, err = run(["discover", "--write", *world], capsys)
    assert code == 0
    assert out == ""
    assert "every GDAP customer is declared" in err
    assert written.read_text(encoding="utf-8") == text


def test_discover_write_never_overwrites_an_existing_file(
    desired_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file named litware.yaml that declares another tenant under another name.
    existing = desired_copy / "tenants" / "litware.yaml"
    original = (
        "apiVersion: tenantctl/v1\nkind: Tenant\nmetadata:\n  name: litware-old\n"
        "  tenantId: 00000000-0000-4000-8000-000000000001\n  domains: [litware-old.example.com]\n"
    )
    existing.write_text(original, encoding="utf-8")
    world = ["--sandbox", "--sandbox-state", str(tmp_path / "s"), "--desired", str(desired_copy)]
    code, out, err = run(["discover", "--write", *world], capsys)
    assert code == 1
    assert f"{existing} exists; not overwritten" in err
    assert "Traceback" not in out + err
    assert existing.read_text(encoding="utf-8") == original

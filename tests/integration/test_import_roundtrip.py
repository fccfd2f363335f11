"""Import against the sandbox: the round trip (plan right after import has no operation for
the tenant) on every demo tenant the default sandbox can observe and on a generated large
tenant; tenants that cannot be fully observed are refused and nothing is written; existing
files are not overwritten without --force; the observer's read_all reads what import needs.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import yaml

from controller.importer import ImportOptions, ImportOutcome, ImportRequest, import_tenants
from controller.loader import load_desired, validate_desired
from controller.models import TenantConfig, TenantSpec
from controller.models.observed import Unknown
from controller.observe import observe_estate
from controller.reconcile import select_tenants
from controller.sandbox import Sandbox, generate_scenario
from tests.integration.conftest import DESIRED, plan_against, virtual_connections, world_of

EVERYTHING = ImportOptions()
GRAPH_ONLY = ImportOptions(include=frozenset({"users", "groups"}))


@pytest.fixture
def desired(tmp_path: Path) -> Path:
    copy = tmp_path / "desired"
    shutil.copytree(DESIRED, copy)
    return copy


def run_import(sandbox: Sandbox, desired: Path, request: ImportRequest) -> list[ImportOutcome]:
    state = load_desired(desired)

    async def run() -> list[ImportOutcome]:
        async with virtual_connections(sandbox, state) as connections:
            return await import_tenants(
                state, desired, request, world_of(sandbox, state), connections=connections
            )

    return asyncio.run(run())


def assert_round_trip(sandbox: Sandbox, desired: Path, name: str) -> None:
    state, problems = validate_desired(desired)
    assert state is not None, problems
    result = plan_against(sandbox, select_tenants(state, [name]))
    (tenant,) = result.plan.tenants
    assert tenant.operations == ()
    assert tenant.problems == ()


@pytest.mark.parametrize("name", ["contoso", "fabrikam"])
def test_every_fully_observable_demo_tenant_round_trips(
    sandbox: Sandbox, desired: Path, name: str
) -> None:
    (outcome,) = run_import(sandbox, desired, ImportRequest(names=(name,), force=True))
    assert outcome.status == "written", outcome.message
    assert_round_trip(sandbox, desired, name)


@pytest.mark.parametrize("name", ["tailspin", "woodgrove"])
def test_tenants_without_working_exchange_refuse_exchange_but_import_graph(
    sandbox: Sandbox, desired: Path, name: str
) -> None:
    path = desired / "tenants" / f"{name}.yaml"
    before = path.read_bytes()
    (refused,) = run_import(sandbox, desired, ImportRequest(names=(name,), force=True))
    assert refused.status == "refused"
    assert "sharedMailboxes" in refused.message and "--include users,groups" in refused.message
    assert path.read_bytes() == before  # nothing written, not even partly
    assert not list(path.parent.glob(".*.tmp"))

    request = ImportRequest(names=(name,), force=True, options=GRAPH_ONLY)
    (outcome,) = run_import(sandbox, desired, request)
    assert outcome.status == "written", outcome.message
    assert "exchange: unmanaged" in path.read_text()
    assert_round_trip(sandbox, desired, name)


def test_a_tenant_without_consent_is_refused_and_no_file_appears(
    sandbox: Sandbox, desired: Path
) -> None:
    outcomes = run_import(sandbox, desired, ImportRequest(names=("adatum", "litware")))
    by_name = {o.name: o for o in outcomes}
    assert by_name["adatum"].status == "refused"  # exists: not overwritten without --force
    assert "exists" in by_name["adatum"].message
    assert by_name["litware"].status == "refused"
    assert "AADSTS7000229" in by_name["litware"].message
    assert not (desired / "tenants" / "litware.yaml").exists()


def test_all_skips_existing_files_and_imports_new_customers(
    sandbox: Sandbox, desired: Path
) -> None:
    outcomes = run_import(sandbox, desired, ImportRequest(all_tenants=True))
    assert {o.name: o.status for o in outcomes} == {
        "adatum": "skipped",
        "contoso": "skipped",
        "fabrikam": "skipped",
        "litware": "refused",  # a GDAP customer without consent yet
        "tailspin": "skipped",
        "woodgrove": "skipped",
    }


def test_a_generated_large_tenant_round_trips(tmp_path: Path) -> None:
    desired = tmp_path / "desired"
    (desired / "tenants").mkdir(parents=True)
    msp = yaml.safe_load((DESIRED / "msp.yaml").read_text())
    del msp["spec"]["policy"]["tenants"]  # rules for demo tenants this estate does not have
    (desired / "msp.yaml").write_text(yaml.safe_dump(msp))
    scenario = generate_scenario(tenants=1, users=300, groups=30, members_per_group=15)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        # Not in desired/ yet: named as its GDAP customer ("Synthetic Tenant 0").
        (outcome,) = run_import(sandbox, desired, ImportRequest(names=("synthetic-tenant-0",)))
        assert outcome.status == "written", outcome.message
        state = load_desired(desired)
        (tenant,) = state.tenants
        assert tenant.metadata.name == "synthetic-tenant-0"
        assert len(tenant.spec.users) == 300
        assert len(tenant.spec.groups) == 30
        assert all(len(g.members or ()) == 15 for g in tenant.spec.groups)
        result = plan_against(sandbox, state)
        assert result.plan.operations == ()
        assert not result.plan.errored


def test_the_observer_reads_every_member_and_permission_only_when_asked(
    sandbox: Sandbox, demo_state: object
) -> None:
    state = load_desired(DESIRED)
    contoso = state.tenant("contoso")
    bare = TenantConfig(
        api_version="tenantctl/v1",
        kind="Tenant",
        metadata=contoso.metadata,
        spec=TenantSpec(exchange="direct"),
    )

    def observe(read_all: bool) -> object:
        async def run() -> object:
            async with virtual_connections(sandbox, state) as connections:
                observed = await observe_estate(
                    [bare],
                    connections,
                    app_id=state.msp.spec.partner.client_id,
                    cipp=True,
                    now=world_of(sandbox, state).now(),
                    read_all=read_all,
                )
                return observed["contoso"]

        return asyncio.run(run())

    everything = observe(read_all=True)
    assert all(
        isinstance(g.members, tuple)
        for g in everything.groups  # type: ignore[attr-defined]
        if g.kind in ("security", "microsoft365")
    )
    (dg,) = everything.distribution_groups  # type: ignore[attr-defined]
    assert isinstance(dg.members, tuple)
    (mailbox,) = everything.shared_mailboxes  # type: ignore[attr-defined]
    assert mailbox.full_access == frozenset({"bob@contoso.com", "eve@contoso.com"})
    assert mailbox.send_as == frozenset() and mailbox.send_on_behalf == frozenset()

    declared_only = observe(read_all=False)
    # Not read is unknown, never an empty list.
    assert isinstance(declared_only.groups, Unknown)
    assert declared_only.groups.code == "notManaged"
    (mailbox,) = declared_only.shared_mailboxes  # type: ignore[attr-defined]
    assert mailbox.full_access is None

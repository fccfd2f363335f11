"""The planner lets go of each tenant's provenance table once the tenant is planned: the plan
keeps the sources it names, and a later plan of the same state works the table out again and
names the same sources (a 1,000-tenant estate held 250 MiB of tables otherwise)."""

from __future__ import annotations

from pathlib import Path

from controller.loader.profiles import provenance_entries
from controller.models.provenance import Provenance, Source
from controller.plan import plan_estate
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed


def test_a_released_table_is_worked_out_again_on_next_use() -> None:
    worked_out: list[int] = []

    def entries() -> dict[tuple[str, ...], Source]:
        worked_out.append(1)
        return {(): Source(file="tenants/contoso.yaml", line=1)}

    provenance = Provenance(entries)
    assert provenance.find(("users",)) == Source(file="tenants/contoso.yaml", line=1)
    provenance.find(("groups",))
    assert len(worked_out) == 1
    provenance.release()
    assert provenance.find(("users",)) is not None
    assert len(worked_out) == 2


def test_the_planner_releases_every_table_and_a_second_plan_names_the_same_sources() -> None:
    state = demo_desired()
    assert state.provenance
    first = plan_estate(state, demo_observed(state), demo_context(state))
    assert all(p._entries is None for p in state.provenance.values())
    sources = [op.source for op in first.operations]
    assert any(source is not None for source in sources)
    second = plan_estate(state, demo_observed(state), demo_context(state))
    assert [op.source for op in second.operations] == sources
    assert second.plan_id == first.plan_id


def test_a_tenant_without_profiles_names_the_same_sources_without_parsing_its_file_again() -> None:
    """The shortcut (the validated model, dumped as written, instead of a second parse) must
    give exactly the table the parse gives."""
    state = demo_desired()
    without = [t for t in state.tenants if not state.applied.get(t.metadata.name)]
    assert without, "the demo estate has a tenant that takes no profile"
    for tenant in without:
        path = state.sources[tenant.metadata.name]
        text = Path(path).read_text(encoding="utf-8")
        parsed = provenance_entries(path, text, [], enforced_only=True)()
        dumped = provenance_entries(
            path,
            text,
            [],
            enforced_only=True,
            own_data=lambda t=tenant: t.model_dump(by_alias=True, exclude_unset=True),
        )()
        assert dumped == parsed
        assert len(parsed) > 10


def test_the_tenant_text_waits_packed_until_a_plan_needs_its_lines() -> None:
    """Every tenant's text is kept for the run, so it is kept compressed: the function that
    works the table out holds no copy of the text, and gives the table the text gives."""
    state = demo_desired()
    tenant = state.tenants[0]
    path = state.sources[tenant.metadata.name]
    text = Path(path).read_text(encoding="utf-8")
    compute = provenance_entries(path, text, [], enforced_only=True)
    held = [cell.cell_contents for cell in compute.__closure__ or ()]
    assert not any(isinstance(value, str) and len(value) >= len(text) for value in held)
    assert sum(len(v) for v in held if isinstance(v, bytes)) < len(text)
    assert compute() == provenance_entries(path, text, [], enforced_only=True)()

"""A plan works out the sources of only the paths it names (``Provenance.only``), and they are
exactly those the whole table gives: for every path of the demo estate's tenants (with and
without profiles, enforced and report mode), alone and together, and for paths that are not
declared. The lines of only some locations of a file are those the whole index gives."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from controller.loader import load_desired
from controller.loader.lines import line_index
from controller.models.provenance import Path as ProvenancePath
from controller.models.provenance import Provenance, Source
from controller.plan import plan_estate
from controller.plan.provenance import with_sources
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed

DESIRED = Path(__file__).resolve().parents[2] / "desired"


# A report-mode profile with an anchor and its alias, that contoso takes besides the demo's.
BASELINE = """\
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: baseline
mode: report
spec:
  users:
    - userPrincipalName: helpdesk@${tenant.primaryDomain}
      displayName: &helpdesk Helpdesk
      usageLocation: US
  groups:
    - displayName: *helpdesk
      mailNickname: helpdesk
      members:
        - helpdesk@${tenant.primaryDomain}
  checks:
    riskyUsers: {maxRiskLevel: medium}
"""


def _provenances(root: Path) -> list[tuple[str, Provenance]]:
    desired = root / "desired"
    shutil.copytree(DESIRED, desired)
    (desired / "profiles" / "baseline.yaml").write_text(BASELINE, encoding="utf-8")
    contoso = desired / "tenants" / "contoso.yaml"
    text = contoso.read_text(encoding="utf-8")
    text = text.replace("profiles: [standard]", "profiles: [standard, baseline]")
    # Members that come in through an alias have no line of their own: their list's is named.
    text = text.replace(
        "members: [alice@contoso.com, carol@contoso.com]",
        "members: &sales [alice@contoso.com, carol@contoso.com]\n"
        "    - displayName: Sales Too\n"
        "      mailNickname: salestoo\n"
        "      members: *sales",
    )
    contoso.write_text(text, encoding="utf-8")
    state = load_desired(desired)
    found = list(state.provenance.items())
    found += [(f"{name} (report)", r.provenance) for name, r in state.reports.items()]
    assert len(found) > len(state.provenance), "contoso has a report-mode profile"
    return found


def _asked(paths: list[ProvenancePath]) -> list[ProvenancePath]:
    """The table's paths, and paths below them and beside them that are not declared."""
    more = [(*p, "notDeclared") for p in paths[:40]]
    return [*paths, *more, ("users", "nobody@example.com", "displayName"), ("nothing",), ()]


def test_each_path_alone_finds_the_source_the_whole_table_gives(tmp_path: Path) -> None:
    for name, provenance in _provenances(tmp_path):
        whole = dict(provenance.entries)
        assert len(whole) > 5, name
        for path in _asked(list(whole)):
            assert provenance.only([path]).find(path) == provenance.find(path), (name, path)


def test_paths_asked_together_find_what_the_whole_table_gives(tmp_path: Path) -> None:
    rng = random.Random(15)
    for name, provenance in _provenances(tmp_path):
        asked = _asked(list(provenance.entries))
        expected = {path: provenance.find(path) for path in asked}
        provenance.release()
        for _ in range(5):
            some = rng.sample(asked, min(8, len(asked)))
            found = provenance.only(some)
            assert {p: found.find(p) for p in some} == {p: expected[p] for p in some}, name


def test_planning_works_out_only_the_paths_the_plan_names() -> None:
    state = demo_desired()
    plan = plan_estate(state, demo_observed(state), demo_context(state))
    planned = [t for t in plan.tenants if t.operations or t.findings]
    assert planned
    for tenant in planned:
        calls: list[str] = []
        whole = state.provenance[tenant.name]

        def all_entries(
            whole: Provenance = whole, calls: list[str] = calls
        ) -> dict[ProvenancePath, Source | tuple[str, int, str | None]]:
            calls.append("all")
            return dict(whole.entries)

        def some(
            paths: object, whole: Provenance = whole, calls: list[str] = calls
        ) -> dict[ProvenancePath, Source | tuple[str, int, str | None]]:
            calls.append("some")
            return dict(whole.entries)

        bare = tenant.model_copy(
            update={
                "operations": tuple(
                    o.model_copy(update={"source": None}) for o in tenant.operations
                ),
                "findings": tuple(f.model_copy(update={"source": None}) for f in tenant.findings),
            }
        )
        again = with_sources(bare, Provenance(all_entries, some=some))
        assert calls == ["some"]
        assert again == tenant


def test_the_lines_of_some_locations_are_those_of_the_whole_index() -> None:
    rng = random.Random(15)
    files = sorted(DESIRED.rglob("*.yaml"))
    assert len(files) > 3
    for file in files:
        text = file.read_text(encoding="utf-8")
        whole = line_index(text)
        locations = list(whole)
        for size in (1, 2, 5, 20):
            asked = set(rng.sample(locations, min(size, len(locations))))
            asked.add(("spec", "nowhere", 3))
            assert line_index(text, asked) == {k: whole[k] for k in asked if k in whole}, file
        assert line_index(text, set()) == {}

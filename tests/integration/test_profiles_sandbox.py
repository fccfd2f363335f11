"""Profiles against the sandbox.

The acceptance test: 200 generated sandbox tenants taking two profiles (``standard`` by
name, ``gold`` by label on every third tenant, some tenants overriding a field or removing an
object) give exactly the operations, fingerprints included, of the same estate with the
profiles expanded by hand into the tenant files; only the sources differ. And ``import
--omit-profile-objects`` leaves out what a profile already declares as the tenant has it,
with ``plan`` right after still reporting no change.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import yaml

from controller.importer import ImportOptions, ImportRequest, import_tenants
from controller.loader import load_desired
from controller.models import DesiredState
from controller.reconcile import select_tenants
from controller.sandbox import Sandbox, Scenario, default_scenario, generate_scenario
from tests.integration.conftest import DESIRED, plan_against, virtual_connections, world_of

TENANTS = 200

STANDARD = """\
# yaml-language-server: $schema=../../schemas/profile.schema.json
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: standard
spec:
  exchange: direct
  users:
    - userPrincipalName: breakglass@${tenant.primaryDomain}
      displayName: Break Glass (${tenant.displayName})
      usageLocation: US
      accountEnabled: true
  groups:
    - mailNickname: group0000
      displayName: Group 0
      description: Managed for ${tenant.name}
  distributionGroups:
    - name: All Staff
      primarySmtpAddress: allstaff@${tenant.primaryDomain}
      members: ["breakglass@${tenant.primaryDomain}", "user00000@${tenant.primaryDomain}"]
  sharedMailboxes:
    - name: Helpdesk
      primarySmtpAddress: helpdesk@${tenant.primaryDomain}
      fullAccess: ["user00001@${tenant.primaryDomain}"]
  checks:
    mfa: {require: registered, except: ["breakglass@${tenant.primaryDomain}"]}
"""

GOLD = """\
# yaml-language-server: $schema=../../schemas/profile.schema.json
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: gold
selector:
  matchLabels: {tier: gold}
spec:
  groups:
    - mailNickname: vip
      displayName: VIP support for ${tenant.displayName}
      members: ["user00002@${tenant.primaryDomain}"]
  sharedMailboxes:
    - name: Helpdesk
      primarySmtpAddress: helpdesk@${tenant.primaryDomain}
      sendAs: ["user00001@${tenant.primaryDomain}"]
"""


def _metadata(scenario: Scenario, i: int) -> list[str]:
    tenant = scenario.tenants[i]
    lines = [
        "metadata:",
        f"  name: {tenant.name}",
        f"  displayName: {tenant.display_name}",
        f"  tenantId: {tenant.tenant_id}",
        f"  domains: [{', '.join(tenant.domains)}]",
    ]
    if i % 3 == 0:
        lines.append("  labels: {tier: gold}")
    return lines


def _own_users(scenario: Scenario, i: int) -> list[str]:
    lines = []
    for user in scenario.tenants[i].users[:3]:
        lines += [
            f"    - userPrincipalName: {user.user_principal_name}",
            f"      displayName: {user.display_name}",
        ]
    return lines


def with_profiles(scenario: Scenario, i: int) -> str:
    """A tenant file taking the profiles; every fifth overrides the members of All Staff,
    every seventh removes the helpdesk mailbox."""
    domain = scenario.tenants[i].domains[0]
    lines = [
        "# yaml-language-server: $schema=../../schemas/tenant.schema.json",
        "apiVersion: tenantctl/v1",
        "kind: Tenant",
        *_metadata(scenario, i),
        "spec:",
        "  profiles: [standard]",
        "  users:",
        *_own_users(scenario, i),
    ]
    if i % 5 == 0:
        lines += [
            "  distributionGroups:",
            f"    - primarySmtpAddress: allstaff@{domain}",
            f"      members: [user00000@{domain}, user00001@{domain}]",
        ]
    if i % 7 == 0:
        lines += [
            "  sharedMailboxes:",
            f"    - {{primarySmtpAddress: helpdesk@{domain}, ensure: absent}}",
        ]
    return "\n".join(lines) + "\n"


def expanded_by_hand(scenario: Scenario, i: int) -> str:
    """The same tenant with both profiles written out, as a person would without profiles."""
    tenant = scenario.tenants[i]
    domain = tenant.domains[0]
    gold = i % 3 == 0
    lines = [
        "apiVersion: tenantctl/v1",
        "kind: Tenant",
        *_metadata(scenario, i),
        "spec:",
        "  exchange: direct",
        "  users:",
        *_own_users(scenario, i),
        f"    - userPrincipalName: breakglass@{domain}",
        f"      displayName: Break Glass ({tenant.display_name})",
        "      usageLocation: US",
        "      accountEnabled: true",
        "  groups:",
        "    - mailNickname: group0000",
        "      displayName: Group 0",
        f"      description: Managed for {tenant.name}",
    ]
    if gold:
        lines += [
            "    - mailNickname: vip",
            f"      displayName: VIP support for {tenant.display_name}",
            f"      members: [user00002@{domain}]",
        ]
    members = (
        f"[user00000@{domain}, user00001@{domain}]"
        if i % 5 == 0
        else f"[breakglass@{domain}, user00000@{domain}]"
    )
    lines += [
        "  distributionGroups:",
        "    - name: All Staff",
        f"      primarySmtpAddress: allstaff@{domain}",
        f"      members: {members}",
        "  sharedMailboxes:",
    ]
    if i % 7 == 0:
        lines.append(f"    - {{primarySmtpAddress: helpdesk@{domain}, ensure: absent}}")
    else:
        lines += [
            "    - name: Helpdesk",
            f"      primarySmtpAddress: helpdesk@{domain}",
            f"      fullAccess: [user00001@{domain}]",
        ]
        if gold:
            lines.append(f"      sendAs: [user00001@{domain}]")
    lines += ["  checks:", f"    mfa: {{require: registered, except: [breakglass@{domain}]}}"]
    return "\n".join(lines) + "\n"


def write_estate(root: Path, scenario: Scenario, *, profiles: bool) -> Path:
    desired = root / "desired"
    (desired / "tenants").mkdir(parents=True)
    msp = yaml.safe_load((DESIRED / "msp.yaml").read_text())
    del msp["spec"]["policy"]["tenants"]  # rules for demo tenants this estate does not have
    (desired / "msp.yaml").write_text(yaml.safe_dump(msp))
    if profiles:
        (desired / "profiles").mkdir()
        (desired / "profiles" / "standard.yaml").write_text(STANDARD)
        (desired / "profiles" / "gold.yaml").write_text(GOLD)
    write = with_profiles if profiles else expanded_by_hand
    for i, tenant in enumerate(scenario.tenants):
        (desired / "tenants" / f"{tenant.name}.yaml").write_text(write(scenario, i))
    return desired


def load_from(root: Path, monkeypatch: pytest.MonkeyPatch) -> DesiredState:
    monkeypatch.chdir(root)  # sources read desired/..., as they do in a repository
    return load_desired(Path("desired"))


def test_200_tenants_with_two_profiles_plan_what_the_profiles_expanded_by_hand_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = generate_scenario(tenants=TENANTS, users=4, groups=1, members_per_group=2, seed=7)
    write_estate(tmp_path / "profiles", scenario, profiles=True)
    write_estate(tmp_path / "by-hand", scenario, profiles=False)
    by_profile = load_from(tmp_path / "profiles", monkeypatch)
    by_hand = load_from(tmp_path / "by-hand", monkeypatch)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        planned = plan_against(sandbox, by_profile).plan
        expected = plan_against(sandbox, by_hand).plan

    assert not planned.errored and not expected.errored
    assert [(op.id, op.fingerprint) for op in planned.operations] == [
        (op.id, op.fingerprint) for op in expected.operations
    ]
    assert [op.model_dump(exclude={"source"}) for op in planned.operations] == [
        op.model_dump(exclude={"source"}) for op in expected.operations
    ]
    kinds = [op.kind.value for op in planned.operations]
    assert kinds.count("user.create") == TENANTS  # breakglass, everywhere
    assert kinds.count("group.create") == len(range(0, TENANTS, 3))  # vip, gold tenants only
    assert kinds.count("sharedMailbox.create") == TENANTS - len(range(0, TENANTS, 7))
    assert all(op.source is not None for op in planned.operations)
    standard = {str(op.source) for op in planned.operations if op.kind.value == "user.create"}
    assert standard == {"desired/profiles/standard.yaml:9"}
    overridden = next(
        op
        for op in planned.operations
        if op.tenant == "t00000" and op.kind.value == "distributionGroup.addMember"
    )
    assert str(overridden.source) == "desired/tenants/t00000.yaml:21"  # the tenant's own list
    assert all(op.source is not None and op.source.profile is None for op in expected.operations)


PROFILE_FOR_CONTOSO = """\
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: contoso-baseline
spec:
  distributionGroups:
    - name: All Staff
      primarySmtpAddress: allstaff@${tenant.primaryDomain}
      members: ["alice@${tenant.primaryDomain}", "bob@${tenant.primaryDomain}", "eve@${tenant.primaryDomain}"]
  groups:
    - mailNickname: sales
      displayName: Sales Team
"""


def test_import_leaves_out_what_the_profiles_declare_as_the_tenant_has_it(
    tmp_path: Path,
) -> None:
    desired = tmp_path / "desired"
    shutil.copytree(DESIRED, desired)
    (desired / "profiles" / "contoso-baseline.yaml").write_text(PROFILE_FOR_CONTOSO)
    path = desired / "tenants" / "contoso.yaml"
    text = path.read_text()
    path.write_text(text.replace("profiles: [standard]", "profiles: [standard, contoso-baseline]"))
    with Sandbox(default_scenario(), state_dir=tmp_path / "sandbox") as sandbox:
        state = load_desired(desired)
        request = ImportRequest(
            names=("contoso",), force=True, options=ImportOptions(omit_profile_objects=True)
        )

        async def run() -> object:
            async with virtual_connections(sandbox, state) as connections:
                return await import_tenants(
                    state, desired, request, world_of(sandbox, state), connections=connections
                )

        (outcome,) = asyncio.run(run())  # type: ignore[misc]
        assert outcome.status == "written", outcome.message
        written = yaml.safe_load(path.read_text())
        assert written["spec"]["profiles"] == ["standard", "contoso-baseline"]
        # The file's own checks are kept, not the profile's: the profile goes on applying.
        assert written["spec"]["checks"]["mfa"] == {"except": ["admin@contoso.onmicrosoft.com"]}
        # allstaff is as the profile says: left out. sales is not (its display name differs).
        assert "distributionGroups" not in written["spec"]
        assert [g["mailNickname"] for g in written["spec"]["groups"]] == ["phoenix", "sales"]
        assert (
            "1 object(s) left out: the tenant's profiles declare them as they are "
            "(allstaff@contoso.com)"
        ) in outcome.notes
        after = load_desired(desired)
        (tenant,) = plan_against(sandbox, select_tenants(after, ["contoso"])).plan.tenants
    assert tenant.operations == ()
    assert tenant.problems == ()

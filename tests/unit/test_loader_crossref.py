"""Rules across fields, objects and files: address domains, licences and usage locations,
references to members / permission holders / action targets, Exchange modes, duplicates
within a tenant and across files (naming both places), policy naming tenants, every problem
reported together, and the demo estate passing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.loader import load_desired, validate_desired
from tests.unit.desired_files import (
    MSP,
    MSP_WITHOUT_DEFAULTS_OR_CIPP,
    TENANT,
    load,
    tenant,
    validate,
)

FILE = "desired/tenants/contoso.yaml"
REPO = Path(__file__).resolve().parents[2]

EXISTING = "existing principal in this tenant; declare it, or list it in spec.existingPrincipals"
NOT_DECLARED = (
    "in this tenant; declare it, or list it in spec.existingPrincipals if it exists and is "
    "managed elsewhere"
)


def problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, msp: str = MSP
) -> list[str]:
    return validate(tmp_path, monkeypatch, {"contoso": tenant(spec=spec)}, msp=msp)


def test_the_demo_estate_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    state, found = validate_desired(Path("desired"))
    assert found == []
    assert state is not None
    assert [t.metadata.name for t in state.tenants] == sorted(
        p.stem for p in (REPO / "desired" / "tenants").glob("*.yaml")
    )
    assert state.sources["contoso"] == "desired/tenants/contoso.yaml"


def test_load_desired_raises_with_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controller.errors import DesiredStateError

    (tmp_path / "desired" / "tenants").mkdir(parents=True)
    (tmp_path / "desired" / "tenants" / "x.yaml").write_text("[]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DesiredStateError) as raised:
        load_desired(Path("desired"))
    assert str(raised.value) == "2 problems in the desired state"
    assert [d.file for d in raised.value.diagnostics] == [
        "desired/msp.yaml",
        "desired/tenants/x.yaml",
    ]


# --- addresses --------------------------------------------------------------------------------


def test_addresses_must_use_the_tenants_domains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = """
    exchange: direct
    users:
      - {userPrincipalName: alice@fabrikam.com, displayName: Alice}
      - {userPrincipalName: bob@CONTOSO.COM, displayName: Bob}
    sharedMailboxes:
      - {name: Help, primarySmtpAddress: help@contoso.org}
    distributionGroups:
      - {name: All, primarySmtpAddress: all@mail.contoso.com}
    """
    tail = "is not in one of the tenant's domains (contoso.com); add the domain to metadata.domains or fix the address"
    assert problems(tmp_path, monkeypatch, spec) == [
        f"{FILE}:10:27: spec.users[0].userPrincipalName: userPrincipalName 'alice@fabrikam.com' {tail}",
        f"{FILE}:13:40: spec.sharedMailboxes[0].primarySmtpAddress: primarySmtpAddress 'help@contoso.org' {tail}",
        f"{FILE}:15:39: spec.distributionGroups[0].primarySmtpAddress: primarySmtpAddress 'all@mail.contoso.com' {tail}",
    ]  # fmt: skip


# --- licences and usage location ------------------------------------------------------------

LICENSED = """
users:
  - {userPrincipalName: alice@contoso.com, displayName: Alice, licenses: [SPE_E3]}
  - {userPrincipalName: bob@contoso.com, displayName: Bob, licenses: [SPE_E3], usageLocation: NO}
  - {userPrincipalName: carol@contoso.com, displayName: Carol, licenses: []}
  - {userPrincipalName: dave@contoso.com, ensure: absent, licenses: [SPE_E3]}
"""


def test_licences_need_a_usage_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(tmp_path, monkeypatch, LICENSED, msp=MSP_WITHOUT_DEFAULTS_OR_CIPP) == [
        f"{FILE}:9:76: spec.users[0].licenses: licences need a usage location: set "
        "usageLocation on the user or spec.defaults.usageLocation in msp.yaml"
    ]


def test_the_msp_default_usage_location_is_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert problems(tmp_path, monkeypatch, LICENSED, msp=MSP) == []


def test_a_broken_msp_yaml_does_not_make_licences_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = MSP.replace("name: test-msp", "name: Test MSP")
    assert problems(tmp_path, monkeypatch, LICENSED, msp=broken) == [
        "desired/msp.yaml:4:9: metadata.name: 'Test MSP' is not a valid name: use lowercase "
        "letters, digits and hyphens (at most 63, not starting or ending with a hyphen)"
    ]


# --- references ---------------------------------------------------------------------------------

REFERENCES = """
exchange: direct
existingPrincipals: [admin@contoso.onmicrosoft.com]
users:
  - {userPrincipalName: alice@contoso.com, displayName: Alice}
  - {userPrincipalName: gone@contoso.com, ensure: absent}
groups:
  - displayName: Sales
    mailNickname: sales
    members: [ALICE@contoso.com, admin@contoso.onmicrosoft.com, bob@contoso.com, gone@contoso.com]
distributionGroups:
  - name: All
    primarySmtpAddress: all@contoso.com
    members: [alice@contoso.com, help@contoso.com, old@contoso.com, nobody@contoso.com]
  - {name: Old, primarySmtpAddress: old@contoso.com, ensure: absent}
sharedMailboxes:
  - name: Help
    primarySmtpAddress: help@contoso.com
    fullAccess: [alice@contoso.com, all@contoso.com, carol@contoso.com]
    sendAs: [gone@contoso.com]
    sendOnBehalf: [admin@contoso.onmicrosoft.com, help@contoso.com]
actions:
  - {id: r1, resetPassword: {user: alice@contoso.com}}
  - {id: r2, resetPassword: {user: gone@contoso.com}}
  - {id: r3, resetPassword: {user: zed@contoso.com}}
"""


def test_every_reference_must_be_declared_or_existing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(domains="[contoso.com, contoso.onmicrosoft.com]", spec=REFERENCES)
    assert validate(tmp_path, monkeypatch, {"contoso": text}) == [
        f"{FILE}:16:67: spec.groups[0].members[2]: 'bob@contoso.com' is not a declared user {NOT_DECLARED}",
        f"{FILE}:16:84: spec.groups[0].members[3]: 'gone@contoso.com' is declared with ensure: absent and cannot be a member",
        f"{FILE}:20:54: spec.distributionGroups[0].members[2]: 'old@contoso.com' is declared with ensure: absent and cannot be a member",
        f"{FILE}:20:71: spec.distributionGroups[0].members[3]: 'nobody@contoso.com' is not a declared user, distribution group or shared mailbox {NOT_DECLARED}",
        f"{FILE}:25:56: spec.sharedMailboxes[0].fullAccess[2]: 'carol@contoso.com' is not a declared user or distribution group {NOT_DECLARED}",
        f"{FILE}:26:16: spec.sharedMailboxes[0].sendAs[0]: 'gone@contoso.com' is declared with ensure: absent and cannot be a permission holder",
        f"{FILE}:27:53: spec.sharedMailboxes[0].sendOnBehalf[1]: 'help@contoso.com' is not a declared user or distribution group {NOT_DECLARED}",
        f"{FILE}:30:38: spec.actions[1].resetPassword.user: 'gone@contoso.com' is declared with ensure: absent and cannot be an action target",
        f"{FILE}:31:38: spec.actions[2].resetPassword.user: 'zed@contoso.com' is not a declared user {NOT_DECLARED}",
    ]  # fmt: skip


# --- Exchange modes ---------------------------------------------------------------------------

EXCHANGE_OBJECTS = """
exchange: {mode}
distributionGroups:
  - {{name: All, primarySmtpAddress: all@contoso.com}}
sharedMailboxes:
  - {{name: Help, primarySmtpAddress: help@contoso.com}}
"""


@pytest.mark.parametrize("mode", ["none", "unmanaged"])
def test_exchange_objects_need_an_exchange_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    assert problems(tmp_path, monkeypatch, EXCHANGE_OBJECTS.format(mode=mode)) == [
        f"{FILE}:10:7: spec.distributionGroups[0]: Exchange objects need spec.exchange to be "
        f"direct, cipp or auto (it is '{mode}')",
        f"{FILE}:12:7: spec.sharedMailboxes[0]: Exchange objects need spec.exchange to be "
        f"direct, cipp or auto (it is '{mode}')",
    ]


def test_exchange_defaults_to_unmanaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = EXCHANGE_OBJECTS.format(mode="direct").replace(
        "exchange: direct\n", "consent: granted\n"
    )
    assert problems(tmp_path, monkeypatch, spec)[0].endswith("(it is 'unmanaged')")


@pytest.mark.parametrize("mode", ["direct", "cipp", "auto"])
def test_exchange_modes_that_manage_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    assert problems(tmp_path, monkeypatch, EXCHANGE_OBJECTS.format(mode=mode)) == []


def test_cipp_mode_needs_a_cipp_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(tmp_path, monkeypatch, "exchange: cipp", msp=MSP_WITHOUT_DEFAULTS_OR_CIPP) == [
        f"{FILE}:8:13: spec.exchange: spec.exchange is 'cipp' but msp.yaml has no cipp "
        "connection; add spec.cipp to msp.yaml or use direct"
    ]


def test_auto_mode_works_without_cipp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(tmp_path, monkeypatch, "exchange: auto", msp=MSP_WITHOUT_DEFAULTS_OR_CIPP) == []


# --- duplicates within a tenant -------------------------------------------------------------


def test_duplicates_within_a_tenant_name_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = """
    exchange: direct
    users:
      - {userPrincipalName: alice@contoso.com, displayName: Alice}
      - {userPrincipalName: Alice@Contoso.com, displayName: Alice again}
    groups:
      - {displayName: Sales, mailNickname: sales}
      - {displayName: Sales 2, mailNickname: SALES}
    sharedMailboxes:
      - {name: Alice, primarySmtpAddress: alice@contoso.com}
    distributionGroups:
      - {name: Help, primarySmtpAddress: help@contoso.com}
      - {name: Help 2, primarySmtpAddress: help@contoso.com}
    """
    assert problems(tmp_path, monkeypatch, spec) == [
        f"{FILE}:11:27: spec.users[1].userPrincipalName: duplicate user 'Alice@Contoso.com': also declared at {FILE}:10:27 (spec.users[0].userPrincipalName)",
        f"{FILE}:14:44: spec.groups[1].mailNickname: duplicate group mailNickname 'SALES': also declared at {FILE}:13:42 (spec.groups[0].mailNickname)",
        f"{FILE}:16:41: spec.sharedMailboxes[0].primarySmtpAddress: duplicate address 'alice@contoso.com': also declared at {FILE}:10:27 (spec.users[0].userPrincipalName)",
        f"{FILE}:19:42: spec.distributionGroups[1].primarySmtpAddress: duplicate address 'help@contoso.com': also declared at {FILE}:18:40 (spec.distributionGroups[0].primarySmtpAddress)",
    ]  # fmt: skip


# --- duplicates across files -----------------------------------------------------------------


def test_duplicates_across_files_name_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = """
    users:
      - {userPrincipalName: alice@contoso.com, displayName: Alice}
    actions:
      - {id: reset-1, resetPassword: {user: alice@contoso.com}}
    """
    contoso = tenant(domains="[contoso.com, shared.com]", spec=actions)
    copy = tenant(
        domains="[Shared.com, contoso.com]",
        tenant_id="6F1C0D4E-2A3B-4C5D-8E9F-0A1B2C3D4E5F",
        spec=actions,
    )
    assert validate(tmp_path, monkeypatch, {"contoso": contoso, "copy": copy}) == [
        "desired/tenants/copy.yaml:4:9: metadata.name: duplicate tenant name 'contoso': also declared at desired/tenants/contoso.yaml:4:9 (metadata.name)",
        "desired/tenants/copy.yaml:5:13: metadata.tenantId: duplicate tenant id '6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f': also declared at desired/tenants/contoso.yaml:5:13 (metadata.tenantId)",
        "desired/tenants/copy.yaml:6:13: metadata.domains[0]: duplicate domain 'shared.com': also declared at desired/tenants/contoso.yaml:6:26 (metadata.domains[1])",
        "desired/tenants/copy.yaml:6:25: metadata.domains[1]: duplicate domain 'contoso.com': also declared at desired/tenants/contoso.yaml:6:13 (metadata.domains[0])",
        "desired/tenants/copy.yaml:11:12: spec.actions[0].id: duplicate action id 'reset-1': also declared at desired/tenants/contoso.yaml:11:12 (spec.actions[0].id)",
    ]  # fmt: skip


def test_duplicates_are_found_even_when_a_file_is_otherwise_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tenant(tenant_id="6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f", domains="[other.com]")
    broken = broken.replace("exchange: direct", "exchange: sideways")
    assert validate(tmp_path, monkeypatch, {"a-broken": broken, "contoso": TENANT}) == [
        "desired/tenants/a-broken.yaml:8:13: spec.exchange: Input should be 'direct', 'cipp', 'auto', 'none' or 'unmanaged'",
        "desired/tenants/contoso.yaml:4:9: metadata.name: duplicate tenant name 'contoso': also declared at desired/tenants/a-broken.yaml:4:9 (metadata.name)",
        "desired/tenants/contoso.yaml:5:13: metadata.tenantId: duplicate tenant id '6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f': also declared at desired/tenants/a-broken.yaml:5:13 (metadata.tenantId)",
    ]  # fmt: skip


def test_duplicate_action_ids_within_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = """
    users:
      - {userPrincipalName: alice@contoso.com, displayName: Alice}
    actions:
      - {id: once, resetPassword: {user: alice@contoso.com}}
      - {id: once, resetPassword: {user: alice@contoso.com}}
    """
    assert problems(tmp_path, monkeypatch, spec) == [
        f"{FILE}:12:12: spec.actions[1].id: duplicate action id 'once': also declared at "
        f"{FILE}:11:12 (spec.actions[0].id)"
    ]


# --- msp.yaml policy naming tenants -----------------------------------------------------------


def test_policy_naming_an_undeclared_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    msp = (
        MSP
        + "  policy:\n    tenants:\n      contoso: {kinds: {user.create: allow}}\n      fabrikan: {}\n"
    )
    assert validate(tmp_path, monkeypatch, {"contoso": TENANT}, msp=msp) == [
        "desired/msp.yaml:21:7: spec.policy.tenants.fabrikan: policy names tenant 'fabrikan', "
        "which no file in tenants/ declares"
    ]


# --- everything at once ---------------------------------------------------------------------


def test_one_file_with_many_problems_reports_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = """
    exchange: none
    users:
      - {userPrincipalName: alice@contoso.com, displayName: Alice, usageLocation: ZZ}
      - {userPrincipalName: bob@contoso.com, displayNam: Bob}
    groups:
      - {displayName: Sales, mailNickname: 'sales team'}
    """
    assert problems(tmp_path, monkeypatch, spec) == [
        f"{FILE}:10:81: spec.users[0].usageLocation: 'ZZ' is not an ISO 3166 alpha-2 country code (e.g. US, GB, DE)",
        f"{FILE}:11:44: spec.users[1].displayNam: unknown field 'displayNam'; did you mean 'displayName'?",
        f"{FILE}:13:42: spec.groups[0].mailNickname: mailNickname 'sales team' must not contain space",
    ]  # fmt: skip


def test_several_files_report_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fabrikam = tenant(
        name="fabrikam",
        tenant_id="2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1",
        domains="[fabrikam.com]",
        spec="exchange: cipp\nusers: [{userPrincipalName: erin@contoso.com, displayName: Erin}]",
    )
    msp = MSP_WITHOUT_DEFAULTS_OR_CIPP.replace("tenantctl/v1", "tenantctl/v0", 1)
    found = validate(tmp_path, monkeypatch, {"contoso": "kind: [\n", "fabrikam": fabrikam}, msp=msp)
    assert found == [
        "desired/msp.yaml:1:13: apiVersion: apiVersion must be 'tenantctl/v1', not 'tenantctl/v0'",
        "desired/tenants/contoso.yaml:2:1: did not find expected node content while parsing a flow node",
        "desired/tenants/fabrikam.yaml:9:31: spec.users[0].userPrincipalName: userPrincipalName 'erin@contoso.com' is not in one of the tenant's domains (fabrikam.com); add the domain to metadata.domains or fix the address",
    ]  # fmt: skip


def test_warnings_free_state_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state, found = load(tmp_path, monkeypatch)
    assert found == []
    assert state is not None
    assert state.msp.spec.defaults.usage_location == "US"
    assert state.tenant("contoso").spec.users[0].display_name == "Alice"

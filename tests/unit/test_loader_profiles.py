"""Profiles (``desired/profiles/*.yaml``) as the loader applies them, each rule with its exact
located message: substitution of tenant facts (and its errors), taking profiles by name and
by label selector, the merge (order, override field by field, removal with ``ensure:
absent``, conflicts between profiles and their resolution), errors of the merged tenant
located in the profile that caused them, a profile's own validation, report mode, and where
every value came from (provenance).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controller.errors import Diagnostic
from controller.loader import validate_desired
from controller.models import DesiredState, Source
from tests.unit.desired_files import MSP, tenant, write_estate

CONTOSO = "desired/tenants/contoso.yaml"
STANDARD = "desired/profiles/standard.yaml"

# Lines 1-4; spec: on line 5, then the body from line 6 on.
PROFILE_HEAD = "apiVersion: tenantctl/v1\nkind: Profile\nmetadata:\n  name: {name}\n"


def profile(name: str, spec: str, head: str = "") -> str:
    """A profile: metadata on lines 3-4, then ``head`` (mode, selector: lines 5 on), then
    ``spec:`` and ``spec`` indented by two."""
    body = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
    extra = textwrap.dedent(head).strip("\n")
    return (
        PROFILE_HEAD.format(name=name) + (extra + "\n" if extra else "") + "spec:\n" + body + "\n"
    )


STANDARD_SPEC = """\
exchange: direct
users:
  - userPrincipalName: breakglass@${tenant.primaryDomain}
    displayName: Break Glass ${tenant.displayName}
    accountEnabled: true
distributionGroups:
  - name: All Staff
    primarySmtpAddress: allstaff@${tenant.primaryDomain}
    members:
      - breakglass@${tenant.primaryDomain}
checks:
  mfa:
    require: registered
    except: ["breakglass@${tenant.primaryDomain}"]
"""
# Lines of STANDARD_SPEC in the profile file (spec: is line 5).
LINE = {
    "exchange": 6,
    "breakglass": 8,
    "breakglass.displayName": 9,
    "allstaff": 12,
    "allstaff.members": 14,
    "allstaff.members[0]": 15,
    "mfa": 17,
}


def contoso(spec: str = "", metadata: str = "") -> str:
    """contoso with ``metadata`` lines after its domains (line 7 on) and ``spec``."""
    text = tenant(spec=spec or "profiles: [standard]")
    text = text.replace("  displayName: Contoso\n", "")
    head, _, rest = text.partition("spec:\n")
    return head + "  displayName: Contoso\n" + textwrap.indent(metadata, "  ") + "spec:\n" + rest


def load(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tenants: dict[str, str],
    profiles: dict[str, str],
) -> tuple[DesiredState | None, list[Diagnostic]]:
    desired = write_estate(root, tenants, MSP)
    (desired / "profiles").mkdir(exist_ok=True)
    for name, text in profiles.items():
        (desired / "profiles" / f"{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(root)
    return validate_desired(Path("desired"))


def problems(
    root: Path, monkeypatch: pytest.MonkeyPatch, tenants: dict[str, str], profiles: dict[str, str]
) -> list[str]:
    state, found = load(root, monkeypatch, tenants, profiles)
    assert (state is None) == any(p.severity == "error" for p in found)
    return [str(p) for p in found]


def valid(
    root: Path, monkeypatch: pytest.MonkeyPatch, tenants: dict[str, str], profiles: dict[str, str]
) -> DesiredState:
    state, found = load(root, monkeypatch, tenants, profiles)
    assert found == [], [str(p) for p in found]
    assert state is not None
    return state


def spec_of(state: DesiredState, name: str = "contoso") -> dict[str, object]:
    return state.tenant(name).spec.model_dump(mode="json", exclude_unset=True)


# --- substitution ---------------------------------------------------------------------------


def test_placeholders_take_each_tenants_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = profile(
        "standard",
        """\
        groups:
          - mailNickname: ${tenant.name}-staff
            displayName: ${tenant.displayName} staff
            description: "tenant ${tenant.tenantId}, costs $5"
        """,
    )
    fabrikam = tenant(
        name="fabrikam",
        tenant_id="2B7E151C-28AE-4D2A-A6F0-9CF4F3C762E1",
        domains="[fabrikam.com]",
        spec="profiles: [standard]",
    ).replace("  domains:", "  displayName: Fabrikam Inc\n  domains:")
    state = valid(
        tmp_path, monkeypatch, {"contoso": contoso(), "fabrikam": fabrikam}, {"standard": facts}
    )
    assert spec_of(state, "fabrikam")["groups"] == [
        {
            "mailNickname": "fabrikam-staff",
            "displayName": "Fabrikam Inc staff",
            "description": "tenant 2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1, costs $5",
        }
    ]
    assert spec_of(state)["groups"] == [
        {
            "mailNickname": "contoso-staff",
            "displayName": "Contoso staff",
            "description": "tenant 6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f, costs $5",
        }
    ]


def test_primary_domain_is_the_first_domain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso().replace("[contoso.com]", "[contoso.com, contoso.onmicrosoft.com]")
    state = valid(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    )
    users = spec_of(state)["users"]
    assert users == [
        {
            "userPrincipalName": "breakglass@contoso.com",
            "displayName": "Break Glass Contoso",
            "accountEnabled": True,
        }
    ]


@pytest.mark.parametrize(
    ("written", "column", "message"),
    [
        (
            "helpdesk@${tenant.domain}",
            27,
            "unknown placeholder ${tenant.domain}; did you mean ${tenant.primaryDomain}? (a "
            "profile may use ${tenant.name}, ${tenant.displayName}, ${tenant.primaryDomain}, "
            "${tenant.tenantId}; there is no escape for '${')",
        ),
        (
            "help$$desk@${tenant.primaryDomain}",
            27,
            "'$$' is not an escape here: a profile's strings substitute only ${tenant.name}, "
            "${tenant.displayName}, ${tenant.primaryDomain}, ${tenant.tenantId}, and have no "
            "escape for '$'; remove the doubled '$'",
        ),
        (
            "helpdesk@${tenant.primaryDomain",
            27,
            "'${' opens a placeholder that no '}' closes; known: ${tenant.name}, "
            "${tenant.displayName}, ${tenant.primaryDomain}, ${tenant.tenantId}",
        ),
    ],
)
def test_a_broken_placeholder_is_an_error_at_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, column: int, message: str
) -> None:
    text = profile(
        "standard",
        f"""\
        sharedMailboxes:
          - name: Helpdesk
            primarySmtpAddress: {written}
        """,
    )
    assert problems(tmp_path, monkeypatch, {"contoso": contoso()}, {"standard": text}) == [
        f"{STANDARD}:8:{column}: spec.sharedMailboxes[0].primarySmtpAddress: {message}"
    ]


def test_a_display_name_the_tenant_lacks_is_an_error_naming_the_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso().replace("  displayName: Contoso\n", "")
    spec = "groups:\n  - mailNickname: staff\n    displayName: ${tenant.displayName} staff\n"
    assert problems(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", spec)}
    ) == [
        f"{STANDARD}:8:20: spec.groups[0].displayName: ${{tenant.displayName}}: tenant contoso "
        f"({CONTOSO}) has no metadata.displayName; add one there, or do not name it here"
    ]


def test_a_placeholder_in_a_flow_list_must_be_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = STANDARD_SPEC.replace(
        '["breakglass@${tenant.primaryDomain}"]', "[breakglass@${tenant.primaryDomain}]"
    )
    assert problems(
        tmp_path, monkeypatch, {"contoso": contoso()}, {"standard": profile("standard", spec)}
    ) == [
        f"{STANDARD}:19:28: did not find expected ',' or ']' while parsing a flow sequence "
        "(line 19, column 15); inside [...] or {...} a string with a placeholder must be "
        'quoted: ["helpdesk@${tenant.primaryDomain}"]'
    ]


# --- which profiles a tenant takes ------------------------------------------------------------


def test_a_tenant_names_an_unknown_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = contoso("profiles: [standrad]")
    assert problems(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    ) == [
        f"{CONTOSO}:9:14: spec.profiles[0]: no profile named 'standrad' in profiles/; "
        "did you mean 'standard'?"
    ]


def test_a_selector_applies_a_profile_to_tenants_with_its_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gold = profile(
        "gold",
        "groups:\n  - mailNickname: vip\n    displayName: VIP desk\n",
        head="selector:\n  matchLabels: {tier: gold, region: eu}",
    )
    tenants = {
        "contoso": contoso("exchange: direct", metadata="labels: {tier: gold, region: eu}\n"),
        "fabrikam": tenant(
            name="fabrikam",
            tenant_id="2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1",
            domains="[fabrikam.com]",
        ).replace("  domains:", "  labels: {tier: gold}\n  domains:"),
    }
    state = valid(tmp_path, monkeypatch, tenants, {"gold": gold})
    assert spec_of(state)["groups"] == [{"mailNickname": "vip", "displayName": "VIP desk"}]
    assert "groups" not in spec_of(state, "fabrikam")  # region: eu is missing
    (applied,) = state.applied["contoso"]
    assert (applied.name, applied.selected) == ("gold", True)
    assert "fabrikam" not in state.applied


def test_labels_and_selectors_are_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gold = profile("gold", "exchange: direct", head="selector:\n  matchLabels: {}")
    text = contoso("exchange: direct", metadata="labels: {tier: 1, -x: y}\n")
    assert problems(tmp_path, monkeypatch, {"contoso": text}, {"gold": gold}) == [
        "desired/profiles/gold.yaml:6:16: selector.matchLabels: Dictionary should have at "
        "least 1 item after validation, not 0",
        f"{CONTOSO}:8:18: metadata.labels.tier: Input should be a valid string (YAML read a "
        "number or true/false here: put it in quotes)",
        f"{CONTOSO}:8:21: metadata.labels.-x: '-x' is not a label name: use letters, digits, "
        "'.', '_' and '-', at most 63, starting and ending with a letter or digit",
    ]


# --- merging ---------------------------------------------------------------------------------


def test_the_tenant_overrides_a_profile_object_field_by_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso(
        """\
        profiles: [standard]
        users:
          - userPrincipalName: alice@contoso.com
            displayName: Alice
        distributionGroups:
          - primarySmtpAddress: AllStaff@Contoso.com
            members: [alice@contoso.com, breakglass@contoso.com]
        """
    )
    state = valid(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    )
    spec = spec_of(state)
    assert spec["distributionGroups"] == [
        {
            "primarySmtpAddress": "AllStaff@Contoso.com",
            "members": ["alice@contoso.com", "breakglass@contoso.com"],
            "name": "All Staff",
        }
    ]
    assert [u["userPrincipalName"] for u in spec["users"]] == [  # type: ignore[index, union-attr]
        "alice@contoso.com",
        "breakglass@contoso.com",
    ]
    assert spec["exchange"] == "direct"
    where = state.provenance["contoso"]
    assert where.find(("distributionGroups", "allstaff@contoso.com", "name")) == Source(
        file=STANDARD, line=LINE["allstaff"], profile="standard"
    )
    assert where.find(("distributionGroups", "allstaff@contoso.com", "members")) == Source(
        file=CONTOSO, line=15
    )


def test_a_tenant_field_wins_over_the_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso("profiles: [standard]\nexchange: cipp\nchecks:\n  mfa: {require: capable}")
    state = valid(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    )
    assert spec_of(state)["exchange"] == "cipp"
    assert spec_of(state)["checks"] == {
        "mfa": {"require": "capable", "except": ["breakglass@contoso.com"]}
    }


def test_ensure_absent_removes_a_profile_object_and_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso(
        """\
        profiles: [standard]
        users:
          - userPrincipalName: breakglass@contoso.com
            ensure: absent
        distributionGroups:
          - primarySmtpAddress: allstaff@contoso.com
            ensure: absent
        checks:
          mfa: {ensure: absent}
        """
    )
    state = valid(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    )
    spec = spec_of(state)
    assert spec["users"] == [{"userPrincipalName": "breakglass@contoso.com", "ensure": "absent"}]
    assert spec["distributionGroups"] == [
        {"primarySmtpAddress": "allstaff@contoso.com", "ensure": "absent"}
    ]
    assert state.tenant("contoso").spec.checks.mfa is None


def test_two_profiles_declaring_a_field_differently_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = profile(
        "healthcare",
        """\
        exchange: cipp
        distributionGroups:
          - name: All Staff
            primarySmtpAddress: allstaff@${tenant.primaryDomain}
            members: ["breakglass@${tenant.primaryDomain}", "nurse@${tenant.primaryDomain}"]
        users:
          - userPrincipalName: nurse@${tenant.primaryDomain}
            displayName: Nurse
        """,
    )
    both = contoso("profiles: [standard, healthcare]")
    fabrikam = tenant(
        name="fabrikam",
        tenant_id="2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1",
        domains="[fabrikam.com]",
        spec="profiles: [standard, healthcare]",
    ).replace("  domains:", "  displayName: Fabrikam\n  domains:")
    profiles = {"standard": profile("standard", STANDARD_SPEC), "healthcare": other}
    healthcare = "desired/profiles/healthcare.yaml"
    assert problems(tmp_path, monkeypatch, {"contoso": both, "fabrikam": fabrikam}, profiles) == [
        f"{healthcare}:6:13: spec.exchange: profiles standard and healthcare declare exchange "
        f"of the tenant's spec differently (also at {STANDARD}:6:13); a tenant that takes both "
        "must declare exchange itself: contoso, fabrikam",
        f"{healthcare}:10:16: spec.distributionGroups[0].members: profiles standard and "
        "healthcare declare members of distribution group allstaff@${tenant.primaryDomain} "
        f"differently (also at {STANDARD}:15:9); a tenant that takes both must declare members "
        "itself: contoso, fabrikam",
    ]


def test_the_tenant_resolves_a_conflict_by_declaring_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = profile("healthcare", "exchange: cipp\nconsent: granted")
    text = contoso("profiles: [standard, healthcare]\nexchange: auto")
    profiles = {"standard": profile("standard", STANDARD_SPEC), "healthcare": other}
    state = valid(tmp_path, monkeypatch, {"contoso": text}, profiles)
    assert spec_of(state)["exchange"] == "auto"
    assert spec_of(state)["consent"] == "granted"
    assert [p.name for p in state.applied["contoso"]] == ["standard", "healthcare"]


def test_profiles_agreeing_on_a_field_in_another_order_or_case_do_not_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = profile(
        "healthcare",
        """\
        distributionGroups:
          - name: All Staff
            primarySmtpAddress: ALLSTAFF@${tenant.primaryDomain}
            members: ["BreakGlass@${tenant.primaryDomain}"]
        """,
    )
    profiles = {"standard": profile("standard", STANDARD_SPEC), "healthcare": other}
    state = valid(
        tmp_path, monkeypatch, {"contoso": contoso("profiles: [standard, healthcare]")}, profiles
    )
    (dg,) = state.tenant("contoso").spec.distribution_groups
    assert dg.members == ["breakglass@contoso.com"]  # the first profile's, as written


# --- errors located in the profile that caused them -------------------------------------------


def test_an_error_of_the_merged_tenant_is_located_in_the_profile_and_names_the_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso("profiles: [standard]\nexchange: unmanaged")
    assert problems(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    ) == [
        f"{STANDARD}:12:7: spec.distributionGroups[0]: Exchange objects need spec.exchange to "
        "be direct, cipp or auto (it is 'unmanaged') (profile standard, in tenant contoso)"
    ]


def test_a_profile_is_validated_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = profile(
        "standard",
        """\
        actions: []
        users:
          - userPrincipalName: x@${tenant.primaryDomain}
            displayName: X
          - userPrincipalName: X@${tenant.primaryDomain}
            displayName: Y
        """,
        head="mode: audit",
    )
    assert problems(tmp_path, monkeypatch, {"contoso": contoso()}, {"standard": text}) == [
        f"{STANDARD}:5:7: mode: Input should be 'enforce' or 'report'",
        f"{STANDARD}:7:3: spec.actions: unknown field 'actions'; expected one of: checks, "
        "consent, distributionGroups, exchange, existingPrincipals, groups, policy, "
        "sharedMailboxes, users",
        f"{STANDARD}:11:26: spec.users[1].userPrincipalName: duplicate user "
        f"'X@${{tenant.primaryDomain}}' in this profile: also declared at {STANDARD}:9:26 "
        "(spec.users[0].userPrincipalName)",
    ]


def test_two_profiles_with_one_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = {
        "a": profile("standard", "exchange: direct"),
        "b": profile("standard", "exchange: cipp"),
    }
    assert problems(tmp_path, monkeypatch, {"contoso": contoso("exchange: direct")}, profiles) == [
        "desired/profiles/b.yaml:4:9: metadata.name: duplicate profile name 'standard': also "
        "declared at desired/profiles/a.yaml:4:9 (metadata.name)"
    ]


# --- report mode -----------------------------------------------------------------------------


def test_a_report_mode_profile_is_compared_not_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = profile("standard", STANDARD_SPEC, head="mode: report")
    text = contoso("profiles: [standard]\nexchange: direct")
    state = valid(tmp_path, monkeypatch, {"contoso": text}, {"standard": report})
    assert spec_of(state) == {"profiles": ["standard"], "exchange": "direct"}
    compared = state.reports["contoso"]
    assert compared.profiles == ("standard",)
    assert [u.user_principal_name for u in compared.config.spec.users] == ["breakglass@contoso.com"]
    assert compared.provenance is not None
    assert compared.provenance.find(("users", "breakglass@contoso.com")) == Source(
        file=STANDARD,
        line=LINE["breakglass"] + 1,
        profile="standard",  # below mode: report
    )
    assert [t.metadata.name for t in state.tenants_to_observe()] == ["contoso"]
    assert state.tenants_to_observe()[0] is compared.config


# --- provenance ------------------------------------------------------------------------------


def test_provenance_names_the_profile_line_of_each_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = valid(
        tmp_path,
        monkeypatch,
        {"contoso": contoso()},
        {"standard": profile("standard", STANDARD_SPEC)},
    )
    where = state.provenance["contoso"]
    std = {
        path: Source(file=STANDARD, line=LINE[line], profile="standard")
        for path, line in [
            (("exchange",), "exchange"),
            (("users", "breakglass@contoso.com"), "breakglass"),
            (("users", "breakglass@contoso.com", "displayName"), "breakglass.displayName"),
            (("distributionGroups", "allstaff@contoso.com"), "allstaff"),
            (("distributionGroups", "allstaff@contoso.com", "members"), "allstaff.members"),
            (
                ("distributionGroups", "allstaff@contoso.com", "members", "breakglass@contoso.com"),
                "allstaff.members[0]",
            ),
            (("checks", "mfa"), "mfa"),
        ]
    }
    for path, source in std.items():
        assert where.find(path) == source, path
    # What nobody declared (a default) comes from the tenant file, at its name.
    assert where.find(("consent",)) == Source(file=CONTOSO, line=4)
    assert (
        where.find(("users", "breakglass@contoso.com", "usageLocation"))
        == std[("users", "breakglass@contoso.com")]
    )


def test_a_tenant_without_profiles_has_the_lines_of_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tenant(
        spec="exchange: direct\nusers:\n  - userPrincipalName: alice@contoso.com\n    displayName: Alice"
    )
    state = valid(tmp_path, monkeypatch, {"contoso": text}, {})
    where = state.provenance["contoso"]
    assert where.find(("users", "alice@contoso.com", "displayName")) == Source(
        file=CONTOSO, line=11
    )
    assert where.find(("exchange",)) == Source(file=CONTOSO, line=8)
    assert state.applied == {} and state.reports == {}


def test_a_tenant_that_takes_a_broken_profile_waits_for_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = profile("standard", STANDARD_SPEC.replace("exchange: direct", "exchange: always"))
    # Without the profile this partial object (no name) would be an error of its own.
    text = contoso(
        "profiles: [standard]\ndistributionGroups:\n  - primarySmtpAddress: allstaff@contoso.com"
    )
    assert problems(tmp_path, monkeypatch, {"contoso": text}, {"standard": broken}) == [
        f"{STANDARD}:6:13: spec.exchange: Input should be 'direct', 'cipp', 'auto', 'none' or "
        "'unmanaged'"
    ]


def test_an_overriding_field_is_checked_where_the_tenant_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso(
        """\
        profiles: [standard]
        distributionGroups:
          - primarySmtpAddress: allstaff@contoso.com
            members: [carl@contoso.com]
        """
    )
    assert problems(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    ) == [
        f"{CONTOSO}:12:17: spec.distributionGroups[0].members[0]: 'carl@contoso.com' is not a "
        "declared user, distribution group or shared mailbox in this tenant; declare it, or "
        "list it in spec.existingPrincipals if it exists and is managed elsewhere"
    ]


def test_removing_an_object_the_profile_still_uses_is_located_at_the_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = contoso(
        """\
        profiles: [standard]
        users:
          - {userPrincipalName: breakglass@contoso.com, ensure: absent}
        """
    )
    assert problems(
        tmp_path, monkeypatch, {"contoso": text}, {"standard": profile("standard", STANDARD_SPEC)}
    ) == [
        f"{STANDARD}:15:11: spec.distributionGroups[0].members[0]: 'breakglass@contoso.com' is "
        "declared with ensure: absent and cannot be a member (profile standard, in tenant "
        "contoso)"
    ]

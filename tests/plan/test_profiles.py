"""Profiles in the plan: every operation and finding names the file and line its desired
value came from, and that never changes a fingerprint (the same operations as the profile
expanded by hand); a report-mode profile gives findings and no operation, and switching it
to enforce plans exactly what the findings said; the Markdown plan shows a profile change
shared by several tenants once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.loader import load_desired
from controller.models import DesiredState
from controller.models.observed import ObservedTenant
from controller.plan import Plan, plan_estate
from controller.render import render_markdown
from tests.plan.factories import CTX, mfa, observed, user
from tests.unit.desired_files import MSP, tenant

STANDARD = """\
apiVersion: tenantctl/v1
kind: Profile
metadata:
  name: standard
mode: {mode}
spec:
  exchange: direct
  users:
    - userPrincipalName: breakglass@${{tenant.primaryDomain}}
      displayName: Break Glass
  distributionGroups:
    - name: All Staff
      primarySmtpAddress: allstaff@${{tenant.primaryDomain}}
      members: ["breakglass@${{tenant.primaryDomain}}"]
  checks:
    mfa: {{require: registered}}
"""


TAKES_STANDARD = """\
profiles: [standard]
users:
  - userPrincipalName: alice@{domain}
    displayName: Alice
"""

EXPANDED = """\
exchange: direct
users:
  - userPrincipalName: alice@{domain}
    displayName: Alice
  - userPrincipalName: breakglass@{domain}
    displayName: Break Glass
distributionGroups:
  - name: All Staff
    primarySmtpAddress: allstaff@{domain}
    members: [breakglass@{domain}]
checks:
  mfa: {{require: registered}}
"""

DOMAINS = {"contoso": "contoso.com", "fabrikam": "fabrikam.com"}
TENANT_IDS = {
    "contoso": "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
    "fabrikam": "2b7e151c-28ae-4d2a-a6f0-9cf4f3c762e1",
}


def estate(root: Path, monkeypatch: pytest.MonkeyPatch, *, mode: str | None) -> DesiredState:
    """Two tenants taking ``standard`` in ``mode``, or the profile expanded by hand (None)."""
    desired = root / "desired"
    (desired / "tenants").mkdir(parents=True)
    (desired / "msp.yaml").write_text(MSP)
    if mode is not None:
        (desired / "profiles").mkdir()
        (desired / "profiles" / "standard.yaml").write_text(STANDARD.format(mode=mode))
    for name, domain in DOMAINS.items():
        spec = (TAKES_STANDARD if mode else EXPANDED).format(domain=domain)
        text = tenant(name=name, tenant_id=TENANT_IDS[name], domains=f"[{domain}]", spec=spec)
        (desired / "tenants" / f"{name}.yaml").write_text(text)
    monkeypatch.chdir(root)
    return load_desired(Path("desired"))


def world() -> dict[str, ObservedTenant]:
    """alice exists in each tenant (without MFA); nothing of the profile does yet."""
    return {
        name: observed(
            name,
            verified_domains=frozenset({domain}),
            users=(user(f"alice@{domain}", display_name="Alice"),),
            mfa=(mfa(f"alice@{domain}", registered=False),),
        )
        for name, domain in DOMAINS.items()
    }


def planned(root: Path, monkeypatch: pytest.MonkeyPatch, mode: str | None) -> Plan:
    return plan_estate(estate(root / (mode or "expanded"), monkeypatch, mode=mode), world(), CTX)


def without_sources(plan: Plan) -> list[dict[str, object]]:
    return [op.model_dump(exclude={"source"}) for op in plan.operations]


def test_profiles_give_the_operations_of_the_profile_expanded_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_profile = planned(tmp_path, monkeypatch, "enforce")
    by_hand = planned(tmp_path, monkeypatch, None)
    assert len(by_profile.operations) == 6
    assert without_sources(by_profile) == without_sources(by_hand)
    assert [op.fingerprint for op in by_profile.operations] == [
        op.fingerprint for op in by_hand.operations
    ]
    assert by_profile.operations != by_hand.operations  # only the sources differ


def test_each_operation_and_finding_names_where_its_value_was_declared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = planned(tmp_path, monkeypatch, "enforce")
    contoso = plan.tenants[0]
    sources = [
        (op.kind.value, op.target, str(op.source), op.source and op.source.profile)
        for op in contoso.operations
    ]
    assert sources == [
        ("user.create", "user:breakglass@contoso.com", "desired/profiles/standard.yaml:9", "standard"),
        ("distributionGroup.create", "distributionGroup:allstaff@contoso.com", "desired/profiles/standard.yaml:12", "standard"),
        ("distributionGroup.addMember", "distributionGroup:allstaff@contoso.com", "desired/profiles/standard.yaml:14", "standard"),
    ]  # fmt: skip
    (finding,) = contoso.findings
    assert (finding.message, str(finding.source)) == (
        "alice@contoso.com has not registered MFA",
        "desired/profiles/standard.yaml:16",
    )
    by_hand = planned(tmp_path, monkeypatch, None).tenants[0]
    assert [str(op.source) for op in by_hand.operations] == [
        "desired/tenants/contoso.yaml:12",
        "desired/tenants/contoso.yaml:15",
        "desired/tenants/contoso.yaml:17",
    ]


def test_a_report_mode_profile_gives_findings_and_no_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = planned(tmp_path, monkeypatch, "report")
    assert plan.operations == ()
    contoso = plan.tenants[0]
    findings = [
        (f.check, f.severity, f.subject, f.message, str(f.source)) for f in contoso.findings
    ]
    assert findings == [
        ("mfa", "warning", "user:alice@contoso.com",
         "deviates from profile standard: alice@contoso.com has not registered MFA",
         "desired/profiles/standard.yaml:16"),
        ("profile", "warning", "distributionGroup:allstaff@contoso.com",
         "deviates from profile standard: distributionGroup.addMember "
         "distributionGroup:allstaff@contoso.com (members + breakglass@contoso.com)",
         "desired/profiles/standard.yaml:14"),
        ("profile", "warning", "distributionGroup:allstaff@contoso.com",
         "deviates from profile standard: distributionGroup.create "
         "distributionGroup:allstaff@contoso.com (name + All Staff; displayName + All Staff; "
         "primarySmtpAddress + allstaff@contoso.com)",
         "desired/profiles/standard.yaml:12"),
        ("profile", "warning", "user:breakglass@contoso.com",
         "deviates from profile standard: user.create user:breakglass@contoso.com "
         "(accountEnabled + true; displayName + Break Glass; mailNickname + breakglass; "
         "usageLocation + US; userPrincipalName + breakglass@contoso.com)",
         "desired/profiles/standard.yaml:9"),
    ]  # fmt: skip


def test_switching_a_report_mode_profile_to_enforce_plans_what_it_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported = planned(tmp_path, monkeypatch, "report")
    enforced = planned(tmp_path, monkeypatch, "enforce")
    for before, after in zip(reported.tenants, enforced.tenants, strict=True):
        deviations = sorted(
            (f.subject, f.message.split(": ", 1)[1].split(" ", 1)[0])
            for f in before.findings
            if f.check == "profile"
        )
        assert deviations == sorted((op.target, op.kind.value) for op in after.operations)
        assert before.problems == after.problems == ()


def test_a_tenant_that_matches_its_report_mode_profile_has_no_deviation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.plan.factories import dg

    state = estate(tmp_path, monkeypatch, mode="report")
    seen = {
        name: observed(
            name,
            verified_domains=frozenset({domain}),
            users=(
                user(f"alice@{domain}", display_name="Alice"),
                user(f"breakglass@{domain}", display_name="Break Glass"),
            ),
            distribution_groups=(
                dg(f"allstaff@{domain}", f"breakglass@{domain}", name="All Staff"),
            ),
            mfa=(mfa(f"alice@{domain}"), mfa(f"breakglass@{domain}")),
        )
        for name, domain in DOMAINS.items()
    }
    plan = plan_estate(state, seen, CTX)
    assert plan.operations == ()
    assert all(t.findings == () for t in plan.tenants)


def test_markdown_shows_a_profile_change_shared_by_tenants_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = render_markdown(planned(tmp_path, monkeypatch, "enforce"))
    assert (
        "<details><summary><b>profile standard</b>: 2 tenants, +1 distribution group, "
        "+1 distribution group member, +1 user each</summary>"
    ) in text
    assert "Tenants: contoso, fabrikam." in text
    assert text.count("+ user.create user:breakglass@") == 1  # shown once, for contoso
    assert (
        text.count(
            "+1 distribution group, +1 distribution group member, +1 user from profile standard: "
            "shown once above, with the 2 tenants that share it."
        )
        == 2
    )
    by_hand = render_markdown(planned(tmp_path, monkeypatch, None))
    assert "profile standard" not in by_hand
    assert by_hand.count("+ user.create user:breakglass@") == 2

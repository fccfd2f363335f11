"""The demo estate against the demo world: the exact operations a newcomer sees, tenant by
tenant (the sandbox integration test asserts the same set)."""

from __future__ import annotations

import pytest

from controller.plan import Plan, plan_estate
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed

EXPECTED = {
    "adatum": [("consent.grant", "adatum", "cipp")],
    "contoso": [
        ("user.update", "alice@contoso.com", "graph"),
        ("user.removeLicenses", "alice@contoso.com", "graph"),
        ("user.assignLicenses", "bob@contoso.com", "graph"),
        ("user.create", "carol@contoso.com", "graph"),
        ("user.assignLicenses", "carol@contoso.com", "graph"),
        ("user.disable", "dave@contoso.com", "graph"),
        ("user.delete", "temp.contractor@contoso.com", "graph"),
        ("group.update", "phoenix", "graph"),
        ("group.addMember", "phoenix/bob@contoso.com", "graph"),
        ("group.addMember", "sales/carol@contoso.com", "graph"),
        ("group.removeMember", "sales/eve@contoso.com", "graph"),
        ("distributionGroup.addMember", "allstaff@contoso.com/carol@contoso.com", "exchange"),
        ("distributionGroup.removeMember", "allstaff@contoso.com/eve@contoso.com", "exchange"),
        ("sharedMailbox.create", "info@contoso.com", "exchange"),
        ("mailboxPermission.add", "info@contoso.com/fullAccess/alice@contoso.com", "exchange"),
        ("sharedMailbox.update", "support@contoso.com", "exchange"),
        ("mailboxPermission.add", "support@contoso.com/fullAccess/alice@contoso.com", "exchange"),
        ("mailboxPermission.add", "support@contoso.com/sendAs/bob@contoso.com", "exchange"),
        ("mailboxPermission.add", "support@contoso.com/sendOnBehalf/alice@contoso.com", "exchange"),
        ("mailboxPermission.remove", "support@contoso.com/fullAccess/eve@contoso.com", "exchange"),
        ("user.resetPassword", "bob@contoso.com/2026-11-26-reset-bob", "graph"),
    ],
    "fabrikam": [
        ("user.assignLicenses", "grace@fabrikam.com", "graph"),
        ("group.addMember", "finance/grace@fabrikam.com", "graph"),
        ("group.removeMember", "finance/frank@fabrikam.com", "graph"),
        ("distributionGroup.delete", "newsletter@fabrikam.com", "cipp"),
        ("distributionGroup.create", "sales@fabrikam.com", "cipp"),
        ("distributionGroup.addMember", "sales@fabrikam.com/erin@fabrikam.com", "cipp"),
        ("distributionGroup.addMember", "sales@fabrikam.com/frank@fabrikam.com", "cipp"),
        ("mailboxPermission.add", "accounts@fabrikam.com/fullAccess/grace@fabrikam.com", "cipp"),
        (
            "mailboxPermission.remove",
            "accounts@fabrikam.com/sendOnBehalf/frank@fabrikam.com",
            "cipp",
        ),
    ],
    "tailspin": [
        ("consent.grant", "tailspin", "manual"),
        ("user.create", "judy@tailspintoys.com", "graph"),
    ],
    "woodgrove": [
        ("exchange.assignRole", "woodgrove", "manual"),
        ("user.enable", "leo@woodgrovebank.com", "graph"),
        ("group.delete", "legacy-vpn", "graph"),
        ("group.create", "tellers", "graph"),
        ("group.addMember", "tellers/kim@woodgrovebank.com", "graph"),
        ("group.addMember", "tellers/leo@woodgrovebank.com", "graph"),
    ],
}


@pytest.fixture(scope="module")
def demo_plan() -> Plan:
    state = demo_desired()
    return plan_estate(state, demo_observed(state), demo_context(state))


def test_tenants_are_sorted_by_name(demo_plan: Plan) -> None:
    assert [t.name for t in demo_plan.tenants] == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_demo_operations(demo_plan: Plan, name: str) -> None:
    tenant = next(t for t in demo_plan.tenants if t.name == name)
    got = [(op.kind.value, op.id.split("/", 2)[2], op.backend.value) for op in tenant.operations]
    assert got == EXPECTED[name]
    assert tenant.problems == ()


def test_demo_status(demo_plan: Plan) -> None:
    status = {
        t.name: (t.observation, t.badges.gdap, t.badges.consent, t.badges.exchange)
        for t in demo_plan.tenants
    }
    assert status == {
        "adatum": ("partial", "active", "pending", "pending"),
        "contoso": ("complete", "active", "granted", "working (direct)"),
        "fabrikam": ("complete", "active", "granted", "working (cipp)"),
        "tailspin": ("partial", "active", "partial", "propagating"),
        "woodgrove": ("partial", "expiring", "granted", "pending"),
    }


def test_demo_findings(demo_plan: Plan) -> None:
    findings = {
        (t.name, f.check, f.subject, f.severity) for t in demo_plan.tenants for f in t.findings
    }
    assert findings == {
        ("contoso", "mfa", "user:bob@contoso.com", "warning"),
        ("contoso", "riskyUsers", "user:bob@contoso.com", "warning"),
        ("fabrikam", "licences", "licence:EXCHANGESTANDARD", "warning"),
        ("fabrikam", "mfa", "user:frank@fabrikam.com", "warning"),
        ("woodgrove", "mfa", "tenant:woodgrove", "info"),
        ("woodgrove", "riskyUsers", "tenant:woodgrove", "info"),
    }


def test_demo_dependencies(demo_plan: Plan) -> None:
    ops = {op.id: op for op in demo_plan.operations}
    assert ops["contoso/user.assignLicenses/carol@contoso.com"].depends_on == (
        "contoso/user.create/carol@contoso.com",
    )
    assert ops["contoso/group.addMember/sales/carol@contoso.com"].depends_on == (
        "contoso/user.create/carol@contoso.com",
    )
    assert ops[
        "fabrikam/distributionGroup.addMember/sales@fabrikam.com/erin@fabrikam.com"
    ].depends_on == ("fabrikam/distributionGroup.create/sales@fabrikam.com",)
    for op in demo_plan.operations:
        assert set(op.depends_on) <= set(ops), op.id

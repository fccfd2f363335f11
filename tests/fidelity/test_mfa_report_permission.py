"""Issue 12, item 1: the MFA report takes AuditLog.Read.All (and only it) plus Entra ID P1/P2,
and a 403 is told apart by Graph's error code, never by which permissions the app holds.

Against the old code: the sandbox accepted UserAuthenticationMethod.Read.All for the report,
the product required it, and a 403 while it was held read as "needs licence"."""

from __future__ import annotations

from collections.abc import Callable

from controller.models import DesiredState
from controller.models.permissions import REQUIRED_PERMISSIONS
from controller.sandbox import Sandbox, Scenario
from controller.sandbox._scenario import Tenant
from tests.fidelity.conftest import TAILSPIN, WOODGROVE, scenario_with
from tests.integration.conftest import plan_against
from tests.sandbox.conftest import client

REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails"
# The v1.0 properties (api-reference/v1.0/resources/userregistrationdetails.md).
V1_PROPERTIES = {
    "id",
    "isAdmin",
    "isMfaCapable",
    "isMfaRegistered",
    "isPasswordlessCapable",
    "isSsprCapable",
    "isSsprEnabled",
    "isSsprRegistered",
    "isSystemPreferredAuthenticationMethodEnabled",
    "lastUpdatedDateTime",
    "methodsRegistered",
    "systemPreferredAuthenticationMethods",
    "userDisplayName",
    "userPreferredMethodForSecondaryAuthentication",
    "userPrincipalName",
    "userType",
}


def _roles(*names: str) -> Callable[[Tenant], None]:
    def change(tenant: Tenant) -> None:
        tenant.premium = "P1"
        tenant.app.roles = list(names)

    return change


def test_the_report_accepts_only_audit_log_read_all(serve: Callable[[Scenario], Sandbox]) -> None:
    old = serve(scenario_with("tailspin", _roles("UserAuthenticationMethod.Read.All")))
    with client(old, TAILSPIN) as g:
        refused = g.get(REPORT)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"

    right = serve(scenario_with("tailspin", _roles("AuditLog.Read.All")))
    with client(right, TAILSPIN) as g:
        rows = g.get(REPORT).json()["value"]
    assert rows
    assert all(set(row) == V1_PROPERTIES for row in rows)  # no beta-only defaultMfaMethod


def test_without_p1_the_report_answers_the_licence_code(sb: Sandbox) -> None:
    with client(sb, WOODGROVE) as g:  # holds AuditLog.Read.All, has no premium licence
        answer = g.get(REPORT)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def test_the_product_asks_for_audit_log_read_all() -> None:
    assert "AuditLog.Read.All" in REQUIRED_PERMISSIONS
    assert "UserAuthenticationMethod.Read.All" not in REQUIRED_PERMISSIONS


def test_a_licensed_tenant_missing_the_permission_is_told_so_not_to_buy_licences(
    serve: Callable[[Scenario], Sandbox], demo_state: DesiredState
) -> None:
    # Tailspin (P1) holds the old permission and everything else but AuditLog.Read.All.
    scenario = scenario_with(
        "tailspin",
        _roles(
            "User.ReadWrite.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "UserAuthenticationMethod.Read.All",
            "IdentityRiskyUser.Read.All",
            "User-PasswordProfile.ReadWrite.All",
            "Exchange.ManageAsApp",
        ),
    )
    plan = plan_against(serve(scenario), demo_state).plan
    tailspin = next(t for t in plan.tenants if t.name == "tailspin")
    assert tailspin.badges.consent_detail == "missing: AuditLog.Read.All"
    mfa = next(u for u in tailspin.unknown if u.area == "mfa")
    assert mfa.code == "permissionDenied"
    assert "AuditLog.Read.All" in mfa.reason
    assert not [f for f in tailspin.findings if f.check == "mfa"]


def test_a_licensed_tenant_with_the_permission_gets_its_mfa_findings(
    serve: Callable[[Scenario], Sandbox], demo_state: DesiredState
) -> None:
    def licensed(tenant: Tenant) -> None:
        tenant.app.roles = "all"
        tenant.users[0].mfa.registered = False

    plan = plan_against(serve(scenario_with("tailspin", licensed)), demo_state).plan
    tailspin = next(t for t in plan.tenants if t.name == "tailspin")
    assert "mfa" not in {u.area for u in tailspin.unknown}
    assert [(f.check, f.subject) for f in tailspin.findings] == [
        ("mfa", "user:ivan@tailspintoys.com")
    ]


def test_an_unlicensed_tenant_is_a_licence_finding(sb: Sandbox, demo_state: DesiredState) -> None:
    plan = plan_against(sb, demo_state).plan
    woodgrove = next(t for t in plan.tenants if t.name == "woodgrove")
    (finding,) = [f for f in woodgrove.findings if f.check == "mfa"]
    assert finding.severity == "info"
    assert "licence" in finding.message

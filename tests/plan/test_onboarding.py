"""Onboarding: badges (GDAP, Consent, Exchange), GDAP warnings, consent.grant through CIPP or
as a manual step with the admin-consent URL, exchange.assignRole through Graph or manual."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from pydantic import ValidationError

from controller.models.observed import ExchangeAccess, Unknown
from controller.models.permissions import EXCHANGE_ADMINISTRATOR_ROLE
from controller.plan import Backend, Badges
from tests.plan.factories import (
    APP_ID,
    CTX,
    NOW,
    TENANT_ID,
    consent_partial,
    consent_pending,
    exchange_cipp,
    exchange_none,
    gdap,
    kinds,
    observed,
    params_json,
    plan,
    tenant,
)


def test_a_fully_onboarded_tenant_shows_working_badges_and_plans_nothing() -> None:
    tp = plan(tenant(exchange="direct"), observed())
    assert (tp.badges.gdap, tp.badges.consent, tp.badges.exchange) == (
        "active",
        "granted",
        "working (direct)",
    )
    assert tp.operations == () and tp.observation == "complete" and tp.warnings == ()


def test_consent_pending_with_cipp_goes_through_cipp() -> None:
    seen = observed(consent=consent_pending(), exchange=exchange_cipp())
    tp = plan(tenant(), seen)
    (op,) = tp.operations
    assert op.kind.value == "consent.grant" and op.backend is Backend.CIPP
    assert op.manual is None
    assert tp.badges.consent == "pending"


def test_consent_without_cipp_is_a_manual_step_with_the_admin_consent_url() -> None:
    seen = observed(consent=consent_partial("IdentityRiskyUser.Read.All"), exchange=exchange_none())
    tp = plan(tenant(), seen)
    (op,) = tp.operations
    assert op.backend is Backend.MANUAL and op.manual is not None
    assert op.manual.link == (
        f"https://login.microsoftonline.com/{TENANT_ID}/adminconsent?client_id={APP_ID}"
    )
    assert "IdentityRiskyUser.Read.All" in op.manual.instructions
    assert params_json(op)["missingPermissions"] == ["IdentityRiskyUser.Read.All"]
    assert tp.badges.consent == "partial"
    assert tp.badges.consent_detail == "missing: IdentityRiskyUser.Read.All"


def test_consent_via_cipp_needs_cipp_connected() -> None:
    seen = observed(consent=consent_pending(), exchange=exchange_cipp())
    ctx = dataclasses.replace(CTX, cipp_connected=False)
    (op,) = plan(tenant(), seen, ctx).operations
    assert op.backend is Backend.MANUAL


def test_consent_unmanaged_plans_nothing() -> None:
    assert plan(tenant(consent="unmanaged"), observed(consent=consent_pending())).operations == ()


def test_exchange_role_manual_when_the_app_cannot_assign_roles() -> None:
    tp = plan(tenant(exchange="direct"), observed(exchange=exchange_none()))
    assert kinds(tp) == [("exchange.assignRole", "contoso")]
    op = tp.operations[0]
    assert op.backend is Backend.MANUAL and op.manual is not None
    # The link opens the customer's own Entra (its tenant id in the path), not the MSP's.
    assert op.manual.link == (
        f"https://entra.microsoft.com/{op.tenant_id}/#view/Microsoft_AAD_IAM/"
        "RolesManagementMenuBlade/~/AllRoles"
    )
    assert "Exchange Administrator > Add assignment > the app" in op.manual.instructions


def test_exchange_role_through_graph_when_the_app_can_assign_roles() -> None:
    tp = plan(tenant(exchange="direct"), observed(exchange=exchange_none(can_assign_role=True)))
    (op,) = tp.operations
    assert op.backend is Backend.GRAPH
    assert params_json(op)["body"]["roleDefinitionId"] == EXCHANGE_ADMINISTRATOR_ROLE
    assert params_json(op)["body"]["directoryScopeId"] == "/"


def test_auto_with_working_cipp_needs_no_role() -> None:
    access = dataclasses.replace(exchange_cipp(), role_assigned=False)
    assert plan(tenant(exchange="auto"), observed(exchange=access)).operations == ()


def test_auto_without_cipp_needs_the_role() -> None:
    assert kinds(plan(tenant(exchange="auto"), observed(exchange=exchange_none()))) == [
        ("exchange.assignRole", "contoso")
    ]


def test_cipp_mode_never_assigns_the_role() -> None:
    assert plan(tenant(exchange="cipp"), observed(exchange=exchange_none())).operations == ()


def test_role_assignment_unknown_or_propagating_plans_nothing() -> None:
    unknown_role = dataclasses.replace(exchange_none(), role_assigned=None)
    propagating = ExchangeAccess("propagating", None, True, False, None)
    for access in (unknown_role, propagating):
        assert plan(tenant(exchange="direct"), observed(exchange=access)).operations == ()
    tp = plan(tenant(exchange="direct"), observed(exchange=propagating))
    assert tp.badges.exchange == "propagating"


def test_exchange_badges() -> None:
    assert plan(tenant(exchange="cipp"), observed(exchange=exchange_cipp())).badges.exchange == (
        "working (cipp)"
    )
    assert plan(tenant(), observed()).badges.exchange == "not managed"
    down = Unknown("unavailable", "503")
    tp = plan(tenant(exchange="direct"), observed(exchange=down))
    assert tp.badges.exchange == "unknown" and tp.observation == "partial"


def test_gdap_expiring_within_30_days_without_ga_or_pra_warns() -> None:
    tp = plan(tenant(), observed(gdap=gdap(NOW + dt.timedelta(days=5), global_admin=False)))
    assert tp.badges.gdap == "expiring"
    assert "in 5 days" in (tp.badges.gdap_detail or "")
    assert len(tp.warnings) == 2
    assert any("Global Administrator" in w for w in tp.warnings)


def test_gdap_expired_and_none() -> None:
    expired = plan(tenant(), observed(gdap=gdap(NOW - dt.timedelta(days=1))))
    assert expired.badges.gdap == "expired" and "expired" in expired.warnings[0]
    none = plan(tenant(), observed(gdap=gdap(status="none")))
    assert none.badges.gdap == "none"


def test_gdap_unknown_badge() -> None:
    tp = plan(tenant(), observed(gdap=Unknown("error", "Partner API down")))
    assert tp.badges.gdap == "unknown" and tp.observation == "partial"


def test_badges_take_only_their_states() -> None:
    Badges(gdap="expiring", consent="partial", exchange="working (cipp)")
    with pytest.raises(ValidationError):
        Badges(gdap="active", consent="granted", exchange="working (graph)")
    with pytest.raises(ValidationError):
        Badges(gdap="sort of", consent="granted", exchange="pending")

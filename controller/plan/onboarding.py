"""Onboarding: the GDAP, Consent and Exchange badges, and the two onboarding operations.

``consent.grant`` goes through CIPP when CIPP is connected and can manage the tenant, else it
is a manual step with the tenant's admin-consent URL. ``exchange.assignRole`` goes through
Graph when the app may assign directory roles (RoleManagement.ReadWrite.Directory, which it
lacks by default), else it is a manual step on the Entra roles page.
"""

from __future__ import annotations

import datetime as dt

from controller.models.observed import ExchangeAccess, ExchangeState, GdapState, Unknown
from controller.models.permissions import EXCHANGE_ADMINISTRATOR_ROLE
from controller.plan._draft import SECTION_ONBOARDING, TenantDraft
from controller.plan.params import ConsentGrantParams, ExchangeAssignRoleParams, RoleAssignment
from controller.plan.types import (
    Backend,
    Badges,
    ConsentBadge,
    ExchangeBadge,
    FieldChange,
    GdapBadge,
    ManualStep,
)


def entra_roles_url(tenant_id: str) -> str:
    """The Entra admin center's Roles & admins page in the customer tenant (the tenant in the
    path, as partner tools link to a customer's Entra: a delegated admin lands in that tenant,
    not in the MSP's own)."""
    return (
        f"https://entra.microsoft.com/{tenant_id}/#view/Microsoft_AAD_IAM/"
        "RolesManagementMenuBlade/~/AllRoles"
    )


_EXCHANGE_BADGES: dict[ExchangeState, ExchangeBadge] = {
    "pending": ExchangeBadge.PENDING,
    "propagating": ExchangeBadge.PROPAGATING,
    "working-direct": ExchangeBadge.WORKING_DIRECT,
    "working-cipp": ExchangeBadge.WORKING_CIPP,
    "not-managed": ExchangeBadge.NOT_MANAGED,
}


def badges(d: TenantDraft) -> Badges:
    gdap, gdap_detail = _gdap_badge(d)
    consent = d.observed.consent
    consent_badge: ConsentBadge
    consent_detail: str | None
    if isinstance(consent, Unknown):
        consent_badge, consent_detail = ConsentBadge.UNKNOWN, consent.reason
    else:
        consent_badge = ConsentBadge(consent.state)
        consent_detail = (
            "missing: " + ", ".join(sorted(consent.missing)) if consent.missing else None
        )
    access = d.observed.exchange
    exchange_badge: ExchangeBadge
    exchange_detail: str | None
    if d.desired.spec.exchange in ("none", "unmanaged"):
        exchange_badge = ExchangeBadge.NOT_MANAGED
        exchange_detail = f"spec.exchange: {d.desired.spec.exchange}"
    elif isinstance(access, Unknown):
        exchange_badge, exchange_detail = ExchangeBadge.UNKNOWN, access.reason
    else:
        exchange_badge = _EXCHANGE_BADGES[access.state]
        exchange_detail = _exchange_detail(access)
    return Badges(
        gdap=gdap,
        gdap_detail=gdap_detail,
        consent=consent_badge,
        consent_detail=consent_detail,
        exchange=exchange_badge,
        exchange_detail=exchange_detail,
    )


def _exchange_detail(access: ExchangeAccess) -> str | None:
    if access.state == "propagating":
        return "Exchange Administrator assigned; Exchange accepts the app 30 min to 2 h later"
    if access.state == "pending":
        parts = []
        if access.role_assigned is False:
            parts.append("Exchange Administrator not assigned")
        if access.cipp_manageable is False:
            parts.append("CIPP cannot manage the tenant")
        return "; ".join(parts) or None
    return None


_LIVE = (GdapBadge.ACTIVE, GdapBadge.EXPIRING)


def _gdap_badge(d: TenantDraft) -> tuple[GdapBadge, str | None]:
    gdap = d.observed.gdap
    if isinstance(gdap, Unknown):
        return GdapBadge.UNKNOWN, gdap.reason
    status = _gdap_status(d, gdap)
    details = []
    if gdap.ends is not None and status in (*_LIVE, GdapBadge.EXPIRED):
        days = _days_until(gdap.ends, d.ctx.now)
        when = gdap.ends.date().isoformat()
        ended = status is GdapBadge.EXPIRED
        details.append(f"ended {when}" if ended else f"ends {when} (in {days} days)")
    if status in _LIVE and not (gdap.has_global_admin or gdap.has_privileged_role_admin):
        details.append("no Global Administrator or Privileged Role Administrator")
    if gdap.status == "approvalPending":
        details.append("approval pending")
    return status, "; ".join(details) or None


def _gdap_status(d: TenantDraft, gdap: GdapState) -> GdapBadge:
    if gdap.status in ("expired", "terminated"):
        return GdapBadge.EXPIRED
    if gdap.status in ("none", "approvalPending"):
        return GdapBadge.NONE
    if gdap.ends is not None:
        if gdap.ends <= d.ctx.now:
            return GdapBadge.EXPIRED
        if gdap.ends - d.ctx.now <= d.ctx.gdap_expiry_warning:
            return GdapBadge.EXPIRING
    return GdapBadge(gdap.status)


def _days_until(end: dt.datetime, now: dt.datetime) -> int:
    """Whole calendar days (UTC), so the plan does not change between two runs on one day."""
    return (end.astimezone(dt.UTC).date() - now.astimezone(dt.UTC).date()).days


def gdap_warnings(d: TenantDraft) -> None:
    gdap = d.observed.gdap
    if isinstance(gdap, Unknown):
        d.mark_unknown("gdap", gdap)
        return
    status = _gdap_status(d, gdap)
    if status is GdapBadge.EXPIRING:
        assert gdap.ends is not None
        days = _days_until(gdap.ends, d.ctx.now)
        d.warnings.append(
            f"GDAP: the relationship ends {gdap.ends.date().isoformat()} (in {days} days); "
            "extend it in Partner Center before it expires"
        )
    elif status is GdapBadge.EXPIRED:
        d.warnings.append("GDAP: the relationship has expired; create a new one in Partner Center")
    elif status is GdapBadge.NONE:
        d.warnings.append("GDAP: no active relationship with this customer")
    if status in _LIVE and not (gdap.has_global_admin or gdap.has_privileged_role_admin):
        d.warnings.append(
            "GDAP: the relationship includes neither Global Administrator nor Privileged Role "
            "Administrator; consent and the Exchange role need a customer admin to act"
        )


def plan_consent(d: TenantDraft) -> None:
    consent = d.observed.consent
    if isinstance(consent, Unknown):
        d.mark_unknown("consent", consent)
        return
    if d.desired.spec.consent != "granted" or consent.state == "granted":
        return
    missing = sorted(consent.missing)
    access = d.observed.exchange
    cipp_manageable = not isinstance(access, Unknown) and access.cipp_manageable is True
    via_cipp = d.ctx.cipp_connected and cipp_manageable
    url = d.ctx.admin_consent_url(d.tenant_id)
    manual = None
    if not via_cipp:
        shown = ", ".join(missing) if missing else "every required permission"
        manual = ManualStep(
            title=f"Grant admin consent in {d.desired.metadata.display_name or d.name}",
            instructions=(
                f"A Global Administrator of tenant {d.tenant_id} opens the link, signs in and "
                f"accepts. Missing: {shown}."
            ),
            link=url,
        )
    d.add(
        ConsentGrantParams(
            tenant_id=d.tenant_id,
            app_id=d.ctx.app_id,
            missing_permissions=tuple(missing),
            admin_consent_url=url,
        ),
        f"tenant:{d.name}",
        d.name,
        Backend.CIPP if via_cipp else Backend.MANUAL,
        section=SECTION_ONBOARDING,
        reason=(
            "the app has no service principal in the tenant"
            if consent.state == "pending"
            else "the app lacks permissions in the tenant"
        ),
        desired={"consent": "granted", "appId": d.ctx.app_id},
        observed={
            "state": consent.state,
            "missing": missing,
            "viaCipp": via_cipp,
        },
        changes=[FieldChange(field="consent", before=consent.state, after="granted")],
        manual=manual,
    )


def plan_exchange_role(d: TenantDraft) -> None:
    mode = d.desired.spec.exchange
    if mode not in ("direct", "auto"):
        return
    access = d.observed.exchange
    if isinstance(access, Unknown):
        d.mark_unknown("exchange", access)
        return
    cipp_works = d.ctx.cipp_connected and access.cipp_manageable is True
    if mode == "auto" and cipp_works:
        return  # auto goes through CIPP: no role needed
    if access.role_assigned is not False:
        return  # assigned (maybe propagating), or unknown: never plan on a failed read
    consent = d.observed.consent
    sp_id = None if isinstance(consent, Unknown) else consent.service_principal_id
    via_graph = access.can_assign_role and sp_id is not None
    manual = None
    if not via_graph:
        manual = ManualStep(
            title=f"Assign Exchange Administrator in {d.desired.metadata.display_name or d.name}",
            instructions=(
                f"In the Entra admin center of tenant {d.tenant_id}: Roles & admins > "
                f"Exchange Administrator > Add assignment > the app (client id {d.ctx.app_id}). "
                "Exchange accepts the app 30 minutes to 2 hours later."
            ),
            link=entra_roles_url(d.tenant_id),
        )
    d.add(
        ExchangeAssignRoleParams(
            tenant_id=d.tenant_id,
            body=RoleAssignment(
                role_definition_id=EXCHANGE_ADMINISTRATOR_ROLE,
                principal_id=sp_id,
                directory_scope_id="/",
            ),
        ),
        f"tenant:{d.name}",
        d.name,
        Backend.GRAPH if via_graph else Backend.MANUAL,
        section=SECTION_ONBOARDING,
        reason=(
            f"spec.exchange is {mode} and the app does not hold Exchange Administrator"
            + ("" if mode == "direct" else " (CIPP cannot manage the tenant)")
        ),
        desired={"exchange": mode, "role": EXCHANGE_ADMINISTRATOR_ROLE},
        observed={
            "roleAssigned": False,
            "servicePrincipalId": sp_id,
            "canAssignRole": access.can_assign_role,
            "cippWorks": cipp_works,
        },
        changes=[FieldChange(field="Exchange Administrator", before=False, after=True)],
        manual=manual,
    )

"""Service JSON -> observed-state values.

Pure: functions of the answers the connectors returned, no I/O. Graph's answers are plain
dicts in the shapes documented in API-NOTES.md (Graph v1.0 objects); Exchange objects come
from either route as the adapter's :class:`~controller.connectors.Recipient` and holder
names, which are resolved to addresses here. Members of groups are read by the connectors
(``graph_principals``): CIPP passes Graph's members through.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from controller.connectors import Recipient
from controller.errors import (
    ConsentMissing,
    NeedsHuman,
    PermissionDenied,
    PropagationPending,
    ServiceError,
    Throttled,
    Transient,
)
from controller.models.observed import (
    ConsentStatus,
    GdapRelationship,
    GdapState,
    GroupKind,
    MfaRegistration,
    ObservedDistributionGroup,
    ObservedGroup,
    ObservedSharedMailbox,
    ObservedUser,
    Principal,
    RiskyUser,
    Sku,
    Unknown,
    UnknownCode,
)
from controller.models.permissions import (
    GLOBAL_ADMINISTRATOR_ROLE,
    PRIVILEGED_ROLE_ADMINISTRATOR_ROLE,
    REQUIRED_PERMISSIONS,
)

Json = Mapping[str, Any]

EXPIRING_WITHIN = dt.timedelta(days=30)
# Graph's code when a report needs Entra ID P1/P2 the tenant does not have. A 403 is told
# apart by this code alone: Authorization_RequestDenied is a missing permission, whatever
# the app holds (the app holding a permission says nothing about which one the call needs).
NON_PREMIUM_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
# Exchange lists these pseudo-principals among permission holders; they are not people.
_SYSTEM_HOLDERS = ("nt authority\\", "s-1-5-", "nt-autorität\\")


def unknown_from_error(error: BaseException, what: str, permission: str | None = None) -> Unknown:
    """The one mapping from a failed read to *unknown* (never to *absent*). ``permission``:
    the one the read needs, named when Graph says the app lacks a permission."""
    code: UnknownCode
    if isinstance(error, ConsentMissing):
        code, why = "consentMissing", "the app has no consent in this tenant"
    elif isinstance(error, ServiceError) and error.code == NON_PREMIUM_CODE:
        code, why = "needsLicence", "the tenant has no Entra ID P1/P2 licence for this report"
    elif isinstance(error, PropagationPending):
        code, why = "propagating", "the Exchange role is still propagating"
    elif isinstance(error, PermissionDenied):
        code = "permissionDenied"
        why = f"the app lacks {permission or 'the permission for this read'}"
    elif isinstance(error, Throttled):
        code, why = "throttled", "still throttled after retries"
    elif isinstance(error, Transient):
        code, why = "unavailable", "the service did not answer after retries"
    elif isinstance(error, NeedsHuman):
        code, why = "error", "the app's credential needs attention"
    else:
        code, why = "error", "the read failed"
    return Unknown(code, f"{what}: {why} ({_detail(error)})")


def _detail(error: BaseException) -> str:
    """What failed, without request ids or URLs, so the same failure reads the same way in
    every run (plans are deterministic)."""
    if not isinstance(error, ServiceError):
        return type(error).__name__
    parts: list[str] = [error.service]
    if error.status is not None:
        parts.append(f"HTTP {error.status}")
    if error.code:
        parts.append(error.code)
    return " ".join(parts)


def _text(value: Any) -> str | None:
    """``value`` as stripped text (one object for equal texts, as :func:`_same`), or None when
    there is none. It runs for every text field of every user, so it interns directly instead
    of calling ``_same`` and ``str()`` a second time."""
    if value is None:
        return None
    text = (value if type(value) is str else str(value)).strip()
    return sys.intern(text) if text else None


def _same(value: Any) -> str:
    """``value`` as text, one object for equal texts. A tenant's answers name the same
    user, licence, country and display name many times over (a user, its MFA registration,
    its memberships): as separate strings they were a third of what an observed tenant
    kept (``bench/README.md``, "Scale and memory"). Interned strings go when nothing else
    holds them."""
    return sys.intern(str(value))


def _date(value: Any) -> dt.datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- Graph ---------------------------------------------------------------------------------


def user(item: Json, licences: dict[frozenset[str], frozenset[str]] | None = None) -> ObservedUser:
    """One user; ``licences``, shared by the users of a tenant, gives those with the same
    licences one set of them."""
    get = item.get  # a dozen fields of every user of every tenant
    skus = frozenset(
        [
            sys.intern(str(sku_id).lower())
            for lic in get("assignedLicenses") or ()
            if (sku_id := lic.get("skuId"))
        ]
    )
    return ObservedUser(
        id=_same(item["id"]),
        user_principal_name=_same(item["userPrincipalName"]),
        display_name=_text(get("displayName")),
        mail_nickname=_text(get("mailNickname")),
        given_name=_text(get("givenName")),
        surname=_text(get("surname")),
        job_title=_text(get("jobTitle")),
        department=_text(get("department")),
        account_enabled=get("accountEnabled"),
        usage_location=_text(get("usageLocation")),
        license_sku_ids=skus if licences is None else licences.setdefault(skus, skus),
        mail=_text(get("mail")),
    )


def group_kind(item: Json) -> GroupKind:
    if "Unified" in (item.get("groupTypes") or ()):
        return "microsoft365"
    if item.get("mailEnabled"):
        return "mailEnabledSecurity" if item.get("securityEnabled") else "distribution"
    return "security"


def group(item: Json, members: tuple[Principal, ...] | Unknown | None = None) -> ObservedGroup:
    return ObservedGroup(
        id=_same(item["id"]),
        display_name=_text(item.get("displayName")),
        mail_nickname=_text(item.get("mailNickname")),
        kind=group_kind(item),
        description=_text(item.get("description")),
        members=members,
    )


def sku(item: Json) -> Sku:
    prepaid = item.get("prepaidUnits") or {}
    return Sku(
        sku_id=str(item["skuId"]).lower(),
        sku_part_number=str(item.get("skuPartNumber", "")),
        enabled_units=int(prepaid.get("enabled") or 0),
        consumed_units=int(item.get("consumedUnits") or 0),
    )


def verified_domains(organization: Json) -> frozenset[str]:
    return frozenset(
        str(d["name"]).lower() for d in organization.get("verifiedDomains") or () if d.get("name")
    )


def mfa_registration(item: Json) -> MfaRegistration:
    return MfaRegistration(
        user_principal_name=_same(item.get("userPrincipalName", "")),
        is_mfa_registered=bool(item.get("isMfaRegistered")),
        is_mfa_capable=bool(item.get("isMfaCapable")),
        is_admin=bool(item.get("isAdmin")),
    )


def risky_user(item: Json) -> RiskyUser:
    return RiskyUser(
        user_principal_name=_same(item.get("userPrincipalName", "")),
        risk_level=_same(item.get("riskLevel", "none")),
        risk_state=_same(item.get("riskState", "none")),
    )


def gdap_state(relationships: Iterable[Json], tenant_id: str, now: dt.datetime) -> GdapState:
    """Summarise the GDAP relationships with one customer tenant, as the MSP sees it."""
    mine = []
    for item in relationships:
        customer = item.get("customer") or {}
        if str(customer.get("tenantId", "")).lower() != tenant_id.lower():
            continue
        roles = (item.get("accessDetails") or {}).get("unifiedRoles") or ()
        mine.append(
            GdapRelationship(
                id=str(item.get("id", "")),
                display_name=str(item.get("displayName", "")),
                status=str(item.get("status", "")),
                end=_date(item.get("endDateTime")),
                role_ids=frozenset(str(r.get("roleDefinitionId", "")).lower() for r in roles),
                auto_extend=str(item.get("autoExtendDuration") or "PT0S") not in ("PT0S", "P0D"),
            )
        )
    mine.sort(key=lambda r: r.id)
    live = [r for r in mine if r.status in ("active", "expiring")]
    if live:
        ends = [r.end for r in live if r.end is not None]
        latest = max(ends) if ends else None
        expiring = all(
            r.status == "expiring"
            or (r.end is not None and r.end - now <= EXPIRING_WITHIN and not r.auto_extend)
            for r in live
        )
        status = "expiring" if expiring else "active"
    elif any(r.status == "approvalPending" for r in mine):
        status, latest = "approvalPending", None
    elif any(r.status == "expired" for r in mine):
        status, latest = "expired", None
    elif mine:
        status, latest = "terminated", None
    else:
        status, latest = "none", None
    roles_live = frozenset().union(*(r.role_ids for r in live)) if live else frozenset()
    return GdapState(
        relationships=tuple(mine),
        status=status,  # type: ignore[arg-type]
        has_global_admin=GLOBAL_ADMINISTRATOR_ROLE in roles_live,
        has_privileged_role_admin=PRIVILEGED_ROLE_ADMINISTRATOR_ROLE in roles_live,
        ends=latest,
    )


def app_role_names(resource_service_principals: Iterable[Json]) -> dict[str, str]:
    """appRoleId -> permission name, from the resource service principals' ``appRoles``."""
    names: dict[str, str] = {}
    for resource in resource_service_principals:
        for role in resource.get("appRoles") or ():
            if "Application" in (role.get("allowedMemberTypes") or ("Application",)):
                names[str(role["id"]).lower()] = str(role.get("value", ""))
    return names


def consent_status(
    service_principal: Json | None,
    assignments: Iterable[Json],
    role_names: Mapping[str, str],
    required: frozenset[str] = REQUIRED_PERMISSIONS,
) -> ConsentStatus:
    if service_principal is None:
        return ConsentStatus("pending", None, frozenset(), frozenset(required))
    names = {key.lower(): name for key, name in role_names.items()}
    granted = frozenset(
        names[str(a.get("appRoleId", "")).lower()]
        for a in assignments
        if str(a.get("appRoleId", "")).lower() in names
    )
    missing = frozenset(required) - granted
    return ConsentStatus(
        "partial" if missing else "granted",
        str(service_principal.get("id")),
        granted,
        missing,
    )


# --- Exchange (either route) ----------------------------------------------------------------


def _is_person(holder: str) -> bool:
    lowered = holder.lower()
    return not lowered.startswith(_SYSTEM_HOLDERS)


def holder_address(holder: Any, directory: Mapping[str, str]) -> str | None:
    """An Exchange permission holder (UPN, SMTP, alias, name or display name) -> lowercase
    address, resolved through ``directory`` (lowercase identity -> lowercase address)."""
    text = _text(holder)
    if text is None or not _is_person(text):
        return None
    lowered = text.lower()
    if "@" in lowered:
        return directory.get(lowered, lowered)
    return directory.get(lowered)


def holder_addresses(names: Iterable[str], directory: Mapping[str, str]) -> frozenset[str]:
    """Holder names as a route gives them -> the addresses of the people among them."""
    found = (holder_address(name, directory) for name in names)
    return frozenset(address for address in found if address)


def distribution_group(
    listed: Recipient, members: tuple[Principal, ...] | Unknown | None = None
) -> ObservedDistributionGroup:
    return ObservedDistributionGroup(
        id=listed.id,
        name=listed.name,
        display_name=listed.display_name,
        primary_smtp_address=listed.primary_smtp_address,
        alias=listed.alias,
        members=members,
    )


def shared_mailbox(
    listed: Recipient,
    *,
    full_access: frozenset[str] | Unknown | None = None,
    send_as: frozenset[str] | Unknown | None = None,
    send_on_behalf: frozenset[str] | Unknown | None = None,
) -> ObservedSharedMailbox:
    return ObservedSharedMailbox(
        id=listed.id,
        name=listed.name,
        display_name=listed.display_name,
        primary_smtp_address=listed.primary_smtp_address,
        alias=listed.alias,
        full_access=full_access,
        send_as=send_as,
        send_on_behalf=send_on_behalf,
    )

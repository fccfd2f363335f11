"""Service answers -> observed values: shapes from API-NOTES.md, and failed reads -> unknown."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from controller.connectors import CippExchange, Recipient
from controller.connectors._exchange_direct import full_access_names
from controller.errors import (
    BadRequest,
    ConsentMissing,
    PermissionDenied,
    PropagationPending,
    Throttled,
    Transient,
)
from controller.models import MailboxRight
from controller.models.observed import Unknown
from controller.models.permissions import GLOBAL_ADMINISTRATOR_ROLE, REQUIRED_PERMISSIONS
from controller.observe import translate

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
TENANT = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


def test_user_keeps_fields_and_lowercases_sku_ids() -> None:
    user = translate.user(
        {
            "id": "u1",
            "userPrincipalName": "Alice@Contoso.com",
            "displayName": "Alice",
            "accountEnabled": True,
            "usageLocation": "US",
            "assignedLicenses": [{"skuId": "ABC-1", "disabledPlans": []}],
        }
    )
    assert user.key == "alice@contoso.com"
    assert user.license_sku_ids == frozenset({"abc-1"})
    assert user.account_enabled is True


def test_group_kinds_from_graph_flags() -> None:
    base = {"id": "g", "displayName": "G", "mailNickname": "g"}
    assert translate.group({**base, "groupTypes": ["Unified"]}).kind == "microsoft365"
    assert (
        translate.group({**base, "mailEnabled": False, "securityEnabled": True}).kind == "security"
    )
    assert (
        translate.group({**base, "mailEnabled": True, "securityEnabled": False}).kind
        == "distribution"
    )
    assert translate.group({**base, "mailEnabled": True, "securityEnabled": True}).kind == (
        "mailEnabledSecurity"
    )


def _relationship(status: str, end: dt.datetime, roles: list[str]) -> dict[str, object]:
    return {
        "id": f"rel-{status}",
        "displayName": "MSP",
        "customer": {"tenantId": TENANT},
        "status": status,
        "endDateTime": end.isoformat().replace("+00:00", "Z"),
        "autoExtendDuration": "PT0S",
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r} for r in roles]},
    }


def test_gdap_active_far_from_end_with_global_admin() -> None:
    state = translate.gdap_state(
        [_relationship("active", NOW + dt.timedelta(days=300), [GLOBAL_ADMINISTRATOR_ROLE])],
        TENANT,
        NOW,
    )
    assert state.status == "active"
    assert state.has_global_admin
    assert not state.has_privileged_role_admin


def test_gdap_expiring_within_thirty_days() -> None:
    state = translate.gdap_state(
        [_relationship("active", NOW + dt.timedelta(days=5), [])], TENANT, NOW
    )
    assert state.status == "expiring"
    assert state.ends == NOW + dt.timedelta(days=5)


def test_gdap_none_for_other_customers_only() -> None:
    other = _relationship("active", NOW + dt.timedelta(days=300), [])
    other["customer"] = {"tenantId": "someone-else"}
    assert translate.gdap_state([other], TENANT, NOW).status == "none"


def test_consent_pending_partial_granted() -> None:
    roles = {f"id-{n}": n for n in REQUIRED_PERMISSIONS}
    assert translate.consent_status(None, [], roles).state == "pending"
    some = [{"appRoleId": "id-User.ReadWrite.All"}]
    partial = translate.consent_status({"id": "sp"}, some, roles)
    assert partial.state == "partial"
    assert "Exchange.ManageAsApp" in partial.missing
    everything = [{"appRoleId": k} for k in roles]
    assert translate.consent_status({"id": "sp"}, everything, roles).state == "granted"


def test_exchange_holders_skip_system_inherited_and_deny() -> None:
    directory = {"bob": "bob@contoso.com"}
    rows = [
        {"User": "NT AUTHORITY\\SELF", "AccessRights": ["FullAccess"]},
        {"User": "Alice@contoso.com", "AccessRights": ["FullAccess"]},
        {"User": "bob", "AccessRights": ["FullAccess", "ReadPermission"]},
        {"User": "carol@contoso.com", "AccessRights": ["FullAccess"], "IsInherited": True},
        {"User": "dave@contoso.com", "AccessRights": ["FullAccess"], "Deny": True},
    ]
    assert translate.holder_addresses(full_access_names(rows), directory) == {
        "alice@contoso.com",
        "bob@contoso.com",
    }


def test_cipp_permissions_split_by_right() -> None:
    rows = [
        {"User": "erin@fabrikam.com", "Permissions": "FullAccess, ReadPermission"},
        {"User": "erin@fabrikam.com", "Permissions": ["SendAs"]},
        {"User": "frank@fabrikam.com", "Permissions": "SendOnBehalf"},
    ]

    class Cipp:
        async def mailbox_permissions(self, tenant: str, mailbox: str) -> list[dict[str, Any]]:
            return rows

    mailbox = Recipient("m1", "Info", None, "info@fabrikam.com")
    read = asyncio.run(CippExchange(Cipp(), TENANT).holders(mailbox, frozenset(MailboxRight)))  # type: ignore[arg-type]
    full, send_as, behalf = (
        translate.holder_addresses(read[right], {})  # type: ignore[arg-type]
        for right in (MailboxRight.FULL_ACCESS, MailboxRight.SEND_AS, MailboxRight.SEND_ON_BEHALF)
    )
    assert full == {"erin@fabrikam.com"}
    assert send_as == {"erin@fabrikam.com"}
    assert behalf == {"frank@fabrikam.com"}


def test_failed_reads_become_unknown_with_reason_never_empty() -> None:
    cases = {
        "consentMissing": ConsentMissing("no sp", service="login"),
        "propagating": PropagationPending("403", service="exchange"),
        "permissionDenied": PermissionDenied("403", service="graph"),
        "throttled": Throttled("429", service="graph", delay=5),
        "unavailable": Transient("503", service="graph"),
        "needsLicence": BadRequest(
            "no P1", service="graph", code="Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        ),
    }
    for code, error in cases.items():
        unknown = translate.unknown_from_error(error, "users")
        assert isinstance(unknown, Unknown)
        assert unknown.code == code
        assert unknown.reason.startswith("users: ")

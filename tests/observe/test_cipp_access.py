"""What CIPP's access check (``ExecAccessChecks?Type=Tenants``) says about a tenant: whether
CIPP reaches it (``GraphStatus`` is a boolean; "Not run yet" before the first check) and the
notes a plan shows (the failure's words from ``GraphTest``, the names of ``MissingRoles``,
which are objects)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.observe.partner import PartnerFacts, cipp_access_notes, cipp_reaches

TENANT = "4e3d2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f"


@pytest.mark.parametrize(
    ("status", "reaches"),
    [(True, True), (False, False), ("false", False), ("Not run yet", True), (None, True)],
)
def test_graph_status_is_a_boolean(status: Any, reaches: bool) -> None:
    assert cipp_reaches({"GraphStatus": status, "GraphTest": "words"}) is reaches


def test_a_failed_check_is_a_note_with_cipps_words_and_the_missing_roles_by_name() -> None:
    row = {
        "GraphStatus": False,
        "GraphTest": "Failed to connect to Graph: AADSTS7000229",
        "MissingRoles": [{"Name": "Exchange Administrator", "Type": "Tenant", "Optional": False}],
    }
    assert cipp_access_notes(row) == (
        "CIPP access check: Failed to connect to Graph: AADSTS7000229",
        "CIPP access check: missing roles Exchange Administrator",
    )
    assert cipp_access_notes({"GraphStatus": True, "MissingRoles": ""}) == ()


def test_a_listed_tenant_cipp_cannot_reach_is_not_manageable() -> None:
    row = {"TenantId": TENANT, "GraphStatus": False, "GraphTest": "Failed"}
    facts = PartnerFacts([], {TENANT: {"customerId": TENANT}}, {TENANT: row})
    assert facts.cipp_manageable(TENANT) is False
    assert facts.cipp_manageable(TENANT.upper()) is False
    assert PartnerFacts([], {TENANT: {}}, {}).cipp_manageable(TENANT) is True
    assert PartnerFacts([], {}, {}).cipp_manageable(TENANT) is False
    assert PartnerFacts([], None, None).cipp_manageable(TENANT) is None

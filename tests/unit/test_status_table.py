"""The status table, without I/O: rows from a plan and observations, the GDAP and Consent
cells people read, plain aligned text, the rich table, and the JSON shape."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

from rich.console import Console

from controller.models import OperationKind
from controller.models.observed import ConsentStatus, GdapState, ObservedTenant, Unknown
from controller.plan import Badges, Finding, ManualStep, Operation, Plan, TenantPlan
from controller.plan.types import Backend, UnknownArea
from controller.render.documents import render_document
from controller.render.status import (
    StatusRow,
    render_status_table,
    render_status_text,
    status_report,
    status_rows,
)
from tests.fixtures.operation_params import example_params

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
TID = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"


def _op(kind: OperationKind, backend: Backend, n: int) -> Operation:
    return Operation(
        id=f"t/{kind.value}/{n}",
        tenant="t",
        tenant_id=TID,
        kind=kind,
        target=f"user:u{n}@t.com",
        backend=backend,
        params=example_params(kind),
        fingerprint=f"f{n}",
        manual=ManualStep(title="do", instructions="it") if backend is Backend.MANUAL else None,
    )


def _plan() -> Plan:
    tenant = TenantPlan(
        name="t",
        tenant_id=TID,
        badges=Badges(
            gdap="expiring",
            gdap_detail="ends 2026-12-01 (in 5 days)",
            consent="partial",
            consent_detail="missing: B.Read, A.Read",
            exchange="propagating",
        ),
        observation="partial",
        unknown=(
            UnknownArea(area="mfa", code="permissionDenied", reason="x"),
            UnknownArea(area="mfa", code="permissionDenied", reason="y"),
        ),
        operations=(
            _op(OperationKind.USER_CREATE, Backend.GRAPH, 1),
            _op(OperationKind.CONSENT_GRANT, Backend.MANUAL, 2),
            _op(OperationKind.USER_DISABLE, Backend.GRAPH, 3),
        ),
        findings=(Finding(check="mfa", severity="warning", subject="user:u", message="m"),),
    )
    return Plan(plan_id="p", created_at=NOW, desired_digest="d", tenants=(tenant,))


def _observed(gdap: GdapState | Unknown) -> ObservedTenant:
    base = ObservedTenant.unreachable("t", TID, NOW, Unknown("error", "e"))
    return dataclasses.replace(
        base,
        gdap=gdap,
        consent=ConsentStatus("partial", "sp", frozenset(), frozenset({"B.Read", "A.Read"})),
    )


GDAP = GdapState((), "expiring", False, True, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def test_a_row_counts_changes_manual_steps_and_findings_and_names_the_unknown_areas() -> None:
    (row,) = status_rows(_plan(), {"t": _observed(GDAP)})
    # Three operations, one of them a manual step: 2 changes and 1 manual step, never 3 + 1.
    assert (row.pending_changes, row.manual_steps, row.findings) == (2, 1, 1)
    assert row.unknown == ("mfa",)
    assert row.gdap_cell == "expiring (2026-12-01), PRA"
    assert row.consent_cell == "partial (missing: A.Read, B.Read)"


def test_gdap_that_could_not_be_read_leaves_the_roles_unknown() -> None:
    (row,) = status_rows(_plan(), {"t": _observed(Unknown("throttled", "t"))})
    assert (row.global_admin, row.privileged_role_admin, row.gdap_ends) == (None, None, None)
    assert row.gdap_cell == "expiring, no GA/PRA"


def test_a_tenant_without_observation_still_gets_its_row() -> None:
    (row,) = status_rows(_plan(), {})
    assert row.name == "t"
    assert row.consent_missing == ()
    assert row.consent_cell == "partial"


def _row(name: str, **overrides: object) -> StatusRow:
    values: dict[str, object] = {
        "name": name,
        "tenant_id": TID,
        "source": None,
        "gdap": "active",
        "gdap_ends": "2027-01-01",
        "global_admin": True,
        "privileged_role_admin": True,
        "gdap_detail": None,
        "consent": "granted",
        "consent_missing": (),
        "consent_detail": None,
        "exchange": "working (cipp)",
        "exchange_detail": None,
        "pending_changes": 0,
        "manual_steps": 0,
        "findings": 0,
        "problems": 0,
        "observation": "complete",
        "unknown": (),
    }
    values.update(overrides)
    return StatusRow(**values)  # type: ignore[arg-type]


def test_plain_text_aligns_columns_and_right_aligns_counts() -> None:
    text = render_status_text([_row("a", pending_changes=12), _row("longer-name", findings=3)])
    lines = text.splitlines()
    assert lines[0] == (
        "TENANT       GDAP            CONSENT  EXCHANGE        CHANGES  MANUAL  FINDINGS  OBSERVED"
    )
    assert lines[1] == (
        "a            active, GA+PRA  granted  working (cipp)       12       0         0  complete"
    )
    assert lines[2] == (
        "longer-name  active, GA+PRA  granted  working (cipp)        0       0         3  complete"
    )
    assert lines[-1] == "2 tenant(s): 1 with pending changes, 0 manual step(s), 3 finding(s)."


def test_the_rich_table_holds_every_row_and_the_summary() -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=200, no_color=True).print(
        render_status_table([_row("a"), _row("b", observation="partial")])
    )
    text = buffer.getvalue()
    assert "working (cipp)" in text
    assert "1 not fully observed" in text
    assert "\x1b" not in text


def test_json_is_a_list_of_objects_with_camel_case_keys() -> None:
    report = status_report([_row("a", consent_missing=("X",))])
    (obj,) = json.loads(render_document(report, "json"))
    assert obj["gdap"] == {
        "status": "active",
        "ends": "2027-01-01",
        "globalAdministrator": True,
        "privilegedRoleAdministrator": True,
        "detail": None,
    }
    assert obj["consent"]["missing"] == ["X"]
    assert obj["pendingChanges"] == 0

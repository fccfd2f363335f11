"""The documents commands print with ``-o json`` or ``-o yaml``: the output contract.

Every command that prints has one document (``history`` two: the runs, and one run), each a
model here or elsewhere (the plan, the approval record), and ``tenantctl schema`` writes one
JSON Schema per document under ``schemas/``. Keys are camelCase, as in the desired-state YAML.
A view that builds its document as a dict is validated against the model before it is
printed (:func:`render_document`), so the schema and the output cannot drift apart.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, RootModel

from controller.apply.outcomes import Outcome
from controller.policy.approvals import ApprovalRecord
from controller.render._document import (
    ValidationReport,
    _Document,
    render_document,
)

__all__ = [
    "ApplyReport",
    "ApproveReport",
    "ConnectCheckReport",
    "DiscoverReport",
    "HistoryReport",
    "ImportReport",
    "JournalExportLine",
    "RunReport",
    "StatusReport",
    "ValidationReport",
    "render_document",
]


# -- apply ------------------------------------------------------------------------------------


class OutcomeCounts(_Document):
    succeeded: int
    failed: int
    held: int
    skipped: int


class OperationResult(Outcome):
    """One operation's outcome, with the operation it is of."""

    id: str
    tenant: str
    kind: str
    target: str
    fingerprint: str


APPLY_FORMAT_VERSION: Literal[2] = 2


class ApplyReport(_Document):
    """``tenantctl apply -o json`` and ``apply --out``: one result per operation."""

    format_version: Literal[2] = APPLY_FORMAT_VERSION
    run_id: int
    plan_id: str
    counts: OutcomeCounts
    cancelled_by: str | None = Field(
        default=None, description="SIGTERM or SIGINT when a signal cancelled the run"
    )
    journal_complete: bool = Field(
        default=True, description="Whether the journal recorded every operation of the run"
    )
    journal_problems: dict[str, str] = Field(
        default_factory=dict, description="Tenant name ('' for the run) -> what the journal lacks"
    )
    notes: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Tenant name -> what needed no operation (an action already done, ...)",
    )
    operations: tuple[OperationResult, ...]


# -- approve ----------------------------------------------------------------------------------


class ApproveReport(_Document):
    """``tenantctl approve -o json``: where the record was written, and the record."""

    path: str
    approval: ApprovalRecord


# -- history ----------------------------------------------------------------------------------


class RunSummary(_Document):
    id: int
    started_at: str
    finished_at: str | None
    command: str
    plan_id: str | None
    status: str = Field(description="running | succeeded | failed")
    host: str | None
    user: str | None
    operations: int
    interrupted: int


class HistoryReport(_Document):
    """``tenantctl history -o json``: every run in the journal."""

    runs: tuple[RunSummary, ...]


class RecordedOperation(_Document):
    run_id: int
    op_id: str
    tenant: str
    kind: str
    target: str
    fingerprint: str
    approval: str | None
    intent_at: str | None
    finished_at: str | None
    status: str | None
    hold: str | None
    detail: str
    error: str | None
    request_id: str | None
    duration_ms: int | None
    interrupted: bool = Field(description="Started and never finished: the run was killed")


class RunReport(_Document):
    """``tenantctl history --run N -o json``: one run and its operations."""

    run: RunSummary
    operations: tuple[RecordedOperation, ...]


# -- journal export ---------------------------------------------------------------------------


class ExportedRun(RunSummary):
    record: Literal["run"] = Field(default="run", description="What this line is")
    journal: str = Field(description="The journal it was read from (a DSN without password)")


class ExportedOperation(RecordedOperation):
    record: Literal["operation"] = Field(default="operation", description="What this line is")


class JournalExportLine(RootModel[ExportedRun | ExportedOperation]):
    """``tenantctl journal export``: each line of its JSON Lines, one object per run (its
    operations follow it) and one per operation, for a SIEM."""


# -- status -----------------------------------------------------------------------------------


class GdapBadge(_Document):
    status: str = Field(description="active | expiring | expired | none | unknown")
    ends: str | None = Field(description="ISO date")
    global_administrator: bool | None
    privileged_role_administrator: bool | None
    detail: str | None


class ConsentBadge(_Document):
    status: str = Field(description="granted | partial | pending | unknown")
    missing: tuple[str, ...]
    detail: str | None


class ExchangeBadge(_Document):
    status: str = Field(
        description="pending | propagating | working (direct) | working (cipp) | not managed "
        "| unknown"
    )
    detail: str | None


class TenantStatus(_Document):
    name: str
    tenant_id: str
    source: str | None
    gdap: GdapBadge
    consent: ConsentBadge
    exchange: ExchangeBadge
    pending_changes: int
    manual_steps: int
    findings: int
    problems: int
    observation: Literal["complete", "partial", "failed"]
    unknown: tuple[str, ...]


class StatusReport(RootModel[tuple[TenantStatus, ...]]):
    """``tenantctl status -o json``: one object per tenant, by name."""


# -- discover ---------------------------------------------------------------------------------


class CustomerGdap(_Document):
    status: str
    ends: str | None
    roles: tuple[str, ...]


class DiscoveredCustomer(_Document):
    display_name: str
    tenant_id: str
    default_domain: str | None
    domains: tuple[str, ...]
    domains_from: Literal["organization", "partnerCenter", "unknown"]
    gdap: CustomerGdap
    name: str | None = Field(description="The tenant file's name (tenantctl import --tenant)")


class DiscoverReport(RootModel[tuple[DiscoveredCustomer, ...]]):
    """``tenantctl discover -o json``: GDAP customers no tenant file declares."""


# -- import -----------------------------------------------------------------------------------


class ImportedTenant(_Document):
    name: str
    path: str
    status: Literal["written", "skipped", "refused"]
    message: str
    notes: tuple[str, ...]


class ImportReport(RootModel[tuple[ImportedTenant, ...]]):
    """``tenantctl import -o json``: one outcome per tenant, by name."""


# -- connect check ----------------------------------------------------------------------------


class ConnectionCheck(_Document):
    name: str = Field(description="partner app | credential | GDAP | CIPP | secrets")
    status: Literal["ok", "warning", "failed"]
    summary: str
    fix: str | None = None
    code: str | None = Field(
        default=None, description="The service's error code, e.g. AADSTS7000222"
    )


class ConnectCheckReport(RootModel[tuple[ConnectionCheck, ...]]):
    """``tenantctl connect check -o json``: one result per check."""

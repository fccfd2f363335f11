"""The documents commands print with ``-o json`` or ``-o yaml``: the output contract.

Every command that prints has one document (``history`` two: the runs, and one run; ``get``
one per kind), each a model here or elsewhere (the plan, the approval record), and
``tenantctl schema`` writes one JSON Schema per document under ``schemas/``. Keys are camelCase, as in the desired-state YAML.
A view that builds its document as a dict is validated against the model before it is
printed (:func:`render_document`), so the schema and the output cannot drift apart.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Literal

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
    "GetConsentReport",
    "GetDistributionGroupsReport",
    "GetGdapReport",
    "GetGroupsReport",
    "GetLicencesReport",
    "GetMembersReport",
    "GetReport",
    "GetSharedMailboxesReport",
    "GetUsersReport",
    "HistoryReport",
    "ImportReport",
    "JournalExportLine",
    "ReportWritten",
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


# -- get --------------------------------------------------------------------------------------


class DeclaredAt(_Document):
    """Where git declares an object: a tenant file or a profile, and the line."""

    file: str | None
    line: int | None
    profile: str | None = Field(
        default=None, description="The profile it came from; null: the tenant's own file"
    )
    ensure: Literal["present", "absent"] = Field(
        default="present", description="absent: git wants it deleted"
    )


_DECLARED = Field(description="Where git declares it; null: git does not manage it")


class UnknownRead(_Document):
    """Something that could not be read: its rows are missing, or their cells say unknown."""

    tenant: str
    area: str = Field(description="users, groups, members, mfa, riskyUsers, licences, ...")
    subject: str | None = Field(description="The object it concerns; null: the whole area")
    code: str = Field(description="permissionDenied, consentMissing, needsLicence, ...")
    reason: str


class _Listing(_Document):
    """``tenantctl get KIND -o json``: each kind overrides ``kind`` and ``items``."""

    kind: str
    tenants: tuple[str, ...] = Field(description="The tenants asked about, by name")
    items: tuple[Any, ...]
    unknown: tuple[UnknownRead, ...] = Field(
        description="What could not be read: its items are missing, or their cells null"
    )


class UserItem(_Document):
    tenant: str
    user_principal_name: str
    display_name: str | None
    account_enabled: bool | None
    usage_location: str | None
    licences: tuple[str, ...] = Field(
        description="skuPartNumbers (the SKU id when the tenant's licences are unknown)"
    )
    mfa: Literal["registered", "notRegistered", "notInReport", "unknown"]
    mfa_capable: bool | None
    risk: str = Field(description="none | low | medium | high | hidden | unknown")
    declared: DeclaredAt | None = _DECLARED
    id: str


class GetUsersReport(_Listing):
    """``tenantctl get users -o json``."""

    kind: Literal["users"] = "users"
    items: tuple[UserItem, ...]


class GroupItem(_Document):
    tenant: str
    mail_nickname: str | None
    display_name: str | None
    type: Literal["security", "microsoft365"]
    description: str | None
    members: int | None = Field(description="How many; null: unknown (see unknown)")
    declared: DeclaredAt | None = _DECLARED
    id: str


class GetGroupsReport(_Listing):
    """``tenantctl get groups -o json``: Entra security and Microsoft 365 groups."""

    kind: Literal["groups"] = "groups"
    items: tuple[GroupItem, ...]


class MemberItem(_Document):
    tenant: str
    group: str = Field(description="The group's mailNickname or primary SMTP address")
    address: str | None = Field(description="UPN or primary SMTP address; null: it has none")
    display_name: str | None
    type: str = Field(description="user | group | mailbox | servicePrincipal | device | other")
    declared: DeclaredAt | None = Field(
        description="Where git lists it as a member; null: git does not"
    )
    id: str


class GetMembersReport(_Listing):
    """``tenantctl get members --group NICK -o json``."""

    kind: Literal["members"] = "members"
    group: str
    not_found: tuple[str, ...] = Field(description="Tenants that have no such group")
    items: tuple[MemberItem, ...]


class DistributionGroupItem(_Document):
    tenant: str
    primary_smtp_address: str
    name: str
    display_name: str | None
    alias: str | None
    members: int | None = Field(description="How many; null: unknown (see unknown)")
    declared: DeclaredAt | None = _DECLARED
    id: str


class GetDistributionGroupsReport(_Listing):
    """``tenantctl get distribution-groups -o json``."""

    kind: Literal["distribution-groups"] = "distribution-groups"
    items: tuple[DistributionGroupItem, ...]


class SharedMailboxItem(_Document):
    tenant: str
    primary_smtp_address: str
    name: str
    display_name: str | None
    alias: str | None
    full_access: tuple[str, ...] | None = Field(description="Holders; null: unknown")
    send_as: tuple[str, ...] | None = Field(description="Holders; null: unknown")
    send_on_behalf: tuple[str, ...] | None = Field(description="Holders; null: unknown")
    declared: DeclaredAt | None = _DECLARED
    id: str


class GetSharedMailboxesReport(_Listing):
    """``tenantctl get shared-mailboxes -o json``."""

    kind: Literal["shared-mailboxes"] = "shared-mailboxes"
    items: tuple[SharedMailboxItem, ...]


class LicenceItem(_Document):
    tenant: str
    sku_part_number: str
    sku_id: str
    enabled: int = Field(description="Units the tenant has")
    consumed: int = Field(description="Units assigned")
    available: int = Field(description="enabled - consumed (negative: over-assigned)")
    declared: DeclaredAt | None = Field(
        description="Where git first gives a user this SKU; null: no declared user has it"
    )


class GetLicencesReport(_Listing):
    """``tenantctl get licences -o json``: one item per SKU."""

    kind: Literal["licences"] = "licences"
    items: tuple[LicenceItem, ...]


class ConsentItem(_Document):
    tenant: str
    permission: str
    required: bool = Field(description="tenantctl needs it (false: optional)")
    granted: bool
    declared: DeclaredAt | None = Field(
        description="Where git asks for consent (consent: granted); null: consent is unmanaged"
    )


class GetConsentReport(_Listing):
    """``tenantctl get consent -o json``: the app's permissions, granted vs required."""

    kind: Literal["consent"] = "consent"
    items: tuple[ConsentItem, ...]


class GdapItem(_Document):
    tenant: str
    relationship: str = Field(description="The relationship's display name")
    status: str
    roles: tuple[str, ...] = Field(description="Role names (ids for roles not well known)")
    ends: str | None = Field(description="ISO 8601 end of the relationship")
    auto_extend: bool
    declared: None = Field(default=None, description="Always null: GDAP is not kept in git")
    id: str


class GetGdapReport(_Listing):
    """``tenantctl get gdap -o json``: the GDAP relationships with each customer."""

    kind: Literal["gdap"] = "gdap"
    items: tuple[GdapItem, ...]


GetReport = (
    GetUsersReport
    | GetGroupsReport
    | GetMembersReport
    | GetDistributionGroupsReport
    | GetSharedMailboxesReport
    | GetLicencesReport
    | GetConsentReport
    | GetGdapReport
)


# -- report -----------------------------------------------------------------------------------


class ReportWritten(_Document):
    """``tenantctl report -o json``: where the report's pages were written."""

    directory: str
    index: str = Field(description="The overview page, the one to open")
    pages: int
    tenants: int

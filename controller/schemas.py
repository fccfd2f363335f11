"""JSON Schemas generated from the models. ``schemas/`` in the repository holds their output;
a test fails when it is stale.

Two kinds: the desired-state files (``msp``, ``tenant``), which editors validate as they are
typed, and the output contract: the plan file, approval records, saved observations, and one
document per command that prints (``-o json``), named after the command (``get-KIND`` for
each kind of ``tenantctl get``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from controller.files import SHARED, write_atomically
from controller.models import MSPConfig, ProfileConfig, TenantConfig
from controller.plan.types import Plan
from controller.policy.approvals import ApprovalRecord
from controller.render.documents import (
    ApplyReport,
    ApproveReport,
    ConnectCheckReport,
    DiscoverReport,
    GetConsentReport,
    GetDistributionGroupsReport,
    GetGdapReport,
    GetGroupsReport,
    GetLicencesReport,
    GetMembersReport,
    GetSharedMailboxesReport,
    GetUsersReport,
    HistoryReport,
    ImportReport,
    JournalExportLine,
    ReportWritten,
    RunReport,
    StatusReport,
    ValidationReport,
)
from controller.render.observations import SavedObservations

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "msp.schema.json": MSPConfig,
    "tenant.schema.json": TenantConfig,
    "profile.schema.json": ProfileConfig,
    "plan.schema.json": Plan,
    "approval.schema.json": ApprovalRecord,
    "observations.schema.json": SavedObservations,
    # -o json of each command (plan -o json is the plan file)
    "validate.schema.json": ValidationReport,
    "apply.schema.json": ApplyReport,
    "approve.schema.json": ApproveReport,
    "history.schema.json": HistoryReport,
    "history-run.schema.json": RunReport,
    "status.schema.json": StatusReport,
    "discover.schema.json": DiscoverReport,
    "import.schema.json": ImportReport,
    "connect-check.schema.json": ConnectCheckReport,
    "journal-export.schema.json": JournalExportLine,
    "get-users.schema.json": GetUsersReport,
    "get-groups.schema.json": GetGroupsReport,
    "get-members.schema.json": GetMembersReport,
    "get-distribution-groups.schema.json": GetDistributionGroupsReport,
    "get-shared-mailboxes.schema.json": GetSharedMailboxesReport,
    "get-licences.schema.json": GetLicencesReport,
    "get-consent.schema.json": GetConsentReport,
    "get-gdap.schema.json": GetGdapReport,
    "report.schema.json": ReportWritten,
}

#: Which schema each command's ``-o json`` output follows.
COMMAND_SCHEMAS: dict[str, str] = {
    "validate": "validate.schema.json",
    "plan": "plan.schema.json",
    "apply": "apply.schema.json",
    "approve": "approve.schema.json",
    "history": "history.schema.json",
    "history --run": "history-run.schema.json",
    "status": "status.schema.json",
    "discover": "discover.schema.json",
    "import": "import.schema.json",
    "connect check": "connect-check.schema.json",
    "journal export": "journal-export.schema.json",
    "get users": "get-users.schema.json",
    "get groups": "get-groups.schema.json",
    "get members": "get-members.schema.json",
    "get distribution-groups": "get-distribution-groups.schema.json",
    "get shared-mailboxes": "get-shared-mailboxes.schema.json",
    "get licences": "get-licences.schema.json",
    "get consent": "get-consent.schema.json",
    "get gdap": "get-gdap.schema.json",
    "report": "report.schema.json",
}


def render_schema(model: type[BaseModel]) -> str:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(by_alias=True, mode="validation"),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def rendered_schemas() -> dict[str, str]:
    return {name: render_schema(model) for name, model in SCHEMA_MODELS.items()}


def write_schemas(directory: Path) -> list[Path]:
    written = []
    for name, text in rendered_schemas().items():
        path = directory / name
        write_atomically(path, text, mode=SHARED)  # never a half-written schema
        written.append(path)
    return written

"""The MSP's companies view: one row per tenant, built from a plan and what was observed.

Pure: no HTTP, no clock, no file system. ``tenantctl status`` runs the same plan run as
``tenantctl plan`` (:func:`controller.reconcile.plan_run`) and hands the result here, so the
counts are the plan's own.
The badges are the plan's (:class:`~controller.plan.Badges`); the observed GDAP state adds
the end date and whether the relationship holds Global Administrator or Privileged Role
Administrator, which the plan only mentions when they are missing.

The JSON view (``tenantctl status -o json``) is a contract (``schemas/status.schema.json``):
a list with one object per tenant, in the plan's order (by name)::

    [
      {
        "name": "woodgrove",
        "tenantId": "…",
        "source": "desired/tenants/woodgrove.yaml",        # or null
        "gdap": {
          "status": "expiring",            # active | expiring | expired | none | unknown
          "ends": "2026-12-01",            # or null
          "globalAdministrator": false,    # null when GDAP could not be read
          "privilegedRoleAdministrator": false,
          "detail": "ends 2026-12-01 (in 5 days); …"       # or null
        },
        "consent": {
          "status": "granted",             # granted | partial | pending | unknown
          "missing": [],                   # permission names, when partial or pending
          "detail": null
        },
        "exchange": {
          # pending | propagating | working (direct) | working (cipp) | not managed | unknown
          "status": "pending",
          "detail": "Exchange Administrator not assigned; CIPP cannot manage the tenant"
        },
        "pendingChanges": 6,               # operations an API can carry out (manual steps apart)
        "manualSteps": 0,
        "findings": 2,
        "problems": 0,
        "observation": "partial",          # complete | partial | failed
        "unknown": ["distributionGroups"]  # areas that could not be observed
      }
    ]
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from controller.models.observed import ConsentStatus, GdapState, ObservedTenant
from controller.plan.types import Plan, TenantPlan
from controller.render.documents import StatusReport

__all__ = [
    "COLUMNS",
    "StatusRow",
    "needs_attention",
    "render_status_rich",
    "render_status_table",
    "render_status_text",
    "status_report",
    "status_rows",
]


@dataclass(frozen=True)
class StatusRow:
    name: str
    tenant_id: str
    source: str | None
    gdap: str
    gdap_ends: str | None  # ISO date
    global_admin: bool | None  # None: GDAP could not be read
    privileged_role_admin: bool | None
    gdap_detail: str | None
    consent: str
    consent_missing: tuple[str, ...]
    consent_detail: str | None
    exchange: str
    exchange_detail: str | None
    pending_changes: int
    manual_steps: int
    findings: int
    problems: int
    observation: str
    unknown: tuple[str, ...]

    # -- the cells people read ----------------------------------------------------------

    @property
    def gdap_cell(self) -> str:
        """``expiring (2026-12-01), no GA/PRA``: the status, the end date when it matters,
        and which of the two roles that consent and the Exchange role need it holds."""
        text = self.gdap
        if self.gdap in ("expiring", "expired") and self.gdap_ends:
            text += f" ({self.gdap_ends})"
        if self.gdap in ("active", "expiring"):
            roles = [
                label
                for label, held in (
                    ("GA", self.global_admin),
                    ("PRA", self.privileged_role_admin),
                )
                if held
            ]
            text += ", " + ("+".join(roles) if roles else "no GA/PRA")
        return text

    @property
    def consent_cell(self) -> str:
        if self.consent == "partial" and self.consent_missing:
            return f"partial (missing: {', '.join(self.consent_missing)})"
        return self.consent

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tenantId": self.tenant_id,
            "source": self.source,
            "gdap": {
                "status": self.gdap,
                "ends": self.gdap_ends,
                "globalAdministrator": self.global_admin,
                "privilegedRoleAdministrator": self.privileged_role_admin,
                "detail": self.gdap_detail,
            },
            "consent": {
                "status": self.consent,
                "missing": list(self.consent_missing),
                "detail": self.consent_detail,
            },
            "exchange": {"status": self.exchange, "detail": self.exchange_detail},
            "pendingChanges": self.pending_changes,
            "manualSteps": self.manual_steps,
            "findings": self.findings,
            "problems": self.problems,
            "observation": self.observation,
            "unknown": list(self.unknown),
        }


def status_rows(plan: Plan, observed: Mapping[str, ObservedTenant]) -> tuple[StatusRow, ...]:
    """One row per tenant of the plan, in the plan's order."""
    return tuple(_row(t, observed.get(t.name)) for t in plan.tenants)


def _row(tenant: TenantPlan, seen: ObservedTenant | None) -> StatusRow:
    gdap = seen.gdap if seen is not None and isinstance(seen.gdap, GdapState) else None
    consent = seen.consent if seen is not None and isinstance(seen.consent, ConsentStatus) else None
    b = tenant.badges
    return StatusRow(
        name=tenant.name,
        tenant_id=tenant.tenant_id,
        source=tenant.source,
        gdap=b.gdap,
        gdap_ends=gdap.ends.date().isoformat() if gdap is not None and gdap.ends else None,
        global_admin=gdap.has_global_admin if gdap is not None else None,
        privileged_role_admin=gdap.has_privileged_role_admin if gdap is not None else None,
        gdap_detail=b.gdap_detail,
        consent=b.consent,
        consent_missing=tuple(sorted(consent.missing)) if consent is not None else (),
        consent_detail=b.consent_detail,
        exchange=b.exchange,
        exchange_detail=b.exchange_detail,
        pending_changes=len(tenant.changes),
        manual_steps=len(tenant.manual_steps),
        findings=len(tenant.findings),
        problems=len(tenant.problems),
        observation=tenant.observation,
        unknown=tuple(sorted({u.area for u in tenant.unknown})),
    )


# -- views ------------------------------------------------------------------------------------

COLUMNS = ("TENANT", "GDAP", "CONSENT", "EXCHANGE", "CHANGES", "MANUAL", "FINDINGS", "OBSERVED")
_NUMERIC = frozenset({"CHANGES", "MANUAL", "FINDINGS"})


def _cells(row: StatusRow) -> tuple[str, ...]:
    return (
        row.name,
        row.gdap_cell,
        row.consent_cell,
        row.exchange,
        str(row.pending_changes),
        str(row.manual_steps),
        str(row.findings),
        row.observation,
    )


def summary(rows: Sequence[StatusRow]) -> str:
    changed = sum(1 for r in rows if r.pending_changes)
    partial = sum(1 for r in rows if r.observation != "complete")
    text = (
        f"{len(rows)} tenant(s): {changed} with pending changes, "
        f"{sum(r.manual_steps for r in rows)} manual step(s), "
        f"{sum(r.findings for r in rows)} finding(s)"
    )
    if partial:
        text += f", {partial} not fully observed"
    return text + "."


def render_status_text(rows: Sequence[StatusRow]) -> str:
    """Plain aligned columns: what CI logs and pipes get (no escape codes)."""
    table = [COLUMNS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = []
    for line in table:
        cells = [
            cell.rjust(width) if COLUMNS[i] in _NUMERIC else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(summary(rows))
    return "\n".join(lines) + "\n"


_STYLES = {
    "active": "green",
    "granted": "green",
    "working (direct)": "green",
    "working (cipp)": "green",
    "complete": "green",
    "expiring": "yellow",
    "partial": "yellow",
    "propagating": "yellow",
    "pending": "yellow",
    "expired": "red",
    "none": "red",
    "failed": "red",
    "unknown": "red",
    "not managed": "dim",
}


def render_status_table(rows: Sequence[StatusRow]) -> Table:
    """The same rows as a ``rich`` table, coloured by badge, for a terminal."""
    table = Table(caption=summary(rows), caption_justify="left")
    for column in COLUMNS:
        table.add_column(
            column,
            justify="right" if column in _NUMERIC else "left",
            no_wrap=column == "TENANT" or column in _NUMERIC,
        )
    for row in rows:
        cells = [escape(cell) for cell in _cells(row)]
        # The badge columns and the observation, coloured by what they say.
        for i, badge in ((1, row.gdap), (2, row.consent), (3, row.exchange), (7, row.observation)):
            style = _STYLES.get(badge)
            if style:
                cells[i] = f"[{style}]{cells[i]}[/]"
        table.add_row(*cells)
    return table


def render_status_rich(rows: Sequence[StatusRow], *, color: bool, width: int) -> str:
    """:func:`render_status_table` drawn for a terminal ``width`` columns wide."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, no_color=not color, width=width)
    console.print(render_status_table(rows))
    return buffer.getvalue()


def status_report(rows: Sequence[StatusRow]) -> StatusReport:
    """The rows as the output contract's document, checked against its model."""
    return StatusReport.model_validate([r.as_json() for r in rows])


def needs_attention(row: StatusRow) -> bool:
    """What ``status -q`` lists: a tenant with work left, a problem, or not fully seen."""
    return bool(
        row.pending_changes or row.manual_steps or row.problems or row.observation != "complete"
    )

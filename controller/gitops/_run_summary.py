"""A run's summary in counts, for ``--notify`` (pure: no I/O).

:func:`summarize` turns a :class:`~controller.plan.Plan` (and, after apply, each tenant's
:class:`TenantOutcome`) into a :class:`RunSummary`: per-tenant counts, the run's status, title
and totals, and the tenants that need attention, worst first. :mod:`controller.gitops.notify`
renders it for Teams or Slack and sends it; this module knows nothing of either.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from controller.apply import Outcome, OutcomeStatus
from controller.models import Decision
from controller.plan.types import Plan, TenantPlan

Mode = Literal["plan", "drift", "apply"]

# Teams rejects messages above about 28 KB and Slack takes at most 50 blocks and 3,000
# characters per text: list the tenants that need attention first, and only that many.
MAX_TENANT_LINES = 20
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class TenantOutcome:
    """What apply did in one tenant; the apply engine reports one per tenant it ran.

    ``held``: operations not executed because they await approval, their approval is stale,
    policy denies them, or they wait for propagation. ``error``: the tenant failed as a whole
    (already redacted: it comes from tenantctl's error tree).
    """

    applied: int = 0
    failed: int = 0
    held: int = 0
    error: str | None = None


@dataclass(frozen=True)
class TenantSummary:
    name: str
    changes: int
    manual_steps: int
    findings: int
    high_findings: int
    observation: Literal["complete", "partial", "failed"]
    denied: int = 0
    guard_violations: int = 0
    problems: int = 0
    outcome: TenantOutcome | None = None

    @property
    def failed(self) -> bool:
        return bool(
            self.observation == "failed"
            or self.problems
            or (self.outcome and (self.outcome.failed or self.outcome.error))
        )

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.failed
            or self.changes
            or self.manual_steps
            or self.findings
            or self.observation != "complete"
            or self.denied
            or self.guard_violations
        )

    def describe(self, mode: Mode) -> str:
        """One line, the same for every flavour: ``3 changes (2 applied, 1 failed), ...``."""
        parts: list[str] = []
        if self.changes:
            text = count(self.changes, "change")
            if mode == "drift":
                text += " to match git"
            if self.outcome is not None:
                done = [
                    f"{self.outcome.applied} applied" if self.outcome.applied else "",
                    f"{self.outcome.failed} failed" if self.outcome.failed else "",
                    f"{self.outcome.held} held" if self.outcome.held else "",
                ]
                if any(done):
                    text += f" ({', '.join(d for d in done if d)})"
            parts.append(text)
        if self.outcome is not None and self.outcome.error:
            parts.append(f"error: {shorten(self.outcome.error)}")
        if self.denied:
            parts.append(f"{self.denied} denied by policy")
        if self.guard_violations:
            parts.append(count(self.guard_violations, "guard exceeded", "guards exceeded"))
        if self.problems:
            parts.append(count(self.problems, "object in error", "objects in error"))
        if self.manual_steps:
            parts.append(count(self.manual_steps, "manual step"))
        if self.findings:
            text = count(self.findings, "finding")
            if self.high_findings:
                text += f" ({self.high_findings} high)"
            parts.append(text)
        if self.observation == "partial":
            parts.append("observation incomplete")
        elif self.observation == "failed":
            parts.append("not observed")
        return ", ".join(parts) if parts else "no changes"


@dataclass(frozen=True)
class RunSummary:
    mode: Mode
    plan_id: str
    created_at: dt.datetime
    tenants: tuple[TenantSummary, ...]
    link: str | None = None
    shard: str | None = None

    @property
    def changes(self) -> int:
        return sum(t.changes for t in self.tenants)

    @property
    def changed_tenants(self) -> int:
        return sum(1 for t in self.tenants if t.changes)

    def _outcome_total(self, pick: Callable[[TenantOutcome], int]) -> int:
        return sum(pick(t.outcome) for t in self.tenants if t.outcome is not None)

    @property
    def applied(self) -> int:
        return self._outcome_total(lambda o: o.applied)

    @property
    def failed(self) -> int:
        return self._outcome_total(lambda o: o.failed)

    @property
    def held(self) -> int:
        return self._outcome_total(lambda o: o.held)

    @property
    def status(self) -> Literal["good", "warning", "attention"]:
        """``attention`` when something failed; ``warning`` when something waits on a person
        (changes to review, held operations, manual steps, policy refusals, high findings) or
        is unknown; ``good`` otherwise."""
        if any(t.failed for t in self.tenants):
            return "attention"
        waiting = self.held or (self.mode != "apply" and self.changes)
        if waiting or any(
            t.observation != "complete"
            or t.manual_steps
            or t.high_findings
            or t.denied
            or t.guard_violations
            for t in self.tenants
        ):
            return "warning"
        return "good"

    @property
    def title(self) -> str:
        total = len(self.tenants)
        of = f"{self.changed_tenants} of {count(total, 'tenant')}"
        if self.mode == "plan":
            head = (
                f"{count(self.changes, 'change')} in {of}"
                if self.changes
                else f"no changes in {count(total, 'tenant')}"
            )
        elif self.mode == "drift":
            head = (
                f"{of} differ from git" if self.changed_tenants != 1 else f"{of} differs from git"
            )
            if not self.changes:
                head = f"{count(total, 'tenant')} match git"
        else:
            done = [f"{self.applied} applied"]
            if self.failed:
                done.append(f"{self.failed} failed")
            if self.held:
                done.append(f"{self.held} held")
            head = (
                f"{', '.join(done)} in {of}"
                if self.changes
                else f"nothing to apply in {count(total, 'tenant')}"
            )
        shard = f" (shard {self.shard})" if self.shard else ""
        return f"tenantctl {self.mode}: {head}{shard}"

    @property
    def subtitle(self) -> str:
        when = self.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"plan {self.plan_id[:12]} · {when}"

    def facts(self) -> list[tuple[str, str]]:
        """The totals, in a fixed order per mode."""
        findings = sum(t.findings for t in self.tenants)
        high = sum(t.high_findings for t in self.tenants)
        incomplete = sum(1 for t in self.tenants if t.observation != "complete")
        facts = [("Tenants", str(len(self.tenants)))]
        if self.mode == "drift":
            facts.append(("Drifted tenants", str(self.changed_tenants)))
        facts.append(("Changes", str(self.changes)))
        if self.mode == "apply":
            facts += [
                ("Applied", str(self.applied)),
                ("Failed", str(self.failed)),
                ("Held", str(self.held)),
            ]
        facts += [
            ("Manual steps", str(sum(t.manual_steps for t in self.tenants))),
            ("Findings", f"{findings} ({high} high)" if high else str(findings)),
            ("Incomplete observation", str(incomplete)),
        ]
        return facts

    def lines(self) -> tuple[list[tuple[str, str]], int]:
        """(tenant, description) for the tenants needing attention, worst first, at most
        :data:`MAX_TENANT_LINES`; and how many more were left out."""
        worth = [t for t in self.tenants if t.needs_attention]
        worth.sort(key=lambda t: (_rank(t), t.name))
        shown = worth[:MAX_TENANT_LINES]
        return [(t.name, t.describe(self.mode)) for t in shown], len(worth) - len(shown)


def _rank(tenant: TenantSummary) -> int:
    if tenant.failed:
        return 0
    if tenant.observation != "complete" or tenant.denied or tenant.guard_violations:
        return 1
    if tenant.changes or tenant.manual_steps:
        return 2
    return 3


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 change``, ``3 changes``: a number and the word that goes with it."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def shorten(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summarize_tenant(tenant: TenantPlan, outcome: TenantOutcome | None) -> TenantSummary:
    return TenantSummary(
        name=tenant.name,
        changes=sum(1 for op in tenant.operations if not op.is_manual),
        manual_steps=len(tenant.manual_steps),
        findings=len(tenant.findings),
        high_findings=sum(1 for f in tenant.findings if f.severity == "high"),
        observation=tenant.observation,
        denied=sum(1 for op in tenant.operations if op.decision is Decision.DENY),
        guard_violations=len(tenant.guard_violations),
        problems=len(tenant.problems),
        outcome=outcome,
    )


def summarize(
    plan: Plan,
    outcomes: Mapping[str, TenantOutcome] | None = None,
    *,
    mode: Mode | None = None,
    link: str | None = None,
    shard: str | None = None,
) -> RunSummary:
    """The summary of a run. ``outcomes`` (tenant name -> what apply did) makes it an apply
    summary; ``mode="drift"`` words a scheduled report-only plan as drift."""
    chosen: Mode = mode or ("apply" if outcomes is not None else "plan")
    if chosen == "apply" and outcomes is None:
        outcomes = {}
    return RunSummary(
        mode=chosen,
        plan_id=plan.plan_id,
        created_at=plan.created_at,
        tenants=tuple(
            _summarize_tenant(
                t,
                (outcomes.get(t.name, TenantOutcome()) if outcomes is not None else None),
            )
            for t in sorted(plan.tenants, key=lambda t: t.name)
        ),
        link=link,
        shard=shard,
    )


def tenant_outcomes(plan: Plan, outcomes: Mapping[str, Outcome]) -> dict[str, TenantOutcome]:
    """What apply did in each tenant of ``plan``, counted from each operation's outcome (by
    operation id); an operation without an outcome was not part of the run."""
    counted: dict[str, TenantOutcome] = {}
    for tenant in plan.tenants:
        statuses = Counter(outcomes[op.id].status for op in tenant.operations if op.id in outcomes)
        counted[tenant.name] = TenantOutcome(
            applied=statuses[OutcomeStatus.SUCCEEDED],
            failed=statuses[OutcomeStatus.FAILED],
            held=statuses[OutcomeStatus.HELD],
        )
    return counted

"""Approval at the terminal (``tenantctl apply --interactive``): the operations that wait for
an approval are shown, one question is asked, and a yes is recorded as an approval record by
the local user, exactly as ``tenantctl approve`` would write it.

The command line only shows the plan and asks; which operations wait, and the record, are
decided here.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controller.apply import HoldReason, gate
from controller.plan import Operation, Plan
from controller.policy import ApprovalSet, StoredApproval, build_approval, write_approval

#: How long an approval given at the terminal holds: this run, and a retry soon after.
INTERACTIVE_APPROVAL_LIFETIME = dt.timedelta(hours=1)


def local_user() -> str:
    """The local account's name, as an approver and in the journal ("unknown" if none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def awaiting_approval(plan: Plan, approvals: ApprovalSet) -> tuple[Operation, ...]:
    """The operations that only an approval would let run (not the manual, denied, stale or
    blocked ones)."""
    held = gate(plan, approvals)
    return tuple(
        op
        for op in plan.operations
        if (outcome := held.get(op.id)) is not None and outcome.hold is HoldReason.PENDING_APPROVAL
    )


@dataclass(frozen=True)
class InteractiveApproval:
    """``ask(plan, waiting)``: show the plan, ask whether to approve the ``waiting`` number of
    operations, and answer yes or no. ``on_recorded`` hears where a yes was recorded."""

    ask: Callable[[Plan, int], bool]
    by: str
    directory: Path
    on_recorded: Callable[[Path], None] | None = None

    def approve(self, plan: Plan, approvals: ApprovalSet, now: dt.datetime) -> ApprovalSet:
        """``approvals`` with the answer added: unchanged when nothing waits or the answer
        is no."""
        waiting = awaiting_approval(plan, approvals)
        if not waiting or not self.ask(plan, len(waiting)):
            return approvals
        record = build_approval(
            plan,
            f"interactive:{plan.plan_id}",
            by=self.by,
            only=None,
            expires=INTERACTIVE_APPROVAL_LIFETIME,
            reason="approved interactively at the terminal",
            now=now,
        )
        path = write_approval(record, self.directory)
        if self.on_recorded is not None:
            self.on_recorded(path)
        return ApprovalSet(
            active=(*approvals.active, StoredApproval(path, record)), expired=approvals.expired
        )

"""Views of an apply run's results: terminal text, Markdown, and JSON.

Pure: functions of the plan that was applied and each operation's outcome.
"""

from __future__ import annotations

import json
import signal
from typing import TYPE_CHECKING

from controller.apply.outcomes import Outcome, OutcomeStatus
from controller.render import _markdown_text as md
from controller.render.documents import ApplyReport, OperationResult, OutcomeCounts

if TYPE_CHECKING:
    from controller.apply.engine import ApplyResult
_MARK = {
    OutcomeStatus.SUCCEEDED: "ok",
    OutcomeStatus.FAILED: "FAILED",
    OutcomeStatus.HELD: "held",
    OutcomeStatus.SKIPPED: "skipped",
}


def _why(outcome: Outcome) -> str:
    if outcome.status is OutcomeStatus.FAILED:
        return outcome.error or ""
    if outcome.status is OutcomeStatus.HELD and outcome.hold is not None:
        return f"{outcome.hold.value}: {outcome.detail}"
    return outcome.detail


def run_notes(result: ApplyResult) -> list[str]:
    """What a reader must know about the run as a whole: that it was cancelled, and where the
    journal does not hold all of it."""
    notes: list[str] = []
    if result.cancelled_by is not None:
        name = signal.Signals(result.cancelled_by).name
        notes.append(
            f"cancelled by {name}: no operation was started after it; run apply again to finish"
        )
    for tenant, problem in sorted(result.journal_problems.items()):
        where = f"tenant {tenant}" if tenant else "the run"
        notes.append(f"journal incomplete for {where}: {problem}")
    return notes


def counts(result: ApplyResult) -> dict[str, int]:
    tally = {status.value: 0 for status in OutcomeStatus}
    for outcome in result.outcomes.values():
        tally[outcome.status.value] += 1
    return tally


def render_apply_terminal(result: ApplyResult, color: bool = False) -> str:
    import click

    lines: list[str] = []
    for tenant in result.plan.tenants:
        ops = [op for op in tenant.operations if op.id in result.outcomes]
        if not ops and not tenant.notes:
            continue
        lines.append(f"{tenant.name} ({tenant.tenant_id})")
        # What needed no operation is said too (a one-shot action already done, ...).
        lines.extend(f"  note    {note}" for note in tenant.notes)
        for op in ops:
            outcome = result.outcomes[op.id]
            mark = f"{_MARK[outcome.status]:<8}"
            if color:
                fg = {"ok": "green", "FAILED": "red", "held": "yellow"}.get(mark.strip())
                mark = click.style(mark, fg=fg) if fg else mark
            lines.append(f"  {mark}{op.kind.value}  {op.target}")
            why = _why(outcome)
            if why:
                lines.append(f"          {why}")
        lines.append("")
    lines.append(tally_line(result))
    lines.extend(run_notes(result))
    return "\n".join(lines)


def tally_line(result: ApplyResult) -> str:
    """``run 3: 35 succeeded, 1 failed, 3 held, 0 skipped.``"""
    tally = counts(result)
    return (
        f"run {result.run_id}: {tally['succeeded']} succeeded, {tally['failed']} failed, "
        f"{tally['held']} held, {tally['skipped']} skipped."
    )


def render_apply_markdown(result: ApplyResult) -> str:
    tally = counts(result)
    lines = [
        "<!-- tenantctl-apply -->",
        f"### tenantctl apply (run {result.run_id})",
        "",
        f"**{tally['succeeded']}** succeeded, **{tally['failed']}** failed, "
        f"**{tally['held']}** held, **{tally['skipped']}** skipped.",
        "",
        *(f"> {md.text(note)}" for note in run_notes(result)),
        *([""] if run_notes(result) else []),
        "| tenant | operation | target | result | detail |",
        "|---|---|---|---|---|",
    ]
    for tenant in result.plan.tenants:
        for op in tenant.operations:
            outcome = result.outcomes.get(op.id)
            if outcome is None:
                continue
            target = md.code_span(op.target, in_table=True)
            lines.append(
                f"| {md.text(tenant.name)} | `{op.kind.value}` | {target} | "
                f"{_MARK[outcome.status]} | {md.text(_why(outcome))} |"
            )
    notes = [(t.name, note) for t in result.plan.tenants for note in t.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {md.text(name)}: {md.text(note)}" for name, note in notes]
    return "\n".join(lines) + "\n"


def apply_report(result: ApplyResult) -> ApplyReport:
    """The results as the output contract's document (``schemas/apply.schema.json``)."""
    return ApplyReport(
        run_id=result.run_id,
        plan_id=result.plan.plan_id,
        counts=OutcomeCounts(**counts(result)),
        cancelled_by=(
            signal.Signals(result.cancelled_by).name if result.cancelled_by is not None else None
        ),
        journal_complete=result.journal_complete,
        journal_problems=dict(sorted(result.journal_problems.items())),
        notes={t.name: tuple(t.notes) for t in result.plan.tenants if t.notes},
        operations=tuple(
            OperationResult(
                id=op.id,
                tenant=op.tenant,
                kind=op.kind.value,
                target=op.target,
                fingerprint=op.fingerprint,
                **result.outcomes[op.id].model_dump(by_alias=False),
            )
            for op in result.plan.operations
            if op.id in result.outcomes
        ),
    )


def render_apply_json(result: ApplyResult) -> str:
    """``apply --out``: the document with its keys sorted, as the plan file is written."""
    data = apply_report(result).model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"

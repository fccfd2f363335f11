"""``tenantctl history``: the runs in the journal, or one run's operations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import click

from controller.apply import DEFAULT_JOURNAL, Journal, OperationRecord, OutcomeStatus, RunRecord
from controller.cli.options import format_option
from controller.cli.terminal import Terminal
from controller.errors import UsageError

EPILOG = """\b
Examples:
  tenantctl history
  tenantctl history --run 3
  tenantctl history --journal ci/journal.sqlite --format json
"""

INTERRUPTED = "INTERRUPTED"


@click.command(epilog=EPILOG)
@click.option("--run", "run_id", type=int, default=None, help="Show this run's operations.")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_JOURNAL,
    show_default=True,
    help="The journal database.",
)
@format_option
@click.pass_obj
def history(terminal: Terminal, run_id: int | None, journal_path: Path, output_format: str) -> None:
    """Show what apply did: every run, or with --run one run's operations.

    An operation marked INTERRUPTED was started and never finished: the run was killed during
    the call. Re-running apply converges; it observes the tenant again rather than trusting
    the journal.
    """
    if not journal_path.exists():
        if run_id is not None:
            raise UsageError(f"no journal at {journal_path}; point --journal at apply's journal")
        if output_format == "json":
            terminal.out(json.dumps({"runs": []}, indent=2))
        else:
            terminal.out(f"no runs recorded (no journal at {journal_path})")
        return
    with Journal.open(journal_path, create=False) as journal:
        if run_id is None:
            _show_runs(terminal, journal.runs(), output_format)
            return
        run = journal.run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id} in {journal_path}; `tenantctl history` lists them")
        _show_run(terminal, run, journal.operations(run_id), output_format)


def _show_runs(terminal: Terminal, runs: Sequence[RunRecord], output_format: str) -> None:
    if output_format == "json":
        terminal.out(json.dumps({"runs": [asdict(r) for r in runs]}, indent=2))
        return
    if not runs:
        terminal.out("no runs recorded")
        return
    rows = [["RUN", "STARTED", "FINISHED", "STATUS", "COMMAND", "PLAN", "BY", "OPERATIONS"]]
    for run in runs:
        count = str(run.operations)
        if run.interrupted:
            count += f" ({run.interrupted} interrupted)"
        rows.append(
            [
                str(run.id),
                _seconds(run.started_at),
                _seconds(run.finished_at),
                "unfinished" if run.unfinished else run.status,
                run.command,
                (run.plan_id or "-")[:8],
                _who(run),
                count,
            ]
        )
    _table(terminal, rows)


def _show_run(
    terminal: Terminal, run: RunRecord, operations: Sequence[OperationRecord], output_format: str
) -> None:
    if output_format == "json":
        body = {
            "run": asdict(run),
            "operations": [{**asdict(o), "interrupted": o.interrupted} for o in operations],
        }
        terminal.out(json.dumps(body, indent=2))
        return
    state = "unfinished" if run.unfinished else f"{run.status} at {_seconds(run.finished_at)}"
    terminal.out(
        f"run {run.id}: {run.command}, plan {(run.plan_id or '-')[:8]}, by {_who(run)}, "
        f"started {_seconds(run.started_at)}, {state}"
    )
    if not operations:
        terminal.out("no operations recorded")
        return
    rows = [["STATUS", "TENANT", "KIND", "TARGET", "FINGERPRINT", "DURATION", "DETAIL"]]
    for op in operations:
        rows.append(
            [
                _status(op),
                op.tenant,
                op.kind,
                op.target,
                op.fingerprint[:12],
                f"{op.duration_ms}ms" if op.duration_ms is not None else "-",
                _detail(op),
            ]
        )
    _table(terminal, rows)
    interrupted = sum(1 for op in operations if op.interrupted)
    if interrupted:
        terminal.out(
            f"{interrupted} interrupted: the run stopped during the call; re-run apply to "
            "converge (it observes the tenant again)"
        )


def _status(op: OperationRecord) -> str:
    if op.interrupted:
        return INTERRUPTED
    if op.status is OutcomeStatus.HELD and op.hold:
        return f"held: {op.hold}"
    return op.status or "-"


def _detail(op: OperationRecord) -> str:
    if op.interrupted:
        return f"started {_seconds(op.intent_at)}, no result"
    parts = [op.error or op.detail]
    if op.request_id:
        parts.append(f"request id {op.request_id}")
    if op.approval:
        parts.append(f"approved in {op.approval}")
    return "; ".join(part for part in parts if part)


def _who(run: RunRecord) -> str:
    if run.user and run.host:
        return f"{run.user}@{run.host}"
    return run.user or run.host or "-"


def _seconds(moment: str | None) -> str:
    """``2026-11-26T09:00:01.000Z`` as ``2026-11-26T09:00:01Z``: people need no milliseconds."""
    if moment is None:
        return "-"
    head, dot, _ = moment.partition(".")
    return head + "Z" if dot else moment


def _table(terminal: Terminal, rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        terminal.out("  ".join([*cells, row[-1]]).rstrip())

"""Views of the apply journal (``tenantctl history``): the runs, or one run's operations, as
aligned text or JSON. Pure: the records in, a string out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict

from controller.apply import OperationRecord, OutcomeStatus, RunRecord
from controller.render.documents import (
    ExportedOperation,
    ExportedRun,
    HistoryReport,
    RecordedOperation,
    RunReport,
    RunSummary,
)

__all__ = [
    "INTERRUPTED",
    "export_lines",
    "history_report",
    "render_run",
    "render_runs",
    "run_report",
]

INTERRUPTED = "INTERRUPTED"


def history_report(runs: Sequence[RunRecord]) -> HistoryReport:
    """``history -o json``: every run (``schemas/history.schema.json``)."""
    return HistoryReport(runs=tuple(RunSummary(**asdict(r)) for r in runs))


def run_report(run: RunRecord, operations: Sequence[OperationRecord]) -> RunReport:
    """``history --run N -o json``: one run's operations (``schemas/history-run.schema.json``)."""
    return RunReport(
        run=RunSummary(**asdict(run)),
        operations=tuple(
            RecordedOperation(**asdict(o), interrupted=o.interrupted) for o in operations
        ),
    )


def export_lines(
    journal: str, runs: Iterable[tuple[RunRecord, Sequence[OperationRecord]]]
) -> Iterator[str]:
    """``journal export``: JSON Lines, each run followed by its operations, one compact
    object a line (``schemas/journal-export.schema.json``)."""
    for run, operations in runs:
        yield _line(ExportedRun(**asdict(run), journal=journal))
        for o in operations:
            yield _line(ExportedOperation(**asdict(o), interrupted=o.interrupted))


def _line(document: ExportedRun | ExportedOperation) -> str:
    data = document.model_dump(mode="json", by_alias=True)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def render_runs(runs: Sequence[RunRecord]) -> str:
    """One line per run: when, its status, command, plan, who, and its operations."""
    if not runs:
        return "no runs recorded"
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
    return _table(rows)


def render_run(run: RunRecord, operations: Sequence[OperationRecord]) -> str:
    """One run's operations in the order they started; INTERRUPTED marks a call that was
    started and never finished."""
    state = "unfinished" if run.unfinished else f"{run.status} at {_seconds(run.finished_at)}"
    header = (
        f"run {run.id}: {run.command}, plan {(run.plan_id or '-')[:8]}, by {_who(run)}, "
        f"started {_seconds(run.started_at)}, {state}"
    )
    if not operations:
        return f"{header}\nno operations recorded"
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
    lines = [header, _table(rows)]
    interrupted = sum(1 for op in operations if op.interrupted)
    if interrupted:
        lines.append(
            f"{interrupted} interrupted: the run stopped during the call; re-run apply to "
            "converge (it observes the tenant again)"
        )
    return "\n".join(lines)


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
    # A service error's message names its request id already ("... (request id X)").
    if op.request_id and op.request_id not in parts[0]:
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


def _table(rows: Sequence[Sequence[str]]) -> str:
    """Aligned columns; the last one is left as long as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)

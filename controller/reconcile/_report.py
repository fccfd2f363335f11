"""A report run: gather the estate -> read the journal -> render the pages -> write them whole.

The estate comes from one of two places:

- a plan run of its own (:func:`plan_run`, reads only), when no saved observation is given;
- saved observations (``plan --observations FILE``, one per shard), so that the report can be
  built later and elsewhere (a CI job holding only artifacts) without credentials, without
  the desired state and without observing anything again.

Each tenant's last apply comes from the journal when there is one. The pages replace an
earlier report in the same directory, never a directory of someone else's files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from controller.apply import Journal, OperationRecord, RunRecord
from controller.apply.journal import JournalLocation, journal_exists
from controller.collector import collector_paused
from controller.concurrency import TENANTS_AT_ONCE
from controller.errors import UsageError
from controller.files import PRIVATE, check_replaceable, write_directory
from controller.models import DesiredState
from controller.models.declared import estate_declarations
from controller.reconcile._outputs import Delivered, Run
from controller.reconcile._plan import plan_run
from controller.reconcile._world import Where
from controller.regular_files import MIB, FileRefused, read_regular
from controller.render.observations import SavedObservations, saved_observations
from controller.render.report import Estate, LastApply, render_report

REPORT_MARKER = ".tenantctl-report"
# A saved observation of 1,000 tenants x 100 users is about 40 MiB.
MAX_OBSERVATIONS_BYTES = 2048 * MIB


@dataclass(frozen=True)
class ReportResult:
    directory: Path
    pages: int
    tenants: int


def report_run(
    directory: Path,
    *,
    state: DesiredState | None = None,
    where: Where | None = None,
    observations: Sequence[Path] = (),
    journal: Path | JournalLocation | None = None,
    concurrency: int = TENANTS_AT_ONCE,
    on_observed: Callable[[str], None] | None = None,
) -> Run[ReportResult]:
    """Write the estate report into ``directory``: from ``observations`` when given, else
    from a plan run of ``state`` against ``where``."""
    check_replaceable(directory, REPORT_MARKER)  # before minutes of observing, not after
    notes: tuple[str, ...] = ()
    saved: list[SavedObservations] = []
    if not observations:
        if state is None:
            raise UsageError("a report needs the desired state or saved observations")
        run = plan_run(
            state,
            where or Where(),
            concurrency=concurrency,
            on_observed=on_observed,
            journal=journal,  # creates a killed apply left unanswered, as plan looks them up
        )
        notes = run.notes
        declared = estate_declarations(state)
        saved = [saved_observations(run.result.plan, run.result.observed, declared)]
    # One pause for reading, rendering and writing: each resume costs a full collection.
    with collector_paused():
        saved += [read_observations(path) for path in observations]
        estate = Estate(
            plans=[s.plan for s in saved],
            tenants=[tenant for s in saved for tenant in s.tenants],
            applies=last_applies(journal) if journal is not None else {},
        )
        _refuse_duplicates(estate)
        pages = render_report(estate)
        write_directory(directory, pages, mode=PRIVATE, marker=REPORT_MARKER)
    return Run(
        ReportResult(directory, len(pages), len(estate.tenants)),
        Delivered(written=(directory,)),
        notes,
    )


def read_observations(path: Path) -> SavedObservations:
    """A saved observation file, bounded and regular; what is wrong with it, never its text."""
    try:
        raw = read_regular(path, limit=MAX_OBSERVATIONS_BYTES)
    except FileRefused as refused:
        raise UsageError(f"{path}: {refused}") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None
    try:
        return SavedObservations.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise UsageError(
            f"{path} is not a saved observation of this tenantctl (plan --observations "
            f"writes one): {where}: {first['msg']}"
        ) from None


def _refuse_duplicates(estate: Estate) -> None:
    seen = Counter(t.observed.name for t in estate.tenants)
    twice = sorted(name for name, count in seen.items() if count > 1)
    if twice:
        raise UsageError(
            f"tenants saved in more than one observation file: {', '.join(twice)}; give each "
            "shard's file once"
        )


def last_applies(where: Path | JournalLocation) -> dict[str, LastApply]:
    """Each tenant's most recent apply run in the journal at ``where`` (a SQLite file or a
    shared PostgreSQL journal; none without one)."""
    location = JournalLocation.of(where)
    if not journal_exists(location):
        return {}
    found: dict[str, LastApply] = {}
    with Journal.open(location, create=False) as journal:
        for run in reversed(journal.runs()):
            if run.command != "apply":
                continue
            by_tenant: dict[str, list[OperationRecord]] = {}
            for op in journal.operations(run.id):
                by_tenant.setdefault(op.tenant, []).append(op)
            for tenant, ops in by_tenant.items():
                found.setdefault(tenant, _last_apply(run, ops))
    return found


def _last_apply(run: RunRecord, ops: Sequence[OperationRecord]) -> LastApply:
    statuses = Counter(op.status.value for op in ops if op.status is not None)
    return LastApply(
        run_id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status="unfinished" if run.unfinished else run.status.value,
        succeeded=statuses["succeeded"],
        failed=statuses["failed"],
        held=statuses["held"],
        interrupted=sum(1 for op in ops if op.interrupted),
    )

"""An apply run: take the journal's lock -> open the world -> read partner facts -> observe
-> plan -> policy -> (interactive approval) -> gate -> execute, journaled -> outputs.

The ``apply`` command calls :func:`apply_run` and the integration tests :func:`apply_estate`
(the same steps on a world they opened), so what is tested is what runs. SIGTERM and SIGINT
cancel a run gracefully (:mod:`controller.reconcile._cancel`): the outputs are written all the
same, and the result carries the signal for the exit status.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from controller import event_loop
from controller.apply import HoldReason, Journal, Outcome, RunStatus, SecretSink, gate
from controller.apply.engine import ApplyEngine, ApplyResult
from controller.apply.journal import JournalLocation
from controller.apply.lock import DEFAULT_LOCK_TIMEOUT, apply_lock
from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Connections
from controller.errors import JournalError
from controller.gitops import summarize, tenant_outcomes
from controller.models import DesiredState, Guards
from controller.plan import Operation, Plan
from controller.policy import ApprovalSet, load_approvals
from controller.policy.approvals import operator_now
from controller.reconcile._approval import InteractiveApproval
from controller.reconcile._cancel import Cancellation, RunCancelled
from controller.reconcile._outputs import Delivered, Outputs, Run, notify, write_output
from controller.reconcile._plan import earlier_creates_of, observe_and_plan
from controller.reconcile._sink import secret_sink
from controller.reconcile._world import Where, World, open_world
from controller.render.apply import render_apply_json, render_apply_markdown


def apply_run(
    state: DesiredState,
    where: Where,
    *,
    approvals_dir: Path,
    journal: Path | JournalLocation,
    user: str,
    concurrency: int = TENANTS_AT_ONCE,
    raise_guards: Guards | None = None,
    interactive: InteractiveApproval | None = None,
    on_observed: Callable[[str], None] | None = None,
    on_outcome: Callable[[Operation, Outcome], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_execute: Callable[[int], None] | None = None,
    outputs: Outputs | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    cancellation: Cancellation | None = None,
) -> Run[ApplyResult]:
    """Apply ``state`` to the world ``where`` points at: only what policy allows or an
    unexpired approval under ``approvals_dir`` names, journaled in ``journal`` (a SQLite
    file's path, or a location), while holding the apply lock: the journal's, or with a
    PostgreSQL journal each selected tenant's (waiting up to ``lock_timeout`` seconds for
    another apply).

    Approvals are judged in operator time, the clock ``approve`` stamps them with; the plan and
    the journal in service time (with ``--sandbox``, the sandbox's virtual clock).
    ``on_execute`` hears how many operations get an outcome, once, before the first."""
    cancellation = cancellation or Cancellation()
    with cancellation.installed():
        if cancellation.signum is not None:
            raise RunCancelled(cancellation.signum)
        location = JournalLocation.of(journal)
        tenants = [t.metadata.name for t in state.tenants]
        with apply_lock(location, tenants=tenants, timeout=lock_timeout):
            result, notes = _apply_locked(
                state,
                where,
                approvals_dir=approvals_dir,
                journal=location,
                user=user,
                concurrency=concurrency,
                raise_guards=raise_guards,
                interactive=interactive,
                on_observed=on_observed,
                on_outcome=on_outcome,
                on_execute=on_execute,
                warn=on_warning or (lambda _: None),
                cancellation=cancellation,
            )
        return Run(result, deliver_apply(result, outputs or Outputs()), notes)


def _apply_locked(
    state: DesiredState,
    where: Where,
    *,
    approvals_dir: Path,
    journal: JournalLocation,
    user: str,
    concurrency: int,
    raise_guards: Guards | None,
    interactive: InteractiveApproval | None,
    on_observed: Callable[[str], None] | None,
    on_outcome: Callable[[Operation, Outcome], None] | None,
    on_execute: Callable[[int], None] | None,
    warn: Callable[[str], None],
    cancellation: Cancellation,
) -> tuple[ApplyResult, tuple[str, ...]]:
    """The run once the lock is held; the result, and the world's notes for the operator."""
    policy = state.msp.spec.policy
    approvals = load_approvals(approvals_dir, operator_now(), policy=policy)
    for stored, why in approvals.ignored:
        warn(f"approval {stored.path.name} not honoured: {why}")
    if interactive is not None and policy.require_signed_approvals:
        # A "yes" at the terminal is not signed: it cannot stand in for an approval.
        warn("not asking: msp.yaml requires signed approvals (approve --sign-with)")
        interactive = None
    with open_world(state.msp, where, state.tenants) as world:
        sink = secret_sink(state.msp, world)

        async def run() -> ApplyResult:
            async with Connections(world.settings) as connections:
                with Journal.open(journal, clock=world.now) as opened:
                    return await apply_estate(
                        state,
                        world,
                        approvals=approvals,
                        journal=opened,
                        sink=sink,
                        connections=connections,
                        concurrency=concurrency,
                        raise_guards=raise_guards,
                        user=user,
                        interactive=interactive,
                        on_observed=on_observed,
                        on_outcome=on_outcome,
                        on_execute=on_execute,
                        cancellation=cancellation,
                    )

        try:
            return event_loop.run(run()), tuple(world.notes)
        except asyncio.CancelledError:
            # The deadline passed before any operation could start (still observing).
            raise RunCancelled(cancellation.signum or signal.SIGTERM) from None


async def apply_estate(
    state: DesiredState,
    world: World,
    *,
    approvals: ApprovalSet,
    journal: Journal,
    sink: SecretSink,
    connections: Connections,
    concurrency: int = TENANTS_AT_ONCE,
    raise_guards: Guards | None = None,
    user: str | None = None,
    interactive: InteractiveApproval | None = None,
    on_observed: Callable[[str], None] | None = None,
    on_outcome: Callable[[Operation, Outcome], None] | None = None,
    on_execute: Callable[[int], None] | None = None,
    cancellation: Cancellation | None = None,
    command: str = "apply",
) -> ApplyResult:
    """The steps after the world is open: plan as ``plan`` does, let a person approve at the
    terminal (in operator time), hold what may not run, execute the rest, journal the run
    (as ``command``: ``apply``, or ``controller`` for a controller's cycle)."""
    cancellation = cancellation or Cancellation()
    main = asyncio.current_task()
    if main is not None:
        cancellation.attach(main.cancel)  # while observing, the deadline ends the run
    planned = await observe_and_plan(
        state,
        world,
        concurrency=concurrency,
        raise_guards=raise_guards,
        on_observed=on_observed,
        connections=connections,
        earlier_creates=earlier_creates_of(journal),
    )
    plan = planned.plan
    if interactive is not None and plan.has_changes and not cancellation.requested:
        with cancellation.prompting():
            approvals = interactive.approve(plan, approvals, operator_now())
    gated = gate(plan, approvals)
    if on_execute is not None:
        on_execute(len(plan.operations))  # every operation gets an outcome, held or not
    try:
        run_id = journal.start_run(command, plan.plan_id, host=socket.gethostname(), user=user)
    except JournalError as problem:
        cancellation.detach()
        return _not_journaled(plan, problem, on_outcome)
    engine = ApplyEngine(
        connections,
        journal=journal,
        sink=sink,
        approvals=approvals,
        now=world.now(),
        concurrency=concurrency,
        on_outcome=on_outcome,
        cancelled=lambda: cancellation.requested,
    )
    cancellation.attach(engine.interrupt)  # from now on the deadline stops the calls only
    try:
        result = await engine.apply(plan, gated, run_id)
    finally:
        cancellation.detach()
    result.cancelled_by = cancellation.signum
    status = (
        RunStatus.CANCELLED
        if cancellation.requested
        else RunStatus.FAILED
        if result.failed
        else RunStatus.SUCCEEDED
    )
    try:
        journal.finish_run(run_id, status)
    except JournalError as problem:
        result.journal_problems[""] = str(problem)
    return result


def _not_journaled(
    plan: Plan,
    problem: JournalError,
    on_outcome: Callable[[Operation, Outcome], None] | None,
) -> ApplyResult:
    """The result of a run whose start the journal could not record: nothing is called that
    the journal did not record first, so every operation is held, tenant by tenant."""
    result = ApplyResult(0, plan, journal_problems={"": str(problem)})
    for tenant in plan.tenants:
        if tenant.operations:
            result.journal_problems[tenant.name] = str(problem)
        for op in tenant.operations:
            outcome = Outcome.held(HoldReason.JOURNAL, f"not run: {problem}")
            result.outcomes[op.id] = outcome
            if on_outcome is not None:
                on_outcome(op, outcome)
    return result


def deliver_apply(result: ApplyResult, outputs: Outputs) -> Delivered:
    """Write the results' files and send their summary; what was written and what went
    wrong."""
    written: list[Path] = []
    if outputs.json is not None:
        written.append(write_output(outputs.json, render_apply_json(result)))
    if outputs.markdown is not None:
        written.append(write_output(outputs.markdown, render_apply_markdown(result)))
    warnings = notify(
        outputs.webhook,
        lambda: summarize(
            result.plan,
            tenant_outcomes(result.plan, result.outcomes),
            mode="apply",
            shard=outputs.shard,
        ),
    )
    return Delivered(tuple(written), warnings)

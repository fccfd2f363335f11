"""An apply run: open the world -> read partner facts -> observe -> plan -> policy ->
(interactive approval) -> gate -> execute, journaled -> outputs.

The ``apply`` command calls :func:`apply_run` and the integration tests :func:`apply_estate`
(the same steps on a world they opened), so what is tested is what runs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from controller import event_loop
from controller.apply import Journal, Outcome, RunStatus, SecretSink, gate
from controller.apply.engine import ApplyEngine, ApplyResult
from controller.connectors import Connections
from controller.gitops import summarize, tenant_outcomes
from controller.models import DesiredState, Guards
from controller.models.observed import ObservedTenant
from controller.plan import Operation
from controller.policy import ApprovalSet, load_approvals
from controller.policy.approvals import operator_now
from controller.reconcile._approval import InteractiveApproval
from controller.reconcile._outputs import Delivered, Outputs, Run, notify, write_output
from controller.reconcile._plan import observe_and_plan
from controller.reconcile._world import Where, World, open_world
from controller.render.apply import render_apply_json, render_apply_markdown


def apply_run(
    state: DesiredState,
    where: Where,
    *,
    approvals_dir: Path,
    journal_path: Path,
    user: str,
    concurrency: int = 16,
    raise_guards: Guards | None = None,
    interactive: InteractiveApproval | None = None,
    on_observed: Callable[[ObservedTenant], None] | None = None,
    on_outcome: Callable[[Operation, Outcome], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    outputs: Outputs | None = None,
) -> Run[ApplyResult]:
    """Apply ``state`` to the world ``where`` points at: only what policy allows or an
    unexpired approval under ``approvals_dir`` names, journaled in ``journal_path``.

    Approvals are judged in operator time, the clock ``approve`` stamps them with; the plan in
    service time (with ``--sandbox``, the sandbox's virtual clock)."""
    warn = on_warning or (lambda _: None)
    policy = state.msp.spec.policy
    approvals = load_approvals(approvals_dir, operator_now(), policy=policy)
    for stored, why in approvals.ignored:
        warn(f"approval {stored.path.name} not honoured: {why}")
    if interactive is not None and policy.require_signed_approvals:
        # A "yes" at the terminal is not signed: it cannot stand in for an approval.
        warn("not asking: msp.yaml requires signed approvals (approve --sign-with)")
        interactive = None
    with open_world(state.msp, where) as world:
        sink = SecretSink(Path(state.msp.spec.secret_sink.directory).expanduser())

        async def run() -> ApplyResult:
            async with Connections(world.settings) as connections:
                with Journal.open(journal_path) as journal:
                    return await apply_estate(
                        state,
                        world,
                        approvals=approvals,
                        journal=journal,
                        sink=sink,
                        connections=connections,
                        concurrency=concurrency,
                        raise_guards=raise_guards,
                        user=user,
                        interactive=interactive,
                        on_observed=on_observed,
                        on_outcome=on_outcome,
                    )

        result = event_loop.run(run())
    return Run(result, deliver_apply(result, outputs or Outputs()))


async def apply_estate(
    state: DesiredState,
    world: World,
    *,
    approvals: ApprovalSet,
    journal: Journal,
    sink: SecretSink,
    connections: Connections,
    concurrency: int = 16,
    raise_guards: Guards | None = None,
    user: str | None = None,
    interactive: InteractiveApproval | None = None,
    on_observed: Callable[[ObservedTenant], None] | None = None,
    on_outcome: Callable[[Operation, Outcome], None] | None = None,
) -> ApplyResult:
    """The steps after the world is open: plan as ``plan`` does, let a person approve at the
    terminal (in operator time), hold what may not run, execute the rest, journal the run."""
    planned = await observe_and_plan(
        state,
        world,
        concurrency=concurrency,
        raise_guards=raise_guards,
        on_observed=on_observed,
        connections=connections,
    )
    plan = planned.plan
    if interactive is not None and plan.has_changes:
        approvals = interactive.approve(plan, approvals, operator_now())
    gated = gate(plan, approvals)
    run_id = journal.start_run("apply", plan.plan_id, host=socket.gethostname(), user=user)
    engine = ApplyEngine(
        connections,
        journal=journal,
        sink=sink,
        approvals=approvals,
        now=world.now(),
        concurrency=concurrency,
        on_outcome=on_outcome,
    )
    result = await engine.apply(plan, gated, run_id)
    journal.finish_run(run_id, RunStatus.FAILED if result.failed else RunStatus.SUCCEEDED)
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

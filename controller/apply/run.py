"""One apply run over an estate: observe -> plan -> policy -> gate -> execute, journaled.

The ``apply`` command and the integration tests both call :func:`apply_estate`, so what is
tested is what runs.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from controller.apply.engine import ApplyEngine, ApplyResult
from controller.apply.journal import Journal, RunStatus
from controller.apply.outcomes import Outcome, gate
from controller.apply.secret_sink import SecretSink
from controller.connectors import Connections
from controller.models import DesiredState, Guards
from controller.models.observed import ObservedTenant
from controller.pipeline import observe_and_plan
from controller.plan import Operation, Plan
from controller.policy import ApprovalSet
from controller.runtime import World

Confirm = Callable[[Plan, ApprovalSet], ApprovalSet]


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
    confirm: Confirm | None = None,
    on_observed: Callable[[ObservedTenant], None] | None = None,
    on_outcome: Callable[[Operation, Outcome], None] | None = None,
) -> ApplyResult:
    planned = await observe_and_plan(
        state,
        world,
        concurrency=concurrency,
        raise_guards=raise_guards,
        on_observed=on_observed,
        connections=connections,
    )
    plan = planned.plan
    if confirm is not None and plan.has_changes:
        approvals = confirm(plan, approvals)
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

"""The apply engine: execute exactly the operations the gate lets through, in dependency
order, one tenant per task, recording an outcome for every operation.

Per tenant it is a straight line: for each operation in dependency order — held by the gate?
record why; a dependency did not succeed in this run? blocked; else journal the intent, call
the executor, journal the result. No exception escapes an operation: it becomes an
:class:`Outcome`. One tenant's failure never stops another.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from controller.apply.executors import EXECUTORS
from controller.apply.journal import Journal
from controller.apply.outcomes import Outcome, OutcomeStatus
from controller.apply.secret_sink import SecretSink
from controller.apply.session import TenantSession
from controller.connectors import Connections
from controller.errors import (
    NeedsHuman,
    PropagationPending,
    ServiceError,
    TemporaryError,
    TenantctlError,
)
from controller.plan import ExitStatus, Operation, Plan, TenantPlan
from controller.policy import ApprovalSet


@dataclass
class ApplyResult:
    run_id: int
    plan: Plan
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def of(self, status: OutcomeStatus) -> list[str]:
        return [op_id for op_id, o in self.outcomes.items() if o.status is status]

    @property
    def failed(self) -> bool:
        return any(o.status is OutcomeStatus.FAILED for o in self.outcomes.values())

    @property
    def unobserved(self) -> tuple[str, ...]:
        """Tenants apply could not observe at all: nothing could be done there."""
        return tuple(t.name for t in self.plan.tenants if t.observation == "failed")

    @property
    def exit_status(self) -> ExitStatus:
        """``ERROR`` (1) when an operation failed, a tenant could not be observed, or the plan
        itself is an error (a failed connection check, a problem, a policy failure);
        ``CHANGES`` (2) when work is left (held operations, manual steps, unknown areas);
        ``MATCHES`` (0) only when every tenant was seen and everything planned was done."""
        plan = self.plan
        if self.failed or self.unobserved or plan.errored or not plan.policy_ok:
            return ExitStatus.ERROR
        done = all(
            self.outcomes.get(op.id) is not None
            and self.outcomes[op.id].status is OutcomeStatus.SUCCEEDED
            for op in plan.operations
        )
        if not done or not plan.complete:
            return ExitStatus.CHANGES
        return ExitStatus.MATCHES


def dependency_order(operations: Sequence[Operation]) -> list[Operation]:
    """Operations with every dependency first, otherwise in plan order (stable)."""
    by_id = {op.id: op for op in operations}
    placed: set[str] = set()
    ordered: list[Operation] = []

    def place(op: Operation, path: frozenset[str]) -> None:
        if op.id in placed or op.id in path:
            return  # a cycle is left to the gate, which holds it as blocked
        for dependency in op.depends_on:
            if dependency in by_id:
                place(by_id[dependency], path | {op.id})
        placed.add(op.id)
        ordered.append(op)

    for op in operations:
        place(op, frozenset())
    return ordered


class ApplyEngine:
    def __init__(
        self,
        connections: Connections,
        *,
        journal: Journal,
        sink: SecretSink,
        approvals: ApprovalSet,
        now: dt.datetime,
        concurrency: int = 8,
        on_outcome: Callable[[Operation, Outcome], None] | None = None,
    ) -> None:
        self.connections = connections
        self.journal = journal
        self.sink = sink
        self.approvals = approvals
        self.now = now
        self.concurrency = concurrency
        self.on_outcome = on_outcome

    async def apply(
        self, plan: Plan, gated: Mapping[str, Outcome | None], run_id: int
    ) -> ApplyResult:
        result = ApplyResult(run_id, plan)
        bound = asyncio.Semaphore(self.concurrency)

        async def tenant(tp: TenantPlan) -> dict[str, Outcome]:
            async with bound:
                return await self.apply_tenant(tp, gated, run_id)

        for outcomes in await asyncio.gather(*(tenant(t) for t in plan.tenants if t.operations)):
            result.outcomes.update(outcomes)
        return result

    async def apply_tenant(
        self, tp: TenantPlan, gated: Mapping[str, Outcome | None], run_id: int
    ) -> dict[str, Outcome]:
        session = TenantSession.of(
            tp, self.connections, sink=self.sink, now=self.now, run_id=run_id
        )
        by_id = {op.id: op for op in tp.operations}
        outcomes: dict[str, Outcome] = {}
        for op in dependency_order(tp.operations):
            held = gated.get(op.id)
            if held is None:
                held = self._blocked_by(op, by_id, outcomes)
            if held is not None:
                outcomes[op.id] = held
                self.journal.held(run_id, op, held)
            else:
                outcomes[op.id] = await self._execute(session, op, run_id)
            if self.on_outcome is not None:
                self.on_outcome(op, outcomes[op.id])
        return outcomes

    @staticmethod
    def _blocked_by(
        op: Operation, by_id: Mapping[str, Operation], outcomes: Mapping[str, Outcome]
    ) -> Outcome | None:
        for dependency in op.depends_on:
            done = outcomes.get(dependency)
            if done is not None and not done.lets_dependents_run:
                return Outcome.blocked(by_id[dependency], done)
        return None

    async def _execute(self, session: TenantSession, op: Operation, run_id: int) -> Outcome:
        stored = self.approvals.lookup_stored(op.fingerprint)
        approval = stored.label if stored is not None else None
        self.journal.intent(run_id, op, approval=approval)
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        executor = EXECUTORS.get(op.kind)
        try:
            if executor is None:
                raise NeedsHuman(
                    f"no executor for {op.kind.value}", service="graph", tenant=op.tenant_id
                )
            done = await executor(session, op)
            if isinstance(done, Outcome):
                outcome = done
            else:
                outcome = Outcome.succeeded(duration_ms=elapsed(), approval=approval, detail=done)
        except PropagationPending as error:
            # The service has not caught up yet: a write not visible yet, or Exchange refusing
            # the app while its role propagates (the connectors say which). A re-run finds the
            # write in place, or makes it.
            outcome = Outcome.propagating(
                error, duration_ms=elapsed(), detail=f"{error.message}; run apply again later"
            )
        except (TemporaryError, ServiceError, TenantctlError) as error:
            outcome = Outcome.failed(error, duration_ms=elapsed(), approval=approval)
        except Exception as error:  # a bug must not stop the other operations and tenants
            outcome = Outcome.failed(
                f"internal error: {type(error).__name__}: {error}",
                duration_ms=elapsed(),
                approval=approval,
            )
        self.journal.result(run_id, op.id, outcome)
        return outcome

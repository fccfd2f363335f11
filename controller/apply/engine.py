"""The apply engine: execute exactly the operations the gate lets through, in dependency
order, one tenant per task, recording an outcome for every operation.

Per tenant it is a straight line: for each operation in dependency order — the run was
cancelled? held as ``cancelled``; held by the gate? record why; a dependency did not succeed in
this run? blocked; else journal the intent, call the executor, journal the result. No
exception escapes an operation: it becomes an :class:`Outcome`. One tenant's failure never
stops another.

The journal is what makes a re-run safe, so nothing is called that it did not record first: a
journal write that fails (:class:`~controller.errors.JournalError`: locked, full, read-only)
stops that tenant. The operation it was recording is reported with the journal's message, the
tenant's later operations are held as ``journal``, other tenants go on, and the result says
the journal is incomplete (:attr:`ApplyResult.journal_problems`).

Cancellation (SIGTERM, SIGINT) is cooperative: once ``cancelled()`` says so no operation is
started; the ones in flight finish and are journaled. :meth:`ApplyEngine.interrupt` (the
deadline passed) cancels the calls still in flight: their intents stay without a result, as a
killed run's would, and the next plan treats them as such.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controller.apply.executors import EXECUTORS
from controller.apply.journal import Journal
from controller.apply.outcomes import HoldReason, Outcome, OutcomeStatus
from controller.apply.secret_sink import SecretSink
from controller.apply.session import TenantSession
from controller.connectors import Connections
from controller.errors import (
    JournalError,
    NeedsHuman,
    PropagationPending,
    SecretNotStored,
    ServiceError,
    TemporaryError,
    TenantctlError,
)
from controller.event_loop import gather_or_cancel
from controller.plan import ExitStatus, Operation, Plan, TenantPlan
from controller.policy import ApprovalSet

#: A signal's exit status, as a shell reports a process it ended (128 + the signal).
_SIGNAL_EXIT = {2: ExitStatus.INTERRUPTED, 15: ExitStatus.TERMINATED}


@dataclass
class ApplyResult:
    """What a run did. ``journal_problems``: per tenant (``""`` for the run itself), why the
    journal does not hold all of it. ``cancelled_by``: the signal that cancelled the run."""

    run_id: int
    plan: Plan
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    journal_problems: dict[str, str] = field(default_factory=dict)
    cancelled_by: int | None = None

    def of(self, status: OutcomeStatus) -> list[str]:
        return [op_id for op_id, o in self.outcomes.items() if o.status is status]

    @property
    def failed(self) -> bool:
        return any(o.status is OutcomeStatus.FAILED for o in self.outcomes.values())

    @property
    def journal_complete(self) -> bool:
        return not self.journal_problems

    @property
    def unobserved(self) -> tuple[str, ...]:
        """Tenants apply could not observe at all: nothing could be done there."""
        return tuple(t.name for t in self.plan.tenants if t.observation == "failed")

    @property
    def exit_status(self) -> ExitStatus:
        """``INTERRUPTED`` (130) / ``TERMINATED`` (143) when SIGINT / SIGTERM cancelled the
        run; ``ERROR`` (1) when an operation failed, the journal could not record the run, a
        tenant could not be observed, or the plan itself is an error (a failed connection
        check, a problem, a policy failure); ``CHANGES`` (2) when work is left (held
        operations, manual steps, unknown areas); ``MATCHES`` (0) only when every tenant was
        seen and everything planned was done."""
        plan = self.plan
        if self.cancelled_by is not None:
            return _SIGNAL_EXIT.get(self.cancelled_by, ExitStatus.ERROR)
        if self.failed or self.journal_problems or self.unobserved:
            return ExitStatus.ERROR
        if plan.errored or not plan.policy_ok:
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
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.connections = connections
        self.journal = journal
        self.sink = sink
        self.approvals = approvals
        self.now = now
        self.concurrency = concurrency
        self.on_outcome = on_outcome
        self.cancelled = cancelled
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._interrupted = False

    def interrupt(self) -> None:
        """Cancel the calls in flight (the cancellation deadline passed); their intents stay
        without a result, so the next plan treats them as a killed run's."""
        self._interrupted = True
        for call in list(self._in_flight):
            call.cancel()

    async def apply(
        self, plan: Plan, gated: Mapping[str, Outcome | None], run_id: int
    ) -> ApplyResult:
        result = ApplyResult(run_id, plan)
        bound = asyncio.Semaphore(self.concurrency)

        async def tenant(tp: TenantPlan) -> None:
            async with bound:
                await self.apply_tenant(tp, gated, run_id, result)

        await gather_or_cancel(*(tenant(t) for t in plan.tenants if t.operations))
        return result

    async def apply_tenant(
        self,
        tp: TenantPlan,
        gated: Mapping[str, Outcome | None],
        run_id: int,
        result: ApplyResult,
    ) -> None:
        """One tenant's operations, in dependency order, each outcome into ``result`` as it
        is known (a run cancelled at its deadline still reports what was done)."""
        session = TenantSession.of(
            tp, self.connections, sink=self.sink, now=self.now, run_id=run_id
        )
        by_id = {op.id: op for op in tp.operations}
        outcomes = result.outcomes
        for op in dependency_order(tp.operations):
            broken = result.journal_problems.get(tp.name)
            if broken is not None:
                outcome = Outcome.held(
                    HoldReason.JOURNAL, f"not run: the journal stopped recording ({broken})"
                )
            elif self.cancelled():
                outcome = self._record_held(result, tp, op, Outcome.cancelled(), run_id)
            else:
                held = gated.get(op.id) or self._blocked_by(op, by_id, outcomes)
                if held is not None:
                    outcome = self._record_held(result, tp, op, held, run_id)
                else:
                    outcome = await self._execute(session, op, run_id, result)
            outcomes[op.id] = outcome
            if self.on_outcome is not None:
                self.on_outcome(op, outcome)

    def _record_held(
        self, result: ApplyResult, tp: TenantPlan, op: Operation, held: Outcome, run_id: int
    ) -> Outcome:
        try:
            self.journal.held(run_id, op, held)
        except JournalError as problem:
            result.journal_problems[tp.name] = str(problem)
        return held

    @staticmethod
    def _blocked_by(
        op: Operation, by_id: Mapping[str, Operation], outcomes: Mapping[str, Outcome]
    ) -> Outcome | None:
        for dependency in op.depends_on:
            done = outcomes.get(dependency)
            if done is not None and not done.lets_dependents_run:
                return Outcome.blocked(by_id[dependency], done)
        return None

    async def _execute(
        self, session: TenantSession, op: Operation, run_id: int, result: ApplyResult
    ) -> Outcome:
        stored = self.approvals.lookup_stored(op.fingerprint)
        approval = stored.label if stored is not None else None
        try:
            self.journal.intent(run_id, op, approval=approval)
        except JournalError as problem:
            # Nothing is called that the journal did not record first.
            result.journal_problems[op.tenant] = str(problem)
            return Outcome.held(HoldReason.JOURNAL, f"not run: {problem}")
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        call = asyncio.ensure_future(self._call(session, op))
        self._in_flight.add(call)
        try:
            done = await call
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
            # The deadline passed during the call: whether it acted is not known. The intent
            # stays without a result, exactly what a killed run leaves.
            return Outcome.cancelled(
                "interrupted during the call when the cancellation deadline passed: it may "
                "have acted; the next plan looks before doing it again"
            )
        finally:
            self._in_flight.discard(call)
        if isinstance(done, Outcome):
            outcome = done
        elif isinstance(done, BaseException):
            outcome = self._failure(done, elapsed(), approval)
        else:
            outcome = Outcome.succeeded(duration_ms=elapsed(), approval=approval, detail=done)
        try:
            self.journal.result(run_id, op.id, outcome)
        except JournalError as problem:
            result.journal_problems[op.tenant] = str(problem)
            note = f"the journal did not record this result: {problem}"
            outcome = outcome.model_copy(
                update={"detail": f"{outcome.detail}; {note}" if outcome.detail else note}
            )
        return outcome

    @staticmethod
    async def _call(session: TenantSession, op: Operation) -> str | Outcome | BaseException:
        """The executor's detail or outcome, or the error it raised (as a value)."""
        executor = EXECUTORS.get(op.kind)
        try:
            if executor is None:
                raise NeedsHuman(
                    f"no executor for {op.kind.value}", service="graph", tenant=op.tenant_id
                )
            return await executor(session, op)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not stop the other operations and tenants
            return error

    @staticmethod
    def _failure(error: BaseException, elapsed: int, approval: str | None) -> Outcome:
        if isinstance(error, SecretNotStored):
            return Outcome.held(HoldReason.SECRET_SINK, str(error))
        if isinstance(error, PropagationPending):
            # The service has not caught up yet: a write not visible yet, or Exchange refusing
            # the app while its role propagates (the connectors say which). A re-run finds the
            # write in place, or makes it.
            return Outcome.propagating(
                error, duration_ms=elapsed, detail=f"{error.message}; run apply again later"
            )
        if isinstance(error, TemporaryError | ServiceError | TenantctlError):
            return Outcome.failed(error, duration_ms=elapsed, approval=approval)
        return Outcome.failed(
            f"internal error: {type(error).__name__}: {error}",
            duration_ms=elapsed,
            approval=approval,
        )

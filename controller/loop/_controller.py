"""``tenantctl controller``: the reconcile pipeline on a loop.

A cycle is a straight line of named steps::

    refresh the desired state ── loop/_source (git fetch + checkout, or the directory)
    read the approvals ───────── policy (unexpired records in the repository)
    pick the due tenants ─────── loop/_schedule (pure: per-tenant due times and back-off)
    take the apply lock ──────── apply/lock (a SQLite journal's whole, or each free due
                                 tenant's in a shared PostgreSQL journal)
    reconcile them ───────────── reconcile.apply_estate: observe -> plan -> policy -> gate
                                 -> execute, journaled as a ``controller`` run
    settle ───────────────────── verdicts into the schedule, state into /metrics
    notify what is new ───────── loop/_reported (drift corrected, failures, newly held work)

Between cycles the loop sleeps until the next tenant is due or the next refresh of the
desired state, whichever comes first. Time is an input: the clock and the sleep are given
(the sandbox's virtual clock and a sleep that advances it, in tests), so a test runs cycles
back to back without waiting.

Cycles never overlap, and each holds the apply lock while it reconciles, so a reconcile of a
tenant never overlaps another (nor a ``tenantctl apply`` on the same journal). A cycle that
finds a SQLite journal's lock taken tries again at the next refresh, its tenants still due;
with a shared PostgreSQL journal the lock is per tenant, so the free due tenants are
reconciled and those another apply holds stay due for the next refresh.
Within a cycle the due tenants are observed and applied concurrently under ``concurrency``.

SIGTERM and SIGINT (:class:`~controller.reconcile._cancel.Cancellation`): no operation is
started after the signal, the call in flight finishes and is journaled, the cycle's run ends
``cancelled``, its notification is sent, and the loop exits 0: for a long-running
controller, being stopped is its normal end. ``--once`` exits as ``apply`` does (143, 130).
"""

from __future__ import annotations

import asyncio
import logging
import random as random_module
import signal
from collections import Counter as Tally
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from controller.apply import Journal, OutcomeStatus
from controller.apply.engine import ApplyResult
from controller.apply.journal import JournalLocation
from controller.apply.lock import free_tenants_lock
from controller.concurrency import TENANTS_AT_ONCE
from controller.connectors import Connections, Usage
from controller.errors import (
    ApplyLocked,
    ApprovalError,
    DesiredStateError,
    JournalError,
    SecretError,
    Service,
    SourceError,
    TenantctlError,
)
from controller.gitops import Webhook, notification_payload, send_notification, summarize
from controller.gitops import tenant_outcomes as outcomes_by_tenant
from controller.loop._metrics import ControllerMetrics, ServiceUsage, TenantStatus
from controller.loop._reported import CONTROLLER_COMMAND, Reported, report_keys
from controller.loop._schedule import Schedule, Timing, Verdict, tenant_digests
from controller.loop._serve import Probe
from controller.loop._source import DesiredSource, Snapshot
from controller.models import DesiredState, MSPConfig
from controller.plan import ExitStatus, Plan, TenantPlan
from controller.policy import ApprovalSet, load_approvals
from controller.policy.approvals import operator_now
from controller.reconcile import (
    World,
    WorldFor,
    apply_estate,
    journal_location,
    local_user,
    secret_sink,
    select_tenants,
)
from controller.reconcile._cancel import Cancellation, RunCancelled

__all__ = ["Controller", "ControllerOptions", "CycleReport"]

log = logging.getLogger("tenantctl.controller")

Clock = Callable[[], float]
Sleep = Callable[[float], None]
ConnectionsFor = Callable[[World], Connections]

#: ``/healthz`` fails when the loop made no progress for this many intervals.
HEALTH_INTERVALS = 3
#: How often the desired state is checked for changes, at most (a tenant whose file changed
#: is reconciled at the next check).
DEFAULT_REFRESH = 60.0


@dataclass(frozen=True)
class ControllerOptions:
    """``journal``: ``--journal`` (a SQLite file or a PostgreSQL location); None for msp.yaml's
    shared journal when it names one, else the SQLite file of ``desired`` (as apply does; read
    again at every refresh, so a change of msp.yaml's journal reaches the next cycle)."""

    journal: Path | JournalLocation | None
    timing: Timing
    refresh: float = DEFAULT_REFRESH
    concurrency: int = TENANTS_AT_ONCE
    webhook: Webhook | None = None
    shard: str | None = None  # shown in notifications
    lock_timeout: float = 0.0
    desired: Path = Path("desired")

    def journal_at(self, msp: MSPConfig) -> JournalLocation:
        """Where this cycle journals: given, msp.yaml's shared journal, or the default file."""
        given = None if self.journal is None else JournalLocation.of(self.journal)
        return journal_location(given, msp, self.desired)


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did. ``result``: the run, when tenants were reconciled; ``problem``:
    why the cycle could not reconcile what was due (the tenants stay due)."""

    started: float
    ended: float
    reconciled: tuple[str, ...] = ()
    result: ApplyResult | None = None
    problem: str | None = None
    notified: tuple[str, ...] = ()  # tenants a notification was sent about

    @property
    def exit_status(self) -> int:
        if self.result is not None:
            return int(self.result.exit_status)
        return int(ExitStatus.ERROR if self.problem else ExitStatus.MATCHES)


@dataclass
class _Health:
    last_beat: float | None = None
    desired: str | None = "the desired state has not been read yet"
    credentials: str | None = "no connection check yet"


@dataclass
class _Notes:
    """What was last said about things that repeat every cycle, to say them once."""

    world: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default_factory=tuple)


class Controller:
    """``source``: where the desired state comes from; ``worlds``: the world for each
    ``msp.yaml`` read; ``clock`` and ``sleep``: seconds, on the world's clock;
    ``connections``: how a cycle connects (tests wait on the sandbox's clock)."""

    def __init__(
        self,
        source: DesiredSource,
        worlds: WorldFor,
        options: ControllerOptions,
        *,
        clock: Clock,
        sleep: Sleep,
        random: Callable[[], float] = random_module.random,
        cancellation: Cancellation | None = None,
        metrics: ControllerMetrics | None = None,
        connections: ConnectionsFor | None = None,
        user: str | None = None,
    ) -> None:
        self.source = source
        self.worlds = worlds
        self.options = options
        self.clock = clock
        self.sleep = sleep
        self.cancellation = cancellation or Cancellation()
        self.metrics = metrics or ControllerMetrics()
        self.schedule = Schedule(options.timing, random=random)
        self._connections = connections or (lambda world: Connections(world.settings))
        self._user = user or local_user()
        self._reported: Reported | None = None  # read from the journal at the first cycle
        self._status: dict[str, TenantStatus] = {}
        self._health = _Health()
        self._notes = _Notes()

    # -- the loop -------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> int:
        """Cycle until SIGTERM or SIGINT (then 0), or once (then the cycle's exit status:
        :attr:`CycleReport.exit_status`; its errors raised)."""
        with self.cancellation.installed():
            if once:
                return self.cycle(everything=True, strict=True).exit_status
            while not self.cancellation.requested:
                try:
                    self.cycle()
                except RunCancelled:
                    break
                if not self.cancellation.requested:
                    self.sleep(self.until_next())
        signum = self.cancellation.signum or signal.SIGTERM
        log.info("stopped by %s", signal.Signals(signum).name)
        return int(ExitStatus.MATCHES)

    def until_next(self) -> float:
        """Seconds until the next cycle: the next tenant's due time or the next refresh of
        the desired state, whichever comes first."""
        now = self.clock()
        wake = now + self.options.refresh
        due = self.schedule.next_due()
        if due is not None:
            wake = min(wake, due)
        return max(wake - now, 0.0)

    # -- one cycle ------------------------------------------------------------------------

    def cycle(self, *, everything: bool = False, strict: bool = False) -> CycleReport:
        """Refresh, pick the due tenants (``everything``: all), reconcile them, settle,
        notify. With ``strict`` a problem is raised instead of logged and waited out."""
        started = self.clock()
        self._beat()
        try:
            snapshot = self._refresh(strict)
            if snapshot is None:
                return self._end(started, problem=self._health.desired)
            approvals = self._approvals(snapshot)
            due = self._due(snapshot, approvals, everything)
            if not due or self.cancellation.requested:
                return self._end(started)
            journal = self.options.journal_at(snapshot.state.msp)
            lock = free_tenants_lock(journal, tenants=due, timeout=self.options.lock_timeout)
            with lock as elsewhere:
                # A shared journal locks per tenant: the free ones go ahead, the others stay
                # due for the next check. (A SQLite journal is all of them or ApplyLocked.)
                for name, holder in sorted(elsewhere.items()):
                    log.warning(
                        "another apply holds tenant %s: %s; trying it again at the next check",
                        name,
                        holder,
                    )
                due = tuple(name for name in due if name not in elsewhere)
                if not due:
                    return self._end(started, problem=_held_elsewhere(elsewhere))
                chosen = select_tenants(snapshot.state, due)
                log.info("reconciling %d tenant(s): %s", len(due), _names(due))
                world = self.worlds(chosen.msp, chosen.tenants)
                self._note_world(world)
                result, usage = self._reconcile(chosen, world, approvals, journal)
        except (ApplyLocked, SecretError, ApprovalError, JournalError) as problem:
            if strict:
                raise
            self._credentials_problem(problem)
            log.error("%s; trying again at the next check", problem)
            return self._end(started, problem=str(problem))
        notified = self._settle(result, usage)
        return self._end(started, reconciled=due, result=result, notified=notified)

    def _refresh(self, strict: bool) -> Snapshot | None:
        """The desired state to work from: refreshed, else the last one read."""
        try:
            snapshot = self.source.refresh()
        except (SourceError, DesiredStateError) as problem:
            if strict:
                raise
            self.metrics.refresh_failures.inc()
            detail = _problem_text(problem)
            log.error("the desired state could not be refreshed: %s", detail)
            last = self.source.last
            if last is None:
                self._health.desired = f"the desired state could not be read: {detail}"
                return None
            log.warning("working from the desired state at %s meanwhile", last.revision)
            return last
        self._health.desired = None
        if snapshot.changed:
            log.info(
                "desired state at %s: %d tenant(s)",
                snapshot.revision,
                len(snapshot.state.tenants),
            )
        return snapshot

    def _approvals(self, snapshot: Snapshot) -> ApprovalSet:
        state = snapshot.state
        approvals = load_approvals(snapshot.approvals, operator_now(), policy=state.msp.spec.policy)
        ignored = tuple(f"{s.path.name}: {why}" for s, why in approvals.ignored)
        if ignored != self._notes.ignored:
            for line in ignored:
                log.warning("approval %s, not honoured", line)
            self._notes.ignored = ignored
        return approvals

    def _due(self, snapshot: Snapshot, approvals: ApprovalSet, everything: bool) -> tuple[str, ...]:
        state = snapshot.state
        now = self.clock()
        first = self._reported is None
        changed = self.schedule.track(tenant_digests(state, approvals), now)
        names = [t.metadata.name for t in state.tenants]
        if self._reported is None:
            with Journal.open(self.options.journal_at(state.msp)) as journal:
                self._reported = Reported.from_journal(journal, names)
        self._reported.keep_only(names)
        self._status = {n: s for n, s in self._status.items() if n in self.schedule.tenants}
        if changed and not first:
            log.info("changed in git, reconciling at once: %s", _names(changed))
        self._publish()
        if everything:
            return tuple(sorted(names))
        return self.schedule.due(now)

    def _reconcile(
        self,
        chosen: DesiredState,
        world: World,
        approvals: ApprovalSet,
        journal_location: JournalLocation,
    ) -> tuple[ApplyResult, Mapping[tuple[str, Service], Usage]]:
        """Observe, plan, gate and apply the chosen tenants as one journaled run."""
        cancellation = self.cancellation
        sink = secret_sink(chosen.msp, world)  # msp.yaml's: a directory or Key Vault

        async def run() -> tuple[ApplyResult, Mapping[tuple[str, Service], Usage]]:
            async with self._connections(world) as connections:
                with Journal.open(journal_location, clock=world.now) as journal:
                    result = await apply_estate(
                        chosen,
                        world,
                        approvals=approvals,
                        journal=journal,
                        sink=sink,
                        connections=connections,
                        concurrency=self.options.concurrency,
                        user=self._user,
                        on_observed=lambda _: self._beat(),
                        on_outcome=lambda _op, _outcome: self._beat(),
                        cancellation=cancellation,
                        command=CONTROLLER_COMMAND,
                    )
                return result, connections.accounting.snapshot()

        try:
            return asyncio.run(run())
        except asyncio.CancelledError:
            # The deadline passed while observing: nothing was started, nothing journaled.
            raise RunCancelled(cancellation.signum or signal.SIGTERM) from None

    # -- settling -------------------------------------------------------------------------

    def _settle(
        self, result: ApplyResult, usage: Mapping[tuple[str, Service], Usage]
    ) -> tuple[str, ...]:
        """Verdicts into the schedule, state into the metrics and the health, what is new
        into a notification and the log; the tenants notified about."""
        plan = result.plan
        now = self.clock()
        self._credentials(plan)
        throttled = _throttled_tenants(plan, usage)
        assert self._reported is not None
        news: dict[str, frozenset[str]] = {}
        keys: dict[str, frozenset[str]] = {}
        for tenant in plan.tenants:
            name = tenant.name
            verdict = _verdict(tenant, result, throttled)
            self.schedule.reconciled(name, now, verdict)
            self._status[name] = _status(tenant, result, self._status.get(name), plan)
            keys[name] = report_keys(tenant, result.outcomes)
            new = self._reported.news(name, keys[name])
            if new:
                news[name] = new
            _log_tenant(tenant, result, new, verdict)
        self.metrics.used(_by_service(usage))
        self._publish()
        delivered = self._notify(plan, result, tuple(sorted(news)))
        for name, tenant_keys in keys.items():
            if name not in news or delivered:
                self._reported.remember(name, tenant_keys)
        sent = delivered and self.options.webhook is not None
        return tuple(sorted(news)) if sent else ()

    def _notify(self, plan: Plan, result: ApplyResult, news: tuple[str, ...]) -> bool:
        """Send the tenants with news (nothing to send counts as delivered)."""
        webhook = self.options.webhook
        if webhook is None or not news:
            return True
        subset = plan.model_copy(
            update={"tenants": tuple(t for t in plan.tenants if t.name in news)}
        )
        summary = summarize(
            subset,
            outcomes_by_tenant(subset, result.outcomes),
            mode="apply",
            shard=self.options.shard,
        )
        warning = send_notification(webhook.url, notification_payload(webhook.url, summary))
        if warning:
            self.metrics.notifications.labels("failed").inc()
            log.warning("%s; trying again after the next reconcile", warning)
            return False
        self.metrics.notifications.labels("sent").inc()
        log.info("notified %s about %s", webhook, _names(news))
        return True

    def _end(
        self,
        started: float,
        *,
        reconciled: tuple[str, ...] = (),
        result: ApplyResult | None = None,
        problem: str | None = None,
        notified: tuple[str, ...] = (),
    ) -> CycleReport:
        ended = self.clock()
        self._beat()
        self.metrics.cycle_done(ended - started, ended)
        self._publish()
        report = CycleReport(started, ended, reconciled, result, problem, notified)
        if result is not None:
            tally = Tally(o.status for o in result.outcomes.values())
            log.info(
                "cycle done in %.1f s: %d tenant(s), %d applied, %d held, %d failed",
                ended - started,
                len(reconciled),
                tally[OutcomeStatus.SUCCEEDED],
                tally[OutcomeStatus.HELD],
                tally[OutcomeStatus.FAILED],
                extra={"run_id": result.run_id, "outcome": ExitStatus(report.exit_status).name},
            )
        return report

    def _publish(self) -> None:
        timers = self.schedule.tenants
        self.metrics.set_tenants(
            {
                name: replace(
                    self._status.get(name, TenantStatus()),
                    next_reconcile=timer.due,
                    consecutive_failures=timer.failures,
                )
                for name, timer in timers.items()
            }
        )
        self.metrics.set_ready(self.ready().ok)

    # -- health ---------------------------------------------------------------------------

    def _beat(self) -> None:
        self._health.last_beat = self.clock()

    def healthy(self) -> Probe:
        """``/healthz``: the loop made progress within :data:`HEALTH_INTERVALS` intervals."""
        beat = self._health.last_beat
        window = HEALTH_INTERVALS * max(self.options.timing.interval, self.options.refresh)
        if beat is None:
            return Probe(True, "starting")
        quiet = self.clock() - beat
        if quiet > window:
            return Probe(False, f"no progress for {quiet:.0f} s (more than {window:.0f} s)")
        return Probe(True, "ok")

    def ready(self) -> Probe:
        """``/readyz``: the desired state is loaded and the last connection check passed."""
        for problem in (self._health.desired, self._health.credentials):
            if problem:
                return Probe(False, problem)
        return Probe(True, "ok")

    def _credentials(self, plan: Plan) -> None:
        failed = "; ".join(check.line() for check in plan.failed_checks)
        self._health.credentials = f"connection check failed: {failed}" if failed else None

    def _credentials_problem(self, problem: TenantctlError) -> None:
        if isinstance(problem, SecretError):
            self._health.credentials = f"credentials cannot be read: {problem}"
            self._publish()

    def _note_world(self, world: World) -> None:
        if world.notes != self._notes.world:
            for note in world.notes:
                log.warning("%s", note)
            self._notes.world = world.notes


# -- the settling step's parts --------------------------------------------------------------


def _throttled_tenants(plan: Plan, usage: Mapping[tuple[str, Service], Usage]) -> frozenset[str]:
    """The tenants a service answered 429 during the run (the accounting is by tenant id)."""
    names = {t.tenant_id.lower(): t.name for t in plan.tenants}
    return frozenset(
        names[tenant_id.lower()]
        for (tenant_id, _service), used in usage.items()
        if used.throttles and tenant_id.lower() in names
    )


def _verdict(tenant: TenantPlan, result: ApplyResult, throttled: frozenset[str]) -> Verdict:
    """Failed when the tenant could not be read at all, an object of it could not be
    planned, an operation failed or the journal stopped recording it; throttled when a
    service answered 429 (even if the retries got through); else OK. A partial observation is
    OK for the schedule (its unknown areas are metrics): retrying sooner would not help an
    Exchange role that propagates for hours."""
    failed = any(
        result.outcomes.get(op.id) is not None
        and result.outcomes[op.id].status is OutcomeStatus.FAILED
        for op in tenant.operations
    )
    if (
        tenant.observation == "failed"
        or tenant.problems
        or failed
        or tenant.name in result.journal_problems
    ):
        return Verdict.FAILED
    if tenant.name in throttled:
        return Verdict.THROTTLED
    return Verdict.OK


def _status(
    tenant: TenantPlan, result: ApplyResult, before: TenantStatus | None, plan: Plan
) -> TenantStatus:
    held: Tally[str] = Tally()
    failed = 0
    for op in tenant.operations:
        outcome = result.outcomes.get(op.id)
        if outcome is None:
            continue
        if outcome.status is OutcomeStatus.HELD and outcome.hold is not None:
            held[outcome.hold.value] += 1
        elif outcome.status is OutcomeStatus.FAILED:
            failed += 1
    observed = (
        plan.created_at.timestamp()
        if tenant.observation != "failed"
        else (before.observed_at if before is not None else None)
    )
    return TenantStatus(
        observed_at=observed,
        pending=sum(held.values()) + failed,
        held=dict(held),
        failed=failed,
        unknown_areas=len(tenant.unknown),
        findings=len(tenant.findings),
    )


def _by_service(usage: Mapping[tuple[str, Service], Usage]) -> dict[str, ServiceUsage]:
    totals: dict[str, ServiceUsage] = {}
    for (_tenant, service), used in usage.items():
        was = totals.get(service, ServiceUsage())
        totals[service] = ServiceUsage(
            requests=was.requests + used.requests,
            round_trips=was.round_trips + used.round_trips,
            throttles=was.throttles + used.throttles,
            resource_units=was.resource_units + used.resource_units,
        )
    return totals


def _log_tenant(
    tenant: TenantPlan, result: ApplyResult, new: frozenset[str], verdict: Verdict
) -> None:
    """One line per operation that did something or is newly held (held again: debug), and
    one for a tenant that could not be read or was throttled."""
    base = {"run_id": result.run_id, "tenant": tenant.name}
    if tenant.observation == "failed":
        reasons = "; ".join(f"{u.area}: {u.reason}" for u in tenant.unknown) or "not observed"
        log.warning("not observed: %s", reasons, extra={**base, "outcome": "unobserved"})
    elif verdict is Verdict.THROTTLED:
        log.warning("throttled: backing off", extra={**base, "outcome": "throttled"})
    for op in tenant.operations:
        outcome = result.outcomes.get(op.id)
        if outcome is None:
            continue
        extra = {**base, "operation": op.id, "outcome": outcome.status.value}
        what = f"{op.kind.value} {op.target}"
        if outcome.status is OutcomeStatus.SUCCEEDED:
            log.info("applied %s", what, extra=extra)
        elif outcome.status is OutcomeStatus.FAILED:
            log.warning("failed %s: %s", what, outcome.error, extra=extra)
        elif outcome.status is OutcomeStatus.HELD and outcome.hold is not None:
            level = logging.INFO if f"held:{op.fingerprint}" in new else logging.DEBUG
            log.log(
                level,
                "held (%s) %s: %s",
                outcome.hold.value,
                what,
                outcome.detail,
                extra={**extra, "hold": outcome.hold.value},
            )


def _held_elsewhere(elsewhere: Mapping[str, str]) -> str:
    """Why a cycle reconciled nothing: every due tenant is another apply's."""
    return "; ".join(f"another apply holds tenant {n}: {h}" for n, h in sorted(elsewhere.items()))


def _names(names: tuple[str, ...], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _problem_text(problem: TenantctlError) -> str:
    if isinstance(problem, DesiredStateError):
        first = problem.diagnostics[0] if problem.diagnostics else None
        return f"{problem}" + (f" (first: {first})" if first else "")
    return str(problem)

"""Observe a large estate in worker processes: every core, one event loop each.

The client is CPU-bound (about 2 ms per round trip): one process uses one core. Here the
tenants are dealt to ``workers`` processes round-robin in the desired state's order; each
opens its own :class:`~controller.connectors.Connections` (tokens, keep-alive connections),
observes its share with the same :func:`~controller.observe.observe_estate` as a single
process, and sends back each :class:`ObservedTenant` as it is done, then its accounting.
Nothing else is shared. The parent merges the observations in the desired state's order and
plans as a single process does, so the plan is byte-identical (a test proves it).

Workers are forked (a spawned one would import everything again, about a second each), so
they inherit the settings, the partner facts and the clock reading without pickling; only
their results cross a pipe, one per worker. Where ``fork`` does not exist the run stays in one
process.

With ``plan_here`` (a plan run that keeps no observations), each worker also plans the
tenants it observed, with the planner it inherited, and sends the :class:`TenantPlan`
instead of the observation. An observation of 50 users is about 10 KiB pickled; it cost the
parent 0.25 ms to unpickle and 2-3 ms to plan, where the tenant's plan is 2 KiB and 0.06 ms
(``bench/client_bench.py``, "pipe" and "planner"). The parent's core then goes to the
observation (``bench/README.md``, "The next stop: the workers plan what they observe").

A worker that dies leaves its tenants unreported: they are planned as not observed, as a
tenant whose observation failed; an error that stopped a worker's whole share is raised, and
so is an error planning one of its tenants (``tests/integration/test_plan_workers.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for_pipes
from multiprocessing.process import BaseProcess
from typing import Any

from controller import event_loop
from controller.connectors import Accounting, Connections, ConnectionSettings
from controller.connectors._msal_http import Template
from controller.models import TenantConfig
from controller.models.observed import ObservedTenant
from controller.observe import PartnerFacts, observe_estate
from controller.plan.types import TenantPlan

# Plans a tenant in the worker that observed it, or None: the parent needs the observation.
PlanHere = Callable[[ObservedTenant], TenantPlan | None]

# Below this many tenants per extra process, forking and a second set of connections
# cost more than the core they bring (bench/README.md, "Workers").
TENANTS_PER_WORKER = 100
# Requests in flight per tenant (the HTTP core's per-tenant bound): keep-alive connections per
# host are sized to tenants at once x this.
PER_TENANT = 4


def default_workers(tenants: int, cores: int | None = None) -> int:
    """One worker per ``TENANTS_PER_WORKER`` tenants, at most one per core; 1 where the
    platform cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = cores or os.cpu_count() or 1
    return max(1, min(cores, tenants // TENANTS_PER_WORKER))


async def observe_in_workers(
    tenants: Sequence[TenantConfig],
    settings: ConnectionSettings,
    *,
    workers: int,
    app_id: str,
    cipp: bool,
    now: dt.datetime,
    concurrency: int,
    partner: PartnerFacts,
    on_done: Callable[[ObservedTenant], None] | None = None,
    plan_here: PlanHere | None = None,
    on_planned: Callable[[TenantPlan], None] | None = None,
    meanwhile: Callable[[], object] | None = None,
    discovered: Mapping[str, Template] | None = None,
) -> tuple[dict[str, ObservedTenant], Accounting]:
    """Observe ``tenants`` in ``workers`` processes; ``concurrency`` is shared among them.
    ``discovered``: the OIDC discovery documents the run read already (each worker's tokens
    start from them).

    ``plan_here``: each worker plans what it observed with it (inherited by the fork) and
    sends the plan to ``on_planned``; only the observations it declines (returns None for)
    come back, to ``on_done`` and in the result. ``meanwhile``: work of the parent's that
    does not wait for the observations, done once the workers are started.

    Each worker has a pipe of its own: a worker killed in the middle of a message (the
    kernel's OOM killer, a signal) cannot leave a lock held that the others wait on, as a
    shared ``multiprocessing.Queue``'s writer lock would, and its end of the pipe closing is
    how the parent learns it is gone."""
    context = multiprocessing.get_context("fork")
    shares = [share for i in range(workers) if (share := list(tenants[i::workers]))]
    each = max(1, concurrency // workers)
    pipes = [context.Pipe(duplex=False) for _ in shares]
    # No worker starts before the last one is forked: a fork copies every lock another thread
    # holds at that moment, and a worker already at work keeps this process's threads busy
    # (its connections to an in-process sandbox, in tests). Forked while they are idle, no
    # worker can inherit a lock that nobody will ever release.
    gate = os.pipe()
    processes = [
        context.Process(
            target=_observe_share,
            args=(
                number,
                pipes,
                gate,
                _Share(
                    share, settings, app_id, cipp, now, each, partner, plan_here, discovered or {}
                ),
            ),
            name=f"tenantctl-observe-{number}",
            daemon=True,
        )
        for number, share in enumerate(shares)
    ]
    readers = [reader for reader, _ in pipes]
    started = 0
    # Each worker is born with SIGTERM blocked and unblocks it once it has dropped the
    # handler it inherited (apply's and the controller's cooperative cancellation): a
    # SIGTERM sent to stop it, even at once, stops it. Here a SIGTERM meanwhile waits for
    # the unblock, then reaches this process's handler as usual.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        for process in processes:
            process.start()
            started += 1
    except BaseException:
        # A fork failed (no memory, no process slots) or was interrupted: the workers already
        # forked still wait at the closed gate. Stop them there, before it opens, so that
        # none observes for a run that has ended.
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for process in processes[:started]:
            _stop(process)
        for reader in readers:
            reader.close()
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for _, writer in pipes:  # the workers' ends: each worker's closes when it ends
            writer.close()
        # The gate opens (its last write end closes) once every worker is forked.
        os.close(gate[1])
        os.close(gate[0])
    observed: dict[str, ObservedTenant] = {}
    accounting = Accounting()
    try:
        if meanwhile is not None:
            meanwhile()
        await _collect(readers, observed, accounting, on_done=on_done, on_planned=on_planned)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                _stop(process)
        for reader in readers:
            reader.close()
    ordered = {
        t.metadata.name: observed[t.metadata.name] for t in tenants if t.metadata.name in observed
    }
    return ordered, accounting


def _stop(process: BaseProcess) -> None:
    """Terminate a worker and reap it; one still alive after five seconds is killed."""
    process.terminate()
    process.join(timeout=5)
    if process.is_alive():
        process.kill()
        process.join()


async def _collect(
    readers: Sequence[Connection],
    observed: dict[str, ObservedTenant],
    accounting: Accounting,
    *,
    on_done: Callable[[ObservedTenant], None] | None,
    on_planned: Callable[[TenantPlan], None] | None,
) -> None:
    """Read every worker's pipe until it closes. A worker that ends without ``done`` (it
    died) leaves its tenants unreported; ``failed`` raises what stopped a worker's share.

    The event loop watches the pipes itself, as it watches its sockets: a pipe with a message
    or a closed end wakes this coroutine. No thread waits on them: a hop to a thread and back
    for each wake-up cost the parent 0.2-0.3 ms of CPU (bench/README.md, stop 27)."""
    loop = asyncio.get_running_loop()
    open_readers = list(readers)
    readable = asyncio.Event()
    for reader in open_readers:
        loop.add_reader(reader.fileno(), readable.set)
    try:
        while open_readers:
            await readable.wait()
            readable.clear()  # level-triggered: a pipe with more to read sets it again
            for reader in _ready(open_readers):
                try:
                    message: tuple[str, Any] = reader.recv()
                except (EOFError, OSError):  # the worker is gone, with or without its "done"
                    loop.remove_reader(reader.fileno())
                    open_readers.remove(reader)
                    continue
                kind, payload = message
                if kind == "observed":
                    observed[payload.name] = payload
                    if on_done is not None:
                        on_done(payload)
                elif kind == "planned":
                    if on_planned is not None:
                        on_planned(payload)
                elif kind == "done":
                    accounting.add(payload)
                else:  # "failed": what stopped a worker's whole share stops the run, as in one
                    raise payload
    finally:
        for reader in open_readers:
            loop.remove_reader(reader.fileno())


def _ready(readers: list[Connection]) -> list[Connection]:
    """The pipes with a message or an end to read now, in the workers' order. Asked again
    at each wake-up, not taken from the loop's callbacks: a callback can run after the
    message it announced was read, and ``recv`` on an empty pipe would block the loop."""
    readable = set(wait_for_pipes(readers, 0))
    return [reader for reader in readers if reader in readable]


@dataclass(frozen=True)
class _Share:
    """What one worker observes, and with what."""

    tenants: list[TenantConfig]
    settings: ConnectionSettings
    app_id: str
    cipp: bool
    now: dt.datetime
    concurrency: int
    partner: PartnerFacts
    plan_here: PlanHere | None = None
    discovered: Mapping[str, Template] = field(default_factory=dict)


def _observe_share(
    number: int,
    pipes: Sequence[tuple[Connection, Connection]],
    gate: tuple[int, int],
    share: _Share,
) -> None:
    """A worker process: once every worker is forked, observe its share on a new event loop
    with new connections, and send each result down its own pipe."""
    # A handler the parent installed for SIGTERM (a run's cooperative cancellation) is no
    # worker's: the parent stops a worker with SIGTERM, and it must stop. SIGTERM was
    # blocked across the fork (one sent already is pending, and ends the worker here).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    for other, (reader, writer) in enumerate(pipes):
        reader.close()  # inherited by the fork: the parent's ends, and the other workers'
        if other != number:
            writer.close()
    results = pipes[number][1]
    os.close(gate[1])
    while os.read(gate[0], 1):  # nothing is ever written: it returns b"" when the gate opens
        pass
    os.close(gate[0])

    def send(observed: ObservedTenant) -> None:
        planned = share.plan_here(observed) if share.plan_here is not None else None
        if planned is None:
            results.send(("observed", observed))
        else:
            results.send(("planned", planned))

    async def observe() -> Accounting:
        per_host = share.concurrency * PER_TENANT
        async with Connections(share.settings, connections_per_host=per_host) as connections:
            # The cloud's OIDC discovery, read once in the run, not once in each worker: every
            # worker's first tenants would wait for it (a round trip).
            connections.tokens.learn(share.discovered)
            await observe_estate(
                share.tenants,
                connections,
                app_id=share.app_id,
                cipp=share.cipp,
                now=share.now,
                concurrency=share.concurrency,
                on_done=send,
                partner=share.partner,
            )
            return connections.accounting

    try:
        accounting = event_loop.run(observe())
    except BaseException as error:  # sent to the parent, which raises it
        results.send(("failed", _sendable(error)))
    else:
        results.send(("done", accounting))
    results.close()


def _sendable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"an observing worker failed: {type(error).__name__}: {error}")
    return error

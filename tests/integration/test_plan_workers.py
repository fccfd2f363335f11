"""Observing in worker processes changes nothing but the cores used: on a generated estate
against the sandbox, the plan made with three workers is byte for byte the plan made in one
process (same JSON, same plan id, same observations in the same order), progress reports
every tenant once, and the accounting counts every worker's requests. The default number of
workers grows with the estate and never passes the cores."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import multiprocessing.context
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller import event_loop
from controller.errors import UsageError
from controller.models import DesiredState, MSPConfig, TenantConfig
from controller.models.observed import EarlierCreate
from controller.observe import TenantObserver
from controller.plan import planner as planner_module
from controller.plan.planner import EstatePlanner
from controller.reconcile import PlanResult, World, observe_and_plan, sandbox_settings
from controller.reconcile import _workers as workers_module
from controller.reconcile._workers import TENANTS_PER_WORKER, default_workers
from controller.render import render_json
from controller.sandbox import Sandbox, Scenario, generate_scenario

DEMO_MSP = Path(__file__).resolve().parents[2] / "desired" / "msp.yaml"


def _desired(scenario: Scenario) -> DesiredState:
    """The generated tenants as declared, with some drift: one user more, one user disabled,
    and a group declared without one of its members."""
    msp = yaml.safe_load(DEMO_MSP.read_text(encoding="utf-8"))
    msp["spec"]["policy"].pop("tenants", None)
    tenants = []
    for number, tenant in enumerate(scenario.tenants):
        users: list[dict[str, Any]] = [
            {
                "userPrincipalName": u.user_principal_name,
                "displayName": u.display_name,
                "usageLocation": u.usage_location,
                "accountEnabled": u.account_enabled and not (number == 1 and i == 0),
                "licenses": list(u.licenses),
            }
            for i, u in enumerate(tenant.users)
        ]
        if number == 0:
            users.append(
                {
                    "userPrincipalName": f"newcomer@{tenant.domains[0]}",
                    "displayName": "Newcomer",
                    "usageLocation": "US",
                }
            )
        groups = [
            {
                "displayName": g.display_name,
                "mailNickname": g.mail_nickname,
                "type": g.type,
                "members": sorted(g.members)[1:] if number == 2 else sorted(g.members),
            }
            for g in tenant.groups
        ]
        document = {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": tenant.name,
                "displayName": tenant.display_name,
                "tenantId": tenant.tenant_id,
                "domains": list(tenant.domains),
            },
            "spec": {"consent": "granted", "exchange": "direct", "users": users, "groups": groups},
        }
        tenants.append(TenantConfig.model_validate(document))
    return DesiredState(msp=MSPConfig.model_validate(msp), tenants=tuple(tenants))


def _plan(
    sandbox: Sandbox,
    state: DesiredState,
    workers: int,
    earlier: dict[str, list[EarlierCreate]] | None = None,
) -> tuple[PlanResult, list[str]]:
    seen: list[str] = []
    world = World(sandbox_settings(state.msp, sandbox), sandbox)
    result = event_loop.run(
        observe_and_plan(
            state,
            world,
            concurrency=4,
            workers=workers,
            on_observed=seen.append,
            earlier_creates=earlier,
        )
    )
    return result, seen


def _earlier_create(tenant: Any) -> EarlierCreate:
    """A create of a user the tenant has, that a killed apply left unanswered."""
    return EarlierCreate(
        kind="user.create",
        key=tenant.users[0].user_principal_name.lower(),
        intent_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        run_id=1,
    )


def test_the_plan_is_byte_identical_with_one_and_with_three_workers(tmp_path: Path) -> None:
    scenario = generate_scenario(tenants=7, users=6, groups=3, members_per_group=3, seed=3)
    state = _desired(scenario)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        sandbox.clock.freeze()  # both runs see the same moment
        alone, seen_alone = _plan(sandbox, state, workers=1)
        shared, seen_shared = _plan(sandbox, state, workers=3)
    assert render_json(shared.plan) == render_json(alone.plan)
    assert shared.plan.plan_id == alone.plan.plan_id
    assert list(shared.observed) == list(alone.observed)
    assert shared.observed == alone.observed
    kinds = Counter(str(op.kind) for op in alone.plan.operations)
    assert kinds  # the drift is planned: the comparison is not between two empty plans
    assert sorted(seen_shared) == sorted(seen_alone) == sorted(t.name for t in scenario.tenants)
    customers = [t.tenant_id for t in scenario.tenants]
    assert [shared.accounting.tenant(t).round_trips for t in customers] == [
        alone.accounting.tenant(t).round_trips for t in customers
    ]


def test_a_run_works_out_the_plan_id_once_with_the_decisions_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finishing the plan leaves the id to policy, which sets it over the decisions: the id
    covers every tenant's operations, and working it out twice cost 20-30 ms at 200 tenants."""
    decide_module = importlib.import_module("controller.policy.decide")
    original = planner_module.plan_id_of
    counted = Counter[str]()

    def counting(plan: Any) -> str:
        counted["ids"] += 1
        return original(plan)

    monkeypatch.setattr(decide_module, "plan_id_of", counting)
    monkeypatch.setattr(planner_module, "plan_id_of", counting)
    scenario = generate_scenario(tenants=3, users=4, groups=1, members_per_group=2, seed=5)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        result, _ = _plan(sandbox, _desired(scenario), workers=1)
    assert counted["ids"] == 1
    assert result.plan.plan_id and result.plan.plan_id == original(result.plan)


def test_the_cloud_s_discovery_is_read_once_in_a_run_not_once_per_worker(
    tmp_path: Path,
) -> None:
    """The parent read the OIDC discovery document for the partner facts; the workers' token
    providers start from it instead of each reading it again before their first tenants."""
    scenario = generate_scenario(tenants=6, users=3, groups=1, members_per_group=2, seed=9)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        result, _ = _plan(sandbox, _desired(scenario), workers=3)
        discoveries = [r for r in sandbox.requests if r.path.endswith("openid-configuration")]
    assert len(result.plan.tenants) == 6
    assert len(discoveries) == 1


def test_default_workers_grow_with_the_estate_up_to_the_cores() -> None:
    assert default_workers(10, cores=2) == 1
    assert default_workers(TENANTS_PER_WORKER * 2, cores=2) == 2
    assert default_workers(TENANTS_PER_WORKER * 10, cores=2) == 2
    assert default_workers(TENANTS_PER_WORKER * 10, cores=8) == 8


@pytest.mark.parametrize("workers", [1, 3])
def test_each_tenant_is_planned_while_the_others_are_observed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The planner's CPU overlaps the observation's waits: a tenant is planned as it arrives,
    not after the last one; and the plan is the one planned all at the end."""
    scenario = generate_scenario(tenants=7, users=6, groups=3, members_per_group=3, seed=3)
    state = _desired(scenario)
    events: list[str] = []
    plan_tenant = planner_module.plan_tenant

    def recorded(desired: TenantConfig, *args: Any) -> Any:
        events.append("planned")
        return plan_tenant(desired, *args)

    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        sandbox.clock.freeze()
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        monkeypatch.setattr(planner_module, "plan_tenant", recorded)
        piped = event_loop.run(
            observe_and_plan(
                state,
                world,
                concurrency=2,
                workers=workers,
                on_observed=lambda name: events.append("observed"),
            )
        )
        last_observed = max(i for i, e in enumerate(events) if e == "observed")
        assert "planned" in events[:last_observed]
        monkeypatch.setattr(EstatePlanner, "add", lambda self, observed: None)
        at_the_end, _ = _plan(sandbox, state, workers=workers)
    assert render_json(piped.plan) == render_json(at_the_end.plan)


def test_workers_plan_what_they_observed_when_no_observation_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan run that keeps no observations gets plans from its workers, not observations
    (the parent neither unpickles nor plans 200 tenants while its workers observe, and works
    out the desired state's digest meanwhile), and the plan is byte for byte the one made in
    one process; a tenant with an earlier run's create
    to look up still comes back as an observation and is planned by the parent."""
    scenario = generate_scenario(tenants=7, users=6, groups=3, members_per_group=3, seed=3)
    state = _desired(scenario)
    taken: list[str] = []
    parent_planned: list[str] = []
    take, plan_now = EstatePlanner.take, EstatePlanner.plan_now
    parent = os.getpid()

    def recorded_take(self: EstatePlanner, planned: Any) -> None:
        taken.append(planned.name)
        take(self, planned)

    digest = planner_module.desired_digest

    def recorded_digest(state: DesiredState) -> str:
        taken.append("(desired digest)")
        return digest(state)

    def recorded_plan_now(self: EstatePlanner, observed: Any) -> Any:
        if os.getpid() == parent:
            parent_planned.append(observed.name)
        return plan_now(self, observed)

    later = scenario.tenants[4].name
    earlier = {later: [_earlier_create(scenario.tenants[4])]}
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        sandbox.clock.freeze()
        alone, _ = _plan(sandbox, state, workers=1, earlier=earlier)
        monkeypatch.setattr(EstatePlanner, "take", recorded_take)
        monkeypatch.setattr(EstatePlanner, "plan_now", recorded_plan_now)
        monkeypatch.setattr(planner_module, "desired_digest", recorded_digest)
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        seen: list[str] = []
        shared = event_loop.run(
            observe_and_plan(
                state,
                world,
                concurrency=4,
                workers=3,
                on_observed=seen.append,
                keep_observations=False,
                earlier_creates=earlier,
            )
        )
    assert render_json(shared.plan) == render_json(alone.plan)
    assert shared.observed == {}
    everyone = sorted(t.name for t in scenario.tenants)
    # The desired state's digest is worked out once, while the workers observe.
    assert taken[0] == "(desired digest)"
    assert sorted(taken[1:]) == [name for name in everyone if name != later]
    assert parent_planned == [later]  # the parent sees only the one that came back observed
    assert sorted(seen) == everyone
    planned_later = next(t for t in shared.plan.tenants if t.name == later)
    assert planned_later == next(t for t in alone.plan.tenants if t.name == later)


@pytest.mark.parametrize("keep", [True, False])
def test_a_worker_that_dies_leaves_its_tenants_not_observed_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    """A worker killed mid-share (here ``os._exit``, as the OOM killer would): the tenants it
    had not reported are planned as not observed, the others as usual, and the parent does
    not wait for it (each worker has a pipe of its own; its end closing says it is gone)."""
    scenario = generate_scenario(tenants=7, users=4, groups=2, members_per_group=2, seed=5)
    state = _desired(scenario)
    # Three workers, one tenant at a time each: the first worker observes t0, t3, t6 in turn.
    victim = scenario.tenants[3].name
    observe = TenantObserver.observe

    async def dying(self: TenantObserver, tenant: TenantConfig) -> Any:
        if tenant.metadata.name == victim:
            os._exit(9)
        return await observe(self, tenant)

    monkeypatch.setattr(TenantObserver, "observe", dying)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        result = event_loop.run(
            observe_and_plan(state, world, concurrency=3, workers=3, keep_observations=keep)
        )
    by_name = {t.name: t for t in result.plan.tenants}
    assert len(by_name) == 7
    lost = {victim, scenario.tenants[6].name}
    assert {name for name, t in by_name.items() if t.observation == "failed"} == lost
    if keep:
        assert set(result.observed) == set(by_name) - lost


def test_a_worker_whose_share_fails_stops_the_run_with_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = generate_scenario(tenants=4, users=2, groups=1, members_per_group=1, seed=5)
    state = _desired(scenario)

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise UsageError("the share could not start")

    monkeypatch.setattr(workers_module, "observe_estate", failing)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        with pytest.raises(UsageError, match="the share could not start"):
            event_loop.run(observe_and_plan(state, world, concurrency=2, workers=2))


def test_a_planner_error_in_a_worker_stops_the_run_it_is_never_a_silent_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tenant the worker cannot plan (a planner bug) fails the run as it would in one
    process: the tenant never goes missing from the plan without a word."""
    scenario = generate_scenario(tenants=4, users=2, groups=1, members_per_group=1, seed=5)
    state = _desired(scenario)
    broken = scenario.tenants[2].name
    plan_tenant = planner_module.plan_tenant

    def failing(desired: TenantConfig, *args: Any) -> Any:
        if desired.metadata.name == broken:
            raise RuntimeError(f"cannot plan {broken}")
        return plan_tenant(desired, *args)

    monkeypatch.setattr(planner_module, "plan_tenant", failing)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        with pytest.raises(RuntimeError, match=f"cannot plan {broken}"):
            event_loop.run(
                observe_and_plan(state, world, concurrency=2, workers=2, keep_observations=False)
            )


def test_no_worker_starts_before_the_last_one_is_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork copies every lock another thread holds at that moment. A worker at work keeps
    the parent's threads busy (here the in-process sandbox's, serving it), so the workers
    wait at a gate until the last one is forked: each begins observing after every fork."""
    scenario = generate_scenario(tenants=6, users=2, groups=1, members_per_group=1, seed=5)
    state = _desired(scenario)
    forked: list[int] = []
    start = multiprocessing.context.ForkProcess.start

    def slow_start(self: Any) -> None:
        start(self)
        time.sleep(0.05)  # a worker not held at the gate would be at work by now
        forked.append(time.monotonic_ns())

    observe_estate = workers_module.observe_estate

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        (tmp_path / f"began-{os.getpid()}").write_text(str(time.monotonic_ns()))
        return await observe_estate(*args, **kwargs)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", slow_start)
    monkeypatch.setattr(workers_module, "observe_estate", recorded)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        result = event_loop.run(observe_and_plan(state, world, concurrency=3, workers=3))
    began = [int(p.read_text()) for p in tmp_path.glob("began-*")]
    assert len(forked) == 3
    assert len(began) == 3
    assert min(began) > max(forked) - 10**9 // 20  # after the last fork (its 50 ms pause aside)
    assert all(t.observation == "complete" for t in result.plan.tenants)


@pytest.mark.parametrize("parent_catches_sigterm", [False, True])
def test_a_fork_that_fails_stops_the_workers_already_forked_before_they_begin(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    parent_catches_sigterm: bool,
) -> None:
    """The second fork fails (the system is out of processes): the run fails with that
    error, and the worker forked before it is stopped at the gate, never observing for a run
    that has ended (the gate would otherwise open as the parent gives up). SIGTERM stops it
    even when the parent handles SIGTERM itself (apply's and the controller's cooperative
    cancellation): a worker does not keep the handler it inherited."""
    if parent_catches_sigterm:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
        request.addfinalizer(lambda: signal.signal(signal.SIGTERM, previous))
    scenario = generate_scenario(tenants=6, users=2, groups=1, members_per_group=1, seed=5)
    state = _desired(scenario)
    forked: list[Any] = []
    start = multiprocessing.context.ForkProcess.start

    def failing_second(self: Any) -> None:
        if forked:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        start(self)
        forked.append(self)

    observe_estate = workers_module.observe_estate

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        (tmp_path / f"began-{os.getpid()}").write_text("began")
        return await observe_estate(*args, **kwargs)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", failing_second)
    monkeypatch.setattr(workers_module, "observe_estate", recorded)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        world = World(sandbox_settings(state.msp, sandbox), sandbox)
        with pytest.raises(BlockingIOError):
            event_loop.run(observe_and_plan(state, world, concurrency=3, workers=3))
        (first,) = forked
        assert first.exitcode == -signal.SIGTERM  # stopped, and reaped, before the raise
        assert not list(tmp_path.glob("began-*"))
        customers = {t.tenant_id for t in scenario.tenants}
        assert not [r for r in sandbox.requests if r.tenant_id in customers]  # partner facts only


def test_the_parent_waits_for_its_workers_on_its_event_loop_not_in_a_thread(
    tmp_path: Path,
) -> None:
    """The parent learns of each worker's message from its own event loop (the pipes are
    watched as its sockets are), never from a thread: a run whose loop refuses every thread
    still gets every tenant, planned by the workers."""

    class NoThreads(ThreadPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"a thread was asked to run {fn!r}")

    scenario = generate_scenario(tenants=5, users=3, groups=1, members_per_group=2, seed=7)
    state = _desired(scenario)
    with Sandbox(scenario, state_dir=tmp_path / "sandbox") as sandbox:
        world = World(sandbox_settings(state.msp, sandbox), sandbox)

        async def run() -> PlanResult:
            asyncio.get_running_loop().set_default_executor(NoThreads(max_workers=1))
            return await observe_and_plan(
                state, world, concurrency=2, workers=2, keep_observations=False
            )

        result = event_loop.run(run())
    assert sorted(t.name for t in result.plan.tenants) == sorted(t.name for t in scenario.tenants)
    assert {t.observation for t in result.plan.tenants} == {"complete"}

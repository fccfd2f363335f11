"""Fixtures for integration tests: the real pipeline against an in-process sandbox over HTTPS
on 127.0.0.1. Retries wait on the sandbox's virtual clock, so no test sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.connectors import Connections
from controller.loader import load_desired
from controller.models import DesiredState
from controller.reconcile import PlanResult, World, observe_and_plan, sandbox_settings
from controller.sandbox import Sandbox, default_scenario

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def serving(state_dir: Path | None = None) -> Sandbox:
    """The demo world serving tenantctl as real endpoints would (msp.yaml endpoints, secrets
    from the environment): its clock starts at the wall clock, because tenantctl then reads the
    wall clock, as it does against the real services. (With ``--sandbox``, or through
    :func:`world_of`, tenantctl reads the sandbox's own clock, which starts at the scenario's
    fixed epoch.)"""
    return Sandbox(default_scenario(), state_dir=state_dir, epoch=time.time())


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(default_scenario(), state_dir=tmp_path / "sandbox") as running:
        yield running


@pytest.fixture(scope="session")
def demo_state() -> DesiredState:
    return load_desired(DESIRED)


def world_of(sandbox: Sandbox, state: DesiredState) -> World:
    return World(sandbox_settings(state.msp, sandbox), sandbox)


def virtual_connections(sandbox: Sandbox, state: DesiredState) -> Connections:
    async def sleep(seconds: float) -> None:
        sandbox.clock.advance(seconds)

    return Connections(world_of(sandbox, state).settings, sleep=sleep)


def plan_against(sandbox: Sandbox, state: DesiredState) -> PlanResult:
    async def run() -> PlanResult:
        async with virtual_connections(sandbox, state) as connections:
            return await observe_and_plan(state, world_of(sandbox, state), connections=connections)

    return asyncio.run(run())

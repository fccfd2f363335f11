"""Fixtures for the real-service fidelity tests (issue 12): the demo world with one tenant
changed the way a test needs, served over HTTPS on 127.0.0.1, and the plan of the demo estate
against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from controller.loader import load_desired
from controller.models import DesiredState
from controller.sandbox import Sandbox, Scenario, default_scenario
from controller.sandbox._scenario import Tenant
from tests.integration.conftest import DESIRED

TAILSPIN = "4e3d2c1b-0a9f-4e8d-b7c6-5a4b3c2d1e0f"
CONTOSO = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
WOODGROVE = "7c6b5a4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d"


def scenario_with(name: str, change: Callable[[Tenant], None]) -> Scenario:
    """The demo scenario with tenant ``name`` changed in place by ``change``."""
    scenario = default_scenario()
    change(next(t for t in scenario.tenants if t.name == name))
    return scenario


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Scenario], Sandbox]]:
    started: list[Sandbox] = []

    def start(scenario: Scenario) -> Sandbox:
        sandbox = Sandbox(scenario, state_dir=tmp_path / f"sandbox{len(started)}").start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sb(serve: Callable[[Scenario], Sandbox]) -> Sandbox:
    """The demo world, unchanged."""
    return serve(default_scenario())


@pytest.fixture(scope="session")
def demo_state() -> DesiredState:
    return load_desired(DESIRED)

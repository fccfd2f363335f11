"""The sandbox's virtual clock: a world starts at its scenario's epoch whatever today's date,
runs at the speed of real time, moves forward on ``advance``, and carries across processes
(by the wall-clock time between them, never backwards)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from controller.sandbox import Sandbox, VirtualClock, default_scenario
from controller.sandbox._clock import DEFAULT_EPOCH


class Ticks:
    def __init__(self, at: float = 1000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_a_new_clock_starts_at_its_epoch_and_runs_at_the_speed_of_real_time() -> None:
    ticks = Ticks()
    clock = VirtualClock(DEFAULT_EPOCH.timestamp(), monotonic=ticks)
    assert clock.now_datetime() == DEFAULT_EPOCH
    ticks.at += 2.5
    assert clock.now() == DEFAULT_EPOCH.timestamp() + 2.5
    clock.advance(60)
    assert clock.now() == DEFAULT_EPOCH.timestamp() + 62.5
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_a_frozen_clock_moves_only_when_advanced() -> None:
    ticks = Ticks()
    clock = VirtualClock(0.0, monotonic=ticks)
    ticks.at += 5
    clock.freeze()
    ticks.at += 100
    assert clock.now() == 5
    clock.advance(10)
    assert clock.now() == 15
    clock.unfreeze()
    ticks.at += 1
    assert clock.now() == 16


def test_a_saved_clock_moves_on_by_the_wall_time_between_processes_never_back() -> None:
    saved = VirtualClock(100.0, monotonic=Ticks()).snapshot(wall=lambda: 5_000.0)
    later = VirtualClock.restore(saved, default=0, wall=lambda: 5_030.0)
    assert later.now() == pytest.approx(130.0, abs=1.0)  # the restored clock runs on, too
    # A wall clock set back (or a state copied from another machine) never moves time back.
    earlier = VirtualClock.restore(saved, default=0, wall=lambda: 10.0)
    assert earlier.now() == pytest.approx(100.0, abs=1.0)
    frozen = VirtualClock(100.0, frozen=True).snapshot(wall=lambda: 5_000.0)
    assert VirtualClock.restore(frozen, default=0, wall=lambda: 9_000.0).now() == 100.0
    assert VirtualClock.restore({}, default=42.0).now() >= 42.0


def test_the_demo_world_starts_at_its_scenario_epoch_on_any_day(tmp_path: Path) -> None:
    scenario = default_scenario()
    assert scenario.epoch == dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    with Sandbox(scenario, state_dir=tmp_path) as sb:
        started = sb.clock.now_datetime()
        assert dt.timedelta(0) <= started - scenario.epoch < dt.timedelta(minutes=1)
        woodgrove = next(t for t in sb.world.tenants.values() if t.name == "woodgrove")
        assert woodgrove.gdap is not None
        assert dt.datetime.fromtimestamp(woodgrove.gdap.end_at, dt.UTC).date() == dt.date(
            2026, 12, 1
        )
        sb.clock.advance(86_400)
    with Sandbox(scenario, state_dir=tmp_path) as again:  # the saved world, a day later
        assert again.clock.now_datetime() - scenario.epoch >= dt.timedelta(days=1)
        again.reset()
        assert again.clock.now_datetime() - scenario.epoch < dt.timedelta(minutes=1)


def test_a_sandbox_serving_real_endpoints_can_start_elsewhere_than_its_scenario(
    tmp_path: Path,
) -> None:
    start = dt.datetime(2031, 5, 1, tzinfo=dt.UTC)
    with Sandbox(default_scenario(), state_dir=tmp_path, epoch=start.timestamp()) as sb:
        assert dt.timedelta(0) <= sb.clock.now_datetime() - start < dt.timedelta(minutes=1)
        woodgrove = next(t for t in sb.world.tenants.values() if t.name == "woodgrove")
        assert woodgrove.gdap is not None  # its dates count from where the world started
        assert dt.datetime.fromtimestamp(woodgrove.gdap.end_at, dt.UTC).date() == dt.date(
            2031, 5, 6
        )

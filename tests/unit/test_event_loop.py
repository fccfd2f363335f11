"""``event_loop.run``: the coroutine's result comes back without being formatted (Python
3.11's asyncio.run formats the main task, result included, when it restores SIGINT), and the
garbage collector's settings are the run's while it lasts and the process's again after."""

from __future__ import annotations

import gc

from controller import event_loop


class Large:
    """Stands for a plan: formatting it is the cost to avoid."""

    formatted = 0

    def __repr__(self) -> str:
        Large.formatted += 1
        return "Large()"


def test_the_result_comes_back_unformatted() -> None:
    async def plan() -> Large:
        return Large()

    result = event_loop.run(plan())
    assert isinstance(result, Large)
    assert Large.formatted == 0


def test_the_collector_is_tuned_for_the_run_and_restored_after() -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    async def plan() -> None:
        seen.append(gc.get_threshold())

    event_loop.run(plan())
    assert seen == [event_loop.RUN_GC_THRESHOLDS]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

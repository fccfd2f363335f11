"""``gather_or_cancel``: results in order; when one awaitable fails, the others are cancelled
and finished before the exception reaches the caller (``asyncio.gather`` leaves them running:
requests on the wire while the connections close, an apply's other tenants cut off later by
the loop's teardown). Event-driven: no sleeps, no clock."""

from __future__ import annotations

import asyncio

import pytest

from controller.event_loop import gather_or_cancel


async def _value(value: int) -> int:
    await asyncio.sleep(0)
    return value


def test_the_results_come_in_the_order_given() -> None:
    async def main() -> tuple[int, ...]:
        return await gather_or_cancel(*(_value(n) for n in (3, 1, 2)))

    assert asyncio.run(main()) == (3, 1, 2)


def test_a_failure_cancels_and_finishes_the_others_before_it_is_raised() -> None:
    finished: list[str] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            finished.append("sibling")

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    async def main() -> None:
        before = asyncio.all_tasks()
        with pytest.raises(ValueError, match="boom"):
            await gather_or_cancel(waits_forever(), fails())
        assert finished == ["sibling"]  # done before the caller saw the error
        assert asyncio.all_tasks() == before

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_a_cancelled_caller_leaves_no_task_behind() -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def waits_forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            finished.append("child")

    async def main() -> None:
        caller = asyncio.create_task(gather_or_cancel(waits_forever(), waits_forever()))
        await started.wait()
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert finished == ["child", "child"]

    asyncio.run(asyncio.wait_for(main(), timeout=30))

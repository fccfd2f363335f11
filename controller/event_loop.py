"""``run``: :func:`asyncio.run` for a whole run (a plan, an apply), whose result is large.

Two things :func:`asyncio.run` alone gets wrong for tenantctl:

- Python 3.11's ``asyncio.run`` restores the SIGINT handler when the main task is done, and
  ``signal.signal`` tries to turn the old handler (a ``functools.partial`` holding the main
  task) into a ``Handlers`` enum; the failed conversion formats a ``ValueError`` message with
  the handler's ``repr``, hence the task's, hence the whole result's. On a 100-tenant plan that
  was 1.4 s of CPU (py-spy: ``_task_repr`` under ``signal._int_to_enum``). Here the main task
  returns nothing: the result goes out through a box.
- The cyclic garbage collector runs every 700 allocations and, as the observations pile up,
  walks them again and again: 26 % of the CPU of a 600-tenant plan, and more the larger the
  estate (``bench/README.md``, "Scale"). During a run it collects the young generations every
  20,000 allocations instead, and what existed before the run (modules, the desired state)
  is frozen out of its walks; both are restored afterwards.

``gather_or_cancel``: :func:`asyncio.gather` that, when one awaitable fails, cancels the
others and waits for them before raising. ``gather`` raises at once and leaves the rest
running: requests still on the wire while the run closes its connections, an apply's other
tenants cancelled later, at whatever point ``asyncio.run``'s teardown finds them.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar, overload

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")

# Allocations between collections of the youngest generation, and collections of each
# generation between collections of the next (CPython's defaults: 700, 10, 10).
RUN_GC_THRESHOLDS = (20_000, 10, 100)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new event loop, as ``asyncio.run`` does, and return its result."""
    box: list[T] = []

    async def boxed() -> None:
        box.append(await main)

    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        asyncio.run(boxed())
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    return box[0]


@overload
async def gather_or_cancel(first: Awaitable[T1], second: Awaitable[T2], /) -> tuple[T1, T2]: ...


@overload
async def gather_or_cancel(
    first: Awaitable[T1], second: Awaitable[T2], third: Awaitable[T3], /
) -> tuple[T1, T2, T3]: ...


@overload
async def gather_or_cancel(*awaitables: Awaitable[T]) -> tuple[T, ...]: ...


async def gather_or_cancel(*awaitables: Awaitable[Any]) -> Any:
    """The results of ``awaitables`` (a tuple, in their order), run concurrently. When one
    raises (or the caller is cancelled), the others are cancelled and awaited before the
    exception goes on: nothing started here outlives the call."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        results = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise
    return tuple(results)

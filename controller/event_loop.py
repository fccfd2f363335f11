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
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

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

"""``run``: :func:`asyncio.run` for a coroutine whose result is large (a plan, the observations).

Python 3.11's ``asyncio.run`` restores the SIGINT handler when the main task is done, and
``signal.signal`` tries to turn the old handler (a ``functools.partial`` holding the main
task) into a ``Handlers`` enum; the failed conversion formats a ``ValueError`` message with
the handler's ``repr``, hence the task's, hence the whole result's. On a 100-tenant plan that
was 1.4 s of CPU (py-spy: ``_task_repr`` under ``signal._int_to_enum``). Here the main task
returns nothing: the result goes out through a box.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new event loop, as ``asyncio.run`` does, and return its result."""
    box: list[T] = []

    async def boxed() -> None:
        box.append(await main)

    asyncio.run(boxed())
    return box[0]

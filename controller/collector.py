"""Pausing Python's cyclic garbage collector while a large estate is built.

Loading 1,000 tenant files, or reading a saved observation of 1,000 tenants and rendering
their pages, makes millions of small objects that stay alive until the command ends and form
hardly any reference cycle. The cyclic collector would walk all of them again at every
collection: on the benchmarks it tripled the load time (``bench/validate_bench.py``) and the
report's (``bench/report_bench.py``). Objects freed by reference counting are freed as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection in the block (restored as it was after it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

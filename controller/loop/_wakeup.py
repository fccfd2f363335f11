"""Sleeping between cycles, woken at once by SIGTERM or SIGINT.

A signal handler may not take a lock (``threading.Event.set`` takes one, and the handler runs
in the thread that may hold it), so the sleep waits on a pipe, and the handler writes a byte
to it: the classic self-pipe, async-signal-safe.
"""

from __future__ import annotations

import contextlib
import os
import select

__all__ = ["Wakeup"]


class Wakeup:
    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def set(self) -> None:
        """Wake the sleeper (safe in a signal handler)."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write, b"!")

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, less if :meth:`set` is (or was) called."""
        # select() is resumed after a signal handler with the time left (PEP 475); the
        # handler's byte makes it return.
        select.select([self._read], [], [], max(seconds, 0.0))

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)

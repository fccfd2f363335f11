"""The sandbox's virtual clock.

Virtual time = real time + an offset. ``advance(seconds)`` moves the offset forward, so a test
can step over a replication delay or a role propagation window without sleeping. Real time
keeps passing too (a client that sleeps through Retry-After sees the budget refill), unless the
clock is frozen. The offset is part of the persisted state, so virtual time carries across
processes that share a state directory.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class VirtualClock:
    def __init__(self, offset: float = 0.0, frozen_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = offset
        self._frozen_at = frozen_at

    def now(self) -> float:
        """Virtual time, in seconds since the epoch."""
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return time.time() + self._offset

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def iso(self, at: float | None = None) -> str:
        """ISO 8601 in UTC with a ``Z``, as Graph writes dates."""
        moment = datetime.fromtimestamp(self.now() if at is None else at, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the virtual clock only moves forward")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def freeze(self) -> None:
        """Stop real time from moving the clock; only ``advance`` moves it."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def snapshot(self) -> dict[str, float | None]:
        return {"offset": self._offset, "frozenAt": self._frozen_at}

    @classmethod
    def restore(cls, data: dict[str, float | None]) -> VirtualClock:
        offset = data.get("offset") or 0.0
        return cls(offset=float(offset), frozen_at=data.get("frozenAt"))

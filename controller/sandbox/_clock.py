"""The sandbox's virtual clock: time is an input, never today's date.

A world starts at its scenario's ``epoch`` (a fixed moment written in the scenario), and every
date the services report (GDAP end dates, sign-in and risk dates, token lifetimes) is computed
from it. From there virtual time runs at the speed of real time while a process serves the
world, and ``advance(seconds)`` moves it forward, so a test can step over a replication delay
or a role propagation window without sleeping. ``freeze()`` stops real time from moving it.

Elapsed real time is read from the monotonic clock within a process, and only the *difference*
of two wall-clock readings is used between processes: a machine whose date is a year ahead (or
a test under libfaketime) sees exactly the same world. The clock's state is the virtual moment
itself, saved with the world together with the wall-clock reading at the save, so virtual time
carries across the processes that share a state directory and keeps running between them (CIPP
finishes a queued consent while nobody watches), never backwards.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

# The moment a scenario starts at when it names none: the day the demo estate was written.
DEFAULT_EPOCH = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class VirtualClock:
    def __init__(
        self,
        start: float = DEFAULT_EPOCH.timestamp(),
        *,
        frozen: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._at = float(start)  # virtual time at the real moment ``_since``
        self._since = monotonic()
        self._frozen = frozen

    def now(self) -> float:
        """Virtual time, in seconds since the Unix epoch."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        if self._frozen:
            return self._at
        return self._at + (self._monotonic() - self._since)

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def iso(self, at: float | None = None) -> str:
        """ISO 8601 in UTC with a ``Z``, as Graph writes dates (to the second)."""
        return _iso_second(whole_second(self.now() if at is None else at))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the virtual clock only moves forward")
        with self._lock:
            self._at += seconds

    def set(self, moment: float) -> None:
        """Start again from ``moment`` (a reset to the scenario's epoch)."""
        with self._lock:
            self._at = float(moment)
            self._since = self._monotonic()

    def freeze(self) -> None:
        """Stop real time from moving the clock; only ``advance`` moves it."""
        with self._lock:
            if not self._frozen:
                self._at = self._now_locked()
                self._frozen = True

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen:
                self._since = self._monotonic()
                self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def snapshot(self, wall: Callable[[], float] = time.time) -> dict[str, float | bool]:
        with self._lock:
            return {"now": self._now_locked(), "frozen": self._frozen, "savedAt": wall()}

    @classmethod
    def restore(
        cls,
        data: dict[str, float | bool],
        *,
        default: float,
        wall: Callable[[], float] = time.time,
    ) -> VirtualClock:
        """The clock as saved, moved on by the wall-clock time since the save (unless frozen);
        a state without a clock starts at ``default`` (the epoch)."""
        moment, saved_at = _number(data.get("now")), _number(data.get("savedAt"))
        if moment is None:
            return cls(default)
        frozen = bool(data.get("frozen", False))
        since = max(0.0, wall() - saved_at) if saved_at is not None and not frozen else 0.0
        return cls(moment + since, frozen=frozen)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def whole_second(at: float) -> int:
    """The second ``datetime.fromtimestamp(at)`` shows: it rounds ``at`` to the microsecond
    (half to even) before it takes the second, so 9.9999996 is in second 10, not 9.

    As CPython's ``_PyTime_DoubleToDenominator``: the fraction, in microseconds, rounded;
    a fraction that rounds to a whole second carries, a negative one borrows.
    """
    fraction, whole = math.modf(at)
    micro = round(fraction * 1e6)
    second = int(whole)
    if micro >= 1_000_000:
        return second + 1
    if micro < 0:
        return second - 1
    return second


@lru_cache(maxsize=4096)
def _iso_second(second: int) -> str:
    # strftime costs ~3 us and runs for every date of every object served; the dates of a
    # world's objects are few and repeat, as does "now" within a second.
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Reading an answer's headers: one header by name, and ``Retry-After``.

:func:`retry_after` is the one ``Retry-After`` parser of tenantctl: the connectors and the
``--notify`` webhook sender (:mod:`controller.gitops.notify`) both use it. RFC 9110 section
10.2.3 allows two forms:

- delay-seconds (``Retry-After: 7``), what Graph, Exchange and the sandbox send. Read as a
  number, so ``1.5`` is 1.5 s; a negative number waits 0 s; ``inf`` and ``nan`` are unreadable.
- an HTTP-date (``Retry-After: Thu, 26 Nov 2026 09:30:05 GMT``), a moment rather than a delay.
  It is measured from ``now`` (seconds since the epoch) when the caller has a wall clock,
  otherwise from the answer's own ``Date`` header: the service's clock, so a skewed local
  clock does not matter. A moment already past waits 0 s.

``None`` means "no usable Retry-After": the header is absent or unreadable, or a date came
without anything to measure it from. Each caller picks its own fallback (the connectors back
off; a notification waits a second).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name``, whatever its case in ``headers``."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait before sending again, from ``Retry-After`` (module docstring)."""
    value = header(headers, "Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        if now is None:
            now = _timestamp(header(headers, "Date"))
        when = _timestamp(value)
        return None if when is None or now is None else max(0.0, when - now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _timestamp(value: str | None) -> float | None:
    """An HTTP-date as seconds since the epoch, or ``None`` when it is not one."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "UTC, local zone unknown"
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()

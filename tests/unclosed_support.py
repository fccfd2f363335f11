"""What the garbage collector finds unclosed: an asyncio transport or a socket that nobody
closed is reported when it is collected (a ``ResourceWarning``, an error under the suite's
warning filter), in whichever test happens to be running then. Tests of code that opens
connections collect right after it, so the report lands in the test that made the leak."""

from __future__ import annotations

import gc
import sys


def unraisable_after_collect() -> list[str]:
    """What the garbage collector reports when it runs now, one line per object."""
    found: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda u: found.append(f"{u.object!r}: {u.exc_value!r}")
    try:
        gc.collect()
    finally:
        sys.unraisablehook = previous
    return found

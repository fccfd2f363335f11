"""Cancelling an apply gracefully: SIGTERM (CI cancellation, Kubernetes, ``kill``) and SIGINT
(Ctrl-C).

The first signal asks the run to stop: no operation is started after it, the calls in flight
finish and are journaled, and the run ends as usual (``cancelled`` in the journal, ``--out``,
Markdown and the notification written) with exit status 128 + the signal (130, 143). If the
calls in flight have not finished ``deadline`` seconds later, or a second signal comes, they
are cancelled: their intents stay without a result, as after a kill, and the next plan treats
them so. A signal before any operation could start (while observing) ends the run at the
deadline with nothing changed.

The handlers are Python signal handlers for the whole run (installed only in the main thread,
and put back afterwards); inside the event loop they hand over to it with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from controller.errors import TenantctlError

#: Seconds the calls in flight get to finish after the first signal. GitHub Actions sends
#: SIGINT, then SIGTERM 7.5 s later and SIGKILL 2.5 s after that; Kubernetes waits 30 s.
DEFAULT_CANCEL_DEADLINE = 7.0

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunCancelled(TenantctlError):
    """The run was cancelled before it could start any operation; nothing was changed."""

    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"cancelled by {name} before any operation started; nothing was changed")
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class Cancellation:
    """Whether, and by which signal, the run was asked to stop; and what to do when the
    deadline for the calls in flight passes (:meth:`attach`)."""

    def __init__(self, deadline: float = DEFAULT_CANCEL_DEADLINE) -> None:
        self.deadline = deadline
        self.signum: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_deadline: Callable[[], object] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._expired = False
        self._prompting = False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @contextmanager
    def prompting(self) -> Iterator[None]:
        """While a person is asked a question, Ctrl-C ends the run at once (nothing has been
        started yet): the question would otherwise wait on."""
        self._prompting = True
        try:
            yield
        finally:
            self._prompting = False

    def request(self, signum: int) -> None:
        """What a signal does (also callable from a test): the first asks to stop, a second
        stops the calls in flight now."""
        if self._prompting and signum == signal.SIGINT:
            raise KeyboardInterrupt
        first = self.signum is None
        if first:
            self.signum = signum
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._start_deadline if first else self._expire)

    def attach(self, on_deadline: Callable[[], object]) -> None:
        """From inside the running loop: call ``on_deadline`` there when the deadline passes
        (at once if it already passed); replaces an earlier one."""
        self._loop = asyncio.get_running_loop()
        self._on_deadline = on_deadline
        if self._expired:
            on_deadline()
        elif self.signum is not None:
            self._start_deadline()

    def detach(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._loop = None
        self._on_deadline = None

    def _start_deadline(self) -> None:
        if self._timer is None and self._loop is not None:
            self._timer = self._loop.call_later(self.deadline, self._expire)

    def _expire(self) -> None:
        self._expired = True
        if self._on_deadline is not None:
            self._on_deadline()

    @contextmanager
    def installed(self) -> Iterator[Cancellation]:
        """SIGINT and SIGTERM handled by this object for the block (in the main thread only;
        elsewhere signals keep their handlers)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self.request(signum)

        previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
        try:
            yield self
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

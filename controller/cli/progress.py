"""Progress of a run: a bar on a terminal, plain lines with -v in CI (no escape codes in logs).

One bar per phase: observing the tenants, then (apply) executing the operations. The bar is
drawn on stderr by its own rich console, and while it is live the terminal prints every
message through that console, above the bar (:attr:`Terminal.live`): a ``FAILED`` line never
lands on the bar's line. A phase's bar goes away when the phase is done, so a question asked
between phases (apply's interactive approval) is never drawn over.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from controller.cli.terminal import Terminal

if TYPE_CHECKING:  # rich is imported when a bar is drawn: CI and pipes never draw one
    from rich.progress import Progress, TaskID


class RunProgress:
    """``with RunProgress(terminal) as progress: progress.phase("observing", 5, "tenants")``,
    then ``progress.advance(name)`` once per item."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.what = ""
        self.unit = ""
        self.total = 0
        self.done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        return self

    def phase(self, what: str, total: int, unit: str) -> None:
        """Start a phase of ``total`` items (ends the previous phase's bar)."""
        self.end_phase()
        self.what, self.unit, self.total, self.done = what, unit, total, 0
        if self._shows_bar():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            console = Console(stderr=True, no_color=not self.terminal.color)
            self._bar = Bar(
                TextColumn(f"{what} {unit}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(what, total=total)
            self.terminal.live = console

    def advance(self, name: str) -> None:
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
            if self.done >= self.total:
                self.end_phase()
        else:
            self.terminal.detail(f"{self.what} {name} ({self.done}/{self.total})")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.end_phase()

    def _shows_bar(self) -> bool:
        return self.terminal.stderr_is_tty and self.terminal.verbosity >= 0 and self.total > 1

    def end_phase(self) -> None:
        """Take the bar away (before a question is asked, or when the phase is done)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._task = None
            self.terminal.live = None

"""Progress across tenants: a bar on a terminal, plain lines in CI (no escape codes in logs)."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from controller.cli.terminal import Terminal


class TenantProgress:
    def __init__(self, terminal: Terminal, total: int, what: str) -> None:
        self.terminal = terminal
        self.total = total
        self.what = what
        self.done = 0
        self._bar: Progress | None = None
        self._task: object = None

    def __enter__(self) -> TenantProgress:
        if self.terminal.is_tty and self.terminal.verbosity >= 0 and self.total > 1:
            self._bar = Progress(
                TextColumn(f"{self.what} tenants"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=self.total)
        return self

    def advance(self, name: str) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.advance(self._task)  # type: ignore[arg-type]
        else:
            self.terminal.detail(f"{self.what} {name} ({self.done}/{self.total})")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

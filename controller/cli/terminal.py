"""The one object that owns output: verbosity, colour, the live progress display, ``abort``.

Results go to stdout; everything else (progress, notes, warnings, errors, log lines) goes to
stderr. While a progress bar is live, every stderr line is printed through the bar's own
console, above the bar, so a message never lands on the bar's line.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NoReturn

import click

if TYPE_CHECKING:
    # Imported where used: every command starts with a Terminal, and --version, --help and
    # validate must not pay for rich and the renderers (tests/unit/test_cli_startup.py).
    from pydantic import BaseModel
    from rich.console import Console

ColorMode = Literal["auto", "always", "never"]
COLOR_MODES: tuple[ColorMode, ...] = ("auto", "always", "never")
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

# ISO 8601 in UTC, to the second: log lines of a CI run line up with the services' own logs.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Terminal:
    def __init__(
        self, verbosity: int = 0, color_mode: ColorMode = "auto", log_format: LogFormat = "text"
    ) -> None:
        self.verbosity = verbosity
        self.color_mode: ColorMode = color_mode
        self.log_format: LogFormat = log_format
        self.live: Console | None = None  # the progress bar's console while a bar is shown
        # -q and -v are accepted before and after the subcommand: each adds to these, and
        # ``changed`` (set by the root command) re-applies them, e.g. to the log level.
        self.quiet_given = verbosity < 0
        self.verbose_given = max(verbosity, 0)
        self.changed: Callable[[Terminal], None] | None = None

    def set_quiet(self) -> None:
        self.quiet_given = True
        self._update()

    def add_verbose(self, count: int) -> None:
        self.verbose_given += count
        self._update()

    def set_color(self, mode: ColorMode) -> None:
        self.color_mode = mode
        self._update()

    def set_log_format(self, log_format: LogFormat) -> None:
        self.log_format = log_format
        self._update()

    def _update(self) -> None:
        self.verbosity = -1 if self.quiet_given else self.verbose_given
        if self.changed is not None:
            self.changed(self)

    @property
    def quiet(self) -> bool:
        """``-q``: print only what a script needs (each command says what that is)."""
        return self.verbosity < 0

    @property
    def is_tty(self) -> bool:
        return sys.stdout.isatty()

    @property
    def stderr_is_tty(self) -> bool:
        return sys.stderr.isatty()

    @property
    def color(self) -> bool:
        """``--color always|never`` decide; ``auto``: on a terminal, unless ``NO_COLOR`` is set
        to anything but the empty string (no-color.org)."""
        if self.color_mode != "auto":
            return self.color_mode == "always"
        return self.is_tty and not os.environ.get("NO_COLOR")

    def out(self, text: str = "", *, nl: bool = True) -> None:
        """Results: what the command was asked for. Always printed, to stdout."""
        click.echo(text, nl=nl, color=self.color)

    def document(self, document: BaseModel, output: Literal["json", "yaml"]) -> None:
        """A command's result as its output contract's document (``-o json`` / ``-o yaml``)."""
        from controller.render._document import render_document

        self.out(render_document(document, output), nl=False)

    def info(self, text: str) -> None:
        """Progress and context, to stderr; silenced by --quiet."""
        if self.verbosity >= 0:
            self.err(text)

    def detail(self, text: str) -> None:
        if self.verbosity >= 1:
            self.err(text, level=logging.DEBUG)

    def error(self, text: str) -> None:
        if self.log_format == "json":
            self.err(text, level=logging.ERROR)
        else:
            self.err(click.style("error: ", fg="red", bold=True) + text)

    def err(self, text: str, *, level: int = logging.INFO) -> None:
        """One message to stderr, above the progress bar while one is live; with
        ``--log-format json`` one JSON object per line, as the log lines are."""
        if self.log_format == "json":
            from controller.cli.log_json import message_line

            for line in click.unstyle(text).splitlines() or [""]:
                self.log(message_line(level, line))
            return
        self.log(text)

    def log(self, text: str) -> None:
        """A line to stderr as it is (a log line the handler formatted, or a message)."""
        if self.live is not None:
            from rich.text import Text

            self.live.print(Text.from_ansi(text) if self.color else Text(click.unstyle(text)))
        else:
            click.echo(text, err=True, color=self.color)

    def abort(self, text: str, code: int = 1) -> NoReturn:
        self.error(text)
        raise click.exceptions.Exit(code)

    def log_handler(self) -> logging.Handler:
        """A logging handler that writes through this terminal (above a live progress bar):
        one line per record, text with its UTC time, or one JSON object (``--log-format``)."""
        return _TerminalLogHandler(self)


class _TerminalLogHandler(logging.Handler):
    def __init__(self, terminal: Terminal) -> None:
        super().__init__()
        self.terminal = terminal
        formatter: logging.Formatter
        if terminal.log_format == "json":
            from controller.cli.log_json import JsonLogFormatter

            formatter = JsonLogFormatter()
        else:
            formatter = logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT)
            formatter.converter = time.gmtime
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.terminal.log(self.format(record))
        except Exception:
            self.handleError(record)

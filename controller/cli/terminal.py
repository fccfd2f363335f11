"""The one object that owns output: verbosity, colour, and ``abort``."""

from __future__ import annotations

import sys
from typing import NoReturn

import click


class Terminal:
    def __init__(self, verbosity: int = 0) -> None:
        self.verbosity = verbosity

    @property
    def is_tty(self) -> bool:
        return sys.stdout.isatty()

    @property
    def color(self) -> bool:
        """Colours only on a terminal, and never when NO_COLOR is set."""
        import os

        return self.is_tty and "NO_COLOR" not in os.environ

    def out(self, text: str = "", *, nl: bool = True) -> None:
        """Results: what the command was asked for. Always printed, to stdout."""
        click.echo(text, nl=nl)

    def info(self, text: str) -> None:
        """Progress and context, to stderr; silenced by --quiet."""
        if self.verbosity >= 0:
            click.echo(text, err=True)

    def detail(self, text: str) -> None:
        if self.verbosity >= 1:
            click.echo(text, err=True)

    def error(self, text: str) -> None:
        click.echo(click.style("error: ", fg="red", bold=True) + text, err=True)

    def abort(self, text: str, code: int = 1) -> NoReturn:
        self.error(text)
        raise click.exceptions.Exit(code)

"""The security tests' shared fixture: the command line's logging at -vv, into a buffer."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from controller.cli import _configure_logging
from controller.cli.terminal import Terminal


@pytest.fixture
def root_logging(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """The logging set-up of the command line at -vv, writing to a buffer: text lines, or
    ``--log-format json`` given as the fixture's parameter (``indirect=True``)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()

    class Captured(Terminal):
        def log(self, text: str) -> None:  # where the log handler writes
            buffer.write(text + "\n")

    _configure_logging(Captured(verbosity=2, log_format=getattr(request, "param", "text")))
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.getLogger("msal").setLevel(logging.NOTSET)

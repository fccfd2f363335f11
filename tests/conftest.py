"""Fixtures every test package may use: a real PostgreSQL server (started once per session,
from this machine's binaries) and a journal location in either store. And hypothesis's
profile: CI's gate is derandomized (``HYPOTHESIS_PROFILE=ci``, set by ``.ci/run``), so a
landing never fails on an example no one ran before; everywhere else each run explores new
examples, and what they find becomes an ``@example``.

And a home of the suite's own: ``$HOME`` is a new empty folder for the session, so nothing a
test runs writes into the real ``~`` (msp.yaml's default secret sink is
``~/.tenantctl/secrets``; a test's fixed clock names each password file the same way every run,
and a shared home fills up until a later run fails).

And no keep-alive connection left open: a connection still open when its event loop closed is
a failure of the test that ran the loop. The garbage collector would report it (an unclosed
transport or socket) only when it next runs, in whichever later test that is; a collection
after every test would find it in the right one but costs the suite more than its own run
time, so the connections are watched instead (:func:`_no_connection_left_open`)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from controller.apply.journal import JournalLocation
from controller.connectors._pool import _Connection
from tests.postgres_support import REQUIRE, PostgresServer, binaries, required, running_server

REAL_HOME = os.environ.get("HOME", "")
SUITE_HOME = Path(tempfile.mkdtemp(prefix="tenantctl-test-home-"))
os.environ["HOME"] = str(SUITE_HOME)
os.environ.pop("TENANTCTL_HOME", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ["HOME"] = REAL_HOME
    shutil.rmtree(SUITE_HOME, ignore_errors=True)


settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1. Skipped only where no binary exists and the run does
    not require it (CI: TENANTCTL_REQUIRE_POSTGRES=1 or CI=true; there a missing server
    fails)."""
    found = binaries()
    if found is None:
        if required():
            pytest.fail(f"{REQUIRE}=1 but no initdb/pg_ctl/postgres found: install postgresql")
        pytest.skip("no PostgreSQL binaries here (apt-get install postgresql)")
    with running_server(found) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_location(request: pytest.FixtureRequest, tmp_path: Path) -> JournalLocation:
    """Where a test's journal is: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        return JournalLocation(path=tmp_path / "j" / "journal.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres")
    return JournalLocation(dsn=server.new_database())


# Every keep-alive connection made in this process and the event loop it belongs to (held
# weakly: a connection collected after it was closed drops out by itself).
_CONNECTIONS: weakref.WeakKeyDictionary[_Connection, asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)
_connection_init = _Connection.__init__


def _watched_init(
    self: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    _connection_init(self, reader, writer)
    _CONNECTIONS[self] = asyncio.get_running_loop()


_Connection.__init__ = _watched_init  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_connection_left_open() -> Iterator[None]:
    yield
    left = []
    for connection, loop in list(_CONNECTIONS.items()):
        if loop.is_closed():
            del _CONNECTIONS[connection]
            if not connection._writer.transport.is_closing():
                left.append(connection)
    if left:
        pytest.fail(
            f"{len(left)} keep-alive connection(s) still open when their event loop closed "
            "(a request under way when the transport closed?)"
        )

"""Fixtures every test package may use: a real PostgreSQL server (started once per session,
from this machine's binaries) and a journal location in either store. And hypothesis's
profile: CI's gate is derandomized (``HYPOTHESIS_PROFILE=ci``, set by ``.ci/run``), so a
landing never fails on an example no one ran before; everywhere else each run explores new
examples, and what they find becomes an ``@example``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from controller.apply.journal import JournalLocation
from tests.postgres_support import REQUIRE, PostgresServer, binaries, required, running_server

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

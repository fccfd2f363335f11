"""A fresh machine's ``make test`` finds a PostgreSQL server with no manual step: with nothing
on PATH and no Debian package, the tests take the binaries of the pgserver wheel the dev
dependencies install, and a server started from them answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from tests import postgres_support
from tests.postgres_support import binaries, running_server


def test_without_a_server_installed_the_wheels_binaries_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres_support, "_SEARCHED", str(tmp_path / "none" / "*" / "bin"))
    found = binaries()
    assert found is not None and found.parts[-3:] == ("pgserver", "pginstall", "bin")
    with running_server(found) as server, psycopg.connect(server.admin_dsn) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    assert row is not None and str(row[0]).split(".")[0].isdigit()

"""A real PostgreSQL server for the tests, started from the binaries on this machine.

``initdb`` into a temporary directory, ``pg_ctl start`` on a free port on 127.0.0.1 with its
unix socket in that directory, a password for the ``tenantctl`` role (so DSNs carry one, as
real ones do), and a fresh database per test. As root (CI, containers) the server runs as the
``postgres`` user Debian's package creates, since PostgreSQL refuses to run as root.

``.ci/run`` installs Debian's ``postgresql`` when the binaries are missing and sets
``TENANTCTL_REQUIRE_POSTGRES=1`` (CI systems set ``CI=true`` as well): then a missing binary
fails the tests instead of skipping them, so CI never passes without the PostgreSQL journal
tested. Only a developer's machine without the binaries skips them.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

REQUIRE = "TENANTCTL_REQUIRE_POSTGRES"
_SEARCHED = "/usr/lib/postgresql/*/bin"


def binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: on PATH, or Debian's newest."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl") and shutil.which("postgres"):
        return Path(found).resolve().parent
    for directory in sorted(glob.glob(_SEARCHED), reverse=True):
        if all((Path(directory) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(directory)
    return None


def required() -> bool:
    """CI must test the PostgreSQL journal: .ci/run sets TENANTCTL_REQUIRE_POSTGRES=1, and any
    CI system sets CI=true."""
    return os.environ.get(REQUIRE) == "1" or os.environ.get("CI", "").lower() == "true"


@dataclass
class PostgresServer:
    directory: Path
    port: int
    password: str
    _databases: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://tenantctl:{self.password}@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://tenantctl:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A DSN for a new, empty database."""
        name = f"journal_{os.getpid()}_{next(self._databases)}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def sql(self, dsn: str, statement: str) -> list[tuple[object, ...]]:
        """One statement on its own connection (autocommit); its rows, if any."""
        with psycopg.connect(dsn, autocommit=True) as connection:
            cursor = connection.execute(statement)  # type: ignore[call-overload]
            return cursor.fetchall() if cursor.description is not None else []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError("running as root, and there is no postgres (or nobody) user to run as")


@contextlib.contextmanager
def running_server(bin_dir: Path) -> Iterator[PostgresServer]:
    directory = Path(tempfile.mkdtemp(prefix="tenantctl-pg-"))
    user = None
    if os.geteuid() == 0:  # postgres refuses root: Debian's package creates its own user
        user = _unprivileged_user()
        shutil.chown(directory, user)
    password = secrets.token_urlsafe(18)
    (directory / "pw").write_text(password + "\n")
    if user is not None:
        shutil.chown(directory / "pw", user)
    data = directory / "data"
    port = _free_port()

    # The server is another machine: it keeps the real clock when the suite runs under
    # faketime (libfaketime's timers would never fire PostgreSQL's lock_timeout).
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LD_PRELOAD", "FAKETIME") and not k.startswith("FAKETIME_")
    }

    def run(*command: str) -> None:
        done = subprocess.run(
            command,
            user=user,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "tenantctl",
            "--pwfile",
            str(directory / "pw"),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        options = (
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        yield PostgresServer(directory, port, password)
    finally:
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)

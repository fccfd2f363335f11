"""A real PostgreSQL server for the tests, started from the binaries on this machine.

``initdb`` into a temporary directory, ``pg_ctl start`` on a free port on 127.0.0.1 with its
unix socket in that directory, a password for the ``tenantctl`` role (so DSNs carry one, as
real ones do), and a fresh database per test. As root (CI, containers) the server runs as the
``postgres`` user Debian's package creates, since PostgreSQL refuses to run as root.

Where no server is installed, the dev dependencies' pgserver wheel provides the binaries, so
a fresh machine's ``make test`` tests the shared journal too. ``.ci/run`` installs Debian's
``postgresql`` when the binaries are missing and sets
``TENANTCTL_REQUIRE_POSTGRES=1`` (CI systems set ``CI=true`` as well): then a missing binary
fails the tests instead of skipping them, so CI never passes without the PostgreSQL journal
tested. Only a machine with neither the binaries nor a pgserver wheel for its platform skips
them.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
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
    """The directory holding initdb, pg_ctl and postgres: on PATH, Debian's newest, or the
    one in the pgserver wheel the dev dependencies install (so `make test` on a fresh
    machine has a server with no manual step)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl") and shutil.which("postgres"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob(_SEARCHED), reverse=True)
    wheel = importlib.util.find_spec("pgserver")  # located, not imported
    if wheel is not None and wheel.origin is not None:
        candidates.append(str(Path(wheel.origin).parent / "pginstall" / "bin"))
    for directory in candidates:
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


def _runnable_by(user: str, bin_dir: Path, directory: Path) -> Path:
    """``bin_dir``, or a copy in ``directory`` when ``user`` cannot run it where it is
    (pgserver's binaries inside a venv in a private clone, run as CI's root). The copy keeps
    the wheel's layout: its binaries find their libraries at ``$ORIGIN/../../../pgserver.libs``."""
    try:
        probe = subprocess.run(
            [str(bin_dir / "initdb"), "--version"],
            user=user,
            capture_output=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return bin_dir
    except PermissionError:
        pass
    package = bin_dir.parents[1]  # .../site-packages/pgserver (bin is pginstall/bin)
    copy = directory / "wheel"
    shutil.copytree(package, copy / package.name, ignore=shutil.ignore_patterns("include"))
    libraries = package.with_name(f"{package.name}.libs")
    if libraries.is_dir():
        shutil.copytree(libraries, copy / libraries.name)
    for path in (copy, *copy.rglob("*")):
        shutil.chown(path, user)
    return copy / bin_dir.relative_to(package.parent)


@contextlib.contextmanager
def running_server(bin_dir: Path) -> Iterator[PostgresServer]:
    directory = Path(tempfile.mkdtemp(prefix="tenantctl-pg-"))
    user = None
    if os.geteuid() == 0:  # postgres refuses root: Debian's package creates its own user
        user = _unprivileged_user()
        shutil.chown(directory, user)
        bin_dir = _runnable_by(user, bin_dir, directory)
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

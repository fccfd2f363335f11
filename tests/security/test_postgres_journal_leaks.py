"""The shared PostgreSQL journal's DSN password leaks nowhere, at -vv in text and in
``--log-format json``: not from ``apply --journal postgresql://...``, ``history`` or
``journal export`` (a password with URL-escaped ``@``, ``:`` and ``/`` in it), nor from a
journal that fails (a wrong password, a database that does not exist, a server that is down),
whose error is one clear line with exit status 1 and no traceback; nor from
``tenantctl controller --once`` with msp.yaml's ``journal: {postgres: {dsn: {env: NAME}}}``.
The journal's rows hold none of it either, nor the generated passwords."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from tests.postgres_support import PostgresServer
from tests.security.leak_search import (
    clean_environment,
    contoso_estate,
    leaks,
    tenantctl,
    written_files,
)

# Every character a URL must escape in a password, so the DSN carries it escaped.
PASSWORD = "Pg@ss:w/rd%?&=#-PLANTED-7d2e"
WRONG = "wrong-5b9a-PLANTED-password"


@pytest.fixture
def dsn(postgres: PostgresServer) -> str:
    """A new database, owned by a role whose password needs escaping in a URL."""
    database = postgres.new_database().rsplit("/", 1)[1]
    role = f"leaky_{database}"
    postgres.sql(postgres.admin_dsn, f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    postgres.sql(postgres.admin_dsn, f"ALTER DATABASE {database} OWNER TO {role}")
    return f"postgresql://{role}:{quote(PASSWORD, safe='')}@127.0.0.1:{postgres.port}/{database}"


def _journal_rows(postgres: PostgresServer, dsn: str) -> bytes:
    rows = [
        *postgres.sql(dsn, "SELECT * FROM runs"),
        *postgres.sql(dsn, "SELECT * FROM operations"),
    ]
    assert rows
    return repr(rows).encode()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_apply_history_and_export_never_show_the_dsns_password(
    tmp_path: Path, postgres: PostgresServer, dsn: str, log_format: str
) -> None:
    estate = contoso_estate(tmp_path)
    journal = ["--journal", dsn, "--log-format", log_format]
    outputs: dict[str, bytes] = {}
    for args in (
        ["apply", *estate.options, *journal, "--out", "result.json", "--no-interactive"],
        ["history", *journal],
        ["history", *journal, "--run", "1", "-o", "json"],
        ["journal", "export", *journal],
    ):
        done = tenantctl(args, cwd=tmp_path, env=estate.env)
        shown = done.stdout + done.stderr
        assert done.returncode == 0, shown.decode(errors="replace")[-3000:]
        outputs[" ".join(args[:2])] = shown
    assert b"DEBUG" in outputs["apply --desired"]
    assert b"user.create" in outputs["history --journal"]
    assert b"user.resetPassword" in outputs["journal export"]

    haystacks = {
        **outputs,
        **written_files(tmp_path, outside=[estate.sandbox_state]),
        "journal rows": _journal_rows(postgres, dsn),
    }
    secrets = [PASSWORD, quote(PASSWORD, safe=""), postgres.password, *estate.passwords()]
    assert leaks(haystacks, secrets) == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once it is closed


@pytest.mark.parametrize("failure", ["wrong password", "no such database", "server down"])
def test_a_failing_journal_is_one_line_without_the_password(
    tmp_path: Path, postgres: PostgresServer, dsn: str, failure: str
) -> None:
    base, database = dsn.rsplit("/", 1)
    broken = {
        "wrong password": dsn.replace(quote(PASSWORD, safe=""), WRONG),
        "no such database": f"{base}/no_such_{database}",
        "server down": dsn.replace(f":{postgres.port}/", f":{_closed_port()}/"),
    }[failure]
    said = {
        "wrong password": b"password authentication failed",
        "no such database": b"does not exist",
        "server down": b"Connection refused",
    }[failure]
    estate = contoso_estate(tmp_path)
    outputs: dict[str, bytes] = {}
    for args in (
        ["apply", *estate.options, "--journal", broken, "--no-interactive"],
        ["history", "--journal", broken, "--log-format", "json"],
        ["journal", "export", "--journal", broken],
    ):
        done = tenantctl(args, cwd=tmp_path, env=estate.env)
        shown = done.stdout + done.stderr
        assert done.returncode == 1, shown.decode(errors="replace")[-3000:]
        assert b"Traceback" not in shown and b"internal error" not in shown
        errors = [_error_text(line) for line in done.stderr.splitlines()]
        errors = [line for line in errors if line is not None]
        assert len(errors) == 1 and said in errors[0], shown.decode(errors="replace")[-3000:]
        assert re.search(rb"the journal PostgreSQL \w+@127\.0\.0\.1:\d+/\w+ ", errors[0])
        outputs[args[0]] = shown
    haystacks = {**outputs, **written_files(tmp_path, outside=[estate.sandbox_state])}
    secrets = [PASSWORD, quote(PASSWORD, safe=""), WRONG, postgres.password]
    assert leaks(haystacks, secrets) == []


@pytest.mark.parametrize("reachable", [True, False])
def test_the_controller_never_shows_msp_yamls_journal_dsn(
    tmp_path: Path, postgres: PostgresServer, dsn: str, reachable: bool
) -> None:
    """``controller --once --sandbox -vv --log-format json``, its journal in msp.yaml from the
    environment; also when that journal refuses the password."""
    estate = contoso_estate(tmp_path)
    msp_file = estate.desired / "msp.yaml"
    msp = yaml.safe_load(msp_file.read_text())
    msp["spec"]["journal"] = {"postgres": {"dsn": {"env": "TENANTCTL_LEAK_JOURNAL_DSN"}}}
    msp_file.write_text(yaml.safe_dump(msp, sort_keys=False))
    given = dsn if reachable else dsn.replace(quote(PASSWORD, safe=""), WRONG)
    env = {**estate.env, "TENANTCTL_LEAK_JOURNAL_DSN": given}
    done = tenantctl(
        ["controller", *estate.options, "--once", "--log-format", "json"], cwd=tmp_path, env=env
    )
    shown = done.stdout + done.stderr
    assert done.returncode == (0 if reachable else 1), shown.decode(errors="replace")[-3000:]
    assert b"Traceback" not in shown
    lines = done.stderr.splitlines()
    logged = [json.loads(line) for line in lines]  # with --log-format json, every line
    haystacks = {"controller": shown, **written_files(tmp_path, outside=[estate.sandbox_state])}
    if reachable:
        assert any(record["level"] == "DEBUG" for record in logged)
        haystacks["journal rows"] = _journal_rows(postgres, dsn)
    else:
        errors = [
            r["message"] for r in logged if r["level"] == "ERROR" and r["logger"] == "tenantctl"
        ]
        assert len(errors) == 1 and "password authentication failed" in errors[0], shown
    secrets = [PASSWORD, quote(PASSWORD, safe=""), WRONG, *estate.passwords()]
    assert leaks(haystacks, secrets) == []


def test_a_key_value_dsn_is_a_database_never_a_file_named_by_its_password(
    tmp_path: Path, postgres: PostgresServer, dsn: str
) -> None:
    """libpq's other DSN form, ``host=... password=...``, as msp.yaml accepts it: given to
    ``--journal`` it names the database (described without its password), not a SQLite file
    whose name, and every message naming it, would hold the password; one with a keyword
    libpq does not know is a usage error that does not echo it."""
    role, database = dsn.split("//", 1)[1].split(":", 1)[0], dsn.rsplit("/", 1)[1]
    conninfo = (
        f"host=127.0.0.1 port={postgres.port} dbname={database} user={role} password={PASSWORD}"
    )
    env = clean_environment(tmp_path)
    read = tenantctl(["history", "--journal", conninfo], cwd=tmp_path, env=env)
    misspelt = tenantctl(
        ["journal", "export", "--journal", conninfo.replace("password=", "passwrd=")],
        cwd=tmp_path,
        env=env,
    )
    assert read.returncode == 0, read.stdout + read.stderr
    assert f"no journal at PostgreSQL {role}@127.0.0.1:{postgres.port}/{database}".encode() in (
        read.stdout
    )
    assert misspelt.returncode == 64, misspelt.stdout + misspelt.stderr
    assert b"DSN cannot be parsed" in misspelt.stderr
    outputs = {"history": read.stdout + read.stderr, "export": misspelt.stdout + misspelt.stderr}
    assert leaks(outputs, [PASSWORD]) == []


def test_a_dsn_whose_port_is_no_number_is_a_usage_error(tmp_path: Path, dsn: str) -> None:
    """libpq accepts it until it connects; then the error named the journal ``<URL>``."""
    bad = dsn.rsplit(":", 1)[0] + ":54x2/journal"
    done = tenantctl(["history", "--journal", bad], cwd=tmp_path, env=clean_environment(tmp_path))
    assert done.returncode == 64, done.stdout + done.stderr
    assert b"has port '54x2', which is no number" in done.stderr
    assert b"Traceback" not in done.stderr
    assert leaks({"history": done.stdout + done.stderr}, [PASSWORD]) == []


def _error_text(line: bytes) -> bytes | None:
    """The final error, whether printed as text (``error: ...``) or, with ``--log-format
    json``, as an object of level ERROR (then every line of stderr must be one)."""
    if line.startswith(b"error:"):
        return line
    if line.startswith(b"{"):
        found = json.loads(line)
        return str(found["message"]).encode() + b" " if found["level"] == "ERROR" else None
    return None

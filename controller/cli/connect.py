"""``tenantctl connect check``: does the partner app (and CIPP) work? The first command an
MSP runs after registering the app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from controller.cli.options import desired_option
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.connectors import CheckResult, ConnectionSettings
from controller.errors import UsageError
from controller.loader import load_file
from controller.loader.shape import check_header, validate_model
from controller.models import MSPConfig
from controller.observe import check_connections
from controller.reconcile import connect_check


@click.group(epilog="\b\nExample:\n  tenantctl connect check")
def connect() -> None:
    """Check the connections to Microsoft 365 and CIPP."""


EPILOG = """\b
Examples:
  export TENANTCTL_CLIENT_SECRET=...   # as named in msp.yaml
  tenantctl connect check
  tenantctl connect check --desired ./desired
  tenantctl connect check --sandbox    # against the local sandbox, no credentials needed

\b
Exit status: 0 every configured connection works, 1 otherwise.
"""


@connect.command(epilog=EPILOG)
@desired_option
@world_options
@click.pass_obj
def check(terminal: Terminal, desired: Path, world: WorldOptions) -> None:
    """Acquire an app-only token in the partner tenant, list the GDAP customers it sees, and
    call CIPP's /api/me when CIPP is configured.

    Prints one line per check; a failure says what is wrong and how to fix it (wrong or
    expired secret, missing admin consent, app not found, CIPP unreachable or its secret
    rotated). Exit status 0 when every configured connection works, 1 otherwise.
    """
    msp = _load_msp(terminal, desired / "msp.yaml")
    results = connect_check(msp, world.where, run_checks)
    for result in results:
        terminal.out(result.line())
    failed = [r for r in results if not r.ok]
    if failed:
        terminal.info(f"{len(failed)} of {len(results)} check(s) failed")
        raise click.exceptions.Exit(1)
    terminal.info(f"all {len(results)} check(s) passed")


def run_checks(settings: ConnectionSettings) -> list[CheckResult]:
    """A seam for tests (mock transports) and the sandbox."""
    return asyncio.run(check_connections(settings))


def _load_msp(terminal: Terminal, path: Path) -> MSPConfig:
    if not path.is_file():
        raise UsageError(f"{path} not found; point --desired at the folder holding msp.yaml")
    source = load_file(path)
    problems = list(source.diagnostics)
    msp: MSPConfig | None = None
    if not problems:
        problems = check_header(source, "MSP")
    if not problems:
        msp, problems = validate_model(source, MSPConfig)
    if msp is None:
        for problem in problems:
            terminal.out(str(problem))
        terminal.abort(f"{path} is not valid; run `tenantctl validate`")
    return msp

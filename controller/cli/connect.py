"""``tenantctl connect check``: does the partner app (and CIPP) work? The first command an
MSP runs after registering the app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from controller.cli.options import OutputFormat, desired_option, output_options
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.connectors import CheckResult, ConnectionSettings, CredentialExpiry
from controller.errors import UsageError
from controller.loader import load_file
from controller.loader.shape import check_header, validate_model
from controller.models import MSPConfig
from controller.observe import check_connections
from controller.reconcile import connect_check
from controller.render.documents import ConnectCheckReport


@click.group(epilog="\b\nExample:\n  tenantctl connect check")
def connect() -> None:
    """Check the connections to Microsoft 365 and CIPP."""


EPILOG = """\b
Examples:
  export TENANTCTL_CLIENT_SECRET=...   # as named in msp.yaml
  tenantctl connect check
  tenantctl connect check --desired ./desired
  tenantctl connect check --sandbox    # against the local sandbox, no credentials needed
  tenantctl connect check -q           # only what failed or needs attention soon
  tenantctl connect check -o json

\b
The credential line warns 30 days before the partner app's secret or certificate expires,
read from its app registration (Application.Read.All or Directory.Read.All in the partner
tenant), or from spec.partner.credential.notAfter in msp.yaml when the app may not read it.

\b
Exit status: 0 every configured connection works (warnings included), 1 otherwise.
"""


@connect.command(epilog=EPILOG)
@desired_option
@output_options
@world_options
@click.pass_obj
def check(terminal: Terminal, desired: Path, output: OutputFormat, world: WorldOptions) -> None:
    """Acquire an app-only token in the partner tenant, check when its secret or certificate
    expires, list the GDAP customers it sees, and call CIPP's /api/me when CIPP is configured.

    Prints one line per check; a failure says what is wrong and how to fix it (wrong or
    expired secret, missing admin consent, app not found, CIPP unreachable or its secret
    rotated); WARN says what needs doing soon. Exit status 0 when every configured connection
    works, 1 otherwise.
    """
    msp = _load_msp(terminal, desired / "msp.yaml")
    results = connect_check(msp, world.where, run_checks)
    if output != "table":
        report = ConnectCheckReport.model_validate(
            [
                {
                    "name": r.name,
                    "status": r.status,
                    "summary": r.summary,
                    "fix": r.fix,
                    "code": r.code,
                }
                for r in results
            ]
        )
        terminal.document(report, output)
    else:
        for result in results:
            if not terminal.quiet or result.status != "ok":
                terminal.out(result.line())
    failed = [r for r in results if not r.ok]
    if failed:
        terminal.info(f"{len(failed)} of {len(results)} check(s) failed")
        raise click.exceptions.Exit(1)
    terminal.info(f"all {len(results)} check(s) passed")


def run_checks(settings: ConnectionSettings, expiry: CredentialExpiry) -> list[CheckResult]:
    """A seam for tests (mock transports) and the sandbox."""
    return asyncio.run(check_connections(settings, expiry=expiry))


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

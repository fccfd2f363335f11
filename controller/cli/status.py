"""``tenantctl status``: the MSP's companies view, one row per tenant with its badges."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from controller.cli.options import OutputFormat, desired_option, output_options, tenant_option
from controller.cli.progress import RunProgress
from controller.cli.selection import chosen_tenants
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.reconcile import plan_run
from controller.render.status import (
    needs_attention,
    render_status_rich,
    render_status_text,
    status_report,
    status_rows,
)

EPILOG = """\b
Examples:
  tenantctl status --sandbox                   the demo estate against the local sandbox
  tenantctl status --tenant contoso --tenant fabrikam
  tenantctl status -o json | jq '.[] | select(.consent.status != "granted") | .name'
  tenantctl status -q                          the tenants that need attention, one per line

\b
Columns:
  GDAP      active | expiring (end date) | expired | none, and GA/PRA: whether the
            relationship holds Global Administrator / Privileged Role Administrator
  CONSENT   granted | partial (missing: ...) | pending
  EXCHANGE  pending | propagating | working (direct) | working (cipp) | not managed
  CHANGES   operations an API can carry out; MANUAL steps for a person (links in
            `tenantctl plan`); FINDINGS from checks; OBSERVED complete, partial or failed

\b
Exit status (the same rule as `tenantctl plan`):
  0   every selected tenant was observed in full and matches git
  2   changes or manual steps are pending, or an area is unknown
  1   a connection check failed (credential, GDAP, CIPP), a policy check failed,
      an object could not be planned, or nothing could be observed
  64  usage error (a wrong flag or argument)
"""


@click.command(epilog=EPILOG)
@desired_option
@tenant_option("Only this tenant (repeatable; any case).")
@click.option("--shard", metavar="K/N", help="Only shard K of N (stable split of tenants).")
@output_options
@world_options
@click.pass_obj
def status(
    terminal: Terminal,
    desired: Path,
    tenants: tuple[str, ...],
    shard: str | None,
    output: OutputFormat,
    world: WorldOptions,
) -> None:
    """Status: the onboarding badges and pending work of every customer tenant.

    Observes and plans exactly as `tenantctl plan` does (reads only), and shows one row per
    tenant: GDAP, Consent and Exchange badges, pending changes, manual steps, findings, and
    whether the tenant could be fully observed. A table on a terminal, plain columns in CI.
    """
    state = chosen_tenants(terminal, desired, tenants, shard=shard)

    with RunProgress(terminal) as progress:
        progress.phase("observing", len(state.tenants), "tenants")
        run = plan_run(
            state,
            world.where,
            concurrency=world.concurrency,
            on_observed=progress.advance,
        )
    result = run.result
    for note in run.notes:
        terminal.info(f"note: {note}")
    rows = status_rows(result.plan, result.observed)
    if output != "table":
        terminal.document(status_report(rows), output)
    elif terminal.quiet:
        for row in rows:
            if needs_attention(row):
                terminal.out(row.name)
    elif terminal.is_tty:
        width = shutil.get_terminal_size().columns
        terminal.out(render_status_rich(rows, color=terminal.color, width=width), nl=False)
    else:
        terminal.out(render_status_text(rows), nl=False)
    for check in result.plan.failed_checks:
        terminal.error(check.line())
    raise click.exceptions.Exit(result.plan.exit_status)

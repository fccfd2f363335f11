"""``tenantctl get KIND``: what a tenant holds, kubectl-style, and whether git manages it."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from controller.cli.options import WideFormat, desired_option, tenant_option, wide_output_option
from controller.cli.progress import RunProgress
from controller.cli.selection import chosen_tenants, selector_option
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.errors import UsageError
from controller.reconcile import get_run
from controller.render.get import render_get_names, render_get_table
from controller.render.inventory import KINDS, Kind

EPILOG = """\b
Kinds:
  users                 licences, enabled, MFA registration, risk
  groups                Entra security and Microsoft 365 groups, with their member count
  members --group NICK  the members of one group (a mailNickname, or a distribution
                        group's alias or address)
  distribution-groups   Exchange distribution groups
  shared-mailboxes      with FullAccess, SendAs and SendOnBehalf
  licences              units used and available per SKU
  consent               the app's permissions, granted vs required
  gdap                  GDAP relationships: status, roles, end date

\b
Examples:
  tenantctl get users --tenant contoso --sandbox
  tenantctl get members --group sales --tenant contoso
  tenantctl get shared-mailboxes -o wide
  tenantctl get licences --selector tier=gold
  tenantctl get users -o json | jq -r '.items[] | select(.mfa == "notRegistered") | .tenant'

\b
The GIT column says where git declares the object (file:line), or "no". What could not be
read is listed under the table with its reason: never shown as empty.

\b
Exit status:
  0   everything asked for was read
  2   something could not be read (listed, with its reason)
  1   a connection check failed (credential, GDAP, CIPP)
  64  usage error (a wrong flag or argument)
"""


@click.command(epilog=EPILOG)
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@desired_option
@tenant_option("Only this tenant (repeatable; any case). Default: every tenant.")
@selector_option
@click.option(
    "--group",
    metavar="NICK",
    help="With `get members`: the group (mailNickname, or a distribution group's alias or "
    "address).",
)
@wide_output_option
@world_options
@click.pass_obj
def get(
    terminal: Terminal,
    kind: str,
    desired: Path,
    tenants: tuple[str, ...],
    selectors: tuple[str, ...],
    group: str | None,
    output: str,
    world: WorldOptions,
) -> None:
    """Get: one kind of object in the tenants, read live, and whether git manages each.

    Reads only, through the same observation as `tenantctl plan`; plans nothing. With -q:
    one TENANT/NAME per line.
    """
    chosen = cast(Kind, kind)
    if chosen == "members" and not group:
        raise UsageError("get members needs --group NICK (the group's mailNickname)")
    if group and chosen != "members":
        raise UsageError(f"--group is for `get members`, not `get {kind}`")
    state = chosen_tenants(terminal, desired, tenants, selectors=selectors)

    with RunProgress(terminal) as progress:
        progress.phase("observing", len(state.tenants), "tenants")
        run = get_run(
            state,
            world.where,
            chosen,
            group=group,
            concurrency=world.concurrency,
            on_observed=lambda o: progress.advance(o.name),
        )
    result = run.result
    for note in run.notes:
        terminal.info(f"note: {note}")
    fmt = cast(WideFormat, output)
    if fmt in ("json", "yaml"):
        terminal.document(result.document, "json" if fmt == "json" else "yaml")
    elif terminal.quiet:
        terminal.out(render_get_names(result.document), nl=False)
    else:
        terminal.out(render_get_table(result.document, wide=fmt == "wide"), nl=False)
    for check in result.failed_checks:
        terminal.error(check.line())
    raise click.exceptions.Exit(result.exit_status)

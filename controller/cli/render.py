"""``tenantctl render``: a tenant as the planner sees it, with its profiles applied."""

from __future__ import annotations

from pathlib import Path

import click

from controller.cli.options import desired_option
from controller.cli.terminal import Terminal
from controller.loader import load_desired
from controller.reconcile import select_tenants
from controller.render.tenant import render_effective_tenant

EPILOG = """\b
Example:
  tenantctl render --tenant contoso

\b
Exit status: 0 printed, 1 the desired state is invalid, 64 no such tenant.
"""


@click.command(epilog=EPILOG)
@desired_option
@click.option("--tenant", "name", required=True, metavar="NAME", help="The tenant's name.")
@click.pass_obj
def render(terminal: Terminal, desired: Path, name: str) -> None:
    """Print a tenant's effective document: its file with its profiles applied, each object
    and field commented with the file and line it came from. Reads files only."""
    state = select_tenants(load_desired(desired), [name])
    terminal.out(render_effective_tenant(state, name).rstrip("\n"))

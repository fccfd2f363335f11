"""``tenantctl schema``: write the JSON Schemas editors use to validate YAML as it is typed."""

from __future__ import annotations

from pathlib import Path

import click

from controller.cli.terminal import Terminal
from controller.schemas import write_schemas


@click.command(
    epilog="\b\nExample:\n  tenantctl schema --out schemas\n\n"
    "Then start a tenant file with:\n"
    "  # yaml-language-server: $schema=../../schemas/tenant.schema.json\n"
    "and a profile with:\n"
    "  # yaml-language-server: $schema=../../schemas/profile.schema.json"
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the schemas into.",
)
@click.pass_obj
def schema(terminal: Terminal, out: Path) -> None:
    """Write JSON Schemas: of the desired-state files (msp.yaml, tenant and profile files), of
    the plan file, approval records and saved observations, and of each command's -o json
    output (validate, apply, approve, history, history-run, status, discover, import,
    connect-check, get-KIND for each kind of get, report)."""
    for path in write_schemas(out):
        terminal.out(f"wrote {path}")

"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

desired_option = click.option(
    "--desired",
    "desired",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("desired"),
    show_default=True,
    help="Desired-state directory (holds msp.yaml and tenants/).",
)

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts.",
)

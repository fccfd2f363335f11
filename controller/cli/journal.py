"""``tenantctl journal``: the journal itself; ``journal export`` writes it as JSON Lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from controller.apply import Journal
from controller.apply.journal import JournalLocation, journal_exists
from controller.cli.options import desired_option, journal_option
from controller.cli.terminal import Terminal
from controller.loader import load_msp
from controller.reconcile import journal_location
from controller.render.history import export_lines

EXPORT_EPILOG = """\b
Examples:
  tenantctl journal export > journal.jsonl
  tenantctl journal export --since 2026-11-01 --journal postgresql://auditor@db/tenantctl

\b
One JSON object per line: each run ("record": "run"), then each of its operations
("record": "operation"), camelCase, as schemas/journal-export.schema.json describes. A SIEM
reads it as it is; nothing in it is secret (the journal holds no parameters or passwords).
"""


@click.group(
    epilog="\b\nExamples:\n  tenantctl journal export > journal.jsonl\n"
    "  tenantctl journal export --since 2026-11-01"
)
def journal() -> None:
    """The journal of apply runs (tenantctl history shows it)."""


class _Moment(click.ParamType[dt.datetime, str]):
    name = "moment"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is no date or time (2026-11-01 or 2026-11-01T09:00:00Z)")
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@journal.command(epilog=EXPORT_EPILOG)
@journal_option(
    "The journal: a SQLite file or a postgresql:// URL  [default: msp.yaml's journal, else "
    ".tenantctl/journal.sqlite in the desired-state repository].",
)
@click.option(
    "--since",
    type=_Moment(),
    default=None,
    metavar="DATE|TIME",
    help="Only runs started at or after this (ISO 8601; UTC unless it says otherwise).",
)
@desired_option
@click.pass_obj
def export(
    terminal: Terminal,
    journal: JournalLocation | None,
    since: dt.datetime | None,
    desired: Path,
) -> None:
    """Write the journal's runs and operations to stdout as JSON Lines, for a SIEM."""
    location = journal_location(journal, None if journal else load_msp(desired), desired)
    if not journal_exists(location):
        terminal.info(f"no runs recorded (no journal at {location.describe()})")
        return
    after = None
    if since is not None:
        after = since.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        after = after.replace("+00:00", "Z")
    with Journal.open(location, create=False) as opened:
        runs = ((run, opened.operations(run.id)) for run in opened.runs(since=after))
        for line in export_lines(location.describe(), runs):
            terminal.out(line)

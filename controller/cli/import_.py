"""``tenantctl import``: write tenant files from what the tenants hold.

The module is ``import_`` because ``import`` is a Python keyword; the command is ``import``.
"""

from __future__ import annotations

from pathlib import Path

import click

from controller.cli.options import OutputFormat, desired_option, output_options, tenant_option
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.errors import UsageError
from controller.importer import (
    SECTIONS,
    ImportOptions,
    ImportOutcome,
    ImportRequest,
    Section,
    import_run,
)
from controller.loader import load_desired
from controller.reconcile import Run
from controller.render.documents import ImportReport

EPILOG = """\b
Examples:
  tenantctl import --sandbox --tenant contoso --force      replace contoso's spec from the tenant
  tenantctl import --tenant litware                        a GDAP customer not yet in desired/
  tenantctl import --all --include users,groups --exclude-disabled
  tenantctl import --tenant fabrikam --match 'sales*' --force
  tenantctl import --all -q                                the files written, one per line

\b
--force replaces the spec with what the tenant holds and keeps what observation cannot know:
checks, policy, existingPrincipals (never imported as managed users), membership: additive,
permissions: additive, and comments on objects that are still there.
  tenantctl import --tenant contoso --force --omit-profile-objects

\b
Exit status:
  0  every tenant written (with --all, existing files are skipped unless --force)
  1  a tenant was refused (file exists, observation incomplete, would not validate) or error
"""


@click.command("import", epilog=EPILOG)
@desired_option
@tenant_option(
    "A tenant file's name, a GDAP customer's name (as a slug) or a tenant id (repeatable; any "
    "case)."
)
@click.option(
    "--all", "all_tenants", is_flag=True, help="Every tenant file and every GDAP customer."
)
@click.option(
    "--include",
    metavar="SECTIONS",
    default=",".join(SECTIONS),
    show_default=True,
    help="Comma-separated sections to import.",
)
@click.option("--exclude-disabled", is_flag=True, help="Leave out disabled users.")
@click.option(
    "--match",
    "patterns",
    multiple=True,
    metavar="PATTERN",
    help="Only objects whose UPN, address or mailNickname matches this glob (repeatable).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing file's spec from the tenant (metadata, profiles, checks, policy, "
    "existingPrincipals, additive membership and permissions, and comments are kept).",
)
@click.option(
    "--omit-profile-objects",
    is_flag=True,
    help="Leave out objects the tenant's profiles already declare as the tenant has them.",
)
@output_options
@world_options
@click.pass_obj
def import_(
    terminal: Terminal,
    desired: Path,
    tenants: tuple[str, ...],
    all_tenants: bool,
    include: str,
    exclude_disabled: bool,
    patterns: tuple[str, ...],
    force: bool,
    output: OutputFormat,
    omit_profile_objects: bool,
    world: WorldOptions,
) -> None:
    """Import: write tenant files from the users, groups, distribution groups and shared
    mailboxes the tenants hold, with consent and the Exchange mode that works.

    Reads only, except for the files it writes. A file is written whole, and only when every
    area it needs was observed and the result validates; `plan` right after reports no
    changes for the tenant.
    """
    run = _run(
        terminal,
        desired,
        tenants,
        all_tenants,
        include,
        exclude_disabled,
        patterns,
        force,
        omit_profile_objects,
        world,
    )
    outcomes = run.result
    for note in run.notes:
        terminal.info(f"note: {note}")
    if output != "table":
        report = ImportReport.model_validate(
            [
                {
                    "name": o.name,
                    "path": str(o.path),
                    "status": o.status,
                    "message": o.message,
                    "notes": o.notes,
                }
                for o in outcomes
            ]
        )
        terminal.document(report, output)
    elif terminal.quiet:
        for outcome in outcomes:
            if outcome.status == "written":
                terminal.out(str(outcome.path))
            elif outcome.status == "refused":
                terminal.error(outcome.message)
    else:
        _print(terminal, outcomes)
    if not all(o.ok for o in outcomes):
        raise click.exceptions.Exit(1)


def _print(terminal: Terminal, outcomes: list[ImportOutcome]) -> None:
    for outcome in outcomes:
        if outcome.status == "refused":
            terminal.error(outcome.message)
            continue
        shown = outcome.message if outcome.status == "written" else f"skipped: {outcome.message}"
        terminal.out(shown)
        for note in outcome.notes:
            terminal.info(f"  note: {note}")


def _run(
    terminal: Terminal,
    desired: Path,
    tenants: tuple[str, ...],
    all_tenants: bool,
    include: str,
    exclude_disabled: bool,
    patterns: tuple[str, ...],
    force: bool,
    omit_profile_objects: bool,
    world: WorldOptions,
) -> Run[list[ImportOutcome]]:
    if all_tenants and tenants:
        raise UsageError("use --tenant NAME or --all, not both")
    request = ImportRequest(
        names=tenants,
        all_tenants=all_tenants,
        force=force,
        options=ImportOptions(
            include=parse_sections(include),
            exclude_disabled=exclude_disabled,
            match=patterns,
            omit_profile_objects=omit_profile_objects,
        ),
    )
    state = load_desired(desired)
    return import_run(
        state,
        desired,
        request,
        world.where,
        concurrency=world.concurrency,
        on_observed=lambda o: terminal.detail(f"observed {o.name}"),
    )


def parse_sections(text: str) -> frozenset[Section]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown or not chosen:
        raise UsageError(
            f"--include takes a comma-separated list of {', '.join(SECTIONS)}"
            + (f" (not {', '.join(unknown)})" if unknown else "")
        )
    return frozenset(s for s in SECTIONS if s in chosen)

"""``tenantctl plan``: observe the tenants, diff against git, and show what would change."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from controller.cli.options import (
    OutputFormat,
    desired_option,
    journal_option,
    output_options,
    tenant_option,
)
from controller.cli.progress import RunProgress
from controller.cli.selection import chosen_tenants
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.policy import parse_guard_override, policy_failures
from controller.reconcile import EarlyPartner, Outputs, plan_run
from controller.render import render_accounting, render_json, render_terminal, summary_line

if TYPE_CHECKING:
    from controller.apply.journal import JournalLocation

EPILOG = """\b
Examples:
  tenantctl plan --sandbox                     the demo estate against the local sandbox
  tenantctl plan --tenant contoso --out plan.json --markdown plan.md
  tenantctl plan --changed-since origin/main   only tenants whose files changed (pull requests)
  tenantctl plan --shard 2/4                   the second of four shards (CI matrix)
  tenantctl plan --observations obs.json       and later: tenantctl report --html DIR
                                               --observations obs.json
  tenantctl plan -o json | jq '.tenants[].operations[].fingerprint'
  tenantctl plan -q                            only the summary line

\b
Exit status (as terraform plan -detailed-exitcode):
  0   every selected tenant was observed in full and matches git
  2   changes or manual steps are planned (drift, with --drift), or an area is unknown
  1   a connection check failed (credential, GDAP, CIPP), a policy check failed,
      an object could not be planned, or nothing could be observed
  64  usage error (a wrong flag or argument)
"""


@click.command(epilog=EPILOG)
@desired_option
@tenant_option("Plan only this tenant (repeatable; any case).")
@click.option(
    "--changed-since",
    metavar="REF",
    help="Plan only tenants whose files changed since this git ref (all if msp.yaml changed).",
)
@click.option("--shard", metavar="K/N", help="Plan only shard K of N (stable split of tenants).")
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the plan as JSON."
)
@click.option(
    "--markdown",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the plan as Markdown for a pull-request comment.",
)
@click.option(
    "--observations",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also save what was observed, with the plan: `tenantctl report --observations FILE` "
    "builds the estate report from it later, without observing again.",
)
@output_options
@click.option(
    "--drift",
    is_flag=True,
    help="Drift report mode for scheduled runs: same plan, reported as drift (exit 2 = drift).",
)
@click.option("--notify", metavar="URL", help="Post a summary to a Teams or Slack webhook.")
@click.option(
    "--allow-guard",
    "allow_guard",
    multiple=True,
    metavar="NAME=COUNT",
    help="Raise a guard for this run, e.g. maxDeletions=12.",
)
@journal_option(
    "Apply's journal (a SQLite file or a postgresql:// URL): creates its killed runs left "
    "unanswered are looked up before being planned again (as apply does).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes that observe tenants, each with its own connections "
    "[default: one per 100 tenants, at most one per CPU core].",
)
@world_options
@click.pass_obj
def plan(
    terminal: Terminal,
    desired: Path,
    tenants: tuple[str, ...],
    changed_since: str | None,
    shard: str | None,
    out: Path | None,
    markdown: Path | None,
    observations: Path | None,
    output: OutputFormat,
    drift: bool,
    notify: str | None,
    allow_guard: tuple[str, ...],
    journal: JournalLocation | None,
    workers: int | None,
    world: WorldOptions,
) -> None:
    """Plan: observe every tenant, diff it against the desired state, and show the operations.

    Reads only. Failed reads are reported as unknown and nothing is planned on top of them.
    The JSON plan (--out) is what a reviewer approves with `tenantctl approve`.
    """
    webhook = None
    if notify:
        from controller.gitops import parse_webhook  # only with --notify: start-up

        webhook = parse_webhook(notify)
    raise_guards = parse_guard_override(allow_guard)
    # The partner's relationships are read while the tenants load (controller.reconcile._early).
    with EarlyPartner.reading(desired, world.where) as early:
        state = chosen_tenants(terminal, desired, tenants, changed_since=changed_since, shard=shard)
        outputs = Outputs(
            json=out,
            markdown=markdown,
            webhook=webhook,
            drift=drift,
            shard=shard,
            observations=observations,
        )

        with RunProgress(terminal) as progress:
            progress.phase("observing", len(state.tenants), "tenants")
            run = plan_run(
                state,
                world.where,
                concurrency=world.concurrency,
                workers=workers,
                raise_guards=raise_guards,
                on_observed=progress.advance,
                outputs=outputs,
                journal=journal,
                # Only the plan is wanted (--observations keeps them): the workers plan.
                keep_observations=False,
                early=early,
            )
    the_plan = run.result.plan
    for note in run.notes:
        terminal.info(f"note: {note}")
    for path in run.delivered.written:
        terminal.info(f"wrote {path}")
    if output == "json":
        terminal.out(render_json(the_plan), nl=False)
    elif output == "yaml":
        from controller.render.documents import render_document  # only for -o yaml: start-up

        terminal.out(render_document(the_plan, "yaml"), nl=False)
    elif terminal.quiet:
        terminal.out(summary_line(the_plan))
    else:
        terminal.out(render_terminal(the_plan, color=terminal.color))
    for check in the_plan.failed_checks:
        terminal.error(check.line())
    for failure in policy_failures(the_plan):
        terminal.error(f"policy: {failure}")
    for warning in run.delivered.warnings:
        terminal.info(f"warning: {warning}")
    cost = render_accounting(the_plan)
    if cost:
        terminal.detail(cost.rstrip("\n"))
    raise click.exceptions.Exit(the_plan.exit_status)

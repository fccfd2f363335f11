"""``tenantctl controller``: keep every tenant in the state git says, on a schedule, with
health, readiness and Prometheus metrics for the monitoring an MSP already has."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from controller.apply.journal import JournalLocation
from controller.apply.lock import DEFAULT_LOCK_TIMEOUT
from controller.cli.options import desired_option, journal_option
from controller.cli.terminal import Terminal
from controller.cli.world_options import WorldOptions, world_options
from controller.gitops import parse_shard, parse_webhook
from controller.loop import (
    Controller,
    ControllerMetrics,
    ControllerOptions,
    DesiredSource,
    GitRepository,
    ProbeServer,
    Timing,
    Wakeup,
    parse_duration,
    parse_jitter,
    parse_listen,
)
from controller.reconcile import worlds
from controller.reconcile._cancel import Cancellation
from controller.state_paths import StatePaths

EPILOG = """\b
Examples:
  tenantctl controller --sandbox --interval 1m --listen 127.0.0.1:9090
  tenantctl controller --git-url https://github.com/northwind/estate.git --branch main \\
      --listen :9090 --shard 2/3 --notify "$TENANTCTL_WEBHOOK" --log-format json
  tenantctl controller --once                  one cycle over every tenant, for cron

\b
Each cycle refreshes the desired state (a git fetch of --branch with --git-url, else the
--desired directory), reconciles the tenants that are due (observe, plan, apply what policy
allows or an unexpired approval in the repository names, hold the rest), journals the run as
`controller` (tenantctl history), and notifies --notify of new drift, failures and newly held
work (held work once, not every cycle). Each tenant is due every --interval (give or take
--jitter); a failed or throttled tenant backs off on its own (2x, 4x ... the interval, at most
6 h); a tenant whose file changed, or that a new approval names, is reconciled at the next
--refresh.

\b
With --git-url, --desired is the directory inside the repository, the checkout is kept in
--checkout, and approvals are read from the repository's approvals/.

\b
--listen serves /healthz (the loop is alive), /readyz (desired state loaded, last connection
check passed) and /metrics (Prometheus: tenantctl_*).

\b
Exit status: 0 when stopped by SIGTERM or SIGINT (the operation in flight finishes and is
journaled first). With --once, the cycle's status as apply's: 0 all done, 2 work left,
1 a failure, 130 / 143 cancelled.
"""


@click.command(epilog=EPILOG)
@desired_option
@click.option(
    "--git-url",
    metavar="URL",
    help="Read the desired state from this git repository (https or ssh; a token in the URL "
    "is never shown) instead of the --desired directory as it is.",
)
@click.option("--branch", default="main", show_default=True, help="The branch to follow.")
@click.option(
    "--checkout",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the repository is checked out  "
    "[default: .tenantctl/checkout in $TENANTCTL_HOME or the current directory].",
)
@click.option(
    "--approvals",
    "approvals_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of approval records  [default: approvals/ of the repository].",
)
@click.option(
    "--interval",
    default="15m",
    show_default=True,
    help="How often each tenant is reconciled (s, m, h or d).",
)
@click.option(
    "--jitter",
    default="10%",
    show_default=True,
    help="Spread of each tenant's interval, so tenants drift apart (0% to 50%).",
)
@click.option(
    "--refresh",
    default="1m",
    show_default=True,
    help="How often the desired state is checked for changes (a git fetch, or the files).",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Serve /healthz, /readyz and /metrics here (e.g. 127.0.0.1:9090, or :9090 on every "
    "interface).",
)
@click.option("--shard", metavar="K/N", help="Reconcile only shard K of N.")
@click.option(
    "--notify", metavar="URL", help="Post new drift, failures and held work to a webhook."
)
@journal_option(
    "The journal of runs and operations: a SQLite file or a postgresql:// URL  [default: "
    "msp.yaml's journal, else .tenantctl/journal.sqlite in the desired-state repository].",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0, max=86_400),
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds a cycle waits while another apply holds a SQLite journal's lock (with a "
    "shared journal, tenants another apply holds are left for the next check).",
)
@click.option("--once", is_flag=True, help="Run one cycle over every tenant and exit.")
@world_options
@click.pass_obj
def controller(
    terminal: Terminal,
    desired: Path,
    git_url: str | None,
    branch: str,
    checkout: Path | None,
    approvals_dir: Path | None,
    interval: str,
    jitter: str,
    refresh: str,
    listen: str | None,
    shard: str | None,
    notify: str | None,
    journal: JournalLocation | None,
    lock_timeout: float,
    once: bool,
    world: WorldOptions,
) -> None:
    """Reconcile every tenant on a schedule: drift is corrected where policy allows, held
    work is reported once, and /metrics shows each tenant's state."""
    timing = Timing(parse_duration(interval, "--interval"), parse_jitter(jitter))
    refresh_every = parse_duration(refresh, "--refresh")
    chosen_shard = parse_shard(shard) if shard else None
    webhook = parse_webhook(notify) if notify else None
    address = parse_listen(listen) if listen else None
    paths = StatePaths.of(desired)
    git = (
        GitRepository(git_url, branch, checkout or paths.home / ".tenantctl" / "checkout")
        if git_url
        else None
    )
    source = DesiredSource(desired, approvals=approvals_dir, git=git, shard=chosen_shard)
    options = ControllerOptions(
        journal=journal,
        desired=desired,
        timing=timing,
        refresh=refresh_every,
        concurrency=world.concurrency,
        webhook=webhook,
        shard=shard,
        lock_timeout=lock_timeout,
    )
    _controller_logs(terminal)
    wakeup = Wakeup()
    cancellation = Cancellation()
    cancellation.on_request = wakeup.set
    metrics = ControllerMetrics()
    try:
        with worlds(world.where) as services:
            loop = Controller(
                source,
                services.world_for,
                options,
                clock=services.clock,
                sleep=wakeup.wait,
                cancellation=cancellation,
                metrics=metrics,
            )
            server = None
            if address is not None:
                server = ProbeServer(
                    *address, metrics=metrics, health=loop.healthy, ready=loop.ready
                ).start()
                logging.getLogger("tenantctl.controller").info(
                    "serving /healthz, /readyz and /metrics on %s:%d", address[0], server.port
                )
            try:
                status = loop.run(once=once)
            finally:
                if server is not None:
                    server.stop()
    finally:
        wakeup.close()
    raise click.exceptions.Exit(status)


def _controller_logs(terminal: Terminal) -> None:
    """A controller's log is its output: its own lines at INFO unless -q (the libraries'
    stay at -v and -vv)."""
    level = logging.WARNING if terminal.quiet else logging.INFO
    if terminal.verbosity >= 2:
        level = logging.DEBUG
    logging.getLogger("tenantctl.controller").setLevel(level)

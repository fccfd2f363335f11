"""The ``tenantctl`` command line: thin click commands over the library.

One file per command. Each command reads the :class:`~controller.cli.terminal.Terminal` from
the click context, calls the library, and reports through it. Errors are turned into exit
statuses in one place: :class:`TenantctlGroup` for tenantctl's own errors and click's usage
errors (so click's test runner sees what an operator sees), :func:`main` for everything else,
so no traceback ever reaches an operator.

Exit statuses: 0 success (for commands that observe: everything seen and matching), 1 an
error, 2 changes, manual steps or unknown areas (plan, apply), 64 a usage error (sysexits'
EX_USAGE), 130 / 143 interrupted by SIGINT / SIGTERM.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from controller.cli.options import common_options
from controller.cli.terminal import Terminal
from controller.errors import DesiredStateError, TenantctlError, UsageError
from controller.redaction import RedactingFilter, redact_text

# Exit statuses (``controller.plan.types.ExitStatus``, whose module would pull in the models).
_ERROR, _USAGE = 1, 64

# Every command: its name -> (its module in controller/cli/, the summary ``--help`` lists).
# Each module defines a click command named as the module (a Python keyword takes a trailing
# underscore: import_ is `import`; so does report_, which would shadow report() below). A
# summary is the first sentence of the command's docstring (tests/unit/test_cli_startup.py
# keeps them equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "apply": (
        "apply",
        "Apply: observe again, plan again, and execute only what policy allows or an approval "
        "names.",
    ),
    "approve": ("approve", "Approve the operations of a saved plan by their fingerprints."),
    "completion": ("completion", "Print the shell completion script for bash, zsh or fish."),
    "connect": ("connect", "Check the connections to Microsoft 365 and CIPP."),
    "controller": (
        "controller",
        "Reconcile every tenant on a schedule: drift is corrected where policy allows, held "
        "work is reported once, and /metrics shows each tenant's state.",
    ),
    "discover": (
        "discover",
        "Discover: GDAP customers of the partner tenant that no tenant file declares yet.",
    ),
    "get": (
        "get",
        "Get: one kind of object in the tenants, read live, and whether git manages each.",
    ),
    "history": ("history", "Show what apply did: every run, or with --run one run's operations."),
    "journal": ("journal", "The journal of apply runs (tenantctl history shows it)."),
    "import": (
        "import_",
        "Import: write tenant files from the users, groups, distribution groups and shared "
        "mailboxes the tenants hold, with consent and the Exchange mode that works.",
    ),
    "plan": (
        "plan",
        "Plan: observe every tenant, diff it against the desired state, and show the operations.",
    ),
    "render": (
        "render",
        "Print a tenant's effective document: its file with its profiles applied, each object "
        "and field commented with the file and line it came from.",
    ),
    "report": ("report_", "Report: write the estate report as static HTML pages."),
    "sandbox": (
        "sandbox",
        "Run the local sandbox: Entra login, Graph, Exchange, CIPP and Partner Center on "
        "127.0.0.1.",
    ),
    "schema": (
        "schema",
        "Write JSON Schemas: of the desired-state files (msp.yaml, tenant and profile files), of "
        "the plan file, approval records and saved observations, and of each command's -o json "
        "output (validate, apply, approve, history, history-run, status, discover, import, "
        "connect-check, get-KIND for each kind of get, report).",
    ),
    "status": (
        "status",
        "Status: the onboarding badges and pending work of every customer tenant.",
    ),
    "validate": (
        "validate",
        "Validate the desired state: YAML syntax, models, formats and cross-references.",
    ),
}

EPILOG = """\b
Typical flow:
  tenantctl validate                 check desired/ without touching any tenant
  tenantctl plan --sandbox           plan the demo estate against the local sandbox

\b
Where state is kept: in the desired-state repository, the parent of --desired (or
$TENANTCTL_HOME when set), whatever the current directory:
  .tenantctl/sandbox/          the sandbox's world (--sandbox)
  .tenantctl/journal.sqlite    what apply did (tenantctl history; or a shared PostgreSQL
                               journal: msp.yaml journal.postgres, --journal postgresql://...)
  approvals/                   approval records (tenantctl approve)

\b
Shell completion: eval "$(tenantctl completion bash)"   (or zsh, fish)
"""


class TenantctlGroup(click.Group):
    """The root command: a usage error exits 64, never 2 (which means "changes present"), and
    tenantctl's own errors become a one-line message and their exit status. Commands are
    imported when they run (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module_name = COMMANDS[cmd_name][0]
        command = getattr(importlib.import_module(f"controller.cli.{module_name}"), module_name)
        assert isinstance(command, click.Command) and command.name == cmd_name
        _accept_common_options(command)
        self.add_command(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries, without importing every command."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            # click shortens a summary as it shortens a command's own help.
            (name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
            for name in self.list_commands(ctx)
            if name in COMMANDS
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as problem:
            _exit_64(problem)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as problem:
            _exit_64(problem)
            raise
        except TenantctlError as problem:
            raise click.exceptions.Exit(report(problem, ctx.find_object(Terminal))) from problem


def _exit_64(problem: click.UsageError) -> None:
    # click declares exit_code on the class (2 for every usage error); this one error exits 64.
    setattr(problem, "exit_code", _USAGE)  # noqa: B010


def report(problem: TenantctlError, terminal: Terminal | None = None) -> int:
    """Print one of tenantctl's own errors for the operator; the exit status it means."""
    terminal = terminal or Terminal()
    exit_status = getattr(problem, "exit_status", None)
    if isinstance(exit_status, int):  # a run cancelled by a signal: 128 + the signal
        terminal.error(redact_text(str(problem)))
        return exit_status
    if isinstance(problem, DesiredStateError):
        for diagnostic in problem.diagnostics:
            level = logging.WARNING if diagnostic.severity == "warning" else logging.ERROR
            terminal.err(str(diagnostic), level=level)
        terminal.error(f"{problem}; fix them and run again (tenantctl validate)")
        return _ERROR
    terminal.error(redact_text(str(problem)))
    return _USAGE if isinstance(problem, UsageError) else _ERROR


@click.group(
    cls=TenantctlGroup,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _, asked: _print_version(ctx) if asked else None,
    help="Show the version and exit.",
)
@common_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """GitOps for an MSP's Microsoft 365 customer tenants.

    Write the desired state of every tenant as YAML in git; tenantctl observes Microsoft Graph,
    Exchange Online and CIPP, diffs, plans, and applies exactly what was approved.

    -q, -v, --color and --log-format work before or after the command's name. Results go to stdout (-o json
    or -o yaml for scripts), everything else to stderr.
    """
    terminal = ctx.ensure_object(Terminal)
    terminal.changed = _configure_logging
    _configure_logging(terminal)


def _print_version(ctx: click.Context) -> None:
    from controller import __version__

    click.echo(f"tenantctl, version {__version__}")
    ctx.exit()


def _configure_logging(terminal: Terminal) -> None:
    """Service errors are reported in plans and results; logs are for -v and -vv, each line
    with its UTC time (or one JSON object each, ``--log-format json``), printed through the
    terminal (above a progress bar). The redacting filter is on the handler, so it runs
    before the handler's formatter sees a record."""
    import logging

    verbosity = terminal.verbosity
    level = {0: logging.ERROR, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < 0:
        level = logging.CRITICAL
    handler = terminal.log_handler()
    # On the handler, not a logger: it sees every record, httpx's, httpcore's, urllib3's and
    # MSAL's included (their URLs carry webhook secrets, their debug lines headers).
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # MSAL logs every token request at INFO; only -vv shows it.
    logging.getLogger("msal").setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)


def _accept_common_options(command: click.Command) -> None:
    """-q, -v, --color and --log-format on every command and subcommand, not only before
    them."""
    common_options(command)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_common_options(sub)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. The one place that turns any escaping error into a clean exit.

    Without ``argv`` (the ``tenantctl`` script) the process ends when this returns, and the
    heap is frozen first (:func:`_leave_the_heap_to_the_os`)."""
    try:
        _main(argv)
    finally:
        if argv is None:
            _leave_the_heap_to_the_os()


def _leave_the_heap_to_the_os() -> None:
    """Freeze every object out of the cyclic collector's walks as the process ends.

    The interpreter's last collection at exit walks the whole heap: on a 200-tenant plan that
    was 0.10-0.15 s, about 5 % of the command's wall time (``bench/README.md``, "Stop 25"),
    spent only to free memory the operating system takes back anyway. Frozen, objects are
    still freed by reference counting and the ``atexit`` handlers still run; only objects in
    reference cycles are left to the OS, whose ``__del__`` Python never promises at exit."""
    import gc

    gc.freeze()


def _main(argv: list[str] | None) -> None:
    try:
        # Without standalone mode click returns an Exit's code instead of raising it.
        result = cli.main(args=argv, prog_name="tenantctl", standalone_mode=False)
        if isinstance(result, int):
            sys.exit(result)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as problem:
        problem.show()
        sys.exit(problem.exit_code)
    except click.Abort as aborted:
        if isinstance(aborted.__context__, KeyboardInterrupt):  # Ctrl-C: click says Abort
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except TenantctlError as problem:  # raised outside a command (while registering them)
        sys.exit(report(problem))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as problem:  # a bug: say so plainly, never dump a traceback on the user
        click.echo(
            redact_text(f"internal error: {type(problem).__name__}: {problem}\n")
            + "This is a bug in tenantctl; re-run with TENANTCTL_DEBUG=1 for details.",
            err=True,
        )
        if _debug():
            raise
        sys.exit(1)
    sys.exit(0)


def _debug() -> bool:
    import os

    return os.environ.get("TENANTCTL_DEBUG") == "1"

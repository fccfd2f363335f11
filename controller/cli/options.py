"""Options shared by several commands: where the desired state is, how output looks, and the
options every command accepts before or after its name (-q, -v, --color, --log-format)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import click

from controller.cli.terminal import COLOR_MODES, LOG_FORMATS, ColorMode, LogFormat, Terminal
from controller.errors import UsageError
from controller.state_paths import DEFAULT_DESIRED

if TYPE_CHECKING:  # --help and --version import none of the models (tests/unit/test_cli_startup.py)
    from controller.apply.journal import JournalLocation

F = TypeVar("F", bound=Callable[..., Any])

OutputFormat = Literal["table", "json", "yaml"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("table", "json", "yaml")

desired_option = click.option(
    "--desired",
    "desired",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_DESIRED,
    show_default=True,
    help="Desired-state directory (holds msp.yaml and tenants/); its parent is the "
    "repository where state is kept (or $TENANTCTL_HOME).",
)


def _tenant_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for --tenant: the tenant files' names (no YAML is parsed)."""
    desired = Path(ctx.params.get("desired") or DEFAULT_DESIRED)
    names = sorted(
        {p.stem for pattern in ("*.yaml", "*.yml") for p in (desired / "tenants").glob(pattern)}
    )
    return [name for name in names if name.startswith(incomplete.lower())]


def tenant_option(help_text: str, metavar: str = "NAME") -> Callable[[F], F]:
    return click.option(
        "--tenant",
        "tenants",
        multiple=True,
        metavar=metavar,
        shell_complete=_tenant_names,
        help=help_text,
    )


# -- --journal: a SQLite file or a PostgreSQL URL -------------------------------------------


class JournalParam(click.ParamType["JournalLocation", str]):
    """``--journal``: a ``postgresql://`` URL (a shared journal) or a SQLite file's path."""

    name = "journal"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> JournalLocation:
        from controller.apply.journal import JournalLocation  # when a command runs

        if isinstance(value, JournalLocation):
            return value
        try:
            return JournalLocation.parse(str(value))
        except UsageError as problem:
            self.fail(str(problem), param, ctx)


def journal_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--journal",
        "journal",
        type=JournalParam(),
        default=None,
        metavar="PATH|URL",
        help=help_text,
    )


# -- -o / --output, and --format (deprecated) ------------------------------------------------


def output_options(command: F) -> F:
    """Adds ``-o/--output table|json|yaml`` and the deprecated ``--format text|json``; the
    command receives ``output``."""

    @click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(OUTPUT_FORMATS),
        default=None,
        help="table for people (the default), json or yaml for scripts: the JSON is described "
        "by a schema in schemas/ (camelCase keys).",
    )
    @click.option(
        "--format",
        "legacy_format",
        type=click.Choice(["text", "json"]),
        default=None,
        help="Deprecated alias of -o/--output (text is table).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, output: str | None, legacy_format: str | None, **kwargs: Any) -> Any:
        kwargs["output"] = chosen_output(output, legacy_format)
        return command(*args, **kwargs)

    return cast(F, wrapper)


def chosen_output(output: str | None, legacy_format: str | None) -> OutputFormat:
    if legacy_format is None:
        return cast(OutputFormat, output or "table")
    legacy = "table" if legacy_format == "text" else "json"
    if output is not None and output != legacy:
        raise UsageError(f"--format {legacy_format} and -o {output} disagree; use -o only")
    click.echo(f"warning: --format is deprecated; use -o {legacy}", err=True)
    return cast(OutputFormat, legacy)


# Commands newer than the output contract take -o only (no deprecated --format).
output_option = click.option(
    "-o",
    "--output",
    "output",
    type=click.Choice(OUTPUT_FORMATS),
    default="table",
    show_default=True,
    help="table for people, json or yaml for scripts: the JSON is described by a schema in "
    "schemas/ (camelCase keys).",
)

WideFormat = Literal["table", "wide", "json", "yaml"]

wide_output_option = click.option(
    "-o",
    "--output",
    "output",
    type=click.Choice(("table", "wide", "json", "yaml")),
    default="table",
    show_default=True,
    help="table or wide (more columns) for people, json or yaml for scripts: the JSON is "
    "described by a schema in schemas/ (camelCase keys).",
)


# -- -q, -v and --color, accepted anywhere ---------------------------------------------------


def _terminal(ctx: click.Context) -> Terminal:
    return ctx.ensure_object(Terminal)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _terminal(ctx).set_quiet()


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        _terminal(ctx).add_verbose(value)


def _color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _terminal(ctx).set_color(cast(ColorMode, value))


def _log_format(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _terminal(ctx).set_log_format(cast(LogFormat, value))


def common_options(command: F) -> F:
    """``-q``, ``-v``, ``--color`` and ``--log-format``: on the root command and on every
    subcommand, so ``tenantctl -q plan`` and ``tenantctl plan -q`` mean the same."""
    for decorator in (
        click.option(
            "--log-format",
            type=click.Choice(LOG_FORMATS),
            default=None,
            expose_value=False,
            callback=_log_format,
            help="Log lines as text (with their UTC time) or as one JSON object each.",
        ),
        click.option(
            "--color",
            type=click.Choice(COLOR_MODES),
            default=None,
            expose_value=False,
            callback=_color,
            help="Colour: auto (on a terminal, unless NO_COLOR is set), always or never.",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            expose_value=False,
            callback=_quiet,
            help="Print only what a script needs (no progress, notes or logs).",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=_verbose,
            help="More detail (repeat for debug logs).",
        ),
    ):
        command = decorator(command)
    return command

"""``tenantctl completion bash|zsh|fish``: the shell completion script (click's own)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from controller.cli.terminal import Terminal

PROG = "tenantctl"
COMPLETE_VARIABLE = "_TENANTCTL_COMPLETE"

EPILOG = """\\b
Examples:
  eval "$(tenantctl completion bash)"                   this shell, bash
  tenantctl completion bash > ~/.local/share/bash-completion/completions/tenantctl
  tenantctl completion zsh > "${fpath[1]}/_tenantctl"   zsh (then restart it)
  tenantctl completion fish > ~/.config/fish/completions/tenantctl.fish

\\b
Commands, flags, choices (-o json), files and the tenant names of --tenant complete.
"""


@click.command(epilog=EPILOG)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_obj
def completion(terminal: Terminal, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    from controller.cli import cli

    completer = get_completion_class(shell)
    assert completer is not None  # click ships all three
    terminal.out(completer(cli, {}, PROG, COMPLETE_VARIABLE).source())

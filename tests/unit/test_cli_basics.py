"""The command line's outer shell: --version, --help on every command, and clean exits."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from controller import __version__
from controller.cli import COMMANDS, cli, main


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_explains_itself_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_main_exits_with_the_command_status(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(SystemExit) as done:
        main(["validate", "--desired", str(tmp_path)])
    assert done.value.code == 1

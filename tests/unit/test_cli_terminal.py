"""How the command line talks to a person and to a shell: colour (``--color``, ``NO_COLOR``),
log lines with their UTC time, ``-q``/``-v``/``--color`` before or after the command,
``tenantctl completion``, and progress that never shares a line with a message."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import cli
from controller.cli.progress import RunProgress
from controller.cli.terminal import Terminal

DESIRED = Path(__file__).resolve().parents[2] / "desired"


# -- colour -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "tty", "no_color", "expected"),
    [
        ("auto", True, None, True),
        ("auto", True, "1", False),
        ("auto", True, "", True),  # NO_COLOR counts only when it is not empty (no-color.org)
        ("auto", False, None, False),
        ("always", False, "1", True),
        ("never", True, None, False),
    ],
)
def test_colour(
    monkeypatch: pytest.MonkeyPatch, mode: str, tty: bool, no_color: str | None, expected: bool
) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setattr(Terminal, "is_tty", property(lambda self: tty))
    terminal = Terminal()
    terminal.set_color(mode)  # type: ignore[arg-type]
    assert terminal.color is expected


def test_color_always_and_never_on_the_command_line() -> None:
    broken = str(DESIRED.parent / "no-such-desired")
    for args, coloured in (
        (["--color", "always", "validate", "--desired", broken], True),
        (["validate", "--desired", broken, "--color", "always"], True),
        (["validate", "--desired", broken, "--color", "never"], False),
    ):
        result = CliRunner().invoke(cli, args)
        assert ("\x1b[" in result.stderr) is coloured, (args, result.stderr)


# -- logs -------------------------------------------------------------------------------------


def test_log_lines_carry_their_utc_time(capsys: pytest.CaptureFixture[str]) -> None:
    handler = Terminal().log_handler()
    record = logging.LogRecord("tenantctl.http", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.created = 1795683600.0  # 2026-11-26T09:00:00Z
    handler.handle(record)
    assert capsys.readouterr().err == "2026-11-26T09:00:00Z INFO tenantctl.http: GET /x\n"


def test_verbose_after_the_command_sets_the_log_level() -> None:
    runner = CliRunner()
    runner.invoke(cli, ["validate", "--desired", str(DESIRED), "-vv"])
    assert logging.getLogger().level == logging.DEBUG
    runner.invoke(cli, ["validate", "--desired", str(DESIRED)])
    assert logging.getLogger().level == logging.ERROR
    runner.invoke(cli, ["-v", "validate", "--desired", str(DESIRED), "-q"])
    assert logging.getLogger().level == logging.CRITICAL  # -q wins, wherever it is


# -- completion -------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "_TENANTCTL_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


def complete(words: str) -> list[str]:
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="tenantctl",
        env={
            "_TENANTCTL_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        },
    )
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_completion_completes_commands_choices_and_tenant_names() -> None:
    assert "plan" in complete("tenantctl pl")
    assert "completion" in complete("tenantctl comp")
    assert complete("tenantctl plan -o ") == ["table", "json", "yaml"]
    assert complete(f"tenantctl plan --desired {DESIRED} --tenant co") == ["contoso"]


# -- help ----------------------------------------------------------------------------------


def test_help_says_where_state_is_kept() -> None:
    text = CliRunner().invoke(cli, ["--help"]).stdout
    assert "parent of --desired" in text and "$TENANTCTL_HOME" in text
    for path in (".tenantctl/sandbox/", ".tenantctl/journal.sqlite", "approvals/"):
        assert path in text
    applying = CliRunner().invoke(cli, ["apply", "--help"]).stdout
    assert ".tenantctl/journal.sqlite in the desired-state" in applying


# -- progress ------------------------------------------------------------------------------


def test_messages_go_through_the_bar_while_it_is_live(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """While a bar is shown every message is printed by the bar's console (above the bar), and
    a phase's bar is gone once its last item is done (apply asks its question in between)."""
    monkeypatch.setattr(Terminal, "stderr_is_tty", property(lambda self: True))
    terminal = Terminal()
    with RunProgress(terminal) as progress:
        progress.phase("observing", 2, "tenants")
        console = terminal.live
        assert console is not None
        printed: list[str] = []
        monkeypatch.setattr(
            console, "print", lambda *objects, **kw: printed.extend(map(str, objects))
        )
        terminal.err("FAILED  user.assignLicenses user:grace@fabrikam.com: HTTP 400")
        assert printed == ["FAILED  user.assignLicenses user:grace@fabrikam.com: HTTP 400"]
        progress.advance("adatum")
        progress.advance("contoso")
        assert terminal.live is None  # the phase is over: its bar is gone
        progress.phase("applying", 3, "operations")
        assert terminal.live is not None and terminal.live is not console
    assert terminal.live is None
    terminal.err("after")
    assert capsys.readouterr().err.endswith("after\n")


def test_no_bar_when_quiet_or_not_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal(verbosity=-1)
    monkeypatch.setattr(Terminal, "stderr_is_tty", property(lambda self: True))
    with RunProgress(terminal) as progress:
        progress.phase("observing", 5, "tenants")
        assert terminal.live is None
    monkeypatch.setattr(Terminal, "stderr_is_tty", property(lambda self: False))
    terminal = Terminal()
    with RunProgress(terminal) as progress:
        progress.phase("observing", 5, "tenants")
        assert terminal.live is None

"""The documentation stays in step with the command line.

- The operator guide's checklist (between ``<!-- cli-checklist -->`` markers) lists every
  command with every one of its flags, exactly: a new flag or command fails here until the
  guide lists it, a removed one until the guide drops it.
- Every ``tenantctl ...`` the guide and the README mention names a command that exists, and
  only flags that command has; every flag written alone in code (```--shard K/N```) is a flag
  of some command.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from controller.cli import cli

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "operator-guide.md"
README = REPO / "README.md"
CHECKLIST = re.compile(r"<!-- cli-checklist -->\n(?P<body>.*?)<!-- /cli-checklist -->", re.S)
# Accepted by every command, before or after its name; listed once in the checklist.
COMMON = ("-q", "--quiet", "-v", "--verbose", "--color", "-h", "--help")


def commands(
    group: click.Group = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group, info_name="tenantctl")
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def flags(command: click.Command, *, common: bool = False) -> list[str]:
    """``-o/--output``, ``--interactive/--no-interactive``: one entry per option."""
    shown = []
    for param in command.get_params(click.Context(command)):
        if isinstance(param, click.Option):
            names = [n for n in (*param.opts, *param.secondary_opts) if common or n not in COMMON]
            if names:
                shown.append("/".join(names))
    return shown


def checklist() -> str:
    """The checklist as the guide must show it."""
    rows = [
        "| command | arguments and flags |",
        "| --- | --- |",
        "| every command | "
        + ", ".join(f"`{f}`" for f in ("-q", "-v", "--color", "-h/--help"))
        + " |",
        "| `tenantctl` | `--version` |",
    ]
    for path, command in commands():
        arguments = [
            p.human_readable_name
            for p in command.get_params(click.Context(command))
            if isinstance(p, click.Argument)
        ]
        listed = [*arguments, *flags(command)]
        rows.append(
            f"| `tenantctl {' '.join(path)}` | "
            + (", ".join(f"`{item}`" for item in listed) or "-")
            + " |"
        )
    return "\n".join(rows) + "\n"


def test_the_guide_lists_every_command_and_flag() -> None:
    match = CHECKLIST.search(GUIDE.read_text(encoding="utf-8"))
    assert match, "docs/operator-guide.md has no <!-- cli-checklist --> block"
    expected = checklist()
    assert match["body"] == expected, f"update the checklist in {GUIDE.name} to:\n{expected}"


# -- every mention is real --------------------------------------------------------------------

_CODE_BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.S)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def mentions(text: str) -> Iterator[tuple[str, list[str]]]:
    """``(words after tenantctl up to a comment, its line)`` for each ``tenantctl`` call in a
    code block or span; synopses (``[--tenant N]...``) are read as calls."""
    snippets = [
        line.split(" #")[0] for block in _CODE_BLOCK.findall(text) for line in block.splitlines()
    ]
    snippets += _CODE_SPAN.findall(_CODE_BLOCK.sub("", text))
    for snippet in snippets:
        for found in re.finditer(r"(?:^|[\s($`\"'])tenantctl\s+([^#;|&]*)", snippet):
            yield snippet, found[1].split()


def resolve(words: list[str]) -> tuple[tuple[str, ...], click.Command | None, list[str]]:
    """The command the words name, and the flags they give it."""
    command: click.Command = cli
    path: list[str] = []
    given = [m for word in words for m in _FLAG.findall(word)]
    for word in words:
        if not isinstance(command, click.Group) or not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        sub = command.get_command(click.Context(command), word)
        if sub is None:
            return tuple(path), None, given
        command = sub
        path.append(word)
    return tuple(path), command, given


def test_every_command_and_flag_the_docs_mention_exists() -> None:
    every_flag = {
        f for _, c in commands() for names in flags(c, common=True) for f in names.split("/")
    }
    every_flag |= {"--version", "--help", "-h"}
    problems = []
    for doc in (GUIDE, README):
        text = doc.read_text(encoding="utf-8")
        for snippet, words in mentions(text):
            if not words or words[0] in ("COMMAND", "..."):
                continue
            path, command, given = resolve(words)
            if command is None:
                problems.append(f"{doc.name}: `{snippet}`: no command {' '.join(words[:2])!r}")
                continue
            if command is cli and not given:
                continue
            known = {f for names in flags(command, common=True) for f in names.split("/")}
            known |= {"--version"} if command is cli else set()
            problems += [
                f"{doc.name}: `{snippet}`: tenantctl {' '.join(path)} has no {flag}"
                for flag in given
                if flag not in known
            ]
        for span in _CODE_SPAN.findall(_CODE_BLOCK.sub("", text)):
            flag = re.match(r"(--[A-Za-z][\w-]*|-[A-Za-z])(?![\w-])", span)
            if flag and flag[1] not in every_flag:
                problems.append(f"{doc.name}: `{span}` is no flag of any command")
    assert not problems, "\n".join(problems)

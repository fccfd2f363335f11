"""Check that CI templates call only ``tenantctl`` commands and flags that exist.

A workflow file is code that nothing compiles: a renamed flag breaks every MSP's pipeline the
day they upgrade, and nobody notices until the scheduled apply fails at night. This module
finds every ``tenantctl ...`` invocation in a YAML file and checks it against the click
command tree, so a test fails instead.

Pure apart from reading the file. Where invocations are looked for:

- GitHub Actions ``run:`` steps; Azure Pipelines ``script:``, ``bash:``, ``pwsh:`` and
  ``powershell:`` steps and ``inlineScript:`` task inputs;
- Kubernetes ``command:``/``args:`` (an exec-form list starting with ``tenantctl``, or a
  ``sh -c`` script among the items).

Scripts are read as a shell reads them, approximately: line continuations (``\\`` and
PowerShell's backtick) are joined, ``#`` comments dropped, and an invocation is ``tenantctl``
in command position (first word, after ``;``, ``&&``, ``||``, ``|``, ``(``, ``$(``, ``if``,
``then``, ``!``, ``exec``, ``time``, ``timeout N``, ``env``, or ``NAME=value`` assignments),
up to the next operator. CI expressions (``${{ ... }}``, ``$(macro)``, ``$[ ... ]``) stand for
one word each; ``"$@"`` and ``"${args[@]}"`` stand for words unknown until the script runs
(they are not checked, and silence the surplus-argument check). Not seen: ``tenantctl`` inside quotes (``"$(tenantctl status)"``) or built from
variables.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click
import yaml

from controller.errors import UsageError

__all__ = [
    "Invocation",
    "TemplateProblem",
    "check_invocation",
    "check_template",
    "find_invocations",
]

PROGRAM = "tenantctl"
SCRIPT_KEYS = frozenset({"run", "script", "bash", "pwsh", "powershell", "inlineScript"})
EXEC_KEYS = ("command", "args")  # Kubernetes containers
_PREFIX_WORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "exec", "time", "env"}
)
_PREFIX_WITH_VALUE = frozenset({"timeout"})  # timeout 600 tenantctl apply
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# CI expressions: GitHub ${{ ... }}, Azure $(macro) and $[ ... ]. Each is one word's worth of
# text; replaced before splitting so `origin/${{ github.base_ref }}` stays one argument.
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}|\$\([A-Za-z_][\w.]*\)|\$\[.*?\]")
PLACEHOLDER = "CI_EXPRESSION"
# "$@", "${args[@]}": any number of words, known only when the script runs
_SPLAT = re.compile(r"^\$[@*]$|^\$\{[A-Za-z_][A-Za-z0-9_]*\[[@*]\]\}$")


@dataclass(frozen=True)
class Invocation:
    """One ``tenantctl`` call in a template: the words after ``tenantctl``."""

    file: str
    line: int  # 1-based, in the YAML file
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return shlex.join((PROGRAM, *self.argv))


@dataclass(frozen=True)
class TemplateProblem:
    invocation: Invocation
    message: str

    def __str__(self) -> str:
        where = f"{self.invocation.file}:{self.invocation.line}"
        return f"{where}: {self.message}: {self.invocation}"


# --- finding invocations -----------------------------------------------------------------------


def _logical_lines(script: str) -> Iterator[tuple[int, str]]:
    """(offset of the first physical line, joined text) for each logical line."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(script.splitlines()):
        if not pending:
            start = number
        stripped = line.rstrip()
        if stripped.endswith(("\\", "`")) and not stripped.endswith(("\\\\", "``")):
            pending.append(stripped[:-1])
            continue
        pending.append(line)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _words(text: str) -> list[str] | None:
    lexer = shlex.shlex(_EXPRESSION.sub(PLACEHOLDER, text), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: not something we can read as shell
        return None


def _is_operator(word: str) -> bool:
    return bool(word) and all(c in "();<>|&" for c in word)


def _is_program(word: str) -> bool:
    return PurePosixPath(word.replace("\\", "/")).name in (PROGRAM, f"{PROGRAM}.exe")


def _script_invocations(script: str) -> Iterator[tuple[int, list[str]]]:
    for offset, text in _logical_lines(script):
        words = _words(text)
        if words is None:
            continue
        command_position = True
        i = 0
        while i < len(words):
            word = words[i]
            if _is_operator(word):
                command_position = not any(c in word for c in "<>")
                i += 1 + (1 if "<" in word or ">" in word else 0)  # a redirection's target
                continue
            if command_position and (word in _PREFIX_WORDS or _ASSIGNMENT.match(word)):
                i += 1
                continue
            if command_position and word in _PREFIX_WITH_VALUE:
                i += 2
                continue
            if command_position and _is_program(word):
                argv: list[str] = []
                i += 1
                while i < len(words) and not _is_operator(words[i]):
                    argv.append(words[i])
                    i += 1
                # `2>&1`: the descriptor number sticks to the end of the arguments
                if argv and argv[-1].isdigit() and i < len(words) and words[i][0] in "<>":
                    argv.pop()
                yield offset, argv
                continue
            command_position = False
            i += 1


def _scalar_line(node: yaml.ScalarNode) -> int:
    # A block scalar (`run: |`) starts on the line after its indicator.
    return node.start_mark.line + (2 if node.style in ("|", ">") else 1)


def _walk(node: yaml.Node, file: str) -> Iterator[Invocation]:
    if isinstance(node, yaml.MappingNode):
        exec_form: dict[str, list[yaml.ScalarNode]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in SCRIPT_KEYS and isinstance(value, yaml.ScalarNode):
                base = _scalar_line(value)
                for offset, argv in _script_invocations(str(value.value)):
                    yield Invocation(file, base + offset, tuple(argv))
            elif name in EXEC_KEYS and isinstance(value, yaml.SequenceNode):
                exec_form[name] = [v for v in value.value if isinstance(v, yaml.ScalarNode)]
            else:
                yield from _walk(value, file)
        yield from _exec_form(exec_form.get("command", []), exec_form.get("args", []), file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, file)


def _exec_form(
    command: list[yaml.ScalarNode], args: list[yaml.ScalarNode], file: str
) -> Iterator[Invocation]:
    """A container's ``command`` + ``args``: tenantctl itself, or a shell running a script."""
    if command and _is_program(str(command[0].value)):
        words = tuple(_EXPRESSION.sub(PLACEHOLDER, str(v.value)) for v in (*command[1:], *args))
        yield Invocation(file, _scalar_line(command[0]), words)
        return
    for item in (*command, *args):  # e.g. ["/bin/sh", "-c", "tenantctl apply --shard ..."]
        for offset, argv in _script_invocations(str(item.value)):
            yield Invocation(file, _scalar_line(item) + offset, tuple(argv))


def find_invocations(path: Path, *, text: str | None = None) -> list[Invocation]:
    """Every ``tenantctl`` invocation in a YAML file (all its documents), in file order."""
    source = path.read_text(encoding="utf-8") if text is None else text
    try:
        documents = list(yaml.compose_all(source))
    except yaml.YAMLError as problem:
        raise UsageError(f"{path}: not valid YAML: {problem}") from None
    found = [inv for doc in documents if doc is not None for inv in _walk(doc, str(path))]
    return sorted(found, key=lambda inv: inv.line)


# --- checking against the click tree -------------------------------------------------------------


def _context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    return click.Context(command, info_name=name, parent=parent, **command.context_settings)


def _options(command: click.Command, ctx: click.Context) -> dict[str, click.Option]:
    names: dict[str, click.Option] = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                names[opt] = param
    return names


def _takes_value(option: click.Option) -> int:
    if option.is_flag or option.count:
        return 0
    return max(option.nargs, 1)


def check_invocation(invocation: Invocation, cli: click.Group) -> list[str]:
    """The problems with one invocation: unknown commands and flags, missing or surplus
    arguments. An empty list means click would accept the command line's shape."""
    problems: list[str] = []
    command: click.Command = cli
    ctx = _context(cli, PROGRAM, None)
    path = [PROGRAM]
    positionals: list[str] = []
    words = [w for w in invocation.argv if not _SPLAT.match(w)]
    open_ended = len(words) != len(invocation.argv)
    options_done = False
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not options_done and word == "--":
            options_done = True
            continue
        if not options_done and word.startswith("-") and word != "-":
            known = _options(command, ctx)
            name, has_inline_value = (word.split("=", 1)[0], "=" in word)
            if word.startswith("--") or name in known:
                option = known.get(name)
                if option is None:
                    problems.append(f"{' '.join(path)} has no option {name}")
                    # Whether it took a value is unknowable; assume it did rather than report
                    # its value as a second, made-up problem.
                    if not has_inline_value and i < len(words) and not words[i].startswith("-"):
                        i += 1
                elif not has_inline_value:
                    i += _takes_value(option)
                continue
            for position, letter in enumerate(word[1:], start=1):  # -vq, -ofile
                option = known.get(f"-{letter}")
                if option is None:
                    problems.append(f"{' '.join(path)} has no option -{letter}")
                    break
                if _takes_value(option):
                    i += 0 if position < len(word) - 1 else _takes_value(option)
                    break
            continue
        if isinstance(command, click.Group) and not positionals:
            sub = command.get_command(ctx, word)
            if sub is None:
                problems.append(f"{' '.join(path)} has no command {word!r}")
                return problems
            command, ctx = sub, _context(sub, word, ctx)
            path.append(word)
            continue
        positionals.append(word)

    if isinstance(command, click.Group):
        if len(path) == 1 and not invocation.argv:
            problems.append("no command given")
        return problems
    arguments = [p for p in command.get_params(ctx) if isinstance(p, click.Argument)]
    capacity = 0
    unlimited = False
    for argument in arguments:
        if argument.nargs < 0:
            unlimited = True
        else:
            capacity += argument.nargs
        if argument.required and argument.envvar is None:
            needed = sum(max(a.nargs, 1) for a in arguments[: arguments.index(argument) + 1])
            if len(positionals) < needed:
                problems.append(
                    f"{' '.join(path)} needs the argument {argument.human_readable_name}"
                )
    if not unlimited and not open_ended and len(positionals) > capacity:
        surplus = " ".join(positionals[capacity:])
        problems.append(f"{' '.join(path)} takes no further argument, got {surplus!r}")
    return problems


def check_template(path: Path, cli: click.Group) -> list[TemplateProblem]:
    """Every problem with every ``tenantctl`` invocation in the YAML file at ``path``."""
    return [
        TemplateProblem(invocation, message)
        for invocation in find_invocations(path)
        for message in check_invocation(invocation, cli)
    ]

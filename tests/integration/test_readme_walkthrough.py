"""The README works verbatim: its walk-through of the demo estate (between the
``<!-- walkthrough -->`` markers) is run command by command, in order, in a fresh temporary
copy of the repository's ``desired/``, as a shell runs it, with the installed ``tenantctl`` on
``PATH``. Every exit status the README shows (``[exit N]``) and every line it shows must be
what the command prints; ``...`` stands for lines (on a line of its own) or text (inside a
line) left out. A README that drifts from the tool fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BLOCK = re.compile(
    r"<!-- walkthrough -->\s*```console\n(?P<body>.*?)```\s*<!-- /walkthrough -->", re.S
)
SETUP = (". .venv/bin/activate",)  # what the test does itself: tenantctl is on PATH


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    exit_status: int | None = None


def walkthrough() -> list[Step]:
    match = BLOCK.search(README.read_text(encoding="utf-8"))
    assert match, "README.md has no <!-- walkthrough --> console block"
    steps: list[Step] = []
    for line in match["body"].splitlines():
        if line.startswith("$ "):
            steps.append(Step(line[2:].strip()))
        elif (status := re.fullmatch(r"\[exit (\d+)\]", line.strip())) is not None:
            steps[-1].exit_status = int(status[1])
        else:
            steps[-1].expected.append(line.rstrip())
    return steps


def pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in line.split("...")))


def assert_shows(expected: list[str], stdout: str, stderr: str, command: str) -> None:
    """Each expected line in order, in stdout or (for progress and errors) in stderr; lines
    with no ``...`` between them must follow each other in the output too."""
    streams = {"stdout": stdout.splitlines(), "stderr": stderr.splitlines()}
    cursor = {"stdout": 0, "stderr": 0}
    adjacent = False
    for line in expected:
        if line == "...":
            adjacent = False
            continue
        wanted = pattern(line)
        for name, lines in streams.items():
            window = lines[cursor[name] : cursor[name] + 1] if adjacent else lines[cursor[name] :]
            found = next((i for i, text in enumerate(window) if wanted.fullmatch(text)), None)
            if found is not None:
                cursor[name] += found + 1
                break
        else:
            raise AssertionError(
                f"`{command}` did not print {line!r} where the README shows it\n"
                f"--- stdout\n{stdout}\n--- stderr\n{stderr}"
            )
        adjacent = True


def test_the_walkthrough_is_a_transcript(tmp_path: Path) -> None:
    steps = walkthrough()
    assert [s.command for s in steps[: len(SETUP)]] == list(SETUP)
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(REPO / "desired", work / "desired")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }
    env.pop("CI", None)
    for step in steps[len(SETUP) :]:
        assert step.command.startswith("tenantctl "), step.command
        assert step.exit_status is not None, f"the README shows no [exit N] for {step.command}"
        done = subprocess.run(
            ["bash", "-c", step.command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == step.exit_status, (
            f"`{step.command}` exited {done.returncode}, the README says {step.exit_status}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        assert_shows(step.expected, done.stdout, done.stderr, step.command)


@pytest.mark.parametrize(
    ("expected", "stdout", "shown"),
    [
        (["a", "b"], "a\nb\n", True),
        (["a", "b"], "a\nx\nb\n", False),  # shown next to each other, printed apart
        (["a", "...", "b"], "a\nx\nb\n", True),
        (["run ... held"], "run 1: 3 held\n", True),
        (["b", "a"], "a\nb\n", False),
    ],
)
def test_the_transcript_matcher(expected: list[str], stdout: str, shown: bool) -> None:
    if shown:
        assert_shows(expected, stdout, "", "cmd")
    else:
        with pytest.raises(AssertionError):
            assert_shows(expected, stdout, "", "cmd")

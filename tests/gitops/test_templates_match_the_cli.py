"""Every tenantctl call in the shipped CI templates and Kubernetes manifest names a command,
flags and arguments that the real command line has (the checker is tested on its own in
test_templates.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.cli import cli
from controller.gitops import check_template, find_invocations

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The scheduled apply workflow only calls the reusable tenantctl-shard.yml, checked here too
# (the drift workflow also calls tenantctl itself, in its report job).
CALLERS = ("tenantctl-apply.yml",)
TEMPLATES = sorted(
    p for p in EXAMPLES.rglob("*") if p.suffix in (".yml", ".yaml") and p.name not in CALLERS
)


def test_there_are_templates() -> None:
    assert len(TEMPLATES) >= 5


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_template_uses_only_real_commands_and_flags(template: Path) -> None:
    assert find_invocations(template), f"{template} calls no tenantctl command"
    problems = [str(problem) for problem in check_template(template, cli)]
    assert problems == []

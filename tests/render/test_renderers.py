"""The three views of a plan: golden terminal and Markdown renderings of the demo plan,
colour only on request, the Markdown size limit, and versioned stable JSON.

Regenerate the golden files after an intended change with
``TENANTCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest

from controller.plan import PLAN_FORMAT_VERSION, Plan, plan_estate
from controller.render import MARKER, render_json, render_markdown, render_terminal
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
UPDATE = os.environ.get("TENANTCTL_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def demo_plan() -> Plan:
    state = demo_desired()
    return plan_estate(state, demo_observed(state), demo_context(state))


def _golden(name: str, text: str) -> None:
    path = FIXTURES / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with TENANTCTL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_terminal_golden(demo_plan: Plan) -> None:
    _golden("demo_plan.terminal.golden", render_terminal(demo_plan, color=False))


def test_markdown_golden(demo_plan: Plan) -> None:
    _golden(
        "demo_plan.markdown.golden",
        render_markdown(demo_plan, full_plan_hint="the plan.json artifact of this CI run"),
    )


def test_terminal_colours_only_when_asked(demo_plan: Plan) -> None:
    assert "\x1b[" not in render_terminal(demo_plan, color=False)
    coloured = render_terminal(demo_plan, color=True)
    line = next(line for line in coloured.splitlines() if "+ user.create" in line)
    assert line.startswith(click.style("", fg="green")[:5]) and line.endswith(click.style(""))


def test_terminal_ends_with_summary_counts(demo_plan: Plan) -> None:
    last = render_terminal(demo_plan).rstrip().splitlines()[-1]
    assert last.startswith("39 operation(s): 22 to add, 6 to change, 9 to remove, 2 manual")


def test_markdown_starts_with_the_hidden_marker(demo_plan: Plan) -> None:
    text = render_markdown(demo_plan)
    assert text.splitlines()[0] == MARKER
    assert text.count("<details>") == len(demo_plan.tenants)
    assert "[!IMPORTANT]" in text and "adminconsent?client_id=" in text


def test_markdown_over_the_limit_cuts_whole_tenant_sections(demo_plan: Plan) -> None:
    full = render_markdown(demo_plan)
    limit = full.index("<details><summary><b>fabrikam") + 600
    cut = render_markdown(demo_plan, max_chars=limit, full_plan_hint="artifact plan.json")
    assert len(cut) <= limit
    assert cut.count("<details>") == cut.count("</details>") == 2  # adatum, contoso
    assert "3 tenant section(s) left out (fabrikam, tailspin, woodgrove)" in cut
    assert "The full plan: artifact plan.json." in cut


def test_markdown_of_an_empty_plan(demo_plan: Plan) -> None:
    empty = demo_plan.model_copy(update={"tenants": ()})
    assert "No changes." in render_markdown(empty)


def test_json_is_versioned_sorted_and_round_trips(demo_plan: Plan) -> None:
    text = render_json(demo_plan)
    data = json.loads(text)
    assert data["formatVersion"] == PLAN_FORMAT_VERSION
    assert {"planId", "createdAt", "desiredDigest", "failedChecks"} <= data.keys()
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert Plan.model_validate_json(text) == demo_plan

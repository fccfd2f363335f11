"""The CI templates and the Kubernetes manifest in ``examples/``.

Covers: every file parses as YAML; every ``tenantctl`` call in them uses only the commands and
flags the CLI promises (checked against a stand-in click tree written from the agreed flag
list, until the real ``plan``/``approve``/``apply``/``status`` commands exist: then the same
check runs against ``controller.cli.cli``); and the properties the GitOps flow depends on
(full history for ``--changed-since``, the comment marker, one apply at a time, shards that
cover the matrix, Indexed Job wiring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from controller.gitops.templates import PLACEHOLDER, check_template, find_invocations

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEMPLATES = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yml", ".yaml"))
GITHUB = EXAMPLES / "ci" / "github"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
def agreed_cli(verbose: int, quiet: bool) -> None:
    """The command lines the templates may use, as agreed for issue 7."""


@agreed_cli.command()
@click.option("--desired")
@click.option("--format")
def validate(**_: object) -> None:
    """validate"""


@agreed_cli.command()
@click.option("--desired")
@click.option("--tenant", multiple=True)
@click.option("--changed-since")
@click.option("--out")
@click.option("--markdown")
@click.option("--shard")
@click.option("--notify")
@click.option("--drift", is_flag=True)
def plan(**_: object) -> None:
    """plan"""


@agreed_cli.command()
@click.argument("plan_file")
@click.option("--by", required=True)
@click.option("--only", multiple=True)
@click.option("--expires")
@click.option("--reason")
@click.option("--approvals")
def approve(**_: object) -> None:
    """approve"""


@agreed_cli.command()
@click.option("--desired")
@click.option("--approvals")
@click.option("--tenant", multiple=True)
@click.option("--shard")
@click.option("--notify")
@click.option("--journal")
def apply(**_: object) -> None:
    """apply"""


@agreed_cli.command()
@click.option("--shard")
@click.option("--format")
def status(**_: object) -> None:
    """status"""


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def test_the_expected_templates_exist() -> None:
    assert [p.relative_to(EXAMPLES).as_posix() for p in TEMPLATES] == [
        "ci/azure-pipelines.yml",
        "ci/github/tenantctl-apply.yml",
        "ci/github/tenantctl-approve.yml",
        "ci/github/tenantctl-drift.yml",
        "ci/github/tenantctl-plan.yml",
        "kubernetes/cronjob.yaml",
    ]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_parses_as_yaml(path: Path) -> None:
    documents = load_all(path)
    assert documents
    assert all(isinstance(doc, dict) for doc in documents)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_uses_only_agreed_commands_and_flags(path: Path) -> None:
    assert find_invocations(path), f"{path.name} calls tenantctl nowhere"
    assert [str(problem) for problem in check_template(path, agreed_cli)] == []


def commands(path: Path) -> list[str]:
    return [" ".join(inv.argv) for inv in find_invocations(path)]


def test_the_plan_workflow() -> None:
    path = GITHUB / "tenantctl-plan.yml"
    workflow = load_all(path)[0]
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    steps = workflow["jobs"]["plan"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert commands(path) == [
        "validate",
        f"plan --changed-since origin/{PLACEHOLDER} --out plan.json --markdown plan.md",
    ]
    scripts = [s["with"]["script"] for s in steps if "github-script" in s.get("uses", "")]
    assert len(scripts) == 1
    assert "<!-- tenantctl-plan -->" in scripts[0]
    assert "updateComment" in scripts[0]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)


def test_the_approve_workflow() -> None:
    path = GITHUB / "tenantctl-approve.yml"
    workflow = load_all(path)[0]
    assert set(workflow[True]) == {"issue_comment", "workflow_dispatch"}
    assert commands(path) == [f"approve plan.json --by {PLACEHOLDER} $@"]
    steps = workflow["jobs"]["approve"]["steps"]
    assert any("git push" in s.get("run", "") for s in steps)
    # The comment's text is untrusted: it reaches scripts only through the environment.
    text = path.read_text(encoding="utf-8")
    assert text.count("github.event.comment.body") == 2  # the job's `if:` and one env entry


def test_the_apply_workflow_never_overlaps_and_covers_every_shard() -> None:
    path = GITHUB / "tenantctl-apply.yml"
    workflow = load_all(path)[0]
    assert workflow["concurrency"] == {"group": "tenantctl-apply", "cancel-in-progress": False}
    assert set(workflow[True]) == {"push", "schedule", "workflow_dispatch"}
    assert workflow["permissions"]["id-token"] == "write"
    job = workflow["jobs"]["apply"]
    assert job["strategy"]["matrix"]["shard"] == list(range(1, workflow["env"]["SHARDS"] + 1))
    assert job["strategy"]["fail-fast"] is False
    assert commands(path) == [
        f"apply --approvals approvals --shard {PLACEHOLDER}/{PLACEHOLDER} --notify "
        f"$TENANTCTL_WEBHOOK --journal journal-{PLACEHOLDER}.sqlite"
    ]


def test_the_drift_workflow_only_plans() -> None:
    path = GITHUB / "tenantctl-drift.yml"
    workflow = load_all(path)[0]
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["matrix"]["shard"] == list(range(1, workflow["env"]["SHARDS"] + 1))
    assert all(c.startswith("plan --drift") for c in commands(path))


def test_the_azure_pipeline_has_each_stage() -> None:
    path = EXAMPLES / "ci" / "azure-pipelines.yml"
    pipeline = load_all(path)[0]
    assert [s["stage"] for s in pipeline["stages"]] == ["Plan", "Approve", "Apply", "Drift"]
    assert pipeline["lockBehavior"] == "sequential"
    verbs = [c.split()[0] for c in commands(path)]
    assert verbs == ["validate", "plan", "approve", "apply", "plan"]
    assert "<!-- tenantctl-plan -->" in path.read_text(encoding="utf-8")


def test_the_kubernetes_cronjob_runs_an_indexed_job() -> None:
    path = EXAMPLES / "kubernetes" / "cronjob.yaml"
    [cronjob] = load_all(path)
    assert cronjob["kind"] == "CronJob"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == 4
    script = job["template"]["spec"]["containers"][0]["args"][0]
    assert "SHARDS=4" in script
    assert "K=$((JOB_COMPLETION_INDEX + 1))" in script
    assert commands(path) == [
        "apply --desired desired --approvals approvals --shard $K/$SHARDS --notify $TENANTCTL_WEBHOOK"
    ]

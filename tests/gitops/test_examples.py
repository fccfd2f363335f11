"""The CI templates and the Kubernetes manifests in ``examples/``, and the Dockerfile.

Covers: every file parses as YAML; every ``tenantctl`` call in them uses only the commands and
flags the CLI promises (checked against a stand-in click tree written from the agreed flag
list, until the real ``plan``/``approve``/``apply``/``status`` commands exist: then the same
check runs against ``controller.cli.cli``); and the properties the GitOps flow depends on
(full history for ``--changed-since``, the comment marker, one apply at a time, shards that
cover the matrix, Indexed Job wiring; the controller's StatefulSet: a shard per pod
ordinal, probes on the paths the controller serves, the scrape annotation, writable volumes
where the image keeps its state; the image: non-root, tenantctl as its entry point).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from controller.gitops.templates import check_template, find_invocations

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
@click.option("--observations")
def plan(**_: object) -> None:
    """plan"""


@agreed_cli.command()
@click.option("--html", required=True)
@click.option("--observations", multiple=True)
@click.option("--journal")
def report(**_: object) -> None:
    """report"""


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
@click.option("--lock-timeout")
def apply(**_: object) -> None:
    """apply"""


@agreed_cli.command()
@click.option("--shard")
@click.option("--format")
def status(**_: object) -> None:
    """status"""


@agreed_cli.command()
@click.option("--desired")
@click.option("--git-url")
@click.option("--branch")
@click.option("--interval")
@click.option("--jitter")
@click.option("--listen")
@click.option("--shard")
@click.option("--notify")
@click.option("--once", is_flag=True)
@click.option("--log-format")
def controller(**_: object) -> None:
    """controller (issue 18)"""


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def test_the_expected_templates_exist() -> None:
    assert [p.relative_to(EXAMPLES).as_posix() for p in TEMPLATES] == [
        "ci/azure-pipelines.yml",
        "ci/github/tenantctl-apply.yml",
        "ci/github/tenantctl-approve.yml",
        "ci/github/tenantctl-drift.yml",
        "ci/github/tenantctl-plan.yml",
        "ci/github/tenantctl-shard.yml",
        "kubernetes/controller.yaml",
        "kubernetes/cronjob.yaml",
    ]


# The scheduled workflows call the reusable shard workflow, which calls tenantctl; the drift
# workflow's report job then calls tenantctl itself (report, without credentials).
CALLERS = frozenset({"tenantctl-apply.yml", "tenantctl-drift.yml"})
REPORT_JOB = "report"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_parses_as_yaml(path: Path) -> None:
    documents = load_all(path)
    assert documents
    assert all(isinstance(doc, dict) for doc in documents)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_uses_only_agreed_commands_and_flags(path: Path) -> None:
    if path.name in CALLERS:
        jobs = load_all(path)[0]["jobs"]
        shards = [job for name, job in jobs.items() if name != REPORT_JOB]
        assert {job["uses"] for job in shards} == {"./.github/workflows/tenantctl-shard.yml"}
        if REPORT_JOB not in jobs:
            assert not find_invocations(path)
            return
    assert find_invocations(path), f"{path.name} calls tenantctl nowhere"
    assert [str(problem) for problem in check_template(path, agreed_cli)] == []


def commands(path: Path) -> list[str]:
    return [" ".join(inv.argv) for inv in find_invocations(path)]


def steps_of(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_plan_workflow() -> None:
    path = GITHUB / "tenantctl-plan.yml"
    workflow = load_all(path)[0]
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    steps = workflow["jobs"]["plan"]["steps"]
    estate, tool = steps[0]["with"], steps[1]["with"]
    assert (estate["path"], estate["fetch-depth"]) == ("estate", 0)
    # The job holds the tenant credentials: the tool is the base branch's, not the PR's.
    assert (tool["path"], tool["ref"]) == ("tool", "${{ github.event.pull_request.base.sha }}")
    installs = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert installs == ["pip install --constraint tool/constraints.txt ./tool"]
    assert commands(path) == [
        "validate",
        "plan --changed-since origin/$BASE_REF --out plan.json --markdown plan.md",
    ]
    scripts = [s["with"]["script"] for s in steps if "github-script" in s.get("uses", "")]
    assert len(scripts) == 1
    assert "<!-- tenantctl-plan -->" in scripts[0]
    assert "updateComment" in scripts[0]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)


def test_the_approve_workflow_writes_only_where_no_pull_request_code_runs() -> None:
    path = GITHUB / "tenantctl-approve.yml"
    workflow = load_all(path)[0]
    assert set(workflow[True]) == {"issue_comment", "workflow_dispatch"}
    assert workflow["permissions"] == {}
    approve, commit = workflow["jobs"]["approve"], workflow["jobs"]["commit"]
    assert approve["permissions"]["contents"] == "read"
    assert commit["permissions"]["contents"] == "write"
    assert commands(path) == ["approve ../plan/plan.json --by $APPROVER $@"]
    # The reading job installs the default branch's tenantctl, never the pull request's.
    tool = next(s for s in approve["steps"] if s.get("with", {}).get("path") == "tool")
    assert tool["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    # The writing job runs no code: no install, no tenantctl, no script from the branch.
    runs = "\n".join(s.get("run", "") for s in commit["steps"])
    assert not re.search(r"\bpip install\b|^\s*tenantctl\b|\./", runs, re.MULTILINE), runs
    assert "git push" in runs
    # The comment's text is untrusted: it reaches scripts only through the environment.
    text = path.read_text(encoding="utf-8")
    assert text.count("github.event.comment.body") == 2  # the job's `if:` and one env entry


def test_the_apply_workflow_never_overlaps_and_covers_every_shard() -> None:
    path = GITHUB / "tenantctl-apply.yml"
    workflow = load_all(path)[0]
    assert workflow["concurrency"] == {"group": "tenantctl-apply", "cancel-in-progress": False}
    assert set(workflow[True]) == {"push", "schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert job["with"]["mode"] == "apply"
        assert job["strategy"]["matrix"]["shard"] == list(range(1, job["with"]["shards"] + 1))
        assert job["strategy"]["fail-fast"] is False
        # id-token: write only where the credential is federated.
        federated = job["with"].get("federated", False)
        assert ("id-token" in job["permissions"]) is federated, name
        assert ("== 'true'" in job["if"]) is federated, name
    shard = GITHUB / "tenantctl-shard.yml"
    assert commands(shard) == [
        "apply --approvals approvals --shard $SHARD/$SHARDS --notify $TENANTCTL_WEBHOOK "
        "--lock-timeout 600",
        "plan --drift --shard $SHARD/$SHARDS --out drift.json --markdown drift.md --notify "
        "$TENANTCTL_WEBHOOK --observations observations.json",
    ]
    # A long shard keeps a fresh federated token: the file is fetched again while it runs.
    text = shard.read_text(encoding="utf-8")
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in text and "sleep 240" in text


def test_the_drift_workflow_only_plans_and_publishes_one_report() -> None:
    path = GITHUB / "tenantctl-drift.yml"
    workflow = load_all(path)[0]
    jobs = dict(workflow["jobs"])
    report = jobs.pop(REPORT_JOB)
    for job in jobs.values():
        assert job["with"]["mode"] == "drift"
        assert job["strategy"]["matrix"]["shard"] == list(range(1, job["with"]["shards"] + 1))
        assert ("id-token" in job["permissions"]) is job["with"].get("federated", False)
    # The report: after every shard (whichever credential ran), from their saved
    # observations, without a secret or a token, published as an artifact.
    assert report["needs"] == list(jobs) and "cancelled()" in report["if"]
    assert report["permissions"] == {"contents": "read"}
    assert "secrets" not in yaml.safe_dump(report) and "env" not in yaml.safe_dump(report)
    steps = report["steps"]
    download = next(s for s in steps if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["pattern"] == "tenantctl-observations-*"
    assert commands(path) == ["report --html report ${saved[@]}"]
    upload = steps[-1]
    assert upload["uses"].startswith("actions/upload-artifact")
    assert (upload["with"]["name"], upload["with"]["path"]) == ("tenantctl-report", "report/")
    shard = load_all(GITHUB / "tenantctl-shard.yml")[0]["jobs"]["run"]["steps"]
    kept = [s["with"]["name"] for s in shard if "upload-artifact" in s.get("uses", "")]
    assert "tenantctl-observations-${{ inputs.shard }}" in kept


WORKFLOWS = sorted(GITHUB.glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_and_checkouts_keep_no_credentials(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for step in steps_of(load_all(path)[0]):
        uses = step.get("uses")
        if uses is None:
            continue
        assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a commit"
        line = next(line for line in text.splitlines() if uses in line)
        assert re.search(r"# v\d+\.\d+\.\d+$", line), f"{path.name}: no version beside {uses}"
        if uses.startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, path.name
    for step in steps_of(load_all(path)[0]):
        run = step.get("run", "")
        if "pip install" in run:
            assert "--constraint" in run, f"{path.name}: {run!r} installs unpinned"


@pytest.mark.parametrize(
    ("path", "schema"),
    [*((p, "vendor.github-workflows") for p in WORKFLOWS),
     (EXAMPLES / "ci" / "azure-pipelines.yml", "vendor.azure-pipelines")],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)  # fmt: skip
def test_the_templates_are_valid_against_the_vendors_schemas(path: Path, schema: str) -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run(
        [str(checker), "--regex-variant", "python", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_the_azure_pipeline_has_each_stage() -> None:
    path = EXAMPLES / "ci" / "azure-pipelines.yml"
    pipeline = load_all(path)[0]
    assert [s["stage"] for s in pipeline["stages"]] == ["Plan", "Approve", "Apply", "Drift"]
    assert pipeline["lockBehavior"] == "sequential"
    verbs = [c.split()[0] for c in commands(path)]
    assert verbs == ["validate", "plan", "approve", "apply", "plan", "report"]
    drift = next(s for s in pipeline["stages"] if s["stage"] == "Drift")
    report = next(j for j in drift["jobs"] if j["job"] == "report")
    assert report["dependsOn"] == "drift"
    assert [s["publish"] for s in report["steps"] if "publish" in s] == ["report"]
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
        "apply --desired desired --approvals approvals --shard $K/$SHARDS --notify "
        "$TENANTCTL_WEBHOOK --lock-timeout 600"
    ]


def test_the_kubernetes_controller_runs_a_shard_per_pod_with_probes() -> None:
    from controller.loop._serve import HEALTH_PATH, METRICS_PATH, READY_PATH

    path = EXAMPLES / "kubernetes" / "controller.yaml"
    service, statefulset = load_all(path)
    assert service["kind"] == "Service" and service["spec"]["clusterIP"] == "None"
    assert statefulset["kind"] == "StatefulSet"
    spec = statefulset["spec"]
    assert spec["serviceName"] == service["metadata"]["name"]
    pod = spec["template"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == METRICS_PATH
    [container] = pod["spec"]["containers"]
    script = container["args"][0]
    assert f"SHARDS={spec['replicas']}" in script
    assert "K=$((${HOSTNAME##*-} + 1))" in script  # the pod's ordinal, counted from 1
    [invocation] = commands(path)
    assert invocation.startswith("controller --git-url $GIT_URL --branch main")
    assert "--shard $K/$SHARDS" in invocation and "--listen :9090" in invocation
    port = int(annotations["prometheus.io/port"])
    [named] = container["ports"]
    assert named["containerPort"] == port
    assert container["livenessProbe"]["httpGet"] == {"path": HEALTH_PATH, "port": named["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": READY_PATH, "port": named["name"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {env["TENANTCTL_HOME"], env["HOME"], "/tmp"} <= mounts  # all it writes
    claims = {c["metadata"]["name"] for c in spec["volumeClaimTemplates"]}
    assert {m["name"] for m in container["volumeMounts"]} - claims == {"tmp"}


def test_the_image_runs_tenantctl_as_a_user_with_its_state_on_volumes() -> None:
    text = (EXAMPLES.parent / "Dockerfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    [user] = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert user.split(":")[0] not in ("root", "0")
    assert instructions.count('ENTRYPOINT ["tenantctl"]') == 1
    assert "pip install --no-cache-dir --constraint constraints.txt ." in text
    [volumes] = [line for line in instructions if line.startswith("VOLUME ")]
    env = " ".join(line for line in instructions if "HOME=" in line)
    for variable, directory in (
        ("TENANTCTL_HOME", "/var/lib/tenantctl"),
        ("HOME", "/home/tenantctl"),
    ):
        assert f"{variable}={directory}" in env
        assert f'"{directory}"' in volumes
    # The controller's image also lives in the manifest: the same user id.
    manifest = load_all(EXAMPLES / "kubernetes" / "controller.yaml")[1]
    assert (
        str(manifest["spec"]["template"]["spec"]["securityContext"]["runAsUser"])
        == user.split(":")[0]
    )


def test_the_kubernetes_cronjob_keeps_a_read_only_root_and_a_writable_home() -> None:
    """readOnlyRootFilesystem stays on; HOME (~/.tenantctl/secrets) and /tmp are volumes, so the
    first create never fails on a read-only ~/.tenantctl; the DSN comes from the Secret."""
    [cronjob] = load_all(EXAMPLES / "kubernetes" / "cronjob.yaml")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    home = {e["name"]: e["value"] for e in container["env"]}["HOME"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    for path in (home, "/tmp"):
        volume = volumes[mounts[path]]
        assert "emptyDir" in volume or "persistentVolumeClaim" in volume, path
    text = (EXAMPLES / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8")
    assert "TENANTCTL_JOURNAL_DSN" in text and "keyVault" in text


@pytest.mark.parametrize(
    "path", [GITHUB / "tenantctl-shard.yml", EXAMPLES / "ci" / "azure-pipelines.yml"]
)
def test_the_ci_templates_keep_state_off_the_runner(path: Path) -> None:
    """The apply jobs hand msp.yaml's journal its DSN and say how to keep passwords in Key
    Vault; the journal file is kept only when no shared journal is configured."""
    text = re.sub(r"\s*\n#\s*", " ", path.read_text(encoding="utf-8"))  # comments as prose
    assert "TENANTCTL_JOURNAL_DSN" in text
    assert "keyVault: {url: https://NAME.vault.azure.net" in text
    assert "Key Vault Secrets Officer" in text
    assert "--journal journal-" not in text

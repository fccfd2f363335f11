"""The CI template checker: finding ``tenantctl`` calls in YAML, and checking them against a
click command tree.

Covers: GitHub Actions ``run:`` steps (multi-line, continuations, ``${{ }}`` expressions,
pipes, comments), Azure Pipelines ``script:``/``bash:``/``pwsh:`` steps and ``inlineScript``
inputs, Kubernetes exec-form and ``sh -c`` containers, what is *not* an invocation, and each
kind of problem (unknown command or flag, missing or surplus argument) with its location. It
runs against a small synthetic command tree: the real CLI's commands are built elsewhere.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import click
import pytest

from controller.errors import UsageError
from controller.gitops.templates import (
    PLACEHOLDER,
    Invocation,
    TemplateProblem,
    check_invocation,
    check_template,
    find_invocations,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
def fake_cli(verbose: int, quiet: bool) -> None:
    """A stand-in for tenantctl."""


@fake_cli.command()
@click.option("--desired")
@click.option("--tenant", multiple=True)
@click.option("--changed-since")
@click.option("--out")
@click.option("--markdown")
@click.option("--shard")
@click.option("--notify")
@click.option("--drift", is_flag=True)
@click.option("-o", "--output-format")
def plan(**_: object) -> None:
    """Plan."""


@fake_cli.command()
@click.argument("plan_file")
@click.option("--by", required=True)
@click.option("--only", multiple=True)
@click.option("--approvals")
def approve(**_: object) -> None:
    """Approve."""


@fake_cli.command()
def validate() -> None:
    """Validate."""


@fake_cli.group()
def connect() -> None:
    """Connections."""


@connect.command()
@click.option("--tenant", multiple=True)
def check(**_: object) -> None:
    """Check the connection."""


def write(tmp_path: Path, text: str, name: str = "workflow.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def argvs(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    return [(inv.line, inv.argv) for inv in find_invocations(path)]


E = PLACEHOLDER


# --- finding invocations ---------------------------------------------------------------------


def test_github_actions_run_steps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        name: tenantctl-plan
        on: pull_request
        jobs:
          plan:
            runs-on: ubuntu-latest
            steps:
              - name: Run tenantctl plan   # a name, not a command
                run: tenantctl validate
              - run: |
                  set +e
                  # tenantctl comment --is-not-a-call
                  tenantctl plan --changed-since "origin/${{ github.base_ref }}" \\
                    --out plan.json \\
                    --markdown plan.md 2>&1 | tee plan.log
                  code=${PIPESTATUS[0]}
                  if [ "$code" = 1 ]; then exit 1; fi
                  STATUS=$(tenantctl status --shard ${{ matrix.shard }}/4 -o json) && echo ok
              - uses: actions/github-script@v7
                with:
                  script: |
                    const marker = '<!-- tenantctl-plan -->';
                    const body = `${marker}\\n${fs.readFileSync('plan.md')}`;
        """,
    )
    assert argvs(path) == [
        (8, ("validate",)),
        (
            12,
            (
                "plan",
                "--changed-since",
                f"origin/{E}",
                "--out",
                "plan.json",
                "--markdown",
                "plan.md",
            ),
        ),
        (17, ("status", "--shard", f"{E}/4", "-o", "json")),
    ]


def test_azure_pipelines_steps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        trigger: none
        steps:
          - script: tenantctl -v plan --out $(Build.ArtifactStagingDirectory)/plan.json
            displayName: plan
          - bash: |
              env TENANTCTL_CLIENT_SECRET="$SECRET" timeout 3600 tenantctl apply --shard $(shard)
          - pwsh: |
              tenantctl approve plan.json `
                --by "$(Build.RequestedFor)"
          - task: AzureCLI@2
            inputs:
              scriptType: bash
              inlineScript: >-
                tenantctl connect check
        """,
    )
    assert argvs(path) == [
        (3, ("-v", "plan", "--out", f"{E}/plan.json")),
        (6, ("apply", "--shard", E)),
        (8, ("approve", "plan.json", "--by", E)),
        (14, ("connect", "check")),
    ]


def test_kubernetes_containers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        apiVersion: batch/v1
        kind: CronJob
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: exec-form
                      command: ["tenantctl", "plan"]
                      args: ["--drift", "--shard", "1/3"]
                    - name: shell-form
                      command: ["/bin/sh", "-c"]
                      args:
                        - |
                          K=$((JOB_COMPLETION_INDEX + 1))
                          exec /usr/local/bin/tenantctl apply --shard "$K/3"
        ---
        apiVersion: v1
        kind: ConfigMap
        data:
          run: tenantctl validate
        """,
        name="cronjob.yaml",
    )
    assert argvs(path) == [
        (10, ("plan", "--drift", "--shard", "1/3")),
        (17, ("apply", "--shard", "$K/3")),
        (22, ("validate",)),
    ]


@pytest.mark.parametrize(
    "script",
    [
        "pip install tenantctl",
        "pip install 'tenantctl==0.1.0'",
        'echo "tenantctl plan"',
        "git commit -m 'tenantctl approval'",
        "ls tenantctl-plan/",
        "echo 'unbalanced",
        "cat > tenantctl",
    ],
)
def test_what_is_not_an_invocation(tmp_path: Path, script: str) -> None:
    path = write(tmp_path, f"steps:\n  - run: {script!r}\n")
    assert find_invocations(path) == []


def test_a_template_that_is_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "steps: [run: {\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        find_invocations(path)


# --- checking against the command tree ----------------------------------------------------------


def problems(*argv: str) -> list[str]:
    return check_invocation(Invocation("ci.yml", 1, argv), fake_cli)


@pytest.mark.parametrize(
    "argv",
    [
        ("plan",),
        ("-v", "-q", "plan", "--drift"),
        ("-vq", "plan"),
        ("--verbose", "plan", "--tenant", "contoso", "--tenant", "fabrikam"),
        ("plan", "--out=plan.json", "--markdown", "plan.md", "--shard", f"{E}/4"),
        ("plan", "-o", "json"),
        ("plan", "-ojson"),
        ("plan", "--desired", "plan"),  # a value that looks like a command is a value
        ("plan", "--help"),
        ("-h",),
        ("approve", "plan.json", "--by", E, "--only", "fp1", "--only", "fp2"),
        ("approve", "--by", "alice", "--", "-odd-name.json"),
        ("connect", "check", "--tenant", "contoso"),
        ("approve", "plan.json", "--by", "me", "$@"),  # "$@" after `set -- --only FP`
        ("plan", "${extra[@]}"),
    ],
)
def test_command_lines_that_exist(argv: tuple[str, ...]) -> None:
    assert problems(*argv) == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("plna",), ["tenantctl has no command 'plna'"]),
        (("plan", "--changed-snice", "main"), ["tenantctl plan has no option --changed-snice"]),
        (("plan", "--detect-drift=yes"), ["tenantctl plan has no option --detect-drift"]),
        (("plan", "-x"), ["tenantctl plan has no option -x"]),
        (("-vz", "plan"), ["tenantctl has no option -z"]),
        (("--by", "alice", "approve", "plan.json"), ["tenantctl has no option --by"]),
        (("approve", "--by", "alice"), ["tenantctl approve needs the argument PLAN_FILE"]),
        (("plan", "origin/main"), ["tenantctl plan takes no further argument, got 'origin/main'"]),
        (("connect", "chekc"), ["tenantctl connect has no command 'chekc'"]),
        ((), ["no command given"]),
        (
            ("plan", "--out", "a", "--bogus", "--drift", "--worse"),
            ["tenantctl plan has no option --bogus", "tenantctl plan has no option --worse"],
        ),
    ],
)
def test_command_lines_that_do_not(argv: tuple[str, ...], expected: list[str]) -> None:
    assert problems(*argv) == expected


def test_check_template_locates_each_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        jobs:
          plan:
            steps:
              - run: tenantctl validate
              - run: |
                  tenantctl plan --changed-since origin/main \\
                    --detect-drift
                  tenantctl aprove plan.json --by me
        """,
    )
    found = check_template(path, fake_cli)
    assert [str(p) for p in found] == [
        f"{path}:6: tenantctl plan has no option --detect-drift: "
        "tenantctl plan --changed-since origin/main --detect-drift",
        f"{path}:8: tenantctl has no command 'aprove': tenantctl aprove plan.json --by me",
    ]
    assert all(isinstance(p, TemplateProblem) for p in found)

"""The output contract, command by command, against the in-process sandbox: ``-o json`` on
every command that prints validates against its schema in ``schemas/`` (and the schemas there
are what ``tenantctl schema`` writes), every key is camelCase, ``-o yaml`` is the same
document, ``--format json`` still works with a deprecation warning, and ``-q`` prints only what
a script needs, before or after the command's name."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from controller.cli import cli
from controller.cli.progress import RunProgress
from controller.render.inventory import KINDS
from controller.schemas import COMMAND_SCHEMAS
from tests.integration.conftest import DESIRED

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
# Values that are data, not keys of the contract: Graph bodies and field values.
_DATA = frozenset({"params", "before", "after"})


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key
            if key not in _DATA:
                yield from keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from keys(item, path)


def conforms(command: str, text: str) -> Any:
    document = json.loads(text)
    schema = json.loads((SCHEMAS / COMMAND_SCHEMAS[command]).read_text())
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    snake = [f"{where}.{key}" for where, key in keys(document) if not CAMEL.match(key)]
    assert not snake, f"{command}: keys not in camelCase: {snake[:5]}"
    return document


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with the demo estate; the sandbox's state is kept beside it."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(DESIRED, repo / "desired")
    return repo / "desired"


def test_every_command_that_prints_has_a_schema() -> None:
    for command in COMMAND_SCHEMAS:
        assert (SCHEMAS / COMMAND_SCHEMAS[command]).is_file(), command
    printing = {"validate", "plan", "apply", "approve", "history", "status", "discover", "import"}
    printing |= {"report", *(f"get {kind}" for kind in KINDS)}
    assert printing | {"connect check", "history --run", "journal export"} == set(COMMAND_SCHEMAS)


def test_each_command_prints_its_document(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desired = str(estate)
    phases: list[tuple[str, int, str]] = []
    phase = RunProgress.phase

    def recorded(self: RunProgress, what: str, total: int, unit: str) -> None:
        phases.append((what, total, unit))
        phase(self, what, total, unit)

    monkeypatch.setattr(RunProgress, "phase", recorded)
    world = ("--sandbox", "--desired", desired)

    validated = conforms("validate", run("validate", "--desired", desired, "-o", "json").stdout)
    assert validated == {"valid": True, "tenants": 5, "diagnostics": []}

    planned = run("plan", *world, "-o", "json", "--out", str(tmp_path / "plan.json"))
    assert planned.exit_code == 2, planned.output
    plan = conforms("plan", planned.stdout)
    assert plan["formatVersion"] == 2 and plan["planId"]
    assert json.loads((tmp_path / "plan.json").read_text()) == plan

    approved = run(
        "approve", str(tmp_path / "plan.json"), "--by", "Dana", "--desired", desired, "-o", "json"
    )
    assert approved.exit_code == 0, approved.output
    approval = conforms("approve", approved.stdout)
    assert approval["approval"]["planId"] == plan["planId"]
    assert approval["path"].startswith(str(estate.parent / "approvals"))

    phases.clear()
    applied = run("apply", *world, "-o", "json")
    assert applied.exit_code == 1, applied.output  # grace's licence fails, as in the README
    # apply's execute phase has a bar of its own, one step per operation
    assert phases == [("observing", 5, "tenants"), ("applying", 39, "operations")]
    result = conforms("apply", applied.stdout)
    assert result["counts"] == {"succeeded": 35, "failed": 1, "held": 3, "skipped": 0}
    (failed,) = [o for o in result["operations"] if o["status"] == "failed"]
    assert failed["requestId"] and failed["durationMs"] is not None

    runs = conforms("history", run("history", "--desired", desired, "-o", "json").stdout)
    assert [r["id"] for r in runs["runs"]] == [1]
    one = run("history", "--desired", desired, "--run", "1", "-o", "json")
    assert conforms("history --run", one.stdout)["run"]["planId"] == plan["planId"]

    status = conforms("status", run("status", *world, "-o", "json").stdout)
    assert [t["name"] for t in status] == ["adatum", "contoso", "fabrikam", "tailspin", "woodgrove"]

    found = conforms("discover", run("discover", *world, "-o", "json").stdout)
    assert [c["name"] for c in found] == ["litware"]

    imported = run("import", *world, "--tenant", "Contoso", "--force", "-o", "json")
    assert imported.exit_code == 0, imported.output
    (contoso,) = conforms("import", imported.stdout)
    assert contoso["status"] == "written" and contoso["path"].endswith("contoso.yaml")

    checked = conforms("connect check", run("connect", "check", *world, "-o", "json").stdout)
    assert [c["name"] for c in checked] == ["partner app", "credential", "GDAP", "CIPP"]
    assert {c["status"] for c in checked} == {"ok"}

    for kind in KINDS:
        group = ("--group", "sales") if kind == "members" else ()
        listed = conforms(f"get {kind}", run("get", kind, *group, *world, "-o", "json").stdout)
        assert listed["kind"] == kind

    reported = run("report", "--html", str(tmp_path / "report"), *world, "-o", "json")
    assert reported.exit_code == 0, reported.output
    written = conforms("report", reported.stdout)
    assert (written["pages"], written["tenants"]) == (11, 5)


def test_yaml_is_the_same_document(estate: Path) -> None:
    as_json = run("status", "--sandbox", "--desired", str(estate), "-o", "json").stdout
    as_yaml = run("status", "--sandbox", "--desired", str(estate), "-o", "yaml").stdout
    assert yaml.safe_load(as_yaml) == json.loads(as_json)


def test_format_is_a_deprecated_alias(estate: Path) -> None:
    result = run("validate", "--desired", str(estate), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["valid"] is True
    assert "warning: --format is deprecated; use -o json" in result.stderr
    clash = run("validate", "--desired", str(estate), "--format", "text", "-o", "json")
    assert clash.exit_code == 64


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_prints_only_what_a_script_needs(estate: Path, where: str) -> None:
    def quiet(*args: str) -> Result:
        return run("-q", *args) if where == "before" else run(*args, "-q")

    valid = quiet("validate", "--desired", str(estate))
    assert (valid.exit_code, valid.stdout, valid.stderr) == (0, "", "")
    planned = quiet("plan", "--sandbox", "--desired", str(estate), "--tenant", "contoso")
    # the summary line alone ("No changes. ..." or "N operation(s): ...")
    assert re.fullmatch(r"(No changes\.|\d+ operation\(s\):) [^\n]*\n", planned.stdout), (
        planned.stdout
    )
    assert planned.stderr == ""
    attention = quiet("status", "--sandbox", "--desired", str(estate))
    assert set(attention.stdout.split()) <= {
        "adatum",
        "contoso",
        "fabrikam",
        "tailspin",
        "woodgrove",
    }
    assert "TENANT" not in attention.stdout

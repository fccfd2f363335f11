"""``tenantctl validate``: exit status 0 / 1, the text and JSON reports, and never a
traceback, whatever the directory holds (missing, empty, binary, unreadable files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from controller.cli import cli, main
from tests.unit.desired_files import TENANT, write_estate

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["validate", *args])
    # Only click's own exit may end a command; anything else would be a traceback for main().
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_the_demo_estate_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = run()
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "valid: msp.yaml and 5 tenant(s) in desired\n"


def test_an_invalid_estate_exits_1_with_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = TENANT.replace("exchange: direct", "exchange: sideways")
    write_estate(tmp_path, {"contoso": broken, "empty": ""})
    monkeypatch.chdir(tmp_path)
    result = run("--desired", "desired")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "desired/tenants/contoso.yaml:8:13: spec.exchange: Input should be 'direct', 'cipp', "
        "'auto', 'none' or 'unmanaged'",
        "desired/tenants/empty.yaml:1:1: the document is empty; expected a mapping with "
        "apiVersion, kind, metadata and spec",
    ]
    assert result.stderr == "invalid: 2 error(s) in desired\n"


def test_json_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_estate(tmp_path, {"contoso": TENANT + "kind: Tenant\n"})
    monkeypatch.chdir(tmp_path)
    result = run("--desired", "desired", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "valid": False,
        "tenants": None,
        "diagnostics": [
            {
                "file": "desired/tenants/contoso.yaml",
                "line": 12,
                "column": 1,
                "path": "kind",
                "message": "duplicate key 'kind' (first at line 2); YAML would keep only the "
                "last one: remove or rename one of them",
                "severity": "error",
            }
        ],
    }


def test_json_report_of_a_valid_estate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = run("--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"valid": True, "tenants": 5, "diagnostics": []}


def test_missing_directory(tmp_path: Path) -> None:
    result = run("--desired", str(tmp_path / "nowhere"))
    assert result.exit_code == 64
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {tmp_path / 'nowhere'} is not a directory; point --desired at the folder "
        "holding msp.yaml\n"
    )


def test_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "desired").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("--desired", "desired")
    assert result.exit_code == 1
    assert result.stdout == "desired/msp.yaml:1:1: missing: every desired state needs msp.yaml\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the document is empty; expected a mapping with apiVersion, kind, metadata and spec"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "character #x007F is not allowed in YAML"),
        (b"\xff\xd8\xff\xe0JFIF", "not UTF-8 text (invalid start byte)"),
        (b"\xef\xbb\xbf[\n", "did not find expected node content while parsing a flow node"),
    ],
)  # fmt: skip
def test_files_that_are_not_yaml_never_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str
) -> None:
    write_estate(tmp_path, {"contoso": TENANT})
    (tmp_path / "desired" / "tenants" / "odd.yaml").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    result = run("--desired", "desired")
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith("desired/tenants/odd.yaml:")
    assert line.endswith(f": {message}")


def test_an_unreadable_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_estate(tmp_path, {"contoso": TENANT})
    (tmp_path / "desired" / "tenants" / "dir.yaml").mkdir()
    (tmp_path / "desired" / "msp.yaml").unlink()
    (tmp_path / "desired" / "msp.yaml").symlink_to(tmp_path / "missing-target")
    monkeypatch.chdir(tmp_path)
    result = run("--desired", "desired")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "desired/msp.yaml:1:1: missing: every desired state needs msp.yaml",
        "desired/tenants/dir.yaml:1:1: is a directory, not a regular file",
    ]


def test_main_turns_everything_into_an_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["validate", "--desired", str(tmp_path / "nowhere")])
    assert done.value.code == 64
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.startswith("error: ")


def test_help_lists_the_policy_kinds() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0
    assert "user.resetPassword" in result.output
    assert "tenantctl validate --desired ./desired -o json" in result.output

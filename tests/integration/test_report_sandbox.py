"""``tenantctl report`` against the in-process sandbox: from a run of its own, from a saved
observation (``plan --observations``) and from one per shard, with the journal's last apply;
its links resolve inside the report; a directory of other files is never replaced; a saved
observation that is not one is refused with a message, not a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from controller.cli import cli
from tests.integration.conftest import DESIRED
from tests.postgres_support import PostgresServer
from tests.render.report_html import broken_links, parse


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    shutil.copytree(DESIRED, tmp_path / "desired")
    return tmp_path / "desired"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def pages_of(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in directory.rglob("*.html")
    }


def test_a_report_of_its_own_run(estate: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run("report", "--html", str(out), "--sandbox", "--desired", str(estate))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 11 page(s) for 5 tenant(s) to {out}; open {out}/index.html\n"
    pages = pages_of(out)
    assert len(pages) == 11 and broken_links(pages) == []
    overview = parse("index.html", pages["index.html"]).joined_text
    assert "Woodgrove Bank" in overview and "none recorded" in overview
    # Again, into the same directory: the earlier report is replaced.
    again = run("report", "--html", str(out), "--sandbox", "--desired", str(estate), "-q")
    assert (again.exit_code, again.stdout) == (0, f"{out / 'index.html'}\n")


def test_a_report_from_saved_observations_with_the_last_apply(estate: Path, tmp_path: Path) -> None:
    world = ("--sandbox", "--desired", str(estate))
    applied = run("apply", *world, "--tenant", "fabrikam", "--no-interactive")
    assert applied.exit_code in (0, 2), applied.output
    saved = tmp_path / "obs.json"
    planned = run("plan", *world, "--observations", str(saved), "-q")
    assert planned.exit_code == 2, planned.output
    assert json.loads(saved.read_text())["formatVersion"] == 1
    assert saved.stat().st_mode & 0o077 == 0  # tenant data: private, like a plan

    out = tmp_path / "report"
    result = run(
        "report", "--html", str(out), "--observations", str(saved), "--desired", str(estate)
    )
    assert result.exit_code == 0, result.output
    pages = pages_of(out)
    assert broken_links(pages) == []
    fabrikam = parse("f", pages["tenants/fabrikam.html"]).joined_text
    assert "run 1, " in fabrikam  # the journal's apply of fabrikam
    assert "none recorded in the journal" in parse("c", pages["tenants/contoso.html"]).joined_text


def test_one_saved_observation_per_shard_makes_one_report(estate: Path, tmp_path: Path) -> None:
    world = ("--sandbox", "--desired", str(estate))
    files = []
    for name in ("contoso", "woodgrove"):
        files.append(tmp_path / f"{name}.json")
        planned = run("plan", *world, "--tenant", name, "--observations", str(files[-1]))
        assert planned.exit_code == 2, planned.output
    out = tmp_path / "report"
    args = ("report", "--html", str(out), "--observations", str(files[0]))
    result = run(*args, "--observations", str(files[1]), "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tenants"] == 2
    assert sorted(pages_of(out)) == [
        "index.html",
        "tenants/contoso-summary.html",
        "tenants/contoso.html",
        "tenants/woodgrove-summary.html",
        "tenants/woodgrove.html",
    ]
    twice = run(*args, "--observations", str(files[0]))
    assert twice.exit_code == 64 and "contoso" in twice.output


def test_refusals(estate: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    result = run("report", "--html", str(mine), "--sandbox", "--desired", str(estate))
    assert result.exit_code == 64 and "did not write" in result.output
    assert (mine / "notes.txt").read_text() == "keep"

    not_saved = tmp_path / "plan.json"
    not_saved.write_text('{"formatVersion": 2, "planId": "x"}')
    refused = run("report", "--html", str(tmp_path / "r"), "--observations", str(not_saved))
    assert refused.exit_code == 64
    assert "is not a saved observation" in refused.output and "planId" not in refused.output
    mixed = run(
        "report", "--html", str(tmp_path / "r"), "--observations", str(not_saved), "--sandbox"
    )
    assert mixed.exit_code == 64
    missing = run("report", "--html", str(tmp_path / "r"), "--observations", "nope.json")
    assert missing.exit_code == 64
    assert not (tmp_path / "r").exists()


def test_the_last_apply_from_a_shared_postgresql_journal(
    estate: Path, tmp_path: Path, postgres: PostgresServer
) -> None:
    """msp.yaml's shared journal is where the report reads the last applies, as history does:
    a runner holding only the observations and msp.yaml sees what another runner applied."""
    dsn = postgres.new_database()
    world = ("--sandbox", "--desired", str(estate))
    applied = run("apply", *world, "--tenant", "fabrikam", "--no-interactive", "--journal", dsn)
    assert applied.exit_code in (0, 2), applied.output
    saved = tmp_path / "obs.json"
    assert run("plan", *world, "--observations", str(saved), "-q").exit_code == 2
    assert not (estate / ".tenantctl" / "journal.sqlite").exists()

    msp = yaml.safe_load((estate / "msp.yaml").read_text())
    msp["spec"]["journal"] = {"postgres": {"dsn": {"env": "TENANTCTL_TEST_REPORT_DSN"}}}
    (estate / "msp.yaml").write_text(yaml.safe_dump(msp, sort_keys=False))
    out = tmp_path / "report"
    args = ["report", "--html", str(out), "--observations", str(saved), "--desired", str(estate)]
    result = CliRunner(env={"TENANTCTL_TEST_REPORT_DSN": dsn}).invoke(cli, args)
    assert result.exit_code == 0, result.output
    fabrikam = parse("f", pages_of(out)["tenants/fabrikam.html"]).joined_text
    assert "run 1, " in fabrikam
    # --journal names it as well, and a password in it never reaches the output.
    again = run(*args, "--journal", dsn, "-o", "json")
    assert again.exit_code == 0, again.output
    assert postgres.password not in again.output
    assert "run 1, " in parse("f", pages_of(out)["tenants/fabrikam.html"]).joined_text

"""The report of the demo estate (``tenantctl report --html DIR --sandbox``) opened in headless
Chromium with JavaScript disabled: every page loads without a console error, an exception or a
failed load (a Content-Security-Policy violation would be one), every link resolves inside the
report, the landmarks and tables are there, the summary prints to PDF, and screenshots of the
overview and one tenant page are kept in ``.ci/artifacts/`` for CI to publish.

Chromium comes from the project's own files (``.ci/run`` installs Debian's ``chromium``). The
test is skipped only where ``/usr/bin/chromium`` is absent, and never in CI: ``.ci/run`` sets
``TENANTCTL_REQUIRE_BROWSER`` (and CI systems ``CI=true``), and then its absence is a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import cli
from tests.integration.browser import CHROMIUM, chromium
from tests.integration.conftest import DESIRED
from tests.render.report_html import broken_links

ARTIFACTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CHROMIUM.exists():
        if (
            os.environ.get("TENANTCTL_REQUIRE_BROWSER")
            or os.environ.get("CI", "").lower() == "true"
        ):
            pytest.fail(
                f"{CHROMIUM} is missing: CI must run the browser test (.ci/run installs it)"
            )
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)")
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(DESIRED, repo / "desired")
    out = repo / "report"
    result = CliRunner().invoke(
        cli, ["report", "--html", str(out), "--sandbox", "--desired", str(repo / "desired")]
    )
    assert result.exit_code == 0, result.output
    return out


def test_every_page_opens_without_a_console_error_and_links_resolve(
    report: Path, tmp_path: Path
) -> None:
    pages = {
        p.relative_to(report).as_posix(): p.read_text(encoding="utf-8")
        for p in report.rglob("*.html")
    }
    assert len(pages) == 11
    assert broken_links(pages) == []
    with chromium(tmp_path / "profile") as page:
        for name in sorted(pages):
            page.open((report / name).as_uri())
            assert page.count("main") == 1, name
            assert page.count("script") == 0, name
            assert page.console.errors == [], (name, page.console.entries)
        assert page.console.entries == [], page.console.entries  # no warning either

        page.open((report / "index.html").as_uri())
        assert page.count("tbody tr") == 5  # one row per tenant
        page.screenshot(ARTIFACTS / "report-overview.png")
        page.open((report / "tenants" / "contoso.html").as_uri())
        assert page.count("svg[role=img] title") == 1
        page.screenshot(ARTIFACTS / "report-tenant-contoso.png")
        page.open((report / "tenants" / "contoso-summary.html").as_uri())
        pdf = page.pdf()
        assert pdf.startswith(b"%PDF")
        (ARTIFACTS / "report-summary-contoso.pdf").write_bytes(pdf)
        assert page.console.errors == [], page.console.entries
    for shot in ("report-overview.png", "report-tenant-contoso.png"):
        assert (ARTIFACTS / shot).read_bytes().startswith(b"\x89PNG")


def test_a_page_that_loads_from_outside_would_be_caught(report: Path, tmp_path: Path) -> None:
    """The check can fail: a stylesheet from elsewhere is refused by the page's policy, and
    that refusal is a console error."""
    page_text = (report / "index.html").read_text(encoding="utf-8")
    tampered = tmp_path / "index.html"
    tampered.write_text(
        page_text.replace(
            '<link rel="icon" href="data:,">',
            '<link rel="icon" href="data:,"><link rel="stylesheet" href="https://cdn.invalid/x.css">',
        ),
        encoding="utf-8",
    )
    with chromium(tmp_path / "profile") as page:
        page.open(tampered.as_uri())
        assert any("Content Security Policy" in e for e in page.console.errors), (
            page.console.entries
        )

"""The estate report's pages from the demo world: which pages, every link resolving inside the
report, nothing loaded from anywhere and no script (a Content-Security-Policy that allows only
the page's own stylesheet, by hash), accessible markup (landmarks, captions, header scopes,
SVG charts with a title and a description), the overview's columns, a tenant page that puts
what git manages beside what is there and shows unknown areas with their reason, findings with
the users concerned, manual steps with their links, the printable summary, licence charts to
scale, and the same pages for the same input."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from controller.models.declared import estate_declarations
from controller.plan.planner import plan_estate
from controller.render.observations import (
    SavedObservations,
    observations_json,
    saved_observations,
)
from controller.render.report import Estate, LastApply, render_report
from controller.render.report._charts import TRACK_WIDTH, licence_chart
from tests.fixtures.demo_observed import demo_context, demo_desired, demo_observed
from tests.render.report_html import FORBIDDEN, Page, broken_links, parse

TENANTS = ("adatum", "contoso", "fabrikam", "tailspin", "woodgrove")


def demo_saved() -> SavedObservations:
    state = demo_desired()
    observed = demo_observed(state)
    plan = plan_estate(state, observed, demo_context(state))
    return saved_observations(plan, observed, estate_declarations(state))


def demo_estate() -> Estate:
    saved = demo_saved()
    last = LastApply(
        run_id=7,
        started_at="2026-11-25T21:00:00.000Z",
        finished_at="2026-11-25T21:02:00.000Z",
        status="failed",
        succeeded=5,
        failed=1,
        held=2,
    )
    return Estate(plans=[saved.plan], tenants=saved.tenants, applies={"contoso": last})


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return render_report(demo_estate())


@pytest.fixture(scope="module")
def parsed(pages: dict[str, str]) -> dict[str, Page]:
    return {path: parse(path, text) for path, text in pages.items()}


def test_an_overview_a_page_and_a_summary_per_tenant(pages: dict[str, str]) -> None:
    assert sorted(pages) == [
        "index.html",
        *sorted(f"tenants/{name}{suffix}.html" for name in TENANTS for suffix in ("", "-summary")),
    ]


def test_every_link_resolves_inside_the_report(pages: dict[str, str]) -> None:
    assert broken_links(pages) == []


def test_nothing_is_loaded_from_anywhere_and_nothing_runs(
    pages: dict[str, str], parsed: dict[str, Page]
) -> None:
    for path, page in parsed.items():
        assert not {tag for tag, _ in page.tags} & FORBIDDEN, path
        for tag, attrs in page.tags:
            assert not [a for a in attrs if a.startswith("on") or a == "style"], (path, tag)
        (csp,) = [m["content"] for m in page.all("meta") if "http-equiv" in m]
        assert csp.startswith("default-src 'none'; style-src 'sha256-")
        # The policy allows exactly the page's own stylesheet, by its hash.
        (css,) = re.findall(r"<style>(.*?)</style>", pages[path], re.S)
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in csp
        assert [link["rel"] for link in page.all("link")] == ["icon"]


def test_markup_is_accessible(parsed: dict[str, Page]) -> None:
    for path, page in parsed.items():
        names = [tag for tag, _ in page.tags]
        assert page.all("html") == [{"lang": "en"}], path
        for landmark in ("header", "nav", "main", "footer"):
            assert names.count(landmark) == 1, (path, landmark)
        assert page.all("a")[0]["href"] == "#main"  # skip link first
        assert names.count("h1") == 1, path
        assert all(th.get("scope") in ("col", "row") for th in page.all("th")), path
        assert names.count("table") == names.count("caption"), path
        for svg in page.all("svg"):
            assert svg["role"] == "img"
            assert set(svg["aria-labelledby"].split()) <= page.ids
        assert names.count("svg") == names.count("desc") <= names.count("title") - 1


def test_the_overview_has_a_row_per_tenant_with_badges_gdap_end_drift_and_last_apply(
    parsed: dict[str, Page],
) -> None:
    overview = parsed["index.html"]
    links = [a["href"] for a in overview.all("a")]
    for name in TENANTS:
        assert f"tenants/{name}.html" in links and f"tenants/{name}-summary.html" in links
    text = overview.joined_text
    assert "Woodgrove Bank" in text and "2026-12-01" in text  # GDAP ending in 5 days
    assert "expiring" in text and "working (cipp)" in text
    assert "2026-11-25" in text and "none recorded" in text  # contoso's last apply; others
    assert "Licences across the estate" in text


def test_a_tenant_page_puts_git_beside_what_is_there(parsed: dict[str, Page]) -> None:
    text = parsed["tenants/contoso.html"].joined_text
    assert (
        "7 in the tenant, 4 of them managed by git; 1 declared in git and not in the tenant yet"
        in text
    )
    assert "carol@contoso.com" in text  # declared, not there yet
    assert "desired/tenants/contoso.yaml:18" in text  # alice's line
    assert "run 7, 2026-11-25T21:00:00.000Z" in text and "1 failed" in text
    assert "user.update" in text and 'jobTitle: "Sales Manager" \u2192 "Sales Director"' in text


def test_unknown_areas_show_their_reason_never_an_empty_table(parsed: dict[str, Page]) -> None:
    text = parsed["tenants/adatum.html"].joined_text
    assert "Unknown (consentMissing): the app has no service principal in the tenant" in text
    assert "0 in the tenant" not in text
    woodgrove = parsed["tenants/woodgrove.html"].joined_text
    assert "distributionGroups" in woodgrove and "no Exchange route" in woodgrove


def test_findings_name_the_users_and_manual_steps_link_to_the_portal(
    parsed: dict[str, Page],
) -> None:
    contoso = parsed["tenants/contoso.html"]
    rows = [t for t in contoso.text if t.strip()]
    assert "bob@contoso.com has not registered MFA" in rows
    woodgrove = parsed["tenants/woodgrove.html"]
    (portal,) = [a for a in woodgrove.all("a") if a["href"].startswith("https://")]
    assert portal["href"].startswith("https://entra.microsoft.com/7c6b5a4d-")
    assert portal["rel"] == "external noopener noreferrer"


def test_the_summary_is_for_the_customer_and_prints(
    pages: dict[str, str], parsed: dict[str, Page]
) -> None:
    summary = parsed["tenants/contoso-summary.html"].joined_text
    assert "Microsoft 365 summary for Contoso Ltd" in summary
    assert "bob@contoso.com" in summary  # no MFA registration
    assert "bob@contoso.com (medium)" in summary  # at risk
    assert "desired/" not in summary and "fingerprint" not in summary
    assert "@media print" in pages["tenants/contoso-summary.html"]
    assert parsed["tenants/contoso-summary.html"].all("svg")  # the licence chart


def test_the_same_input_gives_the_same_pages(pages: dict[str, str]) -> None:
    assert render_report(demo_estate()) == pages


def test_saved_observations_survive_json() -> None:
    saved = demo_saved()
    text = observations_json(saved)
    assert '"formatVersion":1' in text  # required: there even though it is the default
    again = SavedObservations.model_validate_json(text)
    assert again == saved
    assert render_report(Estate([again.plan], again.tenants)) == render_report(
        Estate([saved.plan], saved.tenants)
    )


def test_licence_bars_share_one_scale_and_show_over_assignment() -> None:
    chart = licence_chart("c", "Licences", [("SPE_E3", 20, 25), ("POWER_BI_PRO", 6, 5)])
    e3, bi = chart.bars
    assert e3.track == TRACK_WIDTH and e3.filled == TRACK_WIDTH * 20 / 25
    assert bi.filled == bi.track == TRACK_WIDTH * 5 / 25
    assert bi.over == TRACK_WIDTH * 1 / 25
    assert chart.description == "SPE_E3: 20 of 25 used; POWER_BI_PRO: 6 of 5 used."
    assert chart.track_x >= 8 * len("POWER_BI_PRO")
    empty = licence_chart("e", "None", [])
    assert empty.bars == () and empty.description == "No licences."


def test_the_link_check_finds_what_is_broken() -> None:
    pages = {
        "index.html": '<a href="tenants/x.html#nope">x</a><a href="https://a.example/">ok</a>'
        '<link rel="stylesheet" href="https://cdn.example/s.css"><a href="../up.html">up</a>',
        "tenants/x.html": '<h2 id="yes">x</h2><a href="../index.html">back</a>'
        '<img src="data:image/png;base64,AAAA"><a href="http://plain.example/">p</a>',
    }
    assert broken_links(pages) == [
        "index.html: <a href='tenants/x.html#nope'>: no id 'nope' in tenants/x.html",
        "index.html: <link href='https://cdn.example/s.css'>: loads from outside the report",
        "index.html: <a href='../up.html'>: no such page in the report",
        "tenants/x.html: <img src='data:image/png;base64,AAAA'>: data: only for the favicon",
        "tenants/x.html: <a href='http://plain.example/'>: scheme http leaves the report",
    ]

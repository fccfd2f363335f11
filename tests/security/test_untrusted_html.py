"""Untrusted text stays data in the estate report's HTML: names a customer's administrator
chose (the tenant's, users', groups', mailboxes'), service messages and manual steps are
printed escaped in every page, as a property test. No element, attribute, link or script
appears that the report did not put there itself; each text reads back as exactly its
characters (non-printable ones as visible escapes, ``{{ 7*7 }}`` as itself); a link that is
not plain https is shown, never followed; a tenant's name never becomes a path outside
``tenants/``."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from controller.models.declared import Declarations
from controller.models.observed import ObservedTenant, Unknown
from controller.plan.types import (
    Badges,
    Finding,
    ManualStep,
    Operation,
    Plan,
    TenantPlan,
    UnknownArea,
)
from controller.render._markdown_text import safe_link
from controller.render._text import printable
from controller.render.observations import SavedTenant
from controller.render.report import Estate, render_report
from tests.fixtures.operation_params import example_params
from tests.plan.factories import dg, group, mailbox, user
from tests.render.report_html import FORBIDDEN, broken_links, parse
from tests.security.test_untrusted_text import PIECES, SETTINGS, TENANT_ID

HTML_PIECES = [
    "</title>", "</style>", "<script>alert(1)</script>", "<svg onload=alert(1)>",
    '" onmouseover="alert(1)', "' autofocus onfocus='alert(1)", "javascript:alert(1)",
    "<a href=https://evil.example>x</a>", "{{ 7*7 }}", "{% raw %}", "]]>", "&lt;", "&#x3c;",
    "<!--", "-->", "<meta http-equiv=refresh content=0;url=https://evil.example>",
]  # fmt: skip
hostile = st.lists(
    st.sampled_from(PIECES + HTML_PIECES) | st.text(max_size=3), min_size=1, max_size=8
).map("".join)
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
# What the report itself writes: nothing from a tenant may add another element.
OWN_TAGS = {
    "html", "head", "meta", "link", "title", "style", "body", "a", "header", "p", "h1", "nav",
    "ul", "li", "main", "section", "h2", "h3", "dl", "dt", "dd", "span", "table", "caption",
    "thead", "tbody", "tr", "th", "td", "code", "ol", "strong", "svg", "desc", "text", "rect",
    "footer", "br",
}  # fmt: skip


def _estate(tenant: str, text: str, link: str) -> Estate:
    address = "x@contoso.com"
    manual = Operation(
        id="m-1",
        tenant=tenant,
        tenant_id=TENANT_ID,
        kind="consent.grant",
        target=f"tenant:{text}",
        backend="manual",
        params=example_params("consent.grant"),
        fingerprint="e" * 64,
        manual=ManualStep(title=text, instructions=text, link=link),
    )
    change = Operation(
        id="c-1",
        tenant=tenant,
        tenant_id=TENANT_ID,
        kind="user.update",
        backend="graph",
        target=f"user:{text}",
        changes=[{"field": "displayName", "before": text, "after": "Alice"}],
        params=example_params("user.update"),
        fingerprint="f" * 64,
    )
    planned = TenantPlan(
        name=tenant,
        tenant_id=TENANT_ID,
        source=f"desired/tenants/{text}.yaml",
        badges=Badges(gdap="active", gdap_detail=text, consent="granted", exchange="pending"),
        observation="partial",
        unknown=(UnknownArea(area="mfa", code="error", reason=text),),
        operations=(change, manual),
        findings=(Finding(check="mfa", subject=f"user:{text}", severity="high", message=text),),
        warnings=(text,),
    )
    plan = Plan(plan_id="a" * 64, created_at=NOW, desired_digest="b" * 64, tenants=(planned,))
    observed = ObservedTenant(
        name=tenant,
        tenant_id=TENANT_ID,
        observed_at=NOW,
        users=(user(address, display_name=text, job_title=text),),
        groups=(group("sales", address, display_name=text, description=text),),
        distribution_groups=(dg(address, address, name=text),),
        shared_mailboxes=(mailbox("support@contoso.com", name=text, full_access=(text,)),),
        mfa=Unknown("error", text),
    )
    declared = Declarations(tenant=tenant, display_name=text, file=text)
    return Estate(plans=[plan], tenants=[SavedTenant(observed=observed, declared=declared)])


@SETTINGS
@given(name=hostile, tenant=hostile, link=hostile | st.sampled_from(["javascript:alert(1)"]))
def test_hostile_text_is_escaped_in_every_page(name: str, tenant: str, link: str) -> None:
    pages = render_report(_estate(tenant, name, link))
    assert broken_links(pages) == []
    assert all(path == "index.html" or path.startswith("tenants/") for path in pages)
    assert all("/" not in path.removeprefix("tenants/") for path in pages)
    shown = printable(name)
    for path, text in pages.items():
        page = parse(path, text)
        tags = {tag for tag, _ in page.tags}
        assert tags <= OWN_TAGS and not tags & FORBIDDEN, (path, tags - OWN_TAGS)
        for tag, attrs in page.tags:
            assert not [a for a in attrs if a.startswith("on") or a == "style"], (path, tag)
        if path != "index.html":
            assert shown in page.joined_text, path
    (tenant_page,) = [p for p in pages if p.startswith("tenants/") and "-summary" not in p]
    links = [a["href"] for a in parse(tenant_page, pages[tenant_page]).all("a")]
    # A manual step's link is followed only when it is a plain https URL; else it is not shown
    # as a link at all.
    assert (link in links) is (safe_link(link) is not None)
    assert not [href for href in links if href.lower().startswith(("javascript", "data", "http:"))]

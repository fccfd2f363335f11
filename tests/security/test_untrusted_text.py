"""Untrusted text stays data: strings a customer's tenant or a service chose (display names,
job titles, error messages) are written into YAML (`import`, `discover --write`, their comments
included) and Markdown (the plan and apply comments) escaped, so the YAML still validates with
every value read back exactly and no key of the author's choosing, and the pull-request
comment renders them as text: no link, image, HTML, mention, heading or fake line.

Hostile names mix line breaks of every kind (\\n, \\r, NEL, U+2028, U+2029), '#', ':', quotes,
Markdown and HTML, as a property test."""

from __future__ import annotations

import datetime as dt
import html
import re

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pydantic import ValidationError

from controller.apply.engine import ApplyResult
from controller.apply.outcomes import Outcome
from controller.importer._build import TenantImport
from controller.importer._discover import skeleton_tenant_yaml
from controller.importer._yaml import render_tenant_yaml
from controller.loader.shape import validate_model
from controller.loader.source import parse_yaml
from controller.models import TenantConfig
from controller.observe.partner import DiscoveredCustomer
from controller.plan.types import (
    Badges,
    Finding,
    ManualStep,
    Operation,
    Plan,
    Problem,
    TenantPlan,
    UnknownArea,
)
from controller.render import _markdown_text
from controller.render.apply import render_apply_markdown
from controller.render.markdown import render_markdown
from tests.fixtures.operation_params import example_params

PIECES = [
    "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\t", "\x00", "\x7f", "\u202e", "#", ":",
    ": ", " #", "'", '"', "\\", "-", "- ", "* ", "`", "```", "|", "[", "]", "(", ")", "!",
    "<", ">", "&", "@", "@team", "{", "}", "*", "_", "~", "spec: {x: 1}", "kind: MSP",
    "yaml-language-server: $schema=https://evil.example/s.json", "[click](https://evil.example)",
    "![x](https://evil.example/p.png)", "<img src=x onerror=alert(1)>", "</details>", "<!--",
    "https://evil.example/x", "www.evil.example", "# Heading", "&amp;", "Contoso", " ", "é", "中",
]  # fmt: skip
hostile = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), min_size=1, max_size=8).map(
    "".join
)
hostile_name = hostile.filter(lambda s: 0 < len(s) <= 256)

TENANT_ID = "6f1c0d4e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tenant(display_name: str, job_title: str) -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "apiVersion": "tenantctl/v1",
            "kind": "Tenant",
            "metadata": {
                "name": "contoso",
                "tenantId": TENANT_ID,
                "domains": ["contoso.com"],
                "displayName": display_name,
            },
            "spec": {
                "users": [
                    {
                        "userPrincipalName": "alice@contoso.com",
                        "displayName": display_name,
                        "jobTitle": job_title,
                    }
                ]
            },
        }
    )


def _reads_back(text: str) -> TenantConfig:
    source = parse_yaml(text, "contoso.yaml")
    assert source.diagnostics == [], text
    tenant, problems = validate_model(source, TenantConfig)
    assert problems == [] and tenant is not None, text
    return tenant


@SETTINGS
@given(name=hostile_name, title=hostile_name, comment=hostile)
def test_import_writes_yaml_that_reads_back_exactly(name: str, title: str, comment: str) -> None:
    try:
        config = _tenant(name, title)
    except ValidationError:  # the model's own rules (no blank name); not what is tested here
        assume(False)
        return
    imported = TenantImport(
        config=config,
        header=(f"Imported from {name}", comment),
        comments={("spec", "users", 0): (f"{name} ({title})",)},
    )
    text = render_tenant_yaml(imported)
    tenant = _reads_back(text)
    assert tenant == config
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert [c for c in comments if "yaml-language-server" in c] == [comments[0]]


@SETTINGS
@given(name=hostile_name)
def test_discover_writes_a_skeleton_that_reads_back_exactly(name: str) -> None:
    customer = DiscoveredCustomer(
        TENANT_ID, name, "active", None, (), domains=("contoso.com",),
        domains_from="organization", name="contoso",
    )  # fmt: skip
    text = skeleton_tenant_yaml(customer)
    source = parse_yaml(text, "contoso.yaml")
    assert source.diagnostics == [], text
    assert set(source.data) == {"apiVersion", "kind", "metadata", "spec"}
    assert source.data["spec"] == {"consent": "granted", "exchange": "unmanaged"}
    assert source.data["metadata"]["displayName"] == name
    _reads_back(text)
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert sum("yaml-language-server" in line for line in comments) == 1


# --- Markdown ------------------------------------------------------------------------------

_RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")
# What tenantctl itself puts into the comments (and the manual step's own link).
_OWN_TAGS = {"details", "summary", "b", "table", "thead", "tbody", "tr", "th", "td", "p", "ul",
             "li", "strong", "code", "pre", "blockquote", "h2", "h3", "a", "br"}  # fmt: skip


def _plan(text: str) -> Plan:
    op = Operation(
        id="contoso-1",
        tenant="contoso",
        tenant_id=TENANT_ID,
        kind="user.update",
        backend="graph",
        target=f"user:{text}",
        changes=[{"field": "displayName", "before": text, "after": "Alice"}],
        params=example_params("user.update"),
        fingerprint="f" * 64,
    )
    manual = Operation(
        id="contoso-2",
        tenant="contoso",
        tenant_id=TENANT_ID,
        kind="consent.grant",
        target="tenant:contoso",
        backend="manual",
        params=example_params("consent.grant"),
        fingerprint="e" * 64,
        manual=ManualStep(title=text, instructions=text, link="https://login.example/consent"),
    )
    tenant = TenantPlan(
        name="contoso",
        tenant_id=TENANT_ID,
        source=f"desired/tenants/{text}.yaml",
        badges=Badges(
            gdap="active",
            gdap_detail=text,
            consent="partial",
            exchange="working (direct)",
            consent_detail=text,
        ),
        observation="partial",
        unknown=(UnknownArea(area="mfa", code="permissionDenied", reason=text),),
        operations=(op, manual),
        findings=(
            Finding(check="mfa", subject="alice@contoso.com", severity="high", message=text),
        ),
        warnings=(text,),
        notes=(text,),
        problems=(Problem(subject=text, message=text),),
        guard_violations=(text,),
    )
    return Plan(
        plan_id="a" * 64,
        created_at=dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC),
        desired_digest="b" * 64,
        tenants=(tenant,),
    )


def _rendered_tags(markdown: str) -> tuple[set[str], list[str], str]:
    tokens = _RENDERER.parse(markdown)
    raw_html = [t.content for t in tokens if t.type == "html_block"]
    raw_html += [c.content for t in tokens for c in t.children or [] if c.type == "html_inline"]
    rendered = _RENDERER.render(markdown)
    return set(re.findall(r"<([a-z0-9]+)[\s>/]", rendered)), raw_html, rendered


def _allowed_html(fragment: str) -> bool:
    return bool(
        re.fullmatch(
            r"\s*(?:<!-- tenantctl-(?:plan|apply) -->|</?details>|<details><summary><b>[^<]*</b>"
            r"[^<]*</summary>|</details>\s*)\s*",
            fragment,
        )
    )


def _links(rendered: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)"', rendered)


@SETTINGS
@given(text=hostile)
@example(text="__0__")  # found by this test: "_" beside "_" was left unescaped
@example(text="a__b__c _x_ snake_case_")
def test_the_plan_comment_renders_hostile_text_inert(text: str) -> None:
    markdown = render_markdown(_plan(text))
    tags, raw_html, rendered = _rendered_tags(markdown)
    assert tags <= _OWN_TAGS, tags - _OWN_TAGS
    assert "img" not in tags
    assert all(_allowed_html(fragment) for fragment in raw_html), raw_html
    assert set(_links(rendered)) <= {"https://login.example/consent"}
    # The structure is the one tenantctl wrote: one tenant section, the operation lines.
    assert rendered.count("<details>") == 1 and rendered.count("</details>") == 1
    diff = re.search(r'<code class="language-diff">(.*?)</code>', rendered, re.DOTALL)
    assert diff is not None
    lines = html.unescape(diff.group(1)).strip("\n").splitlines()
    assert [line[:2] for line in lines] == ["~ ", "  ", "! "]
    # Outside code (where GitHub looks for none), a mention never follows a word boundary.
    prose = re.sub(r"<code[^>]*>.*?</code>", "", rendered, flags=re.DOTALL)
    assert not re.search(r"(?<![\w@])@\w", re.sub(r"<[^>]+>", "", prose))


@SETTINGS
@given(text=hostile)
def test_inline_text_renders_as_the_same_characters(text: str) -> None:
    rendered = _RENDERER.renderInline(_markdown_text.text(text))
    assert "<" not in rendered.replace("&lt;", "")
    visible = html.unescape(rendered).replace("\u2060", "")
    assert visible == _expected(text)


def _expected(text: str) -> str:
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        else:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


def test_the_apply_comment_keeps_its_table_shape() -> None:
    text = "x | y\n| z | <img src=x> [a](https://evil.example) @team"
    result = ApplyResult(run_id=1, plan=_plan(text), outcomes={"contoso-1": Outcome.failed(text)})
    rendered = _RENDERER.render(render_apply_markdown(result))
    assert rendered.count("<tr>") == 2  # the header and one row
    assert "<img" not in rendered and _links(rendered) == []

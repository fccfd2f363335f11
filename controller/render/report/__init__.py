"""The estate report: static HTML pages an MSP opens in a browser, from a CI artifact or Pages.

``index.html`` is the overview of every tenant (onboarding badges, GDAP end date, drift,
findings, last apply); ``tenants/NAME.html`` one tenant (what git manages against what is
there, findings with the users concerned, manual steps with their links, licence usage); and
``tenants/NAME-summary.html`` a printable summary an account manager can send the customer.

Self-contained: no script, no font, no stylesheet or image from anywhere (the CSS is inline in
each page, so a summary can be sent as one file; the charts are inline SVG), and every page
says so in a Content-Security-Policy that allows nothing else. The pages are Jinja2 templates
with autoescape on; on top of it, every value printed has its non-printable characters made
visible (:func:`~controller.render._text.printable`), so a name chosen by a customer's
administrator is text, never markup, and cannot reverse or hide what follows it.

Pure: :func:`render_report` returns the pages as ``{relative path: HTML}``; writing them is
the caller's (``controller.reconcile``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from controller.plan.types import Plan
from controller.render._text import printable
from controller.render.observations import SavedTenant
from controller.render.report._cells import badge, listed, yes_no
from controller.render.report._charts import licence_chart
from controller.render.report._views import (
    LastApply,
    TenantView,
    estate_counts,
    page_name,
    tenant_view,
)

__all__ = ["Estate", "LastApply", "page_name", "render_report"]

TENANTS_DIR = "tenants"


@dataclass(frozen=True)
class Estate:
    """What the report is built from: plans (one per shard or run) with the observed tenants,
    and each tenant's last apply from the journal."""

    plans: Sequence[Plan]
    tenants: Sequence[SavedTenant]
    applies: Mapping[str, LastApply] = field(default_factory=dict)


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}``: text with its non-printable characters made visible (autoescape
    then escapes it for HTML); nothing printed is ever ``None``."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return printable(value)
    if value is None:
        return "\u2013"
    return value


@functools.cache
def _environment() -> Environment:
    """The templates, compiled once per process."""
    env = Environment(
        loader=PackageLoader("controller.render.report", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates are package data: never re-read them
    )
    env.globals.update(badge=badge, yes_no=yes_no, listed=listed)
    return env


@functools.cache
def _stylesheet() -> tuple[str, str]:
    """The CSS every page holds inline, and the CSP source that allows exactly it."""
    css = resources.files(__package__).joinpath("templates", "report.css").read_text("utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"'sha256-{digest}'"


def render_report(estate: Estate) -> dict[str, str]:
    """Every page of the report, by path relative to the report's directory."""
    env = _environment()
    css, css_hash = _stylesheet()
    by_name = {saved.observed.name: saved for saved in estate.tenants}
    views: list[TenantView] = []
    for plan in estate.plans:
        for planned in plan.tenants:
            saved = by_name.get(planned.name)
            if saved is None:
                continue
            views.append(
                tenant_view(
                    planned, saved.observed, saved.declared, estate.applies.get(planned.name)
                )
            )
    views.sort(key=lambda v: v.name)
    created = max((p.created_at for p in estate.plans), default=None)
    common = {
        "css": Markup(css),
        "css_hash": css_hash,
        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z")
        if created
        else None,
        "plan_ids": [p.plan_id[:12] for p in estate.plans],
    }
    pages: dict[str, str] = {}
    pages["index.html"] = env.get_template("index.html.j2").render(
        **common,
        root="",
        tenants=views,
        counts=estate_counts(views),
        estate_chart=_estate_chart(views),
        failed_checks=[c for p in estate.plans for c in p.failed_checks],
    )
    tenant_page = env.get_template("tenant.html.j2")
    summary_page = env.get_template("summary.html.j2")
    for view in views:
        pages[f"{TENANTS_DIR}/{view.page}.html"] = tenant_page.render(
            **common, root="../", tenant=view
        )
        pages[f"{TENANTS_DIR}/{view.page}-summary.html"] = summary_page.render(
            **common, root="../", tenant=view
        )
    return pages


def _estate_chart(views: Sequence[TenantView]) -> Any:
    """Licence usage over the whole estate, per SKU."""
    totals: dict[str, list[int]] = {}
    for view in views:
        for item in view.licences.listing.items:
            used_total = totals.setdefault(item.sku_part_number, [0, 0])
            used_total[0] += item.consumed
            used_total[1] += item.enabled
    rows = [(sku, used, total) for sku, (used, total) in sorted(totals.items())]
    return licence_chart("licences-estate", "Licence usage across the estate", rows)

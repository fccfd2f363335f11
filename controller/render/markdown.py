"""The plan as Markdown for a pull-request comment.

The first line is a hidden marker (``<!-- tenantctl-plan -->``) so CI can find and update its
own comment. Then: a summary table per tenant with badges and counts, manual steps and
findings highlighted, one collapsible section per profile change that many tenants share
("profile standard: 187 tenants, +1 distribution group member each", shown once), and one
collapsible ``<details>`` section per tenant with its other operations as a ``diff`` block. GitHub refuses comments over 65,536 characters: above
``max_chars`` whole tenant sections are left out (never cut mid-section) and the comment says
which, and where the full plan is.

Every string that comes from a tenant, a service or a plan file passes through
:mod:`controller.render._markdown_text` for the context it lands in, so the comment renders
it as text: no link, image, HTML, mention or broken structure of its author's choosing.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from controller.plan.types import Operation, Plan, TenantPlan
from controller.render import _markdown_text as md
from controller.render._summary import (
    badge_text,
    count,
    counted,
    detail_lines,
    no_changes,
    operation_suffix,
    source_suffix,
    summary_line,
    symbol,
)

MARKER = "<!-- tenantctl-plan -->"
_SEVERITY_ICONS = {"high": "🔴", "warning": "🟠", "info": "🔵"}


def render_markdown(plan: Plan, max_chars: int = 65000, full_plan_hint: str | None = None) -> str:
    head = [
        MARKER,
        "## tenantctl plan",
        "",
        f"**{summary_line(plan)}**",
        "",
        f"Plan `{plan.plan_id[:12]}` made {plan.created_at.isoformat()} from desired state "
        f"`{plan.desired_digest[:12]}`.",
        "",
    ]
    table = [
        "| Tenant | GDAP | Consent | Exchange | Observed | + | ~ | - | Manual | Findings | Problems |",
        "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for tenant in plan.tenants:
        c = count([tenant])
        badges = [md.text(status) for _, status, _ in badge_text(tenant)]
        observed = (
            tenant.observation if tenant.observation == "complete" else f"**{tenant.observation}**"
        )
        table.append(
            f"| {md.text(tenant.name)} | {' | '.join(badges)} | {observed} | {c.add} | {c.change} | "
            f"{c.remove} | {c.manual} | {c.findings} | {c.problems} |"
        )
    highlights = _highlights(plan)
    shared = _profile_changes(plan)
    grouped = {
        (t, op.id) for change in shared for t in change.tenants for op in change.by_tenant[t]
    }
    profile_sections = [_profile_section(change) for change in shared]
    sections = [_section(t, shared, grouped) for t in plan.tenants]

    def trailer(left_out: list[str]) -> str:
        where = f" The full plan: {full_plan_hint}." if full_plan_hint else ""
        return (
            f"\n> [!WARNING]\n> This comment is cut to stay under {max_chars:,} characters: "
            f"{len(left_out)} tenant section(s) left out ({', '.join(left_out)}).{where}\n"
        )

    text = "\n".join([*head, *table, "", *highlights]).rstrip("\n") + "\n\n"
    text += "".join(profile_sections)
    reserve = len(trailer([t.name for t in plan.tenants]))
    left_out: list[str] = []
    for tenant, section in zip(plan.tenants, sections, strict=True):
        if left_out or len(text) + len(section) + reserve > max_chars:
            left_out.append(tenant.name)
        else:
            text += section
    if left_out:
        text += trailer(left_out)
    return text


def _highlights(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.failed_checks:
        lines += ["> [!CAUTION]", "> **Connection checks failed** (this plan is not complete):"]
        lines += [f"> - {md.code_span(check.line())}" for check in plan.failed_checks]
        lines.append("")
    manual = [(t, op) for t in plan.tenants for op in t.manual_steps]
    if manual:
        lines += ["> [!IMPORTANT]", "> **Manual steps** (no API can do these here):"]
        for tenant, op in manual:
            assert op.manual is not None
            link = md.safe_link(op.manual.link)
            shown = f" [Open]({link})" if link else ""
            lines.append(f"> - **{md.text(tenant.name)}**: {md.text(op.manual.title)}.{shown}")
        lines.append("")
    flagged = [(t, f) for t in plan.tenants for f in t.findings if f.severity != "info"]
    problems = [(t, p) for t in plan.tenants for p in t.problems]
    warnings = [(t, w) for t in plan.tenants for w in t.warnings]
    if flagged or problems or warnings:
        lines += ["> [!WARNING]"]
        if problems:
            lines.append("> **Problems** (these objects are not planned):")
            lines += [
                f"> - **{md.text(t.name)}** {md.code_span(p.subject)}: {md.text(p.message)}"
                for t, p in problems
            ]
        if warnings:
            lines += [">"] if problems else []
            lines.append("> **Warnings**:")
            lines += [f"> - **{md.text(t.name)}**: {md.text(w)}" for t, w in warnings]
        if flagged:
            lines += [">"] if problems or warnings else []
            lines.append("> **Findings**:")
            lines += [
                f"> - {_SEVERITY_ICONS[f.severity]} **{md.text(t.name)}** {md.text(f.check)}: "
                f"{md.text(f.message)}"
                for t, f in flagged
            ]
        lines.append("")
    return lines


# A profile's change shown once when at least this many tenants share it exactly.
SHARED_BY = 2


@dataclass
class _ProfileChange:
    """The operations one profile plans, the same kinds and counts in several tenants."""

    profile: str
    tenants: list[str] = field(default_factory=list)
    by_tenant: dict[str, list[Operation]] = field(default_factory=dict)


def _profile_changes(plan: Plan) -> list[_ProfileChange]:
    """Per profile, tenants grouped by what it plans in them (kinds and counts): each group
    of at least SHARED_BY tenants is shown once."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], _ProfileChange] = {}
    for tenant in plan.tenants:
        by_profile: dict[str, list[Operation]] = {}
        for op in tenant.operations:
            if op.source is not None and op.source.profile is not None and not op.is_manual:
                by_profile.setdefault(op.source.profile, []).append(op)
        for profile, ops in by_profile.items():
            shape = tuple(sorted((symbol(op), op.kind.value) for op in ops))
            change = groups.setdefault((profile, shape), _ProfileChange(profile))
            change.tenants.append(tenant.name)
            change.by_tenant[tenant.name] = ops
    return [
        change
        for _, change in sorted(groups.items(), key=lambda item: item[0])
        if len(change.tenants) >= SHARED_BY
    ]


def _profile_section(change: _ProfileChange) -> str:
    example = change.tenants[0]
    ops = change.by_tenant[example]
    sources = sorted({str(op.source) for t in change.tenants for op in change.by_tenant[t]})
    summary = f"{len(change.tenants)} tenants, {counted(ops)} each"
    out = [
        f"<details><summary><b>profile {md.html(change.profile)}</b>: {md.html(summary)}</summary>",
        "",
        f"From {', '.join(md.code_span(s) for s in sources)}.",
        "",
        f"Tenants: {md.text(', '.join(change.tenants))}.",
        "",
        f"As planned for {md.text(example)} (each tenant with its own names):",
        "",
        "```diff",
    ]
    for op in ops:
        out.append(md.code_line(f"{symbol(op)} {op.kind.value} {op.target}{operation_suffix(op)}"))
        out += [md.code_line(f"      {d}") for d in detail_lines(op)]
    out += ["```", "", "</details>", ""]
    return "\n".join(out) + "\n"


def _section(
    tenant: TenantPlan,
    shared: Sequence[_ProfileChange] = (),
    grouped: AbstractSet[tuple[str, str]] = frozenset(),
) -> str:
    c = count([tenant])
    summary = f"{c.operations} operation(s)" if c.operations else no_changes(tenant).lower()
    summary = summary.rstrip(".")
    if c.findings:
        summary += f", {c.findings} finding(s)"
    if tenant.observation != "complete":
        summary += f", observation {tenant.observation}"
    out = [f"<details><summary><b>{md.html(tenant.name)}</b>: {md.html(summary)}</summary>", ""]
    if tenant.source:
        out += [f"From {md.code_span(tenant.source)}.", ""]
    out += [
        f"- **{label}**: {md.text(status)}" + (f" — {md.text(detail)}" if detail else "")
        for label, status, detail in badge_text(tenant)
    ]
    out.append("")
    for change in shared:
        if tenant.name in change.tenants:
            ops = change.by_tenant[tenant.name]
            out += [
                f"{counted(ops)} from profile {md.text(change.profile)}: shown once above, "
                f"with the {len(change.tenants)} tenants that share it.",
                "",
            ]
    listed = [op for op in tenant.operations if (tenant.name, op.id) not in grouped]
    if listed:
        out.append("```diff")
        for op in listed:
            out.append(
                md.code_line(f"{symbol(op)} {op.kind.value} {op.target}{operation_suffix(op)}")
            )
            out += [md.code_line(f"      {d}") for d in detail_lines(op)]
        out += ["```", ""]
    for op in tenant.manual_steps:
        assert op.manual is not None
        link = md.safe_link(op.manual.link)
        shown = f" <{link}>" if link else ""
        out += [
            f"**Manual: {md.text(op.manual.title)}.** {md.text(op.manual.instructions)}{shown}",
            "",
        ]
    if tenant.findings:
        out.append("**Findings**")
        out += [
            f"- {_SEVERITY_ICONS[f.severity]} {md.text(f.check)}: {md.text(f.message)}"
            f"{md.text(source_suffix(f.source))}"
            for f in tenant.findings
        ]
        out.append("")
    if tenant.warnings:
        out.append("**Warnings**")
        out += [f"- {md.text(w)}" for w in tenant.warnings]
        out.append("")
    if tenant.unknown:
        out.append("**Unknown** (nothing planned that depends on it)")
        out += [
            f"- {md.code_span(u.area)} ({md.text(u.code)}): {md.text(u.reason)}"
            for u in tenant.unknown
        ]
        out.append("")
    if tenant.problems:
        out.append("**Problems** (not planned)")
        out += [f"- {md.code_span(p.subject)}: {md.text(p.message)}" for p in tenant.problems]
        out.append("")
    if tenant.guard_violations:
        out.append("**Guards**")
        out += [f"- {md.text(g)}" for g in tenant.guard_violations]
        out.append("")
    if tenant.notes:
        out.append("**Notes**")
        out += [f"- {md.text(n)}" for n in tenant.notes]
        out.append("")
    out += ["</details>", ""]
    return "\n".join(out) + "\n"

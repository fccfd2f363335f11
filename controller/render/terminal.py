"""The plan as terminal text: per tenant, badges, ``+``/``-``/``~``/``!`` lines, then findings,
unknowns and problems; summary counts at the end. Colour only when asked (a TTY)."""

from __future__ import annotations

from typing import Protocol

import click

from controller.plan.types import Plan, TenantPlan
from controller.render._summary import (
    badge_text,
    detail_lines,
    no_changes,
    operation_suffix,
    source_suffix,
    summary_line,
    symbol,
)

_COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "magenta"}
_SEVERITY_COLOURS = {"high": "red", "warning": "yellow", "info": "cyan"}


def render_terminal(plan: Plan, color: bool = False) -> str:
    def style(text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

    lines: list[str] = []
    if plan.failed_checks:
        lines.append(style("Connection checks failed (nothing below is complete):", "red", True))
        lines.extend(style(f"  {check.line()}", "red") for check in plan.failed_checks)
        lines.append("")
    for tenant in plan.tenants:
        lines.extend(_tenant(tenant, style))
        lines.append("")
    lines.append(style(summary_line(plan), bold=True))
    return "\n".join(lines) + "\n"


def _tenant(tenant: TenantPlan, style: _Style) -> list[str]:
    head = f"{tenant.name} ({tenant.tenant_id})"
    if tenant.source:
        head += f"  {tenant.source}"
    lines = [style(head, bold=True)]
    lines.append(
        "  "
        + "  ".join(f"{label}: {status}" for label, status, _ in badge_text(tenant))
        + f"  Observed: {tenant.observation}"
    )
    for label, _, detail in badge_text(tenant):
        if detail:
            lines.append(f"    {label}: {detail}")
    if not tenant.operations:
        lines.append(f"  {no_changes(tenant)}")
    width = max((len(op.kind.value) for op in tenant.operations), default=0)
    for op in tenant.operations:
        mark = symbol(op)
        text = f"  {mark} {op.kind.value:<{width}}  {op.target}{operation_suffix(op)}"
        lines.append(style(text, _COLOURS[mark]))
        lines.extend(f"        {line}" for line in detail_lines(op))
        if op.manual is not None:
            lines.append(style(f"        {op.manual.title}", bold=True))
            lines.append(f"        {op.manual.instructions}")
            if op.manual.link:
                lines.append(f"        {op.manual.link}")
    if tenant.findings:
        lines.append("  Findings:")
        for f in tenant.findings:
            tag = style(f"[{f.severity}]", _SEVERITY_COLOURS[f.severity])
            lines.append(f"    {tag} {f.check}: {f.message}{source_suffix(f.source)}")
    if tenant.warnings:
        lines.append("  Warnings:")
        lines.extend(style(f"    ! {w}", "yellow") for w in tenant.warnings)
    if tenant.unknown:
        lines.append("  Unknown (nothing planned that depends on it):")
        lines.extend(f"    ? {u.area} [{u.code}]: {u.reason}" for u in tenant.unknown)
    if tenant.problems:
        lines.append("  Problems (not planned):")
        lines.extend(style(f"    x {p.subject}: {p.message}", "red") for p in tenant.problems)
    if tenant.guard_violations:
        lines.append("  Guards:")
        lines.extend(style(f"    x {g}", "red") for g in tenant.guard_violations)
    if tenant.notes:
        lines.append("  Notes:")
        lines.extend(f"    - {n}" for n in tenant.notes)
    return lines


class _Style(Protocol):  # the local ``style`` helper
    def __call__(self, text: str, fg: str | None = None, bold: bool = False) -> str: ...

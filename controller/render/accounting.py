"""What a run cost, as ``plan -v`` prints it: per tenant and service, the round trips, the
API requests and Graph's resource units, then the totals beside Graph's per-app budget
(API-NOTES.md, "Throttling"). Pure: a function of the plan's accounting blocks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from controller.plan.types import Plan, ServiceUsage

# Graph's identity budget for one app across all tenants: resource units per 20 s.
GRAPH_APP_UNITS_PER_20_S = 150_000


def render_accounting(plan: Plan) -> str:
    """Lines of text; empty when the plan carries no accounting."""
    rows = [(t.name, t.accounting) for t in plan.tenants if t.accounting]
    if plan.accounting:
        rows.append(("(partner)", plan.accounting))
    if not rows:
        return ""
    width = max(len(name) for name, _ in rows)
    lines = ["what observing cost (round trips on the wire; requests inside $batch; Graph units):"]
    lines += [f"  {name:<{width}}  {_services(usage)}" for name, usage in rows]
    total = _total(usage for _, usage in rows)
    lines.append(f"  {'total':<{width}}  {_services(total)}")
    graph = total.get("graph")
    if graph is not None:
        busiest = max((u["graph"].resource_units for _, u in rows if "graph" in u), default=0.0)
        lines.append(
            f"  Graph: {_units(graph.resource_units)} in all (an app may spend "
            f"{GRAPH_APP_UNITS_PER_20_S:,} per 20 s across tenants), at most "
            f"{busiest:,.0f} in one tenant (3,500 to 8,000 per 10 s by its size)"
        )
    return "\n".join(lines) + "\n"


def _services(usage: Mapping[str, ServiceUsage]) -> str:
    parts = []
    for service, used in sorted(usage.items()):
        text = f"{service} {used.round_trips} round trip{'s' if used.round_trips != 1 else ''}"
        if used.requests != used.round_trips:
            text += f" ({used.requests} requests)"
        if service == "graph":
            text += f", {_units(used.resource_units)}"
        if used.retries or used.throttles:
            text += f", {used.retries} retried, {used.throttles} throttled"
        parts.append(text)
    return "; ".join(parts)


def _units(units: float) -> str:
    return f"{units:,.0f} resource unit{'' if units == 1 else 's'}"


def _total(blocks: Iterable[Mapping[str, ServiceUsage]]) -> dict[str, ServiceUsage]:
    total: dict[str, ServiceUsage] = {}
    for block in blocks:
        for service, used in block.items():
            total[service] = total[service] + used if service in total else used
    return total

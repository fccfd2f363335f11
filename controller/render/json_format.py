"""The plan as JSON: the contract (``schemas/plan.schema.json``), versioned by
``formatVersion``. Keys sorted, two-space indent, UTF-8: the same plan gives the same bytes."""

from __future__ import annotations

import json

from controller.plan.types import Plan


def render_json(plan: Plan) -> str:
    """The plan's JSON. The accounting blocks (what observing cost) appear when the run
    counted them; a plan without them renders as before they existed."""
    data = plan.model_dump(mode="json")
    for part in (data, *data["tenants"]):
        if part.get("accounting") is None:
            part.pop("accounting", None)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

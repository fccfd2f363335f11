"""The committed ``schemas/plan.schema.json`` matches the plan types, and a real plan
validates against the model it is generated from."""

from __future__ import annotations

from pathlib import Path

from controller.plan import Plan
from controller.schemas import SCHEMA_MODELS, render_schema

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_plan_schema_is_up_to_date() -> None:
    assert SCHEMA_MODELS["plan.schema.json"] is Plan
    committed = (SCHEMAS / "plan.schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(Plan), "run `make schemas`"

"""JSON Schemas generated from the models. ``schemas/`` in the repository holds their output;
a test fails when it is stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from controller.files import SHARED, write_atomically
from controller.models import MSPConfig, ProfileConfig, TenantConfig
from controller.plan.types import Plan

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "msp.schema.json": MSPConfig,
    "tenant.schema.json": TenantConfig,
    "profile.schema.json": ProfileConfig,
    "plan.schema.json": Plan,
}


def render_schema(model: type[BaseModel]) -> str:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(by_alias=True, mode="validation"),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def rendered_schemas() -> dict[str, str]:
    return {name: render_schema(model) for name, model in SCHEMA_MODELS.items()}


def write_schemas(directory: Path) -> list[Path]:
    written = []
    for name, text in rendered_schemas().items():
        path = directory / name
        write_atomically(path, text, mode=SHARED)  # never a half-written schema
        written.append(path)
    return written

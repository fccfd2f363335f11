"""The base of the output contract's documents, and ``validate``'s: apart from
:mod:`controller.render.documents` so that ``tenantctl validate`` does not import what the
other documents are made of (the apply outcomes, the approval records, the planner), which
doubled its start-up (tests/unit/test_cli_startup.py).

Pure: no I/O.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from controller.models.common import CAMEL_CASE


class _Document(BaseModel):
    model_config = CAMEL_CASE


def render_document(document: BaseModel, output: Literal["json", "yaml"]) -> str:
    """``document`` as indented JSON (keys in the model's order) or as YAML (block style)."""
    data = document.model_dump(mode="json", by_alias=True)
    if output == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def as_document(model: type[BaseModel], data: Any) -> BaseModel:
    """``data`` checked against the document's model (a dict built by a view)."""
    return model.model_validate(data)


# -- validate ---------------------------------------------------------------------------------


class Diagnostic(_Document):
    file: str
    line: int
    column: int
    path: str = Field(description="Where in the file, e.g. spec.users[0].licenses")
    message: str
    severity: Literal["error", "warning"]


class ValidationReport(_Document):
    """``tenantctl validate -o json``."""

    valid: bool
    tenants: int | None = Field(description="Tenant files loaded; null when invalid")
    diagnostics: tuple[Diagnostic, ...]

"""A :class:`TenantImport` as YAML text: pure, no I/O.

The schema modeline and a header, then the file as :mod:`controller.render.yaml_text` writes
data a person would have written. Only fields that were set are written (``exclude_unset``),
so defaults are never restated.
"""

from __future__ import annotations

from controller.importer._types import TenantImport
from controller.render.yaml_text import comment_lines, mapping_lines

SCHEMA_MODELINE = "# yaml-language-server: $schema=../../schemas/tenant.schema.json"


def render_tenant_yaml(imported: TenantImport) -> str:
    data = imported.config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    lines = [SCHEMA_MODELINE]
    for paragraph in imported.header:
        lines += comment_lines(paragraph)
    lines += mapping_lines(data, imported.comments)
    return "\n".join(lines) + "\n"

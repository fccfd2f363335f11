"""A :class:`TenantImport` as YAML text: pure, no I/O.

Written by hand rather than by ``yaml.dump`` so the file reads like one a person wrote: the
schema modeline and a header, comments above the objects they explain, keys in the models'
order, short lists of addresses on one line and long ones one per line. Only fields that were
set are written (``exclude_unset``), so defaults are never restated.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from controller.importer._types import Loc, TenantImport

SCHEMA_MODELINE = "# yaml-language-server: $schema=../../schemas/tenant.schema.json"
WIDTH = 100
_INDENT = "  "
# Plain scalars that need no quotes in block and flow context alike: no indicator first, no
# flow indicators, no ": " or " #" inside.
_PLAIN = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9 _./@+()'&!$%=~^-]*")


def render_tenant_yaml(imported: TenantImport) -> str:
    data = imported.config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    lines = [SCHEMA_MODELINE]
    for paragraph in imported.header:
        lines += _comment(paragraph)
    lines += _mapping(data, (), 0, imported.comments)
    return "\n".join(lines) + "\n"


def _comment(paragraph: str, depth: int = 0) -> list[str]:
    pad = _INDENT * depth
    lines = textwrap.wrap(
        paragraph,
        width=WIDTH - len(pad) - 2,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [f"{pad}# {line}" for line in lines]


def _comments_at(loc: Loc, depth: int, comments: Mapping[Loc, Sequence[str]]) -> list[str]:
    return [line for paragraph in comments.get(loc, ()) for line in _comment(paragraph, depth)]


def _mapping(
    data: Mapping[str, Any], loc: Loc, depth: int, comments: Mapping[Loc, Sequence[str]]
) -> list[str]:
    lines: list[str] = []
    pad = _INDENT * depth
    for key, value in data.items():
        here = (*loc, key)
        lines += _comments_at(here, depth, comments)
        if isinstance(value, dict):
            if not value:
                lines.append(f"{pad}{key}: {{}}")
            else:
                lines.append(f"{pad}{key}:")
                lines += _mapping(value, here, depth + 1, comments)
        elif isinstance(value, list):
            lines += _sequence(key, value, here, depth, comments)
        else:
            lines.append(f"{pad}{key}: {scalar(value)}")
    return lines


def _sequence(
    key: str, items: list[Any], loc: Loc, depth: int, comments: Mapping[Loc, Sequence[str]]
) -> list[str]:
    pad = _INDENT * depth
    if not items:
        return [f"{pad}{key}: []"]
    if all(not isinstance(i, dict | list) for i in items):
        flow = f"{pad}{key}: [{', '.join(scalar(i) for i in items)}]"
        if len(flow) <= WIDTH:
            return [flow]
        return [f"{pad}{key}:", *(f"{pad}{_INDENT}- {scalar(i)}" for i in items)]
    lines = [f"{pad}{key}:"]
    for i, item in enumerate(items):
        here = (*loc, i)
        lines += _comments_at(here, depth + 1, comments)
        if isinstance(item, dict) and item:
            body = _mapping(item, here, depth + 2, comments)
            # The first key goes on the dash line (unless a comment sits above it).
            first = body[0]
            if first.lstrip().startswith("#"):
                lines.append(f"{pad}{_INDENT}-")
                lines += body
            else:
                lines.append(f"{pad}{_INDENT}- {first.lstrip()}")
                lines += body[1:]
        else:
            lines.append(f"{pad}{_INDENT}- {scalar(item)}")
    return lines


def scalar(value: Any) -> str:
    """One value as YAML: plain when it reads back as the same string, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and _reads_back(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _reads_back(text: str) -> bool:
    """Whether the plain scalar means the same string to PyYAML's YAML 1.1 resolvers (which
    tools beside tenantctl use): "NO", "on", "1.0", "null" and "~" are quoted."""
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False

"""Data as YAML text a person would have written: pure, no I/O.

Written by hand rather than by ``yaml.dump``: comments above the keys and list items they
explain, keys in the data's order, short lists of addresses on one line and long ones one per
line, plain scalars wherever they read back as the same string (quoted otherwise). Tenant
files written by ``import`` and ``discover --write`` and the effective tenant ``render`` prints
use it.

Every string here may come from a customer's tenant (a display name, a job title) and stays
data: a comment is one line of printable text (:func:`comment_text`: a line break of any kind,
``\r``, NEL, U+2028, U+2029, becomes a visible escape, since libyaml ends a comment at each
of them), and a value that is not plain is double-quoted with every character that is not
printable escaped (:func:`scalar`).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

# A comment's place in the document: the loader's location path (``("spec", "groups", 0)``).
Loc = tuple[str | int, ...]

WIDTH = 100
_INDENT = "  "
# Plain scalars that need no quotes in block and flow context alike: no indicator first, no
# flow indicators, no ": " or " #" inside.
_PLAIN = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9 _./@+()'&!$%=~^-]*")


def comment_text(text: str) -> str:
    """``text`` safe inside a YAML comment: one line, printable characters only (others as
    ``\\n``, ``\\u2028``...), and never an editor's schema modeline."""
    inert = "".join(char if char.isprintable() else _escape(char) for char in text)
    # yaml-language-server reads `# yaml-language-server: $schema=URL` on any comment line:
    # a customer's name must not point the MSP's editors at a schema of its choosing.
    return _MODELINE.sub("yaml_language_server", inert)


_MODELINE = re.compile("yaml-language-server", re.IGNORECASE)
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}


def _escape(char: str) -> str:
    """One character as a YAML double-quoted escape (``\\n``, ``\\u2028``, ``\\U0001f600``)."""
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def comment_lines(paragraph: str, depth: int = 0) -> list[str]:
    """A paragraph as ``# `` lines wrapped to the width, at ``depth``; the text passes
    :func:`comment_text` first."""
    pad = _INDENT * depth
    lines = textwrap.wrap(
        comment_text(paragraph),
        width=WIDTH - len(pad) - 2,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [f"{pad}# {line}" for line in lines]


def _comments_at(loc: Loc, depth: int, comments: Mapping[Loc, Sequence[str]]) -> list[str]:
    return [line for paragraph in comments.get(loc, ()) for line in comment_lines(paragraph, depth)]


def mapping_lines(
    data: Mapping[str, Any], comments: Mapping[Loc, Sequence[str]], loc: Loc = (), depth: int = 0
) -> list[str]:
    """``data`` as block YAML, each paragraph of ``comments`` above the key or item at its
    location (``("spec", "users", 0)``)."""
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
                lines += mapping_lines(value, comments, here, depth + 1)
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
            body = mapping_lines(item, comments, here, depth + 2)
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
    # Not json.dumps: it leaves U+2028, U+2029 and NEL as they are, and inside double quotes
    # libyaml folds them like line breaks, so the value would read back changed.
    return '"' + "".join(_escape(c) if c in '"\\' or not c.isprintable() else c for c in text) + '"'


def _reads_back(text: str) -> bool:
    """Whether the plain scalar means the same string to PyYAML's YAML 1.1 resolvers (which
    tools beside tenantctl use): "NO", "on", "1.0", "null" and "~" are quoted."""
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False

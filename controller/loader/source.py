"""Reading one YAML file into plain data while keeping where every value came from.

libyaml's C parser builds the node tree (several times faster than pure-Python PyYAML on a
large estate); the node tree is kept only while its file is validated, and only consulted
when a problem needs a location. Two YAML traps are closed here:

* duplicate keys, which PyYAML silently resolves to the last one, are errors;
* YAML 1.1 booleans (``yes``/``no``/``on``/``off``) are plain strings, so a usage location
  of ``NO`` (Norway) stays ``"NO"`` instead of becoming ``False``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.errors import Diagnostic

try:  # libyaml is part of PyYAML's wheels; the pure-Python parser is the slow fallback
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - only without libyaml
    _BaseLoader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _LocatingLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that records duplicate keys instead of overwriting silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Node, Node, Any]] = []  # (second key, first key, key)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            if key in first_seen:
                self.duplicates.append((key_node, first_seen[key], key))
            else:
                first_seen[key] = key_node
        self.flatten_mapping(node)  # merge keys (<<) first, then own keys, which win
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


# YAML 1.2 booleans only: drop 1.1's yes/no/on/off resolvers and add true/false back.
_LocatingLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_LocatingLoader.add_implicit_resolver(_BOOL_TAG, _YAML12_BOOL, list("tTfF"))

Loc = Sequence[str | int]


@dataclass
class SourceFile:
    """One parsed YAML document: its data, and the node tree to locate values in it."""

    path: str
    data: Any
    root: Node | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def locate(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at ``loc`` (of its key when ``key``).

        Elements of ``loc`` that do not exist in the document (pydantic's union tags, a
        missing field) stop the walk: the deepest existing node is reported.
        """
        node = self.root
        if node is None:
            return 1, 1
        key_node: Node | None = None
        for element in loc:
            child = _child(node, element)
            if child is None:
                continue
            key_node, node = child
        target = key_node if key and key_node is not None else node
        return target.start_mark.line + 1, target.start_mark.column + 1

    def path_text(self, loc: Loc) -> str:
        """``spec.users[3].userPrincipalName`` for a loc, keeping only the parts that are in
        the document plus a final missing field name."""
        parts: list[str] = []
        data = self.data
        for index, element in enumerate(loc):
            if isinstance(data, dict) and element in data:
                parts.append(f".{element}")
                data = data[element]
            elif isinstance(data, list) and isinstance(element, int) and element < len(data):
                parts.append(f"[{element}]")
                data = data[element]
            elif index == len(loc) - 1 and isinstance(element, str) and isinstance(data, dict):
                parts.append(f".{element}")
        return "".join(parts).lstrip(".")

    def diagnostic(self, loc: Loc, message: str, *, key: bool = False) -> Diagnostic:
        line, column = self.locate(loc, key=key)
        return Diagnostic(self.path, line, column, self.path_text(loc), message)


def _child(node: Node, element: str | int) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == str(element):
                return key_node, value_node
        return None
    if (
        isinstance(node, SequenceNode)
        and isinstance(element, int)
        and 0 <= element < len(node.value)
    ):
        item = node.value[element]
        return item, item
    return None


def parse_yaml(text: str, path: str) -> SourceFile:
    """Parse one YAML document. Problems come back as diagnostics, never as exceptions."""
    loader = _LocatingLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(p for p in (problem.context, problem.problem) if p)
        if "expected a single document" in message:
            message = "the file holds more than one YAML document (---); use one file per tenant"
        return SourceFile(path, None, None, [Diagnostic(path, line, column, "", message)])
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as problem:
        return SourceFile(
            path, None, None, [Diagnostic(path, 1, 1, "", f"not valid YAML: {problem}")]
        )
    finally:
        loader.dispose()
    source = SourceFile(path, data, root)
    for second, first, key in loader.duplicates:
        parent = _path_to(root, second) or []
        source.diagnostics.append(
            Diagnostic(
                path,
                second.start_mark.line + 1,
                second.start_mark.column + 1,
                ".".join([*map(str, parent), str(key)]).replace(".[", "["),
                f"duplicate key {key!r} (first at line {first.start_mark.line + 1}); "
                "YAML would keep only the last one: remove or rename one of them",
            )
        )
    return source


def _path_to(node: Node | None, wanted: Node) -> list[str] | None:
    """The keys leading to the mapping that holds the key node ``wanted`` (errors only)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if key_node is wanted:
                return []
            below = _path_to(value_node, wanted)
            if below is not None:
                return [str(key_node.value), *below]
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            below = _path_to(item, wanted)
            if below is not None:
                return [f"[{index}]", *below]
    return None

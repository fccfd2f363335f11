"""YAML text -> plain Python data, in one pass over libyaml's events (see
:mod:`controller.loader.source` for the rules it keeps: the YAML 1.2 core schema, duplicate
keys, tags, anchors and aliases). Nesting is bounded (:data:`MAX_DEPTH`): a document nested
thousands deep is an error at its location, never a ``RecursionError`` in what reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.error import Mark
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import Node, ScalarNode, SequenceNode

try:  # libyaml is part of PyYAML's wheels; the pure-Python parser is the slow fallback
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - only without libyaml
    _BaseLoader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
STR_TAG = _TAG + "str"
_NULL_TAG = _TAG + "null"
_BOOL_TAG = _TAG + "bool"
_INT_TAG = _TAG + "int"
_FLOAT_TAG = _TAG + "float"
_MERGE_TAG = _TAG + "merge"
_SEQ_TAG = _TAG + "seq"
_MAP_TAG = _TAG + "map"

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), plus ``<<``.
_NULL = re.compile(r"^(?:~|null|Null|NULL)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_MERGE = re.compile(r"^<<$")
_NUMBER = [(_INT_TAG, _INT), (_FLOAT_TAG, _FLOAT)]
# Plain scalars are resolved by their first character; most (names, addresses) match none.
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    **{c: _NUMBER for c in "0123456789+-"},
    ".": [(_FLOAT_TAG, _FLOAT)],
    **{c: [(_NULL_TAG, _NULL)] for c in "~nN"},
    **{c: [(_BOOL_TAG, _BOOL)] for c in "tTfF"},
    "<": [(_MERGE_TAG, _MERGE)],
}
_SPECIAL_FLOATS = {".inf": "inf", "-.inf": "-inf", "+.inf": "inf", ".nan": "nan"}

# Aliases may share data; they may not multiply it past this (a "billion laughs" document).
MAX_EXPANDED_NODES = 1_000_000
# A tenant file nests about eight deep; far past that is a mistake or an attack, and the
# models, the digests and the renderers all recurse.
MAX_DEPTH = 64


class _Composer(_BaseLoader):  # type: ignore[valid-type,misc]
    """libyaml's parser and composer, resolving plain scalars by the YAML 1.2 core schema."""

    # libyaml's composer calls these three for every node; PyYAML's versions walk tables
    # for features (path resolvers, YAML 1.1 types) that tenantctl files do not use.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:  # plain (unquoted, untagged)
                if not value:
                    return _NULL_TAG
                for tag, pattern in _RESOLVERS.get(value[0], ()):
                    if pattern.match(value):
                        return tag
            return STR_TAG
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG


class _Invalid(Exception):
    """A problem at one place that stops building the file's data."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Merge:
    """The key ``<<``: its value's mappings are merged into the mapping that holds it."""

    def __repr__(self) -> str:
        return "<<"


_MERGE_KEY = _Merge()
_OPEN = object()  # an anchored collection whose end has not been reached yet


@dataclass
class _Duplicate:
    mark: Mark  # where the second one is
    parent: list[str | int]  # the keys and indexes leading to the mapping holding both
    key: Any


@dataclass
class _Built:
    data: Any
    duplicates: list[_Duplicate]
    aliased: bool


def _build(text: str) -> _Built:
    """YAML text -> Python data in one pass over libyaml's events.

    Faster than composing PyYAML's node tree and constructing from it (about twice, on the
    benchmark): the composer calls back into Python three times for every node and creates
    a node object on top of each event. Locations are not kept here; the node tree is
    composed later, and only for a file that has a problem to locate.
    """
    parser = _Composer(text)
    duplicates: list[_Duplicate] = []
    anchors: dict[str, Any] = {}
    open_anchors: dict[str, Any] = {}
    merges: dict[int, list[tuple[Mark, Any]]] = {}
    aliased = False
    # One frame per open collection: [collection, pending key, the key's event, the start
    # event, anchor]. Events, not marks: a mark is read only when a problem needs it.
    # ``pending key`` is _NO_KEY while a mapping waits for its next key (always for lists).
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    # Locals, not globals, in the loop that runs once per event (millions on a big estate).
    get_event = parser.get_event
    resolvers_for = _RESOLVERS.get
    scalar, alias, no_key = ScalarEvent, AliasEvent, _NO_KEY
    mapping_start, mapping_end = MappingStartEvent, MappingEndEvent
    sequence_start, sequence_end = SequenceStartEvent, SequenceEndEvent
    try:
        while True:
            event = get_event()
            kind = event.__class__
            if kind is scalar:
                value = event.value
                tag = event.tag
                if tag is None:
                    if event.implicit[0]:  # plain: resolve by the YAML 1.2 core schema
                        if not value:
                            value = None
                        else:
                            for tag, pattern in resolvers_for(value[0], ()):
                                if pattern.match(value):
                                    value = _typed(tag, value, event.start_mark)
                                    break
                elif tag not in ("!", STR_TAG):
                    value = _typed(tag, value, event.start_mark)
                if event.anchor is not None:
                    anchors[event.anchor] = value
                where = event  # its start_mark is read only when a problem needs it
            elif kind is mapping_start or kind is sequence_start:
                tag = event.tag
                if kind is mapping_start:
                    if tag is not None and tag not in ("!", _MAP_TAG):
                        raise _Invalid(event.start_mark, _unsupported(tag))
                    collection: Any = {}
                else:
                    if tag is not None and tag not in ("!", _SEQ_TAG):
                        raise _Invalid(event.start_mark, _unsupported(tag))
                    collection = []
                if event.anchor is not None:
                    anchors[event.anchor] = _OPEN
                    open_anchors[event.anchor] = collection
                if len(stack) >= MAX_DEPTH:
                    raise _Invalid(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
                stack.append([collection, no_key, None, event, event.anchor])
                continue
            elif kind is mapping_end or kind is sequence_end:
                value, _, _, where, anchor = stack.pop()
                if anchor is not None and open_anchors.get(anchor) is value:
                    anchors[anchor] = value
                    del open_anchors[anchor]
                if merges and kind is mapping_end and id(value) in merges:
                    _merge(value, merges.pop(id(value)))
            elif kind is alias:
                where = event
                mark = event.start_mark
                if event.anchor not in anchors:
                    raise _Invalid(mark, f"found undefined alias {event.anchor!r}")
                value = anchors[event.anchor]
                if value is _OPEN:
                    raise _Invalid(mark, f"alias *{event.anchor} refers to a node that contains it")
                aliased = True
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Invalid(
                        event.start_mark,
                        "the file holds more than one YAML document (---); use one file per tenant",
                    )
                continue
            elif kind is StreamEndEvent:
                break
            else:  # stream start, document end
                continue

            # ``value`` is complete: put it where it belongs.
            if not stack:
                root = value
                continue
            frame = stack[-1]
            parent = frame[0]
            if parent.__class__ is list:
                parent.append(value)
            elif frame[1] is no_key:  # a key
                if kind is scalar and value == "<<" and event.implicit[0]:
                    value = _MERGE_KEY
                else:
                    try:
                        if value in parent:
                            duplicates.append(_Duplicate(where.start_mark, _path_of(stack), value))
                    except TypeError:  # a list or a mapping used as a key
                        raise _Invalid(
                            where.start_mark, "a mapping key must be a plain value"
                        ) from None
                frame[1] = value
                frame[2] = where
            else:
                key = frame[1]
                if key is _MERGE_KEY:
                    merges.setdefault(id(parent), []).append((frame[2].start_mark, value))
                else:
                    parent[key] = value
                frame[1] = no_key
    finally:
        parser.dispose()
    return _Built(root, duplicates, aliased)


_NO_KEY = object()


def _path_of(stack: list[list[Any]]) -> list[str | int]:
    """Where the innermost open collection sits: the key or index it has in each enclosing
    one (for the path of a duplicate key)."""
    return [len(frame[0]) if frame[0].__class__ is list else str(frame[1]) for frame in stack[:-1]]


def _merge(mapping: dict[Any, Any], merged: list[tuple[Mark, Any]]) -> None:
    """YAML merge keys: merged mappings first (earlier ones win), then the mapping's own keys,
    which win over all of them. In place: an anchor may already refer to ``mapping``."""
    combined: dict[Any, Any] = {}
    for mark, value in reversed(merged):
        sources = value if isinstance(value, list) else [value]
        for source in reversed(sources):
            if not isinstance(source, dict):
                raise _Invalid(mark, "<< (merge) needs a mapping or a list of mappings")
            combined.update(source)
    combined.update(mapping)
    mapping.clear()
    mapping.update(combined)


def _typed(tag: str, value: str, mark: Mark) -> Any:
    """A scalar resolved (or explicitly tagged) as something other than a string."""
    try:
        # An explicit tag (``!!bool yes``) must still spell a value of its type.
        if tag == _NULL_TAG and (not value or _NULL.match(value)):
            return None
        if tag == _BOOL_TAG and _BOOL.match(value):
            return value.lower() == "true"
        if tag == _INT_TAG:
            if value.startswith(("0o", "0x")):
                return int(value[2:], 8 if value[1] == "o" else 16)
            return int(value)
        if tag == _FLOAT_TAG:
            lowered = value.lower()
            return float(_SPECIAL_FLOATS.get(lowered, lowered))
        if tag == _MERGE_TAG:  # ``<<`` as a key is a merge (see _build); elsewhere a string
            return value
    except ValueError:  # not a number, or an integer beyond Python's 4,300-digit limit
        pass
    if tag in (_NULL_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG):
        raise _Invalid(mark, f"{_shorten(value)} is not a valid {tag.removeprefix(_TAG)}")
    raise _Invalid(mark, _unsupported(tag))


def _shorten(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _unsupported(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return (
        f"unsupported YAML tag {shown!r}: tenantctl files hold plain strings, numbers, "
        "true/false, null, lists and mappings"
    )


def _expanded_size(data: Any, limit: int) -> int:
    """How many values the data holds once every alias is expanded (stops past ``limit``)."""
    sizes: dict[int, int] = {}

    def size(value: Any) -> int:
        if not isinstance(value, dict | list):
            return 1
        known = sizes.get(id(value))
        if known is not None:
            return known
        total = 1
        for item in value.items() if isinstance(value, dict) else value:
            total += size(item[1]) + 1 if isinstance(value, dict) else size(item)
            if total > limit:
                break
        sizes[id(value)] = total
        return total

    return size(data)

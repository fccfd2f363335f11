"""The line of every key and list item of a YAML file, by location: for provenance.

A plan names the file and line each desired value came from. Composing PyYAML's node tree
(what :meth:`SourceFile.locate` uses for a diagnostic) costs about five times a parse; one
pass over libyaml's events, keeping only lines, costs about one. It runs only for tenants that
have something to plan.

A mapping entry is located at its key (``members:`` even when the list starts below it), a
list item at its first line. Values that came in through an alias or a ``<<`` merge key are
located where they are used, or not at all: the caller falls back to the enclosing object.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

# libyaml's parser when PyYAML has it (its wheels do), as the loader reads files.
_Parser: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[str | int, ...]
LineIndex = dict[Loc, int]

_NO_KEY = object()


def line_index(text: str, only: Collection[Loc] | None = None) -> LineIndex:
    """1-based lines by location (``("spec", "users", 3, "displayName")``). Empty when the
    text is not YAML (the loader has reported that already).

    ``only``: just these locations (those the text has), each as the whole index gives it.
    The collections that hold none of them are passed over without tracking where their
    values are, and the text is read no further than the last one: a plan names a few lines
    of a tenant, whose users make most of its file. (Text that is not YAML past the last
    one is not seen then: it is asked of files the loader has read.)"""
    lines: LineIndex = {}
    holding = None if only is None else {loc[:end] for loc in only for end in range(len(loc))}
    # One frame per open collection: [is a mapping, current key or _NO_KEY, next index, loc].
    stack: list[list[Any]] = []
    parser = _Parser(text)
    try:
        while True:
            event = parser.get_event()
            kind = event.__class__
            if kind is StreamEndEvent:
                break
            if kind not in (ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent):
                if kind is MappingEndEvent or kind is SequenceEndEvent:
                    stack.pop()
                    _finish_value(stack)
                continue
            if stack and stack[-1][0] and stack[-1][1] is _NO_KEY:
                # A mapping waiting for a key: this event is the key.
                frame = stack[-1]
                key = event.value if kind is ScalarEvent else None
                frame[1] = key
                if key is not None and (only is None or (*frame[3], key) in only):
                    lines.setdefault((*frame[3], key), event.start_mark.line + 1)
                if kind in (MappingStartEvent, SequenceStartEvent):  # a complex key: skip it
                    if holding is not None:
                        _pass_over(parser)
                        _finish_value(stack)
                        continue
                    stack.append([kind is MappingStartEvent, _NO_KEY, 0, (*frame[3], None)])
                continue
            loc = _value_loc(stack)
            if loc is not None and stack and not stack[-1][0] and (only is None or loc in only):
                lines.setdefault(loc, event.start_mark.line + 1)
            if only is not None and len(lines) == len(only):
                break  # every location asked for is found: the rest cannot change them
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                inside = loc or ()
                if holding is not None and inside not in holding:
                    _pass_over(parser)
                    _finish_value(stack)
                    continue
                stack.append([kind is MappingStartEvent, _NO_KEY, 0, inside])
            else:
                _finish_value(stack)
    except yaml.YAMLError:
        return {}
    finally:
        parser.dispose()
    return lines


def _pass_over(parser: Any) -> None:
    """Read the events of the collection just started, up to its end."""
    depth = 1
    while depth:
        kind = parser.get_event().__class__
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            depth += 1
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            depth -= 1


def _value_loc(stack: list[list[Any]]) -> tuple[str | int, ...] | None:
    if not stack:
        return ()
    frame = stack[-1]
    if frame[0]:
        return None if frame[1] is None else (*frame[3], frame[1])
    return (*frame[3], frame[2])


def _finish_value(stack: list[list[Any]]) -> None:
    """A value is complete: the enclosing mapping waits for its next key, or the enclosing
    list moves to its next item."""
    if not stack:
        return
    frame = stack[-1]
    if frame[0]:
        frame[1] = _NO_KEY
    else:
        frame[2] += 1

"""The line of every key and list item of a YAML file, by location: for provenance.

A plan names the file and line each desired value came from. Composing PyYAML's node tree
(what :meth:`SourceFile.locate` uses for a diagnostic) costs about five times a parse; one
pass over libyaml's events, keeping only lines, costs about one. It runs only for tenants that
have something to plan.

A mapping entry is located at its key (``members:`` even when the list starts below it), a
list item at its first line. Values that came in through an alias or a ``<<`` merge key are
located where they are used, or not at all: the caller falls back to the enclosing object.

Most files are plain block YAML: keys and list items one to a line, scalars and flow lists
(``[a, b]``) on one line. Those are read line by line first (:func:`_block_lines`), with no
parser, and a collection that holds none of the locations asked for is passed over by its
indentation: a tenant of 50 users whose plan names its checks, 0.6-0.9 ms through libyaml's
events, in every worker, for every tenant with something to plan, is 0.1-0.2 ms
(``bench/README.md``, "Stop 25"). Anything else (block scalars, a scalar or a flow
collection over several lines, a quoted key, a complex key, a tab) is left to the parser,
which gives the same answer (``tests/unit/test_line_index.py`` compares the two on generated
YAML).
"""

from __future__ import annotations

import functools
import re
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
    fast = _block_lines(text, only)
    return fast if fast is not None else _event_lines(text, only)


def _event_lines(text: str, only: Collection[Loc] | None) -> LineIndex:
    """:func:`line_index` from libyaml's events: any YAML."""
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


# --- plain block YAML, line by line -----------------------------------------------------------

# Text with a character Python does not count printable is left to the parser: YAML's other
# line breaks ("\r" alone, NEL, LS, PS), the control characters it refuses, a byte-order mark
# it drops, tabs (and, to be safe, a few it would take: a no-break space, a soft hyphen). A
# "\r\n" file is read with its "\r"s dropped first.
_CONTROL = bytes(c for c in range(32) if c != ord("\n")) + b"\x7f"


def _ascii_text(text: str) -> bool:
    """ASCII text holds no control character but line feeds (faster than isprintable)."""
    data = text.encode("ascii")
    return len(data.translate(None, _CONTROL)) == len(data)


# Characters a plain key may not start with (YAML's indicators), or hold here.
_KEY_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_IN_KEY = frozenset("#'\"[]{}")
# A value starting with one of these is not a one-line plain scalar.
_VALUE_START = frozenset("?:,[]{}&*!|>%@`")
# Where a plain scalar inside a one-line flow collection ends (or, for a colon, a quote or a
# hash, where this reader gives up); its first character is checked as a key's is.
_FLOW_STOP = frozenset(",[]{}:#'\"")


class _Frame:
    """An open collection: a mapping (its keys' column, its last key, whether that key's value
    is still to come on the lines below) or a sequence (its dashes' column, items so far)."""

    __slots__ = ("indent", "is_map", "items", "key", "loc", "open")

    def __init__(self, is_map: bool, indent: int, loc: Loc) -> None:
        self.is_map = is_map
        self.indent = indent
        self.loc = loc
        self.key = ""
        self.open = False
        self.items = 0


def _block_lines(text: str, only: Collection[Loc] | None) -> LineIndex | None:
    """:func:`line_index` of plain block YAML, read line by line; None for anything else
    (the caller asks libyaml then). With ``only``, a collection that holds none of the
    locations is passed over by its lines' indentation (:func:`_past`): the users of a tenant
    whose plan names its checks are not read at all. For text the loader has read: YAML that
    is not valid may be answered where the parser would fail."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if not (_ascii_text(text) if text.isascii() else text.replace("\n", " ").isprintable()):
        return None
    lines: LineIndex = {}
    wanted = len(only) if only is not None else -1
    holding = None if only is None else {loc[:end] for loc in only for end in range(len(loc))}
    frames: list[_Frame] = []
    limit = -1  # the deepest column the next line may start at (-1: any)
    number = 0  # the line just read
    at = 0  # where the next line starts
    size = len(text)

    def record(loc: Loc, number: int) -> None:
        if only is None or loc in only:
            lines.setdefault(loc, number)

    while at < size:
        stop = text.find("\n", at)
        if stop < 0:
            stop = size
        line = text[at:stop]
        at = stop + 1
        number += 1
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        indent = len(line) - len(content)
        if 0 <= limit < indent:
            return None  # a scalar continued on this line
        limit = -1
        if indent == 0 and content.startswith(("---", "...")):
            return None
        dash = content[0] == "-" and (len(content) == 1 or content[1] == " ")
        while frames and frames[-1].indent > indent:
            frames.pop()
        top = frames[-1] if frames else None
        if top is not None and not top.is_map and top.indent == indent and not dash:
            frames.pop()  # a sequence at its key's column ends at the next key
            top = frames[-1] if frames else None
        passed_item = False
        if dash:
            if top is not None and not top.is_map and top.indent == indent:
                sequence = top
            elif top is not None and top.is_map and top.open and indent >= top.indent:
                top.open = False
                sequence = _Frame(False, indent, (*top.loc, top.key))
                frames.append(sequence)
            else:
                return None
            item: Loc = (*sequence.loc, sequence.items)
            sequence.items += 1
            record(item, number)
            rest = content[1:].lstrip(" ")
            if not rest or rest[0] == "#" or (rest[0] == "-" and rest[1:2] in ("", " ")):
                return None  # the item starts below, or is a list itself
            split = _key_value(rest)
            if split is None:
                inside = _inline(rest)
                if inside is None:
                    return None
                for sub in inside:
                    record((*item, *sub), number)
                limit = indent
                if len(lines) == wanted:
                    break
                continue
            mapping = _Frame(True, indent + len(content) - len(rest), item)
            frames.append(mapping)
            passed_item = holding is not None and item not in holding
        else:
            split = _key_value(content)
            if split is None:
                return None
            if top is not None and top.is_map and top.indent == indent:
                mapping = top
            elif top is not None and top.is_map and top.open and indent > top.indent:
                top.open = False
                mapping = _Frame(True, indent, (*top.loc, top.key))
                frames.append(mapping)
            elif top is None and indent == 0:  # the first line: the document's mapping
                mapping = _Frame(True, 0, ())
                frames.append(mapping)
            else:
                return None
        key, value = split
        mapping.key = key
        entry = (*mapping.loc, key)
        record(entry, number)
        if not value or value[0] == "#":
            mapping.open = True
        else:
            inside = _inline(value)
            if inside is None:
                return None
            for sub in inside:
                record((*entry, *sub), number)
            mapping.open = False
            limit = mapping.indent
        if len(lines) == wanted:
            break  # every location asked for is found, as line_index stops
        if passed_item:  # the rest of a list item none of whose locations is asked for
            past = _past(text, at, indent, sequence_continues=False)
            frames.pop()
        elif mapping.open and holding is not None and entry not in holding:
            past = _past(text, at, mapping.indent, sequence_continues=True)
            mapping.open = False
        else:
            continue
        if past is None:
            return None
        number += text.count("\n", at, past)
        at = past
        limit = -1
    return lines


# Whether a line with a quote, a "|", a ">" or a "?" in it may go on over more lines than its
# indentation shows: a quote opening a scalar, a block scalar's indicator, a complex key.
_UNBOUNDED = re.compile(
    r"""(?:^ *|: |- |[\[{,] *)['"]|(?:: |- )(?:[&!]\S* +)*[|>]|^ *[?:] """, re.MULTILINE
)


def _past(text: str, at: int, indent: int, *, sequence_continues: bool) -> int | None:
    """Where the lines from ``at`` (a line's start) that are deeper than ``indent`` end (and,
    with ``sequence_continues``, the list items at ``indent`` too: a list at its key's
    column); None when something in them could run past what the indentation shows: a flow
    collection not closed on its line, a quote or an indicator starting a scalar that could
    go on, a document marker. The end is one regular expression's search; the rest is
    ``str.find`` and ``str.count`` (in C, ten times the regex engine's speed per character),
    and a closer look only at the lines they point at."""
    found = _block_end(indent, sequence_continues).search(text, at - 1)
    end = found.start() + 1 if found is not None else len(text)
    for char in "'\"|>?":
        where = text.find(char, at, end)
        while where >= 0:
            start, stop = _line_around(text, where)
            if _UNBOUNDED.search(text, start, stop):
                return None
            where = text.find(char, stop, end)
    for opening, empty in (("[", "[]"), ("{", "{}")):
        if text.count(opening, at, end) == text.count(empty, at, end):
            continue
        where = text.find(opening, at, end)
        while where >= 0:
            start, stop = _line_around(text, where)
            if text[where + 1 : where + 2] not in "]}" and not _one_line_flow(text[start:stop]):
                return None
            where = text.find(opening, where + 1, end)
    if text.find("\n---", at - 1, end) >= 0 or text.find("\n...", at - 1, end) >= 0:
        return None
    return end


def _line_around(text: str, where: int) -> tuple[int, int]:
    stop = text.find("\n", where)
    return text.rfind("\n", 0, where) + 1, len(text) if stop < 0 else stop


@functools.cache
def _block_end(indent: int, sequence_continues: bool) -> re.Pattern[str]:
    """The line break before the first line (not blank, not a comment) at ``indent`` or
    shallower (at ``indent``, not a list item, when ``sequence_continues``). A line break
    followed by none of what continues the block: the regex engine scans for the break and
    tries little after it (a pattern anchored with re.MULTILINE's "^" is tried at every
    character, and costs twice as much)."""
    continues = [f" {{{indent + 1}}}", " *#", " *$"]
    if sequence_continues:
        continues += [f" {{{indent}}}- ", f" {{{indent}}}-$"]
    return re.compile(rf"\n(?!{'|'.join(continues)})", re.MULTILINE)


def _one_line_flow(line: str) -> bool:
    """Whether ``line`` is a key or list item whose value is a flow collection closed on it."""
    content = line.lstrip(" ")
    while content.startswith("- "):
        content = content[2:].lstrip(" ")
    split = _key_value(content) if content else None
    value = split[1] if split is not None else content
    return bool(value) and value[0] in "[{" and _inline(value) is not None


def _key_value(content: str) -> tuple[str, str] | None:
    """``key: value`` -> (key, value without the spaces around it); None when the line is not
    a plain key followed by its colon."""
    if content[0] in _KEY_START:
        return None
    end = content.find(": ")
    if end < 0:
        trimmed = content.rstrip(" ")
        if not trimmed.endswith(":"):
            return None
        end = len(trimmed) - 1
    key = content[:end]
    if not key or key[-1] == " " or any(c in _IN_KEY for c in key):
        return None
    return key, content[end + 1 :].strip(" ")


def _inline(value: str) -> tuple[Loc, ...] | None:
    """The locations inside a value written whole on its line, relative to it: none for a
    scalar (plain or quoted), those of a one-line flow collection of plain scalars
    (``[a, b]``, ``{except: [x]}``); None when it is not such a value."""
    first = value[0]
    if first in "'\"":
        end = _closing_quote(value)
        if end < 0:
            return None
        rest = value[end + 1 :].lstrip(" ")
        return () if not rest or rest[0] == "#" else None
    head = value.split(" #", 1)[0].rstrip(" ")
    if first in "[{":
        found: list[Loc] = []
        return tuple(found) if _flow_node(head, 0, (), found) == len(head) else None
    if first in _VALUE_START or (first == "-" and head[1:2] in ("", " ")):
        return None
    return () if ": " not in head and not head.endswith(":") else None


def _flow_node(text: str, at: int, loc: Loc, found: list[Loc]) -> int | None:
    """Read the flow node at ``at`` (a list, a mapping or a plain scalar without colons),
    adding the locations inside it to ``found``; where it ends, or None when it is anything
    this reader does not take (quotes, a comment, an empty entry, ...)."""
    at = _past_spaces(text, at)
    if at == len(text):
        return None
    opening = text[at]
    if opening not in "[{":
        plain, at = _flow_plain(text, at)
        return at if plain else None
    closing = "]" if opening == "[" else "}"
    at = _past_spaces(text, at + 1)
    if text[at : at + 1] == closing:
        return at + 1
    index = 0
    while True:
        if opening == "[":
            inner: Loc = (*loc, index)
        else:
            key, at = _flow_plain(text, _past_spaces(text, at))
            if not key or text[at : at + 2] != ": ":
                return None
            inner = (*loc, key)
            at += 2
        found.append(inner)
        end = _flow_node(text, at, inner, found)
        if end is None:
            return None
        at = _past_spaces(text, end)
        index += 1
        if text[at : at + 1] == closing:
            return at + 1
        if text[at : at + 1] != ",":
            return None
        at += 1


def _flow_plain(text: str, at: int) -> tuple[str, int]:
    """The plain scalar at ``at`` in a flow collection, and where it ends; "" when there is
    none this reader takes."""
    start = at
    while at < len(text) and text[at] not in _FLOW_STOP:
        at += 1
    value = text[start:at].rstrip(" ")
    return ("" if not value or value[0] in _KEY_START else value), at


def _past_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at] == " ":
        at += 1
    return at


def _closing_quote(value: str) -> int:
    """Where the quoted scalar ``value`` starts with ends on its line; -1 when it does not."""
    quote = value[0]
    at = 1
    while at < len(value):
        char = value[at]
        if quote == '"' and char == "\\":
            at += 2
            continue
        if char == quote:
            if quote == "'" and value[at + 1 : at + 2] == "'":
                at += 2  # '' is a quote inside single quotes
                continue
            return at
        at += 1
    return -1

"""Reading one YAML file into plain data while keeping where every value came from.

libyaml's C parser and composer build the node tree (with a line and column on every node);
this module then builds the Python data from that tree in one pass. PyYAML's own constructor
is not used: on a large estate it costs several times what libyaml does, and its YAML 1.1
rules are the traps this module closes:

* the YAML 1.2 core schema, as editors' YAML language servers read the same file: only
  ``true``/``false`` are booleans (a usage location of ``NO``, Norway, stays ``"NO"``),
  ``2026-12-31`` and ``1:30`` are strings, ``0777`` is the number 777; the models parse
  dates from strings where they expect one;
* duplicate keys, which PyYAML silently resolves to the last one, are errors;
* tags other than YAML's own scalar and collection tags (``!x``, ``!!python/...``,
  ``!!binary``, ``!!set``) are errors at their location, never a traceback;
* anchors and aliases work (shared user defaults through ``<<: *defaults``), but an alias
  that refers to its own ancestor, or aliases that expand to an enormous document, are
  errors: the models would otherwise walk them forever.

The node tree is kept only while its file is validated, and only consulted when a problem
needs a location.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.errors import Diagnostic

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


Loc = Sequence[str | int]


@dataclass
class SourceFile:
    """One parsed YAML document: its data, and what is needed to locate values in it.

    The node tree (line and column of every value) is composed from ``text`` the first time
    a location is asked for, so a file without problems never pays for it.
    """

    path: str
    data: Any
    text: str | None = field(default=None, repr=False)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _root: Node | None = field(default=None, init=False, repr=False)

    @property
    def root(self) -> Node | None:
        if self._root is None and self.text is not None:
            composer = _Composer(self.text)
            try:
                self._root = composer.get_single_node()
            except yaml.YAMLError:  # pragma: no cover - the same text already parsed once
                self.text = None
            finally:
                composer.dispose()
        return self._root

    def locate(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at ``loc`` (of its key when ``key``).

        Elements of ``loc`` that are not in the document (pydantic's union tags, a missing
        field) are skipped: the deepest existing node is reported.
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
        return _within(self.text or "", target.start_mark.line + 1, target.start_mark.column + 1)

    def path_text(self, loc: Loc) -> str:
        """``spec.users[3].userPrincipalName`` for a loc, keeping only the parts that are in
        the document plus a final missing field name."""
        parts: list[str] = []
        data = self.data
        for index, element in enumerate(loc):
            if isinstance(data, dict) and element in data:
                parts.append(f".{element}")
                data = data[element]
            elif isinstance(data, list) and isinstance(element, int) and 0 <= element < len(data):
                parts.append(f"[{element}]")
                data = data[element]
            elif index == len(loc) - 1 and isinstance(element, str) and isinstance(data, dict):
                parts.append(f".{element}")
        return "".join(parts).lstrip(".")

    def diagnostic(self, loc: Loc, message: str, *, key: bool = False) -> Diagnostic:
        line, column = self.locate(loc, key=key)
        return Diagnostic(self.path, line, column, self.path_text(loc), message)

    def where(self, loc: Loc) -> str:
        """``file:line:col`` of the value at ``loc``, for a message that names a second place."""
        line, column = self.locate(loc)
        return f"{self.path}:{line}:{column}"


def _child(node: Node, element: str | int) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode):
        wanted = str(element)
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.append(value_node)
            elif isinstance(key_node, ScalarNode) and key_node.value == wanted:
                return key_node, value_node
        for value_node in merged:  # a key that came in through << *anchor
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                found = _child(source, element) if isinstance(source, MappingNode) else None
                if found is not None:
                    return found
        return None
    if (
        isinstance(node, SequenceNode)
        and isinstance(element, int)
        and 0 <= element < len(node.value)
    ):
        item = node.value[element]
        return item, item
    return None


def _syntax_message(problem: yaml.MarkedYAMLError) -> str:
    message = problem.problem or "not valid YAML"
    if problem.context:
        context = problem.context
        mark, at = problem.context_mark, problem.problem_mark
        if mark is not None and (at is None or (mark.line, mark.column) != (at.line, at.column)):
            context += f" (line {mark.line + 1}, column {mark.column + 1})"
        message = f"{message} {context}" if context.startswith("while") else f"{context}: {message}"
    return message


def parse_yaml(text: str, path: str) -> SourceFile:
    """Parse one YAML document. Problems come back as diagnostics, never as exceptions."""

    def failed(line: int, column: int, message: str) -> SourceFile:
        line, column = _within(text, line, column)
        return SourceFile(path, None, None, [Diagnostic(path, line, column, "", message)])

    try:
        built = _build(text)
        if built.aliased and _expanded_size(built.data, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
            return failed(1, 1, f"aliases expand this document past {MAX_EXPANDED_NODES:,} values")
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return failed(line, column, _syntax_message(problem))
    except yaml.reader.ReaderError as problem:  # a character YAML does not allow
        line, column = _line_column(text, problem.position)
        return failed(line, column, f"character #x{problem.character:04X} is not allowed in YAML")
    except yaml.YAMLError as problem:  # pragma: no cover - libyaml's other errors carry marks
        return failed(1, 1, f"not valid YAML: {problem}")
    except UnicodeEncodeError as problem:  # a lone surrogate: not from a file read as UTF-8
        before = text[: problem.start]
        line, column = _line_column(before, len(before.encode()))
        return failed(line, column, "the text holds a character that is not valid Unicode")
    except _Invalid as problem:
        return failed(problem.mark.line + 1, problem.mark.column + 1, problem.message)
    except RecursionError:
        return failed(1, 1, "the document is nested too deeply")
    source = SourceFile(path, built.data, text)
    for duplicate in built.duplicates:
        first = _first_key_line(source.root, duplicate.parent, duplicate.key)
        path_text = "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in [*duplicate.parent, duplicate.key]
        ).lstrip(".")
        source.diagnostics.append(
            Diagnostic(
                path,
                duplicate.mark.line + 1,
                duplicate.mark.column + 1,
                path_text,
                f"duplicate key {duplicate.key!r}"
                + (f" (first at line {first})" if first else "")
                + "; YAML would keep only the last one: remove or rename one of them",
            )
        )
    return source


# The line breaks libyaml counts (YAML 1.1 also breaks lines at NEL and the Unicode separators).
_LINE_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


def _within(text: str, line: int, column: int) -> tuple[int, int]:
    """libyaml reports the end of the stream on a line after the last one when the file does
    not end with a line break: move such a place to the end of the last line."""
    lines = _LINE_BREAK.split(text)
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    return line, column


def _line_column(text: str | bytes, byte_offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset (libyaml counts UTF-8 bytes)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    lines = _LINE_BREAK.split(data[:byte_offset].decode("utf-8", "replace"))
    return len(lines), len(lines[-1]) + 1


def _first_key_line(root: Node | None, parent: Sequence[str | int], key: Any) -> int | None:
    node = root
    for element in parent:
        child = _child(node, element) if node is not None else None
        node = child[1] if child else None
    if isinstance(node, MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == str(key):
                return int(key_node.start_mark.line) + 1
    return None

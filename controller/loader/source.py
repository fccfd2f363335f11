"""Reading one YAML file into plain data while keeping where every value came from.

libyaml's C parser and composer build the node tree (with a line and column on every node);
:mod:`controller.loader._compose` builds the Python data from libyaml's events in one pass. PyYAML's own constructor
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
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.errors import Diagnostic
from controller.loader._compose import (
    _MERGE_TAG,
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    _build,
    _Composer,
    _expanded_size,
    _Invalid,
)
from controller.regular_files import nesting_exceeds

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
        if built.aliased and nesting_exceeds(built.data, MAX_DEPTH):
            return failed(1, 1, f"aliases nest this document deeper than {MAX_DEPTH} levels")
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

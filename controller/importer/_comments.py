"""Comments a person wrote in a tenant file, carried into the file ``import --force`` writes.

Pure: text in, text out. Both files are read with ruamel.yaml for the line of every key and
list item; an object is known by what identifies it (a user by ``userPrincipalName``, a group
by ``mailNickname``, an Exchange object by ``primarySmtpAddress``, a list entry by its value),
never by its position, so a comment follows its object when import sorts the file anew.

What is carried:

- the comment lines directly above a key or a list item (a blank line ends the block), unless
  import writes its own comment in that place (its note is about what it just observed);
- a comment at the end of a line, unless the new line has one.

What is not: the header above ``apiVersion`` (import writes its own), and comments of objects
the tenant no longer holds (there is nothing left to put them on).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

# The field that identifies an object in each list of a tenant file.
_IDENTITY_KEYS = ("userPrincipalName", "mailNickname", "primarySmtpAddress", "id")

Path = tuple[str, ...]


def carry_comments(old_text: str, new_text: str) -> str:
    """``new_text`` with the comments of ``old_text`` put back where their objects are.
    Returns ``new_text`` unchanged when either text cannot be read."""
    old_doc, new_doc = _load(old_text), _load(new_text)
    if old_doc is None or new_doc is None:
        return new_text
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    old_at = _lines_of(old_doc)
    new_at = _lines_of(new_doc)
    inserts: dict[int, list[str]] = {}
    carried_from: set[int] = set()  # old lines whose comments found a place already
    for path, old_line in old_at.items():
        new_line = new_at.get(path)
        if new_line is None or path == ("apiVersion",) or old_line in carried_from:
            continue
        carried_from.add(old_line)
        block = _comment_block_above(old_lines, old_line)
        if block and new_line not in inserts and not _comment_block_above(new_lines, new_line):
            indent = _indent(new_lines[new_line])
            inserts[new_line] = [indent + line.strip() for line in block]
        trailing = _trailing_comment(old_lines[old_line])
        if trailing and _trailing_comment(new_lines[new_line]) is None:
            new_lines[new_line] = f"{new_lines[new_line].rstrip()}  {trailing}"
    for line in sorted(inserts, reverse=True):
        new_lines[line:line] = inserts[line]
    return "\n".join(new_lines) + ("\n" if new_text.endswith("\n") else "")


def _load(text: str) -> Any:
    from ruamel.yaml import YAML  # round-trip reader: only import --force needs it
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="rt").load(io.StringIO(text))
    except YAMLError:
        return None


def _lines_of(document: Any) -> dict[Path, int]:
    """Each key's and list item's path (by identity) -> its line (0-based). A list item shares
    its line with its first key; an entry of a list written on one line (``[a, b]``), with its
    key."""
    lines: dict[Path, int] = {}
    for path, line in _walk(document, ()):
        lines.setdefault(path, line)
    return lines


def _walk(node: Any, path: Path) -> Iterator[tuple[Path, int]]:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        for key in node:
            here = (*path, str(key))
            yield here, node.lc.key(key)[0]
            yield from _walk(node[key], here)
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            here = (*path, _identity(item, index))
            yield here, node.lc.item(index)[0]
            yield from _walk(item, here)


def _identity(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in _IDENTITY_KEYS:
            if isinstance(item.get(key), str):
                return f"{key}={item[key].lower()}"
        return f"#{index}"
    if isinstance(item, str | int | float | bool):
        return f"={str(item).lower()}"
    return f"#{index}"


def _comment_block_above(lines: list[str], line: int) -> list[str]:
    block: list[str] = []
    above = line - 1
    while above >= 0 and lines[above].strip().startswith("#"):
        block.insert(0, lines[above])
        above -= 1
    return block


def _trailing_comment(line: str) -> str | None:
    """The ``# ...`` at the end of a line of YAML, outside quotes; None when there is none."""
    quote: str | None = None
    for i, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and i > 0 and line[i - 1] in " \t" and line[:i].strip():
            return line[i:].rstrip()
    return None


def _indent(line: str) -> str:
    """A line's leading blanks: a list item's comment goes at its dash."""
    return line[: len(line) - len(line.lstrip())]

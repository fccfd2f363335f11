"""Text from a tenant or a service, with every character that is not printable made visible.

Line breaks of every kind, terminal escape sequences and bidirectional overrides become escapes
(``\\n``, ``\\u001b``, ``\\u202e``): in a terminal table, a Markdown comment or an HTML page, a
name cannot start a new line, move the cursor or reverse the text that follows it.

Pure: no I/O.
"""

from __future__ import annotations

__all__ = ["printable"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(char: str) -> str:
    if char.isprintable():
        return char
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(value: str) -> str:
    """``value`` with its non-printable characters escaped (unchanged when it has none)."""
    if value.isprintable():
        return value
    return "".join(_visible(char) for char in value)

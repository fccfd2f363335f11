"""Text from a tenant or a service, made inert for a Markdown pull-request comment.

A display name, a service's error message or a finding may hold anything its author chose:
Markdown links and images (a tracking pixel), raw HTML, a closing ``</details>``, a line break
that starts a fake operation or a new heading, a ``@team`` mention. Each function here puts
such text in one context so that it renders as the same characters and nothing else:

- :func:`text`: inline prose (also table cells);
- :func:`code_span`: inline code, fenced by more backticks than the text holds;
- :func:`code_line`: a line inside a fenced code block;
- :func:`html`: inside an HTML element (``<summary>``);
- :func:`safe_link`: a URL only when it is a plain https URL, else ``None``.

Characters that are not printable (every kind of line break, bidirectional overrides) become
visible escapes (``\\n``, ``\\u2028``) in all of them.
"""

from __future__ import annotations

import html as html_module
import re

from controller.render._text import printable

__all__ = ["code_line", "code_span", "html", "safe_link", "text"]

# Characters that start Markdown or HTML constructs mid-line (links, images, emphasis, code,
# tables, HTML, entities). An underscore is left alone only between two letters or digits
# (snake_case), where CommonMark lets it neither open nor close emphasis; next to another
# underscore it is escaped, or "__0__" would render as emphasis.
_INLINE = re.compile(r"[\\`\[\]*~|]|(?<![^\W_])_|_(?![^\W_])")
# Text never starts a line (line breaks are escaped), but it may follow "- " or "> - ", where
# a heading, a nested list, a quote or indented code would still begin.
# (">" is an entity by then, which starts no quote.)
_BLOCK_START = re.compile(r"^(?:([#+=-])|([0-9]+)([.)]))")
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# A mention (@user, @org/team) starts at a word boundary; an address (a@b.com) does not.
_MENTION = re.compile(r"(?<![\w@])@(?=\w)")
# What GitHub would turn into a link without any syntax.
_BARE_LINK = re.compile(r"://|(?i:\bwww)\.")
_LINK = re.compile(r"https://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")


def text(value: str) -> str:
    """Inline prose: renders as exactly these characters, with no link, image, HTML,
    emphasis, table cell break or mention."""
    escaped = _INLINE.sub(lambda m: "\\" + m.group(0), printable(value))
    escaped = "".join(_ENTITY.get(char, char) for char in escaped)
    indent = len(escaped) - len(escaped.lstrip(" "))
    escaped = "&#32;" * indent + _BLOCK_START.sub(_block_escape, escaped[indent:])
    escaped = _BARE_LINK.sub(lambda m: m.group(0).replace("/", "\\/").replace(".", "\\."), escaped)
    # U+2060 WORD JOINER: invisible, and no mention follows it.
    return _MENTION.sub("@\u2060", escaped)


def _block_escape(match: re.Match[str]) -> str:
    marker, number, dot = match.groups()
    # "1." cannot take a backslash before the digit; the dot (or parenthesis) after it does.
    return "\\" + marker if marker else f"{number}\\{dot}"


def code_span(value: str, *, in_table: bool = False) -> str:
    """Inline code. In a table a ``|`` would still end the cell, so it is escaped there."""
    content = printable(value)
    if in_table:
        content = content.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def code_line(value: str) -> str:
    """One line inside a fenced (backtick) code block: it cannot close the block."""
    return printable(value).replace("```", "'''")


def html(value: str) -> str:
    """Text inside an HTML element."""
    return html_module.escape(printable(value), quote=True)


def safe_link(url: str | None) -> str | None:
    """``url`` when it is a plain https URL that cannot break out of ``<...>`` or ``(...)``."""
    return url if url and _LINK.fullmatch(url) else None

"""Reading the report's HTML the way a browser's parser does, for the tests: every element with
its attributes, the text, and every link checked to resolve inside the report."""

from __future__ import annotations

import html.parser
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

# Elements that may never appear: scripts, anything that loads or embeds, forms.
FORBIDDEN = frozenset(
    {"script", "iframe", "object", "embed", "form", "img", "video", "audio", "base", "frame"}
)


@dataclass
class Page:
    path: str
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.tags if "id" in attrs}

    @property
    def joined_text(self) -> str:
        return "".join(self.text)


class _Parser(html.parser.HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.page.text.append(data)


def parse(path: str, text: str) -> Page:
    page = Page(path)
    parser = _Parser(page)
    parser.feed(text)
    parser.close()
    return page


def broken_links(pages: Mapping[str, str]) -> list[str]:
    """Every ``href`` and ``src`` that does not resolve to a page (and anchor) of the report.

    Allowed besides: ``data:`` for the empty favicon, and ``https://`` links to the admin
    portals (manual steps) on ``<a>`` only: nothing is ever *loaded* from outside."""
    parsed = {path: parse(path, text) for path, text in pages.items()}
    problems = []
    for path, page in parsed.items():
        for tag, attrs in page.tags:
            for attr in ("href", "src"):
                if attr not in attrs:
                    continue
                problem = _check(path, tag, attr, attrs[attr], parsed)
                if problem:
                    problems.append(f"{path}: <{tag} {attr}={attrs[attr]!r}>: {problem}")
    return problems


def _check(path: str, tag: str, attr: str, value: str, pages: Mapping[str, Page]) -> str | None:
    parts = urlsplit(value)
    if parts.scheme == "data":
        return None if (tag, attr) == ("link", "href") else "data: only for the favicon"
    if parts.scheme == "https":
        return None if (tag, attr) == ("a", "href") else "loads from outside the report"
    if parts.scheme or parts.netloc:
        return f"scheme {parts.scheme or '//'} leaves the report"
    target = path
    if parts.path:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(parts.path)))
    if target not in pages:
        return "no such page in the report"
    if parts.fragment and parts.fragment not in pages[target].ids:
        return f"no id {parts.fragment!r} in {target}"
    return None

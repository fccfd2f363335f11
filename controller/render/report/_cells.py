"""Table cells the templates print many times (a user row has seven): plain functions rather
than template macros, which cost ten times as much per call at 100,000 rows. Each returns
text, which autoescape escapes, or :class:`Markup` built only from escaped text.

:func:`row` goes one step further for the inventory tables (100,000 user rows at 1,000
tenants): the whole ``<tr>`` is built here, each cell escaped exactly as the templates'
autoescape and ``finalize`` would (non-printable characters made visible, then HTML-escaped).

Pure: no I/O.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from markupsafe import Markup, escape

from controller.render._text import printable
from controller.render.documents import DeclaredAt
from controller.render.get import declared_cell

__all__ = ["badge", "git", "listed", "row", "tone", "yes_no"]

_TONES = {
    "active": "ok",
    "granted": "ok",
    "working (direct)": "ok",
    "working (cipp)": "ok",
    "complete": "ok",
    "succeeded": "ok",
    "expiring": "warn",
    "partial": "warn",
    "propagating": "warn",
    "pending": "warn",
    "unfinished": "warn",
    "warning": "warn",
    "expired": "bad",
    "none": "bad",
    "failed": "bad",
    "unknown": "bad",
    "high": "bad",
    "not managed": "muted",
    "info": "muted",
}


def tone(status: str) -> str:
    """The badge colour of a status (the text always says the status too)."""
    return _TONES.get(status, "muted")


def badge(status: str) -> Markup:
    """A status in words, coloured by what it means."""
    return Markup(f'<span class="badge badge-{tone(status)}">{escape(printable(status))}</span>')


def git(declared: DeclaredAt | None) -> Markup:
    """The GIT cell: where git declares the object, or "no"."""
    if declared is None:
        return Markup("no")
    return Markup(f"<code>{escape(printable(declared_cell(declared)))}</code>")


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def listed(values: Sequence[str] | None) -> str:
    if values is None:
        return "unknown"
    return ", ".join(values) if values else "none"


def _cell(value: object) -> str:
    if isinstance(value, Markup):
        return str(value)
    if value is None:
        return "\u2013"
    # html.escape escapes what markupsafe does (& < > " '), at half the cost per call.
    return html.escape(printable(str(value)), quote=True)


def row(cells: Sequence[object]) -> Markup:
    """``<tr>``: the first cell, which names the object, as the row's header."""
    first, *rest = (_cell(c) for c in cells)
    data = "".join(f"<td>{c}</td>" for c in rest)
    return Markup(f'<tr><th scope="row">{first}</th>{data}</tr>')

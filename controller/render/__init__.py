"""Views of a plan: terminal text, Markdown for a pull-request comment, and JSON (the contract).

Pure: each renderer is a function of a :class:`~controller.plan.Plan` to a string; printing
and writing files is the CLI's job.

The names below are imported when first used (PEP 562): importing one light module of the
package (``controller.render._document``, what ``validate`` prints) does not import the
planner behind the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller._lazy import lazy_names

if TYPE_CHECKING:
    from controller.render._summary import summary_line
    from controller.render.accounting import render_accounting
    from controller.render.json_format import render_json
    from controller.render.markdown import MARKER, render_markdown
    from controller.render.terminal import render_terminal

__getattr__ = lazy_names(
    __name__,
    {
        "MARKER": "controller.render.markdown",
        "render_accounting": "controller.render.accounting",
        "render_json": "controller.render.json_format",
        "render_markdown": "controller.render.markdown",
        "render_terminal": "controller.render.terminal",
        "summary_line": "controller.render._summary",
    },
)

__all__ = [
    "MARKER",
    "render_accounting",
    "render_json",
    "render_markdown",
    "render_terminal",
    "summary_line",
]

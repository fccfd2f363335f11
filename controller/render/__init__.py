"""Views of a plan: terminal text, Markdown for a pull-request comment, and JSON (the contract).

Pure: each renderer is a function of a :class:`~controller.plan.Plan` to a string; printing
and writing files is the CLI's job.
"""

from controller.render.accounting import render_accounting
from controller.render.json_format import render_json
from controller.render.markdown import MARKER, render_markdown
from controller.render.terminal import render_terminal

__all__ = ["MARKER", "render_accounting", "render_json", "render_markdown", "render_terminal"]

"""Licence usage as a horizontal bar chart: the geometry an inline SVG is drawn from.

One bar per SKU: the track is the units the tenant has, the filled part the units assigned
(red where more are assigned than it has). Every bar is on one scale, the largest SKU's, so
bars compare. The numbers are also in the chart's text and in a table beside it: the chart is
never the only way to read them (it carries a ``<title>`` and a ``<desc>`` for screen readers).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarChart", "licence_chart"]

# The SKU names sit left of the bars: about 8 px a character at the chart's 13 px font.
LABEL_CHAR = 8
LABEL_MIN, LABEL_MAX = 120, 360
TRACK_WIDTH = 320
VALUE_WIDTH = 120  # "20 of 25 used", right of the bars
BAR_HEIGHT = 18
ROW_HEIGHT = 28
TOP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    used: int
    total: int
    y: int  # top of the bar
    text_y: int  # baseline of its label and value
    track: float  # width of the units the tenant has
    filled: float  # width of the units assigned, up to the track
    over: float  # width of the units assigned beyond what it has (0 when none)

    @property
    def value(self) -> str:
        return f"{self.used} of {self.total} used"


@dataclass(frozen=True)
class BarChart:
    id: str  # unique in its page: ties the SVG to its title and description
    title: str
    bars: tuple[Bar, ...]
    track_x: int  # where the bars start, right of the longest label
    bar_height: int = BAR_HEIGHT

    @property
    def value_x(self) -> int:
        return self.track_x + TRACK_WIDTH + 8

    @property
    def width(self) -> int:
        return self.track_x + TRACK_WIDTH + VALUE_WIDTH

    @property
    def height(self) -> int:
        return TOP * 2 + ROW_HEIGHT * max(len(self.bars), 1)

    @property
    def description(self) -> str:
        """The chart's numbers in words, for a screen reader."""
        if not self.bars:
            return "No licences."
        return "; ".join(f"{bar.label}: {bar.value}" for bar in self.bars) + "."


def licence_chart(chart_id: str, title: str, skus: Sequence[tuple[str, int, int]]) -> BarChart:
    """A chart of ``(label, used, total)`` per SKU, in the order given."""
    scale_max = max((max(used, total) for _, used, total in skus), default=0)
    scale = TRACK_WIDTH / scale_max if scale_max > 0 else 0.0
    bars = []
    for row, (label, used, total) in enumerate(skus):
        y = TOP + row * ROW_HEIGHT
        within = min(max(used, 0), max(total, 0))
        bars.append(
            Bar(
                label=label,
                used=used,
                total=total,
                y=y,
                text_y=y + BAR_HEIGHT - 4,
                track=round(max(total, 0) * scale, 1),
                filled=round(within * scale, 1),
                over=round(max(used - max(total, 0), 0) * scale, 1),
            )
        )
    longest = max((len(label) for label, _, _ in skus), default=0)
    track_x = min(max(LABEL_CHAR * longest + 16, LABEL_MIN), LABEL_MAX)
    return BarChart(id=chart_id, title=title, bars=tuple(bars), track_x=track_x)

"""Small charts drawn on the server as inline SVG (no chart library, nothing fetched):
a source's new and accepted items per week. Built from counts only; the one piece of
text, the chart's label, is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = 4  # px per week
HEIGHT = 24


def weekly_bars(new: Sequence[int], accepted: Sequence[int], label: str) -> Markup:
    """One bar a week, oldest first: its height the week's new items (grey), with the
    accepted ones drawn over it (green); scaled to the busiest week."""
    peak = max([*new, 1])
    width = BAR * len(new)
    bars = []
    for week, (seen, taken) in enumerate(zip(new, accepted, strict=True)):
        x = week * BAR
        for count, colour in ((seen, "#9aa5b1"), (min(taken, seen), "#2f855a")):
            if count:
                height = max(1, round(HEIGHT * count / peak))
                bars.append(
                    f'<rect x="{x}" y="{HEIGHT - height}" width="{BAR - 1}" height="{height}" '
                    f'fill="{colour}"/>'
                )
    text = escape(label)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="weekly" width="{width}" '
        f'height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{text}">'
        f"<title>{text}</title>{''.join(bars)}</svg>"
    )

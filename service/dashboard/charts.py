"""Light charts as inline SVG, rendered on the server: no JavaScript, no chart library.

One function, for any list of labelled whole numbers::

    from service.dashboard.charts import bar_chart

    bar_chart(_("Revenue by week"), [("03/11", 450_000), ("10/11", 0)], value_text=format_vnd)
    bar_chart(_("Top products"), [("Nước mắm", 12), ("Giỏ tre", 3)], horizontal=True)
    bar_chart(_("Occupancy"), [("03/11", 40)], value_text=lambda v: f"{v} %", max_value=100)

It returns ``Markup`` to place in a template as is (labels are escaped here). The SVG has
``role="img"``, an ``aria-label`` and a ``<title>`` naming the chart; its numbers are not read out,
so always put the same data in a table next to it (the table is the accessible version).
Columns (the default) suit a time series; ``horizontal=True`` bars suit a ranking with long labels.
Colours come from presentation attributes and the ``chart`` class, so a page's CSS may restyle it
(``svg.chart .bar{fill:...}``) and no inline style is needed (CSP).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 640
BAR_COLOUR = "#1f6f50"
TEXT_COLOUR = "#222"
LABEL_CHARS = 26  # a horizontal bar's label is cut here (the table has it whole)


def bar_chart(title: str, data: Sequence[tuple[str, int]], *, value_text: Callable[[int], str] = str,
              horizontal: bool = False, max_value: int | None = None) -> Markup:
    """An SVG bar chart of ``data`` (label, value ≥ 0); ``value_text`` writes a value for people."""
    top = max([max_value or 0, *(value for _, value in data), 1])
    if horizontal:
        body, height = _bars(data, top, value_text)
    else:
        body, height = _columns(data, top, value_text)
    label = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{label}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" '
        f'font-size="12" fill="{TEXT_COLOUR}"><title>{label}</title>{body}</svg>'
    )


def _bars(data: Sequence[tuple[str, int]], top: int, value_text: Callable[[int], str]) -> tuple[str, int]:
    """One row per item: label on the left, the bar, its value after it."""
    row, label_width, value_room = 24, 190, 110
    room = WIDTH - label_width - value_room
    parts = []
    for index, (label, value) in enumerate(data):
        y = 8 + index * row
        length = round(room * max(value, 0) / top)
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length}" height="{row - 8}" fill="{BAR_COLOUR}"/>'
            f'<text x="{label_width + length + 4}" y="{y + 13}">{escape(value_text(value))}</text>'
        )
    return "".join(parts), 16 + max(len(data), 1) * row


def _columns(data: Sequence[tuple[str, int]], top: int, value_text: Callable[[int], str]) -> tuple[str, int]:
    """One column per item, labels under them (every other one when they would crowd), the top value on the axis."""
    height, base, left = 200, 170, 8
    plot = base - 24
    step = (WIDTH - left * 2) / max(len(data), 1)
    label_every = 1 if step >= 44 else 2 if step >= 22 else 4
    parts = [f'<line x1="{left}" y1="{base}" x2="{WIDTH - left}" y2="{base}" stroke="#999"/>',
             f'<text x="{left}" y="12">{escape(value_text(top))}</text>',
             f'<line x1="{left}" y1="{base - plot}" x2="{WIDTH - left}" y2="{base - plot}" stroke="#ddd"/>']
    for index, (label, value) in enumerate(data):
        x = left + index * step
        bar_height = round(plot * max(value, 0) / top)
        parts.append(f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{base - bar_height}" '
                     f'width="{step * 0.7:.1f}" height="{bar_height}" fill="{BAR_COLOUR}"/>')
        if index % label_every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>')
    return "".join(parts), height

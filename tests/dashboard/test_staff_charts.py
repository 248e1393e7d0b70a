"""The dashboard's pure pieces: SVG bar charts and week periods in Hội An's time zone."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

from service.core.money import format_vnd
from service.dashboard.charts import bar_chart
from service.dashboard.services import local_midnight, period_of

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_a_column_chart_is_accessible_svg_with_escaped_labels():
    chart = parse(bar_chart("Doanh thu <tuần> & đơn", [("03/11", 150_000), ("10/11", 0), ("<b>", 300_000)],
                            value_text=format_vnd))
    assert chart.tag == NS + "svg" and chart.get("role") == "img"
    assert chart.get("aria-label") == "Doanh thu <tuần> & đơn" == chart.find(NS + "title").text
    bars = chart.findall(NS + "rect")
    assert [int(bar.get("height")) for bar in bars] == [73, 0, 146]  # scaled to the largest
    texts = [t.text for t in chart.iter(NS + "text")]
    assert "300.000 ₫" in texts and "<b>" in texts  # the axis' top value; the label escaped, then read back


def test_a_bar_chart_ranks_long_labels_and_an_empty_one_is_still_valid():
    chart = parse(bar_chart("Top", [("Nước mắm cá cơm Cửa Đại loại đặc biệt", 12), ("Giỏ tre", 3)],
                            horizontal=True))
    widths = [int(bar.get("width")) for bar in chart.findall(NS + "rect")]
    assert widths[0] == 4 * widths[1]
    assert "Nước mắm cá cơm Cửa Đại l…" in [t.text for t in chart.iter(NS + "text")]
    empty = parse(bar_chart("Nothing yet", []))
    assert empty.findall(NS + "rect") == [] and empty.find(NS + "title").text == "Nothing yet"


def test_a_percentage_chart_scales_to_its_maximum():
    chart = parse(bar_chart("Occupancy", [("a", 50), ("b", 25)], value_text=lambda v: f"{v} %", max_value=100))
    assert [int(bar.get("height")) for bar in chart.findall(NS + "rect")] == [73, 36]


def test_periods_are_whole_weeks_from_monday_in_hoi_an():
    period = period_of(12, today=date(2026, 11, 28))  # a Saturday
    assert (period.start, period.last_day, period.end) == (date(2026, 9, 7), date(2026, 11, 29), date(2026, 11, 30))
    assert len(period.week_starts) == 12 and all(monday.weekday() == 0 for monday in period.week_starts)
    assert period_of(4, today=date(2026, 11, 30)).start == date(2026, 11, 9)  # a Monday is its week's first day
    assert period_of(7, today=date(2026, 11, 28)).weeks == 12  # only the offered lengths
    assert period_of(None, today=date(2026, 11, 28)).weeks == 12
    # a local day starts at 17:00 UTC the day before
    assert local_midnight(date(2026, 11, 30)).astimezone(UTC) == datetime(2026, 11, 29, 17, tzinfo=UTC)

"""The staff dashboard at /c/<slug>/admin/: known orders, bookings, reports and feeds give known numbers,
in Vietnamese and in English, with well-formed accessible SVG charts, for this commune only."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.admin.helpers import sign_in, text
from tests.dashboard.staff_world import Staff, build_all, week

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def rows_of(page: str, table_id: str) -> list[list[str]]:
    """The body rows of a table of the page, as the cells' text."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert table, table_id
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    assert body is not None
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def charts_of(page: str) -> list[ET.Element]:
    found = [ET.fromstring(svg) for svg in SVG.findall(page)]
    for chart in found:
        assert chart.get("role") == "img" and chart.get("aria-label")
        title = chart.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and title.text == chart.get("aria-label")
    return found


def test_staff_see_the_weeks_orders_bookings_reports_and_feeds(app, client, world, db_session):
    build_all(app, world)
    sign_in(client, db_session, Staff.editor)
    response = client.get("/c/cam-thanh/admin/")
    assert response.status_code == 200
    page = text(response)
    assert "Đơn hàng và doanh thu theo tuần" in page
    sales = rows_of(page, "orders-by-week")
    assert len(sales) == 12 and sales[0][0] == week(0).strftime("%d/%m/%Y")
    assert sales[4] == [week(4).strftime("%d/%m/%Y"), "1", "345.000 ₫"]
    assert sales[10][1:] == ["0", "0 ₫"]  # the Monday 00:30 order is not last week's
    assert sales[11] == [week(11).strftime("%d/%m/%Y"), "2", "300.000 ₫"]
    assert sum(int(row[1]) for row in sales) == 3
    assert "645.000 ₫" in page  # the total: another commune's order (750.000) never counts
    assert rows_of(page, "top-products") == [["Nước mắm cá cơm", "4", "600.000 ₫", "3"],
                                             ["Giỏ tre", "1", "45.000 ₫", "1"]]
    assert rows_of(page, "top-sellers") == [["Cơ sở Tư Tài Cẩm Thanh", "3", "600.000 ₫"],
                                            ["HTX Rau Cẩm Thanh", "1", "45.000 ₫"]]
    stays = rows_of(page, "occupancy")
    assert stays[10] == [week(10).strftime("%d/%m/%Y"), "1", "3", "12", "25 %"]
    assert stays[9] == [week(9).strftime("%d/%m/%Y"), "0", "0", "14", "0 %"]
    reports = dict(row for row in rows_of(page, "reports-by-status"))  # type: ignore[misc]
    assert (reports["Mới gửi"], reports["Đã xử lý xong"], reports["Đang xử lý"]) == ("2", "1", "0")
    assert "1 quá hạn" in page and "/c/cam-thanh/admin/reports?overdue=1" in page
    feeds = rows_of(page, "feed-health")
    assert [row[1:3] for row in feeds] == [["0", "2"], ["0", "2"]]  # two published products, no photo yet
    assert "/c/cam-thanh/admin/feeds" in page
    # what the old home page showed: product counts by status, the review queue
    assert "/c/cam-thanh/admin/moderation" in page and "Hàng chờ duyệt: 1" in page
    assert "Tổng cộng 4 sản phẩm." in page
    assert len(charts_of(page)) == 7
    assert 'name="weeks"' in page and "/c/cam-thanh/admin/dashboard/orders_by_week.csv?weeks=12" in page


def test_the_dashboard_in_english_and_over_four_weeks(app, client, world, db_session):
    build_all(app, world)
    sign_in(client, db_session, Staff.admin)
    page = text(client.get("/c/cam-thanh/admin/", query_string={"lang": "en", "weeks": 4}))
    assert "Orders and revenue by week" in page and "Homestay bookings and occupancy" in page
    assert '<option value="4" selected>Last 4 weeks</option>' in page
    sales = rows_of(page, "orders-by-week")
    assert len(sales) == 4 and sales[0][0] == week(0, 4).strftime("%d/%m/%Y")
    assert sum(int(row[1]) for row in sales) == 2  # the order of seven weeks ago is outside
    assert rows_of(page, "top-products")[0] == ["Nước mắm cá cơm", "2", "300.000 ₫", "2"]
    assert "Photo: missing (2)" in page
    assert "1 overdue (open, past the deadline)" in page
    assert len(charts_of(page)) == 7
    # an unknown period falls back to twelve weeks
    assert len(rows_of(text(client.get("/c/cam-thanh/admin/?weeks=5")), "orders-by-week")) == 12


def test_an_empty_commune_renders_with_zeroes(client, world, db_session):
    sign_in(client, db_session, Staff.admin)
    page = text(client.get("/c/cam-thanh/admin/?weeks=26"))
    assert len(rows_of(page, "orders-by-week")) == 26
    assert all(row[1:] == ["0", "0 ₫"] for row in rows_of(page, "orders-by-week"))
    assert all(row[1:] == ["0", "0", "0", "0 %"] for row in rows_of(page, "occupancy"))
    assert "Chưa có đơn hàng nào trong khoảng thời gian này." in page
    assert len(charts_of(page)) == 4  # no ranking to draw: its table's place says so


def test_another_commune_sees_only_its_own(app, client, world, db_session):
    build_all(app, world)
    sign_in(client, db_session, "admin@nam-phuoc.test")
    page = text(client.get("/c/nam-phuoc/admin/"))
    sales = rows_of(page, "orders-by-week")
    assert sales[11][1:] == ["1", "750.000 ₫"] and sum(int(row[1]) for row in sales) == 1
    assert rows_of(page, "top-sellers") == [["Cơ sở Tư Tài Nam Phước", "1", "750.000 ₫"]]
    assert rows_of(page, "occupancy")[10][1:] == ["1", "5", "7", "71 %"]


def test_volunteers_keep_the_product_counts_page(client, world, db_session):
    sign_in(client, db_session, Staff.volunteer)
    page = text(client.get("/c/cam-thanh/admin/"))
    assert "Sản phẩm bạn quản lý" in page and "<svg" not in page

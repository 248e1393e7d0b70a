"""CSV export of each dashboard table: Excel-friendly (BOM, CRLF), the page's numbers, formula-safe cells,
for the commune's staff only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.catalog.models import Seller
from service.db import Scope, database
from tests.admin.helpers import sign_in
from tests.dashboard.staff_world import Staff, build_all, week

TABLES = ("orders_by_week", "top_products", "top_sellers", "occupancy", "reports_by_status", "feed_health")


def download(client, table, **args):
    response = client.get(f"/c/cam-thanh/admin/dashboard/{table}.csv", query_string=args)
    assert response.status_code == 200, table
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    return response, list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_each_table_downloads_with_the_pages_numbers(app, client, world, db_session):
    build_all(app, world)
    with database(app).session(Scope(world.a.id)) as session:  # a seller's name that Excel would run
        session.scalars(select(Seller).where(Seller.id == world.a.sellers["own"])).one().name = "=HYPERLINK(1)"
        session.commit()
    sign_in(client, db_session, Staff.admin)
    response, rows = download(client, "orders_by_week")
    last_day = week(11) + timedelta(days=6)  # the Sunday ending this week
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="cam-thanh-orders-by-week-{week(0).isoformat()}_{last_day.isoformat()}.csv"')
    assert rows[0] == ["Tuần bắt đầu từ", "Đơn hàng", "Doanh thu (đồng)"]
    assert len(rows) == 13
    assert rows[5] == [week(4).strftime("%d/%m/%Y"), "1", "345000"]
    assert rows[12] == [week(11).strftime("%d/%m/%Y"), "2", "300000"]
    _, rows = download(client, "top_products")
    assert rows == [["Sản phẩm", "Số lượng đã bán", "Doanh thu (đồng)", "Đơn hàng"],
                    ["Nước mắm cá cơm", "4", "600000", "3"], ["Giỏ tre", "1", "45000", "1"]]
    _, rows = download(client, "top_sellers", lang="en")
    assert rows == [["Seller", "Orders", "Revenue (đồng)"], ["'=HYPERLINK(1)", "3", "600000"],
                    ["HTX Rau Cẩm Thanh", "1", "45000"]]
    _, rows = download(client, "occupancy", weeks=4, lang="vi")
    assert rows[0][-1] == "Công suất phòng (%)" and len(rows) == 5
    assert rows[3] == [week(2, 4).strftime("%d/%m/%Y"), "1", "3", "12", "25"]
    response, rows = download(client, "reports_by_status", lang="en")
    assert "cam-thanh-field-reports-by-status-" in response.headers["Content-Disposition"]
    counts = dict(rows[1:])
    assert (counts["Submitted"], counts["Resolved"], counts["Overdue (open, past the deadline)"]) == ("2", "1", "1")
    _, rows = download(client, "feed_health", lang="en")
    assert rows[0] == ["Marketplace", "Products in the feed", "Products left out", "Commonest reasons"]
    assert [row[1:3] for row in rows[1:]] == [["0", "2"], ["0", "2"]]
    assert "Photo: missing (2)" in rows[1][3]


def test_the_name_tells_the_period(app, client, world, db_session):
    sign_in(client, db_session, Staff.editor)
    response, rows = download(client, "orders_by_week", weeks=26)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="cam-thanh-orders-by-week-{week(0, 26).isoformat()}_'
        f'{(week(25, 26) + timedelta(days=6)).isoformat()}.csv"')
    assert len(rows) == 27 and all(row[1:] == ["0", "0"] for row in rows[1:])
    for table in TABLES:  # an empty commune: every table still downloads, header first
        assert download(client, table)[1][0]


@pytest.mark.parametrize("who, status", [(None, 302), (Staff.seller, 403), (Staff.volunteer, 403),
                                         (Staff.other_commune_admin, 404)])
def test_only_the_communes_staff_may_download(client, world, db_session, who, status):
    if who:
        sign_in(client, db_session, who)
    response = client.get("/c/cam-thanh/admin/dashboard/orders_by_week.csv")
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/login?next=")
    assert b"Week" not in response.get_data() and "attachment" not in response.headers.get("Content-Disposition", "")


def test_an_unknown_table_is_not_found(client, world, db_session):
    sign_in(client, db_session, Staff.admin)
    assert client.get("/c/cam-thanh/admin/dashboard/users.csv").status_code == 404

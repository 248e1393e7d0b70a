"""The products CSV: Excel-friendly bytes, preset and custom columns, no formula injection."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from service.db import Scope, scoped
from service.feeds import csv_feed
from service.feeds.access import settings_for
from service.feeds.formats import FeedContext
from service.feeds.items import FeedItem

URL = "/c/cam-thanh/feeds/products.csv"


def _parse(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    text = body[3:].decode("utf-8")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


def _item(**overrides) -> FeedItem:
    values = dict(id="cam-thanh-1", product_id=1, slug="x", title="Nước mắm", description="Ngon",
                  link="https://xaso.test/c/cam-thanh/products/x",
                  image_links=[f"https://x.test/{n}.jpg" for n in range(7)],
                  price=150000, currency="VND", availability="in_stock", stock=3, condition="new", brand="Tư Tài",
                  gtin="", product_type="Cẩm Thanh > Nước mắm", category="Nước mắm", unit="chai", weight_grams=700,
                  seller="Tư Tài", seller_village="Thôn 2", commune="Cẩm Thanh", province="Quảng Nam", ocop_stars=4,
                  ocop_certificate="OCOP-01", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    return FeedItem(**(values | overrides))


class _Settings:
    def __init__(self, preset="postmart", columns=None):
        self.csv_preset = preset
        self.csv_columns = columns or []


def _render(items, **settings) -> list[list[str]]:
    context = FeedContext(tenant=None, settings=_Settings(**settings), language="vi", link="")  # type: ignore[arg-type]
    return _parse(b"".join(csv_feed.render(items, context)))


def test_postmart_preset_through_the_feed_url(client, world):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    rows = _parse(response.data)
    assert rows[0] == [c["header"] for c in csv_feed.PRESETS["postmart"]]
    assert "Giá bán (VNĐ)" in rows[0] and "Ảnh 5" in rows[0] and "Xuất xứ" in rows[0]
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    by_title = {r["Tên sản phẩm"]: r for r in records}
    assert set(by_title) == {"Nước mắm cá cơm", "Giỏ tre"}  # published only
    sauce = by_title["Nước mắm cá cơm"]
    assert sauce["Giá bán (VNĐ)"] == "150000"
    assert sauce["Mã sản phẩm (SKU)"] == f"cam-thanh-{world.a.products['published']}"
    assert sauce["Xuất xứ"] == "Cẩm Thanh, Quảng Nam"
    assert sauce["OCOP (sao)"] == "4"
    assert sauce["Thương hiệu"].startswith("Cơ sở Tư Tài")


def test_images_money_and_generic_preset():
    rows = _render([_item()], preset="generic")
    header, row = rows
    record = dict(zip(header, row, strict=True))
    assert record["price"] == "150000" and record["weight_grams"] == "700"
    assert record["additional_image_links"].split(",")[0] == "https://x.test/1.jpg"
    postmart = _render([_item()])
    record = dict(zip(postmart[0], postmart[1], strict=True))
    assert [record[f"Ảnh {n}"] for n in range(1, 6)] == [f"https://x.test/{n}.jpg" for n in range(5)]
    assert record["Khối lượng (gram)"] == "700"


def test_custom_mapping_overrides_the_preset():
    columns = csv_feed.parse_mapping("SKU | id\nTên | title\n\nGiá | price_vnd\nẢnh chính | image_1\n")
    rows = _render([_item()], columns=columns)
    assert rows == [["SKU", "Tên", "Giá", "Ảnh chính"],
                    ["cam-thanh-1", "Nước mắm", "150000", "https://x.test/0.jpg"]]


@pytest.mark.parametrize(("text", "line"), [
    ("SKU | nope", 1), ("SKU id", 1), ("SKU | id\n | title", 2), ("X" * 101 + " | id", 1), ("", 0),
    ("\n".join(f"C{n} | id" for n in range(61)), 0),
])
def test_mapping_validation(text, line):
    with pytest.raises(csv_feed.ColumnError) as caught:
        csv_feed.parse_mapping(text)
    assert caught.value.line == line


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"])
def test_formula_injection_is_neutralised(evil):
    rows = _render([_item(title=evil, description=evil)])
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Tên sản phẩm"] == "'" + evil
    assert record["Mô tả"] == "'" + evil


def test_stored_custom_columns_apply_to_the_feed(client, db_session, world):
    with scoped(db_session, Scope(world.a.id)):
        settings = settings_for(db_session, create=True)
        settings.csv_columns = [{"header": "Tên", "field": "title"}, {"header": "Giá", "field": "price_vnd"}]
        db_session.commit()
    rows = _parse(client.get(URL).data)
    assert rows[0] == ["Tên", "Giá"]
    assert ["Giỏ tre", "45000"] in rows

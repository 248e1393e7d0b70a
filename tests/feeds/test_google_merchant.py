"""The Google Merchant feed, parsed back and checked against the product data specification's rules."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from service.catalog.models import Product
from service.catalog.services import valid_gtin
from service.db import Scope, database
from service.feeds.google_merchant import xml_text
from service.feeds.items import FeedItem
from service.feeds.rules import problems, shorten
from tests.feeds.helpers import make_product

G = "{http://base.google.com/ns/1.0}"
REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price", "condition")
FEED = "/c/cam-thanh/feeds/google-merchant.xml"


def _feed(client, url: str = FEED) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "application/xml; charset=utf-8"
    root = ET.fromstring(response.get_data())
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root


def _items(root: ET.Element) -> dict[str, ET.Element]:
    return {item.findtext(f"{G}id") or "": item for item in root.iter("item")}


def _check_spec(item: ET.Element) -> None:
    for name in REQUIRED:
        assert (item.findtext(f"{G}{name}") or "").strip(), name
    assert len(item.findtext(f"{G}id") or "") <= 50
    assert len(item.findtext(f"{G}title") or "") <= 150
    assert len(item.findtext(f"{G}description") or "") <= 5000
    assert len(item.findtext(f"{G}brand") or "") <= 70
    assert len(item.findtext(f"{G}product_type") or "") <= 750
    assert re.fullmatch(r"[1-9]\d* VND", item.findtext(f"{G}price") or "")
    assert item.findtext(f"{G}availability") in ("in_stock", "out_of_stock")
    assert item.findtext(f"{G}condition") == "new"
    assert len(item.findall(f"{G}additional_image_link")) <= 10
    for link in [item.findtext(f"{G}link"), item.findtext(f"{G}image_link"),
                 *(e.text for e in item.findall(f"{G}additional_image_link"))]:
        assert link and re.match(r"https?://[^/]+/", link)
    gtin = item.findtext(f"{G}gtin")
    if gtin:
        assert item.find(f"{G}identifier_exists") is None
    else:
        assert item.findtext(f"{G}identifier_exists") == "no"
    weight = item.findtext(f"{G}shipping_weight")
    assert weight is None or re.fullmatch(r"\d+ g", weight)


def test_feed_follows_the_specification(app, world, client):
    good = make_product(app, world.a, "Mắm cá cơm Cửa Đại", photos=3, gtin="4006381333931", brand="Tư Tài",
                        ocop_stars=4, ocop_certificate_number="OCOP-07", ocop_certificate_year=2023)
    many = make_product(app, world.a, "Chiếu cói Cẩm Kim", photos=13, stock=0, weight_grams=None)
    root = _feed(client)
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Cẩm Thanh"
    assert (channel.findtext("link") or "").endswith("/c/cam-thanh")
    assert channel.findtext("description")
    items = _items(root)
    assert set(items) == {f"cam-thanh-{good}", f"cam-thanh-{many}"}
    for item in items.values():
        _check_spec(item)
    first = items[f"cam-thanh-{good}"]
    assert first.findtext(f"{G}title") == "Mắm cá cơm Cửa Đại"
    assert first.findtext(f"{G}price") == "150000 VND"
    assert first.findtext(f"{G}gtin") == "4006381333931"
    assert first.findtext(f"{G}brand") == "Tư Tài"
    assert first.findtext(f"{G}shipping_weight") == "500 g"
    assert first.findtext(f"{G}custom_label_0") == "OCOP 4 sao"
    assert first.findtext(f"{G}product_type") == "Cẩm Thanh > Nước mắm"
    assert first.findtext(f"{G}availability") == "in_stock"
    assert len(first.findall(f"{G}additional_image_link")) == 2
    assert (first.findtext(f"{G}link") or "").endswith(f"/c/cam-thanh/products/{_slug(app, world.a, good)}")
    second = items[f"cam-thanh-{many}"]
    assert len(second.findall(f"{G}additional_image_link")) == 10
    assert second.findtext(f"{G}availability") == "out_of_stock"
    assert second.findtext(f"{G}shipping_weight") is None
    assert second.findtext(f"{G}brand") == "HTX Rau Cẩm Thanh"  # no brand: the seller's name
    images = [second.findtext(f"{G}image_link"), *(e.text for e in second.findall(f"{G}additional_image_link"))]
    assert len(set(images)) == 11


def _slug(app, commune, product_id: int) -> str:
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        product = session.get(Product, product_id)
        assert product is not None
        slug = product.slug
        session.close()
    return slug


def test_invalid_products_are_left_out_and_reported(app, world, client):
    good = make_product(app, world.a, "Nón lá Cẩm Thanh")
    no_photo = make_product(app, world.a, "Bánh tráng", photos=0)
    bad_gtin = make_product(app, world.a, "Rượu cần", gtin="4006381333931")
    with app.app_context():  # a wrong check digit, as an import might leave it
        session = database(app).session(Scope(world.a.id))
        product = session.get(Product, bad_gtin)
        assert product is not None
        product.gtin = "4006381333932"
        session.commit()
        session.close()
    items = _items(_feed(client))
    assert set(items) == {f"cam-thanh-{good}"}  # the world's products have neither photo nor description

    report = client.get("/c/cam-thanh/feeds/report.json?marketplace=google")
    assert report.status_code == 200
    failing = {entry["product_id"]: entry for entry in report.get_json()["items"]}
    assert good not in failing
    codes = {pid: {(p["field"], p["code"]) for p in entry["problems"]} for pid, entry in failing.items()}
    assert codes[no_photo] == {("image_link", "missing")}
    assert codes[bad_gtin] == {("gtin", "bad_check_digit")}
    assert codes[world.a.products["published"]] == {("image_link", "missing"), ("description", "missing")}
    assert failing[no_photo]["title"] == "Bánh tráng"
    assert failing[no_photo]["link"].startswith("http")
    assert all(p["blocking"] for entry in failing.values() for p in entry["problems"])

    postmart = client.get("/c/cam-thanh/feeds/report.json?marketplace=postmart").get_json()
    assert postmart["marketplace"] == "postmart"
    postmart_codes = {e["product_id"]: {(p["field"], p["code"]) for p in e["problems"]} for e in postmart["items"]}
    assert ("weight_grams", "missing") in postmart_codes[world.a.products["published"]]
    assert good not in postmart_codes
    assert client.get("/c/cam-thanh/feeds/report.json?marketplace=ebay").status_code == 422


def test_long_texts_are_shortened_and_xml_unsafe_characters_dropped(app, world, client):
    long = make_product(app, world.a, "Mắm tôm", description_vi=("Rất ngon \x01 và thơm. " * 400),
                        brand="B" * 70)
    item = _items(_feed(client))[f"cam-thanh-{long}"]
    description = item.findtext(f"{G}description") or ""
    assert len(description) <= 5000 and description.endswith("…")
    assert "\x01" not in description
    report = client.get("/c/cam-thanh/feeds/report.json").get_json()
    entry = next(e for e in report["items"] if e["product_id"] == long)
    assert {(p["field"], p["code"], p["blocking"]) for p in entry["problems"]} == {("description", "too_long", False)}


def test_english_feed(app, world, client):
    product = make_product(app, world.a, "Nước mắm", title_en="Fish sauce", ocop_stars=5,
                           ocop_certificate_number="OCOP-9", ocop_certificate_year=2024,
                           description_en="Fish sauce made in the village, aged a year.")
    item = _items(_feed(client, FEED + "?lang=en"))[f"cam-thanh-{product}"]
    assert item.findtext(f"{G}title") == "Fish sauce"
    assert item.findtext(f"{G}description") == "Fish sauce made in the village, aged a year."
    assert (item.findtext(f"{G}link") or "").endswith("?lang=en")
    assert item.findtext(f"{G}product_type") == "Cẩm Thanh > Fish sauce"
    assert item.findtext(f"{G}custom_label_0") == "OCOP 5 stars"


def _item(**fields) -> FeedItem:
    base = dict(id="cam-thanh-1", product_id=1, slug="x", title="Nước mắm", description="Ngon",
                link="https://xaso.vn/c/cam-thanh/products/x", image_links=["https://xaso.vn/m/1.jpg"],
                price=150000, currency="VND", availability="in_stock", stock=1, condition="new", brand="HTX",
                gtin="", product_type="Cẩm Thanh > Nước mắm", category="Nước mắm", unit="chai",
                weight_grams=500, seller="HTX", seller_village="", commune="Cẩm Thanh", province="Quảng Nam",
                ocop_stars=None, ocop_certificate="", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    return FeedItem(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, set()),
    ({"title": " "}, {("title", "missing")}),
    ({"id": "x" * 51}, {("id", "too_long")}),
    ({"price": 0}, {("price", "not_positive")}),
    ({"link": "/c/cam-thanh/products/x"}, {("link", "invalid")}),
    ({"image_links": []}, {("image_link", "missing")}),
    ({"availability": "soon"}, {("availability", "invalid")}),
    ({"gtin": "12345"}, {("gtin", "invalid")}),
    ({"gtin": "4006381333932"}, {("gtin", "bad_check_digit")}),
    ({"gtin": "4006381333931"}, set()),
    ({"brand": "b" * 71}, {("brand", "too_long")}),
    ({"product_type": "p" * 751}, {("product_type", "too_long")}),
    ({"title": "t" * 151}, {("title", "too_long")}),
])
def test_google_rules(fields, expected):
    assert {(p.field, p.code) for p in problems(_item(**fields), "google")} == expected


def test_postmart_rules():
    found = problems(_item(weight_grams=None, category="", description="Ngắn"), "postmart")
    assert {(p.field, p.code) for p in found} == {("weight_grams", "missing"), ("category", "missing"),
                                                   ("description", "too_short")}


def test_helpers():
    assert valid_gtin("96385074") and valid_gtin("036000291452")
    assert not valid_gtin("036000291453")
    assert shorten("ngắn", 10) == "ngắn"
    cut = shorten("một hai ba bốn năm sáu bảy", 15)
    assert len(cut) <= 15 and cut.endswith("…") and cut == "một hai ba bốn…"
    assert xml_text("a\x00b\x0bc\ud800d\tz") == "abcd\tz"

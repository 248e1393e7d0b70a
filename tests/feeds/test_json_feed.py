"""The JSON feed: every published product of the commune, in the documented shape."""

from __future__ import annotations

from datetime import datetime

from tests.feeds.helpers import make_product


def test_json_feed_lists_the_published_products(app, world, client):
    photographed = make_product(app, world.a, "Mắm cá cơm", photos=2, gtin="4006381333931", ocop_stars=4,
                                ocop_certificate_number="OCOP-07", ocop_certificate_year=2023, stock=0)
    response = client.get("/c/cam-thanh/feeds/products.json")
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    feed = response.get_json()
    assert feed["commune"] == {"slug": "cam-thanh", "name": "Cẩm Thanh", "province": "Quảng Nam",
                               "link": feed["commune"]["link"]}
    assert feed["commune"]["link"].endswith("/c/cam-thanh")
    assert feed["language"] == "vi"
    assert datetime.fromisoformat(feed["generated_at"]).utcoffset() is not None
    products = {p["product_id"]: p for p in feed["products"]}
    assert list(products) == sorted(products)  # id order
    assert set(products) == {world.a.products["published"], world.a.products["cheap"], photographed}

    plain = products[world.a.products["published"]]
    assert plain["title"] == "Nước mắm cá cơm"
    assert plain["price"] == 150000 and plain["currency"] == "VND"
    assert plain["images"] == [] and plain["image_link"] == ""
    assert plain["ocop"] == {"stars": 4, "certificate": "OCOP-01"}
    assert plain["availability"] == "in_stock" and plain["stock"] == 10
    assert plain["seller"] == {"name": "Cơ sở Tư Tài Cẩm Thanh", "village": ""}
    assert plain["link"].startswith("http") and plain["link"].endswith("/c/cam-thanh/products/nuoc-mam-ca-com")
    assert plain["weight_grams"] is None and plain["gtin"] == ""
    assert plain["id"] == f"cam-thanh-{plain['product_id']}"
    assert datetime.fromisoformat(plain["updated_at"]).utcoffset() is not None

    rich = products[photographed]
    assert len(rich["images"]) == 2 and rich["image_link"] == rich["images"][0]
    assert all(url.startswith("http") and url.endswith(".jpg") for url in rich["images"])
    assert rich["availability"] == "out_of_stock"
    assert rich["weight_grams"] == 500 and rich["gtin"] == "4006381333931"
    assert rich["category"] == "Nước mắm" and rich["product_type"] == "Cẩm Thanh > Nước mắm"
    assert set(rich) >= {"description", "brand", "condition", "unit", "slug"}


def test_json_feed_in_english(app, world, client):
    make_product(app, world.a, "Nước mắm", title_en="Fish sauce")
    feed = client.get("/c/cam-thanh/feeds/products.json?lang=en").get_json()
    assert feed["language"] == "en"
    titles = {p["title"] for p in feed["products"]}
    assert "Fish sauce" in titles
    assert "Nước mắm cá cơm" in titles  # no English title: the Vietnamese one
    assert all(p["link"].endswith("?lang=en") for p in feed["products"])


def test_each_commune_has_its_own_feed(app, world, client):
    feed = client.get("/c/nam-phuoc/feeds/products.json").get_json()
    assert {p["product_id"] for p in feed["products"]} == {world.b.products["published"], world.b.products["cheap"]}

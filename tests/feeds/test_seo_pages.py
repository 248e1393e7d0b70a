"""Canonical URLs, hreflang, Product JSON-LD and OpenGraph/Twitter tags on public pages, read back from the HTML."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from service.catalog.models import Product
from service.db import PLATFORM, database
from tests.feeds.helpers import make_product
from tests.tourism.test_explore import add_content


class _Head(HTMLParser):
    """The <link>, <meta> and JSON-LD scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.metas: list[dict[str, str]] = []
        self.json_ld: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        if tag == "link":
            self.links.append(values)
        elif tag == "meta":
            self.metas.append(values)
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld[-1] += data

    def canonical(self) -> list[str]:
        return [link["href"] for link in self.links if link.get("rel") == "canonical"]

    def alternates(self) -> dict[str, str]:
        return {link["hreflang"]: link["href"] for link in self.links
                if link.get("rel") == "alternate" and "hreflang" in link}

    def meta(self, name: str) -> list[str]:
        return [m.get("content", "") for m in self.metas if m.get("property") == name or m.get("name") == name]


def _head(response) -> _Head:
    assert response.status_code == 200, response.data[:300]
    head = _Head()
    head.feed(response.get_data(as_text=True))
    return head


def _product(app, product_id) -> Product:
    with database(app).session(PLATFORM) as session:
        product = session.get(Product, product_id)
        assert product is not None
        session.expunge(product)
        return product


# -- canonical and hreflang ----------------------------------------------------------------------------


def test_canonical_keeps_lang_and_page_and_drops_the_rest(app, client, world):
    base = app.config["PUBLIC_BASE_URL"]
    products = f"{base}/c/cam-thanh/products"
    cases = {
        "/c/cam-thanh/products": products,
        "/c/cam-thanh/products?lang=en": f"{products}?lang=en",
        "/c/cam-thanh/products?page=2&sort=price_asc&utm_source=zalo": f"{products}?page=2",
        "/c/cam-thanh/products?page=1&sort=price_asc": products,
        "/c/cam-thanh/products?page=3&lang=en&fbclid=abc": f"{products}?page=3&lang=en",
        "/c/cam-thanh/?lang=vi": f"{base}/c/cam-thanh/",
        "/c/cam-thanh/stays": f"{base}/c/cam-thanh/stays",
    }
    for path, expected in cases.items():
        head = _head(app.test_client().get(path))  # a fresh visitor: no remembered language
        assert head.canonical() == [expected], path


def test_hreflang_alternates_are_absolute_public_urls(app, client, world):
    base = app.config["PUBLIC_BASE_URL"]
    head = _head(client.get("/c/cam-thanh/products?lang=en&page=2&sort=newest"))
    assert head.alternates() == {"vi": f"{base}/c/cam-thanh/products?page=2",
                                 "en": f"{base}/c/cam-thanh/products?page=2&lang=en",
                                 "x-default": f"{base}/c/cam-thanh/products?page=2"}


# -- products ------------------------------------------------------------------------------------------


def test_product_json_ld_is_a_schema_org_product_with_an_offer(app, client, world):
    product_id = make_product(app, world.a, "Nước mắm </script> Cửa Đại", photos=2, gtin="8938505974194",
                              brand="Mắm Cửa Đại", description_vi="Cá cơm ủ chượp\n\n12 tháng.")
    product = _product(app, product_id)
    base = app.config["PUBLIC_BASE_URL"]
    response = client.get(f"/c/cam-thanh/products/{product.slug}")
    html = response.get_data(as_text=True)
    assert "</script> Cửa Đại" not in html.split("application/ld+json", 1)[1].split("</script>", 1)[0]
    scripts = _head(response).json_ld
    assert len(scripts) == 1
    data = json.loads(scripts[0])
    url = f"{base}/c/cam-thanh/products/{product.slug}"
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == "Nước mắm </script> Cửa Đại"
    assert data["description"] == "Cá cơm ủ chượp 12 tháng."
    assert data["sku"] == f"cam-thanh-{product_id}"
    assert data["brand"] == {"@type": "Brand", "name": "Mắm Cửa Đại"}
    assert data["gtin13"] == "8938505974194"
    assert data["category"] == "Nước mắm"
    assert len(data["image"]) == 2 and all(image.startswith(base + "/") for image in data["image"])
    assert all(client.get(image.removeprefix(base)).status_code == 200 for image in data["image"])
    offer = data["offers"]
    assert offer["@type"] == "Offer"
    assert offer["price"] == 150_000 and isinstance(offer["price"], int)
    assert offer["priceCurrency"] == "VND"
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["url"] == url
    assert offer["seller"] == {"@type": "Organization", "name": "HTX Rau Cẩm Thanh"}


def test_product_json_ld_out_of_stock_without_gtin_and_brand_falls_back_to_seller(app, client, world):
    product_id = make_product(app, world.a, "Giỏ mây hết hàng", photos=0, stock=0)
    product = _product(app, product_id)
    data = json.loads(_head(client.get(f"/c/cam-thanh/products/{product.slug}?lang=en")).json_ld[0])
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert data["brand"]["name"] == "HTX Rau Cẩm Thanh"
    assert "gtin13" not in data and "gtin" not in data and "image" not in data
    assert data["category"] == "Fish sauce"  # in the page's language


def test_product_open_graph_and_twitter_card(app, client, world):
    product_id = make_product(app, world.a, "Nước mắm nhĩ", photos=1, description_vi="Ngon. " * 100)
    product = _product(app, product_id)
    base = app.config["PUBLIC_BASE_URL"]
    head = _head(client.get(f"/c/cam-thanh/products/{product.slug}?utm_source=facebook"))
    url = f"{base}/c/cam-thanh/products/{product.slug}"
    assert head.meta("og:type") == ["product"]
    assert head.meta("og:url") == [url] and head.canonical() == [url]
    assert head.meta("og:title") == ["Nước mắm nhĩ — Cẩm Thanh"]
    assert head.meta("og:site_name") == ["XaSo"]
    assert head.meta("og:locale") == ["vi_VN"] and head.meta("og:locale:alternate") == ["en_US"]
    (description,) = head.meta("og:description")
    assert description.startswith("Ngon. Ngon.") and len(description) <= 200
    (image,) = head.meta("og:image")
    assert image.startswith(base + "/") and re.search(r"/share-1200x630\.jpg$", image)
    assert head.meta("og:image:width") == ["1200"] and head.meta("og:image:height") == ["630"]
    assert head.meta("og:image:alt") == ["Nước mắm nhĩ"]
    assert head.meta("twitter:card") == ["summary_large_image"]
    assert head.meta("twitter:image") == [image]
    assert client.get(image.removeprefix(base)).status_code == 200


def test_english_page_says_so_in_open_graph(app, client, world):
    product = _product(app, world.a.products["published"])
    head = _head(client.get(f"/c/cam-thanh/products/{product.slug}?lang=en"))
    assert head.meta("og:locale") == ["en_US"] and head.meta("og:locale:alternate") == ["vi_VN"]
    assert head.meta("og:url") == [f"{app.config['PUBLIC_BASE_URL']}/c/cam-thanh/products/{product.slug}?lang=en"]
    assert head.meta("twitter:card") == ["summary"]  # no photo: no large card


# -- homestays and the commune home --------------------------------------------------------------------


def test_homestay_page_has_open_graph_and_keeps_its_json_ld(app, client, world):
    content = add_content(app, world.a)
    base = app.config["PUBLIC_BASE_URL"]
    head = _head(client.get(f"/c/cam-thanh/stays/{content['stay']}?utm_source=zalo"))
    assert head.meta("og:title") == ["Homestay Rừng Dừa — Cẩm Thanh"]
    assert head.meta("og:type") == ["website"]
    assert head.meta("og:url") == [f"{base}/c/cam-thanh/stays/{content['stay']}"]
    assert head.meta("og:description") == ["Nhà vườn bên rừng dừa."]
    assert json.loads(head.json_ld[0])["@type"] == "LodgingBusiness"


def test_commune_home_open_graph(app, client, world):
    base = app.config["PUBLIC_BASE_URL"]
    head = _head(client.get("/c/cam-thanh/?lang=en"))
    assert head.meta("og:title") == ["Cẩm Thanh — XaSo"]
    assert head.meta("og:description") == ["Cẩm Thanh - a village to love"]
    assert head.meta("description") == ["Cẩm Thanh - a village to love"]
    assert head.meta("og:url") == [f"{base}/c/cam-thanh/?lang=en"]
    assert head.meta("og:site_name") == ["XaSo"]

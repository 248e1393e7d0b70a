"""The public storefront: product list (filters, sort, pages) and product pages."""

from __future__ import annotations

import re

import pytest

from service.catalog import services as catalog
from service.catalog.models import Product
from service.db import Scope, database
from service.tenants.services import SYSTEM

TITLE_RE = re.compile(r'<h3><a href="/c/[a-z-]+/products/([a-z0-9-]+)">')


def _html(response) -> str:
    return response.get_data(as_text=True)


def _listed(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return TITLE_RE.findall(_html(response))


def _add_products(app, commune, specs, publish: bool = True) -> list[str]:
    """Create products through the services, as staff would; returns their slugs."""
    slugs = []
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        for spec in specs:
            data = {"seller_id": commune.sellers["other"], "category_id": commune.categories["crafts"],
                    "stock": 5, "unit": "cái", **spec}
            product = catalog.create_product(session, SYSTEM, data)
            if publish:
                catalog.change_status(session, SYSTEM, product, "submit")
                catalog.change_status(session, SYSTEM, product, "approve")
            slugs.append(product.slug)
        session.commit()
        session.close()
    return slugs


def _edit(app, commune, key: str, **fields) -> None:
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        product = session.get(Product, commune.products[key])
        assert product is not None
        for name, value in fields.items():
            setattr(product, name, value)
        session.commit()
        session.close()


def test_list_shows_published_products_only(world, client):
    html = _html(client.get("/c/cam-thanh/products?lang=en"))
    assert "Nước mắm cá cơm" in html and "Giỏ tre" in html
    assert "Mắm ruốc" not in html and "Rổ mây" not in html
    assert "Products found: 2" in html
    assert '<form class="filters" method="get"' in html
    assert set(_listed(client, "/c/cam-thanh/products")) == {"nuoc-mam-ca-com", "gio-tre"}


def test_filter_by_category(world, client):
    assert _listed(client, "/c/cam-thanh/products?category=nuoc-mam") == ["nuoc-mam-ca-com"]
    assert _listed(client, "/c/cam-thanh/products?category=thu-cong") == ["gio-tre"]
    html = _html(client.get("/c/cam-thanh/products?category=thu-cong"))
    assert '<option value="thu-cong" selected>' in html


def test_filter_by_ocop_stars_one_or_several(world, client):
    assert _listed(client, "/c/cam-thanh/products?ocop=4") == ["nuoc-mam-ca-com"]
    assert _listed(client, "/c/cam-thanh/products?ocop=3") == ["gio-tre"]
    assert set(_listed(client, "/c/cam-thanh/products?ocop=3&ocop=4")) == {"nuoc-mam-ca-com", "gio-tre"}
    assert _listed(client, "/c/cam-thanh/products?ocop=5") == []
    html = _html(client.get("/c/cam-thanh/products?ocop=4&lang=en"))
    assert 'name="ocop" value="4" checked' in html
    assert 'name="ocop" value="3">' in html
    assert "No products match" not in html
    assert "No products match" in _html(client.get("/c/cam-thanh/products?ocop=5&lang=en"))


def test_sort_by_price_both_ways_and_by_name(world, app, client):
    _add_products(app, world.a, [{"title_vi": "Chiếu cói", "price": 90_000}])
    assert _listed(client, "/c/cam-thanh/products?sort=price_asc") == ["gio-tre", "chieu-coi", "nuoc-mam-ca-com"]
    assert _listed(client, "/c/cam-thanh/products?sort=price_desc") == ["nuoc-mam-ca-com", "chieu-coi", "gio-tre"]
    assert _listed(client, "/c/cam-thanh/products?sort=name")[0] == "chieu-coi"
    assert _listed(client, "/c/cam-thanh/products")[0] == "chieu-coi"  # newest first by default
    html = _html(client.get("/c/cam-thanh/products?sort=price_desc"))
    assert '<option value="price_desc" selected>' in html


def test_pages_preserve_the_filters(world, app, client):
    _add_products(app, world.a, [{"title_vi": f"Đèn lồng số {n}", "price": 10_000 * n} for n in range(1, 7)])
    base = "/c/cam-thanh/products?category=thu-cong&sort=price_asc&per_page=3&lang=en"
    first = client.get(base)
    html = _html(first)
    assert "Products found: 7" in html
    assert TITLE_RE.findall(html) == ["den-long-so-1", "den-long-so-2", "den-long-so-3"]
    assert "Page 1 of 3" in html
    next_links = re.findall(r'<a rel="next" href="([^"]+)"', html)
    assert len(next_links) == 1
    link = next_links[0].replace("&amp;", "&")
    assert "category=thu-cong" in link and "sort=price_asc" in link and "per_page=3" in link and "page=2" in link
    second = _html(client.get(link))
    assert TITLE_RE.findall(second) == ["den-long-so-4", "gio-tre", "den-long-so-5"]
    assert '<a rel="prev"' in second
    third = _html(client.get(base + "&page=3"))
    assert TITLE_RE.findall(third) == ["den-long-so-6"]
    assert '<a rel="next"' not in third
    # past the end: friendly, not an error
    beyond = client.get(base + "&page=9")
    assert beyond.status_code == 200
    assert "There are fewer pages than that." in _html(beyond)


@pytest.mark.parametrize("query", [
    "page=abc", "page=-3", "page=0", "page=99999999999999999999", "per_page=lots", "per_page=100000",
    "ocop=9", "ocop=abc", "ocop=", "sort=bogus", "category=no-such-thing", "page=1.5&ocop=4.0&sort=",
    "ocop=4&ocop=9&ocop=4",
])
def test_bogus_query_values_do_not_break_the_page(world, client, query):
    response = client.get(f"/c/cam-thanh/products?{query}&lang=en")
    assert response.status_code == 200
    assert "Products found:" in _html(response)


def test_bogus_values_are_ignored_with_a_notice(world, client):
    html = _html(client.get("/c/cam-thanh/products?ocop=9&sort=bogus&page=abc&lang=en"))
    assert "were not understood" in html
    assert "Products found: 2" in html
    assert "were not understood" not in _html(client.get("/c/cam-thanh/products?ocop=4&lang=en"))
    # a valid star kept beside an invalid one
    assert _listed(client, "/c/cam-thanh/products?ocop=4&ocop=9") == ["nuoc-mam-ca-com"]


def test_product_page(world, app, client):
    _edit(app, world.a, "published", description_vi="Ủ chượp 12 tháng.\n\nChai <b>thủy tinh</b>.",
          cover_key="products/nmcc.jpg")
    with app.app_context():
        session = database(app).session(Scope(world.a.id))
        catalog.update_seller(session, SYSTEM, catalog.get_seller(session, world.a.sellers["own"]),
                              {"village": "Thôn Thanh Tam"})
        session.commit()
        session.close()
    response = client.get("/c/cam-thanh/products/nuoc-mam-ca-com?lang=en")
    assert response.status_code == 200
    html = _html(response)
    assert "<h1>Nước mắm cá cơm</h1>" in html
    assert "150.000 ₫" in html
    assert "chai" in html
    assert "In stock" in html
    assert "4 stars" in html and "OCOP-01" in html and "2023" in html
    assert "Cơ sở Tư Tài Cẩm Thanh" in html and "Thôn Thanh Tam" in html
    assert "Fish sauce" in html
    assert '<img src="/media/products/nmcc.jpg" alt="Nước mắm cá cơm"' in html
    assert "<p>Ủ chượp 12 tháng.</p>" in html
    assert "&lt;b&gt;thủy tinh&lt;/b&gt;" in html


def test_product_page_in_english_and_out_of_stock(world, app, client):
    _edit(app, world.a, "published", title_en="Anchovy fish sauce", description_en="Aged a year.", stock=0)
    html = _html(client.get("/c/cam-thanh/products/nuoc-mam-ca-com?lang=en"))
    assert '<html lang="en">' in html
    assert "<h1>Anchovy fish sauce</h1>" in html
    assert "Aged a year." in html
    assert "Out of stock" in html
    assert "150.000 ₫" in html
    vietnamese = _html(client.get("/c/cam-thanh/products/nuoc-mam-ca-com?lang=vi"))
    assert "<h1>Nước mắm cá cơm</h1>" in vietnamese


@pytest.mark.parametrize("key", ["pending", "draft"])
def test_unpublished_products_are_not_found(world, app, client, key):
    with app.app_context():
        session = database(app).session(Scope(world.a.id))
        slug = session.get(Product, world.a.products[key]).slug
        session.close()
    response = client.get(f"/c/cam-thanh/products/{slug}?lang=en")
    assert response.status_code == 404
    assert "Page not found" in _html(response)


def test_archived_product_is_not_found(world, app, client):
    with app.app_context():
        session = database(app).session(Scope(world.a.id))
        catalog.change_status(session, SYSTEM, session.get(Product, world.a.products["published"]), "archive")
        session.commit()
        session.close()
    assert client.get("/c/cam-thanh/products/nuoc-mam-ca-com").status_code == 404
    assert "nuoc-mam-ca-com" not in _listed(client, "/c/cam-thanh/products")
    # the other commune's product with the same slug is unaffected
    assert client.get("/c/nam-phuoc/products/nuoc-mam-ca-com").status_code == 200


def test_product_of_another_commune_is_not_found_here(world, app, client):
    [slug] = _add_products(app, world.b, [{"title_vi": "Bánh tráng Nam Phước", "price": 30_000}])
    assert client.get(f"/c/nam-phuoc/products/{slug}").status_code == 200
    assert client.get(f"/c/cam-thanh/products/{slug}").status_code == 404
    assert slug not in _listed(client, "/c/cam-thanh/products")
    assert slug in _listed(client, "/c/nam-phuoc/products")


def test_unknown_commune_products_are_404(world, client):
    response = client.get("/c/khong-co/products/nuoc-mam-ca-com")
    assert response.status_code == 404
    assert response.mimetype == "text/html"

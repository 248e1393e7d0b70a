"""Commune isolation: commune A's token never reaches commune B's objects, whichever URL it uses."""

from __future__ import annotations

import pytest

from service.audit.models import AuditEntry
from service.catalog.models import Category, Product, Seller
from tests.api.conftest import assert_error

# Every tenant-scoped route of the API: (method, path under /api/v1/communes/<commune>, body).
# {product}, {seller}, {category} are filled in with commune B's ids.
ROUTES = [
    ("GET", "/products?scope=manage", None),
    ("POST", "/products", {"seller_id": "{seller}", "category_id": "{category}", "title_vi": "Lậu", "price": 1}),
    ("GET", "/products/{product}", None),
    ("PATCH", "/products/{product}", {"price": 1}),
    ("POST", "/products/{product}/status", {"action": "archive"}),
    ("GET", "/sellers", None),
    ("POST", "/sellers", {"name": "Lậu", "assisted_listing_consent": True}),
    ("GET", "/sellers/{seller}", None),
    ("PATCH", "/sellers/{seller}", {"name": "Lậu"}),
    ("POST", "/categories", {"name_vi": "Lậu"}),
    ("PATCH", "/categories/{category}", {"name_vi": "Lậu"}),
    ("DELETE", "/categories/{category}", None),
    ("GET", "/audit", None),
    ("PATCH", "", {"name": "Lậu"}),
]
# Public routes: readable by anyone, but only ever with the URL's commune's data.
PUBLIC_ROUTES = ["", "/products", "/categories"]


def _fill(value, ids):
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_commune_a_token_cannot_reach_commune_b(world, client, count, method, path, body):
    ids = {"product": world.b.products["draft"], "seller": world.b.sellers["assisted"],
           "category": world.b.categories["crafts"]}
    if method == "PATCH" and "products" in path:
        ids["product"] = world.b.products["published"]
    url_path = path.format(**ids)
    body = _fill(body, ids)
    before = (count(Product), count(Seller), count(Category), count(AuditEntry))
    for role in ("admin", "editor", "volunteer", "seller"):
        headers = world.auth(world.a.tokens[role])
        for commune in (world.a.slug, world.b.slug):
            if commune == world.a.slug and "{" not in path:
                continue  # no B object in the URL: under A's own URL this is legitimate use
            response = client.open(f"/api/v1/communes/{commune}{url_path}", method=method, json=body, headers=headers)
            assert_error(response, 404, "resource_missing")
    assert (count(Product), count(Seller), count(Category), count(AuditEntry)) == before
    # B's own staff still sees its data intact.
    b_admin = world.auth(world.b.tokens["admin"])
    product = client.get(f"/api/v1/communes/{world.b.slug}/products/{world.b.products['published']}", headers=b_admin)
    assert product.json["price"] == 150_000
    seller = client.get(f"/api/v1/communes/{world.b.slug}/sellers/{world.b.sellers['assisted']}", headers=b_admin)
    assert seller.json["name"] == "Bà Năm Nam Phước"


def test_a_body_naming_b_objects_under_a_url_is_refused(world, client, count):
    """Ids in the body are scoped too: B's seller or category cannot be used from A."""
    a = "/api/v1/communes/cam-thanh"
    editor = world.auth(world.a.tokens["editor"])
    before = count(Product)
    body = {"seller_id": world.b.sellers["own"], "title_vi": "Lậu", "price": 1}
    assert_error(client.post(f"{a}/products", json=body, headers=editor), 404, param="seller_id")
    body = {"seller_id": world.a.sellers["own"], "category_id": world.b.categories["sauce"], "title_vi": "Lậu",
            "price": 1}
    assert_error(client.post(f"{a}/products", json=body, headers=editor), 422, param="category_id")
    assert_error(client.patch(f"{a}/products/{world.a.products['draft']}", json={"seller_id": world.b.sellers["own"]},
                              headers=editor), 404, param="seller_id")
    assert_error(client.get(f"{a}/products/{world.b.products['published']}"), 404)
    assert client.get(f"{a}/products?scope=manage&seller_id={world.b.sellers['own']}", headers=editor).json[
        "total"] == 0
    assert client.get(f"{a}/audit?seller_id={world.b.sellers['assisted']}", headers=editor).json["total"] == 0
    assert count(Product) == before


@pytest.mark.parametrize("path", PUBLIC_ROUTES)
def test_public_routes_show_only_the_url_commune(world, client, path):
    for commune, own, other in ((world.a, "Cẩm Thanh", "Nam Phước"), (world.b, "Nam Phước", "Cẩm Thanh")):
        response = client.get(f"/api/v1/communes/{commune.slug}{path}", headers=world.auth(world.a.tokens["admin"]))
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        if path == "/products":
            published = {commune.products["published"], commune.products["cheap"]}
            assert {p["id"] for p in response.json["data"]} == published
            assert response.json["total"] == 2
            assert {p["seller"]["name"].endswith(own) for p in response.json["data"]} == {True}
        elif path == "/categories":
            assert {c["id"] for c in response.json["data"]} == set(commune.categories.values())
        else:
            assert response.json["slug"] == commune.slug
        assert other not in text


def test_manage_scope_in_b_shows_nothing_of_b_to_a(world, client):
    b = f"/api/v1/communes/{world.b.slug}"
    for role in ("admin", "volunteer", "seller"):
        headers = world.auth(world.a.tokens[role])
        assert_error(client.get(f"{b}/products?scope=manage", headers=headers), 404)
        assert_error(client.get(f"{b}/products/{world.b.products['pending']}", headers=headers), 404)

from __future__ import annotations

import pytest

from service.audit.models import AuditEntry
from service.catalog.models import Category, Product, Seller
from tests.api.conftest import assert_error

A = "/api/v1/communes/cam-thanh"


def product_body(world, seller="own", **extra):
    return {"seller_id": world.a.sellers[seller], "category_id": world.a.categories["sauce"],
            "title_vi": "Nước mắm nhĩ", "price": 120_000, "unit": "chai 500 ml", "stock": 5, **extra}


def test_public_list_shows_published_products_only_with_output_shape(world, client):
    response = client.get(f"{A}/products")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"data", "page", "per_page", "total", "pages", "has_more"}
    assert body["total"] == 2 and body["page"] == 1 and body["pages"] == 1 and body["has_more"] is False
    ids = {p["id"] for p in body["data"]}
    assert ids == {world.a.products["published"], world.a.products["cheap"]}
    assert world.a.products["draft"] not in ids and world.a.products["pending"] not in ids
    sauce = next(p for p in body["data"] if p["id"] == world.a.products["published"])
    assert sauce["title_vi"] == "Nước mắm cá cơm"
    assert sauce["price"] == 150_000 and sauce["price_display"] == "150.000 ₫"
    assert sauce["status"] == "published"
    assert sauce["slug"] == "nuoc-mam-ca-com"
    assert sauce["url"] == "/c/cam-thanh/products/nuoc-mam-ca-com"
    assert sauce["ocop_stars"] == 4 and sauce["ocop_certificate_number"] == "OCOP-01"
    assert sauce["ocop_certificate_year"] == 2023
    assert sauce["seller"] == {"id": world.a.sellers["own"], "name": "Cơ sở Tư Tài Cẩm Thanh"}
    assert sauce["category"] == {"id": world.a.categories["sauce"], "slug": "nuoc-mam", "name_vi": "Nước mắm",
                                 "name_en": "Fish sauce"}
    assert sauce["published_at"].endswith("+00:00") and "T" in sauce["published_at"]
    assert sauce["review_note"] is None and sauce["actions"] == []  # anonymous reader


def test_public_list_filters_sort_and_pages(world, client):
    def titles(query):
        response = client.get(f"{A}/products?{query}")
        assert response.status_code == 200, response.json
        return [p["title_vi"] for p in response.json["data"]]

    assert titles("category=nuoc-mam") == ["Nước mắm cá cơm"]
    assert titles("category=thu-cong") == ["Giỏ tre"]  # the crafts draft stays hidden
    assert titles("category=no-such") == []
    assert titles("ocop_stars=4") == ["Nước mắm cá cơm"]
    assert sorted(titles("ocop_stars=3&ocop_stars=4")) == ["Giỏ tre", "Nước mắm cá cơm"]
    assert titles("ocop_stars=5") == []
    assert titles("sort=price_asc") == ["Giỏ tre", "Nước mắm cá cơm"]
    assert titles("sort=price_desc") == ["Nước mắm cá cơm", "Giỏ tre"]
    assert titles("sort=name") == ["Giỏ tre", "Nước mắm cá cơm"]

    first = client.get(f"{A}/products?sort=price_asc&per_page=1").json
    second = client.get(f"{A}/products?sort=price_asc&per_page=1&page=2").json
    assert (first["total"], first["pages"], first["has_more"]) == (2, 2, True)
    assert (second["page"], second["has_more"]) == (2, False)
    assert [p["title_vi"] for p in first["data"] + second["data"]] == ["Giỏ tre", "Nước mắm cá cơm"]

    assert_error(client.get(f"{A}/products?per_page=101"), 422, "invalid_value", "per_page")
    assert_error(client.get(f"{A}/products?page=0"), 422, "invalid_value", "page")
    assert_error(client.get(f"{A}/products?sort=cheapest"), 422, "invalid_value", "sort")
    assert_error(client.get(f"{A}/products?ocop_stars=7"), 422, "invalid_value")


def test_manage_scope_lists_what_the_actor_may_manage(world, client):
    def ids(role, query=""):
        response = client.get(f"{A}/products?scope=manage{query}", headers=world.auth(world.a.tokens[role]))
        assert response.status_code == 200, response.json
        return {p["id"] for p in response.json["data"]}

    products = world.a.products
    assert ids("editor") == set(products.values())
    assert ids("editor", "&status=draft") == {products["draft"]}
    assert ids("editor", f"&seller_id={world.a.sellers['other']}") == {products["cheap"]}
    assert ids("seller") == {products["published"], products["draft"]}  # own seller only
    assert ids("volunteer") == {products["pending"]}  # the household that consented
    assert_error(client.get(f"{A}/products?scope=manage"), 401)


def test_unpublished_product_is_visible_only_to_those_who_manage_it(world, client):
    draft = world.a.products["draft"]
    assert_error(client.get(f"{A}/products/{draft}"), 404, "resource_missing")
    assert_error(client.get(f"{A}/products/{draft}", headers=world.auth(world.a.tokens["volunteer"])), 404)
    mine = client.get(f"{A}/products/{draft}", headers=world.auth(world.a.tokens["seller"]))
    assert mine.status_code == 200
    assert mine.json["status"] == "draft"
    assert mine.json["actions"] == ["submit", "archive"]
    assert client.get(f"{A}/products/{world.a.products['published']}").status_code == 200
    assert_error(client.get(f"{A}/products/999999"), 404)


def test_seller_creates_a_draft_with_an_audit_entry(world, client, count):
    before = count(AuditEntry)
    response = client.post(f"{A}/products", json=product_body(world, ocop_stars=3, ocop_certificate_number="X-1",
                                                                ocop_certificate_year=2024),
                           headers=world.auth(world.a.tokens["seller"]))
    assert response.status_code == 201, response.json
    product = response.json
    assert product["status"] == "draft"
    assert product["price"] == 120_000 and product["price_display"] == "120.000 ₫"
    assert product["seller"]["id"] == world.a.sellers["own"]
    assert product["category"]["slug"] == "nuoc-mam"
    assert product["url"] == "/c/cam-thanh/products/nuoc-mam-nhi"
    assert count(AuditEntry) == before + 1

    audit = client.get(f"{A}/audit?object_type=product&object_id={product['id']}",
                       headers=world.auth(world.a.tokens["admin"])).json["data"]
    assert [(e["action"], e["actor_role"], e["on_behalf_of_seller_id"]) for e in audit] == [
        ("product.created", "seller", None)]
    # Persisted: a fresh request sees it.
    assert client.get(f"{A}/products/{product['id']}", headers=world.auth(world.a.tokens["seller"])).json[
        "title_vi"] == "Nước mắm nhĩ"


def test_volunteer_lists_for_a_consenting_household_on_its_behalf(world, client):
    response = client.post(f"{A}/products", json=product_body(world, "assisted"),
                           headers=world.auth(world.a.tokens["volunteer"]))
    assert response.status_code == 201, response.json
    assert response.json["status"] == "draft"
    entries = client.get(f"{A}/audit?seller_id={world.a.sellers['assisted']}",
                         headers=world.auth(world.a.tokens["editor"])).json["data"]
    created = [e for e in entries if e["object_id"] == response.json["id"]]
    assert len(created) == 1
    assert created[0]["action"] == "product.created"
    assert created[0]["actor_role"] == "volunteer"
    assert created[0]["on_behalf_of_seller_id"] == world.a.sellers["assisted"]


def test_volunteer_cannot_list_for_a_household_without_consent(world, client, count):
    before = (count(Product), count(AuditEntry))
    response = client.post(f"{A}/products", json=product_body(world, "other"),
                           headers=world.auth(world.a.tokens["volunteer"]))
    assert_error(response, 404, "resource_missing", "seller_id")
    assert (count(Product), count(AuditEntry)) == before


def test_seller_cannot_touch_another_sellers_product(world, client, count):
    token = world.auth(world.a.tokens["seller"])
    before = count(AuditEntry)
    cheap = world.a.products["cheap"]  # published, but belongs to another seller
    assert_error(client.patch(f"{A}/products/{cheap}", json={"price": 1}, headers=token), 404, param="product_id")
    assert_error(client.post(f"{A}/products/{cheap}/status", json={"action": "archive"}, headers=token), 404)
    assert count(AuditEntry) == before
    assert client.get(f"{A}/products/{cheap}").json["price"] == 45_000


def test_patch_changes_only_the_fields_sent(world, client):
    token = world.auth(world.a.tokens["seller"])
    draft = world.a.products["draft"]
    response = client.patch(f"{A}/products/{draft}", json={"price": 90_000, "category_id": world.a.categories["sauce"]},
                            headers=token)
    assert response.status_code == 200, response.json
    assert response.json["price"] == 90_000 and response.json["price_display"] == "90.000 ₫"
    assert response.json["category"]["id"] == world.a.categories["sauce"]
    assert response.json["title_vi"] == "Rổ mây" and response.json["unit"] == "chai"
    # A seller's change to a published product's reviewed fields sends it back to review.
    published = world.a.products["published"]
    again = client.patch(f"{A}/products/{published}", json={"title_vi": "Nước mắm cá cơm Cẩm Thanh"}, headers=token)
    assert again.json["status"] == "pending_review"
    assert client.get(f"{A}/products").json["total"] == 1


@pytest.mark.parametrize(("body", "param"), [
    ({"title_vi": None}, "title_vi"),
    ({"price": -1}, "price"),
    ({"price": "abc"}, "price"),
    ({"price": 1.5}, "price"),
    ({"price": 10_000_000_001}, "price"),
    ({"ocop_stars": 7}, "ocop_stars"),
    ({"stock": -3}, "stock"),
    ({"category_id": 999_999}, "category_id"),
    ({"category_id": "other-commune"}, "category_id"),
])
def test_invalid_product_data_is_422_and_writes_nothing(world, client, count, body, param):
    if body.get("category_id") == "other-commune":
        body = {"category_id": world.b.categories["sauce"]}
    token = world.auth(world.a.tokens["editor"])
    before = (count(Product), count(AuditEntry), count(Category), count(Seller))
    create = {**product_body(world), **body}
    if body.get("title_vi", "") is None:
        del create["title_vi"]  # missing on create
    assert_error(client.post(f"{A}/products", json=create, headers=token), 422, "invalid_value", param)
    draft = world.a.products["draft"]
    assert_error(client.patch(f"{A}/products/{draft}", json=body, headers=token), 422, "invalid_value", param)
    assert (count(Product), count(AuditEntry), count(Category), count(Seller)) == before
    unchanged = client.get(f"{A}/products/{draft}", headers=token).json
    assert (unchanged["title_vi"], unchanged["price"], unchanged["ocop_stars"]) == ("Rổ mây", 80_000, None)
    assert unchanged["category"]["id"] == world.a.categories["crafts"]


def test_ocop_rating_needs_a_certificate_number(world, client, count):
    before = count(Product)
    response = client.post(f"{A}/products", json=product_body(world, ocop_stars=4),
                           headers=world.auth(world.a.tokens["editor"]))
    assert_error(response, 422, "invalid_value", "ocop_certificate_number")
    assert count(Product) == before


def test_workflow_submit_approve_archive(world, client, count):
    seller, editor = world.auth(world.a.tokens["seller"]), world.auth(world.a.tokens["editor"])
    draft = world.a.products["draft"]
    url = f"{A}/products/{draft}/status"

    submitted = client.post(url, json={"action": "submit"}, headers=seller)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "pending_review"

    before = count(AuditEntry)
    assert_error(client.post(url, json={"action": "approve"}, headers=seller), 403, "forbidden")
    assert_error(client.post(url, json={"action": "reject"}, headers=editor), 422, "invalid_value", "note")
    assert count(AuditEntry) == before

    approved = client.post(url, json={"action": "approve", "note": "Đẹp"}, headers=editor)
    assert approved.json["status"] == "published"
    assert approved.json["published_at"]
    assert draft in {p["id"] for p in client.get(f"{A}/products").json["data"]}
    assert client.get(f"{A}/products/{draft}", headers=seller).json["review_note"] == "Đẹp"
    assert client.get(f"{A}/products/{draft}").json["review_note"] is None  # reviewers' notes are not public

    error = assert_error(client.post(url, json={"action": "submit"}, headers=seller), 409, "invalid_transition")
    assert error["param"] == "status"

    archived = client.post(url, json={"action": "archive"}, headers=seller)
    assert archived.json["status"] == "archived"
    assert archived.json["actions"] == ["restore"]
    assert draft not in {p["id"] for p in client.get(f"{A}/products").json["data"]}
    assert_error(client.post(url, json={"action": "explode"}, headers=seller), 422, "invalid_value", "action")

    trail = client.get(f"{A}/audit?object_type=product&object_id={draft}", headers=editor).json["data"]
    assert [e["action"] for e in trail][:3] == ["product.archive", "product.approve", "product.submit"]


def test_there_is_no_delete(world, client, count):
    before = count(Product)
    response = client.delete(f"{A}/products/{world.a.products['draft']}", headers=world.auth(world.a.tokens["admin"]))
    assert_error(response, 405)
    assert count(Product) == before


def test_writes_need_a_token(world, client, count):
    before = count(Product)
    assert_error(client.post(f"{A}/products", json=product_body(world)), 401, "unauthenticated")
    assert_error(client.patch(f"{A}/products/{world.a.products['draft']}", json={"price": 1}), 401)
    assert_error(client.post(f"{A}/products/{world.a.products['draft']}/status", json={"action": "submit"}), 401)
    assert count(Product) == before

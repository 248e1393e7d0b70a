from __future__ import annotations

from service.audit.models import AuditEntry
from service.catalog.models import Category, Seller
from tests.api.conftest import assert_error

A = "/api/v1/communes/cam-thanh"


def test_staff_list_read_and_change_sellers(world, client):
    editor = world.auth(world.a.tokens["editor"])
    listing = client.get(f"{A}/sellers", headers=editor)
    assert listing.status_code == 200
    assert listing.json["total"] == 3
    assert {s["id"] for s in listing.json["data"]} == set(world.a.sellers.values())
    assisted = client.get(f"{A}/sellers/{world.a.sellers['assisted']}", headers=editor).json
    assert assisted["assisted_listing_consent"] is True
    assert assisted["consent_recorded_at"].endswith("+00:00")

    changed = client.patch(f"{A}/sellers/{world.a.sellers['other']}", json={"village": "Thôn 2",
                                                                          "assisted_listing_consent": True},
                           headers=editor)
    assert changed.status_code == 200, changed.json
    assert changed.json["village"] == "Thôn 2"
    assert changed.json["name"] == "HTX Rau Cẩm Thanh"  # untouched
    assert changed.json["consent_recorded_at"]
    trail = client.get(f"{A}/audit?object_type=seller&object_id={world.a.sellers['other']}", headers=editor).json
    assert trail["data"][0]["action"] == "seller.updated"


def test_non_staff_see_only_sellers_they_may_list_for(world, client):
    volunteer, seller = world.auth(world.a.tokens["volunteer"]), world.auth(world.a.tokens["seller"])
    listed = client.get(f"{A}/sellers", headers=volunteer).json["data"]
    assert [s["id"] for s in listed] == [world.a.sellers["assisted"]]
    assert [s["id"] for s in client.get(f"{A}/sellers", headers=seller).json["data"]] == [world.a.sellers["own"]]
    assert client.get(f"{A}/sellers/{world.a.sellers['assisted']}", headers=volunteer).status_code == 200
    assert_error(client.get(f"{A}/sellers/{world.a.sellers['other']}", headers=volunteer), 404, param="seller_id")
    assert_error(client.get(f"{A}/sellers/{world.a.sellers['other']}", headers=seller), 404)
    assert_error(client.patch(f"{A}/sellers/{world.a.sellers['own']}", json={"name": "Me"}, headers=seller), 403)
    assert_error(client.get(f"{A}/sellers"), 401)


def test_volunteer_registers_a_household_only_with_consent(world, client, count):
    volunteer = world.auth(world.a.tokens["volunteer"])
    before = (count(Seller), count(AuditEntry))
    assert_error(client.post(f"{A}/sellers", json={"name": "Ông Sáu"}, headers=volunteer), 422,
                 "invalid_value", "assisted_listing_consent")
    assert_error(client.post(f"{A}/sellers", json={"name": "Ông Sáu", "assisted_listing_consent": True,
                                                    "user_id": 1}, headers=volunteer), 403)
    assert_error(client.post(f"{A}/sellers", json={"name": "Ông Sáu"}, headers=world.auth(world.a.tokens["seller"])),
                 403)
    assert (count(Seller), count(AuditEntry)) == before

    created = client.post(f"{A}/sellers", json={"name": "Ông Sáu", "assisted_listing_consent": True,
                                                "consent_note": "Ký giấy 3/5"}, headers=volunteer)
    assert created.status_code == 201, created.json
    assert created.json["slug"] == "ong-sau"
    assert created.json["consent_recorded_at"]
    assert (count(Seller), count(AuditEntry)) == (before[0] + 1, before[1] + 1)
    # ...and can now list for it.
    product = client.post(f"{A}/products", json={"seller_id": created.json["id"], "title_vi": "Bánh tráng",
                                                 "price": 20_000}, headers=volunteer)
    assert product.status_code == 201


def test_seller_validation(world, client, count):
    editor = world.auth(world.a.tokens["editor"])
    before = count(Seller)
    assert_error(client.post(f"{A}/sellers", json={"name": ""}, headers=editor), 422, "invalid_value", "name")
    assert_error(client.post(f"{A}/sellers", json={"name": "X", "phone": "call me"}, headers=editor), 422,
                 param="phone")
    assert_error(client.post(f"{A}/sellers", json={"name": "X", "user_id": 999_999}, headers=editor), 422,
                 param="user_id")
    assert count(Seller) == before


def test_categories(world, client, count):
    listing = client.get(f"{A}/categories")
    assert listing.status_code == 200
    assert [c["slug"] for c in listing.json["data"]] == ["nuoc-mam", "thu-cong"]
    editor = world.auth(world.a.tokens["editor"])

    created = client.post(f"{A}/categories", json={"name_vi": "Gốm", "name_en": "Pottery", "position": 3},
                          headers=editor)
    assert created.status_code == 201, created.json
    assert created.json["slug"] == "gom"
    category_id = created.json["id"]
    renamed = client.patch(f"{A}/categories/{category_id}", json={"name_en": "Ceramics"}, headers=editor)
    assert (renamed.json["name_vi"], renamed.json["name_en"]) == ("Gốm", "Ceramics")

    before = count(Category)
    assert_error(client.post(f"{A}/categories", json={"name_vi": ""}, headers=editor), 422, param="name_vi")
    assert_error(client.post(f"{A}/categories", json={"name_vi": "X"}, headers=world.auth(world.a.tokens["seller"])),
                 403)
    assert_error(client.post(f"{A}/categories", json={"name_vi": "X"}), 401)
    in_use = world.a.categories["sauce"]
    assert_error(client.delete(f"{A}/categories/{in_use}", headers=editor), 409, "category_in_use")
    assert_error(client.delete(f"{A}/categories/{category_id}", headers=world.auth(world.a.tokens["volunteer"])), 403)
    assert count(Category) == before

    deleted = client.delete(f"{A}/categories/{category_id}", headers=editor)
    assert deleted.status_code == 204
    assert count(Category) == before - 1
    assert_error(client.patch(f"{A}/categories/{category_id}", json={"name_vi": "Y"}, headers=editor), 404)


def test_audit_is_for_staff(world, client):
    assert client.get(f"{A}/audit", headers=world.auth(world.a.tokens["admin"])).json["total"] > 0
    assert_error(client.get(f"{A}/audit", headers=world.auth(world.a.tokens["volunteer"])), 403)
    assert_error(client.get(f"{A}/audit", headers=world.auth(world.a.tokens["seller"])), 403)
    assert_error(client.get(f"{A}/audit"), 401)
    entries = client.get(f"{A}/audit?per_page=100", headers=world.auth(world.a.tokens["admin"])).json["data"]
    assert {e["object_id"] for e in entries if e["object_type"] == "product"} == set(world.a.products.values())

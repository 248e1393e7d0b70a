"""Numbers no row can have (found by schemathesis): refused as a 404 or 422, never a database overflow (500).

Row ids are BIGINT; the drivers refuse to bind a larger integer, and a huge page number made an OFFSET
past it. Each is now bounded where it enters: the ``<id:...>`` route converter, RowId fields, MAX_PAGE.
"""

from __future__ import annotations

import pytest

from service.core.api import MAX_ID
from service.core.pagination import MAX_PAGE, clamp
from tests.api.conftest import assert_error

A = "/api/v1/communes/cam-thanh"
TOO_BIG = MAX_ID + 1


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/products/{TOO_BIG}"), ("GET", f"/products/{10**30}/images"), ("GET", "/products/0"),
    ("PATCH", f"/sellers/{TOO_BIG}"), ("DELETE", f"/products/1/images/{TOO_BIG}"),
    ("DELETE", f"/categories/{TOO_BIG}"),
])
def test_ids_in_the_path_beyond_any_row_are_not_found(world, client, method, path):
    response = client.open(f"{A}{path}", method=method, json={}, headers=world.auth(world.a.tokens["admin"]))
    assert_error(response, 404)


def test_ids_in_bodies_beyond_any_row_are_invalid(world, client, count):
    admin = world.auth(world.a.tokens["admin"])
    body = {"seller_id": TOO_BIG, "title_vi": "Nón lá", "price": 1}
    assert_error(client.post(f"{A}/products", json=body, headers=admin), 422, param="seller_id")
    body = {"seller_id": world.a.sellers["own"], "category_id": TOO_BIG, "title_vi": "Nón lá", "price": 1}
    assert_error(client.post(f"{A}/products", json=body, headers=admin), 422, param="category_id")
    assert_error(client.post(f"{A}/sellers", json={"name": "Cô Ba", "user_id": TOO_BIG}, headers=admin), 422,
                 param="user_id")
    # The largest id is a valid number, just not a row: the usual answer for a missing seller.
    body = {"seller_id": MAX_ID, "title_vi": "Nón lá", "price": 1}
    assert_error(client.post(f"{A}/products", json=body, headers=admin), 404, param="seller_id")


@pytest.mark.parametrize(("query", "param"), [
    (f"/audit?object_id={TOO_BIG}", "object_id"),
    (f"/audit?seller_id={TOO_BIG}", "seller_id"),
    (f"/products?scope=manage&seller_id={TOO_BIG}", "seller_id"),
    (f"/products?page={10**30}", "page"),
    (f"/search?page={MAX_PAGE + 1}", "page"),
    (f"/search?price_min={TOO_BIG}", "price_min"),
])
def test_query_numbers_beyond_the_bounds_are_invalid(world, client, query, param):
    response = client.get(f"{A}{query}", headers=world.auth(world.a.tokens["admin"]))
    assert_error(response, 422, param=param)


def test_the_last_page_number_is_answered(world, client):
    response = client.get(f"{A}/products?page={MAX_PAGE}")
    assert response.status_code == 200
    assert response.json["data"] == [] and response.json["page"] == MAX_PAGE


def test_pages_clamp_what_they_read_from_links():
    assert clamp(10**30, 10) == (MAX_PAGE, 10)
    assert clamp(0, 10**6) == (1, 100)


def test_the_openapi_document_states_the_bounds(client):
    spec = client.get("/api/openapi.json").json
    product_id = next(p for p in spec["paths"]["/api/v1/communes/{commune}/products/{product_id}"]["parameters"]
                      if p["name"] == "product_id")
    assert product_id["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    product_in = spec["components"]["schemas"]["ProductIn"]["properties"]["seller_id"]
    assert (product_in["minimum"], product_in["maximum"]) == (1, MAX_ID)

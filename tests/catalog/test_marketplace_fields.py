"""A product's brand, barcode (GTIN) and shipping weight: through the admin form and the API."""

from __future__ import annotations

import pytest

from service.catalog.models import Product
from service.catalog.services import valid_gtin
from service.db import PLATFORM, scoped
from tests.admin.helpers import sign_in, text
from tests.api.conftest import assert_error

ADMIN = "/c/cam-thanh/admin"
API = "/api/v1/communes/cam-thanh/products"


def _product(db_session, product_id: int) -> Product:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        product = db_session.get(Product, product_id)
    assert product is not None
    return product


def _form(**overrides: str) -> dict[str, str]:
    data = {"title_vi": "Nước mắm cá cơm", "title_en": "", "price": "150.000", "stock": "10", "unit": "chai",
            "category_id": "", "ocop_stars": "4", "ocop_certificate_number": "OCOP-01",
            "ocop_certificate_year": "2023", "description_vi": "", "description_en": "", "brand": "",
            "gtin": "", "weight_grams": ""}
    return data | overrides


@pytest.mark.parametrize(("code", "ok"), [
    ("8934563138165", True), ("96385074", True), ("036000291452", True), ("10012345678902", True),
    ("8934563138166", False), ("893456313816", False), ("89345631381a5", False), ("", False),
])
def test_gs1_check_digit(code, ok):
    assert valid_gtin(code) is ok


def test_admin_form_saves_the_marketplace_fields(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    product_id = world.a.products["published"]
    response = client.post(f"{ADMIN}/products/{product_id}/edit",
                           data=_form(brand="Tư Tài", gtin="8934563138165", weight_grams="700"))
    assert response.status_code in (302, 303), text(response)
    product = _product(db_session, product_id)
    assert (product.brand, product.gtin, product.weight_grams) == ("Tư Tài", "8934563138165", 700)
    page = text(client.get(f"{ADMIN}/products/{product_id}/edit?lang=en"))
    assert 'value="8934563138165"' in page and 'value="700"' in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("gtin", "8934563138166", "Check the last digit"),
    ("gtin", "12345", "Check the last digit"),
    ("weight_grams", "0", "weight in grams"),
    ("weight_grams", "1.5", "weight in grams"),
    ("brand", "B" * 71, "70 characters"),
])
def test_admin_form_explains_bad_values(client, db_session, world, field, value, message):
    sign_in(client, db_session, world.a.users["admin"])
    product_id = world.a.products["published"]
    response = client.post(f"{ADMIN}/products/{product_id}/edit?lang=en", data=_form(**{field: value}))
    assert response.status_code == 422
    assert message in text(response)
    assert _product(db_session, product_id).gtin == ""


def test_api_reads_and_writes_the_marketplace_fields(client, world):
    headers = world.auth(world.a.tokens["admin"])
    url = f"{API}/{world.a.products['published']}"
    response = client.patch(url, json={"brand": "Tư Tài", "gtin": "96385074", "weight_grams": 500}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = client.get(url, headers=headers).json
    assert (body["brand"], body["gtin"], body["weight_grams"]) == ("Tư Tài", "96385074", 500)
    response = client.patch(url, json={"gtin": "", "weight_grams": None}, headers=headers)
    assert (response.json["gtin"], response.json["weight_grams"]) == ("", None)


@pytest.mark.parametrize(("payload", "param"), [
    ({"gtin": "96385075"}, "gtin"), ({"gtin": "abc"}, "gtin"), ({"weight_grams": 0}, "weight_grams"),
    ({"weight_grams": -5}, "weight_grams"), ({"brand": "x" * 71}, "brand"),
])
def test_api_refuses_bad_values_with_422(client, world, payload, param):
    headers = world.auth(world.a.tokens["admin"])
    response = client.patch(f"{API}/{world.a.products['published']}", json=payload, headers=headers)
    assert_error(response, 422, param=param)

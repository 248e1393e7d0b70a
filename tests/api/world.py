"""The two-commune world of tests/factories.py, filled with everything the API can address by id.

Each commune gets an order placed through the checkout pages (cash on delivery, so its payment
intent is the checkout's), a paid intent with a partial refund, an unconfirmed intent, a webhook
endpoint and a product photo: the hardening tests then have a real object behind every path
parameter of the OpenAPI document.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.db import Scope, database
from service.payments import services as payments
from tests.factories import Commune, World
from tests.media.imagegen import encode, photo

BUYER = {"name": "Nguyễn Thị Lan", "phone": "0905 123 456", "email": "", "province": "Quảng Nam",
         "district": "Hội An", "ward": "Cẩm Thanh", "street": "12 Thôn 2", "note": ""}


@dataclass
class ApiObjects:
    """One commune's addressable objects, by the name of the path parameter that reaches them."""

    slug: str
    ids: dict[str, list[Any]] = field(default_factory=dict)  # path parameter name -> values
    image_product: int = 0  # the product whose photo is ids["image_id"]
    paid_intent: str = ""  # a succeeded payment_intent, partly refunded


@dataclass
class ApiWorld:
    world: World
    a: ApiObjects
    b: ApiObjects


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.json
    return body


def _fill(app: Flask, client: FlaskClient, world: World, commune: Commune) -> ApiObjects:
    api = f"/api/v1/communes/{commune.slug}"
    admin = world.auth(commune.tokens["admin"])
    objects = ApiObjects(slug=commune.slug)

    # An order as a buyer places it: cart, checkout page, cash on delivery.
    buyer = app.test_client()
    _ok(buyer.post(f"/c/{commune.slug}/cart/add", data={"product_id": commune.products["published"],
                                                          "quantity": 1}), 303)
    _ok(buyer.post(f"/c/{commune.slug}/checkout", data={**BUYER, "payment_method": "cod"}), 303)

    open_intent = _ok(client.post(f"{api}/payment_intents", json={"amount": 90_000}, headers=admin))
    paid = _ok(client.post(f"{api}/payment_intents", json={"amount": 120_000, "payment_method": "cod",
                                                           "confirm": True}, headers=admin))
    with app.app_context(), database(app).session(Scope(commune.id)) as session:
        intent = payments.get_intent(session, paid["id"])
        payments.succeed(session, intent, intent.amount)
        session.commit()
    refund = _ok(client.post(f"{api}/refunds", json={"payment_intent": paid["id"], "amount": 20_000},
                             headers=admin))
    intents = [row["id"] for row in _ok(client.get(f"{api}/payment_intents?limit=100", headers=admin))["data"]]
    assert open_intent["id"] in intents and len(intents) == 3  # the checkout's, the open and the paid one
    events = [row["id"] for row in _ok(client.get(f"{api}/events?limit=100", headers=admin))["data"]]
    endpoint = _ok(client.post(f"{api}/webhook_endpoints", json={"url": "https://hooks.example.vn/xaso"},
                               headers=admin), 201)

    product = commune.products["published"]
    picture = encode(photo(320, 240, seed=commune.id), "JPEG", quality=80)
    image = _ok(client.post(f"{api}/products/{product}/images", data={"file": (io.BytesIO(picture), "p.jpg")},
                            headers=admin, content_type="multipart/form-data"), 201)

    objects.image_product = product
    objects.paid_intent = paid["id"]
    objects.ids = {
        "commune": [commune.slug],
        "product_id": list(commune.products.values()),
        "seller_id": list(commune.sellers.values()),
        "category_id": list(commune.categories.values()),
        "image_id": [image["id"]],
        "intent_id": intents,
        "refund_id": [refund["id"]],
        "event_id": events,
        "public_id": [endpoint["id"]],
    }
    return objects


def build_api_world(app: Flask, world: World) -> ApiWorld:
    client = app.test_client()
    return ApiWorld(world=world, a=_fill(app, client, world, world.a), b=_fill(app, client, world, world.b))

"""Cart and checkout through the pages (no JavaScript): prices from the database, stock held and
released, orders split per seller, nothing half-written when checkout fails."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from service.catalog.models import Product
from service.db import PLATFORM, Scope, database
from service.orders import services as orders
from service.orders.models import FulfilmentStatus, Order, OrderStatus, SellerOrder
from service.payments import services as payments
from service.payments.models import IntentStatus, PaymentIntent

BUYER = {"name": "Nguyễn Thị Lan", "phone": "0905 123 456", "email": "", "province": "Quảng Nam",
         "district": "Hội An", "ward": "Cẩm Thanh", "street": "12 Thôn 2", "note": "Gọi trước khi giao"}


def stock(app, product_id):
    with database(app).session(PLATFORM) as session:
        return session.get(Product, product_id).stock


def count(app, model):
    with database(app).session(PLATFORM) as session:
        return session.scalar(select(func.count()).select_from(model))


def add(client, product_id, quantity=1):
    return client.post("/c/cam-thanh/cart/add", data={"product_id": product_id, "quantity": quantity})


def checkout(client, method="cod", **changes):
    return client.post("/c/cam-thanh/checkout", data={**BUYER, "payment_method": method, **changes})


def test_cart_without_javascript(client, world):
    sauce, basket = world.a.products["published"], world.a.products["cheap"]
    assert add(client, sauce, 2).status_code == 303
    assert add(client, basket).status_code == 303
    page = client.get("/c/cam-thanh/cart").get_data(as_text=True)
    assert "Nước mắm cá cơm" in page and "Giỏ tre" in page and "345.000 ₫" in page  # 2×150.000 + 45.000
    assert "Giỏ hàng (3)" in page
    client.post("/c/cam-thanh/cart/update", data={f"quantity_{sauce}": "1", f"quantity_{basket}": "1",
                                                  "remove": str(basket)})
    page = client.get("/c/cam-thanh/cart").get_data(as_text=True)
    assert "Giỏ tre" not in page and "150.000 ₫" in page
    # more than the stock, a draft, another commune's product
    response = add(client, sauce, 50)
    assert response.status_code == 303
    assert "Không đủ hàng" in client.get("/c/cam-thanh/cart").get_data(as_text=True)
    assert add(client, world.a.products["draft"]).status_code == 404
    assert add(client, world.b.products["published"]).status_code == 404


def test_cod_checkout_splits_per_seller_holds_stock_and_shows_the_order(app, client, world):
    sauce, basket = world.a.products["published"], world.a.products["cheap"]
    add(client, sauce, 3)
    add(client, basket, 2)
    response = checkout(client)
    assert response.status_code == 303
    order_url = response.headers["Location"]
    assert re.match(r"^/c/cam-thanh/orders/[A-Za-z0-9_-]{40,}$", order_url)
    assert stock(app, sauce) == 7 and stock(app, basket) == 8
    with database(app).session(PLATFORM) as session:
        order = session.scalars(select(Order)).one()
        assert (order.status, order.total, order.subtotal) == (OrderStatus.PLACED, 540_000, 540_000)
        assert sorted((p.subtotal, p.status) for p in order.parts) == [
            (90_000, FulfilmentStatus.CONFIRMED), (450_000, FulfilmentStatus.CONFIRMED)]
        intents = session.scalars(select(PaymentIntent).order_by(PaymentIntent.amount)).all()
        assert [(i.amount, i.payment_method, i.status) for i in intents] == [
            (90_000, "cod", IntentStatus.PROCESSING), (450_000, "cod", IntentStatus.PROCESSING)]
    page = client.get(order_url)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    text = page.get_data(as_text=True)
    assert "540.000 ₫" in text and "Nguyễn Thị Lan" in text
    assert client.get("/c/cam-thanh/cart").get_data(as_text=True).count("Giỏ hàng (") == 0  # emptied
    assert client.get("/c/cam-thanh/orders/not-a-real-secret").status_code == 404
    assert client.get(order_url.replace("cam-thanh", "nam-phuoc")).status_code == 404


def test_bad_checkout_input_saves_nothing(app, client, world):
    add(client, world.a.products["published"], 2)
    for changes in ({"phone": "12"}, {"name": ""}, {"street": ""}, {"email": "not-an-email"},
                    {"payment_method": "bitcoin"}):
        response = checkout(client, **changes)
        assert response.status_code == 422, changes
        assert 'class="field-error"' in response.get_data(as_text=True) or "form-errors" in response.get_data(
            as_text=True)
    assert count(app, Order) == 0 and count(app, PaymentIntent) == 0
    assert stock(app, world.a.products["published"]) == 10


def test_a_too_long_address_is_refused_in_the_buyers_language(app, client, world):
    add(client, world.a.products["published"], 1)
    response = checkout(client, street="x" * 201)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Quá dài: hãy viết ngắn lại." in page and "At most" not in page
    assert count(app, Order) == 0


def test_when_the_stock_ran_out_meanwhile_nothing_is_held(app, client, world):
    sauce, basket = world.a.products["published"], world.a.products["cheap"]
    add(client, basket, 2)
    add(client, sauce, 5)
    other = client.application.test_client()
    add(other, sauce, 8)
    assert checkout(other).status_code == 303
    response = checkout(client)
    assert response.status_code == 422
    assert count(app, Order) == 1
    assert stock(app, sauce) == 2 and stock(app, basket) == 10  # the basket was not held either


def test_fulfilment_by_each_seller_and_cash_collected_on_delivery(app, client, world):
    from tests.admin.helpers import sign_in

    add(client, world.a.products["published"], 1)
    add(client, world.a.products["cheap"], 1)
    checkout(client)
    with database(app).session(PLATFORM) as session:
        parts = {p.seller_id: p.id for p in session.scalars(select(SellerOrder))}
    own, other = parts[world.a.sellers["own"]], parts[world.a.sellers["other"]]
    seller = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(seller, db_session, world.a.users["seller"])
    listing = seller.get("/c/cam-thanh/admin/orders").get_data(as_text=True)
    assert f"/admin/orders/{own}" in listing and f"/admin/orders/{other}" not in listing
    assert seller.get(f"/c/cam-thanh/admin/orders/{other}").status_code == 404
    for step in ("pack", "ship", "deliver"):
        assert seller.post(f"/c/cam-thanh/admin/orders/{own}", data={"step": step}).status_code == 303
    assert seller.post(f"/c/cam-thanh/admin/orders/{own}", data={"step": "ship"}).status_code == 409
    staff = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(staff, db_session, world.a.users["editor"])
    assert staff.post(f"/c/cam-thanh/admin/orders/{other}", data={"step": "cancel"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        order = session.scalars(select(Order)).one()
        assert order.status == OrderStatus.COMPLETED
        statuses = {p.seller_id: p.status for p in order.parts}
        assert statuses == {world.a.sellers["own"]: FulfilmentStatus.DELIVERED,
                            world.a.sellers["other"]: FulfilmentStatus.CANCELED}
        intents = {i.seller_order_id: i.status for i in session.scalars(select(PaymentIntent))}
        assert intents == {own: IntentStatus.SUCCEEDED, other: IntentStatus.CANCELED}
    assert stock(app, world.a.products["cheap"]) == 10 and stock(app, world.a.products["published"]) == 9
    # b's staff cannot touch a's orders
    outsider = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(outsider, db_session, world.b.users["admin"])
    assert outsider.get(f"/c/cam-thanh/admin/orders/{own}").status_code == 404
    assert outsider.get(f"/c/nam-phuoc/admin/orders/{own}").status_code == 404


def test_unpaid_orders_expire_and_give_the_stock_back(app, world):
    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        cart = {world.a.products["published"]: 4}
        buyer = orders.Buyer(**{k: v for k, v in BUYER.items()})
        order = orders.checkout(session, cart, buyer, "vnpay", {"return_url": "http://127.0.0.1/r",
                                                                "ip_address": "127.0.0.1", "locale": "vn",
                                                                "commune_slug": "cam-thanh"})
        session.commit()
        assert stock(app, world.a.products["published"]) == 6
        [intent] = orders.intents_of(session, order)
        intent.expires_at = intent.created_at  # as if fifteen minutes had passed
        session.commit()
        assert payments.expire_due(session) == 1
        session.commit()
        assert order.status == OrderStatus.CANCELED and intent.status == IntentStatus.CANCELED
    assert stock(app, world.a.products["published"]) == 10


def test_vietqr_checkout_one_code_per_seller_confirmed_by_each_seller(app, client, world):
    from service.catalog import services as catalog
    from service.tenants.services import SYSTEM
    from tests.admin.helpers import sign_in

    with app.app_context(), database(app).session(Scope(world.a.id)) as session:
        for key, bin_ in (("own", "970405"), ("other", "970436")):
            seller = catalog.get_seller(session, world.a.sellers[key])
            catalog.update_seller(session, SYSTEM, seller, {"bank_bin": bin_, "bank_account_number": "0123456789",
                                                           "bank_account_name": seller.name})
        session.commit()
    add(client, world.a.products["published"], 1)
    add(client, world.a.products["cheap"], 2)
    response = checkout(client, "vietqr")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    codes = re.findall(r'<img src="(/c/cam-thanh/pay/pi_[0-9a-f]+/qr\.svg)"', page)
    assert len(codes) == 2 and "Nội dung chuyển khoản" in page
    svg = client.get(codes[0])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    with database(app).session(PLATFORM) as session:
        parts = {p.seller_id: p.id for p in session.scalars(select(SellerOrder))}
    seller = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(seller, db_session, world.a.users["seller"])
    own = parts[world.a.sellers["own"]]
    assert seller.post(f"/c/cam-thanh/admin/orders/{own}", data={"step": "confirm_transfer"}).status_code == 303
    assert seller.post(f"/c/cam-thanh/admin/orders/{own}", data={"step": "confirm_transfer"}).status_code == 409
    with database(app).session(PLATFORM) as session:
        assert session.scalars(select(Order)).one().status == OrderStatus.AWAITING_PAYMENT
    staff = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(staff, db_session, world.a.users["editor"])
    other = parts[world.a.sellers["other"]]
    assert staff.post(f"/c/cam-thanh/admin/orders/{other}", data={"step": "confirm_transfer"}).status_code == 303
    with database(app).session(PLATFORM) as session:
        order = session.scalars(select(Order)).one()
        assert order.status == OrderStatus.PLACED
        assert {p.status for p in order.parts} == {FulfilmentStatus.CONFIRMED}


def test_the_buyer_gets_order_emails_through_the_outbox(app, client, world):
    from pathlib import Path

    add(client, world.a.products["published"], 1)
    assert checkout(client, email="lan@example.vn").status_code == 303
    mails = sorted(Path(app.config["INSTANCE_PATH"], "mail").glob("*.eml"))
    assert len(mails) == 1  # delivered right after the request (inline outbox delivery)
    with database(app).session(PLATFORM) as session:
        number = session.scalars(select(Order.number)).one()
    text = mails[0].read_text(encoding="utf-8", errors="replace")
    assert "lan@example.vn" in text and number in text


def test_cli_expires_unpaid_orders(app, client, world, database_url, tmp_path):
    from click.testing import CliRunner

    from service.cli import main

    add(client, world.a.products["published"], 2)
    assert checkout(client, "vnpay").status_code == 303
    with database(app).session(PLATFORM) as session:
        intent = session.scalars(select(PaymentIntent)).one()
        intent.expires_at = intent.created_at
        session.commit()
    env = {"DATABASE_URL": database_url, "XASO_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret"}
    result = CliRunner().invoke(main, ["payments", "expire"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "expired 1 payments, forgot 0 idempotency keys" in result.output
    assert stock(app, world.a.products["published"]) == 10

"""A tourist buys with VNPay end to end, over real HTTP: our pages, the simulator's pay page, its signed
IPN back to us, the return page; and an abandoned payment that expires and gives the stock back."""

from __future__ import annotations

import requests
from sqlalchemy import select

from service.catalog.models import Product
from service.db import PLATFORM, database
from service.orders.models import FulfilmentStatus, Order, OrderStatus
from service.payments.models import IntentStatus, PaymentIntent
from tests.factories import build_world
from tests.payments.conftest import choose_at_bank

BUYER = {"name": "Trần Văn An", "phone": "0912345678", "email": "", "province": "Hà Nội", "district": "Ba Đình",
         "ward": "Kim Mã", "street": "5 Ngõ 12", "note": ""}


def _order(app):
    with database(app).session(PLATFORM) as session:
        order = session.scalars(select(Order)).one()
        intent = session.scalars(select(PaymentIntent)).one()
        stock = session.get(Product, order.parts[0].lines[0].product_id).stock
        return order, intent, stock


def _buy(live, product_id, quantity=2):
    browser = requests.Session()
    browser.post(f"{live}/c/cam-thanh/cart/add", data={"product_id": product_id, "quantity": quantity}, timeout=10)
    response = browser.post(f"{live}/c/cam-thanh/checkout", data={**BUYER, "payment_method": "vnpay"},
                            allow_redirects=False, timeout=20)
    assert response.status_code == 303, response.text
    return browser, response.headers["Location"]


def test_a_vnpay_purchase_from_cart_to_paid_order(app, live, sandbox):
    world = build_world(app)
    product_id = world.a.products["published"]
    browser, pay_url = _buy(live, product_id)
    assert pay_url.startswith(sandbox.pay_url) and "vnp_Amount=30000000" in pay_url  # 2 × 150.000 đ × 100
    order, intent, stock = _order(app)
    assert (order.status, intent.status, stock) == (OrderStatus.AWAITING_PAYMENT, IntentStatus.REQUIRES_ACTION, 8)

    back = choose_at_bank(pay_url, "pay")  # the simulator calls our IPN, then sends the buyer back
    order, intent, stock = _order(app)
    assert (order.status, intent.status, intent.amount_received) == (OrderStatus.PLACED, IntentStatus.SUCCEEDED,
                                                                     300_000)
    assert {part.status for part in order.parts} == {FulfilmentStatus.CONFIRMED}
    page = browser.get(back, timeout=10)
    assert page.status_code == 200 and order.number in page.text
    order_page = browser.get(f"{live}/c/cam-thanh/orders/{order.secret}", timeout=10)
    assert "Đã đặt" in order_page.text and "300.000 ₫" in order_page.text


def test_an_abandoned_vnpay_payment_expires_and_the_stock_returns(app, live, sandbox):
    world = build_world(app)
    product_id = world.a.products["published"]
    _browser, pay_url = _buy(live, product_id, 3)
    back = choose_at_bank(pay_url, "cancel")
    order, intent, stock = _order(app)
    assert (order.status, intent.status, stock) == (OrderStatus.AWAITING_PAYMENT, IntentStatus.REQUIRES_ACTION, 7)
    assert requests.get(back, timeout=10).status_code == 200  # the return page only shows the result
    with app.app_context(), database(app).session(PLATFORM) as session:
        stored = session.get(PaymentIntent, intent.id)
        stored.expires_at = stored.created_at
        session.commit()
        from service.payments.services import expire_everywhere

        assert expire_everywhere(session) == 1
    order, intent, stock = _order(app)
    assert (order.status, intent.status, stock) == (OrderStatus.CANCELED, IntentStatus.CANCELED, 10)

"""A seller's dashboard through its page: orders to fulfil, stock running low, payouts owed (VNPay paid over
real HTTP through the simulator, refunds made by a seller's cancellation and by staff through the API), and
its VietQR; one seller never sees another's, nor a commune another's."""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

import requests
from sqlalchemy import select

from service.accounts.services import create_user
from service.catalog import services as catalog
from service.catalog.models import Product, Seller
from service.core.clock import format_local
from service.db import PLATFORM, Scope, database, scoped
from service.orders.models import FulfilmentStatus, Order, SellerOrder
from service.payments import vietqr
from service.payments.models import IntentStatus, PaymentIntent, RefundStatus
from service.tenants.models import Role, Tenant
from service.tenants.services import SYSTEM, add_member
from tests.admin.helpers import sign_in, text
from tests.factories import PASSWORD, World, build_world
from tests.payments.conftest import app, choose_at_bank, live, sandbox  # noqa: F401  (VNPay over real HTTP)
from tests.payments.test_vietqr import fields_of, parse_tlv

BUYER = {"name": "Trần Văn An", "phone": "0912345678", "email": "", "province": "Hà Nội", "district": "Ba Đình",
         "ward": "Kim Mã", "street": "5 Ngõ 12", "note": ""}
AGRIBANK = "970405"
SECOND_SELLER = "seller2@cam-thanh.test"


@dataclass
class Shop:
    world: World
    numbers: dict[str, str]  # order key -> order number
    parts: dict[tuple[str, str], int]  # (order key, "own" | "other") -> seller order id
    new_products: dict[str, int]


def _buy(base_url: str, slug: str, cart: dict[int, int], method: str) -> str:
    """A buyer's browser: cart, checkout; returns where checkout sends it (VNPay's page or the order)."""
    browser = requests.Session()
    for product_id, quantity in cart.items():
        browser.post(f"{base_url}/c/{slug}/cart/add", data={"product_id": product_id, "quantity": quantity}, timeout=10)
    response = browser.post(f"{base_url}/c/{slug}/checkout", data={**BUYER, "payment_method": method},
                            allow_redirects=False, timeout=20)
    assert response.status_code == 303, response.text
    return str(response.headers["Location"])


def _latest_order(app) -> tuple[str, dict[int, int]]:  # noqa: F811
    with database(app).session(PLATFORM) as session:
        order = session.scalars(select(Order).order_by(Order.id.desc())).first()
        assert order is not None
        return order.number, {part.seller_id: part.id for part in order.parts}


def _step(client, part_id: int, *steps: str) -> None:
    for step in steps:
        response = client.post(f"/c/cam-thanh/admin/orders/{part_id}", data={"step": step})
        assert response.status_code == 303, (step, response.status_code)


def build_shop(app, live) -> Shop:  # noqa: F811
    world = build_world(app)
    own_id, other_id = world.a.sellers["own"], world.a.sellers["other"]
    sauce, basket = world.a.products["published"], world.a.products["cheap"]
    with app.app_context(), database(app).session(PLATFORM) as session, scoped(session, Scope(world.a.id)):
        tenant = session.get(Tenant, world.a.id)
        second = create_user(session, email=SECOND_SELLER, name="Chị Hai", password=PASSWORD)
        add_member(session, tenant, second, Role.SELLER)
        catalog.update_seller(session, SYSTEM, session.get(Seller, other_id), {"user_id": second.id})
        catalog.update_seller(session, SYSTEM, session.get(Seller, own_id), {
            "bank_bin": AGRIBANK, "bank_account_number": "3700205123456", "bank_account_name": "NGUYEN THI TU"})
        session.commit()

    numbers: dict[str, str] = {}
    parts: dict[tuple[str, str], int] = {}

    def record(key: str) -> None:
        numbers[key], by_seller = _latest_order(app)
        for name, seller_id in (("own", own_id), ("other", other_id)):
            if seller_id in by_seller:
                parts[(key, name)] = by_seller[seller_id]

    # V1: VNPay for both sellers (300.000 + 45.000), paid; the other seller cancels its part (refund 45.000).
    choose_at_bank(_buy(live, "cam-thanh", {sauce: 2, basket: 1}, "vnpay"))
    record("v1")
    # V2: VNPay for both (150.000 + 90.000), paid; staff refund 24.000 of it through the API.
    choose_at_bank(_buy(live, "cam-thanh", {sauce: 1, basket: 2}, "vnpay"))
    record("v2")
    # C1 and C2: cash on delivery, the own seller's only; C2 is cancelled by the seller.
    _buy(live, "cam-thanh", {sauce: 1}, "cod")
    record("c1")
    _buy(live, "cam-thanh", {sauce: 1}, "cod")
    record("c2")
    # X: VNPay abandoned at the bank: it stays unpaid (not to fulfil, nothing collected).
    choose_at_bank(_buy(live, "cam-thanh", {sauce: 1}, "vnpay"), "cancel")
    record("x")
    # Q: VietQR to the own seller's account, not yet confirmed: the seller looks out for the transfer.
    _buy(live, "cam-thanh", {sauce: 1}, "vietqr")
    record("q")
    # In the other commune, its own seller's order (never on cam-thanh's pages).
    world_b_sauce = world.b.products["published"]
    _buy(live, "nam-phuoc", {world_b_sauce: 1}, "cod")
    numbers["b"], _ = _latest_order(app)

    own, other, staff = app.test_client(), app.test_client(), app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(own, db_session, world.a.users["seller"])
        sign_in(other, db_session, SECOND_SELLER)
        sign_in(staff, db_session, world.a.users["editor"])
    _step(own, parts[("v1", "own")], "pack", "ship", "deliver")
    _step(other, parts[("v1", "other")], "cancel")
    _step(own, parts[("c1", "own")], "pack")
    _step(own, parts[("c2", "own")], "cancel")
    with database(app).session(PLATFORM) as session:
        v2 = session.scalars(select(PaymentIntent).join(Order, Order.id == PaymentIntent.order_id)
                             .where(Order.number == numbers["v2"])).one()
        v2_intent = v2.public_id
    response = staff.post("/api/v1/communes/cam-thanh/refunds", json={"payment_intent": v2_intent, "amount": 24_000},
                          headers=world.auth(world.a.tokens["editor"]))
    assert response.status_code == 200 and response.json["status"] == "succeeded", response.json

    new_products: dict[str, int] = {}
    with app.app_context(), database(app).session(PLATFORM) as session, scoped(session, Scope(world.a.id)):
        catalog.update_product(session, SYSTEM, session.get(Product, sauce), {"stock": 3})
        catalog.update_product(session, SYSTEM, session.get(Product, basket), {"stock": 1})
        catalog.update_product(session, SYSTEM, session.get(Product, world.a.products["draft"]), {"stock": 0})
        for key, title, stock in (("sold_out", "Mật ong rừng", 0), ("five", "Bánh tráng", 5),
                                  ("six", "Chiếu cói", 6)):
            product = catalog.create_product(session, SYSTEM, {"seller_id": own_id, "title_vi": title, "price": 20_000,
                                                               "stock": stock, "unit": "gói"})
            catalog.change_status(session, SYSTEM, product, "submit")
            catalog.change_status(session, SYSTEM, product, "approve")
            new_products[key] = product.id
        session.commit()
    return Shop(world=world, numbers=numbers, parts=parts, new_products=new_products)


def _state(app, shop: Shop) -> dict[str, object]:  # noqa: F811
    """What the database says, to make sure the world is the one the figures assume."""
    with database(app).session(PLATFORM) as session:
        statuses = {key: session.get(SellerOrder, part_id).status for key, part_id in shop.parts.items()}
        intents = {intent.order_id: intent for intent in session.scalars(select(PaymentIntent))}
        orders = {order.number: order for order in session.scalars(select(Order))}
        refunds = {key: sorted((r.amount, r.status) for r in intents[orders[shop.numbers[key]].id].refunds)
                   for key in ("v1", "v2")}
        paid_at = {key: format_local(intents[orders[shop.numbers[key]].id].succeeded_at) for key in ("v1", "v2")}
        placed = {key: format_local(orders[shop.numbers[key]].placed_at or orders[shop.numbers[key]].created_at)
                  for key in ("v2", "c1", "q")}
        x_status = intents[orders[shop.numbers["x"]].id].status
    return {"statuses": statuses, "refunds": refunds, "paid_at": paid_at, "placed": placed, "x": x_status}


def _section(page: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, heading_id
    return match.group(1)


def _rows(section: str) -> list[list[str]]:
    """Each table row's cells as plain text."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells])
    return rows


def test_the_sellers_own_dashboard_in_vietnamese_and_english(app, live, sandbox):  # noqa: F811
    shop = build_shop(app, live)
    state = _state(app, shop)
    assert state["statuses"] == {
        ("v1", "own"): FulfilmentStatus.DELIVERED, ("v1", "other"): FulfilmentStatus.CANCELED,
        ("v2", "own"): FulfilmentStatus.CONFIRMED, ("v2", "other"): FulfilmentStatus.CONFIRMED,
        ("c1", "own"): FulfilmentStatus.PACKED, ("c2", "own"): FulfilmentStatus.CANCELED,
        ("x", "own"): FulfilmentStatus.AWAITING_PAYMENT, ("q", "own"): FulfilmentStatus.AWAITING_PAYMENT}
    assert state["refunds"] == {"v1": [(45_000, RefundStatus.SUCCEEDED)], "v2": [(24_000, RefundStatus.SUCCEEDED)]}
    assert state["x"] == IntentStatus.REQUIRES_ACTION
    numbers, parts = shop.numbers, shop.parts
    client = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(client, db_session, shop.world.a.users["seller"])
    response = client.get("/c/cam-thanh/admin/")
    assert response.status_code == 200
    page = text(response)
    assert "Cửa hàng của bạn tại Cẩm Thanh" in page

    fulfil = _section(page, "fulfil-heading")
    assert "Đơn cần giao (3)" in fulfil
    # counts per status, each a link to the filtered order list
    counts = dict(re.findall(r'status=(\w+)"><strong>(\d+)</strong>', fulfil))
    assert counts == {"awaiting_payment": "2", "confirmed": "1", "packed": "1", "shipped": "0", "delivered": "1",
                      "canceled": "1"}
    # oldest first: V2 (confirmed), C1 (packed), Q (a transfer to look out for); date, items, amount, link
    assert _rows(fulfil)[1:] == [
        [numbers["v2"], state["placed"]["v2"], "1 × Nước mắm cá cơm", "150.000 ₫", "VNPAY", "Cần chuẩn bị"],
        [numbers["c1"], state["placed"]["c1"], "1 × Nước mắm cá cơm", "150.000 ₫", "COD", "Đã đóng gói"],
        [numbers["q"], state["placed"]["q"], "1 × Nước mắm cá cơm", "150.000 ₫", "VIETQR",
         "Kiểm tra tài khoản ngân hàng xem tiền chuyển khoản đã về chưa"]]
    assert f'href="/c/cam-thanh/admin/orders/{parts[("v2", "own")]}"' in fulfil
    assert numbers["x"] not in fulfil and numbers["c2"] not in fulfil and numbers["v1"] not in fulfil

    stock = _section(page, "stock-heading")
    new = shop.new_products
    assert _rows(stock)[1:] == [["Mật ong rừng", "Hết hàng"], ["Nước mắm cá cơm", "3"], ["Bánh tráng", "5"]]
    assert f'href="/c/cam-thanh/admin/products/{new["sold_out"]}/edit"' in stock
    assert "Giỏ tre" not in stock and "Chiếu cói" not in stock and "Rổ mây" not in stock  # other's, 6 left, draft

    payouts = _section(page, "payouts-heading")
    assert _rows(payouts)[1:] == [
        [numbers["v2"], state["paid_at"]["v2"], "Cần chuẩn bị", "150.000 ₫", "15.000 ₫", "135.000 ₫"],
        [numbers["v1"], state["paid_at"]["v1"], "Đã giao", "300.000 ₫", "0 ₫", "300.000 ₫"],
        ["Tổng (2 đơn)", "450.000 ₫", "15.000 ₫", "435.000 ₫"]]
    assert numbers["c1"] not in payouts and numbers["x"] not in payouts and numbers["q"] not in payouts

    qr = _section(page, "qr-heading")
    expected = vietqr.payload(bank_bin=AGRIBANK, account_number="3700205123456", amount=None)
    assert vietqr.svg_inline(expected, title="VietQR Cơ sở Tư Tài Cẩm Thanh") in qr
    assert "Agribank" in qr and "3700205123456" in qr and "NGUYEN THI TU" in qr
    root = fields_of(expected)
    assert (root["01"], "54" in root) == ("11", False)  # static: the payer's app asks for the amount
    assert dict(parse_tlv(dict(parse_tlv(root["38"]))["01"])) == {"00": AGRIBANK, "01": "3700205123456"}
    assert root["63"] == f"{binascii.crc_hqx(expected[:-4].encode(), 0xFFFF):04X}"

    english = text(client.get("/c/cam-thanh/admin/?lang=en"))
    assert "Your shop in Cẩm Thanh" in english and "Orders to fulfil (3)" in english
    assert "Stock running low (5 or fewer left)" in english and "Sold out" in english
    assert "Payouts owed to date" in english and "Total (2 orders)" in english and "435.000 ₫" in english
    assert "Your VietQR code" in english and "the commune pays your share out to you" in english


def test_a_seller_sees_only_its_own_and_only_in_its_commune(app, live, sandbox):  # noqa: F811
    shop = build_shop(app, live)
    numbers, parts = shop.numbers, shop.parts
    client = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(client, db_session, SECOND_SELLER)
    page = text(client.get("/c/cam-thanh/admin/?lang=en"))
    fulfil = _section(page, "fulfil-heading")
    assert _rows(fulfil)[1:] == [[numbers["v2"], _state(app, shop)["placed"]["v2"], "2 × Giỏ tre", "90.000 ₫",
                                  "VNPAY", "To prepare"]]
    payouts = _section(page, "payouts-heading")
    assert [row[0] for row in _rows(payouts)[1:-1]] == [numbers["v2"], numbers["v1"]]
    assert [row[-3:] for row in _rows(payouts)[1:]] == [
        ["90.000 ₫", "9.000 ₫", "81.000 ₫"],  # 24.000 shared 150:90 with the own seller's part
        ["45.000 ₫", "45.000 ₫", "0 ₫"],  # cancelled by the seller: refunded in full
        ["135.000 ₫", "54.000 ₫", "81.000 ₫"]]
    assert _rows(_section(page, "stock-heading"))[1:] == [["Giỏ tre", "1"]]
    # nothing of the first seller's: its parts, products, account
    for part_id in (parts[("v2", "own")], parts[("c1", "own")], parts[("v1", "own")]):
        assert f"/admin/orders/{part_id}\"" not in page
    assert "Nước mắm" not in page and "3700205123456" not in page
    assert numbers["c1"] not in page and numbers["q"] not in page
    assert "No bank account is set for HTX Rau Cẩm Thanh yet" in page
    assert "<svg" not in page

    # another commune: 404; anonymous: to the sign-in page; the other commune's orders never show
    assert client.get("/c/nam-phuoc/admin/").status_code == 404
    assert numbers["b"] not in page
    anonymous = app.test_client().get("/c/cam-thanh/admin/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login?next=")


    # staff open any seller's dashboard from the sellers' list; a seller cannot open another's
    staff = app.test_client()
    with database(app).session(PLATFORM) as db_session:
        sign_in(staff, db_session, shop.world.a.users["editor"])
    own_id, other_id = shop.world.a.sellers["own"], shop.world.a.sellers["other"]
    assert f'href="/c/cam-thanh/admin/sellers/{own_id}/dashboard"' in text(staff.get("/c/cam-thanh/admin/sellers"))
    as_staff = text(staff.get(f"/c/cam-thanh/admin/sellers/{own_id}/dashboard?lang=en"))
    assert "Dashboard of Cơ sở Tư Tài Cẩm Thanh" in as_staff and "Total (2 orders)" in as_staff
    assert _rows(_section(as_staff, "payouts-heading"))[-1][-1] == "435.000 ₫" and "<svg" in as_staff
    assert _rows(_section(text(staff.get(f"/c/cam-thanh/admin/sellers/{other_id}/dashboard")),
                          "payouts-heading"))[-1][-1] == "81.000 ₫"
    no_bank = text(staff.get(f"/c/cam-thanh/admin/sellers/{other_id}/dashboard?lang=en"))
    assert f'href="/c/cam-thanh/admin/sellers/{other_id}/edit">Add it on the seller' in no_bank
    assert client.get(f"/c/cam-thanh/admin/sellers/{own_id}/dashboard").status_code == 403


def test_a_seller_account_without_a_shop_is_told_what_to_do(client, db_session, world):
    with database(client.application).session(PLATFORM) as session, scoped(session, Scope(world.a.id)):
        catalog.update_seller(session, SYSTEM, session.get(Seller, world.a.sellers["own"]), {"user_id": None})
        session.commit()
    sign_in(client, db_session, world.a.users["seller"])
    page = text(client.get("/c/cam-thanh/admin/?lang=en"))
    assert "Your account is not linked to a seller yet" in page and "Add a product" in page
    assert "fulfil-heading" not in page


def test_a_hostile_seller_name_stays_text_in_the_page_and_its_qr(client, db_session, world):
    hostile = '<script>alert(1)</script> & "Tư"'
    with database(client.application).session(PLATFORM) as session, scoped(session, Scope(world.a.id)):
        catalog.update_seller(session, SYSTEM, session.get(Seller, world.a.sellers["own"]), {
            "name": hostile, "bank_bin": AGRIBANK, "bank_account_number": "3700205123456",
            "bank_account_name": "NGUYEN THI TU"})
        session.commit()
    sign_in(client, db_session, world.a.users["seller"])
    page = text(client.get("/c/cam-thanh/admin/?lang=en"))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>VietQR &lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page

"""A tourist shops in a real browser: portal → commune → a search typed without diacritics → product → cart →
checkout with VNPay → the simulator's bank page → pay → the order page, paid. And the same shop with
JavaScript off, paying cash on delivery."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import Walk

BUYER = {"name": "Trần Thị Hoa", "phone": "0912345678", "email": "hoa@example.vn", "province": "Hà Nội",
         "district": "Ba Đình", "ward": "Kim Mã", "street": "5 Ngõ 12"}


def _search_honey(walk: Walk) -> None:
    page = walk.page
    page.locator("form[role=search] input[name=q]").first.fill("mat ong")
    page.locator("form[role=search] button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/c/binh-loi/search\?q=mat\+ong"))
    expect(page.get_by_role("link", name="Mật ong hoa chôm chôm")).to_be_visible()
    walk.step("search-mat-ong")
    page.get_by_role("link", name="Mật ong hoa chôm chôm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mật ong hoa chôm chôm")
    walk.step("product")


def _checkout(walk: Walk, method: str) -> None:
    page = walk.page
    page.locator("form.add-to-cart input[name=quantity]").fill("2")
    page.locator("form.add-to-cart button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/c/binh-loi/cart"))
    expect(page.locator("main")).to_contain_text("Mật ong hoa chôm chôm")
    walk.step("cart")
    page.locator("main a[href$='/checkout']").click()
    expect(page).to_have_url(re.compile(r"/c/binh-loi/checkout"))
    for name, value in BUYER.items():
        page.locator(f"form [name={name}]").fill(value)
    page.locator(f"#pay-{method}").check()
    walk.step(f"checkout-{method}")
    page.locator("form[action$='/checkout'] button[type=submit]").click()


def test_a_tourist_finds_honey_and_pays_with_vnpay(walk: Walk) -> None:
    page = walk.page
    walk.goto("/")
    walk.step("portal")
    page.locator("main a[href='/c/binh-loi/']").first.click()
    expect(page).to_have_url(re.compile(r"/c/binh-loi/$"))
    walk.step("commune")
    _search_honey(walk)
    _checkout(walk, "vnpay")

    expect(page).to_have_url(re.compile(r"/vnpay-sandbox/paymentv2/vpcpay\.html\?"))
    walk.step("vnpay-simulator", audit=False)  # the simulator plays VNPay's page: not ours to audit
    page.locator("button[name=action][value=pay]").click()

    expect(page).to_have_url(re.compile(r"/payments/vnpay/return\?"))
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", "paid")
    walk.step("vnpay-return")
    page.locator("main a[href*='/c/binh-loi/orders/']").click()
    expect(page).to_have_url(re.compile(r"/c/binh-loi/orders/"))
    # Placed (not "awaiting payment"): the simulator's IPN reached our server before the buyer came back.
    expect(page.locator("main")).to_contain_text("Đã đặt: người bán đang chuẩn bị hàng")
    walk.step("order-paid")
    walk.assert_accessible()


def test_without_javascript_a_tourist_finds_honey_and_orders_cash_on_delivery(plain_walk: Walk) -> None:
    page = plain_walk.page
    plain_walk.goto("/c/binh-loi/")
    plain_walk.step("commune")
    _search_honey(plain_walk)
    _checkout(plain_walk, "cod")
    expect(page).to_have_url(re.compile(r"/c/binh-loi/orders/"))
    expect(page.locator("main")).to_contain_text("Mật ong hoa chôm chôm")
    plain_walk.step("order-placed")

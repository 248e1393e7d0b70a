"""A traveller books a homestay in a real browser: the commune's stays → a homestay → dates → a room → a 30 %
deposit with VNPay → the booking page, confirmed. And without JavaScript, paying at the house."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from service.core.clock import to_local, utcnow
from tests.e2e.conftest import Walk


def _choose_stay_and_dates(walk: Walk, days_ahead: int) -> None:
    page = walk.page
    page.locator(".main-nav a[href$='/c/cam-thanh/stays']").click()
    expect(page).to_have_url(re.compile(r"/c/cam-thanh/stays$"))
    walk.step("stays")
    page.locator("main a[href='/c/cam-thanh/stays/homestay-rung-dua-ong-sau']").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rừng Dừa")
    check_in = to_local(utcnow()).date() + timedelta(days=days_ahead)
    page.locator("#check_in").fill(check_in.isoformat())
    page.locator("#check_out").fill((check_in + timedelta(days=2)).isoformat())
    page.locator("#guests").fill("2")
    # (A full-page screenshot between filling the date fields and clicking loses the click in Chromium.)
    page.locator("form.filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"\?check_in=.*#dates-title$"))
    expect(page.locator(".quote tbody tr").first).to_contain_text(check_in.strftime("%d/%m/%Y"))
    walk.step("stay-rooms-and-prices")


def _fill_guest(walk: Walk, option: str) -> None:
    page = walk.page
    page.locator("#name-1").fill("Nguyễn Minh Khoa")
    page.locator("#phone-1").fill("0987654321")
    page.locator(f"#option-1-{option}").check()
    walk.step(f"room-{option}")
    page.locator("form[action$='/book']").first.locator("button[type=submit]").click()


def test_a_traveller_books_a_homestay_with_a_vnpay_deposit(walk: Walk) -> None:
    page = walk.page
    walk.goto("/c/cam-thanh/")
    _choose_stay_and_dates(walk, days_ahead=40)
    _fill_guest(walk, "deposit")  # VNPay is the preselected online method

    expect(page).to_have_url(re.compile(r"/vnpay-sandbox/paymentv2/vpcpay\.html\?"))
    walk.step("vnpay-simulator", audit=False)  # VNPay's page, played by the simulator: not ours to audit
    page.locator("button[name=action][value=pay]").click()
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", "paid")
    walk.step("vnpay-return")
    page.locator("main a[href*='/c/cam-thanh/bookings/']").click()

    expect(page).to_have_url(re.compile(r"/c/cam-thanh/bookings/"))
    expect(page.locator(".order-status")).to_contain_text("Đã xác nhận")
    walk.step("booking-confirmed")
    walk.assert_accessible()


def test_without_javascript_a_traveller_books_and_pays_at_the_house(plain_walk: Walk) -> None:
    page = plain_walk.page
    plain_walk.goto("/c/cam-thanh/")
    _choose_stay_and_dates(plain_walk, days_ahead=50)
    _fill_guest(plain_walk, "on_arrival")
    expect(page).to_have_url(re.compile(r"/c/cam-thanh/bookings/"))
    expect(page.locator(".order-status")).to_contain_text("Đã xác nhận")
    expect(page.locator("main")).to_contain_text("Nguyễn Minh Khoa")
    plain_walk.step("booking-confirmed")


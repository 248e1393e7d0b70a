"""The citizen corner in a real browser: voting in a poll with the SMS code (which lands in the instance's sms/
folder, as a phone would get it), and asking the commune a question with JavaScript off."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import expect

from tests.e2e.conftest import Walk

PHONE = "0905123456"


def _sms_code(app: Flask, phone: str) -> str:
    """The code in the newest SMS sent to this phone (numbers are stored as +84…; match the last nine digits)."""
    folder = Path(app.config["INSTANCE_PATH"]) / "sms"
    for message in sorted(folder.glob("*.txt"), key=lambda path: path.stat().st_mtime, reverse=True):
        text = message.read_text(encoding="utf-8")
        if phone[-9:] in text.splitlines()[0]:
            code = re.search(r"\b\d{6}\b", text.split("\n\n", 1)[1])
            assert code, text
            return code.group()
    raise AssertionError(f"no SMS to {phone} in {folder}")


def test_a_resident_votes_in_a_poll_with_an_sms_code(walk: Walk, live_app: tuple[Flask, str]) -> None:
    page = walk.page
    walk.goto("/c/cam-thanh/polls")
    walk.step("polls")
    page.locator("main a[href^='/c/cam-thanh/polls/']").first.click()
    page.locator("#phone").fill(PHONE)
    walk.step("poll-phone")
    page.locator("form[action$='/phone'] button[type=submit]").click()
    page.locator("#code").fill(_sms_code(live_app[0], PHONE))
    walk.step("poll-code")
    page.locator("form[action$='/verify'] button[type=submit]").click()
    page.locator("form#vote input[name=option]").first.check()
    walk.step("poll-vote")
    page.locator("form#vote button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("Cảm ơn bạn: phiếu của bạn đã được ghi nhận.")
    walk.step("poll-voted")
    walk.assert_accessible()


def test_without_javascript_a_resident_asks_the_commune_a_question(plain_walk: Walk) -> None:
    page = plain_walk.page
    plain_walk.goto("/c/cam-thanh/questions/new")
    page.locator("#title").fill("Khi nào xã mở lớp dạy bán hàng trên mạng?")
    page.locator("#body").fill("Nhà tôi làm nước mắm, muốn học cách đăng sản phẩm lên sàn. Xin xã cho biết lịch học.")
    plain_walk.step("question-form")
    page.locator("form.civic-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/c/cam-thanh/questions(/CT-Q[0-9A-Z-]+)?$"))
    expect(page.locator("body")).to_contain_text("Cảm ơn")
    plain_walk.step("question-sent")

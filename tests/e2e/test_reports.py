"""Field reports in a real browser: a citizen files one with a photo and follows it by its tracking code; commune
staff answer it in the back office and the public page shows the answer. And filing without JavaScript."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, expect

from service.demo import DEMO_PASSWORD
from tests.e2e.conftest import TIMEOUT_MS, Walk

DESCRIPTION = "Đèn đường trước nhà văn hoá thôn Thanh Nhứt không sáng từ ba hôm nay, buổi tối rất tối."
ANSWER = "Điện lực đã thay bóng đèn sáng 28/11. Cảm ơn bà con đã báo."


def _photo(tmp_path: Path) -> Path:
    """A small real JPEG, as a phone would send (the server re-encodes it into variants)."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 90, 140)).save(buffer, "JPEG", quality=80)
    path = tmp_path / "den-duong.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def _file_report(walk: Walk, photo: Path | None) -> str:
    """From the commune's community page to a filed street-light report; returns its tracking code."""
    page = walk.page
    walk.goto("/c/cam-thanh/reports/new")
    walk.step("report-categories")
    page.locator("#category-den-duong").check()
    page.locator("form.report-categories button[type=submit]").click()
    expect(page.locator("form.report-form")).to_be_visible()
    page.locator("select[name='attribute[loai-su-co]']").select_option("khong-sang")
    page.locator("#description").fill(DESCRIPTION)
    page.locator("#address").fill("Nhà văn hoá thôn Thanh Nhứt")
    if photo is not None:
        page.locator("#photos").set_input_files(str(photo))
    walk.step("report-form")
    page.locator("form.report-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/c/cam-thanh/reports/CT-"))
    code = page.locator(".tracking-code").inner_text().strip()
    expect(page.locator("main")).to_contain_text(DESCRIPTION)
    walk.step("report-filed")
    return code


def _track(walk: Walk, code: str) -> None:
    page = walk.page
    walk.goto("/c/cam-thanh/reports/track")
    page.locator("#code").fill(code)
    walk.step("tracking-form")
    page.locator("main form[action$='/reports/track'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/c/cam-thanh/reports/{code}$"))
    expect(page.locator(".tracking-code")).to_have_text(code)


def test_a_citizen_files_a_report_with_a_photo_and_follows_it(walk: Walk, tmp_path: Path) -> None:
    code = _file_report(walk, _photo(tmp_path))
    photo = walk.page.locator(".report-photos img")
    expect(photo).to_have_count(1)
    assert walk.page.evaluate("img => img.complete && img.naturalWidth > 0", photo.element_handle())
    _track(walk, code)
    walk.step("report-tracked")
    walk.assert_accessible()


def test_staff_answer_a_report_and_the_public_page_shows_it(walk: Walk, browser: Browser, base_url: str,
                                                           tmp_path: Path) -> None:
    code = _file_report(walk, None)

    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff_context.set_default_timeout(TIMEOUT_MS)
    staff = Walk(staff_context.new_page(), base_url, walk.artifacts, None, steps=walk.steps)
    try:
        staff.goto("/login?next=/c/cam-thanh/admin/reports")
        staff.page.locator("#email").fill("editor@cam-thanh.xaso.vn")
        staff.page.locator("#password").fill(DEMO_PASSWORD)
        staff.step("staff-login")
        staff.page.locator("main form button[type=submit]").click()
        expect(staff.page).to_have_url(re.compile(r"/c/cam-thanh/admin/reports$"))
        staff.step("admin-reports")
        staff.page.get_by_role("link", name=code).click()
        expect(staff.page).to_have_url(re.compile(rf"/c/cam-thanh/admin/reports/{code}$"))
        staff.page.locator("#status").select_option("resolved")
        staff.page.locator("#public_note").fill(ANSWER)
        staff.step("admin-report-answer")
        staff.page.locator("form[action*='/status#'] button[type=submit]").click()
        expect(staff.page.locator(".public-note")).to_have_text(ANSWER)
        staff.step("admin-report-answered")
    finally:
        staff_context.close()

    walk.steps = staff.steps
    _track(walk, code)
    expect(walk.page.locator(".report-status")).to_have_text("Đã xử lý xong")
    expect(walk.page.locator(".public-note")).to_have_text(ANSWER)
    walk.step("public-answer")
    walk.assert_accessible()


def test_without_javascript_a_citizen_files_a_report_with_a_photo(plain_walk: Walk, tmp_path: Path) -> None:
    code = _file_report(plain_walk, _photo(tmp_path))
    expect(plain_walk.page.locator(".report-photos img")).to_have_count(1)
    _track(plain_walk, code)
    plain_walk.step("report-tracked")

"""Every kind of public page, beyond the walks: axe-core finds nothing serious in Vietnamese or English, and with
JavaScript off each still shows its content. Detail pages are reached from their list, as a visitor would."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Walk

# (the page, or the list whose first matching link leads to it)
PAGES = [
    ("/", None),
    ("/search?q=buoi", None),
    ("/c/cam-thanh/", None),
    ("/c/cam-thanh/products", None),
    ("/c/cam-thanh/stays", None),
    ("/c/cam-thanh/explore", None),
    ("/c/cam-thanh/explore", "/c/cam-thanh/places/"),
    ("/c/cam-thanh/explore", "/c/cam-thanh/events/"),
    ("/c/cam-thanh/explore", "/c/cam-thanh/stories/"),
    ("/c/cam-thanh/community", None),
    ("/c/cam-thanh/announcements", "/c/cam-thanh/announcements/"),
    ("/c/cam-thanh/polls", "/c/cam-thanh/polls/"),
    ("/c/cam-thanh/questions", "/c/cam-thanh/questions/CT-"),
    ("/c/cam-thanh/questions/new", None),
    ("/c/cam-thanh/reports", "/c/cam-thanh/reports/CT-"),
    ("/c/cam-thanh/reports/track", None),
    ("/c/nam-phuoc/", None),
    ("/c/cam-thanh/?lang=en", None),
    ("/c/cam-thanh/products?lang=en", "/c/cam-thanh/products/"),
    ("/login", None),
]


def _open(walk: Walk, path: str, link_prefix: str | None) -> None:
    walk.goto(path)
    if link_prefix is not None:
        link = walk.page.locator(f"main a[href^='{link_prefix}']").first
        expect(link).to_be_attached()
        walk.goto(link.get_attribute("href") or "")
    expect(walk.page.locator("main h1").first).to_be_visible()


def _name(page: tuple[str, str | None]) -> str:
    return page[1] or page[0]


@pytest.mark.parametrize(("path", "link_prefix"), PAGES, ids=[_name(page) for page in PAGES])
def test_public_page_is_accessible(walk: Walk, path: str, link_prefix: str | None) -> None:
    _open(walk, path, link_prefix)
    walk.step("page")
    walk.assert_accessible()


@pytest.mark.parametrize(("path", "link_prefix"), PAGES, ids=[_name(page) for page in PAGES])
def test_public_page_shows_its_content_without_javascript(plain_walk: Walk, path: str,
                                                          link_prefix: str | None) -> None:
    _open(plain_walk, path, link_prefix)
    plain_walk.step("page")

"""The feeds admin page: staff only, feed URLs, a token shown once, the CSV layout, the feed report."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.db import PLATFORM, Scope, scoped
from service.feeds.models import FeedSettings
from tests.admin.helpers import sign_in, text

PAGE = "/c/cam-thanh/admin/feeds"
CSV = "/c/cam-thanh/feeds/products.csv"


def _settings(db_session, world) -> FeedSettings | None:
    db_session.expire_all()
    with scoped(db_session, Scope(world.a.id)):
        return db_session.scalars(select(FeedSettings)).first()


def _audit(db_session, action: str) -> list[AuditEntry]:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_is_sent_to_login(client, world, method):
    response = client.get(PAGE) if method == "GET" else client.post(PAGE, data={"action": "token"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_other_commune_is_404(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    assert client.get("/c/nam-phuoc/admin/feeds").status_code == 404
    assert client.post("/c/nam-phuoc/admin/feeds", data={"action": "token"}).status_code == 404


@pytest.mark.parametrize("role", ["volunteer", "seller"])
def test_volunteers_and_sellers_get_403(client, db_session, world, role):
    sign_in(client, db_session, world.a.users[role])
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"action": "token"}).status_code == 403
    assert _settings(db_session, world) is None


@pytest.mark.parametrize("role", ["admin", "editor"])
def test_staff_see_urls_and_report(client, db_session, world, role):
    sign_in(client, db_session, world.a.users[role])
    response = client.get(PAGE + "?lang=en")
    assert response.status_code == 200
    page = text(response)
    for filename in ("google-merchant.xml", "products.csv", "products.json"):
        assert re.search(rf"https?://[^<\s]+/c/cam-thanh/feeds/{re.escape(filename)}", page), filename
    assert "?download=1" in page
    assert "Feed report" in page
    # the demo-like products have no photos: each marketplace lists them with a link to fix them
    assert f"/c/cam-thanh/admin/products/{world.a.products['published']}/edit" in page
    assert "Photo: missing" in page
    assert "Nước mắm cá cơm" in page and "Rổ mây" not in page  # drafts are not exported


def test_token_is_shown_once_and_then_required(client, db_session, world):
    assert client.get(CSV).status_code == 200
    sign_in(client, db_session, world.a.users["admin"])
    response = client.post(PAGE + "?lang=en", data={"action": "token"})
    assert response.status_code == 200
    token = re.search(r'id="feed-token">(xfeed_[^<]+)<', response.get_data(as_text=True)).group(1)
    settings = _settings(db_session, world)
    assert settings is not None and settings.access == "token"
    assert token not in settings.token_hash and settings.token_hash
    page = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert token not in page and "?token=YOUR_TOKEN" in page
    assert client.get(CSV).status_code == 403
    assert client.get(CSV + "?token=wrong").status_code == 403
    assert client.get(f"{CSV}?token={token}").status_code == 200
    assert client.get(CSV, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    entries = _audit(db_session, "feeds.token_issued")
    assert len(entries) == 1 and token not in str(entries[0].changes)


def test_new_token_retires_the_old(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    first = re.search(r'id="feed-token">([^<]+)<', client.post(PAGE, data={"action": "token"}).get_data(
        as_text=True)).group(1)
    second = re.search(r'id="feed-token">([^<]+)<', client.post(PAGE, data={"action": "token"}).get_data(
        as_text=True)).group(1)
    assert first != second
    assert client.get(f"{CSV}?token={first}").status_code == 403
    assert client.get(f"{CSV}?token={second}").status_code == 200


def test_going_public_again_and_choosing_token_mode_issues_one(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    response = client.post(PAGE, data={"action": "settings", "access": "token", "csv_preset": "postmart"})
    assert response.status_code == 200
    assert re.search(r'id="feed-token">xfeed_', response.get_data(as_text=True))
    response = client.post(PAGE, data={"action": "settings", "access": "public", "csv_preset": "postmart"})
    assert response.status_code == 303
    settings = _settings(db_session, world)
    assert settings is not None and settings.access == "public" and settings.token_hash == ""


def test_preset_and_custom_mapping_are_saved_and_audited(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    response = client.post(PAGE, data={"action": "settings", "access": "public", "csv_preset": "generic",
                                       "csv_columns": "Tên | title\r\nGiá | price_vnd\r\n"})
    assert response.status_code == 303
    settings = _settings(db_session, world)
    assert settings is not None and settings.csv_preset == "generic"
    assert settings.csv_columns == [{"header": "Tên", "field": "title"}, {"header": "Giá", "field": "price_vnd"}]
    page = client.get(PAGE).get_data(as_text=True)
    assert "Tên | title" in page
    body = client.get(CSV).data
    assert body[3:].decode().splitlines()[0] == "Tên,Giá"
    entries = _audit(db_session, "feeds.settings_updated")
    assert len(entries) == 1 and set(entries[0].changes) == {"csv_preset", "csv_columns"}
    # an empty mapping goes back to the preset's columns
    assert client.post(PAGE, data={"action": "settings", "access": "public", "csv_preset": "postmart",
                                   "csv_columns": ""}).status_code == 303
    assert client.get(CSV).data[3:].decode().startswith("Mã sản phẩm (SKU),")


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"csv_columns": "Tên | nope"}, "csv_columns", "Line 1: This field does not exist"),
    ({"csv_columns": "Tên | title\nno bar here"}, "csv_columns", "Line 2: Write each column as"),
    ({"csv_columns": "  | title"}, "csv_columns", "A header needs 1 to 100 characters"),
    ({"csv_preset": "amazon"}, "csv_preset", "Choose a CSV layout"),
    ({"access": "everyone"}, "access", "Choose who may fetch"),
])
def test_invalid_settings_are_explained(client, db_session, world, form, field, message):
    sign_in(client, db_session, world.a.users["admin"])
    data = {"action": "settings", "access": "public", "csv_preset": "postmart"} | form
    response = client.post(PAGE + "?lang=en", data=data)
    assert response.status_code == 422
    assert message in text(response)
    settings = _settings(db_session, world)
    assert settings is None or (settings.csv_columns == [] and settings.csv_preset == "postmart")
    assert _audit(db_session, "feeds.settings_updated") == []

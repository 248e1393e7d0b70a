"""Sellers (staff; volunteers register consenting households) and categories (staff)."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.catalog.models import Category, Seller
from service.db import PLATFORM, scoped
from tests.admin.helpers import count, sign_in, text

ADMIN = "/c/cam-thanh/admin"


def _seller(db_session, **where) -> Seller | None:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        return db_session.scalar(select(Seller).filter_by(**where))


def _category(db_session, category_id) -> Category | None:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        return db_session.get(Category, category_id)


def test_staff_lists_sellers_of_own_commune_only(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/sellers"))
    assert "Bà Năm Cẩm Thanh" in page and "HTX Rau Cẩm Thanh" in page
    assert "Nam Phước" not in page.split("<main")[1]
    assert "Đồng ý tại nhà" in page  # consent note shown


def test_staff_registers_and_edits_a_seller(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    response = client.post(f"{ADMIN}/sellers/new", data={"name": "Hộ bà Sáu", "village": "Thôn 2",
                                                         "phone": "0905 123 456", "is_active": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/sellers")
    seller = _seller(db_session, name="Hộ bà Sáu")
    assert seller is not None and seller.tenant_id == world.a.id and seller.is_active
    assert seller.assisted_listing_consent is False  # unticked checkbox
    response = client.post(f"{ADMIN}/sellers/{seller.id}/edit",
                           data={"name": "Hộ bà Sáu", "village": "Thôn 3", "assisted_listing_consent": "1",
                                 "consent_note": "Đồng ý qua điện thoại"})
    assert response.status_code == 303
    seller = _seller(db_session, id=seller.id)
    assert seller is not None
    assert seller.village == "Thôn 3" and seller.assisted_listing_consent and seller.consent_recorded_at
    assert seller.is_active is False  # "Active" unticked


def test_invalid_seller_form_is_422(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    before = count(db_session, Seller)
    response = client.post(f"{ADMIN}/sellers/new?lang=en", data={"name": "", "phone": "call me", "village": "Thôn 9"})
    assert response.status_code == 422
    page = text(response)
    assert "Enter the seller&#39;s name" in page and "Enter a phone number" in page
    assert 'value="Thôn 9"' in page
    assert count(db_session, Seller) == before


def test_staff_cannot_link_a_seller_to_a_non_member_account(client, db_session, world):
    from service.accounts.services import find_user

    with scoped(db_session, PLATFORM):
        outsider = find_user(db_session, world.b.users["seller"])
    assert outsider is not None
    sign_in(client, db_session, world.a.users["admin"])
    before = count(db_session, Seller)
    response = client.post(f"{ADMIN}/sellers/new", data={"name": "Hộ lạ", "user_id": str(outsider.id)})
    assert response.status_code == 422
    assert count(db_session, Seller) == before


def test_volunteer_registers_household_with_consent_then_lists(client, db_session, world):
    sign_in(client, db_session, world.a.users["volunteer"])
    page = text(client.get(f"{ADMIN}/sellers/new?lang=en"))
    assert "ON ITS BEHALF" in page and 'name="assisted_listing_consent"' in page
    assert 'name="user_id"' not in page and 'name="is_active"' not in page
    response = client.post(f"{ADMIN}/sellers/new", data={"name": "Ông Bảy", "assisted_listing_consent": "1",
                                                         "consent_note": "Đồng ý tại nhà 12/03"})
    assert response.status_code == 303
    seller = _seller(db_session, name="Ông Bảy")
    assert seller is not None and seller.assisted_listing_consent and seller.consent_note == "Đồng ý tại nhà 12/03"
    assert response.headers["Location"].endswith(f"/admin/products/new?seller_id={seller.id}")
    page = text(client.get(response.headers["Location"]))
    assert re.search(rf'<option value="{seller.id}" selected>', page)


def test_volunteer_needs_consent_to_register(client, db_session, world):
    sign_in(client, db_session, world.a.users["volunteer"])
    before = count(db_session, Seller)
    response = client.post(f"{ADMIN}/sellers/new?lang=en", data={"name": "Ông Tám", "consent_note": "?"})
    assert response.status_code == 422
    assert "Record the household&#39;s consent" in text(response)
    assert count(db_session, Seller) == before


def test_category_crud(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    response = client.post(f"{ADMIN}/categories/new", data={"name_vi": "Gốm", "name_en": "Pottery", "position": "3"})
    assert response.status_code == 303
    with scoped(db_session, PLATFORM):
        category = db_session.scalar(select(Category).where(Category.name_vi == "Gốm"))
    assert category is not None and category.tenant_id == world.a.id and category.position == 3
    page = text(client.get(f"{ADMIN}/categories"))
    assert "Gốm" in page and "Pottery" in page
    response = client.post(f"{ADMIN}/categories/{category.id}/edit",
                           data={"name_vi": "Gốm Thanh Hà", "name_en": "Pottery", "position": "1"})
    assert response.status_code == 303
    assert _category(db_session, category.id).name_vi == "Gốm Thanh Hà"  # type: ignore[union-attr]
    response = client.post(f"{ADMIN}/categories/{category.id}/delete")
    assert response.status_code == 303
    assert _category(db_session, category.id) is None


def test_invalid_category_is_422(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    before = count(db_session, Category)
    response = client.post(f"{ADMIN}/categories/new?lang=en", data={"name_vi": "", "name_en": "Nothing",
                                                                    "position": "-2"})
    assert response.status_code == 422
    page = text(response)
    assert "Enter the category name in Vietnamese." in page and "Position must be a whole number" in page
    assert count(db_session, Category) == before
    response = client.post(f"{ADMIN}/categories/{world.a.categories['sauce']}/edit?lang=en",
                           data={"name_vi": " ", "position": "0"})
    assert response.status_code == 422
    assert _category(db_session, world.a.categories["sauce"]).name_vi == "Nước mắm"  # type: ignore[union-attr]


def test_deleting_a_used_category_shows_the_conflict(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    audits = count(db_session, AuditEntry)
    response = client.post(f"{ADMIN}/categories/{world.a.categories['sauce']}/delete?lang=en")
    assert response.status_code == 409
    page = text(response)
    assert "cannot be deleted while products still use it" in page
    assert "2 products still use this category" in page
    assert _category(db_session, world.a.categories["sauce"]) is not None
    assert count(db_session, AuditEntry) == audits

"""Products in the admin: each role manages what it may, assisted listing is audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.catalog.models import Product, ProductStatus
from service.db import PLATFORM, scoped
from tests.admin.helpers import count, sign_in, text

ADMIN = "/c/cam-thanh/admin"


def _product(db_session, product_id: int) -> Product:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        product = db_session.get(Product, product_id)
    assert product is not None
    return product


def _audit(db_session, action: str, object_id: int) -> list[AuditEntry]:
    db_session.expire_all()
    with scoped(db_session, PLATFORM):
        return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                                AuditEntry.object_id == object_id)))


def _form(**overrides: str) -> dict[str, str]:
    data = {"title_vi": "Bánh tráng nướng", "title_en": "Grilled rice paper", "price": "150.000", "stock": "12",
            "unit": "xấp", "category_id": "", "ocop_stars": "", "ocop_certificate_number": "",
            "ocop_certificate_year": "", "description_vi": "", "description_en": ""}
    return data | overrides


def _user_id(db_session, email):
    from service.accounts.services import find_user

    with scoped(db_session, PLATFORM):
        user = find_user(db_session, email)
    assert user is not None
    return user.id


# --- listing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "visible"), [
    ("admin", {"Nước mắm cá cơm", "Giỏ tre", "Mắm ruốc", "Rổ mây"}),
    ("editor", {"Nước mắm cá cơm", "Giỏ tre", "Mắm ruốc", "Rổ mây"}),
    ("seller", {"Nước mắm cá cơm", "Rổ mây"}),
    ("volunteer", {"Mắm ruốc"}),
])
def test_product_list_shows_what_the_role_manages(client, db_session, world, role, visible):
    sign_in(client, db_session, world.a.users[role])
    page = text(client.get(f"{ADMIN}/products"))
    for title in {"Nước mắm cá cơm", "Giỏ tre", "Mắm ruốc", "Rổ mây"}:
        assert (title in page) == (title in visible), title


def test_product_list_filters_by_status_and_seller(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/products?status=pending_review"))
    assert "Mắm ruốc" in page and "Giỏ tre" not in page and "Rổ mây" not in page
    page = text(client.get(f"{ADMIN}/products?seller={world.a.sellers['own']}"))
    assert "Nước mắm cá cơm" in page and "Rổ mây" in page and "Giỏ tre" not in page
    assert client.get(f"{ADMIN}/products?status=bogus&seller=abc").status_code == 200


def test_product_list_is_paged(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    for n in range(21):
        client.post(f"{ADMIN}/products/new", data=_form(seller_id=str(world.a.sellers["own"]), title_vi=f"Hàng {n}"))
    first = text(client.get(f"{ADMIN}/products?lang=en"))
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = text(client.get(f"{ADMIN}/products?page=2&lang=en"))
    assert "Page 2 of 2" in second and len(re.findall(r"/edit\"", second)) == 3


def test_dashboard_counts_what_the_seller_manages(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    page = text(client.get(f"{ADMIN}/?lang=en"))
    products = page.split('id="products-heading"')[1].split("</section>")[0]
    counts = {label: int(n) for n, label in re.findall(r"<strong>(\d+)</strong> ([\w ]+)</a>", products)}
    assert counts == {"Draft": 1, "Pending review": 0, "Published": 1, "Archived": 0}
    assert "2 products in all." in page
    assert "Review queue" not in page


def test_dashboard_shows_review_queue_to_staff(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/?lang=en"))
    assert "Review queue: 1 listings waiting for approval" in page
    assert "4 products in all." in page


# --- seller ----------------------------------------------------------------------------------


def test_seller_new_page_offers_only_itself(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    page = text(client.get(f"{ADMIN}/products/new"))
    options = re.findall(r'<option value="(\d+)"', page.split('name="seller_id"')[1].split("</select>")[0])
    assert options == [str(world.a.sellers["own"])]


def test_seller_creates_own_product_with_vietnamese_price(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    before = count(db_session, Product)
    response = client.post(f"{ADMIN}/products/new", data=_form(seller_id=str(world.a.sellers["own"])))
    assert response.status_code == 303
    assert count(db_session, Product) == before + 1
    with scoped(db_session, PLATFORM):
        product = db_session.scalar(select(Product).where(Product.title_vi == "Bánh tráng nướng"))
    assert product is not None
    assert product.price == 150_000 and product.stock == 12 and product.status == ProductStatus.DRAFT
    assert product.tenant_id == world.a.id and product.seller_id == world.a.sellers["own"]
    assert response.headers["Location"].endswith(f"/admin/products/{product.id}/edit")
    page = text(client.get(response.headers["Location"]))
    assert 'value="150.000"' in page
    [entry] = _audit(db_session, "product.created", product.id)
    assert entry.on_behalf_of_seller_id is None and entry.actor_role == "seller"


@pytest.mark.parametrize("other", ["assisted", "other"])
def test_seller_cannot_list_for_another_seller(client, db_session, world, other):
    sign_in(client, db_session, world.a.users["seller"])
    before = count(db_session, Product)
    response = client.post(f"{ADMIN}/products/new", data=_form(seller_id=str(world.a.sellers[other])))
    assert response.status_code == 404
    assert count(db_session, Product) == before


@pytest.mark.parametrize("key", ["cheap", "pending"])
def test_seller_cannot_open_or_edit_anothers_product(client, db_session, world, key):
    sign_in(client, db_session, world.a.users["seller"])
    product_id = world.a.products[key]
    assert client.get(f"{ADMIN}/products/{product_id}/edit").status_code == 404
    title = _product(db_session, product_id).title_vi
    response = client.post(f"{ADMIN}/products/{product_id}/edit", data=_form(title_vi="Bị sửa"))
    assert response.status_code == 404
    assert client.post(f"{ADMIN}/products/{product_id}/status", data={"action": "archive"}).status_code == 404
    product = _product(db_session, product_id)
    assert product.title_vi == title and product.status != ProductStatus.ARCHIVED


def test_seller_edits_own_published_product_back_to_review(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    product_id = world.a.products["published"]
    response = client.post(f"{ADMIN}/products/{product_id}/edit",
                           data=_form(title_vi="Nước mắm cá cơm thượng hạng", price="160.000", stock="5",
                                      ocop_stars="4", ocop_certificate_number="OCOP-01",
                                      ocop_certificate_year="2023", seller_id=str(world.a.sellers["other"]),
                                      is_featured="1"))
    assert response.status_code == 303
    product = _product(db_session, product_id)
    assert product.title_vi == "Nước mắm cá cơm thượng hạng" and product.price == 160_000
    assert product.status == ProductStatus.PENDING_REVIEW  # reviewed field changed by a non-staff member
    assert product.seller_id == world.a.sellers["own"]  # sellers cannot move listings
    assert product.is_featured is False


def test_seller_status_buttons_follow_available_actions(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    page = text(client.get(f"{ADMIN}/products/{world.a.products['draft']}/edit"))
    assert set(re.findall(r'name="action" value="(\w+)"', page)) == {"submit", "archive"}
    response = client.post(f"{ADMIN}/products/{world.a.products['draft']}/status", data={"action": "submit"})
    assert response.status_code == 303
    assert _product(db_session, world.a.products["draft"]).status == ProductStatus.PENDING_REVIEW
    # a seller cannot approve its own listing
    response = client.post(f"{ADMIN}/products/{world.a.products['draft']}/status", data={"action": "approve"})
    assert response.status_code == 403
    assert _product(db_session, world.a.products["draft"]).status == ProductStatus.PENDING_REVIEW


def test_impossible_transition_is_a_friendly_error(client, db_session, world):
    sign_in(client, db_session, world.a.users["seller"])
    product_id = world.a.products["published"]
    response = client.post(f"{ADMIN}/products/{product_id}/status?lang=en", data={"action": "restore"})
    assert response.status_code == 422
    assert "cannot be restored" in text(response)
    assert _product(db_session, product_id).status == ProductStatus.PUBLISHED


# --- invalid input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title_vi": ""}, "title_vi", "Enter the product name in Vietnamese"),
    ({"price": "-5"}, "price", "Enter the price in đồng"),
    ({"price": "abc"}, "price", "Enter the price in đồng"),
    ({"ocop_stars": "7", "ocop_certificate_number": "X"}, "ocop_stars", "OCOP stars must be 3, 4 or 5."),
    ({"ocop_stars": "4"}, "ocop_certificate_number", "An OCOP rating needs its certificate number."),
    ({"stock": "-1"}, "stock", "Stock must be a whole number"),
])
def test_invalid_product_form_is_422_and_saves_nothing(client, db_session, world, overrides, field, message):
    sign_in(client, db_session, world.a.users["admin"])
    products, audits = count(db_session, Product), count(db_session, AuditEntry)
    form = _form(seller_id=str(world.a.sellers["own"]), **overrides)
    response = client.post(f"{ADMIN}/products/new?lang=en", data=form)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert f'id="{field}-error"' in page and f'id="{field}"' in page
    assert 'value="Grilled rice paper"' in page  # the user's input is kept
    assert count(db_session, Product) == products and count(db_session, AuditEntry) == audits


def test_invalid_product_all_at_once(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    before = count(db_session, Product)
    form = _form(seller_id=str(world.a.sellers["own"]), title_vi="", price="-150.000", ocop_stars="7")
    response = client.post(f"{ADMIN}/products/new?lang=en", data=form)
    assert response.status_code == 422
    page = text(response)
    for field in ("title_vi", "price", "ocop_stars"):
        assert f'id="{field}-error"' in page
    assert 'value="-150.000"' in page
    assert count(db_session, Product) == before


def test_invalid_edit_changes_nothing(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    product_id = world.a.products["cheap"]
    response = client.post(f"{ADMIN}/products/{product_id}/edit?lang=en",
                           data=_form(title_vi="Giỏ tre mới", price="45.000", ocop_stars="4"))
    assert response.status_code == 422
    assert "An OCOP rating needs its certificate number." in text(response)
    product = _product(db_session, product_id)
    assert product.title_vi == "Giỏ tre" and product.ocop_stars == 3
    assert _audit(db_session, "product.updated", product_id) == []


# --- volunteer (assisted listing) ---------------------------------------------------------------


def test_volunteer_new_page_lists_only_consenting_households(client, db_session, world):
    sign_in(client, db_session, world.a.users["volunteer"])
    page = text(client.get(f"{ADMIN}/products/new?lang=en"))
    assert "ON BEHALF" in page
    select_html = page.split('name="seller_id"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', select_html) == [str(world.a.sellers["assisted"])]
    assert "Đồng ý tại nhà" in select_html  # the consent note is shown beside the household


def test_volunteer_lists_and_edits_for_consenting_household(client, db_session, world):
    volunteer_id = _user_id(db_session, world.a.users["volunteer"])
    assisted = world.a.sellers["assisted"]
    sign_in(client, db_session, world.a.users["volunteer"])
    response = client.post(f"{ADMIN}/products/new", data=_form(seller_id=str(assisted), title_vi="Mắm cá"))
    assert response.status_code == 303
    with scoped(db_session, PLATFORM):
        product = db_session.scalar(select(Product).where(Product.title_vi == "Mắm cá"))
    assert product is not None and product.seller_id == assisted
    [created] = _audit(db_session, "product.created", product.id)
    assert created.actor_user_id == volunteer_id and created.actor_role == "volunteer"
    assert created.on_behalf_of_seller_id == assisted

    page = text(client.get(f"{ADMIN}/products/{product.id}/edit?lang=en"))
    assert "ON BEHALF of the household" in page
    response = client.post(f"{ADMIN}/products/{product.id}/edit",
                           data=_form(title_vi="Mắm cá nục", price="70.000"))
    assert response.status_code == 303
    assert _product(db_session, product.id).price == 70_000
    [updated] = _audit(db_session, "product.updated", product.id)
    assert updated.actor_user_id == volunteer_id and updated.on_behalf_of_seller_id == assisted
    assert updated.changes["price"] == [150_000, 70_000]

    response = client.post(f"{ADMIN}/products/{product.id}/status", data={"action": "submit"})
    assert response.status_code == 303
    [submitted] = _audit(db_session, "product.submit", product.id)
    assert submitted.actor_user_id == volunteer_id and submitted.on_behalf_of_seller_id == assisted


@pytest.mark.parametrize("seller", ["own", "other"])
def test_volunteer_cannot_list_for_non_consenting_seller(client, db_session, world, seller):
    sign_in(client, db_session, world.a.users["volunteer"])
    before = count(db_session, Product)
    response = client.post(f"{ADMIN}/products/new", data=_form(seller_id=str(world.a.sellers[seller])))
    assert response.status_code == 404
    assert count(db_session, Product) == before
    assert client.get(f"{ADMIN}/products/{world.a.products['cheap']}/edit").status_code == 404


# --- staff moderation ---------------------------------------------------------------------------


def test_moderation_queue_lists_pending(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    page = text(client.get(f"{ADMIN}/moderation"))
    assert "Mắm ruốc" in page and "Giỏ tre" not in page and "Rổ mây" not in page
    assert 'value="approve"' in page and 'value="reject"' in page


def test_staff_approves_from_queue(client, db_session, world):
    sign_in(client, db_session, world.a.users["editor"])
    product_id = world.a.products["pending"]
    client.get(f"{ADMIN}/?lang=en")  # English remembered by cookie, so the flash is written in English
    response = client.post(f"{ADMIN}/products/{product_id}/status",
                           data={"action": "approve", "origin": "moderation"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/moderation")
    product = _product(db_session, product_id)
    assert product.status == ProductStatus.PUBLISHED and product.published_at is not None
    page = text(client.get(f"{ADMIN}/moderation?lang=en"))
    assert "approved and is now public" in page  # the flash message
    assert "review-item" not in page and "Nothing is waiting for review." in page
    [entry] = _audit(db_session, "product.approve", product_id)
    assert entry.actor_role == "editor" and entry.on_behalf_of_seller_id is None


def test_reject_without_reason_is_a_friendly_error(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    product_id = world.a.products["pending"]
    response = client.post(f"{ADMIN}/products/{product_id}/status?lang=en",
                           data={"action": "reject", "note": "  ", "origin": "moderation"})
    assert response.status_code == 422
    page = text(response)
    assert "Tell the seller why the listing was rejected." in page and "Mắm ruốc" in page
    assert _product(db_session, product_id).status == ProductStatus.PENDING_REVIEW
    assert _audit(db_session, "product.reject", product_id) == []
    # the same from the edit page
    response = client.post(f"{ADMIN}/products/{product_id}/status?lang=en", data={"action": "reject"})
    assert response.status_code == 422 and "Tell the seller why the listing was rejected." in text(response)


def test_staff_rejects_with_reason(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    product_id = world.a.products["pending"]
    response = client.post(f"{ADMIN}/products/{product_id}/status",
                           data={"action": "reject", "note": "Thiếu ảnh sản phẩm", "origin": "moderation"})
    assert response.status_code == 303
    product = _product(db_session, product_id)
    assert product.status == ProductStatus.DRAFT and product.review_note == "Thiếu ảnh sản phẩm"
    # the household's volunteer sees the reviewer's note
    client.post("/logout")
    sign_in(client, db_session, world.a.users["volunteer"])
    assert "Thiếu ảnh sản phẩm" in text(client.get(f"{ADMIN}/products/{product_id}/edit"))


def test_unknown_action_is_422(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    response = client.post(f"{ADMIN}/products/{world.a.products['pending']}/status", data={"action": "explode"})
    assert response.status_code == 422


def test_staff_features_and_moves_a_product(client, db_session, world):
    sign_in(client, db_session, world.a.users["admin"])
    product_id = world.a.products["cheap"]
    response = client.post(f"{ADMIN}/products/{product_id}/edit",
                           data=_form(title_vi="Giỏ tre", price="45.000", seller_id=str(world.a.sellers["assisted"]),
                                      is_featured="1", category_id=str(world.a.categories["crafts"])))
    assert response.status_code == 303
    product = _product(db_session, product_id)
    assert product.is_featured and product.seller_id == world.a.sellers["assisted"]
    assert product.status == ProductStatus.PUBLISHED  # staff edits need no new review
    # unticking the checkbox (absent from the form) clears it
    client.post(f"{ADMIN}/products/{product_id}/edit", data=_form(title_vi="Giỏ tre", price="45.000",
                                                                  seller_id=str(world.a.sellers["assisted"])))
    assert _product(db_session, product_id).is_featured is False

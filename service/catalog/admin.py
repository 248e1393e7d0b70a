"""The catalog admin: products (with assisted listing), moderation, sellers and categories.

Who may do what is decided in ``service.catalog.services``; these views only turn forms
into calls and results into pages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, render_template, request
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from service.audit.services import list_entries
from service.catalog import services as catalog
from service.catalog.models import Product, ProductStatus, Seller
from service.catalog.schemas import (
    CategoryInSchema,
    ProductInSchema,
    ProductPatchSchema,
    SellerInSchema,
    StatusChangeSchema,
)
from service.core.errors import AppError, Conflict
from service.core.money import format_vnd, parse_vnd
from service.db import get_session
from service.media.services import UploadPolicy
from service.media.storage import get_storage
from service.media.web import upload_each
from service.payments import vietqr
from service.tenants.admin import (
    ADMIN_PREFIX,
    PER_PAGE,
    admin_labels,
    checkbox,
    form_errors_or_raise,
    form_failed,
    int_arg,
    load_form,
    page_arg,
    saved,
)
from service.tenants.models import Membership, Role
from service.tenants.services import Actor
from service.tenants.web import commune_member_required, current_actor

catalog_admin = Blueprint("catalog_admin", __name__, url_prefix=ADMIN_PREFIX)
catalog_admin.context_processor(admin_labels)

PRODUCT_TEXT_FIELDS = ("title_vi", "title_en", "description_vi", "description_en", "unit",
                       "ocop_certificate_number", "brand", "gtin")
PRODUCT_NUMBER_FIELDS = ("seller_id", "category_id", "stock", "ocop_stars", "ocop_certificate_year",
                         "weight_grams")
PRODUCT_HINTS = {
    "seller_id": lazy_gettext("Choose the seller this listing belongs to."),
    "category_id": lazy_gettext("Choose a category from the list."),
    "title_vi": lazy_gettext("Enter the product name in Vietnamese (up to 150 characters)."),
    "title_en": lazy_gettext("The English name can be up to 150 characters."),
    "price": lazy_gettext("Enter the price in đồng as a whole number, 0 or more, for example 150.000."),
    "stock": lazy_gettext("Stock must be a whole number, 0 or more."),
    "ocop_stars": lazy_gettext("OCOP stars must be 3, 4 or 5."),
    "ocop_certificate_year": lazy_gettext("Enter the certificate year (2018 or later)."),
    "brand": lazy_gettext("The brand can be up to 70 characters."),
    "gtin": lazy_gettext("Enter the barcode printed under the bars: 8, 12, 13 or 14 digits. Check the last digit."),
    "weight_grams": lazy_gettext("Enter the weight in grams as a whole number, more than 0, or leave it empty."),
}
SELLER_TEXT_FIELDS = ("name", "phone", "village", "description_vi", "description_en", "consent_note",
                      "bank_bin", "bank_account_number", "bank_account_name")
SELLER_HINTS = {
    "name": lazy_gettext("Enter the seller's name (up to 160 characters)."),
    "phone": lazy_gettext("Enter a phone number using digits, spaces, + . or -."),
    "user_id": lazy_gettext("Choose an account from the list."),
}
STATUS_DONE = {
    "submit": lazy_gettext("“%(title)s” was sent for review."),
    "approve": lazy_gettext("“%(title)s” was approved and is now public."),
    "reject": lazy_gettext("“%(title)s” was sent back to the seller with your note."),
    "archive": lazy_gettext("“%(title)s” was archived."),
    "restore": lazy_gettext("“%(title)s” was restored as a draft."),
}
IMAGE_DONE = {
    "alt": lazy_gettext("Photo description saved."),
    "cover": lazy_gettext("Cover photo changed."),
    "up": lazy_gettext("Photo moved."),
    "down": lazy_gettext("Photo moved."),
    "remove": lazy_gettext("Photo removed."),
}
CATEGORY_HINTS = {
    "name_vi": lazy_gettext("Enter the category name in Vietnamese."),
    "position": lazy_gettext("Position must be a whole number, 0 or more."),
}


def _require_staff(actor: Actor) -> None:
    actor.require(actor.is_staff, gettext("Only commune staff can open this page."))


# ---------------------------------------------------------------------------
# Products


def _price_text(price: int | None) -> str:
    return format_vnd(price).removesuffix(" ₫") if price is not None else ""


def _product_values(product: Product | None) -> dict[str, Any]:
    if product is None:
        return {"seller_id": int_arg("seller_id") or "", "stock": "0"}
    values: dict[str, Any] = {field: getattr(product, field) or "" for field in PRODUCT_TEXT_FIELDS}
    values |= {field: "" if getattr(product, field) is None else getattr(product, field)
               for field in PRODUCT_NUMBER_FIELDS}
    values["price"] = _price_text(product.price)
    values["is_featured"] = product.is_featured
    return values


def _product_form(actor: Actor, *, partial: bool) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(values to show again, data loaded by the schema, field errors)."""
    form = request.form
    values: dict[str, Any] = {field: form.get(field, "") for field in (*PRODUCT_TEXT_FIELDS, *PRODUCT_NUMBER_FIELDS)}
    values["price"] = form.get("price", "")
    values["is_featured"] = checkbox("is_featured")
    raw = {k: v for k, v in values.items() if k not in ("price", "is_featured")}
    if not str(raw["stock"]).strip():
        raw["stock"] = "0"  # an empty stock box means none in stock
    if partial and (not actor.is_staff or not str(raw["seller_id"]).strip()):
        raw.pop("seller_id", None)  # only staff move a listing to another seller
    if actor.is_staff:
        raw["is_featured"] = values["is_featured"]
    errors: dict[str, str] = {}
    try:
        raw["price"] = parse_vnd(values["price"])
    except ValueError:
        errors["price"] = str(PRODUCT_HINTS["price"])
    schema = ProductPatchSchema() if partial else ProductInSchema()
    data = load_form(schema, raw, errors, PRODUCT_HINTS)
    return values, data, errors


def _product_page(template: str, status: int = 200, **context: Any) -> Any:
    session = get_session()
    actor = current_actor()
    return render_template(
        template,
        sellers=catalog.sellers_actor_can_list_for(session, actor),
        categories=catalog.list_categories(session),
        **context,
    ), status


@catalog_admin.get("/products")
@commune_member_required
def products() -> Any:
    session = get_session()
    actor = current_actor()
    status = request.args.get("status", "")
    if status not in {s.value for s in ProductStatus}:
        status = ""
    seller_id = int_arg("seller")
    page = catalog.list_manageable_products(session, actor, status=status or None, seller_id=seller_id,
                                            page=page_arg(), per_page=PER_PAGE)
    return render_template("admin/products/list.html", page=page, status=status, seller_id=seller_id,
                           sellers=catalog.sellers_actor_can_list_for(session, actor))


@catalog_admin.route("/products/new", methods=["GET", "POST"])
@commune_member_required
def new_product() -> Any:
    actor = current_actor()
    if request.method == "GET":
        return _product_page("admin/products/form.html", values=_product_values(None), errors={}, product=None)
    values, data, errors = _product_form(actor, partial=False)
    if not errors:
        session = get_session()
        try:
            product = catalog.create_product(session, actor, data)
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            return saved(gettext("Listing saved as a draft."), "catalog_admin.edit_product", product_id=product.id)
    form_failed()
    return _product_page("admin/products/form.html", 422, values=values, errors=errors, product=None)


def _edit_page(product: Product, values: dict[str, Any], errors: dict[str, str], status: int = 200,
               image_problems: list[str] | None = None) -> Any:
    session = get_session()
    actor = current_actor()
    history = list_entries(session, object_type="product", object_id=product.id, per_page=10)
    return _product_page("admin/products/form.html", status, product=product, values=values, errors=errors,
                         actions=catalog.available_actions(actor, product), history=history,
                         images=catalog.product_images(session, product), image_problems=image_problems or [],
                         upload_policy=UploadPolicy.from_config(current_app.config))


@catalog_admin.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@commune_member_required
def edit_product(product_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    product = catalog.get_manageable_product(session, actor, product_id)
    if request.method == "GET":
        return _edit_page(product, _product_values(product), {})
    values, data, errors = _product_form(actor, partial=True)
    if not errors:
        try:
            catalog.update_product(session, actor, product, data)
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            return saved(gettext("Listing saved."), "catalog_admin.edit_product", product_id=product.id)
    form_failed()
    return _edit_page(product, values, errors, 422)


@catalog_admin.post("/products/<int:product_id>/images")
@commune_member_required
def upload_product_images(product_id: int) -> Any:
    """Several photos at once from a phone: each good one is kept even when another is refused."""
    session = get_session()
    actor = current_actor()
    product = catalog.get_manageable_product(session, actor, product_id)
    policy = UploadPolicy.from_config(current_app.config)
    storage = get_storage()
    added, problems = upload_each(policy, lambda data, name: catalog.add_product_image(
        session, actor, storage, policy, product, data, name))
    if not problems:
        return saved(gettext("Photos added: %(num)d.", num=added), "catalog_admin.edit_product",
                     product_id=product.id)
    session.commit()  # the good photos stay
    if added:
        flash(gettext("Photos added: %(num)d.", num=added), "success")
    return _edit_page(product, _product_values(product), {}, 422, image_problems=problems)


@catalog_admin.post("/products/<int:product_id>/images/<int:image_id>")
@commune_member_required
def product_image(product_id: int, image_id: int) -> Any:
    """One button or form of a photo: alt text, cover, move up or down, remove."""
    session = get_session()
    actor = current_actor()
    product = catalog.get_manageable_product(session, actor, product_id)
    operation = request.form.get("op", "")
    if operation not in IMAGE_DONE:
        raise Conflict(gettext("Unknown photo action."), code="unknown_action")
    if operation == "remove":
        catalog.remove_product_image(session, actor, product, image_id)
    else:
        position = next((image.position for image in catalog.product_images(session, product)
                         if image.asset_id == image_id), 0)
        changes: dict[str, dict[str, Any]] = {
            "alt": {"alt_vi": request.form.get("alt_vi", ""), "alt_en": request.form.get("alt_en", "")},
            "cover": {"position": 0},
            "up": {"position": max(position - 1, 0)},
            "down": {"position": position + 1},
        }
        data = changes[operation]
        catalog.update_product_image(session, actor, product, image_id, data)
    return saved(str(IMAGE_DONE[operation]), "catalog_admin.edit_product", product_id=product.id)


@catalog_admin.post("/products/<int:product_id>/status")
@commune_member_required
def product_status(product_id: int) -> Any:
    session = get_session()
    actor = current_actor()
    product = catalog.get_manageable_product(session, actor, product_id)
    from_queue = request.form.get("origin") == "moderation"
    errors: dict[str, str] = {}
    data = load_form(StatusChangeSchema(), {"action": request.form.get("action", ""),
                                            "note": request.form.get("note", "")}, errors)
    if not errors:
        try:
            catalog.change_status(session, actor, product, data["action"], data["note"])
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            message = str(STATUS_DONE[data["action"]]) % {"title": product.title_vi}
            if from_queue:
                return saved(message, "catalog_admin.moderation")
            return saved(message, "catalog_admin.edit_product", product_id=product.id)
    form_failed()
    if from_queue:
        return _moderation_page({product.id: errors}, request.form.get("note", ""), 422)
    return _edit_page(product, _product_values(product), {f"status_{k}": v for k, v in errors.items()}, 422)


def _moderation_page(errors: dict[int, dict[str, str]], note: str = "", status: int = 200) -> Any:
    session = get_session()
    actor = current_actor()
    _require_staff(actor)
    queue = catalog.list_manageable_products(session, actor, status=ProductStatus.PENDING_REVIEW.value,
                                             page=page_arg(), per_page=PER_PAGE)
    return render_template("admin/products/moderation.html", queue=queue, errors=errors, note=note), status


@catalog_admin.get("/moderation")
@commune_member_required
def moderation() -> Any:
    return _moderation_page({})


# ---------------------------------------------------------------------------
# Sellers


def _seller_accounts() -> list[Membership]:
    """Commune members with the seller role, to link a seller profile to a login."""
    return list(get_session().scalars(select(Membership).where(Membership.role == Role.SELLER)))


def _seller_values(seller: Seller | None) -> dict[str, Any]:
    if seller is None:
        return {"is_active": True, "assisted_listing_consent": False, "user_id": ""}
    values: dict[str, Any] = {field: getattr(seller, field) or "" for field in SELLER_TEXT_FIELDS}
    values |= {"user_id": seller.user_id or "", "is_active": seller.is_active,
               "assisted_listing_consent": seller.assisted_listing_consent}
    return values


def _seller_form(actor: Actor) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {field: request.form.get(field, "") for field in SELLER_TEXT_FIELDS}
    values["assisted_listing_consent"] = checkbox("assisted_listing_consent")
    raw = dict(values)
    if actor.is_staff:
        values["user_id"] = raw["user_id"] = request.form.get("user_id", "")
        values["is_active"] = raw["is_active"] = checkbox("is_active")
    errors: dict[str, str] = {}
    data = load_form(SellerInSchema(), raw, errors, SELLER_HINTS)
    if not actor.is_staff:
        data.pop("user_id", None)
        data.pop("is_active", None)
    elif data.get("user_id") is not None and data["user_id"] not in {m.user_id for m in _seller_accounts()}:
        errors["user_id"] = str(SELLER_HINTS["user_id"])
    return values, data, errors


def _seller_page(status: int = 200, **context: Any) -> Any:
    return render_template("admin/sellers/form.html", accounts=_seller_accounts(), banks=vietqr.bank_choices(),
                           **context), status


@catalog_admin.get("/sellers")
@commune_member_required
def sellers() -> Any:
    actor = current_actor()
    _require_staff(actor)
    return render_template("admin/sellers/list.html",
                           page=catalog.list_sellers(get_session(), page=page_arg(), per_page=PER_PAGE))


@catalog_admin.route("/sellers/new", methods=["GET", "POST"])
@commune_member_required
def new_seller() -> Any:
    actor = current_actor()
    actor.require(actor.is_staff or actor.role == Role.VOLUNTEER,
                  gettext("Only commune staff and volunteers can register sellers."))
    if request.method == "GET":
        return _seller_page(values=_seller_values(None), errors={}, seller=None)
    values, data, errors = _seller_form(actor)
    if not errors:
        try:
            seller = catalog.create_seller(get_session(), actor, data)
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            message = gettext("Seller “%(name)s” registered.", name=seller.name)
            if actor.is_staff:
                return saved(message, "catalog_admin.sellers")
            return saved(message, "catalog_admin.new_product", seller_id=seller.id)
    form_failed()
    return _seller_page(422, values=values, errors=errors, seller=None)


@catalog_admin.route("/sellers/<int:seller_id>/edit", methods=["GET", "POST"])
@commune_member_required
def edit_seller(seller_id: int) -> Any:
    actor = current_actor()
    _require_staff(actor)
    session = get_session()
    seller = catalog.get_seller(session, seller_id)
    if request.method == "GET":
        return _seller_page(values=_seller_values(seller), errors={}, seller=seller)
    values, data, errors = _seller_form(actor)
    if not errors:
        try:
            catalog.update_seller(session, actor, seller, data)
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            return saved(gettext("Seller “%(name)s” saved.", name=seller.name), "catalog_admin.sellers")
    form_failed()
    return _seller_page(422, values=values, errors=errors, seller=seller)


@catalog_admin.get("/sellers/<int:seller_id>/dashboard")
@commune_member_required
def seller_dashboard(seller_id: int) -> Any:
    """Staff see a seller's dashboard as the seller does (e.g. to help it on the phone)."""
    from service.dashboard.seller_views import seller_dashboard_for_staff  # late: the dashboard reads the catalog

    _require_staff(current_actor())
    return seller_dashboard_for_staff(catalog.get_seller(get_session(), seller_id))


# ---------------------------------------------------------------------------
# Categories


def _categories_page(status: int = 200, conflict: str = "") -> Any:
    return render_template("admin/categories/list.html", categories=catalog.list_categories(get_session()),
                           conflict=conflict), status


def _category_form() -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    values = {field: request.form.get(field, "") for field in ("name_vi", "name_en", "position")}
    errors: dict[str, str] = {}
    data = load_form(CategoryInSchema(), dict(values), errors, CATEGORY_HINTS)
    return values, data, errors


@catalog_admin.get("/categories")
@commune_member_required
def categories() -> Any:
    _require_staff(current_actor())
    return _categories_page()


@catalog_admin.route("/categories/new", methods=["GET", "POST"])
@commune_member_required
def new_category() -> Any:
    actor = current_actor()
    _require_staff(actor)
    if request.method == "GET":
        return render_template("admin/categories/form.html", values={"position": 0}, errors={}, category=None)
    values, data, errors = _category_form()
    if not errors:
        try:
            category = catalog.create_category(get_session(), actor, data)
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            return saved(gettext("Category “%(name)s” created.", name=category.name_vi), "catalog_admin.categories")
    form_failed()
    return render_template("admin/categories/form.html", values=values, errors=errors, category=None), 422


@catalog_admin.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@commune_member_required
def edit_category(category_id: int) -> Any:
    actor = current_actor()
    _require_staff(actor)
    session = get_session()
    category = catalog.get_category(session, category_id)
    if request.method == "GET":
        values = {"name_vi": category.name_vi, "name_en": category.name_en, "position": category.position}
        return render_template("admin/categories/form.html", values=values, errors={}, category=category)
    values, data, errors = _category_form()
    if not errors:
        try:
            catalog.update_category(session, actor, category, data)
        except AppError as exc:
            errors = form_errors_or_raise(exc)
        else:
            return saved(gettext("Category “%(name)s” saved.", name=category.name_vi), "catalog_admin.categories")
    form_failed()
    return render_template("admin/categories/form.html", values=values, errors=errors, category=category), 422


@catalog_admin.post("/categories/<int:category_id>/delete")
@commune_member_required
def delete_category(category_id: int) -> Any:
    actor = current_actor()
    _require_staff(actor)
    session = get_session()
    category = catalog.get_category(session, category_id)
    name = category.name_vi
    try:
        catalog.delete_category(session, actor, category)
    except Conflict as exc:
        form_failed()
        return _categories_page(409, conflict=gettext(exc.message))
    return saved(gettext("Category “%(name)s” deleted.", name=name), "catalog_admin.categories")


def blueprints() -> list[Blueprint]:
    return [catalog_admin]


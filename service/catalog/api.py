"""JSON API of the catalog: products, sellers, categories and the audit trail of a commune.

Thin views over service.catalog.services, which enforces permissions and writes the audit
trail. Everything here lives under ``/api/v1/communes/<commune>/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint

from service.accounts.models import User
from service.audit.services import list_entries
from service.catalog import services as catalog
from service.catalog.models import Product, ProductStatus, Seller
from service.catalog.schemas import (
    AuditArgsSchema,
    AuditPageSchema,
    CategoryInSchema,
    CategoryListSchema,
    CategoryOutSchema,
    CategoryPatchSchema,
    PageArgsSchema,
    ProductInSchema,
    ProductListArgsSchema,
    ProductOutSchema,
    ProductPageSchema,
    ProductPatchSchema,
    SellerInSchema,
    SellerOutSchema,
    SellerPageSchema,
    SellerPatchSchema,
    StatusChangeSchema,
)
from service.core.api import load_or_invalid
from service.core.errors import Forbidden, Invalid, NotFound
from service.core.pagination import Page, clamp
from service.db import get_session
from service.media.schemas import ImageFormSchema, ImageListSchema, ImageOutSchema, ImagePatchSchema, ImageUploadSchema
from service.media.services import UploadPolicy
from service.media.storage import get_storage
from service.media.web import read_upload
from service.tenants.api import BEARER, COMMUNE_PARAMETER, COMMUNE_PREFIX, api_blueprint, errors, member_actor
from service.tenants.services import Actor
from service.tenants.web import current_actor

products_blp = api_blueprint("api_products", __name__, COMMUNE_PREFIX, "Products of a commune (OCOP and others)")
sellers_blp = api_blueprint("api_sellers", __name__, COMMUNE_PREFIX, "Sellers: households and cooperatives")
categories_blp = api_blueprint("api_categories", __name__, COMMUNE_PREFIX, "Product categories")
audit_blp = api_blueprint("api_audit", __name__, COMMUNE_PREFIX, "Who did what, for whom")
COMMUNE = [COMMUNE_PARAMETER]


def _no_such(kind: str, param: str) -> NotFound:
    return NotFound(f"No such {kind}.", param=param)


@contextmanager
def _category_is_a_field() -> Iterator[None]:
    """A category id that does not exist in this commune is invalid input, not a missing resource."""
    try:
        yield
    except NotFound as error:
        if error.param != "category_id":
            raise
        raise Invalid("No such category in this commune.", param="category_id") from error


def _commit_and_reload(obj: Any) -> Any:
    session = get_session()
    session.commit()
    session.refresh(obj)  # relationships (category, seller) may have changed
    return obj


# ---------------------------------------------------------------------------
# Products


@products_blp.route("/products", parameters=COMMUNE)
@products_blp.arguments(ProductListArgsSchema, location="query")
@products_blp.response(200, ProductPageSchema)
@products_blp.doc(security=[{}, *BEARER])
@errors(products_blp, 401, 404)
def list_products(args: dict[str, Any]) -> Any:
    """List products

    Without `scope`: the published products, anyone may read them. With `scope=manage` and a
    token: every product you may manage (staff: all; sellers: their own; volunteers: those of
    households that consented), in any status.
    """
    session = get_session()
    if args["scope"] == "manage":
        actor = member_actor()
        result = catalog.list_manageable_products(session, actor, status=args.get("status"),
                                                  seller_id=args.get("seller_id"),
                                                  page=args["page"], per_page=args["per_page"])
    else:
        filters = catalog.ProductFilters(category=args.get("category"), ocop_stars=args.get("ocop_stars") or None,
                                         seller=args.get("seller"), sort=args["sort"])
        result = catalog.list_public_products(session, filters, args["page"], args["per_page"])
    return result.as_dict(result.items)


@products_blp.route("/products", methods=["POST"], parameters=COMMUNE, endpoint="create_product")
@products_blp.arguments(ProductInSchema)
@products_blp.response(201, ProductOutSchema)
@products_blp.doc(security=BEARER)
@errors(products_blp, 401, 403, 404)
def create_product(data: dict[str, Any]) -> Any:
    """Create a product (a draft)

    Sellers list for themselves, volunteers for households that consented, staff for anyone.
    """
    actor = member_actor(_no_such("seller", "seller_id"))
    with _category_is_a_field():
        product = catalog.create_product(get_session(), actor, data)
    return _commit_and_reload(product)


def _visible_product(product_id: int) -> Product:
    product = catalog.get_product(get_session(), product_id)
    if product.status != ProductStatus.PUBLISHED and not catalog.can_act_for(current_actor(), product.seller):
        raise _no_such("product", "product_id")
    return product


@products_blp.route("/products/<id:product_id>", parameters=COMMUNE)
@products_blp.response(200, ProductOutSchema)
@products_blp.doc(security=[{}, *BEARER])
@errors(products_blp, 404)
def get_product(product_id: int) -> Any:
    """A product (unpublished ones only for those who manage them)"""
    return _visible_product(product_id)


@products_blp.route("/products/<id:product_id>", methods=["PATCH"], parameters=COMMUNE, endpoint="update_product")
@products_blp.arguments(ProductPatchSchema)
@products_blp.response(200, ProductOutSchema)
@products_blp.doc(security=BEARER)
@errors(products_blp, 401, 403, 404)
def update_product(data: dict[str, Any], product_id: int) -> Any:
    """Change a product

    Only the fields sent change. A seller's change to a published product's reviewed fields
    sends it back to review. There is no DELETE: archive instead (`POST .../status`).
    """
    actor = member_actor(_no_such("product", "product_id"))
    session = get_session()
    product = catalog.get_manageable_product(session, actor, product_id)
    with _category_is_a_field():
        catalog.update_product(session, actor, product, data)
    return _commit_and_reload(product)


@products_blp.route("/products/<id:product_id>/status", methods=["POST"], parameters=COMMUNE)
@products_blp.arguments(StatusChangeSchema)
@products_blp.response(200, ProductOutSchema)
@products_blp.doc(security=BEARER)
@errors(products_blp, 401, 403, 404, 409)
def change_product_status(data: dict[str, Any], product_id: int) -> Any:
    """Move a product through its workflow

    `submit` (draft to review), `approve` / `reject` (staff; reject needs a `note`), `archive`,
    `restore` (archived to draft). A move the current status does not allow answers 409.
    """
    actor = member_actor(_no_such("product", "product_id"))
    session = get_session()
    product = catalog.get_manageable_product(session, actor, product_id)
    catalog.change_status(session, actor, product, data["action"], data.get("note") or "")
    return _commit_and_reload(product)


# ---------------------------------------------------------------------------
# Product images


def _upload_policy() -> UploadPolicy:
    return UploadPolicy.from_config(current_app.config)


@products_blp.route("/products/<id:product_id>/images", parameters=COMMUNE)
@products_blp.response(200, ImageListSchema)
@products_blp.doc(security=[{}, *BEARER])
@errors(products_blp, 404)
def list_product_images(product_id: int) -> Any:
    """A product's photos, cover first, each with its WebP and JPEG variants"""
    return {"data": catalog.product_images(get_session(), _visible_product(product_id))}


@products_blp.route("/products/<id:product_id>/images", methods=["POST"], parameters=COMMUNE,
                    endpoint="add_product_image")
@products_blp.arguments(ImageUploadSchema, location="files")
@products_blp.response(201, ImageOutSchema)
@products_blp.doc(security=BEARER)
@errors(products_blp, 401, 403, 404, 413)
def add_product_image(files: dict[str, Any], product_id: int) -> Any:
    """Upload a photo (multipart `file`)

    JPEG, PNG or WebP, judged by content. The photo is turned upright, converted to sRGB,
    stripped of every metadata (GPS included) and resized to 320, 800 and 1600 px in WebP and
    JPEG. The same file uploaded twice is stored once. At most 8 photos per product; the first
    is the cover. A seller's new photo on a published product sends it back to review.
    """
    actor = member_actor(_no_such("product", "product_id"))
    session = get_session()
    product = catalog.get_manageable_product(session, actor, product_id)
    policy = _upload_policy()
    upload = files["file"]
    form = load_or_invalid(ImageFormSchema(), request.form)  # optional alt_vi / alt_en beside the file
    attachment = catalog.add_product_image(session, actor, get_storage(), policy, product,
                                           read_upload(upload, policy), upload.filename or "")
    if form:
        catalog.update_product_image(session, actor, product, attachment.asset_id, form)
    session.commit()
    return attachment


@products_blp.route("/products/<id:product_id>/images/<id:image_id>", methods=["PATCH"], parameters=COMMUNE,
                    endpoint="update_product_image")
@products_blp.arguments(ImagePatchSchema)
@products_blp.response(200, ImageOutSchema)
@products_blp.doc(security=BEARER)
@errors(products_blp, 401, 403, 404)
def update_product_image(data: dict[str, Any], product_id: int, image_id: int) -> Any:
    """Change a photo's alt text or position (`position: 0` makes it the cover)"""
    actor = member_actor(_no_such("product", "product_id"))
    session = get_session()
    product = catalog.get_manageable_product(session, actor, product_id)
    attachment = catalog.update_product_image(session, actor, product, image_id, data)
    session.commit()
    return attachment


@products_blp.route("/products/<id:product_id>/images/<id:image_id>", methods=["DELETE"], parameters=COMMUNE,
                    endpoint="remove_product_image")
@products_blp.response(204)
@products_blp.doc(security=BEARER)
@errors(products_blp, 401, 403, 404)
def remove_product_image(product_id: int, image_id: int) -> Any:
    """Remove a photo from the product (the next one becomes the cover)"""
    actor = member_actor(_no_such("product", "product_id"))
    session = get_session()
    product = catalog.get_manageable_product(session, actor, product_id)
    catalog.remove_product_image(session, actor, product, image_id)
    session.commit()
    return None


# ---------------------------------------------------------------------------
# Sellers


def _check_linked_user(actor: Actor, data: dict[str, Any]) -> None:
    user_id = data.get("user_id")
    if user_id is None:
        return
    if not actor.is_staff:
        raise Forbidden("Only commune staff can link a seller to an account.")
    if get_session().get(User, user_id) is None:
        raise Invalid("No such user.", param="user_id")


def _actable_seller(actor: Actor, seller_id: int) -> Seller:
    seller = catalog.get_seller(get_session(), seller_id)
    if not catalog.can_act_for(actor, seller):
        raise _no_such("seller", "seller_id")
    return seller


@sellers_blp.route("/sellers", parameters=COMMUNE)
@sellers_blp.arguments(PageArgsSchema, location="query")
@sellers_blp.response(200, SellerPageSchema)
@sellers_blp.doc(security=BEARER)
@errors(sellers_blp, 401, 404)
def list_sellers(args: dict[str, Any]) -> Any:
    """List sellers

    Staff see every seller; volunteers the households that consented to assisted listing;
    sellers themselves.
    """
    actor = member_actor()
    session = get_session()
    if actor.is_staff:
        result = catalog.list_sellers(session, args["page"], args["per_page"])
    else:
        page, per_page = clamp(args["page"], args["per_page"])
        mine = catalog.sellers_actor_can_list_for(session, actor)
        result = Page(items=mine[(page - 1) * per_page: page * per_page], page=page, per_page=per_page,
                      total=len(mine))
    return result.as_dict(result.items)


@sellers_blp.route("/sellers", methods=["POST"], parameters=COMMUNE, endpoint="create_seller")
@sellers_blp.arguments(SellerInSchema)
@sellers_blp.response(201, SellerOutSchema)
@sellers_blp.doc(security=BEARER)
@errors(sellers_blp, 401, 403, 404)
def create_seller(data: dict[str, Any]) -> Any:
    """Register a seller

    Staff, or a volunteer of the digital-technology team registering a household door to
    door, which needs `assisted_listing_consent`.
    """
    actor = member_actor()
    _check_linked_user(actor, data)
    seller = catalog.create_seller(get_session(), actor, data)
    return _commit_and_reload(seller)


@sellers_blp.route("/sellers/<id:seller_id>", parameters=COMMUNE)
@sellers_blp.response(200, SellerOutSchema)
@sellers_blp.doc(security=BEARER)
@errors(sellers_blp, 401, 404)
def get_seller(seller_id: int) -> Any:
    """A seller (for staff and those who may list for it)"""
    actor = member_actor(_no_such("seller", "seller_id"))
    return _actable_seller(actor, seller_id)


@sellers_blp.route("/sellers/<id:seller_id>", methods=["PATCH"], parameters=COMMUNE, endpoint="update_seller")
@sellers_blp.arguments(SellerPatchSchema)
@sellers_blp.response(200, SellerOutSchema)
@sellers_blp.doc(security=BEARER)
@errors(sellers_blp, 401, 403, 404)
def update_seller(data: dict[str, Any], seller_id: int) -> Any:
    """Change a seller (staff)"""
    actor = member_actor(_no_such("seller", "seller_id"))
    seller = _actable_seller(actor, seller_id)
    _check_linked_user(actor, data)
    catalog.update_seller(get_session(), actor, seller, data)
    return _commit_and_reload(seller)


# ---------------------------------------------------------------------------
# Categories


@categories_blp.route("/categories", parameters=COMMUNE)
@categories_blp.response(200, CategoryListSchema)
@errors(categories_blp, 404)
def list_categories() -> Any:
    """List the commune's product categories"""
    return {"data": catalog.list_categories(get_session())}


@categories_blp.route("/categories", methods=["POST"], parameters=COMMUNE, endpoint="create_category")
@categories_blp.arguments(CategoryInSchema)
@categories_blp.response(201, CategoryOutSchema)
@categories_blp.doc(security=BEARER)
@errors(categories_blp, 401, 403, 404)
def create_category(data: dict[str, Any]) -> Any:
    """Create a category (staff)"""
    actor = member_actor()
    category = catalog.create_category(get_session(), actor, data)
    return _commit_and_reload(category)


@categories_blp.route("/categories/<id:category_id>", methods=["PATCH"], parameters=COMMUNE)
@categories_blp.arguments(CategoryPatchSchema)
@categories_blp.response(200, CategoryOutSchema)
@categories_blp.doc(security=BEARER)
@errors(categories_blp, 401, 403, 404)
def update_category(data: dict[str, Any], category_id: int) -> Any:
    """Change a category (staff)"""
    actor = member_actor(_no_such("category", "category_id"))
    session = get_session()
    category = catalog.update_category(session, actor, catalog.get_category(session, category_id), data)
    return _commit_and_reload(category)


@categories_blp.route("/categories/<id:category_id>", methods=["DELETE"], parameters=COMMUNE,
                      endpoint="delete_category")
@categories_blp.response(204)
@categories_blp.doc(security=BEARER)
@errors(categories_blp, 401, 403, 404, 409)
def delete_category(category_id: int) -> Any:
    """Delete a category no product uses (staff)"""
    actor = member_actor(_no_such("category", "category_id"))
    session = get_session()
    catalog.delete_category(session, actor, catalog.get_category(session, category_id))
    session.commit()
    return None


# ---------------------------------------------------------------------------
# Audit trail


@audit_blp.route("/audit", parameters=COMMUNE)
@audit_blp.arguments(AuditArgsSchema, location="query")
@audit_blp.response(200, AuditPageSchema)
@audit_blp.doc(security=BEARER)
@errors(audit_blp, 401, 403, 404)
def list_audit(args: dict[str, Any]) -> Any:
    """The commune's audit trail, newest first (staff)

    `seller_id` narrows it to what was done on behalf of one seller.
    """
    actor = member_actor()
    actor.require(actor.is_staff, "Only commune staff can read the audit trail.")
    result = list_entries(get_session(), seller_id=args.get("seller_id"), object_type=args.get("object_type"),
                          object_id=args.get("object_id"), page=args["page"], per_page=args["per_page"])
    return result.as_dict(result.items)


def blueprints() -> list[Blueprint]:
    return [products_blp, sellers_blp, categories_blp, audit_blp]

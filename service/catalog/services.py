"""Catalog behaviour: sellers, categories, products, their workflow and who may do what.

Functions take a session (already scoped to a commune by the data layer), the acting
``Actor`` and plain values. They never see the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from service.audit.services import record
from service.catalog.models import Category, Product, ProductStatus, Seller
from service.core.errors import Conflict, Invalid, NotFound
from service.core.money import MAX_PRICE_VND
from service.core.pagination import Page, paginate
from service.core.text import slugify
from service.db import utcnow
from service.media import services as media
from service.media.models import MediaAttachment
from service.media.services import UploadPolicy
from service.media.storage import Storage
from service.payments import vietqr
from service.tenants.models import Role
from service.tenants.services import Actor

OCOP_STARS = (3, 4, 5)
FIRST_OCOP_YEAR = 2018  # the OCOP programme started certifying products in 2018
SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (Product.published_at.desc(), Product.id.desc()),
    "price_asc": (Product.price.asc(), Product.id.asc()),
    "price_desc": (Product.price.desc(), Product.id.desc()),
    "name": (Product.title_vi.asc(), Product.id.asc()),
}
# Changing these on a published product sends it back to review unless staff made the change.
REVIEWED_FIELDS = frozenset({"title_vi", "title_en", "description_vi", "description_en", "category_id",
                             "ocop_stars", "ocop_certificate_number", "ocop_certificate_year"})
PRODUCT_FIELDS = ("seller_id", "category_id", "title_vi", "title_en", "description_vi", "description_en",
                  "price", "unit", "stock", "ocop_stars", "ocop_certificate_number",
                  "ocop_certificate_year", "is_featured", "brand", "gtin", "weight_grams")
SELLER_FIELDS = ("name", "phone", "village", "description_vi", "description_en", "user_id",
                 "assisted_listing_consent", "consent_note", "is_active",
                 "bank_bin", "bank_account_number", "bank_account_name")
BANK_FIELDS = ("bank_bin", "bank_account_number", "bank_account_name")
CATEGORY_FIELDS = ("name_vi", "name_en", "position")


def _unique_slug(session: Session, model: Any, text: str, exclude_id: int | None = None) -> str:
    """A slug free in this commune (the data layer limits the lookup to it)."""
    base = slugify(text)
    taken = set(session.scalars(select(model.slug).where(
        or_(model.slug == base, model.slug.like(f"{base}-%")),
        model.id != (exclude_id or 0),
    )))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _apply(obj: Any, data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for field, value in data.items():
        if field not in allowed:
            continue
        old = getattr(obj, field, None)
        if old != value:
            changes[field] = [old, value]
            setattr(obj, field, value)
    return changes


# ---------------------------------------------------------------------------
# Permissions


def can_act_for(actor: Actor, seller: Seller) -> bool:
    """Staff act for every seller; a seller for itself; a volunteer for households that consented."""
    if not actor.is_authenticated:
        return False
    if actor.is_staff:
        return True
    if actor.role == Role.SELLER and actor.user is not None and seller.user_id == actor.user.id:
        return True
    return actor.role == Role.VOLUNTEER and seller.assisted_listing_consent and seller.is_active


def _on_behalf(actor: Actor, seller: Seller) -> int | None:
    own = actor.user is not None and seller.user_id == actor.user.id
    return None if own else seller.id


def sellers_actor_can_list_for(session: Session, actor: Actor) -> list[Seller]:
    stmt = select(Seller).where(Seller.is_active.is_(True)).order_by(Seller.name)
    return [s for s in session.scalars(stmt) if can_act_for(actor, s)]


# ---------------------------------------------------------------------------
# Sellers


def list_sellers(session: Session, page: int | None = None, per_page: int | None = None) -> Page[Seller]:
    return paginate(session, select(Seller).order_by(Seller.name), page, per_page)


def get_seller(session: Session, seller_id: int) -> Seller:
    seller = session.get(Seller, seller_id)
    if seller is None:
        raise NotFound("No such seller.", param="seller_id")
    return seller


def _check_seller(data: dict[str, Any]) -> None:
    if "name" in data and not (data["name"] or "").strip():
        raise Invalid("Name is required.", param="name")


def _with_bank_account(seller: Seller | None, data: dict[str, Any]) -> dict[str, Any]:
    """Bank details written as banks write them (digits only; the holder in capitals without marks),
    checked as the account they make together with what the seller already has."""
    cleaned = dict(data)
    for field in BANK_FIELDS:
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    if "bank_account_number" in cleaned:
        cleaned["bank_account_number"] = re.sub(r"[\s.-]", "", cleaned["bank_account_number"])
    if "bank_account_name" in cleaned:
        cleaned["bank_account_name"] = vietqr.account_holder_name(cleaned["bank_account_name"])
    account = {field: cleaned.get(field, getattr(seller, field, "") or "") for field in BANK_FIELDS}
    vietqr.check_bank_account(account["bank_bin"], account["bank_account_number"], account["bank_account_name"])
    return cleaned


def create_seller(session: Session, actor: Actor, data: dict[str, Any]) -> Seller:
    # Volunteers register households door to door; that is only allowed with consent.
    actor.require(actor.is_staff or actor.role == Role.VOLUNTEER)
    if actor.role == Role.VOLUNTEER and not actor.is_staff and not data.get("assisted_listing_consent"):
        raise Invalid("Record the household's consent before listing for it.",
                      param="assisted_listing_consent")
    _check_seller({"name": data.get("name", ""), **data})
    data = _with_bank_account(None, data)
    seller = Seller(slug=_unique_slug(session, Seller, data["name"]), name=data["name"].strip())
    changes = _apply(seller, {k: v for k, v in data.items() if k != "name"}, SELLER_FIELDS)
    if seller.assisted_listing_consent:
        seller.consent_recorded_at = utcnow()
    session.add(seller)
    session.flush()
    record(session, actor, "seller.created", seller, {"name": seller.name, **changes})
    return seller


def update_seller(session: Session, actor: Actor, seller: Seller, data: dict[str, Any]) -> Seller:
    actor.require(actor.is_staff)
    _check_seller(data)
    data = _with_bank_account(seller, data)
    had_consent = seller.assisted_listing_consent
    changes = _apply(seller, data, SELLER_FIELDS)
    if seller.assisted_listing_consent and not had_consent:
        seller.consent_recorded_at = utcnow()
    if changes:
        record(session, actor, "seller.updated", seller, changes)
    return seller


# ---------------------------------------------------------------------------
# Categories


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.name_vi)))


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("No such category.", param="category_id")
    return category


def create_category(session: Session, actor: Actor, data: dict[str, Any]) -> Category:
    actor.require(actor.is_staff)
    name = (data.get("name_vi") or "").strip()
    if not name:
        raise Invalid("Vietnamese name is required.", param="name_vi")
    category = Category(slug=_unique_slug(session, Category, data.get("slug") or name), name_vi=name)
    _apply(category, {k: v for k, v in data.items() if k != "name_vi"}, CATEGORY_FIELDS)
    session.add(category)
    session.flush()
    record(session, actor, "category.created", category, {"name_vi": name})
    return category


def update_category(session: Session, actor: Actor, category: Category, data: dict[str, Any]) -> Category:
    actor.require(actor.is_staff)
    if "name_vi" in data and not (data["name_vi"] or "").strip():
        raise Invalid("Vietnamese name is required.", param="name_vi")
    changes = _apply(category, data, CATEGORY_FIELDS)
    if changes:
        record(session, actor, "category.updated", category, changes)
    return category


def delete_category(session: Session, actor: Actor, category: Category) -> None:
    actor.require(actor.is_staff)
    in_use = session.scalar(select(func.count(Product.id)).where(Product.category_id == category.id))
    if in_use:
        raise Conflict(f"{in_use} products still use this category; move them first.",
                       param="category_id", code="category_in_use")
    record(session, actor, "category.deleted", category, {"name_vi": category.name_vi})
    session.delete(category)


# ---------------------------------------------------------------------------
# Products


def _validate_product(session: Session, product: Product) -> None:
    """Rules every saved product satisfies, whatever path it came by."""
    if not (product.title_vi or "").strip():
        raise Invalid("Vietnamese title is required.", param="title_vi")
    if product.price is None or not 0 <= product.price <= MAX_PRICE_VND:
        raise Invalid("Price must be a whole number of đồng between 0 and 10 billion.", param="price")
    if product.stock is None or product.stock < 0:
        raise Invalid("Stock cannot be negative.", param="stock")
    if product.ocop_stars is not None and product.ocop_stars not in OCOP_STARS:
        raise Invalid("OCOP stars must be 3, 4 or 5.", param="ocop_stars")
    year = product.ocop_certificate_year
    if year is not None and not FIRST_OCOP_YEAR <= year <= date.today().year:
        raise Invalid(f"Certificate year must be between {FIRST_OCOP_YEAR} and this year.",
                      param="ocop_certificate_year")
    if product.ocop_stars is not None and not (product.ocop_certificate_number or "").strip():
        raise Invalid("An OCOP rating needs its certificate number.", param="ocop_certificate_number")
    _validate_marketplace_fields(product)
    if product.category_id is not None:
        get_category(session, product.category_id)  # 404 for a category of another commune


def valid_gtin(code: str) -> bool:
    """GTIN-8/12/13/14 digits whose last digit is the GS1 check digit (weights 3,1,... from the right)."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    body = [int(d) for d in reversed(code[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return (10 - total % 10) % 10 == int(code[-1])


def _validate_marketplace_fields(product: Product) -> None:
    """What feeds send to marketplaces: a short brand, a real barcode, a positive weight."""
    product.brand = (product.brand or "").strip()
    product.gtin = (product.gtin or "").strip()
    if len(product.brand) > 70:
        raise Invalid("The brand can be up to 70 characters.", param="brand")
    if product.gtin and not valid_gtin(product.gtin):
        raise Invalid("The barcode (GTIN) must be 8, 12, 13 or 14 digits with a valid check digit.", param="gtin")
    if product.weight_grams is not None and not 0 < product.weight_grams <= 1_000_000:
        raise Invalid("The weight must be a whole number of grams, more than 0.", param="weight_grams")


def _check_publishable(product: Product) -> None:
    if product.price <= 0:
        raise Invalid("Set a price before submitting for review.", param="price")


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("No such product.", param="product_id")
    return product


def get_manageable_product(session: Session, actor: Actor, product_id: int) -> Product:
    """A product the actor may edit. Others' products answer 404, as if they did not exist."""
    product = get_product(session, product_id)
    if not can_act_for(actor, product.seller):
        raise NotFound("No such product.", param="product_id")
    return product


def get_public_product(session: Session, slug: str) -> Product:
    product = session.scalar(select(Product).where(Product.slug == slug,
                                                   Product.status == ProductStatus.PUBLISHED))
    if product is None:
        raise NotFound("No such product.", param="slug")
    return product


def create_product(session: Session, actor: Actor, data: dict[str, Any]) -> Product:
    actor.require(actor.is_authenticated)
    seller = get_seller(session, data["seller_id"])
    if not can_act_for(actor, seller):
        raise NotFound("No such seller.", param="seller_id")
    product = Product(status=ProductStatus.DRAFT, stock=0)
    _apply(product, data, PRODUCT_FIELDS)
    if not actor.is_staff:
        product.is_featured = False
    _validate_product(session, product)
    product.slug = _unique_slug(session, Product, product.title_vi)
    session.add(product)
    session.flush()
    record(session, actor, "product.created", product,
           {k: getattr(product, k) for k in data if k in PRODUCT_FIELDS},
           on_behalf_of_seller_id=_on_behalf(actor, seller))
    return product


def update_product(session: Session, actor: Actor, product: Product, data: dict[str, Any]) -> Product:
    if not can_act_for(actor, product.seller):
        raise NotFound("No such product.", param="product_id")
    if "seller_id" in data and data["seller_id"] != product.seller_id:
        actor.require(actor.is_staff, "Only staff can move a product to another seller.")
        if not can_act_for(actor, get_seller(session, data["seller_id"])):
            raise NotFound("No such seller.", param="seller_id")
    if "is_featured" in data and not actor.is_staff:
        data = {k: v for k, v in data.items() if k != "is_featured"}
    with session.no_autoflush:
        changes = _apply(product, data, PRODUCT_FIELDS)
        _validate_product(session, product)
    if not changes:
        return product
    if product.status == ProductStatus.PUBLISHED and not actor.is_staff and REVIEWED_FIELDS & changes.keys():
        changes["status"] = [product.status, ProductStatus.PENDING_REVIEW]
        product.status = ProductStatus.PENDING_REVIEW
    record(session, actor, "product.updated", product, changes,
           on_behalf_of_seller_id=_on_behalf(actor, product.seller))
    return product


@dataclass(frozen=True)
class Transition:
    sources: frozenset[ProductStatus]
    target: ProductStatus
    staff_only: bool


TRANSITIONS = {
    "submit": Transition(frozenset({ProductStatus.DRAFT}), ProductStatus.PENDING_REVIEW, False),
    "approve": Transition(frozenset({ProductStatus.PENDING_REVIEW}), ProductStatus.PUBLISHED, True),
    "reject": Transition(frozenset({ProductStatus.PENDING_REVIEW}), ProductStatus.DRAFT, True),
    "archive": Transition(frozenset({ProductStatus.DRAFT, ProductStatus.PENDING_REVIEW,
                                     ProductStatus.PUBLISHED}), ProductStatus.ARCHIVED, False),
    "restore": Transition(frozenset({ProductStatus.ARCHIVED}), ProductStatus.DRAFT, False),
}


def available_actions(actor: Actor, product: Product) -> list[str]:
    if not can_act_for(actor, product.seller):
        return []
    return [name for name, t in TRANSITIONS.items()
            if product.status in t.sources and (actor.is_staff or not t.staff_only)]


def change_status(session: Session, actor: Actor, product: Product, action: str, note: str = "") -> Product:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Invalid(f"Unknown action {action}.", param="action")
    if not can_act_for(actor, product.seller):
        raise NotFound("No such product.", param="product_id")
    actor.require(actor.is_staff or not transition.staff_only, "Only commune staff can review listings.")
    if product.status not in transition.sources:
        raise Conflict(f"A {product.status.value} product cannot be {action}d.",
                       param="status", code="invalid_transition")
    if action == "reject" and not note.strip():
        raise Invalid("Tell the seller why the listing was rejected.", param="note")
    if action == "submit":
        _check_publishable(product)
    previous = product.status
    product.status = transition.target
    product.review_note = note.strip()[:500] if action in ("approve", "reject") else product.review_note
    if transition.target == ProductStatus.PUBLISHED and product.published_at is None:
        product.published_at = utcnow()
    on_behalf = None if transition.staff_only else _on_behalf(actor, product.seller)
    record(session, actor, f"product.{action}", product,
           {"status": [previous, product.status], **({"note": note} if note else {})},
           on_behalf_of_seller_id=on_behalf)
    return product


def list_manageable_products(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    seller_id: int | None = None,
    page: int | None = None,
    per_page: int | None = None,
) -> Page[Product]:
    stmt = select(Product).order_by(Product.updated_at.desc(), Product.id.desc())
    if not actor.is_staff:
        allowed = [s.id for s in sellers_actor_can_list_for(session, actor)]
        stmt = stmt.where(Product.seller_id.in_(allowed))
    if status:
        stmt = stmt.where(Product.status == ProductStatus(status))
    if seller_id is not None:
        stmt = stmt.where(Product.seller_id == seller_id)
    return paginate(session, stmt, page, per_page)


@dataclass
class ProductFilters:
    category: str | None = None  # category slug
    ocop_stars: list[int] | None = None
    seller: str | None = None  # seller slug
    sort: str = "newest"
    featured: bool = False


def public_products_query(session: Session, filters: ProductFilters) -> Select[Any]:
    stmt = select(Product).where(Product.status == ProductStatus.PUBLISHED)
    if filters.category:
        stmt = stmt.join(Category, Product.category_id == Category.id).where(Category.slug == filters.category)
    if filters.ocop_stars:
        stmt = stmt.where(Product.ocop_stars.in_(filters.ocop_stars))
    if filters.seller:
        stmt = stmt.join(Seller, Product.seller_id == Seller.id).where(Seller.slug == filters.seller)
    if filters.featured:
        stmt = stmt.where(Product.is_featured.is_(True))
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["newest"]))


def list_public_products(
    session: Session, filters: ProductFilters, page: int | None = None, per_page: int | None = None
) -> Page[Product]:
    return paginate(session, public_products_query(session, filters), page, per_page)


def featured_products(session: Session, limit: int = 8) -> list[Product]:
    featured = list(session.scalars(public_products_query(session, ProductFilters(featured=True)).limit(limit)))
    if len(featured) < limit:
        seen = {p.id for p in featured}
        newest = session.scalars(public_products_query(session, ProductFilters()).limit(limit * 2))
        featured += [p for p in newest if p.id not in seen][: limit - len(featured)]
    return featured


# -- product images ---------------------------------------------------------------------------

PRODUCT_IMAGES = "product"


def product_images(session: Session, product: Product) -> list[MediaAttachment]:
    return media.attachments(session, PRODUCT_IMAGES, product.id)


def add_product_image(session: Session, actor: Actor, storage: Storage, policy: UploadPolicy, product: Product,
                      data: bytes, filename: str = "") -> MediaAttachment:
    """Upload one photo to a product, last in order (the first one becomes the cover)."""
    if not can_act_for(actor, product.seller):
        raise NotFound("No such product.", param="product_id")
    media.check_room(session, policy, PRODUCT_IMAGES, product.id)  # before the work of processing it
    asset = media.upload(session, storage, policy, data, filename, actor.user.id if actor.user else None)
    attachment = media.attach(session, policy, PRODUCT_IMAGES, product.id, asset)
    changes: dict[str, Any] = {"image": [None, asset.id]}
    if product.status == ProductStatus.PUBLISHED and not actor.is_staff:
        # A new photo is new content: staff look at it before it is public again.
        changes["status"] = [product.status, ProductStatus.PENDING_REVIEW]
        product.status = ProductStatus.PENDING_REVIEW
    _sync_cover(session, product)
    record(session, actor, "product.image_added", product, changes,
           on_behalf_of_seller_id=_on_behalf(actor, product.seller))
    return attachment


def update_product_image(session: Session, actor: Actor, product: Product, asset_id: int,
                         data: dict[str, Any]) -> MediaAttachment:
    """Alt text (vi/en) and position (0 = the cover) of one of a product's photos."""
    if not can_act_for(actor, product.seller):
        raise NotFound("No such product.", param="product_id")
    attachment = media.get_attachment(session, PRODUCT_IMAGES, product.id, asset_id)
    changes: dict[str, Any] = media.set_alt(attachment.asset, data.get("alt_vi"), data.get("alt_en"))
    if data.get("position") is not None and data["position"] != attachment.position:
        changes["position"] = [attachment.position, data["position"]]
        media.move(session, PRODUCT_IMAGES, product.id, asset_id, data["position"])
        _sync_cover(session, product)
    if changes:
        record(session, actor, "product.image_updated", product, {"image": asset_id, **changes},
               on_behalf_of_seller_id=_on_behalf(actor, product.seller))
    return attachment


def remove_product_image(session: Session, actor: Actor, product: Product, asset_id: int) -> None:
    if not can_act_for(actor, product.seller):
        raise NotFound("No such product.", param="product_id")
    media.detach(session, PRODUCT_IMAGES, product.id, asset_id)
    _sync_cover(session, product)
    record(session, actor, "product.image_removed", product, {"image": [asset_id, None]},
           on_behalf_of_seller_id=_on_behalf(actor, product.seller))


def _sync_cover(session: Session, product: Product) -> None:
    """Listings and search show ``cover_key``: keep it the first photo's. Any change of photos is a new
    version of the product (feeds' ETags and marketplaces' image lists follow ``updated_at``)."""
    session.flush()
    key = media.cover_key(session, PRODUCT_IMAGES, product.id)
    if key != product.cover_key:
        product.cover_key = key
    product.updated_at = utcnow()

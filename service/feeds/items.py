"""The products a commune exports, read once for every feed format, in constant memory.

``iter_items`` streams the published products of the session's commune in id order, ``BATCH`` at a time
(a server-side cursor on PostgreSQL), and looks up the photos of each batch in two queries; each product
becomes a ``FeedItem``: plain values, absolute URLs, texts in the feed's language. Formats (Google
Merchant XML, CSV, JSON) only lay these items out; ``service.feeds.rules`` says which ones a
marketplace would refuse and why.

``feed_stamp`` is what changes whenever any exported value can change (the newest update of the
products, sellers, categories and the commune, and how many products there are), so a feed's ETag and
Last-Modified come from it without reading the feed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.catalog.models import Category, Product, ProductStatus, Seller
from service.catalog.services import PRODUCT_IMAGES
from service.core.urls import commune_url
from service.media.models import MediaAsset, MediaAttachment
from service.media.storage import Storage
from service.tenants.models import Tenant

BATCH = 500
IMAGE_WIDTH = 1600  # marketplaces want large photos (Google: at least 100 px, 800+ recommended)
MAX_IMAGES = 11  # one image_link and up to 10 additional_image_link


@dataclass(frozen=True)
class FeedItem:
    """One product as marketplaces see it. Money in đồng, weight in grams, URLs absolute."""

    id: str  # stable across renames: "<commune>-<product id>"
    product_id: int
    slug: str
    title: str
    description: str
    link: str
    image_links: list[str]
    price: int
    currency: str
    availability: str  # "in_stock" | "out_of_stock"
    stock: int
    condition: str
    brand: str
    gtin: str
    product_type: str  # "<commune> > <category>"
    category: str
    unit: str
    weight_grams: int | None
    seller: str
    seller_village: str
    commune: str
    province: str
    ocop_stars: int | None
    ocop_certificate: str
    updated_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def image_link(self) -> str:
        return self.image_links[0] if self.image_links else ""

    @property
    def additional_image_links(self) -> list[str]:
        return self.image_links[1:MAX_IMAGES]


def published_products(tenant_id: int) -> Any:
    """The query of what feeds export: published products of one commune, by id (stable paging)."""
    return (select(Product).where(Product.tenant_id == tenant_id, Product.status == ProductStatus.PUBLISHED)
            .order_by(Product.id))


def iter_items(session: Session, storage: Storage, tenant: Tenant, *, language: str = "vi",
               batch: int = BATCH) -> Iterator[FeedItem]:
    """Every exported product of ``tenant`` as a FeedItem, ``batch`` rows in memory at a time."""
    stmt = published_products(tenant.id).execution_options(yield_per=batch)
    for partition in session.scalars(stmt).partitions(batch):
        images = _images(session, storage, [product.id for product in partition])
        for product in partition:
            yield _item(product, tenant, images.get(product.id, []), language)
        _forget(session, partition)


def _forget(session: Session, products: Sequence[Product]) -> None:
    """Drop a finished batch from the identity map so it does not grow with the feed. One object at a time:
    ``expunge_all`` would break the running ``yield_per`` result (its identity map) and detach the tenant."""
    seen: set[int] = set()
    for product in products:
        for obj in (product, product.seller, product.category):
            if obj is not None and id(obj) not in seen and obj in session:
                seen.add(id(obj))
                session.expunge(obj)


def count_items(session: Session, tenant_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(published_products(tenant_id).subquery())) or 0)


def _images(session: Session, storage: Storage, product_ids: list[int]) -> dict[int, list[str]]:
    """The photos of a batch of products, cover first: product id -> absolute URLs of the large JPEG."""
    rows = session.execute(
        select(MediaAttachment.owner_id, MediaAsset.variants)
        .join(MediaAsset, MediaAsset.id == MediaAttachment.asset_id)
        .where(MediaAttachment.owner_type == PRODUCT_IMAGES, MediaAttachment.owner_id.in_(product_ids))
        .order_by(MediaAttachment.owner_id, MediaAttachment.position, MediaAttachment.id)
    ).all()
    found: dict[int, list[str]] = {}
    for owner_id, variants in rows:
        url = _large_jpeg(storage, variants or [])
        if url and len(found.setdefault(owner_id, [])) < MAX_IMAGES:
            found[owner_id].append(url)
    return found


def _large_jpeg(storage: Storage, variants: list[dict[str, Any]]) -> str | None:
    # The photo as taken (its responsive widths), never the cropped share image (role "share").
    jpegs = sorted((v for v in variants if v.get("format") == "jpeg" and not v.get("role")),
                   key=lambda v: int(v["width"]))
    if not jpegs:
        return None
    fitting = [v for v in jpegs if int(v["width"]) >= IMAGE_WIDTH]
    chosen = fitting[0] if fitting else jpegs[-1]
    return absolute(storage.url(chosen["key"]))


def absolute(url: str) -> str:
    from service.core.urls import public_url

    return public_url(url)


def _text(product: Product, name: str, language: str) -> str:
    english = getattr(product, f"{name}_en") if language == "en" else ""
    return str(english or getattr(product, f"{name}_vi") or "")


def _item(product: Product, tenant: Tenant, images: list[str], language: str) -> FeedItem:
    seller: Seller = product.seller
    category: Category | None = product.category
    category_name = ""
    if category is not None:
        category_name = (category.name_en if language == "en" and category.name_en else category.name_vi)
    link = commune_url(tenant.slug, f"/products/{product.slug}") + ("?lang=en" if language == "en" else "")
    return FeedItem(
        id=f"{tenant.slug}-{product.id}", product_id=product.id, slug=product.slug,
        title=_text(product, "title", language), description=_text(product, "description", language),
        link=link, image_links=images, price=product.price, currency="VND",
        availability="in_stock" if product.stock > 0 else "out_of_stock", stock=product.stock, condition="new",
        brand=product.brand or seller.name, gtin=product.gtin,
        product_type=" > ".join(part for part in (tenant.name, category_name) if part), category=category_name,
        unit=product.unit, weight_grams=product.weight_grams, seller=seller.name, seller_village=seller.village,
        commune=tenant.name, province=tenant.province, ocop_stars=product.ocop_stars,
        ocop_certificate=product.ocop_certificate_number, updated_at=product.updated_at,
    )


@dataclass(frozen=True)
class FeedStamp:
    count: int
    last_modified: datetime | None

    @property
    def tag(self) -> str:
        moment = self.last_modified.isoformat() if self.last_modified else "-"
        return f"{self.count}:{moment}"


def feed_stamp(session: Session, tenant: Tenant) -> FeedStamp:
    """Changes whenever an exported value may change; cheap (aggregates over indexed columns)."""
    products = published_products(tenant.id).subquery()
    count, newest_product = session.execute(select(func.count(), func.max(products.c.updated_at))).one()
    newest_seller = session.scalar(select(func.max(Seller.updated_at)).where(Seller.tenant_id == tenant.id))
    newest_category = session.scalar(select(func.max(Category.updated_at)).where(Category.tenant_id == tenant.id))
    # Photo changes touch their product's updated_at (catalog.services._sync_cover).
    moments = [m for m in (newest_product, newest_seller, newest_category, tenant.updated_at) if m]
    return FeedStamp(count=int(count or 0), last_modified=max(moments) if moments else None)

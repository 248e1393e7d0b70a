"""Search documents: what the index knows about an object, already folded once in Python."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from service.core.text import fold

if TYPE_CHECKING:
    from service.catalog.models import Product
    from service.tenants.models import Tenant

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """The one normalisation of the index: folded (lower case, no marks, đ->d), words split by one space."""
    return " ".join(_NOT_WORD.split(fold(text))).strip()


def squash(text: str) -> str:
    """Folded text without spaces, so that 'nuocmam' finds 'Nước mắm'."""
    return normalise(text).replace(" ", "")


def terms(text: str) -> list[str]:
    return [word for word in normalise(text).split(" ") if word]


@dataclass(frozen=True)
class SearchDocument:
    kind: str
    tenant_id: int
    object_id: int
    title: str
    body: str = ""
    category_slug: str | None = None
    category_name: str | None = None
    ocop_stars: int | None = None
    price: int | None = None
    seller_slug: str | None = None
    seller_name: str | None = None
    commune_slug: str = ""
    commune_name: str = ""
    published_at: datetime | None = None
    url: str = ""
    image_key: str | None = None

    @property
    def title_folded(self) -> str:
        return normalise(self.title)

    @property
    def body_folded(self) -> str:
        return normalise(self.body)

    @property
    def squashed(self) -> str:
        return squash(self.title)


def product_document(product: Product, tenant: Tenant) -> SearchDocument:
    category = product.category
    seller = product.seller
    title = product.title_vi
    body_parts = [
        product.title_en,
        product.description_vi,
        product.description_en,
        product.unit,
        seller.name if seller else "",
        category.name_vi if category else "",
        category.name_en if category else "",
        tenant.name,
    ]
    return SearchDocument(
        kind="product",
        tenant_id=product.tenant_id,
        object_id=product.id,
        title=title,
        body="\n".join(part for part in body_parts if part),
        category_slug=category.slug if category else None,
        category_name=category.name_vi if category else None,
        ocop_stars=product.ocop_stars,
        price=product.price,
        seller_slug=seller.slug if seller else None,
        seller_name=seller.name if seller else None,
        commune_slug=tenant.slug,
        commune_name=tenant.name,
        published_at=product.published_at,
        url=f"/c/{tenant.slug}/products/{product.slug}",
        image_key=product.cover_key,
    )

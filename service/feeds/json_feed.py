"""The JSON feed: every exported product, streamed one ``json.dumps`` per item.

Shape (stable; new keys may be added, none renamed)::

    {"commune": {"slug", "name", "province", "link"},
     "language": "vi" | "en",
     "generated_at": "2026-11-28T03:00:00+00:00",
     "products": [{"id", "product_id", "slug", "title", "description", "link",
                   "image_link", "images": [...],          # absolute URLs, cover first
                   "price": 150000, "currency": "VND",     # integer đồng
                   "availability": "in_stock" | "out_of_stock", "stock", "condition",
                   "brand", "gtin", "product_type", "category", "unit",
                   "weight_grams": int | null,
                   "seller": {"name", "village"},
                   "ocop": {"stars", "certificate"} | null,
                   "updated_at": ISO 8601 with offset}, ...]}

Unlike the Google feed, every published product is here (a JSON reader applies its own rules).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from service.db import utcnow
from service.feeds.formats import FeedContext, feed_format
from service.feeds.items import FeedItem


def item_json(item: FeedItem) -> dict[str, Any]:
    return {
        "id": item.id, "product_id": item.product_id, "slug": item.slug, "title": item.title,
        "description": item.description, "link": item.link, "image_link": item.image_link,
        "images": list(item.image_links), "price": item.price, "currency": item.currency,
        "availability": item.availability, "stock": item.stock, "condition": item.condition,
        "brand": item.brand, "gtin": item.gtin, "product_type": item.product_type, "category": item.category,
        "unit": item.unit, "weight_grams": item.weight_grams,
        "seller": {"name": item.seller, "village": item.seller_village},
        "ocop": ({"stars": item.ocop_stars, "certificate": item.ocop_certificate} if item.ocop_stars else None),
        "updated_at": item.updated_at.isoformat(),
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@feed_format("json", "products.json", "application/json; charset=utf-8")
def render(items: Iterable[FeedItem], context: FeedContext) -> Iterator[bytes]:
    tenant = context.tenant
    commune = {"slug": tenant.slug, "name": tenant.name, "province": tenant.province, "link": context.link}
    yield (b'{"commune":' + _dumps(commune) + b',"language":' + _dumps(context.language)
           + b',"generated_at":' + _dumps(utcnow().isoformat()) + b',"products":[')
    first = True
    for item in items:
        yield (b"\n" if first else b",\n") + _dumps(item_json(item))
        first = False
    yield b"\n]}\n"

"""Products for feed tests, made through the catalog services as staff would (photos included)."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from PIL import Image

from service.catalog import services as catalog
from service.catalog.models import Product
from service.db import Scope, database
from service.media.services import UploadPolicy
from service.media.storage import get_storage
from service.tenants.services import SYSTEM
from tests.factories import Commune

PHOTOS = UploadPolicy(max_bytes=5 * 1024 * 1024, max_pixels=20_000_000, max_per_owner=20, process_inline=True)
DESCRIPTION = "Sản phẩm OCOP làm thủ công tại làng, đóng gói cẩn thận để gửi bưu điện."


def photo(seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small JPEG, different for every seed (uploads are deduplicated by content)."""
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13 + 80) % 256))
    image.putpixel((seed % size[0], 0), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


_seed = 0


def make_product(app: Flask, commune: Commune, title: str, *, photos: int = 1, status: str = "published",
                 **fields: Any) -> int:
    """A product of ``commune`` with ``photos`` photos, left in ``status`` (draft, pending, published,
    archived); returns its id."""
    global _seed
    data: dict[str, Any] = {"seller_id": commune.sellers["other"], "category_id": commune.categories["sauce"],
                            "title_vi": title, "description_vi": DESCRIPTION, "price": 150_000, "stock": 5,
                            "unit": "chai", "weight_grams": 500, **fields}
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        product = catalog.create_product(session, SYSTEM, data)
        for _ in range(photos):
            _seed += 1
            catalog.add_product_image(session, SYSTEM, get_storage(), PHOTOS, product, photo(_seed), "p.jpg")
        if status in ("pending", "published", "archived"):
            catalog.change_status(session, SYSTEM, product, "submit")
        if status in ("published", "archived"):
            catalog.change_status(session, SYSTEM, product, "approve")
        if status == "archived":
            catalog.change_status(session, SYSTEM, product, "archive")
        session.commit()
        product_id = product.id
        session.close()
    return product_id


def edit_product(app: Flask, commune: Commune, product_id: int, **fields: Any) -> None:
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        product = session.get(Product, product_id)
        assert product is not None
        catalog.update_product(session, SYSTEM, product, fields)
        session.commit()
        session.close()


def add_photo(app: Flask, commune: Commune, product_id: int) -> None:
    global _seed
    _seed += 1
    with app.app_context():
        session = database(app).session(Scope(commune.id))
        product = session.get(Product, product_id)
        assert product is not None
        catalog.add_product_image(session, SYSTEM, get_storage(), PHOTOS, product, photo(_seed), "p.jpg")
        session.commit()
        session.close()
